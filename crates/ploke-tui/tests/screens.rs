//! Every screen drawn whole from a fixed, hand-made state at 100x30 and compared with its
//! snapshot (`tests/snapshots/`; `INSTA_UPDATE=always` rewrites them); the same state at
//! other sizes (no panic, the chrome still there); keys, pastes and the mouse on that state
//! (the actions they ask for, what they change in the view).

mod common;

use common::{frame, sample_state, text, view_on};
use ploke_app::{Action, EditPhase, State, TestFilter};
use ploke_tui::{on_key, on_mouse, on_paste, Screen, ViewState};
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

fn snapshot(screen: Screen) -> String {
    let state = sample_state();
    let view = view_on(&state, screen);
    text(&frame(&state, &view, 100, 30))
}

#[test]
fn search_screen() {
    insta::assert_snapshot!(snapshot(Screen::Search));
}

#[test]
fn item_screen_with_neighbours() {
    insta::assert_snapshot!(snapshot(Screen::Item));
}

#[test]
fn modules_screen() {
    insta::assert_snapshot!(snapshot(Screen::Modules));
}

#[test]
fn context_screen() {
    insta::assert_snapshot!(snapshot(Screen::Context));
}

#[test]
fn chat_screen() {
    insta::assert_snapshot!(snapshot(Screen::Chat));
}

#[test]
fn review_screen() {
    insta::assert_snapshot!(snapshot(Screen::Review));
}

#[test]
fn status_screen() {
    insta::assert_snapshot!(snapshot(Screen::Status));
}

#[test]
fn help_overlay() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Review);
    view.help = true;
    insta::assert_snapshot!(text(&frame(&state, &view, 100, 30)));
}

#[test]
fn empty_screens_explain_themselves() {
    let state = State {
        workspace: "/home/dev/retry".into(),
        ..State::default()
    };
    let mut all = String::new();
    for s in Screen::ALL {
        let mut view = ViewState::default();
        view.sync(&state);
        view.show(s);
        let t = text(&frame(&state, &view, 100, 30));
        all.push_str(&format!("==== {}\n{t}", s.title()));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn every_screen_draws_at_every_size() {
    let state = sample_state();
    for s in Screen::ALL {
        let view = view_on(&state, s);
        for (w, h) in [
            (100, 30),
            (60, 20),
            (200, 50),
            (80, 24),
            (40, 10),
            (12, 5),
            (3, 2),
        ] {
            let buf = frame(&state, &view, w, h);
            let t = text(&buf);
            let lines: Vec<&str> = t.lines().collect();
            assert_eq!(lines.len(), h as usize);
            if w >= 40 && h >= 10 {
                assert!(lines[0].starts_with(" ploke "), "{s:?} {w}x{h}:\n{t}");
                assert!(
                    lines[0].contains(&format!("{} {}", s.index() + 1, s.title())),
                    "{s:?} {w}x{h}: the current tab shows:\n{t}"
                );
                // The help bar lists at least one key of the screen.
                assert!(
                    !lines[h as usize - 1].trim().is_empty(),
                    "{s:?} {w}x{h}:\n{t}"
                );
            }
        }
    }
    // A resize draws the same state again at the new size.
    let view = view_on(&state, Screen::Item);
    let small = text(&frame(&state, &view, 60, 20));
    let big = text(&frame(&state, &view, 200, 50));
    for t in [&small, &big] {
        assert!(t.contains("retry_delay"), "{t}");
        assert!(t.contains("callers (2)"), "{t}");
    }
    assert!(
        big.contains("base + jitter(base) // at most a tenth more"),
        "{big}"
    );
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn alt(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::ALT)
}

#[test]
fn typing_searches_and_enter_opens_the_selected_result() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Search);
    view.search.input = Default::default();
    assert_eq!(
        on_key(key(KeyCode::Char('r')), &state, &mut view),
        [Action::SetQuery("r".into())]
    );
    assert_eq!(
        on_key(key(KeyCode::Char('q')), &state, &mut view),
        [Action::SetQuery("rq".into())],
        "q is typed in the query, not a quit"
    );
    assert!(!view.quit);
    assert_eq!(
        on_key(key(KeyCode::Backspace), &state, &mut view),
        [Action::SetQuery("r".into())]
    );
    on_key(key(KeyCode::Down), &state, &mut view);
    on_key(key(KeyCode::Down), &state, &mut view);
    assert_eq!(view.search.list.selected, 2);
    assert_eq!(
        on_key(key(KeyCode::Enter), &state, &mut view),
        [Action::Open(state.search.hits[2].item.id.clone())]
    );
    assert_eq!(view.screen, Screen::Item);
    view.show(Screen::Search);
    assert_eq!(
        on_paste("delay\n", &state, &mut view),
        [Action::SetQuery("rdelay ".into())]
    );
}

