//! `ploke lsp` driven by a language client no one here wrote: pygls (PyPI), installed by this
//! test into a virtual environment under the target directory. The client script
//! (`tests/lsp_client.py`) checks exact answers of every feature on a workspace this test
//! writes, the protocol's errors, and shutdown/exit.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The client library the script is written against.
const PYGLS: &str = "pygls==1.3.1";

fn make_venv() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lsp-venv");
    let python = venv.join("bin/python");
    let has_client = |python: &Path| {
        Command::new(python)
            .args([
                "-c",
                "import importlib.metadata as m, sys; sys.exit(m.version('pygls') != '1.3.1')",
            ])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has_client(&python) {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status()
        .expect("python3 runs (the LSP client test needs Python 3.9 or newer)");
    assert!(made.success(), "python3 -m venv {} failed", venv.display());
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", PYGLS])
        .status()
        .expect("pip runs");
    assert!(
        pip.success(),
        "pip install {PYGLS} into {} failed (it needs PyPI)",
        venv.display()
    );
    assert!(
        has_client(&python),
        "{PYGLS} is importable after installing it"
    );
    python
}

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
fn pygls_client_gets_symbols_hover_references_calls_and_lenses() {
    let dir = common::tempdir();
    common::krate(dir.path(), "lspws", &[("src/lib.rs", LIB)]);
    common::ok(&mut common::ploke(dir.path(), &["index"]));
    let python = make_venv();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp_client.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .arg(env!("CARGO_BIN_EXE_ploke"))
        .arg(dir.path());
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
