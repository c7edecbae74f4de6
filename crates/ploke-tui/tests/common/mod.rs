//! A hand-made, fixed [`State`] with something on every screen (the snapshots, the SVG
//! screenshots and the frame bench draw it), and helpers to draw and read frames.

#![allow(dead_code)]

use std::time::Duration;

use ploke_app::{
    ChatState, EditPhase, EditState, Neighbourhood, Notice, PackState, Progress, SearchState,
    SettingsView, State, StatusState, ToolLine, Turn, TurnKind,
};
use ploke_context::{Pack, PackItem, Role};
use ploke_core::{ItemKind, NodeId};
use ploke_retrieve::Signals;
use ploke_session::{
    IndexStatus, IndexSummary, ItemRef, ItemView, ModuleEntry, Related, ReviewFile, SearchHit,
    Update,
};
use ploke_tui::{Screen, ViewState};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use unicode_width::UnicodeWidthStr;

pub const LIB: &str = "//! Retries.

pub mod client;
pub mod wire;

/// Waits before trying the request again: the base delay doubled for every attempt,
/// with a little jitter so that clients do not retry in step.
pub fn retry_delay(attempt: u32) -> u64 {
    let base = 100 * backoff(attempt);
    base + jitter(base) // at most a tenth more
}

fn backoff(n: u32) -> u64 {
    1 << n.min(16)
}

fn jitter(base: u64) -> u64 {
    (base / 10).min(250)
}
";

fn item(id: u64, kind: &str, name: &str, path: &str, file: &str, lines: (u32, u32)) -> ItemRef {
    ItemRef {
        id: format!("{id:016x}"),
        kind: kind.into(),
        name: name.into(),
        path: path.into(),
        package: Some("retry".into()),
        crate_name: "retry".into(),
        file: file.into(),
        start_line: lines.0,
        end_line: lines.1,
        dependency: false,
        version: None,
        test: false,
    }
}

pub fn retry_delay() -> ItemRef {
    item(
        1,
        "fn",
        "retry_delay",
        "retry::retry_delay",
        "src/lib.rs",
        (6, 11),
    )
}

fn backoff() -> ItemRef {
    item(2, "fn", "backoff", "retry::backoff", "src/lib.rs", (13, 15))
}

fn jitter() -> ItemRef {
    item(3, "fn", "jitter", "retry::jitter", "src/lib.rs", (17, 19))
}

fn send() -> ItemRef {
    item(
        4,
        "method",
        "Client::send",
        "retry::client::Client::send",
        "src/client.rs",
        (41, 63),
    )
}

fn crate_root() -> ItemRef {
    item(5, "crate", "retry", "retry", "src/lib.rs", (1, 19))
}

fn hit(item: ItemRef, score: f32, l: f32, d: f32, g: f32) -> SearchHit {
    let package_file = item.file.clone();
    SearchHit {
        item,
        package_file,
        score,
        signals: Signals {
            lexical: l,
            dense: d,
            graph: g,
            cosine: d,
        },
    }
}

fn hits() -> Vec<SearchHit> {
    let mut test = item(
        9,
        "fn",
        "delay_doubles",
        "retry::tests::delay_doubles",
        "src/lib.rs",
        (30, 34),
    );
    test.test = true;
    vec![
        hit(retry_delay(), 3.42, 1.0, 0.82, 0.31),
        hit(backoff(), 2.17, 0.64, 0.55, 0.78),
        hit(send(), 1.95, 0.48, 0.61, 0.66),
        hit(
            item(
                6,
                "struct",
                "RetryPolicy",
                "retry::client::RetryPolicy",
                "src/client.rs",
                (8, 16),
            ),
            1.62,
            0.71,
            0.2,
            0.1,
        ),
        hit(jitter(), 1.31, 0.22, 0.47, 0.52),
        hit(
            item(
                7,
                "const",
                "MAX_ATTEMPTS",
                "retry::client::MAX_ATTEMPTS",
                "src/client.rs",
                (5, 5),
            ),
            0.98,
            0.39,
            0.0,
            0.25,
        ),
        hit(test, 0.74, 0.52, 0.1, 0.0),
        hit(
            item(
                8,
                "const",
                "HEADER_LEN",
                "retry::wire::HEADER_LEN",
                "src/wire.rs",
                (2, 2),
            ),
            0.41,
            0.05,
            0.12,
            0.0,
        ),
    ]
}

