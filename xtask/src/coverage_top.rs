//! `cargo xtask coverage-top [--list-only] [CRATE…]`: does ploke index every item of the most
//! used crates? Each crate's library is listed by an independent parser and the index is
//! checked against that list.
//!
//! - **The crates**: the first [`TOP_N`] of [`TOP_CRATES`] (crates.io's all-time download
//!   ranking) that the local cargo registry cache holds, each at the highest version there,
//!   plus `serde_core` when the serde there is 1.0.220 or later (serde's code moved into it).
//!   Named crates (`CRATE…`) replace that list; a name need not be in the ranking.
//! - **The item list**: `scripts/list-items.py`, tree-sitter's Rust grammar (PyPI wheels
//!   installed into `target/tmp/ts-venv` on first use), nothing of `syn` or ploke. It follows
//!   the library's module tree from `src/lib.rs` through `mod x;` (with `#[path]`, inside
//!   item-level macro invocations, `cfg_if!` branches and expanded `macro_rules!` templates)
//!   and writes items in the format of `../shared/bench/items/*.jsonl`; on the eight
//!   benchmark crates it reproduces those lists item for item and line for line (its only
//!   difference: tokio files no `mod` reaches, which it skips).
//! - **The check**: the crate is copied to a temp dir, indexed with the release `ploke index
//!   --no-embed`, and matched as `cargo xtask coverage` does ([`measure`]): *strict* when a
//!   node of the same file has the same name and start line, *loose* when one has the same
//!   kind and name in that file. Misses are grouped by cause (named otherwise by ploke on
//!   the same line, file not indexed and through which macro or attribute the lister reached
//!   it, inside which macro invocation, kind) and by file, with examples. The other way
//!   round, items ploke has in the listed files that the list lacks audit the lister.
//!
//! `--list-only` runs the lister alone (no ploke): crates, versions, files, items.
//! `PLOKE_BIN=path` measures that binary instead of building `target/release/ploke` (to
//! compare two builds). Exits 1 when a crate's loose coverage is below [`MIN_COVERAGE`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// How many crates of the ranking to measure.
const TOP_N: usize = 30;

/// Loose coverage below this fails the command.
const MIN_COVERAGE: f64 = 95.0;

/// crates.io's all-time download ranking as of 2026, from memory (there is no network here to
/// check it): the first [`TOP_N`] present in the local registry cache are measured.
const TOP_CRATES: &[&str] = &[
    "syn",
    "bitflags",
    "hashbrown",
    "proc-macro2",
    "quote",
    "libc",
    "serde",
    "rand",
    "cfg-if",
    "itoa",
    "memchr",
    "once_cell",
    "log",
    "regex-syntax",
    "base64",
    "rand_core",
    "getrandom",
    "lazy_static",
    "serde_json",
    "ryu",
    "unicode-ident",
    "autocfg",
    "rand_chacha",
    "indexmap",
    "aho-corasick",
    "regex",
    "smallvec",
    "parking_lot_core",
    "scopeguard",
    "either",
    "heck",
    "parking_lot",
    "lock_api",
    "serde_derive",
    "thiserror",
    "futures-core",
    "bytes",
    "socket2",
    "mio",
    "tokio",
    "thiserror-impl",
    "version_check",
    "cc",
    "time",
    "num-traits",
    "pin-project-lite",
];

/// The PyPI packages of the lister, pinned so that its output does not drift.
const TS_PACKAGES: &[&str] = &["tree-sitter==0.26.1", "tree-sitter-rust==0.24.2"];

/// One item of an item list (`../shared/bench/items/*.jsonl` or `scripts/list-items.py`).
#[derive(Debug, Clone)]
pub struct ListedItem {
    pub file: String,
    pub kind: String,
    pub name: String,
    pub start_line: u32,
    /// Written inside the body of this item-level macro invocation (`cfg_rt`).
    pub in_macro: Option<String>,
    /// Its file is reached through a `mod` written in an unusual place (a macro, a fn body).
    pub reached_via: Option<String>,
}

impl ListedItem {
    fn from_json(line: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(line).context("an item line")?;
        let s = |k: &str| v[k].as_str().map(str::to_string);
        Ok(ListedItem {
            file: s("file").unwrap_or_default(),
            kind: s("kind").unwrap_or_default(),
            name: s("name").unwrap_or_default(),
            start_line: v["start_line"].as_u64().unwrap_or(0) as u32,
            in_macro: s("in_macro"),
            reached_via: s("reached_via"),
        })
    }

