//! `ploke ask`, `ploke edit` and `ploke undo` against a loopback OpenAI-compatible server
//! that answers with scripted chat completions (plain JSON bodies, as servers that ignore
//! `stream` send them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

const LIB: &str = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    100 * backoff(attempt)\n}\n\nfn backoff(n: u32) -> u64 {\n    1 << n\n}\n";

fn krate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"askt\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), LIB).unwrap();
}

fn ploke(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ploke"));
    cmd.args(args)
        .current_dir(dir)
        .env("PLOKE_EMBED", "off")
        .env("PLOKE_API_KEY", "sk-test-secret");
    for v in [
        "PLOKE_PROVIDER",
        "PLOKE_MODEL",
        "PLOKE_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "PLOKE_LOG",
    ] {
        cmd.env_remove(v);
    }
    cmd.output().unwrap()
}

/// Serves `bodies` in order, one per connection; returns the base URL and the request bodies seen.
fn server(bodies: Vec<serde_json::Value>) -> (String, Arc<Mutex<Vec<String>>>) {
    server_with(bodies, None)
}

/// [`server`] that runs `before_last` just before it answers the last request.
fn server_with(
    bodies: Vec<serde_json::Value>,
    mut before_last: Option<Box<dyn FnMut() + Send>>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let n = bodies.len();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (i, body) in bodies.into_iter().enumerate() {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut req = vec![0; len];
            reader.read_exact(&mut req).unwrap();
            log.lock().unwrap().push(String::from_utf8(req).unwrap());
            if i + 1 == n {
                if let Some(f) = before_last.as_mut() {
                    f();
                }
            }
            let text = body.to_string();
            let mut s = stream;
            write!(s, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}", text.len()).unwrap();
        }
    });
    (url, seen)
}

fn completion(content: Option<&str>, calls: serde_json::Value) -> serde_json::Value {
    let finish = if calls.as_array().is_some_and(|c| !c.is_empty()) {
        "tool_calls"
    } else {
        "stop"
    };
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "tool_calls": calls}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57}
    })
}

#[test]
fn edit_applies_a_validated_edit_and_undo_restores_the_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("askt");
    krate(&dir);
    assert!(ploke(&dir, &["index"]).status.success());
    let new_fn = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff(attempt)\n}";
    let (url, seen) = server(vec![
        completion(
            None,
            serde_json::json!([{"id": "call_1", "type": "function", "function": {"name": "replace_item", "arguments": serde_json::json!({"path": "retry_delay", "code": "pub fn retry_delay( {"}).to_string()}}]),
        ),
        completion(
            None,
            serde_json::json!([{"id": "call_2", "type": "function", "function": {"name": "replace_item", "arguments": serde_json::json!({"path": "retry_delay", "code": new_fn}).to_string()}}]),
        ),
        completion(
            Some("Raised the base delay to 250 ms."),
            serde_json::json!([]),
        ),
    ]);
    let out = ploke(
        &dir,
        &[
            "edit",
            "make the base retry delay 250 ms",
            "--base-url",
            &url,
            "--model",
            "test",
            "--yes",
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("-    100 * backoff(attempt)\n+    250 * backoff(attempt)"),
        "{stdout}"
    );
    assert!(stdout.contains("applied edit #"), "{stdout}");
    let want = LIB.replace("100 * backoff", "250 * backoff");
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        want
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let first: serde_json::Value = serde_json::from_str(&seen[0]).unwrap();
    let tools: Vec<_> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        tools.contains(&"replace_item".to_string()) && tools.contains(&"search_code".to_string()),
        "{tools:?}"
    );
    assert!(!seen[0].contains("sk-test-secret"));
    // The broken edit was refused with the reason, and nothing was written for it.
    assert!(
        seen[1].contains("edit refused") && seen[1].contains("src/lib.rs"),
        "{}",
        seen[1]
    );
    assert!(seen[2].contains("ok: edit accepted"), "{}", seen[2]);

    let out = ploke(&dir, &["undo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        LIB,
        "byte for byte"
    );
    let out = ploke(&dir, &["undo"]);
    assert!(!out.status.success(), "nothing left to undo");
}

