//! Input: a key, a paste or a mouse event, with the [`State`] as last drawn, changes the
//! [`ViewState`] and returns the [`Action`]s the loop hands to [`ploke_app::App::dispatch`].
//! Nothing here waits or touches the session, so tests drive it on a hand-made state.

use ploke_app::{Action, EditPhase, Filters, State, TestFilter};
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use crate::ui;
use crate::view::{Screen, Target, ViewState};

/// Keys and what they do, as the help shows them.
pub(crate) type Keys = &'static [(&'static str, &'static str)];

/// The keys of a screen: the few the help bar lists, and all of them.
pub(crate) struct Help {
    pub short: Keys,
    pub full: Keys,
}

/// Keys that work on every screen.
pub(crate) const GLOBAL_KEYS: Keys = &[
    ("Tab / Shift-Tab", "next / previous screen"),
    ("1…7, Alt-1…7", "a screen by number (Alt while typing)"),
    ("F1, ?", "this help (? when not typing)"),
    ("Ctrl-C", "cancel the model's answer; quit when it is idle"),
    ("q, Ctrl-Q", "quit (q when not typing)"),
    ("mouse", "click selects (again: opens), wheel scrolls"),
];

const SEARCH: Help = Help {
    short: &[
        ("type", "query"),
        ("↑↓", "select"),
        ("⏎", "open"),
        ("^K", "kind"),
        ("^T", "tests"),
        ("^R", "crate"),
        ("Tab", "screens"),
        ("^Q", "quit"),
        ("F1", "help"),
    ],
    full: &[
        ("type", "search as you type"),
        ("↑ ↓ PgUp PgDn", "select a result"),
        ("Enter", "open the result in the item screen"),
        ("Ctrl-K", "cycle the kind shown (all, then each kind found)"),
        ("Ctrl-T", "cycle test code: all, excluded, only"),
        (
            "Ctrl-R",
            "cycle the crate shown (all, then each crate found)",
        ),
        ("Esc, Ctrl-U", "clear the query"),
        ("Ctrl-W", "delete a word"),
        ("← → Home End", "move in the query"),
    ],
};

const ITEM: Help = Help {
    short: &[
        ("↑↓", "neighbour"),
        ("⏎", "open"),
        ("⌫", "back"),
        ("Alt-→", "forward"),
        ("PgUp/PgDn", "scroll"),
        ("p", "pack"),
        ("q", "quit"),
        ("?", "help"),
    ],
    full: &[
        ("↑ ↓ k j", "select a neighbour"),
        ("Enter", "open the neighbour"),
        ("Backspace, Alt-←, [", "back to the previous item"),
        ("Alt-→, ]", "forward again"),
        ("PgUp PgDn Space b", "scroll the source by a page"),
        ("K J", "scroll the source by a line"),
        ("g G", "top / end of the source"),
        ("p", "the context pack of this item (context screen)"),
        ("/", "search"),
    ],
};

const MODULES: Help = Help {
    short: &[
        ("↑↓", "select"),
        ("→", "expand"),
        ("←", "collapse"),
        ("space", "toggle"),
        ("⏎", "open"),
        ("q", "quit"),
        ("?", "help"),
    ],
    full: &[
        ("↑ ↓ k j PgUp PgDn", "select a crate or module"),
        ("→ l", "expand (again: its first module)"),
        ("← h", "collapse (again: its parent)"),
        ("Space", "expand or collapse"),
        ("Enter", "open it in the item screen"),
    ],
};

const CONTEXT: Help = Help {
    short: &[
        ("/", "request"),
        ("+/-", "budget"),
        ("↑↓", "select"),
        ("⏎", "open"),
        ("y", "copy"),
        ("q", "quit"),
        ("?", "help"),
    ],
    full: &[
        ("/ e i", "edit the request"),
        ("+ -", "raise or lower the budget (packs again)"),
        ("↑ ↓ k j", "select an item of the pack"),
        ("PgUp PgDn", "scroll the selected item's text"),
        ("Enter", "open the item in the item screen"),
        (
            "y",
            "copy the pack as markdown (OSC 52: works over SSH where the terminal allows)",
        ),
    ],
};

