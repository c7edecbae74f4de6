//! `cargo xtask mine [--repos FILE] [--out DIR] [--fresh] [OWNER/NAME…]`: training pairs for a
//! learned re-ranker, mined from git histories the way `../shared/bench` was built.
//!
//! Each repository is a bare git directory at `/work/.mirror/<owner>+<name>/repo` (override
//! the parent with `PLOKE_MINE_MIRROR`). The tool walks the first-parent history of HEAD from
//! up to 1000 commits back (`--walk`), and takes snapshot revisions on it: the walk's start,
//! then, whenever a usable commit's `.rs` files no longer match the current snapshot, that
//! commit's parent (at most `--max-snapshots` per repository, by default 4 to 40 by size, and
//! spread out). Each snapshot is materialised (`git archive`) under `OUT/src/`, indexed with
//! the release `ploke` (`--no-embed --deps none`) into `OUT/db/`, and its items are read.
//! Every non-merge commit served by a snapshot whose changed `.rs` files are byte-identical in
//! its parent and in the snapshot becomes a pair: the query is the first line of its message,
//! the targets are the innermost indexed items holding the lines it changed (old side:
//! `modified`) or the points where it inserted lines (`insertion`), with the snapshot's spans.
//! Filters (bots, release and formatting messages, short messages, too many files, renames or
//! targets) are counted per reason.
//!
//! Output: `OUT/pairs.jsonl` (the benchmark's query format plus `repo`, `snapshot`, `db`,
//! `root`, `message`, `only_tests`) and `OUT/summary.json`, and a table on stdout. The run is
//! incremental: an index that was completed before is reused (`--fresh` redoes everything).
//! Repositories of the evaluation sets are refused (see [`DENIED`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Repositories kept out of every training set: the evaluation crates (DEV and held-out
/// benchmark splits, question sets). Any repository of these owners or with these names is
/// refused as well.
const DENIED: &[&str] = &[
    "tokio-rs/tokio",
    "rustls/rustls",
    "dtolnay/syn",
    "serde-rs/json",
    "serde-rs/serde",
    "hyperium/hyper",
    "tokio-rs/axum",
    "seanmonstar/reqwest",
    "sharkdp/bat",
    "clap-rs/clap",
    "indexmap-rs/indexmap",
    "bluss/indexmap",
    "sharkdp/fd",
    "image-rs/image",
    "burntsushi/ripgrep",
    "zesterer/flume",
    "tokio-rs/mio",
    "rayon-rs/rayon",
    "tokio-rs/tracing",
    "hyperium/h2",
    "rust-lang/regex",
    "tower-rs/tower",
];
/// Owners whose repositories all belong to evaluation projects.
const DENIED_OWNERS: &[&str] = &[
    "rustls",
    "serde-rs",
    "hyperium",
    "clap-rs",
    "indexmap-rs",
    "image-rs",
    "rayon-rs",
    "tower-rs",
];

/// The walk over the history starts this many first-parent commits before HEAD.
const WALK: usize = 1000;
const MIN_GAP: usize = 4;

/// Snapshots per repository by its size: an index takes about 0.35 MB per thousand lines,
/// and a repository gets about 120 MB of snapshots (4 to 40 of them).
pub fn auto_max_snapshots(rust_lines: usize) -> usize {
    (300_000 / rust_lines.max(1)).clamp(4, 40)
}
const MAX_FILES: usize = 30;
const MAX_RENAMES: usize = 3;
const MAX_TARGETS: usize = 20;

/// Whether a repository (`owner/name`) is one of the evaluation sets' and must not be mined.
pub fn is_denied(repo: &str) -> bool {
    let repo = repo.trim().to_ascii_lowercase();
    let (owner, name) = repo.split_once('/').unwrap_or(("", repo.as_str()));
    DENIED.contains(&repo.as_str())
        || DENIED_OWNERS.contains(&owner)
        || DENIED
            .iter()
            .any(|d| d.split_once('/').map(|(_, n)| n) == Some(name) && name != "json")
}

struct Args {
    repos_file: PathBuf,
    out: PathBuf,
    fresh: bool,
    only: Vec<String>,
    /// How many first-parent commits back from HEAD the walk starts.
    walk: usize,
    /// Most snapshots per repository (default: by size, see [`auto_max_snapshots`]).
    max_snapshots: Option<usize>,
    /// Fewest first-parent steps between two snapshots.
    min_gap: usize,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let root = crate::repo_root();
    let mut a = Args {
        repos_file: root.join("xtask/mine/repos.txt"),
        out: root.join("target/mine"),
        fresh: false,
        only: Vec::new(),
        walk: WALK,
        max_snapshots: None,
        min_gap: MIN_GAP,
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "--repos" => a.repos_file = PathBuf::from(it.next().context("--repos FILE")?),
            "--out" => a.out = PathBuf::from(it.next().context("--out DIR")?),
            "--fresh" => a.fresh = true,
            "--walk" => a.walk = it.next().context("--walk N")?.parse()?,
            "--max-snapshots" => {
                a.max_snapshots = Some(it.next().context("--max-snapshots N")?.parse::<usize>()?.max(1))
            }
            "--min-gap" => a.min_gap = it.next().context("--min-gap N")?.parse()?,
            r if !r.starts_with('-') && r.contains('/') => a.only.push(r.to_string()),
            other => bail!(
                "unknown argument {other}; usage: cargo xtask mine [--repos FILE] [--out DIR] [--fresh] [--walk N] [--max-snapshots N] [--min-gap N] [OWNER/NAME…]"
            ),
        }
    }
    Ok(a)
}

