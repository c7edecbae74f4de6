//! The shared front-end layer driven the way a view drives it, through `dispatch` and
//! `poll`, on a real workspace with a scripted chat model on a loopback server: search as you
//! type (only the newest query's answer is shown), filters, items with back and forward,
//! the context pack re-packed as the budget changes, a streamed answer with its tool calls,
//! the edit review (one file accepted, one rejected), apply, undo, index progress, the outline
//! and the settings view (which never holds the key).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ploke_app::{Action, App, EditPhase, Filters, Relation, TestFilter, TurnKind};
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

/// Sends a frame, retrying with `retry_delay` between attempts.
pub fn send_with_retries(body: usize) -> u64 {
    retry_delay(wire::frame_len(body) as u32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn delay_grows() {
        assert!(super::retry_delay(2) > super::retry_delay(1));
    }
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

/// A model that edits both files when asked to edit, answers a question with a tool call
/// then a streamed answer, and sums up after tool results of an edit.
fn model() -> Server {
    Server::start(|_, req: &Request| {
        let body = req.json();
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let editing = body["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "replace_item"));
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
        if editing {
            return Response::json(
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
            );
        }
        Response::json(
            200,
            &completion(
                None,
                vec![tool_call(
                    "call_s",
                    "search_code",
                    json!({"query": "retry delay"}),
                )],
            ),
        )
    })
}

/// The workspace and an app on it (embeddings off), with how often the waker ran.
fn start(model: &Server) -> (Project, App, Arc<AtomicUsize>) {
    let project = Project::new("retry", &[(A, LIB), (B, WIRE)]);
    let mut opts = OpenOptions::new(&project.root);
    opts.env = Environment::from_pairs([
        ("HOME".to_string(), "/nonexistent".to_string()),
        ("PLOKE_API_KEY".to_string(), "sk-secret-test".to_string()),
    ]);
    opts.overrides = Overrides {
        provider: Some("openai".into()),
        model: Some("test".into()),
        base_url: Some(model.url_at("/v1")),
        no_embed: true,
    };
    let woken = Arc::new(AtomicUsize::new(0));
    let w = woken.clone();
    let app = App::start(
        opts,
        Arc::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .unwrap();
    (project, app, woken)
}

/// Polls until `done` holds (or fails after 30 s, naming `what`).
#[track_caller]
fn until(app: &mut App, what: &str, mut done: impl FnMut(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(app) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        app.wait(Duration::from_millis(50));
    }
}

fn settled(app: &App) -> bool {
    !app.busy()
}

#[test]
fn search_items_history_outline_and_pack() {
    let model = model();
    let (_p, mut app, woken) = start(&model);
    // A new workspace is indexed on start, with progress.
    until(&mut app, "the first index", |a| {
        a.state().status.last_index.is_some() && settled(a)
    });
    assert_eq!(app.state().status.last_index.as_ref().unwrap().files, 2);
    until(&mut app, "the status", |a| a.state().status.index.is_some());
    assert!(woken.load(Ordering::SeqCst) > 0, "the waker ran");

    // Typing: every keystroke sends a query; the answer shown is the newest one's.
    for q in ["r", "re", "ret", "retry", "retry del", "retry delay"] {
        app.dispatch(Action::SetQuery(q.into())).unwrap();
    }
    until(&mut app, "the search", settled);
    let s = &app.state().search;
    assert_eq!(s.answered, "retry delay");
    assert!(s.error.is_none(), "{:?}", s.error);
    let top = &s.hits[s.shown[0]];
    assert_eq!(top.item.path, "retry::retry_delay", "{:#?}", s.hits);
    assert!(top.signals.lexical > 0.0);
    let (kinds, crates) = s.facets();
    assert!(kinds.contains("fn") && crates.contains("retry"));

    // Filters only change what is shown.
    let hits = s.hits.len();
    app.dispatch(Action::SetFilters(Filters {
        tests: TestFilter::Only,
        ..Filters::default()
    }))
    .unwrap();
    let s = &app.state().search;
    assert_eq!(s.hits.len(), hits);
    assert!(!s.shown.is_empty());
    assert!(
        s.shown.iter().all(|&i| s.hits[i].item.test),
        "{:#?}",
        s.hits
    );
    app.dispatch(Action::SetFilters(Filters {
        kinds: ["const".to_string()].into(),
        ..Filters::default()
    }))
    .unwrap();
    let s = &app.state().search;
    assert!(s.shown.iter().all(|&i| s.hits[i].item.kind == "const"));
    app.dispatch(Action::SetFilters(Filters::default()))
        .unwrap();

    // Open the top hit: its source, its neighbourhood laid out for drawing.
    let id = top_id(&app);
    app.dispatch(Action::Open(id.clone())).unwrap();
    until(&mut app, "the item", |a| !a.state().item.loading);
    let item = app.state().item.current.as_ref().unwrap();
    assert!(item.source.contains("100 * backoff"));
    let g = &app.state().item.graph;
    let caller = g
        .nodes
        .iter()
        .find(|n| n.relation == Relation::Caller)
        .expect("a caller node");
    assert_eq!(caller.item.name, "send_with_retries");
    assert!(caller.x < 0.0);
    let callee = g
        .nodes
        .iter()
        .find(|n| n.relation == Relation::Callee)
        .expect("a callee node");
    assert_eq!(callee.item.name, "backoff");
    assert!(callee.x > 0.0);
    assert!(g.edges.contains(&(
        g.nodes
            .iter()
            .position(|n| n.item.name == "send_with_retries")
            .unwrap(),
        0
    )));

    // Walk to the caller, then back and forward.
    let caller_id = caller.item.id.clone();
    app.dispatch(Action::Open(caller_id.clone())).unwrap();
    until(&mut app, "the caller", |a| !a.state().item.loading);
    assert_eq!(current(&app), "send_with_retries");
    assert_eq!(app.state().item.back, std::slice::from_ref(&id));
    app.dispatch(Action::Back).unwrap();
    until(&mut app, "back", |a| !a.state().item.loading);
    assert_eq!(current(&app), "retry_delay");
    assert_eq!(app.state().item.forward, [caller_id]);
    app.dispatch(Action::Forward).unwrap();
    until(&mut app, "forward", |a| !a.state().item.loading);
    assert_eq!(current(&app), "send_with_retries");
    assert!(app.state().item.forward.is_empty());

    // The outline: the crate with its module and item counts.
    until(&mut app, "the outline", |a| !a.state().outline.is_empty());
    let lib = app
        .state()
        .outline
        .iter()
        .find(|c| c.item.kind == "crate" && !c.item.test)
        .unwrap_or_else(|| panic!("{:#?}", app.state().outline));
    assert!(lib.items >= 3, "{lib:#?}");
    let wire = lib
        .children
        .iter()
        .find(|m| m.item.name == "wire")
        .unwrap_or_else(|| panic!("{:#?}", app.state().outline));
    assert_eq!(wire.items, 2, "{wire:#?}");
    assert!(lib.total >= lib.items + wire.items);

    // The pack, and again with a smaller budget.
    app.dispatch(Action::SetPackRequest(
        "make the retry delay configurable".into(),
    ))
    .unwrap();
    until(&mut app, "the pack", settled);
    let pack = app.state().pack.pack.as_ref().expect("a pack");
    assert!(pack.items.iter().any(|i| i.path == "retry::retry_delay"));
    assert!(pack.tokens <= 8000);
    let big = pack.tokens;
    for b in [4000, 1000, 300] {
        app.dispatch(Action::SetBudget(b)).unwrap();
    }
    until(&mut app, "the smaller pack", settled);
    let pack = app.state().pack.pack.as_ref().unwrap();
    assert_eq!(pack.budget, 300, "the newest budget's pack is shown");
    assert!(pack.tokens <= 300 && pack.tokens <= big);
    assert!(app.pack_markdown().unwrap().contains("retry"));
}

fn top_id(app: &App) -> String {
    let s = &app.state().search;
    s.hits[s.shown[0]].item.id.clone()
}

fn current(app: &App) -> String {
    app.state().item.current.as_ref().unwrap().item.name.clone()
}

#[test]
fn ask_streams_and_edit_review_apply_undo() {
    let model = model();
    let (p, mut app, _) = start(&model);
    until(&mut app, "the first index", |a| {
        a.state().status.last_index.is_some() && settled(a)
    });
    let settings = &app.state().settings;
    assert_eq!(
        (settings.provider.as_str(), settings.model.as_str()),
        ("openai", "test")
    );
    assert!(settings.key_set);
    assert!(!format!("{settings:?}").contains("sk-secret-test"));

    // A question: a tool call, then the streamed answer.
    app.dispatch(Action::Ask("how long is the retry delay?".into()))
        .unwrap();
    assert!(app.state().chat.busy);
    assert!(
        app.dispatch(Action::Ask("another".into())).is_err(),
        "one turn at a time"
    );
    until(&mut app, "the answer", |a| !a.state().chat.busy);
    let turn = &app.state().chat.turns[0];
    assert_eq!(turn.kind, TurnKind::Ask);
    assert!(turn.error.is_none(), "{:?}", turn.error);
    assert_eq!(turn.answer, "`retry_delay` waits 100 ms times `backoff`.");
    assert_eq!(turn.tools.len(), 1, "{:?}", turn.tools);
    assert_eq!(turn.tools[0].name, "search_code");
    assert!(turn.tools[0].chars.unwrap() > 0);
    assert!(turn.footer.as_ref().unwrap().contains("test"));

    // An edit: reviewed per file, one rejected.
    app.dispatch(Action::Edit(
        "make the delay 250 ms and the header 8 bytes".into(),
    ))
    .unwrap();
    until(&mut app, "the review", |a| {
        matches!(a.state().edit.phase, EditPhase::Review { .. })
    });
    let EditPhase::Review { files, summary, .. } = &app.state().edit.phase else {
        unreachable!()
    };
    let mut paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, [A, B]);
    assert_eq!(summary, "Raised the delay and the header length.");
    assert!(
        app.dispatch(Action::Ask("meanwhile?".into())).is_err(),
        "no new turn while a review waits"
    );
    assert_eq!(p.read(A), LIB, "nothing written before apply");

    app.dispatch(Action::Decide {
        file: B.into(),
        accept: false,
    })
    .unwrap();
    until(&mut app, "the decision", |a| match &a.state().edit.phase {
        EditPhase::Review { files, .. } => files.iter().any(|f| f.path == B && !f.accepted),
        _ => false,
    });
    app.dispatch(Action::Apply).unwrap();
    until(&mut app, "the apply", |a| {
        matches!(a.state().edit.phase, EditPhase::Applied(_))
    });
    let EditPhase::Applied(applied) = &app.state().edit.phase else {
        unreachable!()
    };
    assert_eq!(applied.files, [A]);
    assert!(p.read(A).contains("250 * backoff"));
    assert_eq!(p.read(B), WIRE);

    // Views follow the index: the search finds the new text.
    app.dispatch(Action::SetQuery("quintessential".into()))
        .unwrap();
    until(&mut app, "the search after the apply", settled);
    let s = &app.state().search;
    assert_eq!(
        s.hits.first().map(|h| h.item.path.as_str()),
        Some("retry::retry_delay")
    );

    app.dispatch(Action::Undo).unwrap();
    until(&mut app, "the undo", |a| a.state().edit.undone.is_some());
    assert_eq!(p.read(A), LIB);
    assert_eq!(app.state().edit.phase, EditPhase::Idle);
    assert!(app.state().edit.undone.as_ref().unwrap().contains(A));
}

#[test]
fn a_question_can_be_cancelled() {
    // A model that never answers.
    let model = Server::start(|_, _| Response::stall());
    let (_p, mut app, _) = start(&model);
    until(&mut app, "the first index", |a| {
        a.state().status.last_index.is_some() && settled(a)
    });
    // Cancelled at once, before the model lane has even taken the question up.
    app.dispatch(Action::Ask("anything?".into())).unwrap();
    assert!(app.state().chat.busy);
    app.dispatch(Action::Cancel).unwrap();
    until(&mut app, "the cancel", |a| !a.state().chat.busy);
    assert_eq!(
        app.state().chat.turns[0].error.as_deref(),
        Some("cancelled")
    );
    // The lane is free again.
    app.dispatch(Action::SetQuery("frame".into())).unwrap();
    until(&mut app, "a search after the cancel", settled);
    assert!(!app.state().search.hits.is_empty());
}

#[test]
fn the_watcher_keeps_the_views_current() {
    let model = model();
    let (p, mut app, _) = start(&model);
    until(&mut app, "the first index", |a| {
        a.state().status.last_index.is_some() && settled(a)
    });
    app.dispatch(Action::Watch(true)).unwrap();
    until(&mut app, "the watcher", |a| a.state().status.watching);
    app.dispatch(Action::SetQuery("frobnicate".into())).unwrap();
    until(&mut app, "the search", settled);
    assert!(app.state().search.hits.is_empty());

    p.write(
        B,
        format!("{WIRE}\n/// Frobnicates a frame.\npub fn frobnicate(f: usize) -> usize {{\n    f\n}}\n"),
    );
    // (The watcher's first update is its rescan of the workspace, with no files.)
    until(&mut app, "the update", |a| {
        a.state()
            .status
            .last_update
            .as_ref()
            .is_some_and(|u| u.files == [B])
            && settled(a)
    });
    // The search shown was asked again of the new index.
    until(&mut app, "the search again", |a| {
        !a.state().search.hits.is_empty() && settled(a)
    });
    assert_eq!(
        app.state().search.hits[0].item.path,
        "retry::wire::frobnicate"
    );

    app.dispatch(Action::Watch(false)).unwrap();
    until(&mut app, "the watcher to stop", |a| {
        !a.state().status.watching
    });
}