const CONTEXT_EDITING: Help = Help {
    short: &[
        ("type", "request"),
        ("⏎", "pack it"),
        ("Esc", "done"),
        ("Tab", "screens"),
        ("^Q", "quit"),
        ("F1", "help"),
    ],
    full: &[
        ("type", "the request to pack context for"),
        ("Enter", "pack it"),
        ("Esc", "stop editing (keys move the list again)"),
        ("Ctrl-U, Ctrl-W", "clear, delete a word"),
    ],
};

const CHAT: Help = Help {
    short: &[
        ("type", "request"),
        ("⏎", "ask"),
        ("^E", "edit"),
        ("Esc", "cancel"),
        ("PgUp/PgDn", "scroll"),
        ("^Q", "quit"),
        ("F1", "help"),
    ],
    full: &[
        ("type", "a question or an edit request"),
        ("Enter", "ask the model about the code"),
        (
            "Ctrl-E",
            "ask the model for an edit (it ends in the review screen)",
        ),
        (
            "Esc, Ctrl-C",
            "cancel the answer under way (nothing is written)",
        ),
        ("↑ ↓ PgUp PgDn", "scroll the conversation"),
        ("Ctrl-U, Ctrl-W", "clear, delete a word"),
    ],
};

const REVIEW: Help = Help {
    short: &[
        ("↑↓", "file"),
        ("space", "accept/reject"),
        ("a", "apply"),
        ("c", "check"),
        ("u", "undo"),
        ("d", "discard"),
        ("q", "quit"),
        ("?", "help"),
    ],
    full: &[
        ("↑ ↓ k j", "select a file"),
        ("Space", "accept or reject the file"),
        ("y n", "accept, reject the file"),
        ("PgUp PgDn J K", "scroll the diff"),
        ("a", "apply the accepted files"),
        ("c", "cargo check the applied edit"),
        ("u", "undo the newest applied edit"),
        ("d", "discard the edit under review"),
    ],
};

const STATUS: Help = Help {
    short: &[
        ("r", "index"),
        ("R", "rebuild"),
        ("w", "watch"),
        ("s", "refresh"),
        ("↑↓", "notices"),
        ("q", "quit"),
        ("?", "help"),
    ],
    full: &[
        ("r", "bring the index up to date"),
        ("R", "rebuild the index from scratch"),
        ("w", "start or stop watching files (live index)"),
        ("s", "ask for the status again"),
        ("↑ ↓ PgUp PgDn", "scroll the notices"),
    ],
};

/// The keys of the screen on view.
pub(crate) fn help_for(view: &ViewState) -> &'static Help {
    match view.screen {
        Screen::Search => &SEARCH,
        Screen::Item => &ITEM,
        Screen::Modules => &MODULES,
        Screen::Context if view.context.editing => &CONTEXT_EDITING,
        Screen::Context => &CONTEXT,
        Screen::Chat => &CHAT,
        Screen::Review => &REVIEW,
        Screen::Status => &STATUS,
    }
}

