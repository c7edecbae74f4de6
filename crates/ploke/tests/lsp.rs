//! `ploke lsp` driven by a language client no one here wrote: pygls (PyPI), installed by this
//! test into a virtual environment under the target directory. The client script
//! (`tests/lsp_client.py`) checks exact answers of every feature on a workspace this test
//! writes, the protocol's errors, and shutdown/exit.

mod common;

use std::path::Path;
use std::process::Command;

const LIB: &str = "//! Retries.

/// Waits before trying the request again.
pub fn retry_delay(attempt: u32) -> u64 {
    100 * backoff(attempt)
}

/// Doubles with each attempt.
fn backoff(n: u32) -> u64 {
    1 << n
}

pub trait Policy {
    fn delay(&self) -> u64;
}

pub struct Fixed;

impl Policy for Fixed {
    fn delay(&self) -> u64 {
        retry_delay(1)
    }
}
";

#[test]
fn pygls_client_gets_symbols_hover_references_calls_lenses_and_model_actions() {
    use ploke_test_support::http::{Response, Server};
    use ploke_test_support::openai::{completion, tool_call};
    let dir = common::tempdir();
    common::krate(dir.path(), "lspws", &[("src/lib.rs", LIB)]);
    common::ok(&mut common::ploke(dir.path(), &["index"]));
    // The model: an answer for "Ask", then a replace_item call and a summary for "Edit".
    let new_fn = "/// Waits before trying the request again.\npub fn retry_delay(attempt: u32) -> u64 {\n    250 * backoff(attempt)\n}";
    let model = Server::script(
        [
            completion(Some("It waits 100 ms times `backoff(attempt)`."), vec![]),
            completion(
                None,
                vec![tool_call(
                    "call_1",
                    "replace_item",
                    serde_json::json!({"path": "retry_delay", "code": new_fn}),
                )],
            ),
            completion(Some("Raised the base delay to 250 ms."), vec![]),
        ]
        .iter()
        .map(|b| Response::json(200, b))
        .collect::<Vec<_>>(),
    );
    // The client library the script is written against.
    let python = common::python_with("lsp-venv", "pygls", "1.3.1");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp_client.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .arg(env!("CARGO_BIN_EXE_ploke"))
        .arg(dir.path());
    common::clean_env(&mut cmd);
    cmd.env("PLOKE_EMBED", "off")
        .env("PLOKE_CONFIG_DIR", dir.path().join("no-user-config"))
        .env("PLOKE_PROVIDER", "openai")
        .env("PLOKE_BASE_URL", model.url_at("/v1"))
        .env("PLOKE_MODEL", "test")
        .env("PLOKE_API_KEY", "sk-test");
    let out = common::run(&mut cmd);
    assert!(
        out.ok() && out.stdout.trim_end().ends_with("ok"),
        "the LSP client script failed:\n{}",
        out.show()
    );
}

#[test]
fn pygls_client_sees_the_tests_that_reach_a_function_in_its_lens() {
    let dir = common::tempdir();
    common::krate(
        dir.path(),
        "lensws",
        &[(
            "src/lib.rs",
            "pub fn retry_delay(attempt: u32) -> u64 {\n    100 * backoff(attempt)\n}\n\nfn backoff(n: u32) -> u64 {\n    1 << n\n}\n\npub fn untested() -> u32 {\n    1\n}\n",
        )],
    );
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("tests/delays.rs"),
        "#[test]\nfn grows() {\n    assert!(lensws::retry_delay(2) > lensws::retry_delay(1));\n}\n\n#[test]\nfn starts_at_100() {\n    assert_eq!(lensws::retry_delay(0), 100);\n}\n",
    )
    .unwrap();
    common::ok(&mut common::ploke(dir.path(), &["index"]));
    let python = common::python_with("lsp-venv", "pygls", "1.3.1");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp_client.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .arg(env!("CARGO_BIN_EXE_ploke"))
        .arg(dir.path())
        .arg("lenses");
    common::clean_env(&mut cmd);
    cmd.env("PLOKE_EMBED", "off")
        .env("PLOKE_CONFIG_DIR", dir.path().join("no-user-config"));
    let out = common::run(&mut cmd);
    assert!(
        out.ok() && out.stdout.trim_end().ends_with("ok"),
        "the LSP client script failed:\n{}",
        out.show()
    );
}

