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

#[test]
fn the_official_python_client_gets_exact_answers_and_errors_it_can_read() {
    let python = python_with_sdk();
    let ws = Project::fixture("workspace_multi");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_ploke"))
        .arg(&ws.root)
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
        stdout.contains("ok the server still serves after bad calls"),
        "the script ran to its end:\n{stdout}"
    );
    assert!(
        !stderr.contains("panicked"),
        "no panic in the server:\n{stderr}"
    );
}
