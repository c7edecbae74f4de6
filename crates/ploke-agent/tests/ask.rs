//! The question and edit loops with a scripted model: tool calls are executed against a real
//! index and their answers fed back; bounds stop the loop; proposed edits are validated.

use std::sync::Mutex;

use ploke_agent::ask::{ask, AskEvent, AskOptions};
use ploke_agent::edit::{edit_tool_specs, propose};
use ploke_agent::Toolbox;
use ploke_db::Db;
use ploke_edit::EditContext;
use ploke_llm::{
    BoxFuture, ChatModel, ChatRequest, ChatResponse, EventSink, LlmError, Message, ResponseBuilder,
    StopReason, ToolCall, Usage,
};
use ploke_retrieve::Retriever;
use ploke_test_support::Project;
use serde_json::json;

/// Answers each turn from a script and records the requests it got.
struct Scripted {
    turns: Mutex<Vec<(String, Vec<ToolCall>)>>,
    seen: Mutex<Vec<ChatRequest>>,
}

impl ChatModel for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_event: EventSink<'a>,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(request.clone());
            let (text, calls) = {
                let mut turns = self.turns.lock().unwrap();
                if turns.is_empty() {
                    ("(out of script)".to_string(), Vec::new())
                } else {
                    turns.remove(0)
                }
            };
            let mut b = ResponseBuilder::new(on_event);
            for word in text.split_inclusive(' ') {
                b.text(word);
            }
            for c in calls {
                b.tool_call(c);
            }
            Ok(b.finish(
                StopReason::EndTurn,
                Usage {
                    input_tokens: 100,
                    output_tokens: 10,
                },
            ))
        })
    }
}

fn call(id: &str, name: &str, args: serde_json::Value) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args,
    }
}

/// A one-file crate `c` (`retry_delay` calls `backoff`), indexed.
fn index() -> (tempfile::TempDir, Db) {
    let p = Project::new(
        "c",
        &[(
            "src/lib.rs",
            "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    100 * backoff(attempt)\n}\n\nfn backoff(n: u32) -> u64 {\n    1 << n\n}\n",
        )],
    );
    let db_dir = p.db("db");
    p.index(&db_dir);
    let db = Db::open(&db_dir).unwrap();
    (p.tmp, db)
}

