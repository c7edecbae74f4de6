//! What the terminal front end keeps of its own, beside the [`State`] it draws: the screen
//! on view, what is being typed, selections and scroll positions, the help overlay. Only
//! the keys ([`crate::keys`]) and [`ViewState::sync`] change it; drawing reads it (and
//! notes where it drew what, for the mouse).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::ops::Range;

use ploke_app::highlight::{self, Class};
use ploke_app::{EditPhase, State};
use ratatui::layout::Rect;

/// The screens, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Screen {
    /// Search as you type, with filters.
    #[default]
    Search,
    /// An item's source and its neighbours.
    Item,
    /// The crates and their module trees.
    Modules,
    /// The context pack of a request.
    Context,
    /// Questions and edit requests to the chat model.
    Chat,
    /// The edit under review: per-file diffs, apply, check, undo.
    Review,
    /// Index, watcher, model settings, notices.
    Status,
}

impl Screen {
    /// Every screen, in tab order (the number key of each is its place here, from 1).
    pub const ALL: [Screen; 7] = [
        Screen::Search,
        Screen::Item,
        Screen::Modules,
        Screen::Context,
        Screen::Chat,
        Screen::Review,
        Screen::Status,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Search => "Search",
            Screen::Item => "Item",
            Screen::Modules => "Modules",
            Screen::Context => "Context",
            Screen::Chat => "Chat",
            Screen::Review => "Review",
            Screen::Status => "Status",
        }
    }

    /// Its place in [`Screen::ALL`].
    pub fn index(self) -> usize {
        Screen::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }

    /// The screen `step` tabs away (wrapping).
    pub fn step(self, step: isize) -> Screen {
        let n = Screen::ALL.len() as isize;
        Screen::ALL[(self.index() as isize + step).rem_euclid(n) as usize]
    }
}

/// One line of text being typed, with a cursor (a char index).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub text: String,
    /// Chars before the cursor.
    pub cursor: usize,
}

impl Input {
    /// An input holding `text`, the cursor at its end.
    pub fn new(text: impl Into<String>) -> Input {
        let text = text.into();
        let cursor = text.chars().count();
        Input { text, cursor }
    }

    fn byte(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(b, _)| b)
    }

    /// Types `s` at the cursor (line breaks become spaces).
    pub fn insert(&mut self, s: &str) {
        let s: String = s
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .filter(|c| !c.is_control())
            .collect();
        let at = self.byte(self.cursor);
        self.text.insert_str(at, &s);
        self.cursor += s.chars().count();
    }

    /// Deletes the char before the cursor; whether there was one.
    pub fn backspace(&mut self) -> bool {
        if self.cursor == 0 {
            return false;
        }
        let (a, b) = (self.byte(self.cursor - 1), self.byte(self.cursor));
        self.text.replace_range(a..b, "");
        self.cursor -= 1;
        true
    }

    /// Deletes the char under the cursor; whether there was one.
    pub fn delete(&mut self) -> bool {
        let (a, b) = (self.byte(self.cursor), self.byte(self.cursor + 1));
        if a == b {
            return false;
        }
        self.text.replace_range(a..b, "");
        true
    }

    /// Deletes the word before the cursor (and the spaces after it).
    pub fn delete_word(&mut self) -> bool {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        if start == self.cursor {
            return false;
        }
        let (a, b) = (self.byte(start), self.byte(self.cursor));
        self.text.replace_range(a..b, "");
        self.cursor = start;
        true
    }

    /// Empties it; whether it held anything.
    pub fn clear(&mut self) -> bool {
        let had = !self.text.is_empty();
        self.text.clear();
        self.cursor = 0;
        had
    }

    /// Moves the cursor by `by` chars, within the text.
    pub fn move_by(&mut self, by: isize) {
        let len = self.text.chars().count() as isize;
        self.cursor = (self.cursor as isize + by).clamp(0, len) as usize;
    }

    /// Moves the cursor to the start (`false`) or the end (`true`).
    pub fn jump(&mut self, end: bool) {
        self.cursor = if end { self.text.chars().count() } else { 0 };
    }
}