#[test]
fn filters_cycle_through_what_the_results_hold() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Search);
    let mut state = state;
    let mut seen = Vec::new();
    for _ in 0..5 {
        match &on_key(ctrl('k'), &state, &mut view)[..] {
            [Action::SetFilters(f)] => {
                seen.push(
                    f.kinds
                        .iter()
                        .next()
                        .cloned()
                        .unwrap_or_else(|| "all".into()),
                );
                state.search.filters = f.clone();
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, ["const", "fn", "method", "struct", "all"]);
    match &on_key(ctrl('t'), &state, &mut view)[..] {
        [Action::SetFilters(f)] => assert_eq!(f.tests, TestFilter::Exclude),
        other => panic!("{other:?}"),
    }
    match &on_key(ctrl('r'), &state, &mut view)[..] {
        [Action::SetFilters(f)] => assert_eq!(f.crate_name.as_deref(), Some("retry")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn item_keys_open_neighbours_and_walk_the_history() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Item);
    // module, then callers: Client::send, retry_loop; callees: backoff, jitter.
    on_key(key(KeyCode::Down), &state, &mut view);
    let t = text(&frame(&state, &view, 100, 30));
    assert!(
        t.lines().any(|l| l.contains("▶ Client::send")),
        "the selected neighbour is marked:\n{t}"
    );
    assert_eq!(
        on_key(key(KeyCode::Enter), &state, &mut view),
        [Action::Open(format!("{:016x}", 4))]
    );
    assert_eq!(
        on_key(key(KeyCode::Backspace), &state, &mut view),
        [Action::Back]
    );
    assert_eq!(
        on_key(alt(KeyCode::Left), &state, &mut view),
        [Action::Back]
    );
    assert_eq!(
        on_key(alt(KeyCode::Right), &state, &mut view),
        [Action::Forward]
    );
    assert_eq!(
        on_key(key(KeyCode::Char('p')), &state, &mut view),
        [Action::SetPackRequest("retry::retry_delay".into())]
    );
    assert_eq!(view.screen, Screen::Context);
}

#[test]
fn the_source_scrolls_and_only_its_visible_lines_are_drawn() {
    let mut state = sample_state();
    let cur = state.item.current.as_mut().unwrap();
    cur.source = (0..5000)
        .map(|i| format!("let x{i} = {i};"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut view = view_on(&state, Screen::Item);
    view.sync(&state);
    let t = text(&frame(&state, &view, 100, 30));
    assert!(
        t.contains("let x0 = 0;") && !t.contains("let x100 = 100;"),
        "{t}"
    );
    on_key(key(KeyCode::PageDown), &state, &mut view);
    on_key(key(KeyCode::PageDown), &state, &mut view);
    let t = text(&frame(&state, &view, 100, 30));
    assert!(
        !t.contains("let x0 = 0;") && t.contains(&format!("let x{0} = {0};", view.item.source.pos)),
        "{t}"
    );
    on_key(key(KeyCode::Char('G')), &state, &mut view);
    let t = text(&frame(&state, &view, 100, 30));
    assert!(t.contains("let x4999 = 4999;"), "{t}");
    assert!(t.contains("of 6-5005"), "{t}");
}

#[test]
fn modules_expand_collapse_and_open() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Modules);
    view.modules.expanded.clear();
    let t = text(&frame(&state, &view, 100, 30));
    assert!(t.contains("▸ retry") && !t.contains("client"), "{t}");
    on_key(key(KeyCode::Right), &state, &mut view);
    let t = text(&frame(&state, &view, 100, 30));
    assert!(t.contains("▾ retry") && t.contains("client"), "{t}");
    on_key(key(KeyCode::Right), &state, &mut view);
    assert_eq!(view.modules.list.selected, 1, "into the first module");
    on_key(key(KeyCode::Left), &state, &mut view);
    assert_eq!(view.modules.list.selected, 0, "back to the crate");
    on_key(key(KeyCode::Char(' ')), &state, &mut view);
    assert!(view.modules.expanded.is_empty());
    assert_eq!(
        on_key(key(KeyCode::Enter), &state, &mut view),
        [Action::Open(format!("{:016x}", 5))]
    );
    assert_eq!(view.screen, Screen::Item);
}

#[test]
fn context_keys_edit_repack_and_copy() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Context);
    assert!(!view.context.editing);
    assert_eq!(
        on_key(key(KeyCode::Char('+')), &state, &mut view),
        [Action::SetBudget(9000)]
    );
    assert_eq!(
        on_key(key(KeyCode::Char('-')), &state, &mut view),
        [Action::SetBudget(7000)]
    );
    on_key(key(KeyCode::Char('y')), &state, &mut view);
    let md = view.clipboard.take().expect("the pack to copy");
    assert!(
        md.starts_with("# Context pack: how is the retry delay computed?"),
        "{md}"
    );
    assert!(view.flash.as_deref().unwrap().contains("copied"));
    on_key(key(KeyCode::Char('/')), &state, &mut view);
    assert!(view.context.editing);
    on_key(key(KeyCode::Char('q')), &state, &mut view);
    assert!(!view.quit, "q is typed while editing");
    assert_eq!(
        on_key(key(KeyCode::Enter), &state, &mut view),
        [Action::SetPackRequest(
            "how is the retry delay computed?q".into()
        )]
    );
    assert!(!view.context.editing);
    on_key(key(KeyCode::Down), &state, &mut view);
    assert_eq!(
        on_key(key(KeyCode::Enter), &state, &mut view),
        [Action::Open(format!("{:016x}", 2))]
    );
}

