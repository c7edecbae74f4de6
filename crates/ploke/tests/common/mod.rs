//! Helpers for the tests that run the `ploke` binary as a user would: a clean environment,
//! runs with a time limit, small crates written into temp directories. (The loopback model
//! server is `ploke_test_support::http`.)

// Each test file that includes this module uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Removes from `cmd` every variable ploke reads (and its log filter), so that nothing from
/// whoever runs the tests shapes the run. `HOME` stays: cargo needs it.
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    for v in ploke_session::settings::VARIABLES {
        if *v != "HOME" {
            cmd.env_remove(v);
        }
    }
    cmd.env_remove("PLOKE_LOG")
}

/// `ploke` run in `dir` with a clean environment: embeddings off, no user config, no keys.
/// Add `.env(...)` to set what a test needs.
pub fn ploke(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ploke"));
    cmd.args(args).current_dir(dir);
    clean_env(&mut cmd);
    cmd.env("PLOKE_EMBED", "off")
        .env("PLOKE_CONFIG_DIR", dir.join("no-user-config"))
        .stdin(Stdio::null());
    cmd
}

/// What a finished run left.
#[derive(Debug, Clone)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Stdout and stderr, for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// How long any one run of the binary may take before the test fails (a hang is a failure,
/// not a stuck test suite).
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Runs `cmd` to the end (at most `RUN_LIMIT`), capturing stdout and stderr.
#[track_caller]
pub fn run(cmd: &mut Command) -> Out {
    run_for(cmd, RUN_LIMIT)
}

/// [`run`] with another time limit.
#[track_caller]
pub fn run_for(cmd: &mut Command, limit: Duration) -> Out {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("running the ploke binary");
    finish(child, limit, &format!("{cmd:?}"))
}