/// What a key does: changes to `view`, and actions for the app (`view.quit` is set when
/// the user asked to quit).
pub fn on_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    view.flash = None;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Char('q') | KeyCode::Char('Q') if ctrl => {
            view.quit = true;
            return Vec::new();
        }
        KeyCode::Char('c') | KeyCode::Char('C') if ctrl => {
            if state.chat.busy {
                return vec![Action::Cancel];
            }
            view.quit = true;
            return Vec::new();
        }
        KeyCode::F(1) => {
            view.help = !view.help;
            return Vec::new();
        }
        KeyCode::Tab => {
            view.help = false;
            view.show(view.screen.step(1));
            return Vec::new();
        }
        KeyCode::BackTab => {
            view.help = false;
            view.show(view.screen.step(-1));
            return Vec::new();
        }
        KeyCode::Char(d @ '1'..='7') if alt || (!view.typing() && !ctrl) => {
            view.help = false;
            view.show(Screen::ALL[d as usize - '1' as usize]);
            return Vec::new();
        }
        _ => {}
    }
    if view.help {
        if matches!(key.code, KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter) {
            view.help = false;
        }
        return Vec::new();
    }
    if !view.typing() && !ctrl && !alt {
        match key.code {
            KeyCode::Char('q') => {
                view.quit = true;
                return Vec::new();
            }
            KeyCode::Char('?') => {
                view.help = true;
                return Vec::new();
            }
            _ => {}
        }
    }
    match view.screen {
        Screen::Search => search_key(key, state, view),
        Screen::Item => item_key(key, state, view),
        Screen::Modules => modules_key(key, state, view),
        Screen::Context => context_key(key, state, view),
        Screen::Chat => chat_key(key, state, view),
        Screen::Review => review_key(key, state, view),
        Screen::Status => status_key(key, state, view),
    }
}

/// Text pasted (bracketed paste): typed into the input on view.
pub fn on_paste(text: &str, state: &State, view: &mut ViewState) -> Vec<Action> {
    let _ = state;
    match view.screen {
        Screen::Search => {
            view.search.input.insert(text);
            vec![Action::SetQuery(view.search.input.text.clone())]
        }
        Screen::Chat => {
            view.chat.input.insert(text);
            Vec::new()
        }
        Screen::Context => {
            view.context.editing = true;
            view.context.input.insert(text);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// What a mouse event over the last frame does: a click on a tab shows its screen, on a
/// row selects it (on the selected row: opens it); the wheel scrolls what is under it.
pub fn on_mouse(ev: MouseEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let Some(target) = view.target_at(ev.column, ev.row) else {
        return Vec::new();
    };
    let wheel = match ev.kind {
        MouseEventKind::ScrollUp => -3,
        MouseEventKind::ScrollDown => 3,
        MouseEventKind::Down(MouseButton::Left) => 0,
        _ => return Vec::new(),
    };
    view.flash = None;
    if wheel != 0 {
        match target {
            Target::Tab(_) => {}
            Target::SearchRow(_) => view.search.list.move_by(wheel, state.search.shown.len()),
            Target::Neighbour(_) => view
                .item
                .list
                .move_by(wheel, ui::item::neighbours(state).len()),
            Target::Source => view.item.source.move_by(wheel),
            Target::ModuleRow(_) => view
                .modules
                .list
                .move_by(wheel, ui::modules::rows(state, view).len()),
            Target::PackRow(_) => view.context.list.move_by(wheel, pack_len(state)),
            Target::PackPreview => view.context.preview.move_by(wheel),
            Target::Transcript => view.chat.scroll.move_by(-wheel),
            Target::ReviewFile(_) => view.review.list.move_by(wheel, review_len(state)),
            Target::Diff => view.review.diff.move_by(wheel),
            Target::Notices => view.status.notices.move_by(-wheel),
        }
        return Vec::new();
    }
    view.help = false;
    match target {
        Target::Tab(s) => {
            view.show(s);
            Vec::new()
        }
        Target::SearchRow(n) => {
            if view.search.list.selected == n {
                return search_open(state, view);
            }
            view.search.list.selected = n;
            Vec::new()
        }
        Target::Neighbour(n) => {
            if view.item.list.selected == n {
                return neighbour_open(state, view);
            }
            view.item.list.selected = n;
            Vec::new()
        }
        Target::ModuleRow(n) => {
            if view.modules.list.selected == n {
                return module_open(state, view);
            }
            view.modules.list.selected = n;
            Vec::new()
        }
        Target::PackRow(n) => {
            if view.context.list.selected == n {
                return pack_open(state, view);
            }
            view.context.list.selected = n;
            view.context.preview.pos = 0;
            view.context.editing = false;
            Vec::new()
        }
        Target::ReviewFile(n) => {
            if view.review.list.selected == n {
                return toggle_file(state, view, None);
            }
            view.review.list.selected = n;
            view.review.diff.pos = 0;
            Vec::new()
        }
        Target::Source
        | Target::PackPreview
        | Target::Transcript
        | Target::Diff
        | Target::Notices => Vec::new(),
    }
}

/// Editing keys of a text input; `Some(changed)` when the key was one of them.
fn edit_input(key: &KeyEvent, input: &mut crate::view::Input) -> Option<bool> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Char('u') if ctrl => input.clear(),
        KeyCode::Char('w') if ctrl => input.delete_word(),
        KeyCode::Backspace if alt || ctrl => input.delete_word(),
        KeyCode::Char('a') if ctrl => {
            input.jump(false);
            false
        }
        KeyCode::Char(c) if !ctrl && !alt => {
            let mut b = [0u8; 4];
            input.insert(c.encode_utf8(&mut b));
            true
        }
        KeyCode::Backspace => input.backspace(),
        KeyCode::Delete => input.delete(),
        KeyCode::Left => {
            input.move_by(-1);
            false
        }
        KeyCode::Right => {
            input.move_by(1);
            false
        }
        KeyCode::Home => {
            input.jump(false);
            false
        }
        KeyCode::End => {
            input.jump(true);
            false
        }
        _ => return None,
    })
}