/// The `owner/name` lines of a repository list (`#` starts a comment).
pub fn read_repo_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn run(args: &[String]) -> Result<()> {
    let args = parse_args(args)?;
    let listed = read_repo_list(
        &std::fs::read_to_string(&args.repos_file)
            .with_context(|| format!("reading {}", args.repos_file.display()))?,
    );
    let denied: Vec<&String> = listed
        .iter()
        .chain(&args.only)
        .filter(|r| is_denied(r))
        .collect();
    if !denied.is_empty() {
        bail!("refusing repositories kept for evaluation: {denied:?}");
    }
    let repos: Vec<String> = if args.only.is_empty() {
        listed
    } else {
        args.only.clone()
    };
    let ploke = crate::build_ploke()?;
    let mirror = std::env::var_os("PLOKE_MINE_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/.mirror"));
    std::fs::create_dir_all(args.out.join("src"))?;
    std::fs::create_dir_all(args.out.join("db"))?;

    let mut summaries = Vec::new();
    let mut all_pairs: Vec<Value> = Vec::new();
    for repo in &repos {
        let git = mirror.join(repo.replace('/', "+")).join("repo");
        let mut sum = RepoSummary {
            repo: repo.clone(),
            ..Default::default()
        };
        if !git.is_dir() {
            eprintln!("mine: {repo}: no mirror at {}", git.display());
            sum.notes.push("no mirror".into());
            summaries.push(sum);
            continue;
        }
        match mine_repo(repo, &git, &ploke, &args, &mut sum) {
            Ok(pairs) => all_pairs.extend(pairs),
            Err(e) => {
                eprintln!("mine: {repo}: {e:#}");
                sum.notes.push(format!("error: {e:#}"));
            }
        }
        eprintln!(
            "mine: {repo}: {} snapshots, {} commits, {} kept",
            sum.snapshots.len(),
            sum.seen,
            sum.kept
        );
        summaries.push(sum);
    }

    // With a repository filter, the pairs of the other repositories already mined stay.
    let pairs_path = args.out.join("pairs.jsonl");
    if !args.only.is_empty() {
        if let Ok(old) = std::fs::read_to_string(&pairs_path) {
            let redone: BTreeSet<&str> = repos.iter().map(String::as_str).collect();
            let mut kept: Vec<Value> = old
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| !redone.contains(v["repo"].as_str().unwrap_or("")))
                .collect();
            kept.append(&mut all_pairs);
            all_pairs = kept;
        }
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&pairs_path)?);
    for p in &all_pairs {
        writeln!(f, "{p}")?;
    }
    f.flush()?;

    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    let (mut seen, mut kept, mut snaps) = (0, 0, 0);
    for s in &summaries {
        seen += s.seen;
        kept += s.kept;
        snaps += s.snapshots.len();
        for (k, v) in &s.dropped {
            *totals.entry(k.clone()).or_default() += v;
        }
    }
    let repos_with_pairs: BTreeSet<&str> = all_pairs
        .iter()
        .filter_map(|p| p["repo"].as_str())
        .collect();
    let summary = json!({
        "repos": summaries.len(),
        "repos_with_pairs": repos_with_pairs.len(),
        "snapshots": snaps,
        "commits_seen": seen,
        "kept": kept,
        "pairs_in_file": all_pairs.len(),
        "dropped": totals,
        "per_repo": summaries.iter().map(RepoSummary::to_json).collect::<Vec<_>>(),
    });
    std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;

    println!(
        "{:<34} {:>5} {:>6} {:>5}  dropped",
        "repo", "snaps", "seen", "kept"
    );
    for s in &summaries {
        let d: Vec<String> = s.dropped.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{:<34} {:>5} {:>6} {:>5}  {}{}",
            s.repo,
            s.snapshots.len(),
            s.seen,
            s.kept,
            d.join(" "),
            if s.notes.is_empty() {
                String::new()
            } else {
                format!("  [{}]", s.notes.join("; "))
            }
        );
    }
    let d: Vec<String> = totals.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "{:<34} {:>5} {:>6} {:>5}  {}",
        "TOTAL",
        snaps,
        seen,
        kept,
        d.join(" ")
    );
    println!(
        "{} pairs from {} repositories in {}",
        all_pairs.len(),
        repos_with_pairs.len(),
        pairs_path.display()
    );
    Ok(())
}

#[derive(Default)]
struct RepoSummary {
    repo: String,
    snapshots: Vec<String>,
    seen: usize,
    kept: usize,
    dropped: BTreeMap<String, usize>,
    notes: Vec<String>,
}

impl RepoSummary {
    fn drop(&mut self, reason: &str) {
        *self.dropped.entry(reason.to_string()).or_default() += 1;
    }
    fn to_json(&self) -> Value {
        json!({"repo": self.repo, "snapshots": self.snapshots, "commits_seen": self.seen,
               "kept": self.kept, "dropped": self.dropped, "notes": self.notes})
    }
}

/// Runs git on the bare directory and returns its stdout.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One indexed item of a snapshot.
#[derive(Debug, Clone)]
pub struct Item {
    /// Path relative to the repository root (the git path).
    pub git_path: String,
    /// Path relative to the package root (what `ploke search` shows as `file`).
    pub file: String,
    pub crate_name: String,
    pub kind: String,
    pub name: String,
    pub module: String,
    pub start: u32,
    pub end: u32,
    pub is_test: bool,
}

