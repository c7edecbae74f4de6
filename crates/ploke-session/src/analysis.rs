//! The analyses the index keeps (see `ploke-analyze`), as session operations every front end
//! shares: the impact of changing items (or the files of a diff) with the tests that reach
//! them, the tests of an item, dead code candidates, module dependencies and cycles, the
//! public API and its difference between two generations (or another index), and
//! per-function metrics.

use std::path::Path;
use std::process::Command;

use ploke_analyze::{ApiDiff, ApiItem, CodeGraph, FnMetrics};
use ploke_core::{ItemKind, Node, NodeId};
use ploke_db::Db;
use serde::Serialize;

use crate::results::ItemRef;
use crate::{Session, SessionError};

/// An item a change reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactedItem {
    #[serde(flatten)]
    pub item: ItemRef,
    /// Steps from the changed items.
    pub depth: u32,
    /// How it depends on `from` (`calls`, `uses type`, `implements`, `dispatch`, …).
    pub via: String,
    /// The path of the item it depends on, one step closer to the change.
    pub from: String,
}

/// A test that reaches a changed item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReachingTest {
    #[serde(flatten)]
    pub item: ItemRef,
    /// Calls from the test to the nearest changed item.
    pub depth: u32,
    /// The `cargo test` arguments that run it alone: `--test sync_mutex locks_once`, or
    /// `--lib module::tests::name`.
    pub run: Vec<String>,
}

/// What a change of some items reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// The changed items.
    pub changed: Vec<ItemRef>,
    /// Items that depend on them, nearest first (tests are listed in `tests`).
    pub impacted: Vec<ImpactedItem>,
    /// The tests that reach them through calls, nearest first.
    pub tests: Vec<ReachingTest>,
    /// The `cargo test` targets that contain those tests (`--lib`, `--test NAME`, …).
    pub targets: Vec<String>,
}

/// What running the tests an edit reaches said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TestRun {
    /// Whether every run passed.
    pub passed: bool,
    /// The `cargo test` commands run.
    pub commands: Vec<String>,
    /// Their `test result:` lines (or the last lines of a run that did not get that far).
    pub results: Vec<String>,
    /// The tests that failed.
    pub failed: Vec<String>,
}

/// A dead code candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadItem {
    #[serde(flatten)]
    pub item: ItemRef,
    pub reason: String,
}

/// Modules that depend on each other in a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleCycle {
    pub modules: Vec<ItemRef>,
}

/// A function's metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionMetrics {
    #[serde(flatten)]
    pub item: ItemRef,
    #[serde(flatten)]
    pub metrics: FnMetrics,
}

impl Session {
    /// Whether the index holds the analyses (an index written before ploke kept them has
    /// none until its next index run).
    pub fn has_analysis(&self) -> Result<bool, SessionError> {
        Ok(self
            .db
            .get_meta(ploke_db::ANALYSIS_KEY)?
            .is_some_and(|g| !g.is_empty()))
    }

    /// How many tests reach the item with id `id` (16 hex digits) through calls.
    pub fn test_count(&self, id: &str) -> Result<usize, SessionError> {
        match NodeId::from_hex(id) {
            Some(id) => Ok(self.db.tests_of(id)?.len()),
            None => Ok(0),
        }
    }

    fn item_ref(&self, db: &Db, n: &Node) -> ItemRef {
        let c = self.crate_of(db, &n.crate_name, &n.file);
        ItemRef::of(
            n,
            c.as_ref().map(|c| c.package.as_str()),
            c.as_ref().map(|c| c.version.as_str()),
        )
    }