/// Moves `list` for the arrow and page keys; whether the key was one of them.
fn list_keys(key: &KeyEvent, list: &mut crate::view::ListView, len: usize, letters: bool) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let page = list.page.get().max(1) as isize;
    let by = match key.code {
        KeyCode::Up => -1,
        KeyCode::Down => 1,
        KeyCode::Char('p') if ctrl => -1,
        KeyCode::Char('n') if ctrl => 1,
        KeyCode::Char('k') if letters && !ctrl => -1,
        KeyCode::Char('j') if letters && !ctrl => 1,
        KeyCode::PageUp => -page,
        KeyCode::PageDown => page,
        _ => return false,
    };
    list.move_by(by, len);
    true
}

fn search_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let len = state.search.shown.len();
    if list_keys(&key, &mut view.search.list, len, false) {
        return Vec::new();
    }
    match key.code {
        KeyCode::Enter => return search_open(state, view),
        KeyCode::Esc => {
            return if view.search.input.clear() {
                vec![Action::SetQuery(String::new())]
            } else {
                Vec::new()
            };
        }
        KeyCode::Char('k') if ctrl => {
            let (kinds, _) = state.search.facets();
            let mut f = state.search.filters.clone();
            let now = f.kinds.iter().next().cloned();
            f.kinds.clear();
            if let Some(next) = next_of(kinds.iter(), now.as_ref()) {
                f.kinds.insert(next.clone());
            }
            return filters(view, f);
        }
        KeyCode::Char('t') if ctrl => {
            let mut f = state.search.filters.clone();
            f.tests = match f.tests {
                TestFilter::All => TestFilter::Exclude,
                TestFilter::Exclude => TestFilter::Only,
                TestFilter::Only => TestFilter::All,
            };
            return filters(view, f);
        }
        KeyCode::Char('r') if ctrl => {
            let (_, crates) = state.search.facets();
            let mut f = state.search.filters.clone();
            f.crate_name = next_of(crates.iter(), f.crate_name.as_ref()).cloned();
            return filters(view, f);
        }
        _ => {}
    }
    match edit_input(&key, &mut view.search.input) {
        Some(true) => vec![Action::SetQuery(view.search.input.text.clone())],
        _ => Vec::new(),
    }
}

/// The choice after `now` in `all` (`None`: all of them), wrapping to `None`.
fn next_of<'a, T: PartialEq + 'a>(
    mut all: impl Iterator<Item = &'a T>,
    now: Option<&T>,
) -> Option<&'a T> {
    match now {
        None => all.next(),
        Some(n) => {
            all.by_ref().find(|x| *x == n);
            all.next()
        }
    }
}