struct Snapshot {
    rev: String,
    root: PathBuf,
    db: PathBuf,
    /// git path → items of that file.
    items: HashMap<String, Vec<Item>>,
    /// git path → blob id, for the `.rs` files of the snapshot.
    blobs: HashMap<String, String>,
}

fn mine_repo(
    repo: &str,
    git_dir: &Path,
    ploke: &Path,
    args: &Args,
    sum: &mut RepoSummary,
) -> Result<Vec<Value>> {
    let fp: Vec<String> = git(git_dir, &["rev-list", "--first-parent", "HEAD"])?
        .lines()
        .map(str::to_string)
        .collect();
    let mut start_off = (fp.len().saturating_sub(1)).min(args.walk);
    // A mirror can lack some blobs (large files): rename detection, which reads them, is then
    // left out, and if git still cannot read the history the walk starts later (halved).
    let mut renames = true;
    let log = loop {
        if start_off < 10 {
            sum.notes
                .push(format!("history too short or unreadable ({})", fp.len()));
            return Ok(Vec::new());
        }
        let range = format!("{}..{}", fp[start_off], fp[0]);
        let format = "--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%cI%x1f%B%x1f";
        let mut cmd = vec!["log", "--no-merges", "--raw", "--no-abbrev", format, &range];
        if renames {
            cmd.push("-M");
        } else {
            cmd.push("--no-renames");
        }
        match git(git_dir, &cmd) {
            Ok(log) => break log,
            Err(e) => {
                eprintln!("mine: {repo}: history of {start_off} commits unreadable ({e:#})");
                if renames {
                    renames = false;
                    sum.notes.push("no rename detection (blobs missing)".into());
                } else {
                    start_off /= 2;
                }
            }
        }
    };
    let range = format!("{}..{}", fp[start_off], fp[0]);
    let merges: usize = git(git_dir, &["rev-list", "--count", "--merges", &range])?
        .trim()
        .parse()
        .unwrap_or(0);
    sum.seen += merges;
    if merges > 0 {
        *sum.dropped.entry("merge".into()).or_default() += merges;
    }
    let commits: HashMap<String, Commit> = parse_log(&log)
        .into_iter()
        .map(|c| (c.hash.clone(), c))
        .collect();
    sum.seen += commits.len();

    // Walk the first-parent chain from the oldest commit; each step brings one commit (or a
    // merge's branch). A snapshot is where the walk stands; when a usable commit's files no
    // longer match it (and `gap` steps have passed), the step's parent becomes a new one.
    let max_snapshots = match args.max_snapshots {
        Some(n) => n,
        None => {
            let lines: usize = git(git_dir, &["grep", "-c", "", "HEAD", "--", "*.rs"])
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.rsplit(':').next()?.parse::<usize>().ok())
                .sum();
            auto_max_snapshots(lines)
        }
    };
    let plan = plan_snapshots(
        git_dir,
        &fp[..=start_off],
        &commits,
        max_snapshots,
        args.min_gap,
    )?;
    let short_name = repo.rsplit('/').next().unwrap_or(repo);
    let mut pairs = Vec::new();
    for (rev, members) in plan {
        let snap = match prepare_snapshot(repo, git_dir, &rev, ploke, args) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("snapshot {} skipped: {e:#}", &rev[..10]);
                eprintln!("mine: {repo}: {msg}");
                sum.notes.push(msg);
                for _ in &members {
                    sum.drop("snapshot_failed");
                }
                continue;
            }
        };
        sum.snapshots.push(rev.clone());
        for h in &members {
            match pair_for(git_dir, &snap, &commits[h], short_name, repo) {
                Ok(p) => {
                    sum.kept += 1;
                    pairs.push(p);
                }
                Err(Drop(reason)) => sum.drop(reason),
            }
        }
    }
    Ok(pairs)
}

/// One file of a commit's `--raw` diff.
#[derive(Debug, Clone)]
struct RawFile {
    old_blob: String,
    status: char,
    old_path: String,
    new_path: String,
}

#[derive(Debug, Clone)]
struct Commit {
    hash: String,
    parent: String,
    author: String,
    email: String,
    date: String,
    message: String,
    files: Vec<RawFile>,
}

/// Parses `git log --raw --format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%cI%x1f%B%x1f`.
fn parse_log(log: &str) -> Vec<Commit> {
    let mut out = Vec::new();
    for rec in log.split('\x1e') {
        let f: Vec<&str> = rec.splitn(7, '\x1f').collect();
        if f.len() < 7 {
            continue;
        }
        let mut files = Vec::new();
        for line in f[6].lines() {
            let Some((meta, paths)) = line.strip_prefix(':').and_then(|l| l.split_once('\t'))
            else {
                continue;
            };
            let m: Vec<&str> = meta.split(' ').collect();
            let ps: Vec<&str> = paths.split('\t').collect();
            if m.len() < 5 {
                continue;
            }
            files.push(RawFile {
                old_blob: m[2].to_string(),
                status: m[4].chars().next().unwrap_or('M'),
                old_path: ps[0].to_string(),
                new_path: ps.last().copied().unwrap_or(ps[0]).to_string(),
            });
        }
        out.push(Commit {
            hash: f[0].trim().to_string(),
            parent: f[1].split(' ').next().unwrap_or("").to_string(),
            author: f[2].to_string(),
            email: f[3].to_string(),
            date: f[4].to_string(),
            message: f[5].trim().to_string(),
            files,
        });
    }
    out
}