/// A list's selection, and the first row drawn (kept by the drawing so that the selection
/// stays in view without the list jumping).
#[derive(Debug, Default)]
pub struct ListView {
    pub selected: usize,
    pub offset: Cell<usize>,
    /// Rows the last frame showed (a page for PgUp and PgDn).
    pub page: Cell<usize>,
}

impl ListView {
    /// Moves the selection by `by` within `len` rows.
    pub fn move_by(&mut self, by: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        self.selected = (self.selected as isize + by).clamp(0, len as isize - 1) as usize;
    }

    /// Keeps the selection below `len`.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    /// Back to the top.
    pub fn reset(&mut self) {
        self.selected = 0;
        self.offset.set(0);
    }

    /// The first row to draw in `height` rows of a list of `len`, so that the selection
    /// shows (remembered for the next frame).
    pub fn scroll(&self, height: usize, len: usize) -> usize {
        self.page.set(height);
        let mut off = self.offset.get();
        if height == 0 {
            return off;
        }
        if self.selected < off {
            off = self.selected;
        } else if self.selected >= off + height {
            off = self.selected + 1 - height;
        }
        off = off.min(len.saturating_sub(height));
        self.offset.set(off);
        off
    }
}

/// A scrolled text: the first line shown, and what the last frame allowed.
#[derive(Debug, Default)]
pub struct Scroll {
    pub pos: usize,
    /// The furthest it can go (lines beyond one screenful), as of the last frame.
    pub max: Cell<usize>,
    /// Rows the last frame showed.
    pub page: Cell<usize>,
}

impl Scroll {
    /// Moves by `by` lines, within what the last frame allowed.
    pub fn move_by(&mut self, by: isize) {
        let max = self.max.get() as isize;
        self.pos = (self.pos as isize + by).clamp(0, max.max(0)) as usize;
    }

    /// A page's worth of lines (less two, to keep context).
    pub fn page(&self) -> isize {
        (self.page.get().saturating_sub(2)).max(1) as isize
    }

    /// Where to start drawing `len` lines in `height` rows (and notes both for the keys).
    pub fn start(&self, height: usize, len: usize) -> usize {
        self.page.set(height);
        let max = len.saturating_sub(height);
        self.max.set(max);
        self.pos.min(max)
    }
}

/// The search screen.
#[derive(Debug, Default)]
pub struct SearchView {
    pub input: Input,
    /// Over `State.search.shown`.
    pub list: ListView,
    /// The query whose results are shown (a new answer resets the selection).
    pub(crate) answered: String,
}

/// The item screen.
#[derive(Debug, Default)]
pub struct ItemScreen {
    /// The source (line 0: the item's first).
    pub source: Scroll,
    /// Over the neighbours in drawing order.
    pub list: ListView,
    /// The highlighted source of the item on view.
    pub(crate) lines: Option<Highlighted>,
}

/// An item's source classed once when it opens, drawn from every frame.
#[derive(Debug, Clone)]
pub(crate) struct Highlighted {
    pub id: String,
    /// The text classed (a reloaded item may have the same id and length, not the same
    /// text).
    pub source: String,
    /// Per line: byte ranges of the source and their class.
    pub lines: Vec<Vec<(Range<usize>, Class)>>,
}

impl Highlighted {
    pub fn of(id: &str, source: &str) -> Highlighted {
        let base = source.as_ptr() as usize;
        let lines = highlight::lines(source)
            .into_iter()
            .map(|l| {
                l.into_iter()
                    .map(|p| {
                        let start = p.text.as_ptr() as usize - base;
                        (start..start + p.text.len(), p.class)
                    })
                    .collect()
            })
            .collect();
        Highlighted {
            id: id.to_string(),
            source: source.to_string(),
            lines,
        }
    }

    pub fn is_of(&self, id: &str, source: &str) -> bool {
        self.id == id && self.source == source
    }
}

/// The modules screen.
#[derive(Debug, Default)]
pub struct ModulesView {
    /// Over the rows drawn (the expanded part of the tree).
    pub list: ListView,
    /// Ids of the expanded crates and modules.
    pub expanded: HashSet<String>,
}