    pub fn place(&self) -> String {
        format!(
            "{}:{} {} {}",
            self.file, self.start_line, self.kind, self.name
        )
    }
}

/// Reads an item list, one JSON object a line.
pub fn read_items(path: &Path) -> Result<Vec<ListedItem>> {
    std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(ListedItem::from_json)
        .collect()
}

/// How much of an item list an index holds.
pub struct Coverage {
    pub total: usize,
    /// Same file, same name, same start line.
    pub strict: usize,
    /// Not strict, but same file, kind and name.
    pub other_line: usize,
    /// Neither.
    pub missing: Vec<Miss>,
    /// Files (package-relative) that the index holds.
    pub indexed_files: HashSet<String>,
    /// The other way round, to audit the list: items of the index (of the kinds and in the
    /// files the list has) that the list lacks, as `file:line kind name`.
    pub unlisted: Vec<String>,
}

impl Coverage {
    pub fn loose(&self) -> usize {
        self.strict + self.other_line
    }

    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            100.0 * self.loose() as f64 / self.total as f64
        }
    }
}

/// An item the index lacks.
pub struct Miss {
    pub item: ListedItem,
    /// The name of a node of the same kind that starts on the same line of that file: the
    /// item is there, named otherwise.
    pub named: Option<String>,
}

/// Whether the lists hold items of this kind: not fields, variants, imports, extern blocks,
/// nor associated types of traits (the benchmark lists leave those out).
fn listed_kind(
    n: &ploke_core::Node,
    kinds: &HashMap<ploke_core::NodeId, ploke_core::ItemKind>,
) -> bool {
    use ploke_core::ItemKind as K;
    match n.kind {
        K::Crate | K::Use | K::ExternCrate | K::Field | K::Variant | K::ExternBlock => false,
        K::ForeignType | K::TraitAlias => false,
        K::AssocType => n.parent.and_then(|p| kinds.get(&p)) != Some(&K::Trait),
        _ => true,
    }
}

/// The item kinds of the lists for a node kind of the index.
pub(crate) fn list_kind(kind: ploke_core::ItemKind) -> &'static str {
    use ploke_core::ItemKind as K;
    match kind {
        K::AssocType | K::TypeAlias => "type",
        K::AssocConst => "const",
        // The lists call the fns and statics of `extern { … }` blocks fns and statics.
        K::ForeignFn => "fn",
        K::ForeignStatic => "static",
        k => k.as_str(),
    }
}

/// Matches an item list against the index in `db`: an item is found strictly when a node
/// of the same file has the same name and start line, loosely when one has the same kind
/// and name anywhere in that file.
pub fn measure(db: &Path, items: &[ListedItem]) -> Result<Coverage> {
    let g = ploke_db::Db::open(db)?.load_graph()?;
    let rel: HashMap<&str, &str> = g
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.rel_path.as_str()))
        .collect();
    let mut strict: HashSet<(&str, &str, u32)> = HashSet::new();
    let mut loose: HashSet<(&str, &str, &str)> = HashSet::new();
    let mut by_line: HashMap<(&str, &str, u32), &str> = HashMap::new();
    for n in &g.nodes {
        let file = rel.get(n.file.as_str()).copied().unwrap_or(&n.file);
        strict.insert((file, &n.display_name, n.span.start_line));
        loose.insert((file, list_kind(n.kind), &n.display_name));
        by_line.insert(
            (file, list_kind(n.kind), n.span.start_line),
            &n.display_name,
        );
    }
    let listed: HashSet<(&str, &str, &str)> = items
        .iter()
        .map(|it| (it.file.as_str(), it.kind.as_str(), it.name.as_str()))
        .collect();
    let listed_files: HashSet<&str> = items.iter().map(|it| it.file.as_str()).collect();
    let kinds: HashMap<ploke_core::NodeId, ploke_core::ItemKind> =
        g.nodes.iter().map(|n| (n.id, n.kind)).collect();
    let unlisted = g
        .nodes
        .iter()
        .filter(|n| listed_kind(n, &kinds))
        .filter_map(|n| {
            let file = rel.get(n.file.as_str()).copied().unwrap_or(&n.file);
            let kind = list_kind(n.kind);
            (listed_files.contains(file) && !listed.contains(&(file, kind, &n.display_name)))
                .then(|| format!("{file}:{} {kind} {}", n.span.start_line, n.display_name))
        })
        .collect();
    let mut cov = Coverage {
        total: items.len(),
        strict: 0,
        other_line: 0,
        missing: Vec::new(),
        indexed_files: g.files.iter().map(|f| f.rel_path.clone()).collect(),
        unlisted,
    };
    for it in items {
        if strict.contains(&(it.file.as_str(), it.name.as_str(), it.start_line)) {
            cov.strict += 1;
        } else if loose.contains(&(it.file.as_str(), it.kind.as_str(), it.name.as_str())) {
            cov.other_line += 1;
        } else {
            let named = by_line
                .get(&(it.file.as_str(), it.kind.as_str(), it.start_line))
                .map(|n| n.to_string());
            cov.missing.push(Miss {
                item: it.clone(),
                named,
            });
        }
    }
    Ok(cov)
}