/// Whether a commit could give a pair at all (ignoring the snapshot): the filters that do not
/// need the index.
fn usable(c: &Commit) -> bool {
    !is_bot(&c.author, &c.email)
        && message_filter(&c.message).is_none()
        && c.files.len() <= MAX_FILES
        && c.files
            .iter()
            .any(|f| f.old_path.ends_with(".rs") && !matches!(f.status, 'A' | 'C'))
}

/// Whether every `.rs` file the commit changed that exists in its parent is the same blob in
/// the snapshot.
fn matches_snapshot(c: &Commit, blobs: &HashMap<String, String>) -> bool {
    c.files
        .iter()
        .filter(|f| {
            (f.old_path.ends_with(".rs") || f.new_path.ends_with(".rs"))
                && !matches!(f.status, 'A' | 'C')
        })
        .all(|f| blobs.get(&f.old_path) == Some(&f.old_blob))
}

/// Path → blob id of the `.rs` files of a revision.
fn rs_blobs(git_dir: &Path, rev: &str) -> Result<HashMap<String, String>> {
    let mut blobs = HashMap::new();
    for line in git(git_dir, &["ls-tree", "-r", "--full-tree", rev])?.lines() {
        // `<mode> blob <id>\t<path>`
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        if path.ends_with(".rs") {
            if let Some(id) = meta.split(' ').nth(2) {
                blobs.insert(path.to_string(), id.to_string());
            }
        }
    }
    Ok(blobs)
}

/// The snapshots of a repository and the commits each one serves (`chain` is the first-parent
/// history, newest first, down to the walk's start). The walk goes from the oldest step to
/// HEAD; each step brings one commit (or a merge's branch). When a usable commit's files no
/// longer match the current snapshot and `gap` steps have passed since it, the step's parent
/// becomes the next snapshot.
fn plan_snapshots(
    git_dir: &Path,
    chain: &[String],
    commits: &HashMap<String, Commit>,
    max_snapshots: usize,
    min_gap: usize,
) -> Result<Vec<(String, Vec<String>)>> {
    let steps = chain.len() - 1;
    let gap = (steps / max_snapshots).max(min_gap);
    let mut plan: Vec<(String, Vec<String>)> = vec![(chain[steps].clone(), Vec::new())];
    let mut blobs = rs_blobs(git_dir, &chain[steps])?;
    let mut since = 0;
    for i in (0..steps).rev() {
        let f = &chain[i];
        since += 1;
        let members: Vec<String> = if commits.contains_key(f) {
            vec![f.clone()]
        } else {
            git(
                git_dir,
                &[
                    "rev-list",
                    "--no-merges",
                    "--reverse",
                    &format!("{}..{f}", chain[i + 1]),
                ],
            )?
            .lines()
            .filter(|h| commits.contains_key(*h))
            .map(str::to_string)
            .collect()
        };
        let stale = members
            .iter()
            .any(|h| usable(&commits[h]) && !matches_snapshot(&commits[h], &blobs));
        if stale && since >= gap && plan.len() < max_snapshots {
            plan.push((chain[i + 1].clone(), Vec::new()));
            blobs = rs_blobs(git_dir, &chain[i + 1])?;
            since = 0;
        }
        plan.last_mut().expect("one snapshot").1.extend(members);
    }
    Ok(plan)
}