fn item_view() -> ItemView {
    let source = LIB.lines().skip(5).take(6).collect::<Vec<_>>().join("\n");
    ItemView {
        item: retry_delay(),
        signature: "pub fn retry_delay(attempt: u32) -> u64".into(),
        visibility: "pub".into(),
        docs: "Waits before trying the request again: the base delay doubled for every attempt,\nwith a little jitter so that clients do not retry in step.".into(),
        cfg: String::new(),
        attrs: Vec::new(),
        is_test: false,
        source,
        indent: String::new(),
        module: Some(crate_root()),
        parent: None,
        callers: vec![
            Related {
                item: send(),
                line: 52,
            },
            Related {
                item: item(
                    10,
                    "fn",
                    "retry_loop",
                    "retry::client::retry_loop",
                    "src/client.rs",
                    (70, 88),
                ),
                line: 79,
            },
        ],
        callees: vec![
            Related {
                item: backoff(),
                line: 9,
            },
            Related {
                item: jitter(),
                line: 10,
            },
        ],
        implementations: Vec::new(),
        implements: Vec::new(),
        unresolved_calls: Vec::new(),
    }
}

fn outline() -> Vec<ModuleEntry> {
    let m = |id: u64, name: &str, file: &str, items: usize| ModuleEntry {
        item: item(id, "module", name, &format!("retry::{name}"), file, (1, 40)),
        items,
        total: items,
        children: Vec::new(),
    };
    vec![
        ModuleEntry {
            item: crate_root(),
            items: 4,
            total: 15,
            children: vec![
                m(20, "client", "src/client.rs", 7),
                m(21, "wire", "src/wire.rs", 2),
                m(22, "tests", "src/lib.rs", 2),
            ],
        },
        ModuleEntry {
            item: item(
                30,
                "crate",
                "retry-cli",
                "retry_cli",
                "src/main.rs",
                (1, 12),
            ),
            items: 2,
            total: 2,
            children: Vec::new(),
        },
    ]
}

fn pack() -> Pack {
    let it = |id: u64,
              name: &str,
              path: &str,
              kind: ItemKind,
              lines: (u32, u32),
              role: Role,
              reason: &str,
              tokens: usize,
              text: &str| PackItem {
        id: NodeId(id),
        path: path.into(),
        name: name.into(),
        kind,
        file: if path.contains("client") {
            "src/client.rs".into()
        } else {
            "src/lib.rs".into()
        },
        start_line: lines.0,
        end_line: lines.1,
        role,
        reason: reason.into(),
        tokens,
        text: text.into(),
    };
    Pack {
        request: "how is the retry delay computed?".into(),
        budget: 8000,
        tokens: 2310,
        items: vec![
            it(
                1,
                "retry_delay",
                "retry::retry_delay",
                ItemKind::Fn,
                (6, 11),
                Role::Primary,
                "search hit #1 (score 3.42)",
                96,
                &LIB.lines().skip(5).take(6).collect::<Vec<_>>().join("\n"),
            ),
            it(
                2,
                "backoff",
                "retry::backoff",
                ItemKind::Fn,
                (13, 15),
                Role::Primary,
                "search hit #2 (score 2.17)",
                31,
                "fn backoff(n: u32) -> u64 {\n    1 << n.min(16)\n}",
            ),
            it(
                4,
                "Client::send",
                "retry::client::Client::send",
                ItemKind::Method,
                (41, 63),
                Role::Neighbour,
                "caller of retry_delay",
                44,
                "pub async fn send(&self, req: Request) -> Result<Response, Error>",
            ),
            it(
                6,
                "RetryPolicy",
                "retry::client::RetryPolicy",
                ItemKind::Struct,
                (8, 16),
                Role::Outline,
                "search hit #4 (score 1.62)",
                58,
                "pub struct RetryPolicy {\n    pub max_attempts: u32,\n    pub base_ms: u64,\n}",
            ),
        ],
        omitted: 2,
    }
}