#[test]
fn chat_keys_ask_edit_and_cancel() {
    let mut state = sample_state();
    let mut view = view_on(&state, Screen::Chat);
    for c in "why?".chars() {
        assert!(on_key(key(KeyCode::Char(c)), &state, &mut view).is_empty());
    }
    assert_eq!(
        on_key(key(KeyCode::Enter), &state, &mut view),
        [Action::Ask("why?".into())]
    );
    assert_eq!(
        on_key(ctrl('e'), &state, &mut view),
        [Action::Edit("why?".into())]
    );
    // The request stays typed until a turn for it appears (a refused one is not lost).
    assert_eq!(view.chat.input.text, "why?");
    state.chat.turns.push(ploke_app::Turn {
        kind: ploke_app::TurnKind::Ask,
        request: "why?".into(),
        answer: String::new(),
        tools: Vec::new(),
        footer: None,
        error: None,
    });
    state.chat.busy = true;
    view.sync(&state);
    assert_eq!(view.chat.input.text, "");
    let t = text(&frame(&state, &view, 100, 30));
    assert!(t.contains("answering… (Esc cancels)"), "{t}");
    assert_eq!(
        on_key(key(KeyCode::Esc), &state, &mut view),
        [Action::Cancel]
    );
    assert_eq!(on_key(ctrl('c'), &state, &mut view), [Action::Cancel]);
    assert!(!view.quit, "Ctrl-C cancels while the model answers");
    state.chat.busy = false;
    assert!(on_key(ctrl('c'), &state, &mut view).is_empty());
    assert!(view.quit, "Ctrl-C quits when idle");
}

