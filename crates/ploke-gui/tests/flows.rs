//! The window over a real workspace: a real `App` (session, index, workers) on a crate in a
//! temp dir, and a scripted chat model on a loopback server, driven through the widgets the
//! way a user drives them (typing, clicking, keys), found by their labels through AccessKit.
//! Search as you type → a result → its source → a caller in the graph → back and forward;
//! a question whose answer streams; an edit request → review → one file rejected, one
//! accepted → apply → only that file changes on disk → undo restores it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use egui_software_backend::{ColorFieldOrder, EguiSoftwareRender};
use ploke_app::{App, EditPhase};
use ploke_gui::{Tab, Window};
use ploke_session::{Environment, OpenOptions, Overrides};
use ploke_test_support::http::{Request, Response, Server};
use ploke_test_support::openai::{completion, completion_stream, tool_call};
use ploke_test_support::Project;
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

const A: &str = "src/lib.rs";
const B: &str = "src/wire.rs";

const NEW_FN: &str = "/// Waits a quintessential moment before trying the request again.
pub fn retry_delay(attempt: u32) -> u64 {
    250 * backoff(attempt)
}";

/// A model that edits both files when asked to edit (then sums up), and answers a question
/// with a search tool call, then a streamed answer.
fn model() -> Server {
    Server::start(|_, req: &Request| {
        let body = req.json();
        let editing = body["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "replace_item"));
        let last_role = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .map(|m| m["role"].clone());
        match (editing, last_role == Some(json!("tool"))) {
            (true, true) => Response::json(
                200,
                &completion(Some("Raised the delay and the header length."), vec![]),
            ),
            (true, false) => Response::json(
                200,
                &completion(
                    None,
                    vec![
                        tool_call(
                            "call_a",
                            "replace_item",
                            json!({"path": "retry_delay", "code": NEW_FN}),
                        ),
                        tool_call(
                            "call_b",
                            "search_replace",
                            json!({"file": B, "search": "HEADER_LEN: usize = 4;", "replace": "HEADER_LEN: usize = 8;"}),
                        ),
                    ],
                ),
            ),
            (false, true) => Response::sse(&completion_stream(&[
                "`retry_delay` waits ",
                "100 ms times ",
                "`backoff`.",
            ])),
            (false, false) => Response::json(
                200,
                &completion(
                    None,
                    vec![tool_call(
                        "call_s",
                        "search_code",
                        json!({"query": "retry delay"}),
                    )],
                ),
            ),
        }
    })
}

type H = Harness<'static, Window>;

/// The crate, and a window on it (embeddings off), once its first index is written.
fn start(model: &Server) -> (Project, H) {
    let project = Project::new("retry", &[(A, LIB), (B, WIRE)]);
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
    opts.holder = "gui flow test".into();
    let app = App::start(opts, Arc::new(|| {})).unwrap();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .renderer(EguiSoftwareRender::new(ColorFieldOrder::Rgba))
        .build_eframe(|_| Window::new(app));
    until(&mut h, "the first index", |a| {
        a.state().status.last_index.is_some() && a.state().status.index.is_some() && !a.busy()
    });
    (project, h)
}

/// Draws frames, taking the workers' replies in, until `done` holds (30 s at most).
#[track_caller]
fn until(h: &mut H, what: &str, mut done: impl FnMut(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        h.step();
        if done(h.state().app()) {
            // One more frame draws what arrived.
            h.step();
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.state_mut().app_mut().wait(Duration::from_millis(20));
    }
}

fn current(a: &App) -> Option<&str> {
    a.state()
        .item
        .current
        .as_ref()
        .map(|v| v.item.name.as_str())
}

#[test]
fn search_a_result_its_caller_and_back() {
    let model = model();
    let (_p, mut h) = start(&model);
    let search = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.role() == Role::TextInput && n.placeholder() == Some("Search the workspace  (Ctrl+K)")
    };
    h.get_by(search).focus();
    h.step();
    h.get_by(search).type_text("backoff");
    until(&mut h, "the search", |a| {
        let s = &a.state().search;
        s.answered == "backoff" && !s.busy && !s.shown.is_empty()
    });

    h.get_by_label("fn retry::backoff").click();
    until(&mut h, "the item", |a| current(a) == Some("backoff"));
    assert_eq!(h.state().gui().tab, Tab::Item);
    // Its source, drawn line by line.
    h.get_by_label("    1 << n");
    h.get_by_label("fn backoff(n: u32) -> u64 {");

    // Its caller, a node of the graph.
    h.get_by_role_and_label(Role::Button, "retry_delay").click();
    until(&mut h, "the caller", |a| current(a) == Some("retry_delay"));
    h.get_by_label("    100 * backoff(attempt)");
    // The callee it came from is a node now.
    h.get_by_role_and_label(Role::Button, "backoff");

    h.get_by_label("⏴").click();
    until(&mut h, "back", |a| current(a) == Some("backoff"));
    h.get_by_label("    1 << n");
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowRight);
    until(&mut h, "forward", |a| current(a) == Some("retry_delay"));

    // The module tree: the crate (2 items of its own, 4 in all) and its module.
    h.get_by_label("Modules").click();
    h.step();
    h.get_by_label("retry (2/4)");
    h.get_by_label("wire (2/2)").click();
    until(&mut h, "the module", |a| current(a) == Some("wire"));
}