fn filters(view: &mut ViewState, f: Filters) -> Vec<Action> {
    view.search.list.reset();
    vec![Action::SetFilters(f)]
}

fn search_open(state: &State, view: &mut ViewState) -> Vec<Action> {
    let Some(hit) = state
        .search
        .shown
        .get(view.search.list.selected)
        .and_then(|&i| state.search.hits.get(i))
    else {
        return Vec::new();
    };
    view.show(Screen::Item);
    vec![Action::Open(hit.item.id.clone())]
}

fn item_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let n = ui::item::neighbours(state).len();
    let page = view.item.source.page();
    // PgUp and PgDn scroll the source; the arrows move in the neighbours.
    match key.code {
        KeyCode::PageDown => view.item.source.move_by(page),
        KeyCode::PageUp => view.item.source.move_by(-page),
        _ if !alt && list_keys(&key, &mut view.item.list, n, true) => {}
        _ => return item_command(key, state, view),
    }
    Vec::new()
}

fn item_command(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let page = view.item.source.page();
    match key.code {
        KeyCode::Enter => return neighbour_open(state, view),
        KeyCode::Backspace | KeyCode::Char('[') => return vec![Action::Back],
        KeyCode::Left if alt => return vec![Action::Back],
        KeyCode::Right if alt => return vec![Action::Forward],
        KeyCode::Char(']') => return vec![Action::Forward],
        KeyCode::Char(' ') => view.item.source.move_by(page),
        KeyCode::Char('b') => view.item.source.move_by(-page),
        KeyCode::Char('J') => view.item.source.move_by(1),
        KeyCode::Char('K') => view.item.source.move_by(-1),
        KeyCode::Char('g') | KeyCode::Home => view.item.source.pos = 0,
        KeyCode::Char('G') | KeyCode::End => view.item.source.move_by(isize::MAX / 2),
        KeyCode::Char('/') => view.show(Screen::Search),
        KeyCode::Char('p') => {
            if let Some(cur) = &state.item.current {
                view.context.input = crate::view::Input::new(cur.item.path.clone());
                view.context.editing = false;
                view.show(Screen::Context);
                return vec![Action::SetPackRequest(cur.item.path.clone())];
            }
        }
        _ => {}
    }
    Vec::new()
}

fn neighbour_open(state: &State, view: &ViewState) -> Vec<Action> {
    let ns = ui::item::neighbours(state);
    match ns.get(view.item.list.selected) {
        Some(&i) => vec![Action::Open(state.item.graph.nodes[i].item.id.clone())],
        None => Vec::new(),
    }
}

fn modules_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let rows = ui::modules::rows(state, view);
    if list_keys(&key, &mut view.modules.list, rows.len(), true) {
        return Vec::new();
    }
    let Some(row) = rows.get(view.modules.list.selected) else {
        return Vec::new();
    };
    let id = row.entry.item.id.clone();
    let open = view.modules.expanded.contains(&id);
    let has_children = !row.entry.children.is_empty();
    let parent = row.parent;
    match key.code {
        KeyCode::Enter => return module_open(state, view),
        KeyCode::Char(' ') if has_children && open => {
            view.modules.expanded.remove(&id);
        }
        KeyCode::Char(' ') if has_children => {
            view.modules.expanded.insert(id);
        }
        KeyCode::Right | KeyCode::Char('l') => {
            if has_children && !open {
                view.modules.expanded.insert(id);
            } else if has_children {
                view.modules.list.selected += 1;
            }
        }
        KeyCode::Left | KeyCode::Char('h') => {
            if open {
                view.modules.expanded.remove(&id);
            } else if let Some(p) = parent {
                view.modules.list.selected = p;
            }
        }
        _ => {}
    }
    Vec::new()
}

