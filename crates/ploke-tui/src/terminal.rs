//! Leaving the terminal as it was found, whatever happens: [`Guard`] enters raw mode, the
//! alternate screen, bracketed paste and mouse capture, and its `Drop` undoes them;
//! [`install_panic_hook`] undoes them before a panic's message is printed (so it is
//! readable, on the normal screen); [`restore`] may be called from anywhere, any number of
//! times: only the first call after entering does anything. SIGTERM, SIGHUP and SIGINT end
//! the loop like `q` does (see [`crate::run`]), so the guard drops then too.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;

use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{DisableBracketedPaste, DisableMouseCapture};
use ratatui::crossterm::terminal::{disable_raw_mode, LeaveAlternateScreen};
use ratatui::crossterm::{execute, queue};

/// Raw mode is on.
const RAW: u8 = 1;
/// The alternate screen is shown.
const ALT: u8 = 2;
/// Mouse events are reported.
const MOUSE: u8 = 4;
/// Pastes come bracketed.
const PASTE: u8 = 8;
/// The cursor is hidden.
const CURSOR: u8 = 16;
/// Marked as entered without touching the terminal (tests of the restore path).
const DRY: u8 = 128;

/// The terminal modes in force, so that restoring undoes exactly those, once.
#[derive(Debug, Default)]
pub struct Modes(AtomicU8);

impl Modes {
    /// Nothing entered.
    pub const fn new() -> Modes {
        Modes(AtomicU8::new(0))
    }

    fn add(&self, bits: u8) {
        self.0.fetch_or(bits, Ordering::SeqCst);
    }

    /// Whether a mode is in force (a restore is due).
    pub fn active(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }

    /// Undoes the modes in force: writes to `out` the escapes that leave them and calls
    /// `raw_off` when raw mode was on. Only the first call after entering does anything
    /// (it returns whether it did); the modes are forgotten first, so a failure half-way
    /// is not retried forever.
    pub fn restore_with<W: Write>(
        &self,
        out: &mut W,
        raw_off: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<bool> {
        let bits = self.0.swap(0, Ordering::SeqCst);
        if bits == 0 {
            return Ok(false);
        }
        if bits & DRY != 0 {
            return Ok(true);
        }
        // Each step is tried even if one before it failed; the first error is returned.
        let mut first: io::Result<()> = Ok(());
        let mut note = |r: io::Result<()>| {
            if first.is_ok() {
                first = r;
            }
        };
        if bits & MOUSE != 0 {
            note(queue!(out, DisableMouseCapture));
        }
        if bits & PASTE != 0 {
            note(queue!(out, DisableBracketedPaste));
        }
        if bits & CURSOR != 0 {
            note(queue!(out, Show));
        }
        if bits & ALT != 0 {
            note(queue!(out, LeaveAlternateScreen));
        }
        note(out.flush());
        if bits & RAW != 0 {
            note(raw_off());
        }
        first.map(|()| true)
    }
}

/// The process's terminal.
static TERMINAL: Modes = Modes::new();

/// Whether the terminal is in a mode [`restore`] would undo.
pub fn active() -> bool {
    TERMINAL.active()
}

/// Puts the terminal back (cooked mode, main screen, cursor shown, no mouse reports);
/// whether there was anything to undo. Safe to call any number of times, from any thread.
pub fn restore() -> bool {
    let mut out = io::stdout();
    TERMINAL
        .restore_with(&mut out, disable_raw_mode)
        .unwrap_or(true)
}

/// Marks the terminal as entered without touching it, so that a test can see the restore
/// path run (a panic, a drop) where there is no terminal.
#[doc(hidden)]
pub fn pretend_entered() {
    TERMINAL.add(RAW | ALT | DRY);
}

/// The terminal in full-screen mode for as long as it lives.
#[derive(Debug)]
pub struct Guard {
    _private: (),
}

impl Guard {
    /// Enters raw mode, the alternate screen, bracketed paste and (with `mouse`) mouse
    /// capture, and hides the cursor. On failure whatever was entered is undone.
    pub fn enter(mouse: bool) -> io::Result<Guard> {
        use ratatui::crossterm::cursor::Hide;
        use ratatui::crossterm::event::{EnableBracketedPaste, EnableMouseCapture};
        use ratatui::crossterm::terminal::{enable_raw_mode, EnterAlternateScreen};
        let entered = (|| {
            enable_raw_mode()?;
            TERMINAL.add(RAW);
            let mut out = io::stdout();
            TERMINAL.add(ALT);
            execute!(out, EnterAlternateScreen)?;
            TERMINAL.add(PASTE);
            execute!(out, EnableBracketedPaste)?;
            if mouse {
                TERMINAL.add(MOUSE);
                execute!(out, EnableMouseCapture)?;
            }
            TERMINAL.add(CURSOR);
            execute!(out, Hide)
        })();
        match entered {
            Ok(()) => Ok(Guard { _private: () }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Makes a panic restore the terminal before the panic's message is printed (by the hook
/// that was there before, which still runs). Installed once per process.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// The escape that puts `text` on the terminal's clipboard (OSC 52): it travels with the
/// output, so it works over SSH wherever the terminal emulator allows it.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restoring_undoes_what_was_entered_once() {
        let modes = Modes::new();
        let mut raw_offs = 0;
        let mut out = Vec::new();
        assert!(!modes
            .restore_with(&mut out, || {
                raw_offs += 1;
                Ok(())
            })
            .unwrap());
        assert!(out.is_empty(), "nothing entered, nothing written");
        modes.add(RAW | ALT | MOUSE | PASTE | CURSOR);
        assert!(modes.active());
        assert!(modes
            .restore_with(&mut out, || {
                raw_offs += 1;
                Ok(())
            })
            .unwrap());
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains("\x1b[?1049l"),
            "leaves the alternate screen: {text:?}"
        );
        assert!(text.contains("\x1b[?25h"), "shows the cursor: {text:?}");
        assert!(
            text.contains("\x1b[?1000l"),
            "stops mouse reports: {text:?}"
        );
        assert!(
            text.contains("\x1b[?2004l"),
            "stops bracketed paste: {text:?}"
        );
        assert_eq!(raw_offs, 1);
        assert!(!modes.active());
        // Again: nothing.
        let len = out.len();
        assert!(!modes
            .restore_with(&mut out, || {
                raw_offs += 1;
                Ok(())
            })
            .unwrap());
        assert_eq!((out.len(), raw_offs), (len, 1));
    }

    #[test]
    fn a_failing_step_does_not_stop_the_others() {
        let modes = Modes::new();
        modes.add(RAW | ALT);
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("gone"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::Error::other("gone"))
            }
        }
        let mut raw_off = false;
        let r = modes.restore_with(&mut Broken, || {
            raw_off = true;
            Ok(())
        });
        assert!(r.is_err());
        assert!(
            raw_off,
            "raw mode is left even when the screen cannot be written"
        );
        assert!(!modes.active(), "not retried");
    }

    #[test]
    fn only_raw_mode_writes_nothing() {
        let modes = Modes::new();
        modes.add(RAW);
        let mut out = Vec::new();
        let mut called = false;
        assert!(modes
            .restore_with(&mut out, || {
                called = true;
                Ok(())
            })
            .unwrap());
        assert!(out.is_empty() && called);
    }

    #[test]
    fn base64_as_osc52_wants_it() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
