//! `ploke ask`, `ploke edit` and `ploke undo` against a loopback OpenAI-compatible server
//! that answers with scripted chat completions (plain JSON bodies, as servers that ignore
//! `stream` send them).

use std::path::Path;
use std::process::Command;

use ploke_test_support::http::{closed_port, Response, Server};
use ploke_test_support::openai::{completion, tool_call};
use serde_json::{json, Value};

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

/// A model server answering the `n`-th request with the chat completion `bodies[n]`.
fn server(bodies: Vec<Value>) -> Server {
    Server::script(
        bodies
            .iter()
            .map(|b| Response::json(200, b))
            .collect::<Vec<_>>(),
    )
}

/// The bodies of the requests `server` received.
fn bodies(server: &Server) -> Vec<String> {
    server.requests().iter().map(|r| r.text()).collect()
}

#[test]
fn edit_applies_a_validated_edit_and_undo_restores_the_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("askt");
    krate(&dir);
    assert!(ploke(&dir, &["index"]).status.success());
    let new_fn = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff(attempt)\n}";
    let model = server(vec![
        completion(
            None,
            vec![tool_call(
                "call_1",
                "replace_item",
                json!({"path": "retry_delay", "code": "pub fn retry_delay( {"}),
            )],
        ),
        completion(
            None,
            vec![tool_call(
                "call_2",
                "replace_item",
                json!({"path": "retry_delay", "code": new_fn}),
            )],
        ),
        completion(Some("Raised the base delay to 250 ms."), vec![]),
    ]);
    let url = model.url_at("/v1");
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

    let seen = bodies(&model);
    assert_eq!(seen.len(), 3);
    let first: Value = serde_json::from_str(&seen[0]).unwrap();
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
    let model = server(vec![
        completion(
            None,
            vec![tool_call(
                "c1",
                "get_callees",
                json!({"path": "retry_delay"}),
            )],
        ),
        completion(
            Some("It is 100 ms times `askt::backoff` (src/lib.rs:6)."),
            vec![],
        ),
    ]);
    let url = model.url_at("/v1");
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
        stdout.contains("cited:\n  askt::backoff  src/lib.rs:6:1\n"),
        "{stdout}"
    );
    assert!(stderr.contains("[tool] get_callees"), "{stderr}");
    let seen = bodies(&model);
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
    let port = closed_port().port();
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
            vec![tool_call(
                id,
                "replace_item",
                json!({"path": "askt::retry_delay", "code": code}),
            )],
        )
    };
    let model = server(vec![
        replace("a", bad),
        completion(Some("Done."), vec![]),
        replace("b", good),
        completion(Some("Fixed the type."), vec![]),
    ]);
    let url = model.url_at("/v1");
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
    let seen = bodies(&model);
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
fn check_then_test_runs_only_the_tests_that_reach_the_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("askt");
    krate(&dir);
    // Two tests reach `retry_delay`; the edit breaks one. A third reaches nothing edited.
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("tests/delay.rs"),
        "#[test]\nfn grows() {\n    assert!(askt::retry_delay(2) > askt::retry_delay(1));\n}\n\n#[test]\nfn base_is_100() {\n    assert_eq!(askt::retry_delay(0), 100);\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("tests/other.rs"),
        "#[test]\nfn unrelated() {\n    assert_eq!(1 + 1, 2);\n}\n",
    )
    .unwrap();
    assert!(ploke(&dir, &["index"]).status.success());
    let good = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff(attempt)\n}";
    let model = server(vec![
        completion(
            None,
            vec![tool_call(
                "a",
                "replace_item",
                json!({"path": "askt::retry_delay", "code": good}),
            )],
        ),
        completion(Some("Raised the base delay."), vec![]),
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_ploke"))
        .args([
            "edit",
            "make the base retry delay 250 ms",
            "--yes",
            "--check",
            "--test",
            "--provider",
            "openai",
            "--model",
            "test",
            "--base-url",
            &model.url_at("/v1"),
        ])
        .current_dir(&dir)
        .env("PLOKE_EMBED", "off")
        .env("PLOKE_API_KEY", "k")
        .env("PLOKE_CONFIG_DIR", tmp.path().join("no-config"))
        .env("CARGO_TARGET_DIR", tmp.path().join("target"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stdout.contains("cargo check: ok"), "{stdout}");
    assert!(
        stdout.contains("running the 2 tests the edit reaches:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cargo test -p askt --test delay -- --exact grows base_is_100")
            || stdout.contains("cargo test -p askt --test delay -- --exact base_is_100 grows"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("unrelated"),
        "only the tests that reach it: {stdout}"
    );
    assert!(stdout.contains("1 passed; 1 failed"), "{stdout}");
    let last = stderr.trim().lines().last().unwrap_or_default();
    assert!(
        last.contains("1 test failed after the edit (base_is_100)") && last.contains("ploke undo"),
        "{stderr}"
    );
    // The edit stays applied; undo reverts it.
    assert!(std::fs::read_to_string(dir.join("src/lib.rs"))
        .unwrap()
        .contains("250 * backoff"));
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
    let model = Server::start(move |n, _| match n {
        0 => Response::json(
            200,
            &completion(
                None,
                vec![tool_call(
                    "a",
                    "replace_item",
                    json!({"path": "retry_delay", "code": new_fn}),
                )],
            ),
        ),
        1 => {
            // Someone edits the file above the item after ploke validated the edit.
            let text = std::fs::read_to_string(&touched).unwrap();
            std::fs::write(&touched, format!("//! Retry policy.\n\n{text}")).unwrap();
            Response::json(200, &completion(Some("Done."), vec![]))
        }
        _ => Response::raw_json(418, r#"{"error":{"message":"no reply scripted"}}"#),
    });
    let url = model.url_at("/v1");
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