fn module_open(state: &State, view: &mut ViewState) -> Vec<Action> {
    let rows = ui::modules::rows(state, view);
    match rows.get(view.modules.list.selected) {
        Some(r) => {
            let id = r.entry.item.id.clone();
            view.show(Screen::Item);
            vec![Action::Open(id)]
        }
        None => Vec::new(),
    }
}

fn pack_len(state: &State) -> usize {
    state.pack.pack.as_ref().map_or(0, |p| p.items.len())
}

/// The budget one `+` or `-` away from `now`.
pub(crate) fn budget_step(now: usize, up: bool) -> usize {
    let step = match (now, up) {
        (0..=1999, _) | (2000, false) => 500,
        (0..=15999, _) | (16000, false) => 1000,
        _ => 4000,
    };
    if up {
        now + step
    } else {
        now.saturating_sub(step).max(500)
    }
}

fn context_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    if view.context.editing {
        return match key.code {
            KeyCode::Enter => {
                view.context.editing = false;
                view.context.list.reset();
                view.context.preview.pos = 0;
                vec![Action::SetPackRequest(view.context.input.text.clone())]
            }
            KeyCode::Esc => {
                view.context.editing = false;
                Vec::new()
            }
            _ => {
                edit_input(&key, &mut view.context.input);
                Vec::new()
            }
        };
    }
    let len = pack_len(state);
    let before = view.context.list.selected;
    let page = view.context.preview.page();
    if !matches!(key.code, KeyCode::PageUp | KeyCode::PageDown)
        && list_keys(&key, &mut view.context.list, len, true)
    {
        if view.context.list.selected != before {
            view.context.preview.pos = 0;
        }
        return Vec::new();
    }
    match key.code {
        KeyCode::Char('/') | KeyCode::Char('e') | KeyCode::Char('i') => {
            view.context.editing = true;
        }
        KeyCode::Char('+') | KeyCode::Char('=') => {
            return vec![Action::SetBudget(budget_step(state.pack.budget, true))]
        }
        KeyCode::Char('-') | KeyCode::Char('_') => {
            return vec![Action::SetBudget(budget_step(state.pack.budget, false))]
        }
        KeyCode::PageDown | KeyCode::Char(' ') => view.context.preview.move_by(page),
        KeyCode::PageUp | KeyCode::Char('b') => view.context.preview.move_by(-page),
        KeyCode::Enter => return pack_open(state, view),
        KeyCode::Char('y') => match &state.pack.pack {
            Some(p) => {
                let md = p.to_markdown();
                view.flash = Some(format!(
                    "copied the pack ({} items, {} tokens, {} bytes of markdown) to the clipboard",
                    p.items.len(),
                    p.tokens,
                    md.len()
                ));
                view.clipboard = Some(md);
            }
            None => view.flash = Some("no pack to copy yet".into()),
        },
        _ => {}
    }
    Vec::new()
}

fn pack_open(state: &State, view: &mut ViewState) -> Vec<Action> {
    let Some(item) = state
        .pack
        .pack
        .as_ref()
        .and_then(|p| p.items.get(view.context.list.selected))
    else {
        return Vec::new();
    };
    view.show(Screen::Item);
    vec![Action::Open(item.id.to_hex())]
}

fn chat_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let page = view.chat.scroll.page();
    match key.code {
        KeyCode::Enter => return vec![Action::Ask(view.chat.input.text.clone())],
        KeyCode::Char('e') if ctrl => return vec![Action::Edit(view.chat.input.text.clone())],
        KeyCode::Esc if state.chat.busy => return vec![Action::Cancel],
        KeyCode::Up => view.chat.scroll.move_by(1),
        KeyCode::Down => view.chat.scroll.move_by(-1),
        KeyCode::PageUp => view.chat.scroll.move_by(page),
        KeyCode::PageDown => view.chat.scroll.move_by(-page),
        _ => {
            edit_input(&key, &mut view.chat.input);
        }
    }
    Vec::new()
}

fn review_len(state: &State) -> usize {
    match &state.edit.phase {
        EditPhase::Review { files, .. } => files.len(),
        _ => 0,
    }
}

