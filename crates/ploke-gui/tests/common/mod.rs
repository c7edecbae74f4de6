//! A hand-built, deterministic [`State`] for the snapshot and frame tests (fixed workspace,
//! timings and ids), and a harness that draws a [`Gui`] over it with the software renderer.

#![allow(dead_code)]

use std::time::Duration;

use egui_kittest::Harness;
use egui_software_backend::{ColorFieldOrder, EguiSoftwareRender};
use ploke_app::{
    Action, ChatState, EditPhase, EditState, Filters, Neighbourhood, Notice, PackState, Progress,
    SearchState, SettingsView, State, StatusState, ToolLine, Turn, TurnKind, GRAPH_PER_SIDE,
};
use ploke_context::{PackItem, Role};
use ploke_core::{ItemKind, NodeId};
use ploke_gui::Gui;
use ploke_retrieve::Signals;
use ploke_session::{
    IndexStatus, IndexSummary, ItemRef, ItemView, ModuleEntry, Pack, Related, ReviewFile, SearchHit,
};

/// The window size of every snapshot.
pub const SIZE: egui::Vec2 = egui::vec2(1280.0, 800.0);

/// What a harness draws: the views, the state, the actions they returned and the texts
/// they put on the clipboard.
pub struct Fixture {
    pub gui: Gui,
    pub state: State,
    pub actions: Vec<Action>,
    pub copied: Vec<String>,
}

impl eframe::App for Fixture {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let actions = self.gui.show(ui, &self.state);
        self.actions.extend(actions);
        let copied: Vec<String> = ui.ctx().output(|o| {
            o.commands
                .iter()
                .filter_map(|c| match c {
                    egui::OutputCommand::CopyText(t) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        });
        self.copied.extend(copied);
    }
}

/// A harness drawing `gui` over `state` in a window of `size`, rendered on the CPU.
pub fn harness(gui: Gui, state: State, size: egui::Vec2) -> Harness<'static, Fixture> {
    Harness::builder()
        .with_size(size)
        .renderer(EguiSoftwareRender::new(ColorFieldOrder::Rgba))
        .build_eframe(|_| Fixture {
            gui,
            state,
            actions: Vec::new(),
            copied: Vec::new(),
        })
}

/// An item of the `retry` crate with a stable id made from its path.
pub fn item(kind: &str, path: &str, file: &str, start: u32, end: u32) -> ItemRef {
    let name = path
        .strip_prefix("retry::")
        .map(|p| {
            // `Type::method` for methods, the last segment otherwise.
            let parts: Vec<&str> = p.split("::").collect();
            if kind == "method" && parts.len() >= 2 {
                parts[parts.len() - 2..].join("::")
            } else {
                parts.last().copied().unwrap_or(p).to_string()
            }
        })
        .unwrap_or_else(|| path.to_string());
    ItemRef {
        id: id(path),
        kind: kind.into(),
        name,
        path: path.into(),
        package: Some("retry".into()),
        crate_name: "retry".into(),
        file: file.into(),
        start_line: start,
        end_line: end,
        dependency: false,
        version: None,
        test: false,
    }
}

