//! `ploke search` (hybrid, lexical, vector) and `ploke context`, run the way a user runs them:
//! in a temp directory holding a small crate written by the test.
//!
//! The tests that embed run the real all-MiniLM-L6-v2 from `target/models/` (put there by
//! `scripts/fetch-models.sh`, which the README's test command runs first); without the model
//! they fail and say how to fetch it. The others turn embeddings off (`PLOKE_EMBED=off`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::json;
use ploke_test_support::{models, Project};
use serde_json::Value;

const CARGO_TOML: &str = "[package]\nname = \"netkit\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

const LIB_RS: &str = "//! Network helpers.

pub mod retry;

/// Parses a TCP port number from text.
pub fn parse_port(text: &str) -> Option<u16> {
    text.trim().parse().ok()
}

/// Renders a table of names and sizes as aligned columns.
pub fn render_table(rows: &[(String, u64)]) -> String {
    rows.iter().map(|(n, s)| format!(\"{n:<20}{s:>10}\\n\")).collect()
}
";

const RETRY_RS: &str = "//! Retrying failed requests.

/// Waits before trying the request again: the delay grows with each attempt.
pub fn retry_delay(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_millis(backoff_millis(attempt))
}

fn backoff_millis(attempt: u32) -> u64 {
    100 * 2u64.pow(attempt.min(6))
}

/// Whether an HTTP status code is worth another try.
pub fn is_retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

/// A user account.
pub struct Account {
    pub name: String,
    pub email: String,
}

impl Account {
    /// Whether the email address has an at sign.
    pub fn email_is_valid(&self) -> bool {
        self.email.contains('@')
    }
}
";

struct Ws {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn workspace() -> Ws {
    let p = Project::with_files(
        "netkit",
        &[
            ("Cargo.toml", CARGO_TOML),
            ("src/lib.rs", LIB_RS),
            ("src/retry.rs", RETRY_RS),
        ],
    );
    Ws {
        _tmp: p.tmp,
        root: p.root,
    }
}

/// How the embedding stage is configured for a run.
#[derive(Clone, Copy)]
enum Embed<'a> {
    Off,
    Model(&'a Path),
}

impl Ws {
    fn run(&self, embed: Embed, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ploke"));
        cmd.args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Nothing from the caller's environment shapes the run.
        common::clean_env(&mut cmd);
        match embed {
            Embed::Off => cmd.env("PLOKE_EMBED", "off"),
            Embed::Model(dir) => cmd.env("PLOKE_EMBED_DIR", dir),
        };
        cmd.output().expect("running the ploke binary")
    }

    /// Expect success; returns stdout.
    #[track_caller]
    fn ok(&self, embed: Embed, args: &[&str]) -> String {
        let out = self.run(embed, args);
        let (stdout, stderr) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        assert!(
            out.status.success(),
            "ploke {args:?} failed ({:?}):\n{stderr}\n{stdout}",
            out.status
        );
        stdout
    }

    /// Expect exit code 1, one line on stderr starting `error: `, nothing on stdout; returns
    /// stderr.
    #[track_caller]
    fn fails(&self, embed: Embed, args: &[&str]) -> String {
        let out = self.run(embed, args);
        let (stdout, stderr) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "ploke {args:?} should fail:\n{stderr}\n{stdout}"
        );
        assert_eq!(stderr.lines().count(), 1, "one line of error: {stderr:?}");
        assert!(stderr.starts_with("error: "), "{stderr:?}");
        assert!(stdout.is_empty(), "nothing on stdout: {stdout:?}");
        stderr
    }

    /// Lines `start..=end` (1-based) of a file of the crate, as they are on disk.
    fn lines(&self, file: &str, start: u64, end: u64) -> String {
        let text = std::fs::read_to_string(self.root.join(file)).unwrap();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        lines[start as usize - 1..end as usize].concat()
    }
}

/// The `path` of each result of `ploke search --json`.
fn paths(results: &Value) -> Vec<&str> {
    results
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {results}"))
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect()
}

#[test]
fn without_embeddings_lexical_and_hybrid_work_and_vector_says_why_not() {
    let ws = workspace();
    let v = json(&ws.ok(Embed::Off, &["index", "--json"]));
    assert_eq!(v["embed"], serde_json::json!({"off": true}), "{v}");
    let text = ws.ok(Embed::Off, &["index"]);
    assert!(text.contains("embeddings off"), "{text}");

    let v = json(&ws.ok(
        Embed::Off,
        &["search", "retry delay", "--mode", "lexical", "--json"],
    ));
    let r = &v[0];
    assert_eq!(r["path"], "netkit::retry::retry_delay", "{v}");
    assert_eq!(
        (r["file"].as_str(), r["kind"].as_str(), r["name"].as_str()),
        (Some("src/retry.rs"), Some("fn"), Some("retry_delay"))
    );
    let start = RETRY_RS
        .lines()
        .position(|l| l.contains("/// Waits before"))
        .unwrap() as u64
        + 1;
    assert_eq!(r["start_line"], start, "the span starts at the doc comment");
    assert_eq!(r["end_line"], start + 3);
    let scores: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // -k caps the list.
    let v = json(&ws.ok(
        Embed::Off,
        &["search", "retry", "--mode", "lexical", "--json", "-k", "1"],
    ));
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");

    // Hybrid (the default) needs no embeddings: lexical plus graph.
    let v = json(&ws.ok(Embed::Off, &["search", "retry delay", "--json"]));
    let found = paths(&v);
    assert_eq!(found.first(), Some(&"netkit::retry::retry_delay"), "{v}");
    // The callee comes in through the call graph (the ranking itself is tested in
    // ploke-retrieve; here every item of src/retry.rs matches "retry" by its file name).
    assert!(found.contains(&"netkit::retry::backoff_millis"), "{v}");
    // Plain text: one line per hit, best first, nothing on stderr.
    let out = ws.run(Embed::Off, &["search", "retry delay"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.contains(" fn ")
            && first.contains("netkit::retry::retry_delay")
            && first.contains("src/retry.rs:"),
        "{text}"
    );

    // Vector search needs stored vectors: a one-line error that says so.
    let err = ws.fails(Embed::Off, &["search", "retry delay", "--mode", "vector"]);
    assert!(err.contains("embeddings"), "{err}");
    assert!(err.contains("ploke index"), "says what to do: {err}");
    let err = ws.fails(Embed::Off, &["context", "retry delay", "--mode", "vector"]);
    assert!(err.contains("embeddings"), "{err}");
}

#[test]
fn no_embed_flag_and_an_explicit_db_dir() {
    let ws = workspace();
    let db = ws._tmp.path().join("db");
    let db_s = db.to_str().unwrap();
    // --no-embed skips the stage before any config is read (the model dir does not exist).
    let missing = ws._tmp.path().join("no-model-here");
    let v = json(&ws.ok(
        Embed::Model(&missing),
        &["index", "--db", db_s, "--no-embed", "--json"],
    ));
    assert_eq!(v["embed"], Value::Null, "{v}");
    assert!(!ws.root.join(".ploke").exists());
    let v = json(&ws.ok(
        Embed::Off,
        &["search", "port number", "--db", db_s, "--json", "-k", "3"],
    ));
    assert_eq!(paths(&v).first(), Some(&"netkit::parse_port"), "{v}");
    let err = ws.fails(
        Embed::Off,
        &["search", "port number", "--db", db_s, "--mode", "vector"],
    );
    assert!(err.contains("embeddings"), "{err}");
}

#[test]
fn unknown_mode_is_rejected() {
    let ws = workspace();
    ws.ok(Embed::Off, &["index"]);
    for args in [
        &["search", "retry", "--mode", "bogus"][..],
        &["context", "retry", "--mode", "bogus"],
    ] {
        let out = ws.run(Embed::Off, args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        assert_eq!(out.status.code(), Some(2), "a usage error: {stderr}");
        assert!(
            stderr.contains("bogus") && stderr.contains("lexical"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn context_pack_fits_the_budget_and_quotes_exact_source() {
    let ws = workspace();
    ws.ok(Embed::Off, &["index"]);
    let request = "make retry_delay wait longer between attempts";
    let v = json(&ws.ok(
        Embed::Off,
        &["context", request, "--budget", "500", "--json"],
    ));
    assert_eq!(v["request"], request);
    assert_eq!(v["budget"], 500);
    let tokens = v["tokens"].as_u64().unwrap();
    assert!(tokens > 0 && tokens <= 500, "{v}");
    let items = v["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{v}");
    assert_eq!(items[0]["path"], "netkit::retry::retry_delay", "{v}");
    assert_eq!(items[0]["role"], "primary", "{v}");
    let mut item_tokens = 0;
    for it in items {
        item_tokens += it["tokens"].as_u64().unwrap();
        if it["role"] == "primary" {
            let (file, start, end) = (
                it["file"].as_str().unwrap(),
                it["start_line"].as_u64().unwrap(),
                it["end_line"].as_u64().unwrap(),
            );
            let source = ws.lines(file, start, end);
            let text = it["text"].as_str().unwrap();
            assert_eq!(
                Some(text),
                source.strip_suffix('\n'),
                "{} is its exact source",
                it["path"]
            );
        }
    }
    assert!(item_tokens <= tokens, "entries are part of the total: {v}");
    let primary = items[0]["text"].as_str().unwrap();
    assert!(
        primary.starts_with("/// Waits before trying the request again"),
        "{primary}"
    );
    assert!(primary.trim_end().ends_with('}'), "{primary}");
    // The callee of the primary is there too (ranked through the call graph).
    assert!(
        items
            .iter()
            .any(|it| it["path"] == "netkit::retry::backoff_millis"),
        "{v}"
    );

    // A smaller budget: still within it.
    let small = json(&ws.ok(
        Embed::Off,
        &["context", request, "--budget", "120", "--json"],
    ));
    assert!(small["tokens"].as_u64().unwrap() <= 120, "{small}");

    // Markdown: a header, then the item in a fenced rust block.
    let md = ws.ok(Embed::Off, &["context", request, "--budget", "500"]);
    assert!(
        md.starts_with(&format!("# Context pack: {request}\n")),
        "{md}"
    );
    let block = format!("```rust\n{}", primary.trim_end_matches('\n'));
    let at = md
        .find(&block)
        .unwrap_or_else(|| panic!("no fenced rust block with retry_delay's source:\n{md}"));
    assert!(
        md[at + block.len()..].starts_with("\n```\n"),
        "the block is closed:\n{md}"
    );
    assert!(
        md.contains("### netkit::retry::retry_delay (fn) — src/retry.rs:"),
        "{md}"
    );
}

#[test]
fn with_the_model_index_embeds_and_vector_search_finds_paraphrases() {
    let dir = models::minilm_dir();
    let ws = workspace();
    let m = Embed::Model(&dir);
    let v = json(&ws.ok(m, &["index", "--json"]));
    let embed = &v["embed"];
    assert!(embed["error"].is_null(), "{v}");
    assert!(
        embed["model"]
            .as_str()
            .unwrap()
            .starts_with("bert:all-MiniLM-L6-v2:"),
        "{v}"
    );
    let stats = &embed["stats"];
    let embedded = stats["embedded"].as_u64().unwrap();
    assert!(embedded > 0, "{v}");
    assert_eq!(stats["texts"].as_u64(), Some(embedded), "{v}");

    let query = "how long to pause between attempts";
    let hits = json(&ws.ok(
        m,
        &["search", query, "--mode", "vector", "--json", "-k", "3"],
    ));
    assert!(
        paths(&hits).contains(&"netkit::retry::retry_delay"),
        "{hits}"
    );
    let hits = json(&ws.ok(
        m,
        &[
            "search",
            "check that an e-mail address looks right",
            "--mode",
            "vector",
            "--json",
            "-k",
            "3",
        ],
    ));
    assert!(
        paths(&hits).contains(&"netkit::retry::Account::email_is_valid"),
        "{hits}"
    );
    // Hybrid with vectors.
    let hits = json(&ws.ok(m, &["search", query, "--json", "-k", "3"]));
    assert!(
        paths(&hits).contains(&"netkit::retry::retry_delay"),
        "{hits}"
    );

    // Again: nothing new to embed.
    let v = json(&ws.ok(m, &["index", "--json"]));
    assert_eq!(v["embed"]["stats"]["embedded"], 0, "{v}");
    assert_eq!(
        v["embed"]["stats"]["reused"].as_u64(),
        Some(embedded),
        "{v}"
    );

    // Searching with embeddings turned off: vector mode says so, hybrid still works.
    let err = ws.fails(Embed::Off, &["search", query, "--mode", "vector"]);
    assert!(err.contains("PLOKE_EMBED=off"), "{err}");
    let hits = json(&ws.ok(Embed::Off, &["search", "retry delay", "--json"]));
    assert_eq!(
        paths(&hits).first(),
        Some(&"netkit::retry::retry_delay"),
        "{hits}"
    );
}

/// Regression: with embeddings on, indexing a crate that has no item to embed (only test code
/// here) stores the model id but no vector, and every search used to panic in
/// `Retriever::load` (`VectorIndex::new(0)`).
#[test]
fn search_works_when_the_embedded_crate_has_nothing_to_embed() {
    let dir = models::minilm_dir();
    let ws = workspace();
    std::fs::write(ws.root.join("src/lib.rs"), "#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(1 + 1, 2);\n    }\n}\n").unwrap();
    std::fs::remove_file(ws.root.join("src/retry.rs")).unwrap();
    let m = Embed::Model(&dir);
    let v = json(&ws.ok(m, &["index", "--json"]));
    assert_eq!(v["embed"]["stats"]["texts"], 0, "{v}");
    let hits = json(&ws.ok(m, &["search", "adds", "--json"]));
    assert_eq!(paths(&hits).first(), Some(&"netkit::tests::adds"), "{hits}");
    ws.ok(m, &["context", "adds", "--budget", "500"]);
}