/// Accepts or rejects the selected file (`None`: the other way round from now).
fn toggle_file(state: &State, view: &ViewState, accept: Option<bool>) -> Vec<Action> {
    let EditPhase::Review { files, .. } = &state.edit.phase else {
        return Vec::new();
    };
    match files.get(view.review.list.selected) {
        Some(f) => vec![Action::Decide {
            file: f.path.clone(),
            accept: accept.unwrap_or(!f.accepted),
        }],
        None => Vec::new(),
    }
}

fn review_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let before = view.review.list.selected;
    if !matches!(key.code, KeyCode::PageUp | KeyCode::PageDown)
        && list_keys(&key, &mut view.review.list, review_len(state), true)
    {
        if view.review.list.selected != before {
            view.review.diff.pos = 0;
        }
        return Vec::new();
    }
    let page = view.review.diff.page();
    let in_review = matches!(state.edit.phase, EditPhase::Review { .. });
    match key.code {
        KeyCode::Char(' ') => return toggle_file(state, view, None),
        KeyCode::Char('y') => return toggle_file(state, view, Some(true)),
        KeyCode::Char('n') => return toggle_file(state, view, Some(false)),
        KeyCode::PageDown => view.review.diff.move_by(page),
        KeyCode::PageUp => view.review.diff.move_by(-page),
        KeyCode::Char('J') => view.review.diff.move_by(1),
        KeyCode::Char('K') => view.review.diff.move_by(-1),
        KeyCode::Char('a') => {
            if in_review {
                return vec![Action::Apply];
            }
            view.flash = Some("nothing under review to apply".into());
        }
        KeyCode::Char('c') => {
            if matches!(state.edit.phase, EditPhase::Applied(_)) {
                return vec![Action::Check];
            }
            view.flash = Some("apply an edit first; then c runs cargo check on it".into());
        }
        KeyCode::Char('u') => return vec![Action::Undo],
        KeyCode::Char('d') if !matches!(state.edit.phase, EditPhase::Idle) => {
            return vec![Action::Discard];
        }
        _ => {}
    }
    Vec::new()
}

fn status_key(key: KeyEvent, state: &State, view: &mut ViewState) -> Vec<Action> {
    let page = view.status.notices.page();
    match key.code {
        KeyCode::Char('r') => vec![Action::Index { rebuild: false }],
        KeyCode::Char('R') => vec![Action::Index { rebuild: true }],
        KeyCode::Char('w') => vec![Action::Watch(!state.status.watching)],
        KeyCode::Char('s') => vec![Action::RefreshStatus],
        KeyCode::Up | KeyCode::Char('k') => {
            view.status.notices.move_by(1);
            Vec::new()
        }
        KeyCode::Down | KeyCode::Char('j') => {
            view.status.notices.move_by(-1);
            Vec::new()
        }
        KeyCode::PageUp => {
            view.status.notices.move_by(page);
            Vec::new()
        }
        KeyCode::PageDown => {
            view.status.notices.move_by(-page);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_steps_are_finer_when_small() {
        assert_eq!(budget_step(8000, true), 9000);
        assert_eq!(budget_step(8000, false), 7000);
        assert_eq!(budget_step(1000, true), 1500);
        assert_eq!(budget_step(500, false), 500);
        assert_eq!(budget_step(2000, false), 1500);
        assert_eq!(budget_step(2000, true), 3000);
        assert_eq!(budget_step(16000, true), 20000);
        assert_eq!(budget_step(16000, false), 15000);
    }

    #[test]
    fn cycling_goes_through_every_choice_then_all() {
        let all = ["a".to_string(), "b".to_string()];
        assert_eq!(next_of(all.iter(), None), Some(&all[0]));
        assert_eq!(next_of(all.iter(), Some(&all[0])), Some(&all[1]));
        assert_eq!(next_of(all.iter(), Some(&all[1])), None);
        assert_eq!(next_of(all.iter(), Some(&"gone".to_string())), None);
    }
}