const DIFF_A: &str = "--- a/src/lib.rs
+++ b/src/lib.rs
@@ -5,7 +5,7 @@
 /// Waits before trying the request again: the base delay doubled for every attempt,
 /// with a little jitter so that clients do not retry in step.
 pub fn retry_delay(attempt: u32) -> u64 {
-    let base = 100 * backoff(attempt);
+    let base = 250 * backoff(attempt);
     base + jitter(base) // at most a tenth more
 }
 
";

const DIFF_B: &str = "--- a/src/wire.rs
+++ b/src/wire.rs
@@ -1,5 +1,5 @@
 /// The length of a frame's header in bytes.
-pub const HEADER_LEN: usize = 4;
+pub const HEADER_LEN: usize = 8;
 
 /// The length of a frame with `body` bytes.
 pub fn frame_len(body: usize) -> usize {
";

fn review_files() -> Vec<ReviewFile> {
    vec![
        ReviewFile {
            path: "src/lib.rs".into(),
            diff: DIFF_A.into(),
            new_file: false,
            accepted: true,
            before: String::new(),
            after: String::new(),
        },
        ReviewFile {
            path: "src/wire.rs".into(),
            diff: DIFF_B.into(),
            new_file: false,
            accepted: false,
            before: String::new(),
            after: String::new(),
        },
    ]
}

fn turns() -> Vec<Turn> {
    vec![
        Turn {
            kind: TurnKind::Ask,
            request: "how is the retry delay computed?".into(),
            answer: "`retry_delay` multiplies a 100 ms base by `backoff(attempt)`, which doubles with every attempt (capped at 2^16), then adds a tenth as jitter:\n\n```rust\nlet base = 100 * backoff(attempt);\nbase + jitter(base)\n```\n\nIt is called from `Client::send` and `retry_loop`.".into(),
            tools: vec![
                ToolLine {
                    name: "search_code".into(),
                    arguments: r#"{"query":"retry delay"}"#.into(),
                    chars: Some(1834),
                },
                ToolLine {
                    name: "get_item".into(),
                    arguments: r#"{"path":"retry_delay"}"#.into(),
                    chars: Some(412),
                },
            ],
            footer: Some("gpt-4o-mini · 4 context items, 2310 tokens · 3 steps, 2 tool calls · 3904 in / 161 out tokens".into()),
            error: None,
        },
        Turn {
            kind: TurnKind::Edit,
            request: "raise the base delay to 250 ms and the header length to 8".into(),
            answer: "Raised the delay and the header length.".into(),
            tools: vec![
                ToolLine {
                    name: "replace_item".into(),
                    arguments: r#"{"path":"retry_delay","code":"/// Waits…"}"#.into(),
                    chars: Some(64),
                },
                ToolLine {
                    name: "search_replace".into(),
                    arguments: r#"{"file":"src/wire.rs","search":"HEADER_LEN: usize = 4;"}"#.into(),
                    chars: Some(58),
                },
            ],
            footer: Some("proposed edits to 2 files: review them".into()),
            error: None,
        },
    ]
}

/// Every screen has something to show; nothing depends on the clock or the machine.
pub fn sample_state() -> State {
    let hits = hits();
    let view = item_view();
    let graph = Neighbourhood::of(&view, 8);
    State {
        workspace: "/home/dev/retry".into(),
        search: SearchState {
            query: "retry delay".into(),
            limit: 200,
            filters: Default::default(),
            shown: (0..hits.len()).collect(),
            hits,
            answered: "retry delay".into(),
            busy: false,
            error: None,
            took: Duration::from_millis(3),
        },
        item: ploke_app::ItemState {
            current: Some(view),
            graph,
            loading: false,
            error: None,
            back: vec![format!("{:016x}", 2)],
            forward: Vec::new(),
        },
        outline: outline(),
        pack: PackState {
            request: "how is the retry delay computed?".into(),
            budget: 8000,
            pack: Some(pack()),
            busy: false,
            error: None,
            took: Duration::from_millis(12),
        },
        chat: ChatState {
            turns: turns(),
            busy: false,
        },
        edit: EditState {
            phase: EditPhase::Review {
                files: review_files(),
                summary: "Raised the base delay from 100 ms to 250 ms in `retry_delay` and the frame header length from 4 to 8 bytes.".into(),
                changed: Vec::new(),
            },
            request: "raise the base delay to 250 ms and the header length to 8".into(),
            round: 0,
            error: None,
            undone: None,
        },
        status: StatusState {
            index: Some(IndexStatus {
                workspace: "/home/dev/retry".into(),
                db: "/home/dev/retry/.ploke".into(),
                generation: 7,
                files: 4,
                items: 17,
                embedded: 0,
                embeddable: 0,
                live: true,
                live_elsewhere: None,
                written_at: Some(1_714_564_800),
                changed_files: Some(0),
                workspace_changed: false,
                model: None,
                db_bytes: 1_835_008,
                dependencies: Vec::new(),
                dependency_store: None,
            }),
            progress: Some(Progress {
                stage: "parse".into(),
                done: 120,
                total: 400,
            }),
            indexing: false,
            last_index: Some(IndexSummary {
                workspace: "/home/dev/retry".into(),
                db: "/home/dev/retry/.ploke".into(),
                packages: 1,
                targets: 2,
                files: 4,
                lines: 212,
                items: 17,
                edges: 23,
                unresolved: 1,
                parsed_files: 4,
                delta_rows: 58,
                generation: 6,
                problems: Vec::new(),
                orphan_files: Vec::new(),
                warnings: Vec::new(),
                stages_ms: vec![("parse".into(), 21.0), ("write".into(), 48.0)],
                embed: None,
                deps: None,
                embed_deps: None,
            }),
            watching: true,
            last_update: Some(Update {
                generation: 7,
                files: vec!["src/lib.rs".into()],
                rows: 6,
                items: 2,
                targets: 1,
                ms: 84.0,
                index_ms: 51.0,
                snapshot_ms: 33.0,
            }),
        },
        settings: SettingsView {
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            base_url: String::new(),
            key_set: true,
            embed: None,
        },
        notices: vec![
            Notice {
                warning: false,
                text: "indexed 4 files, 17 items in 69 ms".into(),
            },
            Notice {
                warning: true,
                text: "src/bin/old.rs: no module declares this file (not indexed)".into(),
            },
            Notice {
                warning: false,
                text: "watching /home/dev/retry".into(),
            },
        ],
    }
}

/// The view on `screen`, synced with `state` (the modules tree opened at its first crate).
pub fn view_on(state: &State, screen: Screen) -> ViewState {
    let mut view = ViewState::default();
    view.sync(state);
    view.screen = screen;
    view.search.input = ploke_tui::Input::new(state.search.query.clone());
    view.context.input = ploke_tui::Input::new(state.pack.request.clone());
    view.modules.expanded.insert(format!("{:016x}", 5));
    view
}

/// One frame of `state` as `view` shows it, `w` by `h`.
pub fn frame(state: &State, view: &ViewState, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ploke_tui::draw(f, state, view)).unwrap();
    term.backend().buffer().clone()
}

/// The text of `buf`, a line per row, trailing spaces cut (a wide character's second cell
/// left out).
pub fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let s = buf[(area.x + x, area.y + y)].symbol();
            skip = s.width().saturating_sub(1);
            line.push_str(s);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
