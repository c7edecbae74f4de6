//! `ploke tui`: ploke in the terminal, keyboard first and usable over SSH. It is a view of
//! [`ploke_app`]: the [`App`] runs the session on its worker threads and keeps the
//! [`State`](ploke_app::State); this crate draws that state with ratatui and turns keys into
//! [`ploke_app::Action`]s.
//!
//! - [`draw`] paints a frame from a [`State`](ploke_app::State) and the front end's own [`ViewState`]
//!   (screen, typed text, selections, scroll); [`on_key`], [`on_mouse`] and [`on_paste`]
//!   change the view state and return actions. None of them waits or does I/O, so tests
//!   drive them on ratatui's `TestBackend`, from a hand-made state or a real [`App`].
//! - [`run`] is the loop: terminal events and the app's replies arrive on one channel (the
//!   app's waker sends to it), each is taken in, then the screen is drawn again.
//! - [`terminal`] makes sure the terminal is restored after a quit, an error, a panic, or
//!   SIGTERM/SIGHUP.
//! - [`svg`] renders a frame as SVG (the README's screenshots).
//!
//! Screens: 1 Search, 2 Item (source and neighbours), 3 Modules, 4 Context, 5 Chat,
//! 6 Review, 7 Status; F1 (or `?`) lists the keys of each.

mod keys;
pub mod svg;
pub mod terminal;
mod ui;
mod view;

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ploke_app::App;
use ploke_session::OpenOptions;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event};
use ratatui::Terminal;

pub use keys::{on_key, on_mouse, on_paste};
pub use ui::draw;
pub use view::{
    ChatView, ContextView, Input, ItemScreen, ListView, ModulesView, ReviewView, Screen, Scroll,
    SearchView, StatusView, Target, ViewState,
};

/// How often the spinner turns while the app is busy.
const SPIN: Duration = Duration::from_millis(120);

/// What wakes the loop.
enum Msg {
    Term(Event),
    /// A reply from the app's workers waits.
    Wake,
    /// SIGTERM, SIGHUP or SIGINT: quit (restoring the terminal).
    Signal,
    /// The terminal cannot be read any more.
    Gone(String),
}

/// Opens the workspace of `opts` and runs the terminal front end until the user quits.
/// The terminal is restored however it ends (quit, error, panic, SIGTERM).
pub fn run(opts: OpenOptions) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("ploke tui draws on a terminal: run it with its output on one");
    }
    let (tx, rx) = flume::unbounded::<Msg>();
    let waker = {
        let tx = tx.clone();
        Arc::new(move || {
            let _ = tx.send(Msg::Wake);
        })
    };
    let path = opts.path.display().to_string();
    let mut app = App::start(opts, waker).with_context(|| format!("opening {path}"))?;
    terminal::install_panic_hook();
    let _signals = signals::watch(tx.clone()).context("watching for SIGTERM and SIGHUP")?;
    let guard = terminal::Guard::enter(true).context("entering the terminal's full-screen mode")?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = std::thread::Builder::new()
        .name("ploke-tui input".into())
        .spawn({
            let (tx, stop) = (tx.clone(), stop.clone());
            move || read_events(&tx, &stop)
        })
        .context("starting the input thread")?;
    let result = event_loop(&mut app, &rx);
    stop.store(true, Ordering::SeqCst);
    drop(guard);
    let _ = reader.join();
    result
}

/// Reads terminal events until `stop` (polling, so that it notices).
fn read_events(tx: &flume::Sender<Msg>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match event::poll(Duration::from_millis(100)) {
            Ok(true) => match event::read() {
                Ok(e) => {
                    if tx.send(Msg::Term(e)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Msg::Gone(e.to_string()));
                    return;
                }
            },
            Ok(false) => {}
            Err(e) => {
                let _ = tx.send(Msg::Gone(e.to_string()));
                return;
            }
        }
    }
}

fn event_loop(app: &mut App, rx: &flume::Receiver<Msg>) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .context("drawing on the terminal")?;
    let mut view = ViewState::default();
    let started = Instant::now();
    loop {
        if !terminal::active() {
            // The panic hook restored it: a thread panicked (its message is above).
            anyhow::bail!("stopped after a panic");
        }
        app.poll();
        view.sync(app.state());
        view.tick = (started.elapsed().as_millis() / SPIN.as_millis()) as usize;
        term.draw(|f| draw(f, app.state(), &view))
            .context("drawing on the terminal")?;
        // Busy: wake for the spinner; idle: wait for something to happen (waking now and
        // then to notice a panic elsewhere).
        let tick = if app.busy() {
            SPIN
        } else {
            Duration::from_secs(1)
        };
        let first = match rx.recv_timeout(tick) {
            Ok(m) => Some(m),
            Err(flume::RecvTimeoutError::Timeout) => None,
            Err(flume::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        for msg in first.into_iter().chain(rx.try_iter()) {
            let actions = match msg {
                Msg::Term(Event::Key(k)) => on_key(k, app.state(), &mut view),
                Msg::Term(Event::Mouse(m)) => on_mouse(m, app.state(), &mut view),
                Msg::Term(Event::Paste(p)) => on_paste(&p, app.state(), &mut view),
                // Resizes and focus changes: drawn again below.
                Msg::Term(_) | Msg::Wake => Vec::new(),
                Msg::Signal => {
                    view.quit = true;
                    Vec::new()
                }
                Msg::Gone(e) => anyhow::bail!("reading the terminal: {e}"),
            };
            for a in actions {
                if let Err(why) = app.dispatch(a) {
                    view.flash = Some(why);
                }
            }
            if let Some(text) = view.clipboard.take() {
                let _ = out
                    .write_all(terminal::osc52(&text).as_bytes())
                    .and_then(|()| out.flush());
            }
            if view.quit {
                return Ok(());
            }
        }
    }
}

/// Quitting on the signals that end a terminal program, so that the terminal is restored.
#[cfg(unix)]
mod signals {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::{Handle, Signals};

    /// Stops watching when dropped.
    pub(crate) struct Watch(Handle);

    impl Drop for Watch {
        fn drop(&mut self) {
            self.0.close();
        }
    }

    pub(crate) fn watch(tx: flume::Sender<super::Msg>) -> std::io::Result<Watch> {
        let mut signals = Signals::new([SIGTERM, SIGHUP, SIGINT])?;
        let handle = signals.handle();
        std::thread::Builder::new()
            .name("ploke-tui signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    let _ = tx.send(super::Msg::Signal);
                }
            })?;
        Ok(Watch(handle))
    }
}

#[cfg(not(unix))]
mod signals {
    pub(crate) struct Watch;

    pub(crate) fn watch(_: flume::Sender<super::Msg>) -> std::io::Result<Watch> {
        Ok(Watch)
    }
}