#[test]
fn review_keys_decide_apply_check_undo_discard() {
    let mut state = sample_state();
    let mut view = view_on(&state, Screen::Review);
    assert_eq!(
        on_key(key(KeyCode::Char(' ')), &state, &mut view),
        [Action::Decide {
            file: "src/lib.rs".into(),
            accept: false
        }]
    );
    on_key(key(KeyCode::Down), &state, &mut view);
    assert_eq!(
        on_key(key(KeyCode::Char(' ')), &state, &mut view),
        [Action::Decide {
            file: "src/wire.rs".into(),
            accept: true
        }]
    );
    let t = text(&frame(&state, &view, 100, 30));
    assert!(
        t.contains("+pub const HEADER_LEN: usize = 8;"),
        "the selected file's diff:\n{t}"
    );
    assert_eq!(
        on_key(key(KeyCode::Char('a')), &state, &mut view),
        [Action::Apply]
    );
    assert_eq!(
        on_key(key(KeyCode::Char('d')), &state, &mut view),
        [Action::Discard]
    );
    assert!(on_key(key(KeyCode::Char('c')), &state, &mut view).is_empty());
    assert!(view.flash.is_some(), "check before apply is explained");
    state.edit.phase = EditPhase::Applied(ploke_session::AppliedEdit {
        entry: 3,
        files: vec!["src/lib.rs".into()],
    });
    view.sync(&state);
    assert_eq!(
        on_key(key(KeyCode::Char('c')), &state, &mut view),
        [Action::Check]
    );
    assert_eq!(
        on_key(key(KeyCode::Char('u')), &state, &mut view),
        [Action::Undo]
    );
    let t = text(&frame(&state, &view, 100, 30));
    assert!(t.contains("edit #3 wrote 1 file(s):"), "{t}");
    assert!(on_key(key(KeyCode::Char('q')), &state, &mut view).is_empty());
    assert!(view.quit, "q quits where nothing is typed");
}

#[test]
fn status_keys_index_and_watch() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Status);
    assert_eq!(
        on_key(key(KeyCode::Char('r')), &state, &mut view),
        [Action::Index { rebuild: false }]
    );
    assert_eq!(
        on_key(key(KeyCode::Char('R')), &state, &mut view),
        [Action::Index { rebuild: true }]
    );
    assert_eq!(
        on_key(key(KeyCode::Char('w')), &state, &mut view),
        [Action::Watch(false)],
        "watching: w stops it"
    );
    assert_eq!(
        on_key(key(KeyCode::Char('s')), &state, &mut view),
        [Action::RefreshStatus]
    );
}

#[test]
fn screens_switch_by_tab_number_and_alt_number() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Status);
    on_key(key(KeyCode::Tab), &state, &mut view);
    assert_eq!(view.screen, Screen::Search);
    on_key(key(KeyCode::BackTab), &state, &mut view);
    assert_eq!(view.screen, Screen::Status);
    on_key(key(KeyCode::Char('2')), &state, &mut view);
    assert_eq!(view.screen, Screen::Item);
    on_key(key(KeyCode::Char('1')), &state, &mut view);
    // On the search screen digits are typed; Alt-digit switches.
    assert_eq!(
        on_key(key(KeyCode::Char('5')), &state, &mut view),
        [Action::SetQuery("retry delay5".into())]
    );
    on_key(alt(KeyCode::Char('5')), &state, &mut view);
    assert_eq!(view.screen, Screen::Chat);
    on_key(key(KeyCode::F(1)), &state, &mut view);
    assert!(view.help);
    on_key(key(KeyCode::Esc), &state, &mut view);
    assert!(!view.help);
    on_key(ctrl('q'), &state, &mut view);
    assert!(view.quit);
}

fn click(x: u16, y: u16) -> MouseEvent {
    MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    }
}

