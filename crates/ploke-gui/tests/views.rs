//! The views from a hand-built State: what each control asks for (the actions a frame
//! returns), found the way a user or a screen reader finds them (by label, through
//! AccessKit), with no session behind them.

mod common;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use ploke_app::{Action, EditPhase, Filters};
use ploke_gui::{Gui, Side, Tab};

fn gui(tab: Tab, side: Side) -> Gui {
    let mut g = Gui::new();
    g.tab = tab;
    g.side = side;
    g
}

#[test]
fn clicking_a_result_opens_it_in_the_item_tab() {
    let mut h = common::harness(gui(Tab::Chat, Side::Results), common::state(), common::SIZE);
    h.run();
    h.get_by_label("fn retry::backoff::jitter").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::Open(common::id("retry::backoff::jitter"))]
    );
    assert_eq!(h.state().gui.tab, Tab::Item);
}

#[test]
fn typing_in_the_search_box_searches_and_enter_opens_the_first_result() {
    let mut state = common::state();
    state.search.query.clear();
    let mut h = common::harness(gui(Tab::Item, Side::Results), state, common::SIZE);
    h.run();
    let search = h.get_by(|n| {
        n.role() == Role::TextInput && n.placeholder() == Some("Search the workspace  (Ctrl+K)")
    });
    search.focus();
    h.run();
    h.get_by(|n| {
        n.role() == Role::TextInput && n.placeholder() == Some("Search the workspace  (Ctrl+K)")
    })
    .type_text("ret");
    h.run();
    assert_eq!(h.state().actions, [Action::SetQuery("ret".into())]);
    assert_eq!(h.state().gui.query(), "ret");
    h.key_press(egui::Key::ArrowDown);
    h.key_press(egui::Key::ArrowDown);
    h.key_press(egui::Key::Enter);
    h.run();
    // The second result, picked with the arrows.
    assert_eq!(
        h.state().actions.last(),
        Some(&Action::Open(common::id("retry::backoff::jitter")))
    );
}

#[test]
fn a_caller_node_of_the_graph_opens_the_caller() {
    let mut h = common::harness(gui(Tab::Item, Side::Results), common::state(), common::SIZE);
    h.run();
    h.get_by_role_and_label(Role::Button, "Client::get").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::Open(common::id("retry::client::Client::get"))]
    );
    // Every node is there by name, the item itself too.
    for name in [
        "Backoff::next_delay",
        "Client::send_with_retry",
        "retry_all",
        "jitter",
        "Duration::from_millis",
        "Policy::next_delay",
        "backoff",
        "impl Policy for Backoff",
    ] {
        h.get_by_role_and_label(Role::Button, name);
    }
}

#[test]
fn alt_arrows_and_the_buttons_go_back_and_forward() {
    let mut state = common::state();
    state.item.forward = vec![common::id("retry::Policy")];
    let mut h = common::harness(gui(Tab::Item, Side::Results), state, common::SIZE);
    h.run();
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    h.run();
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowRight);
    h.run();
    h.get_by_label("⏴").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::Back, Action::Forward, Action::Back]
    );
}

#[test]
fn back_is_disabled_without_history() {
    let mut state = common::state();
    state.item.back.clear();
    let mut h = common::harness(gui(Tab::Item, Side::Results), state, common::SIZE);
    h.run();
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    h.get_by_label("⏴").click();
    h.run();
    assert!(h.state().actions.is_empty(), "{:?}", h.state().actions);
}

#[test]
fn kind_chips_filter_the_results() {
    let mut h = common::harness(gui(Tab::Item, Side::Results), common::state(), common::SIZE);
    h.run();
    h.get_by_label("trait").click();
    h.run();
    let mut want = Filters::default();
    want.kinds.insert("trait".into());
    assert_eq!(h.state().actions, [Action::SetFilters(want.clone())]);

    // With the filter applied (as the app would), only the trait is listed.
    let f = h.state_mut();
    f.actions.clear();
    f.state.search.filters = want;
    f.state.search.shown = f
        .state
        .search
        .hits
        .iter()
        .enumerate()
        .filter(|(_, h)| h.item.kind == "trait")
        .map(|(i, _)| i)
        .collect();
    h.run();
    h.get_by_label("trait retry::Policy");
    assert!(h.query_by_label("fn retry::backoff::jitter").is_none());
    h.get_by_label("1 of 10 results pass the filters");
}

