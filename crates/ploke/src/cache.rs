//! `ploke cache list|prune`: the dependency cache every workspace shares.

use std::io::Write;
use std::time::{Duration, SystemTime};

use ploke_session::{DepCache, EntryMeta};

use crate::cli::CacheAction;
use crate::cmd::{ago, bytes, count, stdout, with_schema, Outcome};
use crate::render::{paint, style};

pub fn run(action: CacheAction) -> anyhow::Result<Outcome> {
    let cache = DepCache::user();
    match action {
        CacheAction::List { json } => list(&cache, json),
        CacheAction::Prune {
            older_than,
            all,
            json,
        } => {
            let keep = if all {
                Duration::ZERO
            } else {
                Duration::from_secs(older_than.max(1) * 86_400)
            };
            let pruned = cache.prune(keep).map_err(|e| {
                anyhow::anyhow!(
                    "{}: could not prune the dependency cache: {e}",
                    cache.dir().display()
                )
            })?;
            let mut out = stdout();
            if json {
                let v = serde_json::json!({
                    "cache": cache.dir(),
                    "removed": pruned.entries,
                    "stores_removed": pruned.stores,
                    "bytes": pruned.bytes,
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&with_schema(v))?)?;
            } else {
                for e in &pruned.entries {
                    writeln!(out, "removed {} {}", e.name, e.version)?;
                }
                writeln!(
                    out,
                    "pruned {} and {} ({}) from {}",
                    count(pruned.entries.len(), "entry", "entries"),
                    count(pruned.stores, "dependency store", "dependency stores"),
                    bytes(pruned.bytes),
                    cache.dir().display()
                )?;
            }
            out.flush()?;
            Ok(if pruned.entries.is_empty() && pruned.stores == 0 {
                Outcome::Nothing
            } else {
                Outcome::Found
            })
        }
    }
}

fn list(cache: &DepCache, json: bool) -> anyhow::Result<Outcome> {
    let entries: Vec<EntryMeta> = cache.list();
    let stores = cache.stores();
    let total: u64 =
        entries.iter().map(|e| e.bytes).sum::<u64>() + stores.iter().map(|s| s.1).sum::<u64>();
    let mut out = stdout();
    if json {
        let v = serde_json::json!({
            "cache": cache.dir(),
            "entries": entries,
            "stores": stores.iter().map(|(dir, bytes, used)| serde_json::json!({
                "dir": dir, "bytes": bytes, "last_used": used,
            })).collect::<Vec<_>>(),
            "bytes": total,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&with_schema(v))?)?;
        out.flush()?;
        return Ok(if entries.is_empty() {
            Outcome::Nothing
        } else {
            Outcome::Found
        });
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for e in &entries {
        writeln!(
            out,
            "{} {}  {}, {}, {}  used {} ago  {}",
            paint(style::PATH, &e.name),
            e.version,
            count(e.items, "item", "items"),
            count(e.files, "file", "files"),
            bytes(e.bytes),
            ago(now.saturating_sub(e.last_used)),
            paint(style::SCORE, short_source(&e.source)),
        )?;
    }
    writeln!(
        out,
        "{} and {} in {} ({})",
        count(entries.len(), "entry", "entries"),
        count(stores.len(), "dependency store", "dependency stores"),
        cache.dir().display(),
        bytes(total)
    )?;
    out.flush()?;
    Ok(if entries.is_empty() {
        Outcome::Nothing
    } else {
        Outcome::Found
    })
}

/// `crates.io`, `git+https://…#abc123`, or the directory of a path dependency.
fn short_source(source: &str) -> &str {
    if source.contains("crates.io-index") {
        "crates.io"
    } else {
        source
    }
}