/// A stable 16-hex-digit id for `path`.
pub fn id(path: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn hit(item: ItemRef, score: f32, lexical: f32, dense: f32, graph: f32) -> SearchHit {
    SearchHit {
        package_file: item.file.clone(),
        item,
        score,
        signals: Signals {
            lexical,
            dense,
            graph,
            cosine: dense * 0.8,
        },
    }
}

/// Search results for "retry delay".
pub fn hits() -> Vec<SearchHit> {
    let mut test = item(
        "fn",
        "retry::tests::delay_doubles",
        "src/backoff.rs",
        88,
        95,
    );
    test.test = true;
    let mut dep = item(
        "fn",
        "tokio::time::sleep",
        "/home/dev/.cargo/registry/src/tokio-1.47.1/src/time/sleep.rs",
        124,
        130,
    );
    dep.crate_name = "tokio".into();
    dep.package = Some("tokio".into());
    dep.dependency = true;
    dep.version = Some("1.47.1".into());
    vec![
        hit(
            item(
                "method",
                "retry::backoff::Backoff::next_delay",
                "src/backoff.rs",
                41,
                58,
            ),
            0.94,
            0.91,
            0.72,
            0.10,
        ),
        hit(
            item("fn", "retry::backoff::jitter", "src/backoff.rs", 61, 68),
            0.81,
            0.77,
            0.40,
            0.35,
        ),
        hit(
            item(
                "struct",
                "retry::backoff::Backoff",
                "src/backoff.rs",
                12,
                20,
            ),
            0.78,
            0.70,
            0.55,
            0.20,
        ),
        hit(
            item("trait", "retry::Policy", "src/lib.rs", 22, 31),
            0.66,
            0.42,
            0.68,
            0.25,
        ),
        hit(
            item(
                "method",
                "retry::client::Client::send_with_retry",
                "src/client.rs",
                75,
                104,
            ),
            0.61,
            0.35,
            0.30,
            0.80,
        ),
        hit(
            item("const", "retry::backoff::MAX_DELAY", "src/backoff.rs", 8, 8),
            0.52,
            0.60,
            0.10,
            0.05,
        ),
        hit(test, 0.44, 0.52, 0.20, 0.10),
        hit(
            item(
                "impl",
                "retry::backoff::impl Policy for Backoff",
                "src/backoff.rs",
                39,
                59,
            ),
            0.40,
            0.22,
            0.31,
            0.55,
        ),
        hit(dep, 0.31, 0.12, 0.45, 0.30),
        hit(
            item("mod", "retry::backoff", "src/backoff.rs", 1, 96),
            0.28,
            0.30,
            0.12,
            0.08,
        ),
    ]
}

const SOURCE: &str = r#"    /// The delay before attempt `attempt` (1-based): doubles each time from the base,
    /// capped at [`MAX_DELAY`], with up to 10% jitter so clients do not retry in step.
    #[inline]
    fn next_delay(&mut self, attempt: u32) -> Option<Duration> {
        if attempt > self.max_attempts {
            return None;
        }
        let exp = 1u64 << attempt.saturating_sub(1).min(16);
        let base = self.base.as_millis() as u64;
        let delay = base.saturating_mul(exp).min(MAX_DELAY);
        // 'outer: labels and lifetimes like &'a str are classed apart from chars.
        let spread = jitter(&mut self.rng, delay / 10);
        tracing::debug!("attempt {attempt}: waiting {delay} ms (+{spread})");
        Some(Duration::from_millis(delay + spread))
    }"#;

fn related(item: ItemRef, line: u32) -> Related {
    Related { item, line }
}

/// The item view of `Backoff::next_delay`.
pub fn view() -> ItemView {
    view_with_source(SOURCE.to_string())
}

/// The item view of `Backoff::next_delay` with another source text.
pub fn view_with_source(source: String) -> ItemView {
    let lines = source.lines().count() as u32;
    let mut it = item(
        "method",
        "retry::backoff::Backoff::next_delay",
        "src/backoff.rs",
        41,
        41 + lines - 1,
    );
    it.name = "Backoff::next_delay".into();
    ItemView {
        item: it,
        signature: "fn next_delay(&mut self, attempt: u32) -> Option<Duration>".into(),
        visibility: String::new(),
        docs: "The delay before attempt `attempt` (1-based): doubles each time from the base,\ncapped at [`MAX_DELAY`], with up to 10% jitter so clients do not retry in step.".into(),
        cfg: String::new(),
        attrs: vec!["#[inline]".into()],
        is_test: false,
        source,
        indent: "    ".into(),
        module: Some(item("mod", "retry::backoff", "src/backoff.rs", 1, 96)),
        parent: Some(item("impl", "retry::backoff::impl Policy for Backoff", "src/backoff.rs", 39, 59)),
        callers: vec![
            related(item("method", "retry::client::Client::send_with_retry", "src/client.rs", 75, 104), 88),
            related(item("method", "retry::client::Client::get", "src/client.rs", 40, 47), 44),
            related(item("fn", "retry::retry_all", "src/lib.rs", 50, 71), 63),
        ],
        callees: vec![
            related(item("fn", "retry::backoff::jitter", "src/backoff.rs", 61, 68), 52),
            related(item("method", "retry::backoff::Duration::from_millis", "src/backoff.rs", 70, 72), 54),
        ],
        implementations: vec![],
        implements: vec![item("method", "retry::Policy::next_delay", "src/lib.rs", 28, 30)],
        unresolved_calls: vec!["tracing::debug! (line 53)".into()],
    }
}

fn module(
    path: &str,
    file: &str,
    items: usize,
    total: usize,
    children: Vec<ModuleEntry>,
) -> ModuleEntry {
    let kind = if path.contains("::") { "mod" } else { "crate" };
    ModuleEntry {
        item: item(kind, path, file, 1, 100),
        items,
        total,
        children,
    }
}

/// The crate's module tree.
pub fn outline() -> Vec<ModuleEntry> {
    vec![module(
        "retry",
        "src/lib.rs",
        5,
        31,
        vec![
            module(
                "retry::backoff",
                "src/backoff.rs",
                8,
                9,
                vec![module(
                    "retry::backoff::tests",
                    "src/backoff.rs",
                    1,
                    1,
                    vec![],
                )],
            ),
            module("retry::client", "src/client.rs", 11, 11, vec![]),
            module(
                "retry::wire",
                "src/wire.rs",
                4,
                6,
                vec![module(
                    "retry::wire::frame",
                    "src/wire/frame.rs",
                    2,
                    2,
                    vec![],
                )],
            ),
        ],
    )]
}

fn pack_item(
    path: &str,
    kind: ItemKind,
    (file, lines): (&str, (u32, u32)),
    role: Role,
    reason: &str,
    tokens: usize,
    text: &str,
) -> PackItem {
    PackItem {
        id: NodeId(u64::from_str_radix(&id(path), 16).unwrap_or(1)),
        path: path.into(),
        name: path.rsplit("::").next().unwrap_or(path).into(),
        kind,
        file: file.into(),
        start_line: lines.0,
        end_line: lines.1,
        role,
        reason: reason.into(),
        tokens,
        text: text.into(),
    }
}

/// The context pack of "how are retries delayed".
pub fn pack() -> Pack {
    Pack {
        request: "how are retries delayed".into(),
        budget: 8000,
        tokens: 3215,
        items: vec![
            pack_item("retry::backoff::Backoff::next_delay", ItemKind::Method, ("src/backoff.rs", (41, 55)), Role::Primary, "search hit #1 (score 0.94)", 412, SOURCE),
            pack_item("retry::backoff::jitter", ItemKind::Fn, ("src/backoff.rs", (61, 68)), Role::Primary, "search hit #2 (score 0.81)", 138, "fn jitter(rng: &mut Rng, max: u64) -> u64 {\n    rng.below(max + 1)\n}"),
            pack_item("retry::backoff::Backoff", ItemKind::Struct, ("src/backoff.rs", (12, 20)), Role::Primary, "search hit #3 (score 0.78)", 164, "pub struct Backoff {\n    base: Duration,\n    max_attempts: u32,\n    rng: Rng,\n}"),
            pack_item("retry::client::Client::send_with_retry", ItemKind::Method, ("src/client.rs", (75, 104)), Role::Primary, "search hit #5 (score 0.61)", 1480, "pub async fn send_with_retry(&self, req: Request) -> Result<Response> { … }"),
            pack_item("retry::Policy", ItemKind::Trait, ("src/lib.rs", (22, 31)), Role::Outline, "search hit #4 (score 0.66), outline: full text did not fit", 196, "pub trait Policy {\n    fn next_delay(&mut self, attempt: u32) -> Option<Duration>;\n}"),
            pack_item("retry::retry_all", ItemKind::Fn, ("src/lib.rs", (50, 71)), Role::Neighbour, "caller of Backoff::next_delay", 121, "pub async fn retry_all(reqs: Vec<Request>) -> Vec<Result<Response>>"),
            pack_item("retry::client::Client::get", ItemKind::Method, ("src/client.rs", (40, 47)), Role::Neighbour, "caller of Client::send_with_retry", 97, "pub async fn get(&self, url: &str) -> Result<Response>"),
        ],
        omitted: 4,
    }
}

/// A question with tool calls and an answer, and an edit request that ended in a proposal.
pub fn turns() -> Vec<Turn> {
    vec![
        Turn {
            kind: TurnKind::Ask,
            request: "How is the delay between retries computed?".into(),
            answer: "`Backoff::next_delay` doubles the base delay with each attempt, caps it at `MAX_DELAY` and adds up to 10% jitter:\n\n```rust\nlet delay = base.saturating_mul(exp).min(MAX_DELAY);\nSome(Duration::from_millis(delay + spread))\n```\n\n`Client::send_with_retry` sleeps for that long before trying again.".into(),
            tools: vec![
                ToolLine { name: "search_code".into(), arguments: r#"{"query":"retry delay backoff"}"#.into(), chars: Some(2140) },
                ToolLine { name: "get_item".into(), arguments: r#"{"path":"retry::backoff::Backoff::next_delay"}"#.into(), chars: Some(1312) },
                ToolLine { name: "get_callers".into(), arguments: r#"{"path":"Backoff::next_delay"}"#.into(), chars: Some(486) },
            ],
            footer: Some("gpt-4.1-mini · 7 context items, 3215 tokens · 3 steps, 3 tool calls · 5120 in / 164 out tokens".into()),
            error: None,
        },
        Turn {
            kind: TurnKind::Edit,
            request: "Raise the base delay to 250 ms and the frame header to 8 bytes".into(),
            answer: "Raised the base delay and the header length.".into(),
            tools: vec![
                ToolLine { name: "replace_item".into(), arguments: r#"{"path":"retry::backoff::BASE_DELAY", …}"#.into(), chars: Some(64) },
                ToolLine { name: "search_replace".into(), arguments: r#"{"file":"src/wire.rs","search":"HEADER_LEN: usize = 4;", …}"#.into(), chars: Some(58) },
            ],
            footer: Some("proposed edits to 2 files: review them".into()),
            error: None,
        },
    ]
}

/// The review of the edit request's two files (the second one rejected).
pub fn review() -> EditPhase {
    EditPhase::Review {
        files: vec![
            ReviewFile {
                path: "src/backoff.rs".into(),
                diff: "--- a/src/backoff.rs\n+++ b/src/backoff.rs\n@@ -3,9 +3,9 @@\n use std::time::Duration;\n \n /// The first delay.\n-pub const BASE_DELAY: Duration = Duration::from_millis(100);\n+pub const BASE_DELAY: Duration = Duration::from_millis(250);\n \n /// The longest delay, in milliseconds.\n pub const MAX_DELAY: u64 = 30_000;\n@@ -44,6 +44,7 @@\n         if attempt > self.max_attempts {\n             return None;\n         }\n+        // Starts at BASE_DELAY (250 ms).\n         let exp = 1u64 << attempt.saturating_sub(1).min(16);\n         let base = self.base.as_millis() as u64;\n".into(),
                new_file: false,
                accepted: true,
                before: String::new(),
                after: String::new(),
            },
            ReviewFile {
                path: "src/wire.rs".into(),
                diff: "--- a/src/wire.rs\n+++ b/src/wire.rs\n@@ -1,5 +1,5 @@\n /// The length of a frame's header in bytes.\n-pub const HEADER_LEN: usize = 4;\n+pub const HEADER_LEN: usize = 8;\n \n /// The length of a frame with `body` bytes.\n pub fn frame_len(body: usize) -> usize {\n".into(),
                new_file: false,
                accepted: false,
                before: String::new(),
                after: String::new(),
            },
        ],
        summary: "Raised the base delay to 250 ms and the frame header to 8 bytes.".into(),
        changed: vec![],
    }
}

/// The index status.
pub fn index_status() -> IndexStatus {
    IndexStatus {
        workspace: "/home/dev/retry".into(),
        db: "/home/dev/retry/.ploke/index".into(),
        generation: 12,
        files: 7,
        items: 184,
        embedded: 0,
        embeddable: 0,
        live: false,
        live_elsewhere: None,
        written_at: Some(1_750_000_000),
        changed_files: Some(1),
        workspace_changed: false,
        model: None,
        db_bytes: 2_480_000,
        dependencies: vec!["tokio 1.47.1".into(), "tracing 0.1.41".into()],
        dependency_store: None,
    }
}

fn summary() -> IndexSummary {
    IndexSummary {
        workspace: "/home/dev/retry".into(),
        db: "/home/dev/retry/.ploke/index".into(),
        packages: 1,
        targets: 2,
        files: 7,
        lines: 1840,
        items: 184,
        edges: 402,
        unresolved: 12,
        parsed_files: 7,
        delta_rows: 640,
        generation: 12,
        problems: vec![],
        orphan_files: vec![],
        warnings: vec![],
        stages_ms: vec![
            ("discover".into(), 4.0),
            ("parse".into(), 21.0),
            ("write".into(), 38.0),
        ],
        embed: None,
        deps: None,
        embed_deps: None,
    }
}

/// Everything the views show, fixed.
pub fn state() -> State {
    let hits = hits();
    let shown = (0..hits.len()).collect();
    let view = view();
    State {
        workspace: "/home/dev/retry".into(),
        search: SearchState {
            query: "retry delay".into(),
            limit: 200,
            filters: Filters::default(),
            hits,
            shown,
            answered: "retry delay".into(),
            busy: false,
            error: None,
            took: Duration::from_micros(3_400),
        },
        item: ploke_app::ItemState {
            graph: Neighbourhood::of(&view, GRAPH_PER_SIDE),
            current: Some(view),
            loading: false,
            error: None,
            back: vec![id("retry::backoff::Backoff")],
            forward: vec![],
        },
        outline: outline(),
        pack: PackState {
            request: "how are retries delayed".into(),
            budget: 8000,
            pack: Some(pack()),
            busy: false,
            error: None,
            took: Duration::from_millis(14),
        },
        chat: ChatState {
            turns: turns(),
            busy: false,
        },
        edit: EditState {
            phase: review(),
            request: "Raise the base delay to 250 ms and the frame header to 8 bytes".into(),
            round: 0,
            error: None,
            undone: None,
        },
        status: StatusState {
            index: Some(index_status()),
            progress: Some(Progress {
                stage: "parse".into(),
                done: 5,
                total: 7,
            }),
            indexing: true,
            last_index: Some(summary()),
            watching: true,
            last_update: None,
        },
        settings: SettingsView {
            provider: "openai".into(),
            model: "gpt-4.1-mini".into(),
            base_url: "https://api.openai.com/v1".into(),
            key_set: true,
            embed: None,
        },
        notices: vec![
            Notice {
                warning: false,
                text: "indexed 7 files, 184 items in 63 ms".into(),
            },
            Notice {
                warning: true,
                text: "src/legacy.rs: not reached by any target's module tree (not indexed)".into(),
            },
            Notice {
                warning: false,
                text: "watching /home/dev/retry for changes".into(),
            },
        ],
    }
}

/// `n` search results (for the frame tests), cycling through [`hits`] with distinct ids.
pub fn many_hits(n: usize) -> Vec<SearchHit> {
    let base = hits();
    (0..n)
        .map(|i| {
            let mut h = base[i % base.len()].clone();
            h.item.id = format!("{i:016x}");
            h.item.name = format!("{}_{i}", h.item.name);
            h.score = 1.0 - i as f32 / n as f32;
            h
        })
        .collect()
}

/// An item whose source has `n` lines.
pub fn long_view(n: usize) -> ItemView {
    let mut src = String::new();
    for i in 0..n {
        src.push_str(&format!(
            "    let value_{i} = compute(\"line {i}\", {i}u32, &mut state); // step {i}\n"
        ));
    }
    let mut v = view_with_source(src);
    v.item.id = format!("{n:016x}");
    v
}

/// A harness over `state` with `tab` and `side` shown, run until it settles.
pub fn settled(
    state: State,
    tab: ploke_gui::Tab,
    side: ploke_gui::Side,
) -> Harness<'static, Fixture> {
    let mut gui = Gui::new();
    gui.tab = tab;
    gui.side = side;
    let mut h = harness(gui, state, SIZE);
    h.run();
    h
}

/// The state with `hits` search results and `lines` lines of source in the item view.
pub fn sized_state(hits: usize, lines: usize) -> State {
    let mut s = state();
    s.search.hits = many_hits(hits);
    s.search.shown = (0..hits).collect();
    let v = long_view(lines);
    s.item.graph = Neighbourhood::of(&v, GRAPH_PER_SIDE);
    s.item.current = Some(v);
    // No progress bar or spinner: frames come only when asked for.
    s.status.indexing = false;
    s.status.progress = None;
    s
}

/// Where the pointer scrolls: over the results list, or over the item's source.
pub const OVER_RESULTS: egui::Pos2 = egui::pos2(200.0, 450.0);
pub const OVER_SOURCE: egui::Pos2 = egui::pos2(800.0, 700.0);

/// Starts scrolling at `at` (the pointer moves there).
pub fn hover(h: &mut Harness<'static, Fixture>, at: egui::Pos2) {
    h.hover_at(at);
    h.step();
}

/// One frame, scrolled down a little when `scroll`, as the window would draw it: the pass,
/// then the tessellation of its shapes. Its wall time.
pub fn frame(h: &mut Harness<'static, Fixture>, scroll: bool) -> Duration {
    if scroll {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -90.0),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
        });
    }
    let t = std::time::Instant::now();
    h.step();
    let shapes = h.output().shapes.clone();
    let ppp = h.output().pixels_per_point;
    let prims = h.ctx.tessellate(shapes, ppp);
    std::hint::black_box(prims);
    t.elapsed()
}

/// The median, 90th percentile and maximum of `times`, in milliseconds.
pub fn stats(times: &[Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9), ms[ms.len() - 1])
}