/// Why an item is missing, as far as the lists tell: the first that applies.
fn miss_reason(miss: &Miss, cov: &Coverage) -> String {
    let it = &miss.item;
    if miss.named.is_some() {
        return "named otherwise by ploke".to_string();
    }
    if !cov.indexed_files.contains(&it.file) {
        return match &it.reached_via {
            Some(via) => format!("file not indexed (reached via {via})"),
            None => "file not indexed".to_string(),
        };
    }
    if let Some(m) = &it.in_macro {
        return format!("inside {m}!{{…}}");
    }
    format!("{} not found", it.kind)
}

/// The misses grouped by [`miss_reason`], most frequent first.
fn miss_reasons(cov: &Coverage) -> Vec<(String, Vec<&Miss>)> {
    let mut reasons: BTreeMap<String, Vec<&Miss>> = BTreeMap::new();
    for m in &cov.missing {
        reasons.entry(miss_reason(m, cov)).or_default().push(m);
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by_key(|(k, v)| (std::cmp::Reverse(v.len()), k.clone()));
    reasons
}

/// A crate of the registry cache.
struct Crate {
    name: String,
    version: String,
    dir: PathBuf,
}

/// `1.0.229`, `0.16.2+1.7.2`, `1.0.0-rc.1` as a sortable key; None when not a version.
fn version_key(v: &str) -> Option<(Vec<u64>, bool)> {
    let v = v.split('+').next()?;
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let parts: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    Some((parts, pre.is_none()))
}

fn registry_src_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry/src")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&src)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The highest version of `name` in the registry cache.
fn newest_in_cache(registries: &[PathBuf], name: &str) -> Option<Crate> {
    let prefix = format!("{name}-");
    let mut best: Option<((Vec<u64>, bool), Crate)> = None;
    for reg in registries {
        for e in std::fs::read_dir(reg).into_iter().flatten().flatten() {
            let file_name = e.file_name().to_string_lossy().into_owned();
            let Some(version) = file_name.strip_prefix(&prefix) else {
                continue;
            };
            let Some(key) = version_key(version) else {
                continue;
            };
            if best.as_ref().is_none_or(|(k, _)| key > *k) {
                let c = Crate {
                    name: name.to_string(),
                    version: version.to_string(),
                    dir: e.path(),
                };
                best = Some((key, c));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// The crates to measure: the named ones, or the first [`TOP_N`] of the ranking in the
/// cache; serde_core joins a serde of 1.0.220 or later.
fn select_crates(names: &[String]) -> Result<Vec<Crate>> {
    let registries = registry_src_dirs();
    if registries.is_empty() {
        bail!("no cargo registry cache (~/.cargo/registry/src/*)");
    }
    let mut out = Vec::new();
    if names.is_empty() {
        for name in TOP_CRATES {
            if out.len() == TOP_N {
                break;
            }
            if let Some(c) = newest_in_cache(&registries, name) {
                out.push(c);
            }
        }
        if out.len() < TOP_N {
            eprintln!(
                "note: only {} of the ranked crates are in the registry cache",
                out.len()
            );
        }
    } else {
        for name in names {
            out.push(
                newest_in_cache(&registries, name)
                    .with_context(|| format!("{name} is not in the cargo registry cache"))?,
            );
        }
    }
    let serde_split = out
        .iter()
        .position(|c| c.name == "serde" && version_key(&c.version) >= version_key("1.0.220"));
    if let Some(i) = serde_split {
        if !out.iter().any(|c| c.name == "serde_core") {
            if let Some(core) = newest_in_cache(&registries, "serde_core") {
                out.insert(i + 1, core);
            }
        }
    }
    Ok(out)
}

/// The Python of `target/tmp/ts-venv`, created and given tree-sitter on first use.
fn lister_python() -> Result<PathBuf> {
    let venv = crate::repo_root().join("target/tmp/ts-venv");
    let python = venv.join("bin/python");
    let ready = |py: &Path| {
        Command::new(py)
            .args(["-c", "import tree_sitter, tree_sitter_rust"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if python.exists() && ready(&python) {
        return Ok(python);
    }
    eprintln!("setting up {} (tree-sitter from PyPI)…", venv.display());
    let st = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("running python3 -m venv")?;
    if !st.success() {
        bail!("python3 -m venv {} failed", venv.display());
    }
    let st = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(TS_PACKAGES)
        .status()
        .context("running pip")?;
    if !st.success() || !ready(&python) {
        bail!("pip install {} failed", TS_PACKAGES.join(" "));
    }
    Ok(python)
}

/// What the lister says of one crate.
struct Listing {
    items: Vec<ListedItem>,
    files: usize,
    unreached: Vec<String>,
    parse_errors: Vec<String>,
}

fn list_items(python: &Path, dir: &Path, scratch: &Path) -> Result<Listing> {
    let report = scratch.join("list-report.json");
    let out = Command::new(python)
        .arg(crate::repo_root().join("scripts/list-items.py"))
        .arg(dir)
        .arg("--report")
        .arg(&report)
        .output()
        .context("running scripts/list-items.py")?;
    if !out.status.success() {
        bail!(
            "list-items.py {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let items = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(ListedItem::from_json)
        .collect::<Result<Vec<_>>>()?;
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
    let strings = |k: &str| -> Vec<String> {
        r[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Listing {
        items,
        files: strings("files").len(),
        unreached: strings("unreached"),
        parse_errors: strings("parse_errors"),
    })
}

/// One measured crate.
struct Row {
    krate: Crate,
    listing: Listing,
    coverage: Option<Coverage>,
    index_s: f64,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut list_only = false;
    let mut names = Vec::new();
    for a in args {
        match a.as_str() {
            "--list-only" => list_only = true,
            c if !c.starts_with('-') => names.push(c.to_string()),
            other => bail!(
                "unknown option {other}; usage: cargo xtask coverage-top [--list-only] [CRATE…]"
            ),
        }
    }
    let crates = select_crates(&names)?;
    let python = lister_python()?;
    let ploke = match std::env::var_os("PLOKE_BIN") {
        _ if list_only => None,
        Some(bin) => Some(PathBuf::from(bin)),
        None => Some(crate::build_ploke()?),
    };
    let mut rows = Vec::new();
    for krate in crates {
        let tmp = tempfile::tempdir()?;
        // Never write in the registry cache: ploke and the lister read a copy.
        let work = tmp.path().join(format!("{}-{}", krate.name, krate.version));
        crate::copy_dir(&krate.dir, &work)?;
        let listing = list_items(&python, &work, tmp.path())?;
        let (coverage, index_s) = match &ploke {
            None => (None, 0.0),
            Some(ploke) => {
                let db = tmp.path().join("db");
                let t = Instant::now();
                let out = Command::new(ploke)
                    .args(["index", "--no-embed", "--quiet", "--db"])
                    .arg(&db)
                    .arg(&work)
                    .output()?;
                if !out.status.success() {
                    bail!(
                        "ploke index {}-{} failed: {}",
                        krate.name,
                        krate.version,
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                let index_s = t.elapsed().as_secs_f64();
                (Some(measure(&db, &listing.items)?), index_s)
            }
        };
        eprintln!(
            "{}-{}: {} items listed{}",
            krate.name,
            krate.version,
            listing.items.len(),
            coverage
                .as_ref()
                .map(|c| format!(", {:.1}% found", c.percent()))
                .unwrap_or_default()
        );
        rows.push(Row {
            krate,
            listing,
            coverage,
            index_s,
        });
    }
    print_table(&rows);
    if !list_only {
        print_misses(&rows);
    }
    let low: Vec<&str> = rows
        .iter()
        .filter(|r| {
            r.coverage
                .as_ref()
                .is_some_and(|c| c.percent() < MIN_COVERAGE)
        })
        .map(|r| r.krate.name.as_str())
        .collect();
    if !low.is_empty() {
        eprintln!("below {MIN_COVERAGE}% (loose): {}", low.join(", "));
        std::process::exit(1);
    }
    Ok(())
}

fn print_table(rows: &[Row]) {
    println!(
        "| crate | version | files | items | strict | loose | coverage | missing | main cause of misses | index s | unreached files |"
    );
    println!("|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|");
    let (mut items, mut strict, mut loose) = (0, 0, 0);
    for r in rows {
        let unreached = r.listing.unreached.len();
        match &r.coverage {
            Some(c) => {
                items += c.total;
                strict += c.strict;
                loose += c.loose();
                let cause = miss_reasons(c)
                    .first()
                    .map(|(reason, ms)| format!("{reason} ({})", ms.len()))
                    .unwrap_or_default();
                println!(
                    "| {} | {} | {} | {} | {} | {} | {:.1}% | {} | {} | {:.1} | {} |",
                    r.krate.name,
                    r.krate.version,
                    r.listing.files,
                    c.total,
                    c.strict,
                    c.loose(),
                    c.percent(),
                    c.missing.len(),
                    cause.replace('|', "\\|"),
                    r.index_s,
                    unreached
                );
            }
            None => println!(
                "| {} | {} | {} | {} | – | – | – | – | – | – | {} |",
                r.krate.name,
                r.krate.version,
                r.listing.files,
                r.listing.items.len(),
                unreached
            ),
        }
    }
    if items > 0 {
        println!(
            "| **all {}** | | | {items} | {strict} | {loose} | {:.2}% | {} | | | |",
            rows.len(),
            100.0 * loose as f64 / items as f64,
            items - loose
        );
    }
    let measured: Vec<&Coverage> = rows.iter().filter_map(|r| r.coverage.as_ref()).collect();
    if !measured.is_empty() {
        let ok = measured
            .iter()
            .filter(|c| c.percent() >= MIN_COVERAGE)
            .count();
        println!(
            "{ok} of {} crates at or above {MIN_COVERAGE}% (loose)",
            measured.len()
        );
    }
    println!(
        "(strict: same file, name and start line; loose: same file, kind and name; unreached: .rs files under src/ that no `mod` reaches, not listed)"
    );
}

/// Per crate with misses: the causes, the files with most misses, a few examples; then
/// lister notes (files no `mod` reaches, files tree-sitter parsed with errors).
fn print_misses(rows: &[Row]) {
    for r in rows {
        let Some(c) = &r.coverage else { continue };
        let name = format!("{}-{}", r.krate.name, r.krate.version);
        if !c.missing.is_empty() {
            let mut files: BTreeMap<&str, usize> = BTreeMap::new();
            for m in &c.missing {
                *files.entry(&m.item.file).or_default() += 1;
            }
            let reasons = miss_reasons(c);
            let mut files: Vec<_> = files.into_iter().collect();
            files.sort_by_key(|(f, n)| (std::cmp::Reverse(*n), *f));
            println!("\n{name}: {} missing", c.missing.len());
            for (reason, ms) in reasons.iter().take(6) {
                let eg: Vec<String> = ms
                    .iter()
                    .take(3)
                    .map(|m| match &m.named {
                        Some(n) => format!("{} (ploke: {n})", m.item.place()),
                        None => m.item.place(),
                    })
                    .collect();
                println!("  {:>5}  {reason}: e.g. {}", ms.len(), eg.join("; "));
            }
            let top: Vec<String> = files
                .iter()
                .take(5)
                .map(|(f, n)| format!("{f} ({n})"))
                .collect();
            println!("  files: {}", top.join(", "));
        }
        if !c.unlisted.is_empty() {
            if c.missing.is_empty() {
                println!("\n{name}: nothing missing");
            }
            let eg: Vec<&str> = c.unlisted.iter().take(4).map(String::as_str).collect();
            println!(
                "  ploke has {} items the list lacks, e.g. {}",
                c.unlisted.len(),
                eg.join("; ")
            );
        }
        if !r.listing.unreached.is_empty() || !r.listing.parse_errors.is_empty() {
            let few = |v: &[String]| {
                let mut s = v.iter().take(4).cloned().collect::<Vec<_>>().join(", ");
                if v.len() > 4 {
                    s.push_str(&format!(", … ({} in all)", v.len()));
                }
                s
            };
            if c.missing.is_empty() && c.unlisted.is_empty() {
                println!("\n{name}: nothing missing");
            }
            if !r.listing.unreached.is_empty() {
                println!(
                    "  lister: not reached by any mod: {}",
                    few(&r.listing.unreached)
                );
            }
            if !r.listing.parse_errors.is_empty() {
                println!(
                    "  lister: tree-sitter parse errors in {}",
                    few(&r.listing.parse_errors)
                );
            }
        }
    }
}
