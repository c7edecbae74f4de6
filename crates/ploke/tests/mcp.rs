//! `ploke mcp` driven by a client no one here wrote: the official MCP Python SDK (`mcp` from
//! PyPI), installed by this test into a virtual environment under the target directory.
//! The client script (`tests/mcp_client.py`) checks exact answers of every tool on a fixture
//! workspace, that bad calls come back as errors, and that the server keeps serving.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Running, Stream};
use ploke_test_support::Project;

/// A virtual environment with the MCP SDK the client script is written against, made once
/// and reused (`<target>/tmp/mcp-venv`).
fn python_with_sdk() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| common::python_with("mcp-venv", "mcp", "2.3.0"))
        .clone()
}

/// Runs the client script in `mode` against a fresh copy of the `workspace_multi` fixture.
fn client(mode: &str) {
    let ws = Project::fixture("workspace_multi");
    run_script(&ws.root, &[mode]);
}

/// Runs the client script with `args` after the binary and the workspace.
fn run_script(ws: &Path, args: &[&str]) {
    let mode = args[0];
    let python = python_with_sdk();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_ploke"))
        .arg(ws)
        .args(args)
        .output()
        .expect("the client script runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the MCP client failed ({}):\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains(&format!("ok all {mode} checks")),
        "the script ran to its end:\n{stdout}"
    );
    assert!(
        !stderr.contains("panicked"),
        "no panic in the server:\n{stderr}"
    );
}

#[test]
fn the_official_python_client_gets_exact_answers_and_errors_it_can_read() {
    client("read");
}

#[test]
fn edits_over_mcp_are_checked_as_ploke_edit_checks_them_and_undone_byte_for_byte() {
    client("edit");
}

#[test]
fn a_second_server_on_the_same_workspace_reads_what_the_first_writes() {
    client("two");
}

#[test]
fn two_clients_share_one_http_server_and_ctrl_c_stops_it() {
    let ws = Project::fixture("workspace_multi");
    let mut server = Running::spawn(&mut common::ploke(
        &ws.root,
        &["mcp", ".", "--http", "127.0.0.1:0"],
    ));
    let (_, line) = server.wait_line(Stream::Stderr, 0, Duration::from_secs(60), |l| {
        l.contains("http://127.0.0.1:")
    });
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the line names the URL")
        .to_string();
    run_script(&ws.root, &["http", &url]);
    server.signal("INT");
    let out = server.wait(Duration::from_secs(10));
    assert_eq!(
        out.code,
        Some(0),
        "Ctrl-C stops the server cleanly\n{}",
        out.show()
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn garbage_and_wrong_types_on_the_wire_leave_the_server_serving() {
    use std::io::{BufRead, BufReader, Write};
    let ws = Project::fixture("workspace_multi");
    let mut child = common::ploke(&ws.root, &["mcp", "."])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ploke mcp starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let lines = [
        "this is not json",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"raw\",\"version\":\"0\"}}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"get_item\",\"arguments\":{\"path\":42}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"no/such/method\"}",
        "[1, 2,",
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"search_code\",\"arguments\":{\"query\":\"total area\"}}}",
    ];
    for l in lines {
        writeln!(stdin, "{l}").expect("write a line");
    }
    stdin.flush().expect("flush");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut answers = std::collections::HashMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !answers.contains_key(&4) && std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let v: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {line}"));
            if let Some(id) = v["id"].as_u64() {
                answers.insert(id, v);
            }
        }
    }
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    assert!(answers.contains_key(&1), "initialize answered: {answers:?}");
    assert_eq!(
        answers[&2]["result"]["isError"], true,
        "a wrong argument type is a tool error"
    );
    assert!(
        answers.contains_key(&4),
        "the server still answers after garbage: {answers:?}"
    );
    let text = answers[&4]["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("app::total_area"), "{text}");
    assert!(
        answers[&3].get("error").is_some(),
        "an unknown method is a protocol error: {}",
        answers[&3]
    );
}

#[test]
fn every_read_tool_answers_right_on_a_real_crate() {
    let src = ploke_test_support::registry_crate("tokio", "1.38.0");
    let ws = Project::copy_of(&src, "tokio");
    run_script(&ws.root, &["real"]);
}