fn wheel(x: u16, y: u16, down: bool) -> MouseEvent {
    MouseEvent {
        kind: if down {
            MouseEventKind::ScrollDown
        } else {
            MouseEventKind::ScrollUp
        },
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    }
}

/// Where `needle` is on the screen.
fn find(t: &str, needle: &str) -> (u16, u16) {
    for (y, l) in t.lines().enumerate() {
        if let Some(b) = l.find(needle) {
            return (l[..b].chars().count() as u16, y as u16);
        }
    }
    panic!("{needle:?} not on the screen:\n{t}")
}

#[test]
fn the_mouse_selects_opens_scrolls_and_switches_tabs() {
    let state = sample_state();
    let mut view = view_on(&state, Screen::Search);
    let t = text(&frame(&state, &view, 100, 30));
    let (x, y) = find(&t, "retry::client::RetryPolicy");
    assert!(on_mouse(click(x, y), &state, &mut view).is_empty());
    assert_eq!(view.search.list.selected, 3);
    assert_eq!(
        on_mouse(click(x, y), &state, &mut view),
        [Action::Open(format!("{:016x}", 6))],
        "a click on the selected row opens it"
    );
    assert_eq!(view.screen, Screen::Item);
    let t = text(&frame(&state, &view, 100, 30));
    let (x, y) = find(&t, "backoff ");
    on_mouse(click(x, y), &state, &mut view);
    assert_eq!(
        on_mouse(click(x, y), &state, &mut view),
        [Action::Open(format!("{:016x}", 2))]
    );
    let (x, y) = find(&t, "5 Chat");
    on_mouse(click(x, y), &state, &mut view);
    assert_eq!(view.screen, Screen::Chat);
    // The wheel over the conversation scrolls it back.
    let t = text(&frame(&state, &view, 100, 12));
    let (x, y) = find(&t, "chat");
    on_mouse(wheel(x, y + 2, false), &state, &mut view);
    assert!(view.chat.scroll.pos > 0, "scrolled up");
    let up = text(&frame(&state, &view, 100, 12));
    assert_ne!(t, up);
    on_mouse(wheel(x, y + 2, true), &state, &mut view);
    assert_eq!(view.chat.scroll.pos, 0);
}

#[test]
fn a_new_proposal_brings_up_the_review() {
    let mut state = sample_state();
    let review = std::mem::take(&mut state.edit.phase);
    state.edit.phase = EditPhase::Proposing;
    let mut view = view_on(&state, Screen::Chat);
    state.edit.phase = review;
    view.sync(&state);
    assert_eq!(view.screen, Screen::Review);
}

#[test]
fn the_same_item_reloaded_keeps_its_place_and_a_new_one_starts_at_the_top() {
    let mut state = sample_state();
    let cur = state.item.current.as_mut().unwrap();
    cur.source = (0..200)
        .map(|i| format!("let x{i} = {i};"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut view = view_on(&state, Screen::Item);
    frame(&state, &view, 100, 30);
    on_key(key(KeyCode::PageDown), &state, &mut view);
    on_key(key(KeyCode::Down), &state, &mut view);
    let (pos, sel) = (view.item.source.pos, view.item.list.selected);
    assert!(pos > 0 && sel == 1);
    // Reloaded after an edit: same id, the text changed (same length).
    let cur = state.item.current.as_mut().unwrap();
    cur.source = cur.source.replace("let x1 = 1;", "let y1 = 1;");
    view.sync(&state);
    assert_eq!((view.item.source.pos, view.item.list.selected), (pos, sel));
    let t = text(&frame(&state, &view, 100, 30));
    assert!(t.contains(&format!("let x{pos} = {pos};")), "{t}");
    // Another item.
    state.item.current.as_mut().unwrap().item.id = "00000000000000ff".into();
    view.sync(&state);
    assert_eq!((view.item.source.pos, view.item.list.selected), (0, 0));
    let t = text(&frame(&state, &view, 100, 30));
    assert!(t.contains("let y1 = 1;"), "the new text is drawn:\n{t}");
}