/// Waits for a spawned child (stdout and stderr piped), killing it after `limit`.
#[track_caller]
pub fn finish(mut child: Child, limit: Duration, what: &str) -> Out {
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for ploke") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!("{what} ran longer than {limit:?} (killed)\n--- stderr\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Out {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Runs and expects exit code 0; returns the output.
#[track_caller]
pub fn ok(cmd: &mut Command) -> Out {
    let out = run(cmd);
    assert!(out.ok(), "{cmd:?} failed:\n{}", out.show());
    out
}

/// Writes `files` (relative path, text) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Replaces `path` with `text` the way editors save: a temp file beside it renamed over it,
/// so a reader sees the old bytes or the new ones, never a half-written file.
pub fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("ploke-test-tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A one-package workspace named `name` in `dir` with `files` (besides the manifest).
pub fn krate(dir: &Path, name: &str, files: &[(&str, &str)]) {
    write_files(
        dir,
        &[(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n"
            ),
        )],
    );
    write_files(dir, files);
}

/// A temp directory whose name has no leading dot (the file walk skips hidden directories).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ploke-hard-")
        .tempdir()
        .unwrap()
}

/// Every file under `dir`, recursively (symbolic links not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => out.push(e.path()),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// 1-based lines `start..=end` of `text`.
pub fn lines(text: &str, start: u64, end: u64) -> String {
    text.lines()
        .skip(start.saturating_sub(1) as usize)
        .take((end + 1).saturating_sub(start) as usize)
        .collect::<Vec<_>>()
        .join("\n")
}

/// No panic in what a run printed.
#[track_caller]
pub fn no_panic(out: &Out) {
    assert!(
        !out.stderr.contains("panicked") && !out.stdout.contains("panicked"),
        "a panic:\n{}",
        out.show()
    );
}

/// Exit code 2 (an error), exactly one line on stderr starting `error: `, no panic; returns
/// the line.
#[track_caller]
pub fn one_error_line(out: &Out) -> String {
    no_panic(out);
    assert_eq!(out.code, Some(2), "{}", out.show());
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr:\n{}", out.show());
    assert!(lines[0].starts_with("error: "), "{}", out.show());
    lines[0].to_string()
}

/// A JSON document of ploke, parsed; its `"schema"` must be 1. A search's `results` and an
/// item lookup's `items` are returned bare (the payload the assertions are about); other
/// documents whole.
pub fn json(s: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"));
    assert_eq!(
        v["schema"], 1,
        "every JSON document has the schema version: {s}"
    );
    payload(v)
}

/// The results of a search document, the items of an item document, else `v` itself.
pub fn payload(v: serde_json::Value) -> serde_json::Value {
    if v.get("target").is_some() && v.get("items").is_some() {
        return v["items"].clone();
    }
    match v.get("results") {
        Some(r) if v.get("id").is_none() => r.clone(),
        _ => v,
    }
}

/// A JSON document of ploke as printed (envelope and all).
pub fn doc(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

// ---------------------------------------------------------------------------------------
// A process that keeps running (`ploke watch`), its output read line by line as it comes.

/// Which output of a [`Running`] process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// The lines a reader thread has collected, and whether it reached the end of the stream.
#[derive(Default)]
struct Collected {
    lines: Vec<String>,
    done: bool,
}

/// A spawned process whose stdout and stderr are collected line by line while it runs (for a
/// test that waits for what it prints, signals it, or kills it). Dropped while still running,
/// it is killed, so that a failing test leaves no process behind.
pub struct Running {
    child: Child,
    what: String,
    out: [Arc<Mutex<Collected>>; 2],
    readers: Vec<std::thread::JoinHandle<()>>,
    status: Option<std::process::ExitStatus>,
}

impl Running {
    /// Spawns `cmd` with stdout and stderr piped.
    #[track_caller]
    pub fn spawn(cmd: &mut Command) -> Running {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let what = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {what}: {e}"));
        let out = [
            Arc::new(Mutex::new(Collected::default())),
            Arc::new(Mutex::new(Collected::default())),
        ];
        let collect = |r: Box<dyn Read + Send>, into: Arc<Mutex<Collected>>| {
            std::thread::spawn(move || {
                let mut r = BufReader::new(r);
                loop {
                    let mut buf = Vec::new();
                    match r.read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&buf);
                            let line = line.strip_suffix('\n').unwrap_or(&line);
                            into.lock().unwrap().lines.push(line.to_string());
                        }
                    }
                }
                into.lock().unwrap().done = true;
            })
        };
        let readers = vec![
            collect(Box::new(child.stdout.take().unwrap()), out[0].clone()),
            collect(Box::new(child.stderr.take().unwrap()), out[1].clone()),
        ];
        Running {
            child,
            what,
            out,
            readers,
            status: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn collected(&self, s: Stream) -> &Mutex<Collected> {
        match s {
            Stream::Stdout => &self.out[0],
            Stream::Stderr => &self.out[1],
        }
    }

    /// The lines of `s` so far.
    pub fn lines(&self, s: Stream) -> Vec<String> {
        self.collected(s).lock().unwrap().lines.clone()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("polling the process");
        }
        self.status.is_none()
    }

    /// Everything printed so far, for assertion messages.
    pub fn show(&mut self) -> String {
        let status = if self.running() {
            "still running".to_string()
        } else {
            format!("exited: {:?}", self.status)
        };
        format!(
            "{} ({status})\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.lines(Stream::Stdout).join("\n"),
            self.lines(Stream::Stderr).join("\n")
        )
    }

    /// Waits at most `limit` for a line of `s`, after its first `from` lines, that `want`
    /// accepts; returns its index and text. Fails when the time is up or when the stream
    /// ended without one.
    #[track_caller]
    pub fn wait_line(
        &mut self,
        s: Stream,
        from: usize,
        limit: Duration,
        want: impl Fn(&str) -> bool,
    ) -> (usize, String) {
        let start = Instant::now();
        loop {
            let done = {
                let c = self.collected(s).lock().unwrap();
                if let Some((i, l)) = c.lines.iter().enumerate().skip(from).find(|(_, l)| want(l)) {
                    return (i, l.clone());
                }
                c.done
            };
            if done {
                panic!("{s:?} ended without the line waited for\n{}", self.show());
            }
            if start.elapsed() > limit {
                panic!("no such line on {s:?} within {limit:?}\n{}", self.show());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends the signal `sig` (a name `kill` knows: `INT`, `TERM`, ...).
    #[track_caller]
    pub fn signal(&mut self, sig: &str) {
        assert!(self.running(), "signal {sig}: not running\n{}", self.show());
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("running kill");
        assert!(st.success(), "kill -{sig} {} failed", self.pid());
    }

    /// Waits at most `limit` for the process to exit (else kills it and fails); returns all
    /// it printed.
    #[track_caller]
    pub fn wait(&mut self, limit: Duration) -> Out {
        let start = Instant::now();
        while self.running() {
            if start.elapsed() > limit {
                let shown = self.show();
                let _ = self.child.kill();
                panic!("did not exit within {limit:?} (killed)\n{shown}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.reaped()
    }

    /// Kills the process (SIGKILL on Unix) and returns all it printed.
    pub fn kill(&mut self) -> Out {
        if self.running() {
            let _ = self.child.kill();
            self.status = Some(self.child.wait().expect("waiting for the killed process"));
        }
        self.reaped()
    }

    /// The output of the exited process, once its readers reached the ends of its streams.
    fn reaped(&mut self) -> Out {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Out {
            code: self.status.and_then(|s| s.code()),
            stdout: self.lines(Stream::Stdout).join("\n"),
            stderr: self.lines(Stream::Stderr).join("\n"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Protocol clients no one here wrote, from PyPI.

/// The Python of a virtual environment `<target>/tmp/<name>` holding `dist==version` from
/// PyPI, made by this test when missing (and reused after), for a client library that drives
/// a server of ploke (the MCP SDK, pygls).
pub fn python_with(name: &str, dist: &str, version: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python");
    let has = |python: &Path| {
        Command::new(python)
            .args([
                "-c",
                &format!(
                    "import importlib.metadata as m, sys; sys.exit(m.version('{dist}') != '{version}')"
                ),
            ])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has(&python) {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status()
        .expect("python3 runs (the protocol client tests need Python 3.10 or newer)");
    assert!(made.success(), "python3 -m venv {} failed", venv.display());
    let spec = format!("{dist}=={version}");
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", &spec])
        .status()
        .expect("pip runs");
    assert!(
        pip.success(),
        "pip install {spec} into {} failed (it needs PyPI)",
        venv.display()
    );
    assert!(has(&python), "{spec} is importable after installing it");
    python
}
