//! The terminal front end driven by keys on a real app: a real crate, indexed on start, and
//! a scripted chat model on a loopback server. Each step sends keys through `on_key`, hands
//! the actions to `App::dispatch`, lets the workers answer, draws the frame on a
//! `TestBackend` and reads the screen: search as you type, open a result, go to a caller
//! and back; a streamed answer; an edit reviewed with one file rejected, applied (only the
//! accepted file changes on disk) and undone; a slow answer cancelled with Esc.

mod common;

use std::time::{Duration, Instant};

use ploke_app::{App, EditPhase, State};
use ploke_session::{Environment, OpenOptions, Overrides};
use ploke_test_support::http::{Request, Response, Server};
use ploke_test_support::openai::{completion, completion_stream, tool_call};
use ploke_test_support::Project;
use ploke_tui::{on_key, Screen, ViewState};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use serde_json::json;

const LIB: &str = "//! Retries.

pub mod wire;

/// Waits before trying the request again.
pub fn retry_delay(attempt: u32) -> u64 {
    100 * backoff(attempt)
}

/// Doubles the wait with each attempt.
fn backoff(n: u32) -> u64 {
    1 << n
}
";

const WIRE: &str = "/// The length of a frame's header in bytes.
pub const HEADER_LEN: usize = 4;

/// The length of a frame with `body` bytes.
pub fn frame_len(body: usize) -> usize {
    HEADER_LEN + body
}
";

const NEW_FN: &str = "/// Waits a quintessential moment before trying the request again.
pub fn retry_delay(attempt: u32) -> u64 {
    250 * backoff(attempt)
}";