#[test]
fn the_module_tree_opens_modules() {
    let mut h = common::harness(
        gui(Tab::Status, Side::Modules),
        common::state(),
        common::SIZE,
    );
    h.run();
    h.get_by_label("client (11/11)").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::Open(common::id("retry::client"))]
    );
    assert_eq!(h.state().gui.tab, Tab::Item);
    // Folded modules show their children once unfolded.
    assert!(h.query_by_label("frame (2/2)").is_none());
}

#[test]
fn the_review_decides_per_file_and_applies() {
    let mut h = common::harness(
        gui(Tab::Review, Side::Results),
        common::state(),
        common::SIZE,
    );
    h.run();
    h.get_by_label("src/wire.rs").click();
    h.run();
    h.get_by_label("src/backoff.rs").click();
    h.run();
    h.get_by_label("Apply 1 of 2 files").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [
            Action::Decide {
                file: "src/wire.rs".into(),
                accept: true
            },
            Action::Decide {
                file: "src/backoff.rs".into(),
                accept: false
            },
            Action::Apply,
        ]
    );
    // The diff lines are there, marked.
    h.get_by_label("+pub const HEADER_LEN: usize = 8;");
    h.get_by_label("-pub const HEADER_LEN: usize = 4;");
}

#[test]
fn a_review_that_arrives_brings_its_tab_forward() {
    let mut state = common::state();
    let review = std::mem::replace(&mut state.edit.phase, EditPhase::Proposing);
    let mut h = common::harness(gui(Tab::Chat, Side::Results), state, common::SIZE);
    h.step();
    assert_eq!(h.state().gui.tab, Tab::Chat);
    h.state_mut().state.edit.phase = review;
    h.step();
    assert_eq!(h.state().gui.tab, Tab::Review);
}

#[test]
fn applied_edits_offer_check_and_undo() {
    let mut state = common::state();
    state.edit.phase = EditPhase::Applied(ploke_session::AppliedEdit {
        entry: 3,
        files: vec!["src/backoff.rs".into()],
    });
    let mut h = common::harness(gui(Tab::Review, Side::Results), state, common::SIZE);
    h.run();
    h.get_by_label("Run cargo check").click();
    h.run();
    h.get_by_label("Undo").click();
    h.run();
    assert_eq!(h.state().actions, [Action::Check, Action::Undo]);

    let f = h.state_mut();
    f.actions.clear();
    f.state.edit.phase = EditPhase::Checked {
        applied: ploke_session::AppliedEdit {
            entry: 3,
            files: vec!["src/backoff.rs".into()],
        },
        outcome: ploke_session::CheckOutcome::Failed {
            errors: "error[E0308]: mismatched types".into(),
            repair: false,
        },
    };
    h.run();
    h.get_by_label("✖ cargo check failed");
    h.get_by_label("error[E0308]: mismatched types");
}

#[test]
fn chat_asks_edits_and_cancels() {
    let mut h = common::harness(gui(Tab::Chat, Side::Results), common::state(), common::SIZE);
    h.run();
    let input = |h: &egui_kittest::Harness<'_, common::Fixture>| {
        h.get_by(|n| {
            n.role() == Role::MultilineTextInput
                || (n.role() == Role::TextInput
                    && n.placeholder().is_some_and(|p| p.starts_with("Ask about")))
        })
        .focus();
    };
    input(&h);
    h.run();
    h.get_by(|n| n.placeholder().is_some_and(|p| p.starts_with("Ask about")))
        .type_text("where is the delay capped?");
    h.run();
    h.get_by_label("Ask").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::Ask("where is the delay capped?".into())]
    );
    // The text stays until a new turn shows the request was taken.
    let f = h.state_mut();
    f.state.chat.turns.push(ploke_app::Turn {
        kind: ploke_app::TurnKind::Ask,
        request: "where is the delay capped?".into(),
        answer: "In `next_delay`".into(),
        tools: vec![],
        footer: None,
        error: None,
    });
    f.state.chat.busy = true;
    f.actions.clear();
    h.step();
    h.step();
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    h.step();
    assert_eq!(h.state().actions, [Action::Cancel]);
    assert!(h.query_by_label("where is the delay capped?").is_some());
    let input = h.get_by(|n| n.placeholder().is_some_and(|p| p.starts_with("Ask about")));
    assert_eq!(input.value().as_deref(), Some(""));
}

