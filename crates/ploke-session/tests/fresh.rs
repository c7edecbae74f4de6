//! A one-shot front end asks the session to bring the index up to date before it answers:
//! `staleness` names the files changed since the index was written, `refresh` indexes them
//! (and nothing when nothing changed), and `lookup` says how a target named its items.

use ploke_session::{
    Environment, IndexRequest, Match, OpenOptions, Overrides, Refresh, SearchMode, SearchRequest,
    Session,
};
use ploke_test_support::Project;

fn session(project: &Project, create: bool) -> Session {
    let mut opts = OpenOptions::new(&project.root);
    opts.create = create;
    opts.env = Environment::from_pairs([("HOME".to_string(), "/nonexistent".to_string())]);
    opts.overrides = Overrides {
        no_embed: true,
        ..Overrides::default()
    };
    opts.holder = "fresh test".into();
    Session::open(&opts).unwrap()
}

fn indexed() -> Project {
    let project = Project::new(
        "freshly",
        &[
            (
                "src/lib.rs",
                "mod inner;\npub use inner::Widget;\n\npub fn new() -> u8 {\n    0\n}\n",
            ),
            (
                "src/inner.rs",
                "pub struct Widget;\n\nimpl Widget {\n    pub fn new() -> Widget {\n        Widget\n    }\n}\n",
            ),
        ],
    );
    session(&project, true)
        .index(&IndexRequest::default())
        .unwrap();
    project
}

fn names(s: &Session, q: &str) -> Vec<String> {
    s.search(&SearchRequest {
        query: q.into(),
        k: 10,
        mode: SearchMode::Lexical,
        scope: Default::default(),
    })
    .unwrap()
    .into_iter()
    .map(|h| h.item.name)
    .collect()
}

#[test]
fn a_changed_file_is_found_by_a_stat_and_indexed_once() {
    let project = indexed();
    // A reader's session (it does not create an index).
    let s = session(&project, false);
    let st = s.staleness().unwrap();
    assert_eq!(st.changed, Some(vec![]));
    assert!(!st.workspace_changed);
    assert_eq!(s.refresh(false).unwrap(), Refresh::Current);

    project.write(
        "src/inner.rs",
        format!(
            "{}\npub fn frobnicate_widgets() {{}}\n",
            project.read("src/inner.rs")
        ),
    );
    assert_eq!(
        s.staleness().unwrap().changed,
        Some(vec!["src/inner.rs".to_string()])
    );
    assert!(names(&s, "frobnicate").is_empty(), "not indexed yet");
    match s.refresh(false).unwrap() {
        Refresh::Reindexed { files, whole, .. } => {
            assert_eq!(files, ["src/inner.rs"]);
            assert!(!whole);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(names(&s, "frobnicate"), ["frobnicate_widgets"]);
    assert_eq!(s.refresh(false).unwrap(), Refresh::Current);
    // Another session sees the refreshed index as current too.
    assert_eq!(
        session(&project, false).refresh(false).unwrap(),
        Refresh::Current
    );
    assert_eq!(s.status().unwrap().changed_files, Some(0));
}

#[test]
fn a_new_target_rereads_the_workspace() {
    let project = indexed();
    let s = session(&project, false);
    project.write("src/bin/tool.rs", "fn main() { println!(\"tool\"); }\n");
    assert!(s.staleness().unwrap().workspace_changed);
    match s.refresh(false).unwrap() {
        Refresh::Reindexed { whole, .. } => assert!(whole),
        other => panic!("{other:?}"),
    }
    let found = s.lookup("tool::main").unwrap();
    assert_eq!(found.how, Match::Path);
    assert_eq!(found.items.len(), 1);
}

#[test]
fn lookup_says_how_the_target_named_its_items() {
    let project = indexed();
    let s = session(&project, false);
    let by_path = s.lookup("freshly::inner::Widget").unwrap();
    assert_eq!(by_path.how, Match::Path);
    assert!(!by_path.ambiguous());

    let re = s.lookup("freshly::Widget").unwrap();
    assert_eq!(
        re.how,
        Match::Reexport {
            of: "freshly::inner::Widget".into()
        }
    );
    assert_eq!(re.items[0].item.path, "freshly::inner::Widget");

    let by_name = s.lookup("new").unwrap();
    assert_eq!(by_name.how, Match::Name);
    assert_eq!(by_name.items.len(), 2);
    assert!(by_name.ambiguous(), "two different items named `new`");

    let none = s.lookup("no_such_thing").unwrap();
    assert!(none.items.is_empty());
}