    fn refs(&self, ids: &[NodeId]) -> Result<Vec<ItemRef>, SessionError> {
        let nodes = self.db.nodes_by_ids(ids)?;
        let by: std::collections::HashMap<NodeId, &Node> =
            nodes.iter().map(|n| (n.id, n)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| by.get(id))
            .map(|n| self.item_ref(&self.db, n))
            .collect())
    }

    /// What changing the items `target` names (a path or a name, as `item` takes) reaches,
    /// at most `depth` steps away.
    pub fn impact(&self, target: &str, depth: u32) -> Result<Impact, SessionError> {
        let lookup = self.lookup(target)?;
        let ids: Vec<NodeId> = lookup
            .items
            .iter()
            .filter_map(|v| NodeId::from_hex(&v.item.id))
            .collect();
        self.impact_of(&ids, depth)
    }

    /// What the changes since `rev` (default `HEAD`: the working tree's uncommitted changes)
    /// reach: the items whose lines a `git diff` touches, and what depends on them.
    pub fn impact_of_diff(&self, rev: Option<&str>, depth: u32) -> Result<Impact, SessionError> {
        let root = &self.location().root;
        let ranges = git_diff_ranges(root, rev.unwrap_or("HEAD"))?;
        let ids = self.items_in_ranges(&ranges)?;
        self.impact_of(&ids, depth)
    }

    /// The innermost items whose lines meet `ranges` (1-based, inclusive, by
    /// workspace-relative file): a changed method, not its impl and module too.
    pub(crate) fn items_in_ranges(
        &self,
        ranges: &std::collections::HashMap<String, Vec<(u32, u32)>>,
    ) -> Result<Vec<NodeId>, SessionError> {
        let nodes = self.db.all_nodes()?;
        let mut ids: Vec<NodeId> = Vec::new();
        for n in &nodes {
            if matches!(n.kind, ItemKind::Crate | ItemKind::Module | ItemKind::Use) {
                continue;
            }
            let Some(rs) = ranges.get(&n.file) else {
                continue;
            };
            if rs
                .iter()
                .any(|&(a, b)| a <= n.span.end_line && n.span.start_line <= b)
            {
                ids.push(n.id);
            }
        }
        // The innermost items only: a changed method, not its impl and module too.
        let changed: std::collections::HashSet<NodeId> = ids.iter().copied().collect();
        let inner: Vec<NodeId> = nodes
            .iter()
            .filter(|n| changed.contains(&n.id))
            .filter(|n| {
                !nodes
                    .iter()
                    .any(|c| c.parent == Some(n.id) && changed.contains(&c.id))
            })
            .map(|n| n.id)
            .collect();
        Ok(inner)
    }

    /// Runs `tests` with `cargo test`, one run per target (`-- --exact` and their names), in
    /// the workspace root; what they said.
    pub fn run_tests(&self, tests: &[ReachingTest]) -> Result<TestRun, SessionError> {
        let groups = test_runs(tests);
        let mut run = TestRun {
            passed: true,
            ..TestRun::default()
        };
        for (target, filters) in groups {
            let mut cmd = Command::new("cargo");
            cmd.arg("test")
                .args(&target)
                .arg("--")
                .arg("--exact")
                .args(&filters)
                .current_dir(&self.location().root)
                .env("CARGO_TERM_COLOR", "never");
            run.commands.push(format!(
                "cargo test {} -- --exact {}",
                target.join(" "),
                filters.join(" ")
            ));
            let out = cmd
                .output()
                .map_err(|e| SessionError::Analysis(format!("running cargo test: {e}")))?;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for line in text.lines() {
                if line.starts_with("test result:") {
                    run.results.push(line.to_string());
                } else if let Some(name) = line
                    .strip_prefix("test ")
                    .and_then(|l| l.strip_suffix(" ... FAILED"))
                {
                    run.failed.push(name.to_string());
                }
            }
            if !out.status.success() {
                run.passed = false;
                if run.failed.is_empty() {
                    // It did not build, or cargo refused: its last words.
                    let tail: Vec<&str> = text.lines().rev().take(20).collect();
                    run.results
                        .extend(tail.into_iter().rev().map(str::to_string));
                }
            }
        }
        Ok(run)
    }

    /// What changing the items `ids` reaches.
    pub fn impact_of(&self, ids: &[NodeId], depth: u32) -> Result<Impact, SessionError> {
        let g = self.db.load_graph()?;
        let cg = CodeGraph::new(&g.nodes, &g.edges);
        let hit = ploke_analyze::impact(&cg, ids, depth);
        let node = |id: NodeId| cg.index_of(id).map(|i| cg.node(i));
        let mut impacted = Vec::new();
        for h in &hit {
            let Some(n) = node(h.id) else { continue };
            if ploke_analyze::is_test_fn(n) {
                continue;
            }
            impacted.push(ImpactedItem {
                item: self.item_ref(&self.db, n),
                depth: h.depth,
                via: h.via.as_str().to_string(),
                from: node(h.from).map(|f| f.path.clone()).unwrap_or_default(),
            });
        }
        let mut tests = Vec::new();
        let mut targets = Vec::new();
        for (t, depth) in self.db.tests_of_any(ids)? {
            let Some(n) = node(t) else { continue };
            let root_file = crate_root_file(&cg, n);
            let (target, filter) = test_target(&g.crates, n, &root_file);
            let mut run = target.clone();
            run.push(filter);
            let target = target.join(" ");
            if !targets.contains(&target) {
                targets.push(target);
            }
            tests.push(ReachingTest {
                item: self.item_ref(&self.db, n),
                depth,
                run,
            });
        }
        Ok(Impact {
            changed: self.refs(ids)?,
            impacted,
            tests,
            targets,
        })
    }

    /// The tests that reach the items `target` names, nearest first.
    pub fn tests_of(&self, target: &str) -> Result<Vec<ReachingTest>, SessionError> {
        Ok(self.impact(target, 0)?.tests)
    }

    /// Dead code candidates, by file and line.
    pub fn dead_code(&self) -> Result<Vec<DeadItem>, SessionError> {
        let dead = self.db.dead_code()?;
        let ids: Vec<NodeId> = dead.iter().map(|(id, _)| *id).collect();
        let nodes = self.db.nodes_by_ids(&ids)?;
        let by: std::collections::HashMap<NodeId, &Node> =
            nodes.iter().map(|n| (n.id, n)).collect();
        let mut out: Vec<DeadItem> = dead
            .iter()
            .filter_map(|(id, reason)| {
                let n = by.get(id)?;
                Some(DeadItem {
                    item: self.item_ref(&self.db, n),
                    reason: reason.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.item.file, a.item.start_line).cmp(&(&b.item.file, b.item.start_line))
        });
        Ok(out)
    }

    /// The module cycles of every crate.
    pub fn module_cycles(&self) -> Result<Vec<ModuleCycle>, SessionError> {
        self.db
            .module_cycles()?
            .iter()
            .map(|c| {
                Ok(ModuleCycle {
                    modules: self.refs(c)?,
                })
            })
            .collect()
    }

    /// The module dependencies: (from, to, uses), by module path.
    pub fn module_deps(&self) -> Result<Vec<(String, String, u32)>, SessionError> {
        let deps = self.db.module_deps()?;
        let mut ids: Vec<NodeId> = deps.iter().flat_map(|d| [d.from, d.to]).collect();
        ids.sort_unstable();
        ids.dedup();
        let nodes = self.db.nodes_by_ids(&ids)?;
        let path: std::collections::HashMap<NodeId, &str> =
            nodes.iter().map(|n| (n.id, n.path.as_str())).collect();
        let mut out: Vec<(String, String, u32)> = deps
            .iter()
            .filter_map(|d| {
                Some((
                    path.get(&d.from)?.to_string(),
                    path.get(&d.to)?.to_string(),
                    d.uses,
                ))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// The public API of the workspace's library crates as of the newest analysis.
    pub fn api(&self) -> Result<Vec<ApiItem>, SessionError> {
        match self.db.api_generations()?.last() {
            Some(&g) => Ok(self.db.api_surface(g)?),
            None => Ok(Vec::new()),
        }
    }

    /// The generations whose API surface is kept (each where it changed).
    pub fn api_generations(&self) -> Result<Vec<u64>, SessionError> {
        Ok(self.db.api_generations()?)
    }

    /// How the public API changed from generation `from` (default: the surface before the
    /// newest) to `to` (default: the newest).
    pub fn api_diff(&self, from: Option<u64>, to: Option<u64>) -> Result<ApiDiff, SessionError> {
        let gens = self.db.api_generations()?;
        // The surface in force at a generation: the newest kept at or before it.
        let at = |g: u64| gens.iter().rev().find(|&&k| k <= g).copied();
        let to = match to {
            Some(t) => at(t),
            None => gens.last().copied(),
        };
        let from = match from {
            Some(f) => at(f),
            None => to.and_then(|t| gens.iter().rev().find(|&&k| k < t).copied()),
        };
        let surface = |g: Option<u64>| match g {
            Some(g) => self.db.api_surface(g),
            None => Ok(Vec::new()),
        };
        Ok(ploke_analyze::api_diff(&surface(from)?, &surface(to)?))
    }

    /// How the public API of this workspace differs from that of the index in `other`
    /// (another checkout or version; `other` is the old side).
    pub fn api_diff_against(&self, other: &Session) -> Result<ApiDiff, SessionError> {
        Ok(ploke_analyze::api_diff(&other.api()?, &self.api()?))
    }

    /// Per-function metrics, most complex first.
    pub fn metrics(&self) -> Result<Vec<FunctionMetrics>, SessionError> {
        let all = self.db.all_metrics()?;
        let ids: Vec<NodeId> = all.iter().map(|(id, _, _)| *id).collect();
        let nodes = self.db.nodes_by_ids(&ids)?;
        let by: std::collections::HashMap<NodeId, &Node> =
            nodes.iter().map(|n| (n.id, n)).collect();
        let mut out: Vec<FunctionMetrics> = all
            .iter()
            .filter_map(|(id, _, m)| {
                Some(FunctionMetrics {
                    item: self.item_ref(&self.db, by.get(id)?),
                    metrics: *m,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.metrics
                .cyclomatic
                .cmp(&a.metrics.cyclomatic)
                .then_with(|| a.item.path.cmp(&b.item.path))
        });
        Ok(out)
    }
}

/// `tests` by the `cargo test` target arguments that run them (`-p P --test T`), each with
/// the names that select them there, in the order the targets first appear.
pub fn test_runs(tests: &[ReachingTest]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut groups: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for t in tests {
        let Some((filter, target)) = t.run.split_last() else {
            continue;
        };
        match groups.iter_mut().find(|(g, _)| g.as_slice() == target) {
            Some((_, fs)) => fs.push(filter.clone()),
            None => groups.push((target.to_vec(), vec![filter.clone()])),
        }
    }
    groups
}

/// The file of the crate root that holds `n`.
fn crate_root_file(cg: &CodeGraph<'_>, n: &Node) -> String {
    let mut at = Some(n);
    while let Some(c) = at {
        if c.kind == ItemKind::Crate {
            return c.file.clone();
        }
        at = c.parent.and_then(|p| cg.index_of(p)).map(|i| cg.node(i));
    }
    String::new()
}

/// The `cargo test` arguments that select a test function's target, and the filter that
/// selects the test in it.
fn test_target(
    crates: &[ploke_core::CrateRecord],
    test: &Node,
    root_file: &str,
) -> (Vec<String>, String) {
    let krate = crates
        .iter()
        .find(|c| c.name == test.crate_name && c.root_file == root_file);
    let filter = test
        .path
        .split_once("::")
        .map_or(test.path.as_str(), |(_, rest)| rest)
        .to_string();
    let mut args = Vec::new();
    if let Some(c) = krate {
        args.extend(["-p".to_string(), c.package.clone()]);
    }
    match krate.map(|c| c.kind) {
        Some(ploke_core::TargetKind::Test) => {
            args.extend(["--test".into(), test.crate_name.clone()])
        }
        Some(ploke_core::TargetKind::Bin) => args.extend(["--bin".into(), test.crate_name.clone()]),
        Some(ploke_core::TargetKind::Example) => {
            args.extend(["--example".into(), test.crate_name.clone()])
        }
        Some(ploke_core::TargetKind::Bench) => {
            args.extend(["--bench".into(), test.crate_name.clone()])
        }
        _ => args.push("--lib".into()),
    }
    (args, filter)
}

/// The changed line ranges (new side) of every file `git diff REV` names, by
/// workspace-relative path.
fn git_diff_ranges(
    root: &Path,
    rev: &str,
) -> Result<std::collections::HashMap<String, Vec<(u32, u32)>>, SessionError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["diff", "--no-color", "--unified=0", "--relative", rev, "--"])
        .output()
        .map_err(|e| SessionError::Analysis(format!("running git diff {rev}: {e}")))?;
    if !out.status.success() {
        return Err(SessionError::Analysis(format!(
            "git diff {rev} in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut ranges: std::collections::HashMap<String, Vec<(u32, u32)>> = Default::default();
    let mut file: Option<String> = None;
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("+++ ") {
            file = p.strip_prefix("b/").map(str::to_string);
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            let (Some(f), Some(new)) = (&file, rest.split_whitespace().nth(1)) else {
                continue;
            };
            let new = new.trim_start_matches('+');
            let mut it = new.split(',');
            let start: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let len: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(1);
            // A pure removal (`+N,0`) touches the item around line N.
            let end = start + len.saturating_sub(1);
            ranges
                .entry(f.clone())
                .or_default()
                .push((start.max(1), end.max(start.max(1))));
        }
    }
    Ok(ranges)
}
