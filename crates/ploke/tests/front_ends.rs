//! `ploke gui` and `ploke tui` started where they cannot run: one line that says why and
//! what to use instead, exit 2, and nothing left behind (the flows themselves are tested in
//! `ploke-gui` and `ploke-tui`, headless and on a pseudo-terminal).

mod common;

use common::{ploke, run};
use ploke_test_support::Project;

#[test]
fn without_a_display_the_gui_names_the_tui() {
    let p = Project::new("front", &[("src/lib.rs", "pub fn f() {}\n")]);
    let mut cmd = ploke(&p.root, &["gui"]);
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(2), "{}", out.show());
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.show());
    assert!(
        lines[0].contains("needs a display") && lines[0].contains("ploke tui"),
        "{}",
        out.show()
    );
    assert!(!p.root.join(".ploke").exists(), "no index was made");
}

#[test]
fn without_a_terminal_the_tui_says_so() {
    let p = Project::new("front", &[("src/lib.rs", "pub fn f() {}\n")]);
    let out = run(&mut ploke(&p.root, &["tui"]));
    assert_eq!(out.code, Some(2), "{}", out.show());
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.show());
    assert!(lines[0].contains("terminal"), "{}", out.show());
    assert!(!p.root.join(".ploke").exists(), "no index was made");
}
