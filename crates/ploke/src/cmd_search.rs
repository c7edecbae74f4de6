//! `ploke search`: lexical search, one query or a batch of JSON lines.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::corpus::{hit_json, Corpus};
use crate::{open_db, Location};

pub fn run(query: Option<String>, loc: &Location, k: usize, json: bool, batch: Option<PathBuf>) -> anyhow::Result<()> {
    let db = open_db(loc)?;
    let corpus = Corpus::load(&db)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Some(batch) = batch {
        let reader: Box<dyn BufRead> = if batch.as_os_str() == "-" {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(&batch).with_context(|| format!("{}: cannot open the batch file", batch.display()))?,
            ))
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("{}: read error", batch.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a JSON object with \"id\" and \"query\"", batch.display(), n + 1))?;
            let (Some(id), Some(q)) = (v.get("id"), v.get("query").and_then(|q| q.as_str())) else {
                bail!("{}:{}: each line needs \"id\" and \"query\"", batch.display(), n + 1);
            };
            let results: Vec<_> = corpus.search(q, k).iter().map(hit_json).collect();
            writeln!(out, "{}", serde_json::json!({ "id": id, "results": results }))?;
        }
        return Ok(());
    }
    let Some(query) = query else { bail!("give a QUERY, or --batch FILE") };
    let hits = corpus.search(&query, k);
    if json {
        let v: Vec<_> = hits.iter().map(hit_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if hits.is_empty() {
        writeln!(out, "no results for {query:?}")?;
    } else {
        for h in &hits {
            writeln!(
                out,
                "{:>7.2}  {:<6} {}  {}:{}-{}",
                h.score,
                h.node.kind.as_str(),
                h.node.path,
                h.file,
                h.node.span.start_line,
                h.node.span.end_line
            )?;
        }
    }
    Ok(())
}
