//! The edit workflow driven through a session the way a GUI drives it: propose (a scripted
//! model on a loopback server answers with `replace_item` and `search_replace` calls), review
//! the per-file diffs, accept or reject each file, apply, undo; a file the user changes
//! between review and apply; operations out of turn; search after an apply.

use ploke_session::{
    ApplyOutcome, EditFlow, EditOptions, EditState, Environment, IndexRequest, OpenOptions,
    Overrides, SearchMode, SearchRequest, Session, SessionError,
};
use ploke_test_support::http::{Request, Response, Server};
use ploke_test_support::openai::{completion, embeddings_reply, tool_call};
use ploke_test_support::Project;
use serde_json::json;

const LIB: &str = "//! Retries.

pub mod wire;

/// Waits before trying the request again.
pub fn retry_delay(attempt: u32) -> u64 {
    100 * backoff(attempt)
}

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

/// `retry_delay` with a new base delay and a word no other text holds.
const NEW_FN: &str = "/// Waits a quintessential moment before trying the request again.
pub fn retry_delay(attempt: u32) -> u64 {
    250 * backoff(attempt)
}";

/// LIB after the model's edit.
fn lib_edited(lib: &str) -> String {
    let old = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    100 * backoff(attempt)\n}";
    assert_eq!(lib.matches(old).count(), 1);
    lib.replace(old, NEW_FN)
}

/// WIRE after the model's edit.
fn wire_edited(wire: &str) -> String {
    wire.replace("HEADER_LEN: usize = 4;", "HEADER_LEN: usize = 8;")
}

/// A model that answers a request whose last message is a tool result with a summary, and
/// any other with the two edits (one per file).
fn model() -> Server {
    Server::start(|_, req: &Request| {
        let body = req.json();
        let last_role = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .map(|m| m["role"].clone());
        if last_role == Some(json!("tool")) {
            return Response::json(
                200,
                &completion(Some("Raised the delay and the header length."), vec![]),
            );
        }
        Response::json(
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
        )
    })
}

