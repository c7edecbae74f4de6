//! The terminal is left as it was found, on a real (pseudo-)terminal. This file is its own
//! test binary (`harness = false`): run plainly it is the test, which runs itself again as
//! the program under test on a pty (`PLOKE_TUI_PTY_CHILD` says what the program does):
//!
//! - `run`: `ploke_tui::run` on a fresh crate; the test waits for the first frame (raw mode
//!   on, alternate screen entered), writes Ctrl-C (byte 0x03, a key in raw mode) and checks
//!   that the program exits 0, left the alternate screen, and the terminal is back in cooked
//!   mode (ICANON and ECHO set).
//! - `run` again, ended by SIGTERM instead: the same checks.
//! - `panic`: the guard entered, the panic hook installed, then a panic: the terminal is
//!   restored before the panic's message is printed, and the message is on the main screen.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ploke_session::{Environment, OpenOptions, Overrides};
use ploke_test_support::Project;
use rustix::termios::{tcgetattr, LocalModes};

const LIB: &str = "//! Retries.

/// Waits before trying the request again.
pub fn retry_delay(attempt: u32) -> u64 {
    100 * backoff(attempt)
}

fn backoff(n: u32) -> u64 {
    1 << n
}
";

const ENTER_ALT: &str = "\x1b[?1049h";
const LEAVE_ALT: &str = "\x1b[?1049l";

fn main() {
    match std::env::var("PLOKE_TUI_PTY_CHILD").as_deref() {
        Ok("run") => child_run(),
        Ok("panic") => child_panic(),
        Ok(other) => panic!("unknown child mode {other}"),
        Err(_) => {
            let t = Instant::now();
            ctrl_c_quits_and_restores();
            sigterm_quits_and_restores();
            a_panic_restores_before_its_message();
            println!("pty: 3 tests passed in {:.1} s", t.elapsed().as_secs_f64());
        }
    }
}

/// The program under test: the terminal front end on the crate at `PLOKE_TUI_ROOT`.
fn child_run() {
    let root = std::env::var("PLOKE_TUI_ROOT").expect("PLOKE_TUI_ROOT");
    let mut opts = OpenOptions::new(root);
    opts.env = Environment::from_pairs([("HOME".to_string(), "/nonexistent".to_string())]);
    opts.overrides = Overrides {
        provider: Some("openai".into()),
        model: Some("test".into()),
        base_url: Some("http://127.0.0.1:9/v1".into()),
        no_embed: true,
    };
    match ploke_tui::run(opts) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1)
        }
    }
}

/// The program under test: a panic while the terminal is in full-screen mode.
fn child_panic() {
    ploke_tui::terminal::install_panic_hook();
    let _guard = ploke_tui::terminal::Guard::enter(true).expect("entering full-screen mode");
    print!("drawn\r\n");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    panic!("boom in the middle of a frame");
}

/// A pseudo-terminal with the program under test on it, and everything it wrote.
struct Pty {
    master: std::fs::File,
    /// Kept open: the terminal's modes are read from it after the program exits.
    slave: std::fs::File,
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(mode: &str, root: Option<&std::path::Path>) -> Pty {
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        rustix::termios::tcsetwinsize(
            &master,
            rustix::termios::Winsize {
                ws_row: 30,
                ws_col: 100,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        let cooked = tcgetattr(&slave).unwrap();
        assert!(
            cooked
                .local_modes
                .contains(LocalModes::ICANON | LocalModes::ECHO),
            "a new terminal starts cooked"
        );
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.env("PLOKE_TUI_PTY_CHILD", mode)
            .env("TERM", "xterm-256color")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        if let Some(r) = root {
            cmd.env("PLOKE_TUI_ROOT", r);
        }
        let child = cmd.spawn().unwrap();
        let mut master = std::fs::File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let reader = master.try_clone().unwrap();
        {
            let output = output.clone();
            let mut reader = reader;
            // Left running: reads block once the program is gone (the slave stays open here).
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
        master.flush().unwrap();
        Pty {
            master,
            slave,
            child,
            output,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the output holds all of `needles` (30 s at most).
    fn wait_for(&mut self, needles: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let t = self.text();
            if needles.iter().all(|n| t.contains(n)) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the program exited ({status}) before showing {needles:?}:\n{t:?}");
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("no {needles:?} in the output:\n{t:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the program to exit (30 s at most); its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // What it wrote last reaches the reader.
                std::thread::sleep(Duration::from_millis(200));
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the program did not exit:\n{:?}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn raw(&self) -> bool {
        let t = tcgetattr(&self.slave).unwrap();
        !t.local_modes.contains(LocalModes::ICANON)
    }

    fn cooked(&self) -> bool {
        let t = tcgetattr(&self.slave).unwrap();
        t.local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO)
    }
}

/// The output after the alternate screen was entered: it left it (after every frame).
fn left_after_entering(text: &str) {
    let enter = text.find(ENTER_ALT).expect("entered the alternate screen");
    let leave = text.rfind(LEAVE_ALT).expect("left the alternate screen");
    assert!(enter < leave, "left after entering: {text:?}");
}

fn project() -> Project {
    Project::new("retry", &[("src/lib.rs", LIB)])
}

fn ctrl_c_quits_and_restores() {
    let p = project();
    let mut pty = Pty::spawn("run", Some(&p.root));
    // The first frame, and the index written (the status screen's notice).
    pty.wait_for(&[ENTER_ALT, "1 Search", "indexed"]);
    assert!(pty.raw(), "raw mode while it runs");
    pty.master.write_all(&[0x03]).unwrap();
    pty.master.flush().unwrap();
    let code = pty.exit_code();
    let text = pty.text();
    assert_eq!(code, Some(0), "{text:?}");
    left_after_entering(&text);
    assert!(
        text.contains("\x1b[?25h"),
        "the cursor is shown again: {text:?}"
    );
    assert!(
        text.contains("\x1b[?1000l"),
        "mouse reports are off: {text:?}"
    );
    assert!(pty.cooked(), "cooked mode after Ctrl-C");
    println!("pty: Ctrl-C quits and restores the terminal");
}

fn sigterm_quits_and_restores() {
    use rustix::process::{kill_process, Pid, Signal};
    let p = project();
    let mut pty = Pty::spawn("run", Some(&p.root));
    pty.wait_for(&[ENTER_ALT, "1 Search"]);
    assert!(pty.raw());
    kill_process(Pid::from_child(&pty.child), Signal::TERM).unwrap();
    let code = pty.exit_code();
    let text = pty.text();
    assert_eq!(code, Some(0), "{text:?}");
    left_after_entering(&text);
    assert!(pty.cooked(), "cooked mode after SIGTERM");
    println!("pty: SIGTERM quits and restores the terminal");
}

fn a_panic_restores_before_its_message() {
    let mut pty = Pty::spawn("panic", None);
    let code = pty.exit_code();
    let text = pty.text();
    assert_eq!(code, Some(101), "a panic's exit code: {text:?}");
    let leave = text.rfind(LEAVE_ALT).expect("left the alternate screen");
    let message = text
        .find("boom in the middle of a frame")
        .expect("the panic's message");
    assert!(
        leave < message,
        "the message is printed after the terminal is restored: {text:?}"
    );
    assert!(text.find(ENTER_ALT).unwrap() < leave);
    assert!(pty.cooked(), "cooked mode after a panic");
    println!("pty: a panic restores the terminal before its message");
}