/// A model that proposes edits to both files when asked for an edit, answers a question
/// with a search then a streamed answer, and never answers a question that says "slowly".
fn model() -> Server {
    Server::start(|_, req: &Request| {
        let body = req.json();
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let editing = body["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "replace_item"));
        if messages.iter().any(|m| {
            m["role"] == "user" && m["content"].as_str().is_some_and(|c| c.contains("slowly"))
        }) {
            return Response::stall();
        }
        let last_role = messages.last().map(|m| m["role"].clone());
        if last_role == Some(json!("tool")) {
            if editing {
                return Response::json(
                    200,
                    &completion(Some("Raised the delay and the header length."), vec![]),
                );
            }
            return Response::sse(&completion_stream(&[
                "`retry_delay` waits ",
                "100 ms times ",
                "`backoff`.",
            ]));
        }
        let calls = if editing {
            vec![
                tool_call(
                    "call_a",
                    "replace_item",
                    json!({"path": "retry_delay", "code": NEW_FN}),
                ),
                tool_call(
                    "call_b",
                    "search_replace",
                    json!({"file": "src/wire.rs", "search": "HEADER_LEN: usize = 4;", "replace": "HEADER_LEN: usize = 8;"}),
                ),
            ]
        } else {
            vec![tool_call(
                "call_s",
                "search_code",
                json!({"query": "retry delay"}),
            )]
        };
        Response::json(200, &completion(None, calls))
    })
}

/// The app, the view and a 100x30 test terminal, driven like the real loop drives them.
struct Driver {
    app: App,
    view: ViewState,
    term: Terminal<TestBackend>,
}

impl Driver {
    fn start(project: &Project, model: &Server) -> Driver {
        let mut opts = OpenOptions::new(&project.root);
        opts.env = Environment::from_pairs([
            ("HOME".to_string(), "/nonexistent".to_string()),
            ("PLOKE_API_KEY".to_string(), "sk-test".to_string()),
        ]);
        opts.overrides = Overrides {
            provider: Some("openai".into()),
            model: Some("test".into()),
            base_url: Some(model.url_at("/v1")),
            no_embed: true,
        };
        Driver {
            app: App::start(opts, std::sync::Arc::new(|| {})).unwrap(),
            view: ViewState::default(),
            term: Terminal::new(TestBackend::new(100, 30)).unwrap(),
        }
    }

    fn press(&mut self, key: KeyEvent) {
        self.app.poll();
        self.view.sync(self.app.state());
        for a in on_key(key, self.app.state(), &mut self.view) {
            if let Err(why) = self.app.dispatch(a) {
                self.view.flash = Some(why);
            }
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.press(KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Takes in the replies and draws; the screen's text.
    fn screen(&mut self) -> String {
        self.app.poll();
        self.view.sync(self.app.state());
        let (state, view) = (self.app.state(), &self.view);
        self.term.draw(|f| ploke_tui::draw(f, state, view)).unwrap();
        common::text(self.term.backend().buffer())
    }

    /// Draws until `done` holds for the state and the screen (60 s at most); the screen.
    #[track_caller]
    fn until(&mut self, what: &str, done: impl Fn(&State, &ViewState, &str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let t = self.screen();
            if done(self.app.state(), &self.view, &t) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{t}"
            );
            self.app.wait(Duration::from_millis(50));
        }
    }

    /// Presses `code` until the selected row (`▶`) of the screen holds `needle`.
    #[track_caller]
    fn select(&mut self, code: KeyCode, needle: &str) -> String {
        for _ in 0..20 {
            let t = self.screen();
            if t.lines().any(|l| l.contains('▶') && l.contains(needle)) {
                return t;
            }
            self.key(code);
        }
        panic!("no row with {needle:?} selected:\n{}", self.screen());
    }
}

fn current(state: &State) -> Option<&str> {
    state.item.current.as_ref().map(|c| c.item.name.as_str())
}

#[test]
fn search_open_a_caller_and_back_then_ask_review_apply_and_undo() {
    let model = model();
    let project = Project::new("retry", &[("src/lib.rs", LIB), ("src/wire.rs", WIRE)]);
    let mut d = Driver::start(&project, &model);
    d.until("the first index", |s, _, _| {
        s.status.last_index.is_some() && !s.status.indexing
    });

    // Search as you type; Enter opens the selected result.
    d.typed("backoff");
    let t = d.until("the results", |s, _, t| {
        s.search.answered == "backoff" && !s.search.busy && t.contains("retry::backoff")
    });
    assert!(t.contains("› backoff"), "the query line:\n{t}");
    d.select(KeyCode::Down, "retry::backoff");
    d.key(KeyCode::Enter);
    assert_eq!(d.view.screen, Screen::Item);
    let t = d.until("backoff's view", |s, _, t| {
        current(s) == Some("backoff") && !s.item.loading && t.contains("callers (1)")
    });
    assert!(t.contains("fn backoff(n: u32) -> u64"), "{t}");
    assert!(t.contains("1 << n"), "its source:\n{t}");

    // To the caller, then back.
    d.select(KeyCode::Down, "retry_delay");
    d.key(KeyCode::Enter);
    let t = d.until("the caller's view", |s, _, t| {
        current(s) == Some("retry_delay") && !s.item.loading && t.contains("callees (1)")
    });
    assert!(t.contains("100 * backoff(attempt)"), "{t}");
    assert!(t.contains("◀ 1 ▶ 0"), "one item back:\n{t}");
    d.key(KeyCode::Backspace);
    let t = d.until("back at backoff", |s, _, _| {
        current(s) == Some("backoff") && !s.item.loading
    });
    assert!(t.contains("◀ 0 ▶ 1"), "one item forward:\n{t}");

    // A question: the tool call and the streamed answer.
    d.press(KeyEvent::new(KeyCode::Char('5'), KeyModifiers::ALT));
    assert_eq!(d.view.screen, Screen::Chat);
    d.typed("how long is the delay?");
    d.key(KeyCode::Enter);
    let t = d.until("the answer", |s, _, _| {
        !s.chat.busy && s.chat.turns.len() == 1
    });
    assert!(t.contains("ask › how long is the delay?"), "{t}");
    assert!(t.contains("⚙ search_code"), "the tool call:\n{t}");
    assert!(
        t.contains("`retry_delay` waits 100 ms times `backoff`."),
        "{t}"
    );
    assert!(
        t.contains("› ask about the code"),
        "the request line is empty again:\n{t}"
    );

    // An edit request: the review comes up with both files.
    d.typed("raise the delay and the header length");
    d.press(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::CONTROL));
    let t = d.until("the review", |s, v, _| {
        v.screen == Screen::Review && matches!(s.edit.phase, EditPhase::Review { .. })
    });
    assert!(t.contains("files (2)"), "{t}");
    assert!(
        t.contains("[✓] src/lib.rs") && t.contains("[✓] src/wire.rs"),
        "{t}"
    );
    assert!(
        t.contains("+    250 * backoff(attempt)"),
        "the first file's diff:\n{t}"
    );

    // Reject the header change, keep the delay.
    d.select(KeyCode::Down, "src/wire.rs");
    d.key(KeyCode::Char(' '));
    let t = d.until("the rejection", |s, _, _| match &s.edit.phase {
        EditPhase::Review { files, .. } => {
            files.iter().any(|f| f.path == "src/wire.rs" && !f.accepted)
        }
        _ => false,
    });
    assert!(
        t.contains("[ ] src/wire.rs") && t.contains("[✓] src/lib.rs"),
        "{t}"
    );
    assert!(
        t.contains("+pub const HEADER_LEN: usize = 8;"),
        "the wire diff:\n{t}"
    );
    assert!(t.contains("review: 1 of 2 files accepted"), "{t}");

    d.key(KeyCode::Char('a'));
    let t = d.until("the apply", |s, _, _| {
        matches!(s.edit.phase, EditPhase::Applied(_))
    });
    assert!(
        t.contains("wrote 1 file(s)") && t.contains("src/lib.rs"),
        "{t}"
    );
    let lib = std::fs::read_to_string(project.root.join("src/lib.rs")).unwrap();
    let wire = std::fs::read_to_string(project.root.join("src/wire.rs")).unwrap();
    assert!(lib.contains("250 * backoff(attempt)"), "{lib}");
    assert_eq!(wire, WIRE, "the rejected file is untouched");

    d.key(KeyCode::Char('u'));
    let t = d.until("the undo", |s, _, _| s.edit.undone.is_some());
    assert!(t.contains("undid edit #"), "{t}");
    assert_eq!(
        std::fs::read_to_string(project.root.join("src/lib.rs")).unwrap(),
        LIB
    );
    assert_eq!(
        std::fs::read_to_string(project.root.join("src/wire.rs")).unwrap(),
        WIRE
    );
}

#[test]
fn esc_cancels_a_slow_answer_and_ctrl_c_then_quits() {
    let model = model();
    let project = Project::new("retry", &[("src/lib.rs", LIB), ("src/wire.rs", WIRE)]);
    let mut d = Driver::start(&project, &model);
    d.until("the first index", |s, _, _| {
        s.status.last_index.is_some() && !s.status.indexing
    });
    d.press(KeyEvent::new(KeyCode::Char('5'), KeyModifiers::ALT));
    d.typed("answer slowly");
    d.key(KeyCode::Enter);
    let t = d.until("the question under way", |s, _, _| s.chat.busy);
    assert!(t.contains("answering… (Esc cancels)"), "{t}");
    // Cancel once the model has the question (a cancel sent before the model lane takes
    // the question up is dropped by ploke-app's lane).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !model.requests().iter().any(|r| r.text().contains("slowly")) {
        assert!(
            Instant::now() < deadline,
            "the model never got the question"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    d.key(KeyCode::Esc);
    let t = d.until("the cancel", |s, _, _| !s.chat.busy);
    assert!(t.contains("cancelled"), "{t}");
    d.press(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(d.view.quit, "Ctrl-C quits when idle");
}