/// The context screen.
#[derive(Debug, Default)]
pub struct ContextView {
    pub input: Input,
    /// Keys go to the request line (else they move the list and change the budget).
    pub editing: bool,
    /// Over the pack's items.
    pub list: ListView,
    /// The selected item's text.
    pub preview: Scroll,
}

/// The chat screen.
#[derive(Debug, Default)]
pub struct ChatView {
    pub input: Input,
    /// Lines scrolled up from the end of the conversation (0: follow it).
    pub scroll: Scroll,
    pub(crate) turns: usize,
}

/// The review screen.
#[derive(Debug, Default)]
pub struct ReviewView {
    /// Over the files under review.
    pub list: ListView,
    /// The diff of the selected file.
    pub diff: Scroll,
    pub(crate) phase: PhaseTag,
}

/// The edit phase without its data, to notice a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum PhaseTag {
    #[default]
    Idle,
    Proposing,
    Review,
    Applying,
    Applied,
    Checking,
    Checked,
}

impl PhaseTag {
    pub fn of(p: &EditPhase) -> PhaseTag {
        match p {
            EditPhase::Idle => PhaseTag::Idle,
            EditPhase::Proposing => PhaseTag::Proposing,
            EditPhase::Review { .. } => PhaseTag::Review,
            EditPhase::Applying => PhaseTag::Applying,
            EditPhase::Applied(_) => PhaseTag::Applied,
            EditPhase::Checking(_) => PhaseTag::Checking,
            EditPhase::Checked { .. } => PhaseTag::Checked,
        }
    }
}

/// The status screen.
#[derive(Debug, Default)]
pub struct StatusView {
    /// Notices scrolled up from the newest (0: the newest shows).
    pub notices: Scroll,
}

/// What a mouse click or wheel over a region of the last frame means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A tab of the tab bar.
    Tab(Screen),
    /// Row `n` of the search results.
    SearchRow(usize),
    /// Neighbour `n` of the item screen.
    Neighbour(usize),
    /// The item's source.
    Source,
    /// Row `n` of the module tree.
    ModuleRow(usize),
    /// Item `n` of the context pack.
    PackRow(usize),
    /// The preview of the selected pack item.
    PackPreview,
    /// The conversation.
    Transcript,
    /// File `n` of the review.
    ReviewFile(usize),
    /// The diff of the selected file.
    Diff,
    /// The notices.
    Notices,
}

/// Everything the terminal front end keeps beside the [`State`].
#[derive(Debug, Default)]
pub struct ViewState {
    pub screen: Screen,
    /// The full help is shown over the screen.
    pub help: bool,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// Text to put on the clipboard (the loop sends it as an OSC 52 escape and clears it).
    pub clipboard: Option<String>,
    /// A one-line message for the user (a refused action, a copy done), until the next key.
    pub flash: Option<String>,
    /// Frames drawn while busy (the spinner's phase).
    pub tick: usize,
    pub search: SearchView,
    pub item: ItemScreen,
    pub modules: ModulesView,
    pub context: ContextView,
    pub chat: ChatView,
    pub review: ReviewView,
    pub status: StatusView,
    /// Regions of the last frame and what they hold, for the mouse.
    pub(crate) targets: RefCell<Vec<(Rect, Target)>>,
}

