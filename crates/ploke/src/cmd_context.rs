//! `ploke context`: the items a request needs, packed for an LLM within a token budget.

use std::io::Write;

use anyhow::Context;
use ploke_context::{build_pack, Cl100k, Pack, PackOptions};
use ploke_retrieve::Mode;

use crate::cmd_search::Engine;
use crate::Location;

/// Ranked items handed to the packer (it uses as many as fit).
const CANDIDATES: usize = 30;

/// The context pack of `request`: ranked by `engine` in `mode`, packed from its index.
pub fn pack_for(engine: &Engine, request: &str, budget: usize, mode: Mode) -> anyhow::Result<Pack> {
    let v = engine.embed(&[request])?.pop().flatten();
    let hits = engine
        .retriever
        .search(request, v.as_deref(), mode, CANDIDATES)?;
    let ranked: Vec<_> = hits.iter().map(|h| (h.node.id, h.score)).collect();
    let opts = PackOptions {
        budget,
        ..PackOptions::default()
    };
    let counter = Cl100k::new().context("loading the cl100k tokenizer")?;
    build_pack(&engine.db, request, &ranked, &opts, &counter).context("building the context pack")
}

pub fn run(
    request: &str,
    loc: &Location,
    budget: usize,
    json: bool,
    mode: Mode,
) -> anyhow::Result<()> {
    let engine = Engine::load(loc, mode)?;
    let pack = pack_for(&engine, request, budget, mode)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&pack)?)?;
    } else {
        write!(out, "{}", pack.to_markdown())?;
    }
    Ok(())
}