#[test]
fn a_question_streams_its_answer_with_the_tool_calls() {
    let model = model();
    let (_p, mut h) = start(&model);
    h.get_by_label("Chat").click();
    h.step();
    let input = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.placeholder().is_some_and(|p| p.starts_with("Ask about"))
    };
    h.get_by(input).focus();
    h.step();
    h.get_by(input).type_text("How long is the retry delay?");
    h.step();
    h.get_by_label("Ask").click();
    until(&mut h, "the answer", |a| {
        a.state()
            .chat
            .turns
            .last()
            .is_some_and(|t| t.footer.is_some())
    });
    h.get_by_label("`retry_delay` waits 100 ms times `backoff`.");
    h.get_by_label("search_code");
    // The box is cleared for the next question.
    assert_eq!(h.get_by(input).value().as_deref(), Some(""));
}

#[test]
fn an_edit_reviewed_file_by_file_applied_and_undone() {
    let model = model();
    let (p, mut h) = start(&model);
    h.get_by_label("Chat").click();
    h.step();
    let input = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.placeholder().is_some_and(|p| p.starts_with("Ask about"))
    };
    h.get_by(input).focus();
    h.step();
    h.get_by(input)
        .type_text("Raise the delay and the header length");
    h.step();
    h.get_by_label("Edit").click();
    until(&mut h, "the review", |a| {
        matches!(a.state().edit.phase, EditPhase::Review { .. })
    });
    // The review comes forward with both files, both accepted.
    assert_eq!(h.state().gui().tab, Tab::Review);
    h.get_by_label("+    250 * backoff(attempt)");
    h.get_by_label("+pub const HEADER_LEN: usize = 8;");

    h.get_by_label(B).click();
    until(&mut h, "the decision", |a| match &a.state().edit.phase {
        EditPhase::Review { files, .. } => files.iter().any(|f| f.path == B && !f.accepted),
        _ => false,
    });
    h.get_by_label("Apply 1 of 2 files").click();
    until(&mut h, "the apply", |a| {
        matches!(a.state().edit.phase, EditPhase::Applied(_))
    });

    let read = |f: &str| std::fs::read_to_string(p.root.join(f)).unwrap();
    assert!(read(A).contains("250 * backoff(attempt)"), "{}", read(A));
    assert_eq!(read(B), WIRE, "the rejected file is untouched");
    h.get_by_label(&format!("✔ Applied edit #1 to {A}"));

    h.get_by_label("Undo").click();
    until(&mut h, "the undo", |a| a.state().edit.undone.is_some());
    assert_eq!(read(A), LIB);
    assert_eq!(read(B), WIRE);
}
