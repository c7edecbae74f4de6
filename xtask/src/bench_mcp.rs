//! `cargo xtask bench-mcp [--embed]`: `ploke mcp` on tokio 1.38, measured through the protocol
//! by a Rust MCP client (rmcp) that launches the server as an agent does.
//!
//! - **start**: from spawning `ploke mcp` on an already indexed copy of tokio to the answer of
//!   its first `search_code` call (process start, opening the index, loading the search
//!   snapshot, the MCP handshake);
//! - **search_code**: every tokio request of the benchmark (`queries.jsonl`) as a call, warm;
//!   median and p90 milliseconds, end to end (JSON-RPC over the child's stdio included);
//! - **get_item**: the top result of each of those searches, fetched;
//! - **idle memory**: the server's resident set after the calls.
//!
//! Without `--embed` the index has no vectors and search is lexical + graph; with it, the
//! index is embedded first (the local MiniLM of `scripts/fetch-models.sh`) and each search
//! embeds the request in the server.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;

pub fn run(args: &[String]) -> Result<()> {
    let embed = args.iter().any(|a| a == "--embed");
    if let Some(other) = args.iter().find(|a| *a != "--embed") {
        bail!("unknown option {other}; usage: cargo xtask bench-mcp [--embed]");
    }
    let ploke = crate::build_ploke()?;
    let tmp = tempfile::tempdir()?;
    let root = crate::tokio_copy(tmp.path())?;
    let models = crate::repo_root().join("target/models/all-MiniLM-L6-v2");
    let env_embed: Vec<(&str, String)> = if embed {
        if !models.join("config.json").exists() {
            bail!(
                "{}: no model; run scripts/fetch-models.sh minilm",
                models.display()
            );
        }
        vec![("PLOKE_EMBED_DIR", models.display().to_string())]
    } else {
        vec![("PLOKE_EMBED", "off".to_string())]
    };
    let t = Instant::now();
    let mut index = std::process::Command::new(&ploke);
    index
        .arg("index")
        .arg(&root)
        .envs(env_embed.iter().cloned());
    if !index.status()?.success() {
        bail!("ploke index {} failed", root.display());
    }
    eprintln!("indexed in {:.1} s", t.elapsed().as_secs_f64());

    let queries: Vec<String> = std::fs::read_to_string(crate::bench_dir().join("queries.jsonl"))?
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|q| q["crate"] == "tokio")
        .filter_map(|q| q["query"].as_str().map(str::to_string))
        .collect();
    if queries.is_empty() {
        bail!("no tokio requests in queries.jsonl");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(measure(&ploke, &root, &env_embed, &queries, embed))
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    name: &'static str,
    args: serde_json::Value,
) -> Result<(String, Duration)> {
    let serde_json::Value::Object(map) = args else {
        bail!("arguments must be an object");
    };
    let t = Instant::now();
    let r = client
        .call_tool(CallToolRequestParams::new(name).with_arguments(map))
        .await?;
    let took = t.elapsed();
    let text: String = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    if r.is_error == Some(true) {
        bail!("{name} failed: {text}");
    }
    Ok((text, took))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn median_p90(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9))
}

async fn measure(
    ploke: &Path,
    root: &Path,
    env: &[(&str, String)],
    queries: &[String],
    embed: bool,
) -> Result<()> {
    let t0 = Instant::now();
    let mut cmd = tokio::process::Command::new(ploke);
    cmd.arg("mcp")
        .arg(root)
        .envs(env.iter().cloned())
        .stderr(std::process::Stdio::null());
    let transport = TokioChildProcess::new(cmd)?;
    let pid = transport.id().context("the server's pid")?;
    let client = ().serve(transport).await?;
    let (_, _) = call(
        &client,
        "search_code",
        serde_json::json!({ "query": "spawn a blocking task", "k": 10 }),
    )
    .await?;
    let start_ms = ms(t0.elapsed());

    // Warm up, then measure.
    for q in queries.iter().take(5) {
        call(
            &client,
            "search_code",
            serde_json::json!({ "query": q, "k": 10 }),
        )
        .await?;
    }
    let mut search = Vec::new();
    let mut tops = Vec::new();
    for q in queries {
        let (text, took) = call(
            &client,
            "search_code",
            serde_json::json!({ "query": q, "k": 10 }),
        )
        .await?;
        search.push(ms(took));
        // "kind path — file:lines" (an impl's path has spaces: `m::<impl Trait for T>`).
        if let Some(path) = text
            .lines()
            .next()
            .and_then(|l| l.split_once(" — "))
            .and_then(|(head, _)| head.split_once(' '))
            .map(|(_, path)| path)
        {
            tops.push(path.to_string());
        }
    }
    let mut get = Vec::new();
    for p in &tops {
        let (_, took) = call(&client, "get_item", serde_json::json!({ "path": p })).await?;
        get.push(ms(took));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0);
    client.cancel().await?;

    let (s_med, s_p90) = median_p90(search);
    let (g_med, g_p90) = median_p90(get);
    let mode = if embed {
        "hybrid, request embedded in the server"
    } else {
        "lexical + graph (no vectors)"
    };
    println!("tokio 1.38.0, {} requests, {mode}", queries.len());
    println!(
        "| start → first answer | search_code median / p90 | get_item median / p90 | idle RSS |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {start_ms:.0} ms | {s_med:.1} / {s_p90:.1} ms | {g_med:.2} / {g_p90:.2} ms | {rss:.0} MB |"
    );
    Ok(())
}
