//! `ploke mcp` driven by a client no one here wrote: the official MCP Python SDK (`mcp` from
//! PyPI), installed by this test into a virtual environment under the target directory.
//! The client script (`tests/mcp_client.py`) checks exact answers of every tool on a fixture
//! workspace, that bad calls come back as errors, and that the server keeps serving.

use std::path::{Path, PathBuf};
use std::process::Command;

use ploke_test_support::Project;

/// The SDK version the client script is written against.
const MCP_SDK: &str = "mcp==2.3.0";

/// A virtual environment with the MCP SDK, made once and reused (`<target>/tmp/mcp-venv`).
fn python_with_sdk() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(make_venv).clone()
}

fn make_venv() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mcp-venv");
    let python = venv.join("bin/python");
    let has_sdk = |python: &Path| {
        Command::new(python)
            .args([
                "-c",
                "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '2.3.0')",
            ])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has_sdk(&python) {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status()
        .expect("python3 runs (the MCP client test needs Python 3.10 or newer)");
    assert!(made.success(), "python3 -m venv {} failed", venv.display());
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", MCP_SDK])
        .status()
        .expect("pip runs");
    assert!(
        pip.success(),
        "pip install {MCP_SDK} into {} failed (it needs PyPI)",
        venv.display()
    );
    assert!(
        has_sdk(&python),
        "{MCP_SDK} is importable after installing it"
    );
    python
}

/// Runs the client script in `mode` against a fresh copy of the `workspace_multi` fixture.
fn client(mode: &str) {
    let python = python_with_sdk();
    let ws = Project::fixture("workspace_multi");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_ploke"))
        .arg(&ws.root)
        .arg(mode)
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