/// A crate with two source files, a session on it (chat model: `model`; embeddings from
/// `embed` when given, else off) and its index, built through the session.
fn setup(model: &Server, embed: Option<&Server>) -> (Project, Session) {
    let project = Project::new("retry", &[(A, LIB), (B, WIRE)]);
    let mut env = vec![
        ("HOME".to_string(), "/nonexistent".to_string()),
        ("PLOKE_API_KEY".to_string(), "sk-test".to_string()),
    ];
    if let Some(e) = embed {
        env.push(("PLOKE_EMBED_URL".into(), e.url_at("/v1")));
        env.push(("PLOKE_EMBED_MODEL".into(), "test-embed".into()));
    }
    let mut opts = OpenOptions::new(&project.root);
    opts.create = true;
    opts.env = Environment::from_pairs(env);
    opts.overrides = Overrides {
        provider: Some("openai".into()),
        model: Some("test".into()),
        base_url: Some(model.url_at("/v1")),
        no_embed: embed.is_none(),
    };
    opts.holder = "edit test".into();
    let session = Session::open(&opts).unwrap();
    let summary = session
        .index(&IndexRequest {
            embed: embed.is_some(),
            ..IndexRequest::default()
        })
        .unwrap();
    assert_eq!(summary.files, 2, "{summary:?}");
    assert_eq!(summary.embed.is_some(), embed.is_some(), "{summary:?}");
    (project, session)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `flow.propose` to its end; the paths of the files under review.
fn propose(
    rt: &tokio::runtime::Runtime,
    flow: &mut EditFlow<'_>,
) -> Result<Vec<String>, SessionError> {
    rt.block_on(flow.propose(&mut |_| {}))
        .map(|files| files.iter().map(|f| f.path.clone()).collect())
}

fn state(flow: &EditFlow<'_>) -> &'static str {
    match flow.state() {
        EditState::Ready => "ready",
        EditState::Review(_) => "review",
        EditState::Applied(_) => "applied",
        EditState::Done => "done",
    }
}

/// The one file of the review at `path`.
#[track_caller]
fn reviewed<'a>(flow: &'a EditFlow<'_>, path: &str) -> &'a ploke_session::ReviewFile {
    let files = flow.review().expect("a proposal under review");
    let mut hits = files.iter().filter(|f| f.path == path);
    let f = hits
        .next()
        .unwrap_or_else(|| panic!("{path} in {files:#?}"));
    assert!(hits.next().is_none(), "{path} once in {files:#?}");
    f
}

#[track_caller]
fn assert_edit_state_error(result: Result<impl std::fmt::Debug, SessionError>, state: &str) {
    match result {
        Err(SessionError::EditState { state: s, .. }) => assert_eq!(s, state),
        other => panic!("an EditState error (state {state}), got {other:?}"),
    }
}

/// No edit is recorded in the journal (`.ploke/journal/entries/`).
fn journal_is_empty(p: &Project) -> bool {
    std::fs::read_dir(p.path(".ploke/journal/entries")).map_or(true, |d| d.count() == 0)
}

#[test]
fn each_file_is_accepted_or_rejected_and_undo_restores_the_accepted_one() {
    let model = model();
    let (p, session) = setup(&model, None);
    let rt = runtime();

    let mut flow = session
        .edit(
            "make the delay 250 ms and the header 8 bytes",
            EditOptions::default(),
        )
        .unwrap();
    assert_eq!(state(&flow), "ready");
    assert!(flow.review().is_none());
    assert_eq!(flow.round(), 0);

    let mut files = propose(&rt, &mut flow).unwrap();
    files.sort();
    assert_eq!(files, [A, B]);
    assert_eq!(state(&flow), "review");
    let EditState::Review(review) = flow.state() else {
        unreachable!()
    };
    assert_eq!(review.summary, "Raised the delay and the header length.");
    let a = reviewed(&flow, A);
    assert!(
        a.diff
            .contains("-    100 * backoff(attempt)\n+    250 * backoff(attempt)"),
        "{}",
        a.diff
    );
    assert!(
        a.diff.contains("+/// Waits a quintessential moment"),
        "{}",
        a.diff
    );
    assert!(a.diff.contains("a/src/lib.rs") && a.diff.contains("b/src/lib.rs"));
    assert!(a.accepted && !a.new_file);
    let b = reviewed(&flow, B);
    assert!(
        b.diff
            .contains("-pub const HEADER_LEN: usize = 4;\n+pub const HEADER_LEN: usize = 8;"),
        "{}",
        b.diff
    );
    assert!(!b.diff.contains("backoff"), "{}", b.diff);
    assert!(b.accepted && !b.new_file);
    // Proposing wrote nothing.
    assert_eq!(p.read(A), LIB);
    assert_eq!(p.read(B), WIRE);
    assert_eq!(model.requests().len(), 2, "the edits, then the summary");

    flow.decide(A, true).unwrap();
    flow.decide(B, false).unwrap();
    assert_eq!(state(&flow), "review");
    assert!(reviewed(&flow, A).accepted);
    assert!(!reviewed(&flow, B).accepted);
    // A decision can be changed until the apply.
    flow.decide(B, true).unwrap();
    flow.decide(B, false).unwrap();

    let applied = match flow.apply().unwrap() {
        ApplyOutcome::Applied(a) => a,
        other => panic!("applied, got {other:?}"),
    };
    assert_eq!(applied.files, [A]);
    match flow.state() {
        EditState::Applied(a) => assert_eq!(*a, applied),
        _ => panic!("applied, is {}", state(&flow)),
    }
    assert!(flow.review().is_none());
    assert_eq!(p.read(A), lib_edited(LIB));
    assert_eq!(std::fs::read(p.path(B)).unwrap(), WIRE.as_bytes());

    // Once applied, there is nothing to decide or apply again.
    assert_edit_state_error(flow.decide(B, true), "applied");
    assert_edit_state_error(flow.apply(), "applied");
    assert_edit_state_error(propose(&rt, &mut flow), "applied");
    assert_eq!(p.read(A), lib_edited(LIB));
    assert_eq!(p.read(B), WIRE);
    drop(flow);

    let undone = session.undo().unwrap();
    assert_eq!(undone.entry, applied.entry);
    assert_eq!(undone.files, [A]);
    assert_eq!(std::fs::read(p.path(A)).unwrap(), LIB.as_bytes());
    assert_eq!(std::fs::read(p.path(B)).unwrap(), WIRE.as_bytes());
    // The index follows the undo.
    let item = &session.item("retry_delay").unwrap()[0];
    assert!(item.source.contains("100 * backoff"), "{}", item.source);
    assert!(session.undo().is_err(), "nothing left to undo");
}

#[test]
fn a_file_the_user_changed_after_the_review_is_named_and_nothing_is_written() {
    let model = model();
    let (p, session) = setup(&model, None);
    let rt = runtime();
    let mut flow = session
        .edit(
            "make the delay 250 ms and the header 8 bytes",
            EditOptions::default(),
        )
        .unwrap();
    propose(&rt, &mut flow).unwrap();
    let reviewed_a = reviewed(&flow, A).diff.clone();
    let reviewed_b = reviewed(&flow, B).diff.clone();

    // The user adds a line at the top of file A: every line of the edit moves down one, so
    // the diff the user accepted is not the one that would be written.
    let user_a = format!("// Edited by the user.\n{LIB}");
    p.write(A, &user_a);
    match flow.apply().unwrap() {
        ApplyOutcome::Changed { files } => assert_eq!(files, [A]),
        other => panic!("changed, got {other:?}"),
    }
    assert_eq!(std::fs::read(p.path(A)).unwrap(), user_a.as_bytes());
    assert_eq!(std::fs::read(p.path(B)).unwrap(), WIRE.as_bytes());
    assert!(journal_is_empty(&p), "no journal entry");

    // Back in review, with the edits resolved against the new text.
    assert_eq!(state(&flow), "review");
    let a = reviewed(&flow, A);
    assert_ne!(a.diff, reviewed_a);
    assert!(a.diff.contains("+    250 * backoff(attempt)"), "{}", a.diff);
    assert!(a.accepted);
    assert_eq!(reviewed(&flow, B).diff, reviewed_b, "B did not change");
    // The designed way on is to apply the new diff (or decide first), not to propose again.
    assert_edit_state_error(propose(&rt, &mut flow), "under review");
    assert_eq!(model.requests().len(), 2);

    let applied = match flow.apply().unwrap() {
        ApplyOutcome::Applied(a) => a,
        other => panic!("applied, got {other:?}"),
    };
    assert_eq!(applied.files, [A, B]);
    assert_eq!(p.read(A), lib_edited(&user_a), "the user's line is kept");
    assert_eq!(p.read(B), wire_edited(WIRE));
    drop(flow);

    let undone = session.undo().unwrap();
    assert_eq!(undone.files, [A, B]);
    assert_eq!(std::fs::read(p.path(A)).unwrap(), user_a.as_bytes());
    assert_eq!(std::fs::read(p.path(B)).unwrap(), WIRE.as_bytes());
}

#[test]
fn every_file_changed_after_the_review_is_resolved_again() {
    let model = model();
    let (p, session) = setup(&model, None);
    let rt = runtime();
    let mut flow = session
        .edit(
            "make the delay 250 ms and the header 8 bytes",
            EditOptions::default(),
        )
        .unwrap();
    propose(&rt, &mut flow).unwrap();
    let reviewed_b = reviewed(&flow, B).diff.clone();

    // Both files change: A above the edit (its diff moves), B below it, out of the diff's
    // context (its diff stays the same, only the rest of the file differs).
    let user_a = format!("// Edited by the user.\n{LIB}");
    let user_b = format!("{WIRE}\n/// Added by the user.\npub fn checksum() -> u8 {{\n    0\n}}\n");
    p.write(A, &user_a);
    p.write(B, &user_b);
    match flow.apply().unwrap() {
        ApplyOutcome::Changed { files } => assert_eq!(files, [A]),
        other => panic!("changed, got {other:?}"),
    }
    assert_eq!(std::fs::read(p.path(A)).unwrap(), user_a.as_bytes());
    assert_eq!(std::fs::read(p.path(B)).unwrap(), user_b.as_bytes());
    assert_eq!(reviewed(&flow, B).diff, reviewed_b);

    match flow.apply().unwrap() {
        ApplyOutcome::Applied(a) => assert_eq!(a.files, [A, B]),
        other => panic!("applied, got {other:?}"),
    }
    assert_eq!(p.read(A), lib_edited(&user_a));
    assert_eq!(
        p.read(B),
        wire_edited(&user_b),
        "the user's function is kept"
    );
}

#[test]
fn files_the_user_changes_while_the_model_works_are_indexed_again_however_many() {
    let project = std::sync::Arc::new(std::sync::Mutex::new(None::<std::path::PathBuf>));
    let root = project.clone();
    // One edit per answer; before the second, the user changes both files.
    let model = Server::start(move |n, _| {
        let calls = match n {
            0 => vec![tool_call(
                "call_a",
                "replace_item",
                json!({"path": "retry_delay", "code": NEW_FN}),
            )],
            1 => {
                let root = root.lock().unwrap().clone().unwrap();
                let a = std::fs::read_to_string(root.join(A)).unwrap();
                std::fs::write(root.join(A), format!("// Edited by the user.\n{a}")).unwrap();
                let b = std::fs::read_to_string(root.join(B)).unwrap();
                std::fs::write(
                    root.join(B),
                    format!("{b}\npub fn checksum() -> u8 {{\n    0\n}}\n"),
                )
                .unwrap();
                vec![tool_call(
                    "call_b",
                    "search_replace",
                    json!({"file": B, "search": "HEADER_LEN: usize = 4;", "replace": "HEADER_LEN: usize = 8;"}),
                )]
            }
            _ => return Response::json(200, &completion(Some("Done."), vec![])),
        };
        Response::json(200, &completion(None, calls))
    });
    let (p, session) = setup(&model, None);
    *project.lock().unwrap() = Some(p.root.clone());
    let rt = runtime();
    let mut flow = session
        .edit(
            "make the delay 250 ms and the header 8 bytes",
            EditOptions::default(),
        )
        .unwrap();
    let mut files = propose(&rt, &mut flow).unwrap();
    files.sort();
    // What the second edit's tool call answered the model.
    let requests = model.requests();
    assert_eq!(requests.len(), 3);
    let answer = requests[2].json()["messages"]
        .as_array()
        .and_then(|m| m.last())
        .map(|m| m["content"].to_string())
        .unwrap_or_default();
    assert!(
        answer.contains("ok: edit accepted (2 pending"),
        "the second edit was accepted: {answer}"
    );
    assert_eq!(files, [A, B]);
    let user_a = format!("// Edited by the user.\n{LIB}");
    let user_b = format!("{WIRE}\npub fn checksum() -> u8 {{\n    0\n}}\n");
    match flow.apply().unwrap() {
        ApplyOutcome::Applied(a) => assert_eq!(a.files, [A, B]),
        other => panic!("applied, got {other:?}"),
    }
    assert_eq!(p.read(A), lib_edited(&user_a));
    assert_eq!(p.read(B), wire_edited(&user_b));
}

#[test]
fn a_change_outside_the_reviewed_diff_does_not_stop_the_apply() {
    let model = model();
    let (p, session) = setup(&model, None);
    let rt = runtime();
    let mut flow = session
        .edit(
            "make the delay 250 ms and the header 8 bytes",
            EditOptions::default(),
        )
        .unwrap();
    propose(&rt, &mut flow).unwrap();
    flow.decide(A, false).unwrap();
    // B changes below the edit, out of the diff's context: the diff the user accepted is the
    // one that is written, and the user's change stays.
    let user_b = format!("{WIRE}\n/// Added by the user.\npub fn checksum() -> u8 {{\n    0\n}}\n");
    p.write(B, &user_b);
    match flow.apply().unwrap() {
        ApplyOutcome::Applied(a) => assert_eq!(a.files, [B]),
        other => panic!("applied, got {other:?}"),
    }
    assert_eq!(p.read(B), wire_edited(&user_b));
    assert_eq!(p.read(A), LIB);
}

#[test]
fn decisions_and_applies_out_of_turn_are_errors_that_write_nothing() {
    let model = model();
    let (p, session) = setup(&model, None);
    let rt = runtime();
    let mut flow = session
        .edit(
            "make the delay 250 ms and the header 8 bytes",
            EditOptions::default(),
        )
        .unwrap();

    // Before any proposal.
    assert_edit_state_error(flow.apply(), "waiting for a proposal");
    assert_edit_state_error(flow.decide(A, true), "waiting for a proposal");
    assert_eq!(state(&flow), "ready");

    propose(&rt, &mut flow).unwrap();
    // Files that are not in the review: one that does not exist, one that does but is not
    // part of the proposal, one named another way.
    for other in ["src/nope.rs", "Cargo.toml", "./src/lib.rs", "lib.rs"] {
        let err = flow.decide(other, false).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(other), "{other}: {msg}");
        assert!(
            msg.contains("not part of the proposal") && msg.contains(A) && msg.contains(B),
            "{other}: {msg}"
        );
    }
    // Nothing changed by those.
    assert_eq!(state(&flow), "review");
    assert!(flow.review().unwrap().iter().all(|f| f.accepted));

    // Every file rejected: nothing to apply.
    flow.decide(A, false).unwrap();
    flow.decide(B, false).unwrap();
    match flow.apply() {
        Err(SessionError::NoEdits { summary }) => {
            assert_eq!(summary, "every proposed file was rejected")
        }
        other => panic!("no edits, got {other:?}"),
    }
    assert_eq!(state(&flow), "done");
    assert_edit_state_error(flow.apply(), "done");
    assert_edit_state_error(flow.decide(A, true), "done");
    assert_edit_state_error(propose(&rt, &mut flow), "done");
    assert_eq!(std::fs::read(p.path(A)).unwrap(), LIB.as_bytes());
    assert_eq!(std::fs::read(p.path(B)).unwrap(), WIRE.as_bytes());
    assert!(journal_is_empty(&p), "no journal entry");
    drop(flow);
    assert!(session.undo().is_err(), "nothing to undo");
}

#[test]
fn search_after_an_apply_sees_the_new_text_and_the_vectors_are_kept() {
    let model = model();
    let embed = Server::start(|_, req| embeddings_reply(req));
    let (p, session) = setup(&model, Some(&embed));
    let rt = runtime();
    let lexical = |q: &str| {
        session
            .search(&SearchRequest {
                query: q.into(),
                k: 20,
                mode: SearchMode::Lexical,
                scope: Default::default(),
            })
            .unwrap()
    };
    assert!(
        lexical("quintessential")
            .iter()
            .all(|h| h.item.name != "retry_delay"),
        "the word is not there yet"
    );

    let mut flow = session
        .edit(
            "make the delay 250 ms and the header 8 bytes",
            EditOptions::default(),
        )
        .unwrap();
    propose(&rt, &mut flow).unwrap();
    flow.decide(B, false).unwrap();
    let embedded_before = embed.requests().len();
    assert!(matches!(flow.apply().unwrap(), ApplyOutcome::Applied(_)));
    drop(flow);
    assert_eq!(p.read(A), lib_edited(LIB));

    // The lexical side: the edited item is found by its new word, with its new text.
    let hits = lexical("quintessential");
    assert_eq!(
        hits.first().map(|h| h.item.path.as_str()),
        Some("retry::retry_delay"),
        "{hits:#?}"
    );
    let item = &session.item("retry_delay").unwrap()[0];
    assert!(item.source.contains("250 * backoff"), "{}", item.source);
    assert_eq!(item.item.start_line, 5);

    // The vector side: the apply embedded the new text, and only what changed...
    let inputs: Vec<String> = embed.requests()[embedded_before..]
        .iter()
        .flat_map(ploke_test_support::openai::embedding_inputs)
        .collect();
    assert!(
        inputs.iter().any(|t| t.contains("quintessential")),
        "{inputs:#?}"
    );
    // ...so every item has its vector and nothing is left to embed.
    let stage = session.embed_stage().unwrap().expect("embeddings are on");
    assert_eq!(stage.stats.embedded, 0, "{stage:?}");
    assert_eq!(stage.stats.removed, 0, "{stage:?}");
    assert!(
        inputs.len() < stage.stats.texts,
        "only the changed texts were embedded: {inputs:#?} of {stage:?}"
    );
    let hits = session
        .search(&SearchRequest {
            query: "quintessential moment before trying the request again".into(),
            k: 20,
            mode: SearchMode::Vector,
            scope: Default::default(),
        })
        .unwrap();
    assert!(
        hits.iter().any(|h| h.item.path == "retry::retry_delay"),
        "{hits:#?}"
    );
}
