//! The results of `ploke-analyze` as relations, written with the graph delta they follow
//! (one transaction: a reader never sees the analysis of another generation) and read back
//! by the session: which tests reach an item, dead code candidates, module dependencies and
//! cycles, the public API per generation, per-function metrics.

use std::collections::BTreeMap;

use cozo::DataValue;
use ploke_analyze::{ApiItem, Dead, FnMetrics, ModuleDep, TestReach};
use ploke_core::{ContentHash, NodeId};

use crate::codec::{self, Cursor};
use crate::{params, Db, DbError, Params};

pub(crate) const TESTS_OF_COLS: [&str; 3] = ["item", "test", "depth"];
pub(crate) const DEAD_COLS: [&str; 2] = ["id", "reason"];
pub(crate) const MODULE_DEP_COLS: [&str; 3] = ["src", "dst", "uses"];
pub(crate) const CYCLE_COLS: [&str; 2] = ["cycle", "module"];
pub(crate) const API_COLS: [&str; 6] = [
    "generation",
    "crate_name",
    "path",
    "kind",
    "id",
    "signature",
];
pub(crate) const METRIC_COLS: [&str; 10] = [
    "id",
    "hash",
    "lines",
    "body_lines",
    "nesting",
    "cyclomatic",
    "unsafe_blocks",
    "unwraps",
    "expects",
    "panics",
];

/// Adds rows of a relation (name, columns, rows) to a transaction being assembled.
pub(crate) type AddRows<'a> = dyn FnMut(&str, &[&str], Vec<Vec<DataValue>>) + 'a;

/// What changes in the analysis relations with a commit.
#[derive(Debug, Clone, Default)]
pub struct AnalysisDelta {
    /// Test map rows to write (new, or with a new depth).
    pub put_tests: Vec<TestReach>,
    /// (item, test) rows to remove.
    pub rm_tests: Vec<(NodeId, NodeId)>,
    /// Dead code candidates to write, and ids no longer candidates.
    pub put_dead: Vec<Dead>,
    /// Ids that are no longer dead code candidates.
    pub rm_dead: Vec<NodeId>,
    /// Module dependencies to write (new, or with a new count).
    pub put_module_deps: Vec<ModuleDep>,
    /// (from, to) rows to remove.
    pub rm_module_deps: Vec<(NodeId, NodeId)>,
    /// The cycles as they are now, replacing the stored ones (`None`: unchanged).
    pub cycles: Option<Vec<Vec<NodeId>>>,
    /// The API surface of one generation.
    pub put_api: Option<(u64, Vec<ApiItem>)>,
    /// Generations whose API rows are dropped, with their rows' keys.
    pub rm_api: Vec<(u64, String, String, String)>,
    /// Metrics of functions whose text is new: (id, text hash, metrics).
    pub put_metrics: Vec<(NodeId, ContentHash, FnMetrics)>,
    /// Functions that are gone.
    pub rm_metrics: Vec<NodeId>,
}

