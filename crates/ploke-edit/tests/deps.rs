//! A dependency attached to the index is read-only: an edit that names one of its items or
//! files is refused with one line that says so, and nothing is written.

use ploke_core::ItemKind;
use ploke_db::Db;
use ploke_edit::{plan, Edit, EditContext, EditError};
use ploke_test_support::deps::Dependency;
use ploke_test_support::Project;

const APP: &str = "pub fn handshake_twice() {\n    dep_crate::client::handshake();\n}\n";
const DEP: &str = "pub mod client {\n    pub fn handshake() {}\n}\n\npub fn only_here() {}\n\npub fn handshake_twice() {}\n";

struct Ws {
    project: Project,
    db: Db,
    dep: Dependency,
}

fn ws() -> Ws {
    let project = Project::new("app", &[("src/lib.rs", APP)]);
    let db_dir = project.db("db");
    project.index(&db_dir);
    let db = Db::open(&db_dir).unwrap();
    let mut dep = Dependency::new(
        &project.tmp.path().join("registry"),
        "dep-crate",
        "1.3.1",
        &[("src/lib.rs", DEP)],
    );
    dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "client::handshake",
        "pub fn handshake() {}",
    );
    dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "only_here",
        "pub fn only_here() {}",
    );
    dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "handshake_twice",
        "pub fn handshake_twice() {}",
    );
    dep.attach(&db, &[]);
    Ws { project, db, dep }
}

impl Ws {
    fn plan(&self, edit: Edit) -> Result<ploke_edit::Plan, EditError> {
        plan(
            &[edit],
            &EditContext {
                db: &self.db,
                workspace_root: &self.project.root,
                allow_build_scripts: false,
            },
        )
    }
}

#[track_caller]
fn assert_dependency(err: EditError, what: &str) {
    let msg = err.to_string();
    assert!(matches!(err, EditError::Dependency { .. }), "{err:?}");
    assert_eq!(
        msg,
        format!("`{what}` is in the dependency dep-crate 1.3.1 (read-only): ploke never edits dependency sources; change the workspace's code instead")
    );
}

#[test]
fn an_item_of_a_dependency_is_never_edited() {
    let w = ws();
    let err = w
        .plan(Edit::ReplaceItem {
            path: "dep_crate::client::handshake".into(),
            code: "pub fn handshake() { panic!() }".into(),
        })
        .unwrap_err();
    assert_dependency(err, "dep_crate::client::handshake");
    // By name, when only the dependency has it.
    let err = w
        .plan(Edit::ReplaceItem {
            path: "only_here".into(),
            code: "pub fn only_here() {}".into(),
        })
        .unwrap_err();
    assert_dependency(err, "dep_crate::only_here");
    let err = w
        .plan(Edit::InsertItem {
            parent: "dep_crate".into(),
            code: "pub fn more() {}".into(),
        })
        .unwrap_err();
    assert_dependency(err, "dep_crate");
    assert_eq!(
        std::fs::read_to_string(w.dep.path("src/lib.rs")).unwrap(),
        DEP
    );
}

#[test]
fn a_file_of_a_dependency_is_never_edited() {
    let w = ws();
    let file = w.dep.path("src/lib.rs");
    let err = w
        .plan(Edit::SearchReplace {
            file: file.clone(),
            search: "pub fn only_here() {}".into(),
            replace: "pub fn only_here() { todo!() }".into(),
        })
        .unwrap_err();
    assert_dependency(err, &file);
    // A workspace item of a name a dependency shares is the workspace's.
    let plan = w
        .plan(Edit::ReplaceItem {
            path: "handshake_twice".into(),
            code: "pub fn handshake_twice() {}".into(),
        })
        .unwrap();
    assert_eq!(plan.changed_files(), ["src/lib.rs"]);
}
