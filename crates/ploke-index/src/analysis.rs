//! Keeps the analyses of `ploke-analyze` current with every commit, in the same transaction:
//! the linear ones (dead code, module dependencies and cycles, the public API) are computed
//! again over the whole graph in memory; the test map only for the tests a change can
//! affect (those that reach a changed item now, or reached one before); metrics only for
//! functions whose text changed. What is written is the difference from what is stored.

use std::sync::Arc;
use std::time::Instant;

use fxhash::{FxHashMap, FxHashSet};
use ploke_analyze::{ApiItem, CodeGraph, TestReach};
use ploke_core::{ContentHash, Edge, GraphDelta, ItemKind, Node, NodeId};
use ploke_db::{AnalysisDelta, StoredAnalysis};
use rayon::prelude::*;

/// API surfaces kept (the generations where it changed; older ones are dropped).
pub const API_GENERATIONS_KEPT: usize = 20;

/// What [`update`] needs of what is stored.
pub(crate) struct Previous {
    pub stored: StoredAnalysis,
    /// The newest stored API surface.
    pub last_api: Vec<ApiItem>,
    /// Whether `stored` is the analysis of the graph the delta starts from (else the test
    /// map is computed whole).
    pub current: bool,
}

/// The analysis of the graph `nodes`/`edges` after `delta`, as a difference from `prev`,
/// and the new stored state. `files` holds the texts of the files of the functions to
/// measure (workspace-relative paths; see [`files_to_measure`]).
pub(crate) fn update(
    nodes: &[Node],
    edges: &[Edge],
    delta: &GraphDelta,
    prev: Previous,
    generation: u64,
    files: &FxHashMap<String, Arc<str>>,
) -> (AnalysisDelta, StoredAnalysis, Vec<ApiItem>) {
    let t = Instant::now();
    let g = CodeGraph::new(nodes, edges);
    let mut out = AnalysisDelta::default();
    let old = prev.stored;

    // The test map: whole, or the rows of the tests a change can affect.
    let tests: Vec<TestReach> = if prev.current {
        let mut changed: FxHashSet<NodeId> = delta.put_nodes.iter().map(|n| n.id).collect();
        changed.extend(delta.rm_nodes.iter().copied());
        for e in delta.put_edges.iter().chain(&delta.rm_edges) {
            changed.insert(e.src);
            changed.insert(e.dst);
        }
        let changed: Vec<NodeId> = changed.into_iter().collect();
        let mut affected: FxHashSet<NodeId> = ploke_analyze::tests_reaching(&g, &changed)
            .into_iter()
            .collect();
        let changed_set: FxHashSet<NodeId> = changed.iter().copied().collect();
        for r in &old.tests {
            if changed_set.contains(&r.item) || changed_set.contains(&r.test) {
                affected.insert(r.test);
            }
        }
        let affected_list: Vec<NodeId> = affected.iter().copied().collect();
        let fresh = ploke_analyze::test_map_of(&g, &affected_list);
        let mut rows: Vec<TestReach> = old
            .tests
            .iter()
            .filter(|r| !affected.contains(&r.test))
            .copied()
            .chain(fresh)
            .collect();
        rows.sort_unstable();
        rows
    } else {
        ploke_analyze::test_map(&g)
    };
    let key = |r: &TestReach| (r.item, r.test);
    let new_keys: FxHashMap<(NodeId, NodeId), u32> =
        tests.iter().map(|r| (key(r), r.depth)).collect();
    let old_keys: FxHashMap<(NodeId, NodeId), u32> =
        old.tests.iter().map(|r| (key(r), r.depth)).collect();
    out.rm_tests = old_keys
        .keys()
        .filter(|k| !new_keys.contains_key(k))
        .copied()
        .collect();
    out.put_tests = tests
        .iter()
        .filter(|r| old_keys.get(&key(r)) != Some(&r.depth))
        .copied()
        .collect();

    // Dead code.
    let dead = ploke_analyze::dead_code(&g);
    let old_dead: FxHashMap<NodeId, &str> =
        old.dead.iter().map(|d| (d.id, d.reason.as_str())).collect();
    let new_dead: FxHashSet<NodeId> = dead.iter().map(|d| d.id).collect();
    out.rm_dead = old
        .dead
        .iter()
        .filter(|d| !new_dead.contains(&d.id))
        .map(|d| d.id)
        .collect();
    out.put_dead = dead
        .iter()
        .filter(|d| old_dead.get(&d.id) != Some(&d.reason.as_str()))
        .cloned()
        .collect();

    // Modules.
    let (module_deps, cycles) = ploke_analyze::modules(&g);
    let old_deps: FxHashMap<(NodeId, NodeId), u32> = old
        .module_deps
        .iter()
        .map(|m| ((m.from, m.to), m.uses))
        .collect();
    let new_deps: FxHashSet<(NodeId, NodeId)> =
        module_deps.iter().map(|m| (m.from, m.to)).collect();
    out.rm_module_deps = old_deps
        .keys()
        .filter(|k| !new_deps.contains(k))
        .copied()
        .collect();
    out.put_module_deps = module_deps
        .iter()
        .filter(|m| old_deps.get(&(m.from, m.to)) != Some(&m.uses))
        .cloned()
        .collect();
    if cycles != old.cycles {
        out.cycles = Some(cycles.clone());
    }

    // The public API: a new surface is kept when it differs from the newest one.
    let api = ploke_analyze::api_surface(&g);
    let mut api_generations = old.api_generations.clone();
    let last_api = if api != prev.last_api {
        out.put_api = Some((generation, api.clone()));
        api_generations.push(generation);
        api.clone()
    } else {
        prev.last_api
    };

    // Metrics of functions whose text is new.
    let old_metrics: FxHashMap<NodeId, ContentHash> =
        old.metrics.iter().map(|(id, h, _)| (*id, *h)).collect();
    let candidates: Vec<&Node> = if prev.current {
        delta.put_nodes.iter().collect()
    } else {
        nodes.iter().collect()
    };
    let measured: Vec<(NodeId, ContentHash, ploke_analyze::FnMetrics)> = candidates
        .par_iter()
        .filter(|n| matches!(n.kind, ItemKind::Fn | ItemKind::Method))
        .filter(|n| old_metrics.get(&n.id) != Some(&n.content_hash))
        .filter_map(|n| {
            let text = files
                .get(&n.file)?
                .get(n.span.start_byte as usize..n.span.end_byte as usize)?;
            // syn recurses: deep code gets the parser's deep stack, as in parsing.
            let m = ploke_parse::on_parser_stack(text, || ploke_analyze::metrics::of_fn(text))?;
            Some((n.id, n.content_hash, m))
        })
        .collect();
    let live: FxHashSet<NodeId> = nodes
        .iter()
        .filter(|n| matches!(n.kind, ItemKind::Fn | ItemKind::Method))
        .map(|n| n.id)
        .collect();
    out.rm_metrics = old
        .metrics
        .iter()
        .filter(|(id, _, _)| !live.contains(id))
        .map(|(id, _, _)| *id)
        .collect();
    let mut metrics: FxHashMap<NodeId, (ContentHash, ploke_analyze::FnMetrics)> = old
        .metrics
        .iter()
        .filter(|(id, _, _)| live.contains(id))
        .map(|(id, h, m)| (*id, (*h, *m)))
        .collect();
    for (id, h, m) in &measured {
        metrics.insert(*id, (*h, *m));
    }
    out.put_metrics = measured;

    tracing::debug!(
        ms = t.elapsed().as_secs_f64() * 1000.0,
        tests = tests.len(),
        rows = out.len(),
        incremental = prev.current,
        "analysis"
    );
    let stored = StoredAnalysis {
        tests,
        dead,
        module_deps,
        cycles,
        metrics: metrics.into_iter().map(|(id, (h, m))| (id, h, m)).collect(),
        api_generations,
    };
    (out, stored, last_api)
}

/// The files whose functions [`update`] measures: those of the delta's items, or of every
/// item when the stored analysis is not current.
pub(crate) fn files_to_measure<'a>(
    nodes: &'a [Node],
    delta: &'a GraphDelta,
    current: bool,
) -> FxHashSet<&'a str> {
    let fns = |n: &&Node| matches!(n.kind, ItemKind::Fn | ItemKind::Method);
    if current {
        delta
            .put_nodes
            .iter()
            .filter(fns)
            .map(|n| n.file.as_str())
            .collect()
    } else {
        nodes.iter().filter(fns).map(|n| n.file.as_str()).collect()
    }
}