impl AnalysisDelta {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.put_tests.is_empty()
            && self.rm_tests.is_empty()
            && self.put_dead.is_empty()
            && self.rm_dead.is_empty()
            && self.put_module_deps.is_empty()
            && self.rm_module_deps.is_empty()
            && self.cycles.is_none()
            && self.put_api.is_none()
            && self.rm_api.is_empty()
            && self.put_metrics.is_empty()
            && self.rm_metrics.is_empty()
    }

    /// Rows written and removed.
    pub fn len(&self) -> usize {
        self.put_tests.len()
            + self.rm_tests.len()
            + self.put_dead.len()
            + self.rm_dead.len()
            + self.put_module_deps.len()
            + self.rm_module_deps.len()
            + self.put_api.as_ref().map_or(0, |(_, a)| a.len())
            + self.rm_api.len()
            + self.put_metrics.len()
            + self.rm_metrics.len()
    }

    /// Adds this delta's rows to a transaction being assembled (removals under `-name`).
    pub(crate) fn add_to(&self, add: &mut AddRows<'_>) {
        let id = |n: &NodeId| codec::id(*n);
        let int = |n: u64| DataValue::from(n as i64);
        add(
            "-tests_of",
            &TESTS_OF_COLS[..2],
            self.rm_tests
                .iter()
                .map(|(i, t)| vec![id(i), id(t)])
                .collect(),
        );
        add(
            "tests_of",
            &TESTS_OF_COLS,
            self.put_tests
                .iter()
                .map(|r| vec![id(&r.item), id(&r.test), int(r.depth.into())])
                .collect(),
        );
        add(
            "-dead",
            &DEAD_COLS[..1],
            self.rm_dead.iter().map(|i| vec![id(i)]).collect(),
        );
        add(
            "dead",
            &DEAD_COLS,
            self.put_dead
                .iter()
                .map(|d| vec![id(&d.id), DataValue::from(d.reason.as_str())])
                .collect(),
        );
        add(
            "-module_deps",
            &MODULE_DEP_COLS[..2],
            self.rm_module_deps
                .iter()
                .map(|(f, t)| vec![id(f), id(t)])
                .collect(),
        );
        add(
            "module_deps",
            &MODULE_DEP_COLS,
            self.put_module_deps
                .iter()
                .map(|m| vec![id(&m.from), id(&m.to), int(m.uses.into())])
                .collect(),
        );
        if let Some(cycles) = &self.cycles {
            add(
                "cycles",
                &CYCLE_COLS,
                cycles
                    .iter()
                    .enumerate()
                    .flat_map(|(c, ms)| ms.iter().map(move |m| vec![int(c as u64), id(m)]))
                    .collect(),
            );
        }
        add(
            "-api",
            &API_COLS[..4],
            self.rm_api
                .iter()
                .map(|(g, c, p, k)| {
                    vec![
                        int(*g),
                        DataValue::from(c.as_str()),
                        DataValue::from(p.as_str()),
                        DataValue::from(k.as_str()),
                    ]
                })
                .collect(),
        );
        if let Some((g, items)) = &self.put_api {
            add(
                "api",
                &API_COLS,
                items
                    .iter()
                    .map(|a| {
                        vec![
                            int(*g),
                            DataValue::from(a.crate_name.as_str()),
                            DataValue::from(a.path.as_str()),
                            DataValue::from(a.kind.as_str()),
                            id(&a.id),
                            DataValue::from(a.signature.as_str()),
                        ]
                    })
                    .collect(),
            );
        }
        add(
            "-metrics",
            &METRIC_COLS[..1],
            self.rm_metrics.iter().map(|i| vec![id(i)]).collect(),
        );
        add(
            "metrics",
            &METRIC_COLS,
            self.put_metrics
                .iter()
                .map(|(i, h, m)| {
                    vec![
                        id(i),
                        DataValue::from(h.to_hex()),
                        int(m.lines.into()),
                        int(m.body_lines.into()),
                        int(m.nesting.into()),
                        int(m.cyclomatic.into()),
                        int(m.unsafe_blocks.into()),
                        int(m.unwraps.into()),
                        int(m.expects.into()),
                        int(m.panics.into()),
                    ]
                })
                .collect(),
        );
    }
}

/// The stored analysis of a generation, whole (what an update diffs against).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredAnalysis {
    /// The test map.
    pub tests: Vec<TestReach>,
    /// Dead code candidates.
    pub dead: Vec<Dead>,
    /// Module dependencies.
    pub module_deps: Vec<ModuleDep>,
    /// Module cycles.
    pub cycles: Vec<Vec<NodeId>>,
    /// (id, hash of the text the metrics were taken from, metrics).
    pub metrics: Vec<(NodeId, ContentHash, FnMetrics)>,
    /// Generations whose API is kept.
    pub api_generations: Vec<u64>,
}

fn metrics_of(c: &mut Cursor<'_>) -> Result<FnMetrics, DbError> {
    Ok(FnMetrics {
        lines: c.u32()?,
        body_lines: c.u32()?,
        nesting: c.u32()?,
        cyclomatic: c.u32()?,
        unsafe_blocks: c.u32()?,
        unwraps: c.u32()?,
        expects: c.u32()?,
        panics: c.u32()?,
    })
}

impl Db {
    /// The tests that reach `item` through calls, nearest first: (test, depth).
    pub fn tests_of(&self, item: NodeId) -> Result<Vec<(NodeId, u32)>, DbError> {
        let rows = self.query(
            "reading the tests of an item",
            "?[test, depth] := *tests_of{item: $item, test, depth} :order depth, test",
            params([("item", codec::id(item))]),
        )?;
        rows.iter()
            .map(|r| Ok((codec::node_id_at(r, 0)?, codec::u32_at(r, 1)?)))
            .collect()
    }

