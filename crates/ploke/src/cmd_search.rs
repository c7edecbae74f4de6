//! `ploke search`: hybrid (default), lexical or vector search, one query or a batch of JSON
//! lines.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use ploke_retrieve::{hit_json, Mode, RankParams, Retriever};

use crate::{open_db, Location};

/// Options of one search invocation.
pub struct SearchArgs {
    pub query: Option<String>,
    pub k: usize,
    pub json: bool,
    pub batch: Option<PathBuf>,
    pub mode: Mode,
    /// A JSON object of [`RankParams`] fields that replace the defaults (for tuning).
    pub rank_params: Option<String>,
}

/// A loaded retriever and, when vectors can be used, the model to embed requests with.
pub struct Engine {
    /// The open index.
    pub db: ploke_db::Db,
    pub retriever: Retriever,
    embedder: Option<ploke_embed::Embedder>,
}

impl Engine {
    /// Loads the index at `loc` for searching in `mode`. Hybrid search without a usable
    /// model or stored vectors falls back to the lexical and graph signals, with a warning.
    pub fn load(loc: &Location, mode: Mode) -> anyhow::Result<Engine> {
        let db = open_db(loc)?;
        let stored = db.get_meta(crate::embeddings::EMBED_MODEL_KEY)?;
        let start = loc.path.clone().unwrap_or_else(|| PathBuf::from("."));
        let mut embedder = None;
        if mode != Mode::Lexical {
            match &stored {
                None if mode == Mode::Vector => bail!("no embeddings in this index; run `ploke index` with embeddings on, or use --mode lexical"),
                None => tracing::info!("no embeddings stored: lexical and graph signals only"),
                Some(model) => match crate::embeddings::load_embedder(&start) {
                    Ok(Some((e, _))) if e.model_id() == model => embedder = Some(e),
                    Ok(Some((e, _))) => {
                        let msg = format!("the index holds vectors of {model}, but the configured model is {}; run `ploke index` to re-embed", e.model_id());
                        if mode == Mode::Vector {
                            bail!("{msg}");
                        }
                        eprintln!("warning: {msg} (searching without vectors)");
                    }
                    Ok(None) if mode == Mode::Vector => bail!("embeddings are turned off (PLOKE_EMBED=off)"),
                    Ok(None) => {}
                    Err(e) if mode == Mode::Vector => return Err(e),
                    Err(e) => eprintln!("warning: {e:#}; searching without vectors"),
                },
            }
        }
        let model = embedder.as_ref().map(|e| e.model_id().to_string());
        let retriever =
            Retriever::load(&db, model.as_deref()).context("loading the search index")?;
        Ok(Engine {
            db,
            retriever,
            embedder,
        })
    }

    /// Embeds the requests (one batch); `None` for each when no model is in use.
    pub fn embed(&self, queries: &[&str]) -> anyhow::Result<Vec<Option<Vec<f32>>>> {
        match &self.embedder {
            None => Ok(vec![None; queries.len()]),
            Some(e) => Ok(e
                .embed(queries)
                .context("embedding the request")?
                .into_iter()
                .map(Some)
                .collect()),
        }
    }
}

pub fn run(args: SearchArgs, loc: &Location) -> anyhow::Result<()> {
    let mut engine = Engine::load(loc, args.mode)?;
    if let Some(p) = &args.rank_params {
        engine.retriever.params = serde_json::from_str::<RankParams>(p)
            .context("--rank-params: not a JSON object of ranking parameters")?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Some(batch) = &args.batch {
        let queries = read_batch(batch)?;
        let texts: Vec<&str> = queries.iter().map(|(_, q)| q.as_str()).collect();
        let vecs = engine.embed(&texts)?;
        for ((id, q), v) in queries.iter().zip(vecs) {
            let hits = engine
                .retriever
                .search(q, v.as_deref(), args.mode, args.k)?;
            let results: Vec<_> = hits.iter().map(hit_json).collect();
            writeln!(
                out,
                "{}",
                serde_json::json!({ "id": id, "results": results })
            )?;
        }
        return Ok(());
    }
    let Some(query) = args.query else {
        bail!("give a QUERY, or --batch FILE")
    };
    let v = engine.embed(&[query.as_str()])?.pop().flatten();
    let hits = engine
        .retriever
        .search(&query, v.as_deref(), args.mode, args.k)?;
    if args.json {
        let v: Vec<_> = hits.iter().map(hit_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if hits.is_empty() {
        writeln!(out, "no results for {query:?}")?;
    } else {
        for h in &hits {
            writeln!(
                out,
                "{:>6.3}  {:<6} {}  {}:{}-{}",
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

/// Reads `{"id", "query"}` JSON lines from `path` (`-`: stdin).
fn read_batch(path: &PathBuf) -> anyhow::Result<Vec<(serde_json::Value, String)>> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path)
                .with_context(|| format!("{}: cannot open the batch file", path.display()))?,
        ))
    };
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}: read error", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).with_context(|| {
            format!(
                "{}:{}: not a JSON object with \"id\" and \"query\"",
                path.display(),
                n + 1
            )
        })?;
        let (Some(id), Some(q)) = (v.get("id"), v.get("query").and_then(|q| q.as_str())) else {
            bail!(
                "{}:{}: each line needs \"id\" and \"query\"",
                path.display(),
                n + 1
            );
        };
        out.push((id.clone(), q.to_string()));
    }
    Ok(out)
}