/// Materialises and indexes one snapshot (reusing a finished index) and reads its items.
fn prepare_snapshot(
    repo: &str,
    git_dir: &Path,
    rev: &str,
    ploke: &Path,
    args: &Args,
) -> Result<Snapshot> {
    let tag = format!("{}@{}", repo.replace('/', "+"), &rev[..10]);
    let src = args.out.join("src").join(&tag);
    let db = args.out.join("db").join(format!("{tag}.db"));
    let done = args.out.join("db").join(format!("{tag}.done"));
    if args.fresh || !done.exists() {
        for d in [&src, &db] {
            if d.exists() {
                std::fs::remove_dir_all(d)?;
            }
        }
        let _ = std::fs::remove_file(&done);
        std::fs::create_dir_all(&src)?;
        // `git archive REV [-- PATHSPEC…]` unpacked into `src`.
        let archive = |pathspec: &str| -> Result<bool> {
            let script = format!(r#"git --git-dir="$1" archive "$2" {pathspec} | tar -x -C "$3""#);
            Ok(Command::new("sh")
                .arg("-c")
                .arg(script)
                .arg("sh")
                .arg(git_dir)
                .arg(rev)
                .arg(&src)
                .status()?
                .success())
        };
        if !archive("")? {
            // A mirror can lack some large blobs: the Rust sources and manifests are enough.
            std::fs::remove_dir_all(&src)?;
            std::fs::create_dir_all(&src)?;
            if !archive("-- ':(glob)**/*.rs' ':(glob)**/Cargo.toml'")? {
                bail!("git archive failed");
            }
        }
        let sub = index_root(&src)?;
        let root = src.join(&sub);
        // Make the tree its own workspace so cargo does not attach it to an enclosing one.
        let manifest = root.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)?;
        if !text.lines().any(|l| l.trim() == "[workspace]") {
            std::fs::write(&manifest, format!("{text}\n[workspace]\n"))?;
        }
        let out = Command::new("nice")
            .arg(ploke)
            .arg("index")
            .arg(&root)
            .arg("--db")
            .arg(&db)
            .args(["--no-embed", "--json", "--deps", "none"])
            .env("PLOKE_EMBED", "off")
            .output()?;
        if !out.status.success() {
            bail!(
                "ploke index failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
        }
        std::fs::write(&done, &sub)?;
    }
    let sub = std::fs::read_to_string(&done)?;
    let root = if sub.is_empty() {
        src.clone()
    } else {
        src.join(&sub)
    };
    let prefix = if sub.is_empty() {
        String::new()
    } else {
        format!("{sub}/")
    };
    let items = read_items(&db, &prefix)?;
    if items.is_empty() {
        bail!("the index holds no items");
    }
    let blobs = rs_blobs(git_dir, rev)?;
    Ok(Snapshot {
        rev: rev.to_string(),
        root,
        db,
        items,
        blobs,
    })
}

/// The directory (relative to `src`) to index: the tree itself when it has a `Cargo.toml`,
/// else the crate directory (one or two levels down) with the most lines of Rust.
fn index_root(src: &Path) -> Result<String> {
    if src.join("Cargo.toml").is_file() {
        return Ok(String::new());
    }
    let mut best: Option<(u64, String)> = None;
    let mut dirs = Vec::new();
    for e in std::fs::read_dir(src)?.flatten() {
        if e.path().is_dir() {
            dirs.push(e.path());
            for e2 in std::fs::read_dir(e.path())?.flatten() {
                if e2.path().is_dir() {
                    dirs.push(e2.path());
                }
            }
        }
    }
    for d in dirs {
        if d.join("Cargo.toml").is_file() {
            let size = rust_bytes(&d);
            if best.as_ref().is_none_or(|(b, _)| size > *b) {
                let rel = d.strip_prefix(src)?.to_string_lossy().into_owned();
                best = Some((size, rel));
            }
        }
    }
    best.map(|(_, d)| d)
        .context("no Cargo.toml at the root or in a crate directory")
}

fn rust_bytes(dir: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                n += rust_bytes(&p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                n += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    n
}

/// The items of an index that a change can target, by git path (`prefix` + the
/// workspace-relative file): everything but crates, inline module bodies, imports, fields,
/// variants and extern blocks (a change there targets the item around it, or nothing).
fn read_items(db: &Path, prefix: &str) -> Result<HashMap<String, Vec<Item>>> {
    use ploke_core::ItemKind as K;
    let g = ploke_db::Db::open(db)?.load_graph()?;
    let rel: HashMap<&str, &str> = g
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.rel_path.as_str()))
        .collect();
    let mut by_file: HashMap<String, Vec<Item>> = HashMap::new();
    for n in &g.nodes {
        if n.is_dependency() {
            continue;
        }
        let skip = match n.kind {
            K::Crate | K::Use | K::ExternCrate | K::Field | K::Variant | K::ExternBlock => true,
            // `mod foo;` declarations are targets; inline module bodies are containers.
            K::Module => n.span.end_line.saturating_sub(n.span.start_line) > 2,
            _ => false,
        };
        if skip {
            continue;
        }
        let git_path = format!("{prefix}{}", n.file);
        by_file.entry(git_path.clone()).or_default().push(Item {
            git_path,
            file: rel
                .get(n.file.as_str())
                .copied()
                .unwrap_or(&n.file)
                .to_string(),
            crate_name: n.crate_name.clone(),
            kind: crate::coverage_top::list_kind(n.kind).to_string(),
            name: n.display_name.clone(),
            module: n.module.clone(),
            start: n.span.start_line,
            end: n.span.end_line,
            is_test: n.is_test,
        });
    }
    Ok(by_file)
}

/// Why a commit gave no pair.
struct Drop(&'static str);

/// Why a commit message makes a poor query, if it does.
pub fn message_filter(message: &str) -> Option<&'static str> {
    let first = message.lines().next().unwrap_or("").trim();
    let q = query_of(message);
    let lower = first.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '.' && c != '-' && c != '_')
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let is_version = |w: &str| {
        let (v, rest) = match w.strip_prefix('v') {
            Some(r) => (true, r),
            None => (false, w),
        };
        let parts: Vec<&str> = rest.split('.').collect();
        parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && (parts.len() >= 3 || (v && parts.len() >= 2))
    };
    if lower.starts_with("merge ")
        || lower.starts_with("revert \"merge")
        || has("bump")
        || has("bumped")
        || lower.starts_with("release")
        || lower.starts_with("prepare")
        || lower.contains("prepare release")
        || lower.contains("prepare for release")
        || lower.contains("cargo update")
        || lower.starts_with("update changelog")
        || lower.starts_with("changelog")
        || lower.starts_with("chore(release")
        || lower.starts_with("chore: release")
        || words.iter().any(|w| is_version(w))
    {
        return Some("message_release");
    }
    if [
        "fmt",
        "rustfmt",
        "reformat",
        "reformatted",
        "formatting",
        "clippy",
        "typo",
        "typos",
        "whitespace",
    ]
    .iter()
    .any(|w| has(w))
        || lower.starts_with("format ")
        || lower == "format"
    {
        return Some("message_format");
    }
    if q.chars().count() < 12 || q.split_whitespace().count() < 3 {
        return Some("message_short");
    }
    None
}

/// The query for a commit message: its first line without a trailing ` (#123)`.
pub fn query_of(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    if let Some(open) = first.rfind(" (#") {
        let tail = &first[open + 3..];
        if let Some(num) = tail.strip_suffix(')') {
            if !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()) {
                return first[..open].trim_end().to_string();
            }
        }
    }
    first.to_string()
}

fn is_bot(author: &str, email: &str) -> bool {
    let a = format!("{author} {email}").to_lowercase();
    ["dependabot", "renovate", "github-actions", "[bot]", "bors"]
        .iter()
        .any(|b| a.contains(b))
}