    /// The tests that reach any of `items`, each with its smallest depth.
    pub fn tests_of_any(&self, items: &[NodeId]) -> Result<Vec<(NodeId, u32)>, DbError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let list = DataValue::List(items.iter().map(|i| codec::id(*i)).collect());
        let rows = self.query(
            "reading the tests of items",
            "?[test, min(depth)] := item in $items, *tests_of{item, test, depth}",
            params([("items", list)]),
        )?;
        let mut out: Vec<(NodeId, u32)> = rows
            .iter()
            .map(|r| Ok((codec::node_id_at(r, 0)?, codec::u32_at(r, 1)?)))
            .collect::<Result<_, DbError>>()?;
        out.sort_by_key(|&(t, d)| (d, t));
        Ok(out)
    }

    /// The dead code candidates with their reasons.
    pub fn dead_code(&self) -> Result<Vec<(NodeId, String)>, DbError> {
        let rows = self.query(
            "reading dead code candidates",
            "?[id, reason] := *dead{id, reason}",
            Params::new(),
        )?;
        rows.iter()
            .map(|r| {
                let mut c = Cursor::new("dead", r, 2)?;
                Ok((c.id()?, c.string()?))
            })
            .collect()
    }

    /// Module dependencies (from, to, uses).
    pub fn module_deps(&self) -> Result<Vec<ModuleDep>, DbError> {
        let rows = self.query(
            "reading module dependencies",
            "?[src, dst, uses] := *module_deps{src, dst, uses}",
            Params::new(),
        )?;
        rows.iter()
            .map(|r| {
                let mut c = Cursor::new("module_deps", r, 3)?;
                Ok(ModuleDep {
                    from: c.id()?,
                    to: c.id()?,
                    uses: c.u32()?,
                })
            })
            .collect()
    }

    /// The module cycles, each a list of modules.
    pub fn module_cycles(&self) -> Result<Vec<Vec<NodeId>>, DbError> {
        let rows = self.query(
            "reading module cycles",
            "?[cycle, module] := *cycles{cycle, module}",
            Params::new(),
        )?;
        let mut by: BTreeMap<u64, Vec<NodeId>> = BTreeMap::new();
        for r in &rows {
            by.entry(codec::u64_at(r, 0)?)
                .or_default()
                .push(codec::node_id_at(r, 1)?);
        }
        Ok(by.into_values().collect())
    }

    /// The generations whose public API is stored, oldest first.
    pub fn api_generations(&self) -> Result<Vec<u64>, DbError> {
        let rows = self.query(
            "reading API generations",
            "?[generation] := *api{generation}",
            Params::new(),
        )?;
        let mut out: Vec<u64> = rows
            .iter()
            .map(|r| codec::u64_at(r, 0))
            .collect::<Result<_, _>>()?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The public API of every library crate as of `generation`.
    pub fn api_surface(&self, generation: u64) -> Result<Vec<ApiItem>, DbError> {
        let rows = self.query(
            "reading the public API",
            "?[crate_name, path, kind, id, signature] := \
             *api{generation: $g, crate_name, path, kind, id, signature}",
            params([("g", DataValue::from(generation as i64))]),
        )?;
        let mut out: Vec<ApiItem> = rows
            .iter()
            .map(|r| {
                let mut c = Cursor::new("api", r, 5)?;
                Ok(ApiItem {
                    crate_name: c.string()?,
                    path: c.string()?,
                    kind: c.string()?,
                    id: c.id()?,
                    signature: c.string()?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        out.sort();
        Ok(out)
    }

    /// The metrics of every function and method measured.
    pub fn all_metrics(&self) -> Result<Vec<(NodeId, ContentHash, FnMetrics)>, DbError> {
        let rows = self.query(
            "reading metrics",
            "?[id, hash, lines, body_lines, nesting, cyclomatic, unsafe_blocks, unwraps, \
             expects, panics] := *metrics{id, hash, lines, body_lines, nesting, cyclomatic, \
             unsafe_blocks, unwraps, expects, panics}",
            Params::new(),
        )?;
        rows.iter()
            .map(|r| {
                let mut c = Cursor::new("metrics", r, 10)?;
                let id = c.id()?;
                let hash = c.hash()?;
                Ok((id, hash, metrics_of(&mut c)?))
            })
            .collect()
    }

    /// Everything stored, for the next update to diff against.
    pub fn stored_analysis(&self) -> Result<StoredAnalysis, DbError> {
        let rows = self.query(
            "reading the test map",
            "?[item, test, depth] := *tests_of{item, test, depth}",
            Params::new(),
        )?;
        let tests = rows
            .iter()
            .map(|r| {
                let mut c = Cursor::new("tests_of", r, 3)?;
                Ok(TestReach {
                    item: c.id()?,
                    test: c.id()?,
                    depth: c.u32()?,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        Ok(StoredAnalysis {
            tests,
            dead: self
                .dead_code()?
                .into_iter()
                .map(|(id, reason)| Dead { id, reason })
                .collect(),
            module_deps: self.module_deps()?,
            cycles: self.module_cycles()?,
            metrics: self.all_metrics()?,
            api_generations: self.api_generations()?,
        })
    }

    /// The stored cycle rows (removed whole when new cycles are written).
    pub(crate) fn cycle_rows(&self) -> Result<Vec<Vec<DataValue>>, DbError> {
        let rows = self.query(
            "reading module cycles",
            "?[cycle, module] := *cycles{cycle, module}",
            Params::new(),
        )?;
        Ok(rows)
    }
}