#[test]
fn ask_streams_the_answer_and_lists_what_it_cites() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("askt");
    krate(&dir);
    assert!(ploke(&dir, &["index"]).status.success());
    let (url, seen) = server(vec![
        completion(
            None,
            serde_json::json!([{"id": "c1", "type": "function", "function": {"name": "get_callees", "arguments": "{\"path\":\"retry_delay\"}"}}]),
        ),
        completion(
            Some("It is 100 ms times `askt::backoff` (src/lib.rs:6)."),
            serde_json::json!([]),
        ),
    ]);
    let out = ploke(
        &dir,
        &[
            "ask",
            "how is the retry delay computed?",
            "--base-url",
            &url,
            "--model",
            "test",
            "-v",
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("It is 100 ms times `askt::backoff` (src/lib.rs:6)."),
        "{stdout}"
    );
    assert!(
        stdout.contains("cited:\n  askt::backoff — src/lib.rs:6-8"),
        "{stdout}"
    );
    assert!(stderr.contains("[tool] get_callees"), "{stderr}");
    let seen = seen.lock().unwrap();
    assert!(
        seen[0].contains("Request: how is the retry delay computed?")
            && seen[0].contains("pub fn retry_delay"),
        "context pack sent"
    );
    assert!(
        seen[1].contains("askt::backoff"),
        "the tool's answer went back: {}",
        seen[1]
    );
}

#[test]
fn an_unreachable_server_is_one_line_naming_the_url_and_ploke_context() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("askt");
    krate(&dir);
    assert!(ploke(&dir, &["index"]).status.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let out = ploke(
        &dir,
        &["ask", "anything", "--base-url", &url, "--model", "m"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")) && stderr.contains("ploke context"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let out = ploke(&dir, &["edit", "x", "--provider", "local"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a model that calls tools"));
}

#[test]
fn check_feeds_cargo_errors_back_until_the_model_repairs_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("askt");
    krate(&dir);
    assert!(ploke(&dir, &["index"]).status.success());
    let bad = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250u8 * backoff(attempt)\n}";
    let good = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff(attempt)\n}";
    let replace = |id: &str, code: &str| {
        completion(
            None,
            serde_json::json!([{"id": id, "type": "function", "function": {"name": "replace_item", "arguments": serde_json::json!({"path": "askt::retry_delay", "code": code}).to_string()}}]),
        )
    };
    let (url, seen) = server(vec![
        replace("a", bad),
        completion(Some("Done."), serde_json::json!([])),
        replace("b", good),
        completion(Some("Fixed the type."), serde_json::json!([])),
    ]);
    // The user config directory supplies the provider settings.
    let cfg = tmp.path().join("cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("ploke.toml"),
        format!("[llm]\nprovider = \"openai\"\nmodel = \"test\"\nbase_url = \"{url}\"\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ploke"))
        .args([
            "edit",
            "make the base retry delay 250 ms",
            "--yes",
            "--check",
        ])
        .current_dir(&dir)
        .env("PLOKE_EMBED", "off")
        .env("PLOKE_API_KEY", "k")
        .env("PLOKE_CONFIG_DIR", &cfg)
        .env("CARGO_TARGET_DIR", tmp.path().join("target"))
        .env_remove("PLOKE_BASE_URL")
        .env_remove("PLOKE_MODEL")
        .env_remove("PLOKE_PROVIDER")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("cargo check failed; repair round 1 of 2"),
        "{stderr}"
    );
    assert!(stdout.contains("cargo check: ok"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        LIB.replace("100 * backoff", "250 * backoff")
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    assert!(
        seen[2].contains("cargo check") && seen[2].contains("mismatched types"),
        "compiler errors went back: {}",
        &seen[2][..seen[2].len().min(2000)]
    );
    // Two edits, two journal entries: undo twice returns to the original.
    assert!(ploke(&dir, &["undo"]).status.success());
    assert!(ploke(&dir, &["undo"]).status.success());
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        LIB
    );
}

#[test]
fn a_file_changed_while_the_model_works_is_reindexed_and_the_edit_resolved_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("askt");
    krate(&dir);
    assert!(ploke(&dir, &["index"]).status.success());
    let new_fn = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff(attempt)\n}";
    let lib = dir.join("src/lib.rs");
    let touched = lib.clone();
    let (url, _seen) = server_with(
        vec![
            completion(
                None,
                serde_json::json!([{"id": "a", "type": "function", "function": {"name": "replace_item", "arguments": serde_json::json!({"path": "retry_delay", "code": new_fn}).to_string()}}]),
            ),
            completion(Some("Done."), serde_json::json!([])),
        ],
        // Someone edits the file above the item after ploke validated the edit.
        Some(Box::new(move || {
            let text = std::fs::read_to_string(&touched).unwrap();
            std::fs::write(&touched, format!("//! Retry policy.\n\n{text}")).unwrap();
        })),
    );
    let out = ploke(
        &dir,
        &[
            "edit",
            "make it 250",
            "--base-url",
            &url,
            "--model",
            "test",
            "--yes",
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("src/lib.rs changed since it was indexed"),
        "{stderr}"
    );
    let want = format!(
        "//! Retry policy.\n\n{}",
        LIB.replace("100 * backoff", "250 * backoff")
    );
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        want,
        "the other change is kept, the edit lands on the new text"
    );
}