#[tokio::test]
async fn tool_calls_run_and_their_answers_go_back() {
    let (_tmp, db) = index();
    let retriever = Retriever::load(&db, None).unwrap();
    let tools = Toolbox::new(&db, &retriever, None);
    let model = Scripted {
        turns: Mutex::new(vec![
            (
                "Let me look. ".into(),
                vec![
                    call("c1", "get_callees", json!({"path": "retry_delay"})),
                    call("c2", "get_item", json!({"path": "nope"})),
                ],
            ),
            (
                "`c::retry_delay` (src/lib.rs:2) multiplies `c::backoff`.".into(),
                vec![],
            ),
        ]),
        seen: Mutex::new(Vec::new()),
    };
    let mut events = Vec::new();
    let out = ask(
        &model,
        &tools,
        "how is the retry delay computed?",
        "## context",
        &AskOptions::default(),
        &mut |e| events.push(e),
    )
    .await
    .unwrap();
    assert_eq!(out.steps, 2);
    assert_eq!(out.tool_calls, 2);
    assert_eq!(
        out.answer,
        "Let me look. `c::retry_delay` (src/lib.rs:2) multiplies `c::backoff`."
    );
    assert_eq!(
        out.usage,
        Usage {
            input_tokens: 200,
            output_tokens: 20
        }
    );
    assert_eq!(out.stopped_by, None);
    assert!(events
        .iter()
        .any(|e| matches!(e, AskEvent::ToolCall { name, .. } if name == "get_callees")));
    assert!(events.iter().any(
        |e| matches!(e, AskEvent::ToolResult { name, chars } if name == "get_item" && *chars > 0)
    ));

    let seen = model.seen.lock().unwrap();
    assert!(seen[0]
        .system
        .as_deref()
        .unwrap()
        .starts_with("You are ploke"));
    assert_eq!(seen[0].tools.len(), 7, "all read-only tools offered");
    assert!(
        matches!(&seen[0].messages[0], Message::User { text } if text.starts_with("## context") && text.ends_with("Request: how is the retry delay computed?"))
    );
    // Second turn: the assistant's calls, then one tool message per call, in order.
    let m = &seen[1].messages;
    assert_eq!(m.len(), 4);
    assert!(matches!(&m[1], Message::Assistant { tool_calls, .. } if tool_calls.len() == 2));
    match (&m[2], &m[3]) {
        (Message::Tool(a), Message::Tool(b)) => {
            assert_eq!((a.call_id.as_str(), a.is_error), ("c1", false));
            assert!(a.content.contains("c::backoff"), "{}", a.content);
            assert_eq!((b.call_id.as_str(), b.is_error), ("c2", true));
            assert!(b.content.contains("no item `nope`"), "{}", b.content);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_step_bound_stops_a_model_that_keeps_calling_tools() {
    let (_tmp, db) = index();
    let retriever = Retriever::load(&db, None).unwrap();
    let tools = Toolbox::new(&db, &retriever, None);
    let looping: Vec<_> = (0..10)
        .map(|i| {
            (
                String::new(),
                vec![call(
                    &format!("c{i}"),
                    "search_code",
                    json!({"query": "retry"}),
                )],
            )
        })
        .collect();
    let model = Scripted {
        turns: Mutex::new(looping),
        seen: Mutex::new(Vec::new()),
    };
    let opts = AskOptions {
        max_steps: 3,
        ..AskOptions::default()
    };
    let out = ask(&model, &tools, "q", "ctx", &opts, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(out.steps, 3);
    assert_eq!(out.stopped_by.as_deref(), Some("step limit (3)"));
    assert!(
        model.seen.lock().unwrap()[2].tools.is_empty(),
        "the last step is offered no tools, so that it answers"
    );

    let model = Scripted {
        turns: Mutex::new(
            (0..10)
                .map(|i| {
                    (
                        String::new(),
                        vec![call(&format!("c{i}"), "search_code", json!({"query": "x"}))],
                    )
                })
                .collect(),
        ),
        seen: Mutex::new(Vec::new()),
    };
    let opts = AskOptions {
        max_tokens: 150,
        ..AskOptions::default()
    };
    let out = ask(&model, &tools, "q", "ctx", &opts, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        (out.steps, out.stopped_by.as_deref()),
        (2, Some("token limit (150)"))
    );
}

#[tokio::test]
async fn the_edit_loop_takes_create_file_and_refuses_what_the_checks_refuse() {
    let (tmp, db) = index();
    let root = tmp.path().join("c");
    let retriever = Retriever::load(&db, None).unwrap();
    let tools = Toolbox::new(&db, &retriever, None);
    let model = Scripted {
        turns: Mutex::new(vec![
            (
                String::new(),
                vec![
                    call(
                        "e1",
                        "search_replace",
                        json!({"file": "Cargo.toml", "search": "0.1.0", "replace": "0.2.0"}),
                    ),
                    call(
                        "e2",
                        "replace_item",
                        json!({"path": "backoff", "code": "fn backoff(n: u32) -> u64 { 1 } } fn extra() {"}),
                    ),
                    call(
                        "e3",
                        "create_file",
                        json!({"file": "src/net.rs", "code": "pub fn connect() {}"}),
                    ),
                    call(
                        "e4",
                        "insert_item",
                        json!({"parent": "c", "code": "pub mod net;"}),
                    ),
                ],
            ),
            ("Added the net module.".into(), vec![]),
        ]),
        seen: Mutex::new(Vec::new()),
    };
    let ctx = EditContext {
        db: &db,
        workspace_root: &root,
        allow_build_scripts: false,
    };
    let proposal = propose(
        &model,
        &tools,
        &ctx,
        "add a net module",
        "## context",
        &AskOptions::default(),
        &mut |f: &str| Err(format!("{f}: not expected to be stale")),
        &mut |_| {},
    )
    .await
    .unwrap();
    let plan = proposal.plan.unwrap();
    assert_eq!(plan.changed_files(), ["src/lib.rs", "src/net.rs"]);
    assert!(plan.files()[1].is_new());
    assert_eq!(proposal.edits.len(), 2);

    let seen = model.seen.lock().unwrap();
    let offered: Vec<&str> = seen[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert!(offered.contains(&"create_file"), "{offered:?}");
    let spec = edit_tool_specs()
        .into_iter()
        .find(|t| t.name == "create_file")
        .unwrap();
    assert!(spec.description.contains("mod "), "{}", spec.description);
    let results: Vec<(bool, &str)> = seen[1]
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool(r) => Some((r.is_error, r.content.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 4);
    assert!(
        results[0].0 && results[0].1.contains("not an indexed Rust source file"),
        "{:?}",
        results[0]
    );
    assert!(
        results[1].0 && results[1].1.contains("exactly one function"),
        "{:?}",
        results[1]
    );
    assert!(
        !results[2].0 && results[2].1.contains("edit accepted"),
        "{:?}",
        results[2]
    );
    assert!(
        !results[3].0 && results[3].1.contains("files: src/lib.rs, src/net.rs"),
        "{:?}",
        results[3]
    );
    // Nothing is written by the loop.
    assert!(!root.join("src/net.rs").exists());
}