/// A `ploke lsp` process spoken to frame by frame.
struct Raw {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
}

impl Raw {
    fn send_body(&mut self, body: &str) {
        use std::io::Write;
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.input.flush().unwrap();
    }

    fn send(&mut self, v: serde_json::Value) {
        self.send_body(&v.to_string());
    }

    /// The next frame from the server.
    fn frame(&mut self) -> serde_json::Value {
        use std::io::{BufRead, Read};
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            assert!(
                self.output.read_line(&mut line).unwrap() > 0,
                "the server ended"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse().unwrap();
            }
        }
        let mut body = vec![0u8; length];
        self.output.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// The next response (server notifications and requests in between are skipped).
    fn response(&mut self) -> serde_json::Value {
        loop {
            let f = self.frame();
            if f.get("method").is_none() {
                return f;
            }
        }
    }
}

#[test]
fn malformed_frames_unknown_methods_bad_params_and_odd_positions_leave_the_server_serving() {
    use serde_json::json;
    use std::process::Stdio;
    let dir = common::tempdir();
    common::krate(dir.path(), "lspws", &[("src/lib.rs", LIB)]);
    common::ok(&mut common::ploke(dir.path(), &["index"]));
    let mut child = common::ploke(dir.path(), &["lsp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A hang is a failure, not a stuck suite: the server is killed after two minutes (reads
    // then end and the test fails).
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        let _ = Command::new("kill").arg(&pid).status();
    });
    let mut s = Raw {
        input: child.stdin.take().unwrap(),
        output: std::io::BufReader::new(child.stdout.take().unwrap()),
        child,
    };
    // Not JSON, and JSON that is no message.
    s.send_body("not json!");
    let r = s.response();
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(null), json!(-32700)),
        "{r}"
    );
    s.send_body("[1, 2]");
    assert_eq!(s.response()["error"]["code"], -32600);
    // Before initialize.
    s.send(json!({"jsonrpc": "2.0", "id": 1, "method": "workspace/symbol", "params": {"query": "retry"}}));
    let r = s.response();
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(1), json!(-32002)),
        "{r}"
    );
    s.send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"capabilities": {}}}),
    );
    let r = s.response();
    assert_eq!(r["id"], 2);
    assert_eq!(r["result"]["serverInfo"]["name"], "ploke", "{r}");
    // No `initialized` notification: the server answers anyway.
    s.send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "workspace/symbol", "params": {"query": 5}}),
    );
    let r = s.response();
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(3), json!(-32602)),
        "{r}"
    );
    let uri = format!(
        "file://{}",
        dir.path()
            .canonicalize()
            .unwrap()
            .join("src/lib.rs")
            .display()
    );
    for (id, uri, line) in [(4, uri.as_str(), 99_999), (5, "untitled:Untitled-1", 3)] {
        s.send(
            json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": 0}}}),
        );
        let r = s.response();
        assert_eq!(
            (r["id"].clone(), r["result"].clone()),
            (json!(id), json!(null)),
            "{r}"
        );
    }
    s.send(json!({"jsonrpc": "2.0", "id": 6, "method": "ploke/unknown", "params": {}}));
    assert_eq!(s.response()["error"]["code"], -32601);
    // Still serving.
    s.send(json!({"jsonrpc": "2.0", "id": 7, "method": "workspace/symbol", "params": {"query": "backoff"}}));
    let r = s.response();
    assert_eq!(r["result"][0]["name"], "backoff", "{r}");
    s.send(json!({"jsonrpc": "2.0", "id": 8, "method": "shutdown"}));
    assert_eq!(s.response()["id"], 8);
    s.send(json!({"jsonrpc": "2.0", "method": "exit"}));
    let status = common::finish(s.child, std::time::Duration::from_secs(30), "ploke lsp");
    assert_eq!(status.code, Some(0), "{}", status.show());
}