/// `@@ -a,b +c,d @@` → (a, b, c, d); a missing count is 1.
pub fn parse_hunk_header(line: &str) -> Option<(u32, u32, u32, u32)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let parse = |s: &str| -> Option<(u32, u32)> {
        match s.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (a, b) = parse(old)?;
    let (c, d) = parse(new)?;
    Some((a, b, c, d))
}

/// The innermost item holding `line` (the smallest span; on a tie the later start).
pub fn innermost_at(items: &[Item], line: u32) -> Option<usize> {
    innermost(items, |it| it.start <= line && line <= it.end)
}

/// The innermost item holding the point after `line` where lines were inserted: the item
/// holds both `line` and `line + 1` (an insertion right after an item's last line is outside
/// it).
pub fn innermost_insertion(items: &[Item], line: u32) -> Option<usize> {
    innermost(items, |it| it.start <= line && line < it.end)
}

fn innermost(items: &[Item], holds: impl Fn(&Item) -> bool) -> Option<usize> {
    items
        .iter()
        .enumerate()
        .filter(|(_, it)| holds(it))
        .min_by_key(|(_, it)| (it.end - it.start, std::cmp::Reverse(it.start)))
        .map(|(i, _)| i)
}

/// One file's hunks: old path and (old start, old count) per hunk, with whether every changed
/// line of the file is a comment or blank.
#[derive(Debug, Default, PartialEq)]
pub struct FileHunks {
    pub old_path: String,
    pub hunks: Vec<(u32, u32)>,
    pub comments_only: bool,
}

/// Parses `git diff -U0` output into hunks per old file (new files are left out).
pub fn parse_diff(diff: &str) -> Vec<FileHunks> {
    let mut files: Vec<FileHunks> = Vec::new();
    let mut cur: Option<FileHunks> = None;
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            files.extend(cur.take());
        } else if let Some(p) = line.strip_prefix("--- ") {
            if let Some(p) = p.strip_prefix("a/") {
                cur = Some(FileHunks {
                    old_path: p.to_string(),
                    hunks: Vec::new(),
                    comments_only: true,
                });
            }
        } else if line.starts_with("+++ ") {
        } else if line.starts_with("@@ ") {
            if let (Some(c), Some((a, b, _, _))) = (cur.as_mut(), parse_hunk_header(line)) {
                c.hunks.push((a, b));
            }
        } else if let Some(text) = line.strip_prefix('+').or_else(|| line.strip_prefix('-')) {
            if let Some(c) = cur.as_mut() {
                let t = text.trim();
                if !(t.is_empty() || t.starts_with("//")) {
                    c.comments_only = false;
                }
            }
        }
    }
    files.extend(cur);
    files
}

/// Identifier or phrase → lowercase words (`JoinHandle`, `join_handle`, `join handle` →
/// `join handle`).
fn words_of(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tok in s.split(|c: char| !c.is_alphanumeric()) {
        let mut w = String::new();
        let chars: Vec<char> = tok.chars().collect();
        for (i, &ch) in chars.iter().enumerate() {
            let boundary = ch.is_uppercase()
                && i > 0
                && (chars[i - 1].is_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                        && chars[i - 1].is_uppercase());
            if boundary && !w.is_empty() {
                out.push(std::mem::take(&mut w));
            }
            w.extend(ch.to_lowercase());
        }
        if !w.is_empty() {
            out.push(w);
        }
    }
    out
}

/// Whether the query names the item: its last name segment (the self type of an impl) as a
/// word, case-insensitively, written as one word or in snake/camel/spaced form.
pub fn mentions_name(query: &str, name: &str) -> bool {
    let last = if let Some(imp) = name.strip_prefix("impl ") {
        imp.rsplit(' ').next().unwrap_or(imp)
    } else {
        name.rsplit("::").next().unwrap_or(name)
    };
    let target = words_of(last);
    if target.is_empty() {
        return false;
    }
    let q = words_of(query);
    let joined = target.concat();
    q.contains(&joined) || q.windows(target.len()).any(|w| w == target.as_slice())
}

fn is_test_path(path: &str) -> bool {
    path.split('/')
        .any(|c| matches!(c, "tests" | "benches" | "examples" | "test" | "bench"))
}