impl ViewState {
    /// Follows what changed in `state` since the last call: a new search answer or item
    /// resets its selection and scroll, an item's source is highlighted once, a proposal
    /// ready for review brings the review screen up, selections stay within their lists.
    pub fn sync(&mut self, state: &State) {
        if state.search.answered != self.search.answered {
            self.search.answered = state.search.answered.clone();
            self.search.list.reset();
        }
        self.search.list.clamp(state.search.shown.len());

        match &state.item.current {
            Some(cur) => {
                let fresh = self
                    .item
                    .lines
                    .as_ref()
                    .is_some_and(|h| h.is_of(&cur.item.id, &cur.source));
                if !fresh {
                    let same = self
                        .item
                        .lines
                        .as_ref()
                        .is_some_and(|h| h.id == cur.item.id);
                    if !same {
                        self.item.source.pos = 0;
                        self.item.list.reset();
                    }
                    self.item.lines = Some(Highlighted::of(&cur.item.id, &cur.source));
                }
            }
            None => self.item.lines = None,
        }
        let n = state.item.graph.nodes.len().saturating_sub(1);
        self.item.list.clamp(n);

        let pack_len = state.pack.pack.as_ref().map_or(0, |p| p.items.len());
        self.context.list.clamp(pack_len);

        if state.chat.turns.len() != self.chat.turns {
            if state.chat.turns.len() > self.chat.turns
                && state
                    .chat
                    .turns
                    .last()
                    .is_some_and(|t| t.request == self.chat.input.text)
            {
                // Sent: the request is in the conversation now (a refused one stays typed).
                self.chat.input.clear();
            }
            self.chat.turns = state.chat.turns.len();
            self.chat.scroll.pos = 0;
        }

        let phase = PhaseTag::of(&state.edit.phase);
        if phase != self.review.phase {
            if phase == PhaseTag::Review && self.review.phase != PhaseTag::Applying {
                // A new proposal: show it.
                self.review.list.reset();
                self.review.diff.pos = 0;
                if self.screen == Screen::Chat {
                    self.screen = Screen::Review;
                }
            }
            self.review.phase = phase;
        }
        if let EditPhase::Review { files, .. } = &state.edit.phase {
            self.review.list.clamp(files.len());
        }
    }

    /// Shows `screen` (the context screen edits its request while it has none).
    pub fn show(&mut self, screen: Screen) {
        self.screen = screen;
        if screen == Screen::Context && self.context.input.text.trim().is_empty() {
            self.context.editing = true;
        }
    }

    /// Whether keys go to a text input (then `q`, `?` and digits are typed).
    pub fn typing(&self) -> bool {
        match self.screen {
            Screen::Search | Screen::Chat => true,
            Screen::Context => self.context.editing,
            _ => false,
        }
    }

    /// Notes that `area` of the frame being drawn holds `target`.
    pub(crate) fn mark(&self, area: Rect, target: Target) {
        self.targets.borrow_mut().push((area, target));
    }

    /// What the last frame drew at column `x`, row `y` (the innermost region).
    pub fn target_at(&self, x: u16, y: u16) -> Option<Target> {
        let p = ratatui::layout::Position::new(x, y);
        self.targets
            .borrow()
            .iter()
            .rev()
            .find(|(r, _)| r.contains(p))
            .map(|(_, t)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_edits_at_the_cursor_in_chars() {
        let mut i = Input::new("héllo");
        i.move_by(-2);
        i.insert("X");
        assert_eq!(i.text, "hélXlo");
        assert!(i.backspace());
        assert!(i.delete());
        assert_eq!(i.text, "hélo");
        i.jump(true);
        i.insert(" wor\nld");
        assert_eq!(i.text, "hélo wor ld");
        assert!(i.delete_word());
        assert_eq!(i.text, "hélo wor ");
        assert!(i.delete_word());
        assert_eq!(i.text, "hélo ");
        i.jump(false);
        assert!(!i.backspace());
        assert!(i.clear());
        assert!(!i.clear());
    }

    #[test]
    fn a_list_scrolls_only_as_far_as_the_selection_needs() {
        let mut l = ListView::default();
        assert_eq!(l.scroll(5, 100), 0);
        l.move_by(7, 100);
        assert_eq!(l.scroll(5, 100), 3);
        l.move_by(-2, 100);
        assert_eq!(l.scroll(5, 100), 3, "still in view: no jump");
        l.move_by(-10, 100);
        assert_eq!((l.selected, l.scroll(5, 100)), (0, 0));
        l.move_by(1000, 100);
        assert_eq!((l.selected, l.scroll(5, 100)), (99, 95));
        assert_eq!(l.scroll(5, 3), 0, "a shorter list shows from the top");
    }

    #[test]
    fn screens_cycle() {
        assert_eq!(Screen::Search.step(-1), Screen::Status);
        assert_eq!(Screen::Status.step(1), Screen::Search);
        assert_eq!(Screen::Chat.index(), 4);
    }
}
