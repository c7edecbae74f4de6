//! `cargo xtask bench-lsp [ROUNDS]`: `ploke lsp` on tokio 1.38.0, spoken to over stdio as an
//! editor does (Content-Length frames), measured end to end (JSON-RPC included):
//!
//! - **workspace/symbol**: the name of every 40th searchable item as a query, and its first
//!   three letters (a prefix as typed), warm;
//! - **hover**: on the first line of each of those items;
//! - **didChange → symbol**: a function added to an open buffer (not saved), until
//!   `workspace/symbol` finds it (the overlay re-indexes that file and swaps the snapshot);
//! - **save → symbol**: a new function appended to a file on disk, until `workspace/symbol`
//!   finds it (the live index's watcher, re-index and snapshot swap).
//!
//! Medians and p90 in milliseconds.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

struct Lsp {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next: u64,
}

impl Lsp {
    fn send(&mut self, v: &Value) -> Result<()> {
        let body = v.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len())?;
        self.input.flush()?;
        Ok(())
    }

    fn frame(&mut self) -> Result<Value> {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if self.output.read_line(&mut line)? == 0 {
                bail!("ploke lsp ended");
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse()?;
            }
        }
        let mut body = vec![0u8; length];
        self.output.read_exact(&mut body)?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// Asks `workspace/symbol` for `name` until it is found; the milliseconds since `t`.
    fn until_found(&mut self, name: &str, t: Instant) -> Result<f64> {
        loop {
            let (r, _) = self.call("workspace/symbol", json!({"query": name}))?;
            if r.as_array()
                .is_some_and(|a| a.iter().any(|s| s["name"] == name))
            {
                return Ok(t.elapsed().as_secs_f64() * 1000.0);
            }
            if t.elapsed() > Duration::from_secs(10) {
                bail!("{name} not found 10 s after the change");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Sends a request and waits for its answer; returns it and the milliseconds it took.
    fn call(&mut self, method: &str, params: Value) -> Result<(Value, f64)> {
        self.next += 1;
        let id = self.next;
        let t = Instant::now();
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let f = self.frame()?;
            if f.get("method").is_none() && f["id"] == id {
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if let Some(e) = f.get("error") {
                    bail!("{method}: {e}");
                }
                return Ok((f["result"].clone(), ms));
            }
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let rounds: usize = match args.first() {
        Some(n) => n
            .parse()
            .with_context(|| format!("{n}: usage: cargo xtask bench-lsp [ROUNDS]"))?,
        None => 5,
    };
    let ploke = crate::build_ploke()?;
    let tmp = tempfile::tempdir()?;
    let root = crate::tokio_copy(tmp.path())?.canonicalize()?;
    let index = Command::new(&ploke)
        .args(["index"])
        .current_dir(&root)
        .env("PLOKE_EMBED", "off")
        .output()?;
    if !index.status.success() {
        bail!("ploke index: {}", String::from_utf8_lossy(&index.stderr));
    }
    // The items to query: every 40th searchable item from the index's own symbol list.
    let items = items_of(&root)?;
    let mut child = Command::new(&ploke)
        .arg("lsp")
        .current_dir(&root)
        .env("PLOKE_EMBED", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut lsp = Lsp {
        input: child.stdin.take().context("stdin")?,
        output: BufReader::new(child.stdout.take().context("stdout")?),
        child,
        next: 0,
    };
    lsp.call(
        "initialize",
        json!({"capabilities": {}, "rootUri": uri(&root, "")}),
    )?;
    lsp.send(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}))?;
    // Warm: the snapshot is loaded on the first request.
    let t = Instant::now();
    lsp.call("workspace/symbol", json!({"query": "spawn"}))?;
    eprintln!(
        "first workspace/symbol (snapshot load) {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let mut symbol = Vec::new();
    let mut prefix = Vec::new();
    let mut hover = Vec::new();
    for _ in 0..rounds {
        for (name, file, line) in &items {
            let (r, ms) = lsp.call("workspace/symbol", json!({"query": name}))?;
            if r.as_array().is_none_or(|a| a.is_empty()) {
                bail!("workspace/symbol {name}: nothing");
            }
            symbol.push(ms);
            let short: String = name.chars().take(3).collect();
            prefix.push(lsp.call("workspace/symbol", json!({"query": short}))?.1);
            let (h, ms) = lsp.call(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri(&root, file)},
                       "position": {"line": line - 1, "character": 0}}),
            )?;
            if h.is_null() {
                bail!("hover on {file}:{line}: nothing");
            }
            hover.push(ms);
        }
    }
    // didChange (an unsaved buffer) → symbol.
    let mut changed = Vec::new();
    {
        let file = root.join("src/time/interval.rs");
        let text = std::fs::read_to_string(&file)?;
        let uri = uri(&root, "src/time/interval.rs");
        lsp.send(
            &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": text}}}),
        )?;
        for i in 0..rounds {
            let name = format!("ploke_bench_lsp_unsaved_{i}");
            let t = Instant::now();
            lsp.send(
                &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": i + 2},
                "contentChanges": [{"text": format!("{text}\npub fn {name}() {{}}\n")}]}}),
            )?;
            changed.push(lsp.until_found(&name, t)?);
        }
        lsp.send(
            &json!({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {
            "textDocument": {"uri": uri}}}),
        )?;
    }
    // Save → symbol.
    let mut saved = Vec::new();
    for i in 0..rounds {
        let name = format!("ploke_bench_lsp_saved_{i}");
        let file = root.join("src/time/sleep.rs");
        let mut f = std::fs::OpenOptions::new().append(true).open(&file)?;
        writeln!(f, "\npub fn {name}() {{}}")?;
        drop(f);
        saved.push(lsp.until_found(&name, Instant::now())?);
    }
    lsp.call("shutdown", Value::Null)?;
    lsp.send(&json!({"jsonrpc": "2.0", "method": "exit"}))?;
    let _ = lsp.child.wait();
    println!(
        "tokio 1.38.0, {} items x {rounds} rounds (ms: median / p90)",
        items.len()
    );
    for (name, v) in [
        ("workspace/symbol, full name", symbol),
        ("workspace/symbol, 3-letter prefix", prefix),
        ("hover", hover),
        ("didChange -> workspace/symbol finds it", changed),
        ("save -> workspace/symbol finds it", saved),
    ] {
        let (med, p90) = crate::bench_mcp::median_p90(v);
        println!("  {name:<36} {med:>8.2} / {p90:>8.2}");
    }
    Ok(())
}

/// (name, file, first line) of every 40th library fn, method, type and trait of the index.
fn items_of(root: &Path) -> Result<Vec<(String, String, u32)>> {
    let db = ploke_db::Db::open_existing(&root.join(".ploke"))?;
    let nodes = db.all_nodes()?;
    Ok(nodes
        .iter()
        .filter(|n| {
            matches!(
                n.kind.as_str(),
                "fn" | "method" | "struct" | "enum" | "trait"
            ) && !n.is_test
                && n.file.starts_with("src/")
        })
        .step_by(40)
        .map(|n| (n.name.clone(), n.file.clone(), n.span.start_line.max(1)))
        .collect())
}

fn uri(root: &Path, file: &str) -> String {
    let p = if file.is_empty() {
        root.to_path_buf()
    } else {
        root.join(file)
    };
    format!("file://{}", p.display())
}