fn pair_for(
    git_dir: &Path,
    snap: &Snapshot,
    c: &Commit,
    short_name: &str,
    repo: &str,
) -> Result<Value, Drop> {
    if is_bot(&c.author, &c.email) {
        return Err(Drop("bot"));
    }
    if let Some(r) = message_filter(&c.message) {
        return Err(Drop(r));
    }
    if c.parent.is_empty() {
        return Err(Drop("root_commit"));
    }
    let n_files = c.files.len();
    if n_files > MAX_FILES {
        return Err(Drop("too_many_files"));
    }
    if c.files.iter().filter(|f| f.status == 'R').count() > MAX_RENAMES {
        return Err(Drop("too_many_renames"));
    }
    let mut touched = Vec::new();
    let mut rs_old: Vec<String> = Vec::new();
    for f in &c.files {
        if !(f.old_path.ends_with(".rs") || f.new_path.ends_with(".rs")) {
            continue;
        }
        if f.old_path.starts_with('"') || f.new_path.starts_with('"') {
            return Err(Drop("quoted_path"));
        }
        touched.push(f.new_path.clone());
        if matches!(f.status, 'A' | 'C') {
            continue;
        }
        if snap.blobs.get(&f.old_path) != Some(&f.old_blob) {
            return Err(Drop("parent_differs_from_snapshot"));
        }
        rs_old.push(f.old_path.clone());
    }
    if touched.is_empty() {
        return Err(Drop("no_rust_change"));
    }
    if rs_old.is_empty() {
        return Err(Drop("only_new_files"));
    }
    let mut args: Vec<&str> = vec![
        "diff",
        "-U0",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        &c.parent,
        &c.hash,
        "--",
    ];
    // With -M both sides of a rename have to be named for git to pair them.
    let touched_refs: Vec<&str> = touched.iter().map(String::as_str).collect();
    let olds: Vec<&str> = rs_old.iter().map(String::as_str).collect();
    args.extend(olds.iter().chain(&touched_refs));
    let diff = git(git_dir, &args).map_err(|_| Drop("git_error"))?;
    let mut targets: BTreeMap<(String, u32, String), (&Item, &'static str)> = BTreeMap::new();
    let mut comments_only = true;
    let mut files_outside_index = 0;
    for fh in parse_diff(&diff) {
        if !rs_old.contains(&fh.old_path) {
            continue;
        }
        comments_only &= fh.comments_only;
        let Some(items) = snap.items.get(&fh.old_path) else {
            files_outside_index += 1;
            continue;
        };
        for &(a, b) in &fh.hunks {
            if b == 0 {
                if let Some(i) = innermost_insertion(items, a) {
                    let it = &items[i];
                    targets
                        .entry((it.git_path.clone(), it.start, it.name.clone()))
                        .or_insert((it, "insertion"));
                }
            } else {
                for line in a..a + b {
                    if let Some(i) = innermost_at(items, line) {
                        let it = &items[i];
                        let e = targets
                            .entry((it.git_path.clone(), it.start, it.name.clone()))
                            .or_insert((it, "modified"));
                        e.1 = "modified";
                    }
                }
            }
        }
    }
    if targets.is_empty() {
        return Err(Drop(if files_outside_index > 0 {
            "files_not_indexed"
        } else {
            "no_targets"
        }));
    }
    if targets.len() > MAX_TARGETS {
        return Err(Drop("too_many_targets"));
    }
    let query = query_of(&c.message);
    let tlist: Vec<Value> = targets
        .values()
        .map(|(it, via)| {
            json!({"file": it.file, "path": it.git_path, "crate": it.crate_name, "kind": it.kind,
                   "name": it.name, "module": it.module, "start_line": it.start,
                   "end_line": it.end, "via": via, "is_test": it.is_test})
        })
        .collect();
    let mentions = targets
        .values()
        .any(|(it, _)| mentions_name(&query, &it.name));
    let mentions_file = touched.iter().any(|p| {
        let stem = Path::new(p)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        !matches!(stem, "mod" | "lib" | "main") && mentions_name(&query, stem)
    });
    let only_tests =
        touched.iter().all(|p| is_test_path(p)) || targets.values().all(|(it, _)| it.is_test);
    Ok(json!({
        "id": format!("{short_name}-{}", &c.hash[..10]),
        "repo": repo,
        "crate": short_name,
        "version": &snap.rev[..10],
        "snapshot": snap.rev,
        "db": snap.db.display().to_string(),
        "root": snap.root.display().to_string(),
        "query": query,
        "message": c.message,
        "commit": c.hash,
        "parent": c.parent,
        "date": c.date,
        "targets": tlist,
        "n_targets": targets.len(),
        "mentions_target_name": mentions,
        "mentions_target_file": mentions_file,
        "doc_only": comments_only,
        "only_tests": only_tests,
        "touched_files": touched,
        "n_files_changed": n_files,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, start: u32, end: u32) -> Item {
        Item {
            git_path: "src/lib.rs".into(),
            file: "src/lib.rs".into(),
            crate_name: "c".into(),
            kind: "fn".into(),
            name: name.into(),
            module: String::new(),
            start,
            end,
            is_test: false,
        }
    }

    #[test]
    fn hunk_headers() {
        assert_eq!(
            parse_hunk_header("@@ -12,3 +12,4 @@ fn foo()"),
            Some((12, 3, 12, 4))
        );
        assert_eq!(parse_hunk_header("@@ -5 +5 @@"), Some((5, 1, 5, 1)));
        assert_eq!(parse_hunk_header("@@ -7,0 +8,2 @@"), Some((7, 0, 8, 2)));
        assert_eq!(parse_hunk_header("@@ -0,0 +1,20 @@"), Some((0, 0, 1, 20)));
        assert_eq!(parse_hunk_header("not a hunk"), None);
    }

    #[test]
    fn diff_parsing() {
        let d = "diff --git a/src/a.rs b/src/a.rs\nindex 1..2 100644\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -3,2 +3,2 @@ x\n-    let a = 1;\n+    let a = 2;\n@@ -10,0 +11 @@\n+// note\ndiff --git a/src/new.rs b/src/new.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/new.rs\n@@ -0,0 +1 @@\n+fn x() {}\ndiff --git a/src/b.rs b/src/b.rs\n--- a/src/b.rs\n+++ b/src/b.rs\n@@ -1 +1 @@\n-/// old doc\n+/// new doc\n";
        let f = parse_diff(d);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].old_path, "src/a.rs");
        assert_eq!(f[0].hunks, vec![(3, 2), (10, 0)]);
        assert!(!f[0].comments_only);
        assert_eq!(f[1].old_path, "src/b.rs");
        assert!(f[1].comments_only);
    }

    #[test]
    fn innermost_items() {
        let items = vec![
            item("impl Foo", 10, 50),
            item("Foo::a", 12, 20),
            item("Foo::b", 22, 48),
            item("free", 60, 70),
        ];
        assert_eq!(innermost_at(&items, 15), Some(1));
        assert_eq!(innermost_at(&items, 21), Some(0));
        assert_eq!(innermost_at(&items, 48), Some(2));
        assert_eq!(innermost_at(&items, 55), None);
        assert_eq!(innermost_at(&items, 5), None);
        // Insertion after line 20 (the last line of Foo::a) is in the impl, not in Foo::a.
        assert_eq!(innermost_insertion(&items, 20), Some(0));
        assert_eq!(innermost_insertion(&items, 19), Some(1));
        // After the impl's closing line: outside everything.
        assert_eq!(innermost_insertion(&items, 50), None);
        assert_eq!(innermost_insertion(&items, 0), None);
    }

    #[test]
    fn message_filters() {
        assert_eq!(
            message_filter("Bump version to 1.2.3"),
            Some("message_release")
        );
        assert_eq!(message_filter("v0.4.2"), Some("message_release"));
        assert_eq!(message_filter("Release 2.0.0"), Some("message_release"));
        assert_eq!(
            message_filter("Prepare for the 0.5 release"),
            Some("message_release")
        );
        assert_eq!(
            message_filter("Merge pull request #12 from a/b"),
            Some("message_release")
        );
        assert_eq!(
            message_filter("cargo update and friends"),
            Some("message_release")
        );
        assert_eq!(
            message_filter("Update CHANGELOG for next"),
            Some("message_release")
        );
        assert_eq!(message_filter("Run cargo fmt"), Some("message_format"));
        assert_eq!(
            message_filter("Fix clippy warnings in parser"),
            Some("message_format")
        );
        assert_eq!(
            message_filter("fix typo in docs of Foo"),
            Some("message_format")
        );
        assert_eq!(message_filter("Fix bug"), Some("message_short"));
        assert_eq!(
            message_filter("Refactoring everything"),
            Some("message_short")
        );
        assert_eq!(message_filter("Fix parsing of 1.0 floats in arrays"), None);
        assert_eq!(
            message_filter("Add a timeout to the connection pool (#123)\n\nlong body"),
            None
        );
    }

    #[test]
    fn queries() {
        assert_eq!(
            query_of("Add timeout to pool (#123)\n\nbody"),
            "Add timeout to pool"
        );
        assert_eq!(query_of("Add timeout (#abc)"), "Add timeout (#abc)");
        assert_eq!(query_of("  Fix x  "), "Fix x");
    }

    #[test]
    fn mentions() {
        assert!(mentions_name("Make JoinHandle cancel safe", "JoinHandle"));
        assert!(mentions_name("make join handle cancel safe", "JoinHandle"));
        assert!(mentions_name("fix join_handle drop", "JoinHandle::drop"));
        assert!(mentions_name("speed up spawnBlocking", "spawn_blocking"));
        assert!(mentions_name("fix Debug for Foo", "impl Debug for Foo"));
        assert!(!mentions_name("fix the handle leak", "JoinHandle"));
        assert!(!mentions_name("faster parsing", "parse"));
    }

    #[test]
    fn deny_list() {
        for r in [
            "tokio-rs/tokio",
            "Tokio-rs/Tokio",
            "BurntSushi/ripgrep",
            "zesterer/flume",
            "rustls/webpki",
            "serde-rs/serde",
            "rust-lang/regex",
            "someone/ripgrep",
            "bluss/indexmap",
        ] {
            assert!(is_denied(r), "{r}");
        }
        for r in [
            "tokio-rs/bytes",
            "rust-lang/log",
            "dtolnay/anyhow",
            "crossbeam-rs/crossbeam",
        ] {
            assert!(!is_denied(r), "{r}");
        }
        let listed = read_repo_list(include_str!("../mine/repos.txt"));
        assert!(listed.len() >= 40);
        for r in &listed {
            assert!(!is_denied(r), "{r} is kept for evaluation");
        }
    }

    #[test]
    fn log_and_snapshot_match() {
        let log = "\x1eaaaa\x1fpppp\x1fAnn\x1fann@x\x1f2024-01-01T00:00:00Z\x1fFix the pool timeout\n\nbody\n\x1f\n\n:100644 100644 1111 2222 M\tsrc/pool.rs\n:000000 100644 0000 3333 A\tsrc/new.rs\n:100644 100644 4444 5555 R090\tsrc/old.rs\tsrc/renamed.rs\n";
        let c = parse_log(log);
        assert_eq!(c.len(), 1);
        let c = &c[0];
        assert_eq!((c.hash.as_str(), c.parent.as_str()), ("aaaa", "pppp"));
        assert_eq!(c.message, "Fix the pool timeout\n\nbody");
        assert_eq!(c.files.len(), 3);
        assert_eq!(c.files[2].status, 'R');
        assert_eq!(
            (c.files[2].old_path.as_str(), c.files[2].new_path.as_str()),
            ("src/old.rs", "src/renamed.rs")
        );
        assert!(usable(c));
        let mut blobs: HashMap<String, String> = [("src/pool.rs", "1111"), ("src/old.rs", "4444")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert!(matches_snapshot(c, &blobs));
        blobs.insert("src/pool.rs".into(), "9999".into());
        assert!(!matches_snapshot(c, &blobs));
    }
}