#[test]
fn the_context_pack_repacks_and_copies_markdown() {
    let mut h = common::harness(
        gui(Tab::Context, Side::Results),
        common::state(),
        common::SIZE,
    );
    h.run();
    h.get_by_label("Copy as markdown").click();
    h.run();
    assert_eq!(h.state().copied, [common::pack().to_markdown()]);
    h.get_by_label("copied");
    h.get_by_label("Pack").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::SetPackRequest("how are retries delayed".into())]
    );
    // The slider: a key press moves the budget a step, which re-packs.
    let slider = h.get_by_role(Role::Slider);
    slider.focus();
    h.run();
    h.key_press(egui::Key::ArrowRight);
    h.run();
    match h.state().actions.last() {
        Some(Action::SetBudget(b)) => assert!(*b > 8000, "{b}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn settings_apply_the_model_and_never_show_a_key() {
    let mut state = common::state();
    state.settings.key_set = false;
    let mut h = common::harness(gui(Tab::Settings, Side::Results), state, common::SIZE);
    h.run();
    h.get_by_label("not set (PLOKE_API_KEY)");
    let model = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.role() == Role::TextInput && n.value().as_deref() == Some("gpt-4.1-mini")
    };
    h.get_by(model).focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by(model).type_text("llama3.2");
    h.run();
    h.get_by_label("Apply").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::SetModel {
            provider: "openai".into(),
            model: "llama3.2".into(),
            base_url: "https://api.openai.com/v1".into(),
        }]
    );
    let f = h.state_mut();
    f.state.settings.key_set = true;
    h.run();
    h.get_by_label("set from the environment");
}

#[test]
fn status_reindexes_and_toggles_the_watcher() {
    let mut state = common::state();
    state.status.indexing = false;
    state.status.progress = None;
    let mut h = common::harness(gui(Tab::Status, Side::Results), state, common::SIZE);
    h.run();
    h.get_by_label("Re-index").click();
    h.run();
    h.get_by_label("Watch files").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [Action::Index { rebuild: false }, Action::Watch(false)]
    );
    // Warnings are listed.
    h.get_by_label("src/legacy.rs: not reached by any target's module tree (not indexed)");
}

#[test]
fn a_refusal_is_shown_until_the_next_action() {
    let mut g = gui(Tab::Item, Side::Results);
    g.refused("the model is still answering: wait, or cancel it");
    let mut h = common::harness(g, common::state(), common::SIZE);
    h.run();
    h.get_by_label("⚠ the model is still answering: wait, or cancel it");
    h.get_by_label("fn retry::backoff::jitter").click();
    h.run();
    assert!(h
        .query_by_label("⚠ the model is still answering: wait, or cancel it")
        .is_none());
}

#[test]
fn highlighting_runs_once_per_item() {
    let mut h = common::harness(gui(Tab::Item, Side::Results), common::state(), common::SIZE);
    h.run();
    for _ in 0..10 {
        h.step();
    }
    assert_eq!(h.state().gui.highlighted(), 1);
    // Another item (or the same item after an edit) is highlighted when it comes.
    let v = common::view_with_source("fn edited() {}\n".into());
    h.state_mut().state.item.current = Some(v);
    h.run();
    assert_eq!(h.state().gui.highlighted(), 2);
    h.get_by_label("fn edited() {}");
}

#[test]
fn a_crate_root_item_draws_its_crate_once() {
    let mut state = common::state();
    let mut v = common::view();
    let krate = common::item("crate", "retry", "src/lib.rs", 1, 96);
    v.module = Some(krate.clone());
    v.parent = Some(krate);
    state.item.graph = ploke_app::Neighbourhood::of(&v, ploke_app::GRAPH_PER_SIDE);
    state.item.current = Some(v);
    let mut h = common::harness(gui(Tab::Item, Side::Results), state, common::SIZE);
    h.run();
    assert_eq!(
        h.get_all_by_role_and_label(Role::Button, "retry").count(),
        1
    );
    h.get_by_role_and_label(Role::Button, "retry").click();
    h.run();
    assert_eq!(h.state().actions, [Action::Open(common::id("retry"))]);
}
