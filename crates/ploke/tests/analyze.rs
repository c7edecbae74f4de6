//! `ploke impact` and `ploke analyze` run the way a user runs them: the impact of the items a
//! `git diff` changes, with the tests that reach them and the `cargo test` line that runs
//! them; a context pack with the tests of its primaries; the summary and each analysis as
//! JSON; and the public API of two published indexmap
//! versions compared (`api-diff --against`), listing what was added between them.

mod common;

use std::process::Command;

use common::{ok, ploke};
use ploke_test_support::Project;
use serde_json::Value;

const LIB: &str = "pub mod wire;

/// Waits before trying again.
pub fn retry_delay(attempt: u32) -> u64 {
    100 * backoff(attempt)
}

fn backoff(n: u32) -> u64 {
    1 << n
}

fn unused_helper() -> u32 {
    1
}

/// Plans the next attempt.
pub fn schedule(n: u32) -> u64 {
    retry_delay(n)
}
";

const SCHED_TEST: &str = "use retry::schedule;

#[test]
fn scheduling_works() {
    assert!(schedule(1) > 0);
}
";

const WIRE: &str = "pub fn frame_len(body: usize) -> usize {
    4 + body
}
";

const TEST: &str = "#[test]
fn delay_grows() {
    assert!(retry::retry_delay(2) > retry::retry_delay(1));
}

#[test]
fn frames_have_headers() {
    assert_eq!(retry::wire::frame_len(0), 4);
}
";

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("running git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json(out: &common::Out) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.show()))
}

fn paths(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|i| i["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn impact_of_a_diff_names_the_tests_and_analyze_reports_everything() {
    let p = Project::new(
        "retry",
        &[
            ("src/lib.rs", LIB),
            ("src/wire.rs", WIRE),
            ("tests/delays.rs", TEST),
            ("tests/sched.rs", SCHED_TEST),
        ],
    );
    git(&p.root, &["init", "-q"]);
    git(&p.root, &["add", "-A"]);
    git(&p.root, &["commit", "-q", "-m", "first"]);
    ok(&mut ploke(&p.root, &["index", "-q"]));

    // An uncommitted change of `backoff`'s body.
    p.edit("src/lib.rs", "    1 << n\n", "    2 << n\n");
    let out = ok(&mut ploke(&p.root, &["impact", "--diff", "--json"]));
    let v = json(&out);
    assert_eq!(paths(&v["changed"]), ["retry::backoff"], "{}", out.show());
    assert!(
        paths(&v["impacted"]).contains(&"retry::retry_delay".to_string()),
        "{v}"
    );
    assert_eq!(
        paths(&v["tests"]),
        ["delays::delay_grows", "sched::scheduling_works"],
        "nearest first: {v}"
    );
    assert_eq!(v["tests"][0]["depth"], 2, "{v}");
    assert_eq!(
        v["tests"][0]["run"],
        serde_json::json!(["-p", "retry", "--test", "delays", "delay_grows"]),
        "{v}"
    );

    // By name, for people.
    let out = ok(&mut ploke(
        &p.root,
        &["impact", "frame_len", "--color", "never"],
    ));
    assert!(
        out.stdout.contains("delays::frames_have_headers"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout
            .contains("cargo test -p retry --test delays -- --exact frames_have_headers"),
        "{}",
        out.show()
    );

    // A pack for a change brings the tests of its primary items, with why.
    let out = ok(&mut ploke(
        &p.root,
        &[
            "context",
            "make the retry delay configurable",
            "--tests",
            "1",
            "--budget",
            "300",
            "--json",
        ],
    ));
    let v = json(&out);
    // Within a small budget, the nearest test of the top item comes in before the rest.
    let test = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "delays::delay_grows")
        .unwrap_or_else(|| panic!("the test in the pack: {v}"));
    assert_eq!(test["reason"], "test of retry_delay (calls it)", "{test}");
    assert_eq!(test["role"], "neighbour", "{test}");
    let without = json(&ok(&mut ploke(
        &p.root,
        &[
            "context",
            "make the retry delay configurable",
            "--budget",
            "300",
            "--json",
        ],
    )));
    assert!(
        !without.to_string().contains("\"test of "),
        "no tests unless asked: {without}"
    );

    let out = ok(&mut ploke(&p.root, &["analyze", "--json"]));
    let v = json(&out);
    assert_eq!(paths(&v["dead_code"]), ["retry::unused_helper"], "{v}");
    assert!(
        paths(&v["api"]).contains(&"retry::wire::frame_len".to_string()),
        "{v}"
    );
    let metrics = paths(&v["metrics"]);
    for f in [
        "retry::retry_delay",
        "retry::backoff",
        "delays::delay_grows",
    ] {
        assert!(metrics.contains(&f.to_string()), "{f} in {metrics:?}");
    }
    assert_eq!(v["module_cycles"], serde_json::json!([]), "{v}");

    // An index written before ploke kept analyses: one line that says what to do.
    ploke_db::Db::open(&p.root.join(".ploke"))
        .unwrap()
        .set_meta(ploke_db::ANALYSIS_KEY, "")
        .unwrap();
    let out = common::run(&mut ploke(&p.root, &["analyze", "--no-refresh"]));
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.trim().lines().count() == 1 && out.stderr.contains("run `ploke index` once"),
        "{}",
        out.show()
    );
    ok(&mut ploke(&p.root, &["index", "-q"]));
    ok(&mut ploke(&p.root, &["analyze", "dead", "--json"]));

    // A public signature changes: the API diff between the two newest surfaces.
    p.edit(
        "src/wire.rs",
        "pub fn frame_len(body: usize) -> usize {",
        "pub fn frame_len(body: usize, header: usize) -> usize {\n    let _ = header;",
    );
    let out = ok(&mut ploke(&p.root, &["analyze", "api-diff", "--json"]));
    let v = json(&out);
    assert_eq!(v["changed"][0][0]["path"], "retry::wire::frame_len", "{v}");
    assert!(
        v["changed"][0][1]["signature"]
            .as_str()
            .is_some_and(|s| s.contains("header: usize")),
        "{v}"
    );
}

#[test]
fn the_api_of_two_published_indexmap_versions_is_compared() {
    let old = Project::copy_of(
        &ploke_test_support::registry_crate("indexmap", "2.2.6"),
        "indexmap-old",
    );
    let new = Project::copy_of(
        &ploke_test_support::registry_crate("indexmap", "2.14.2"),
        "indexmap-new",
    );
    for p in [&old, &new] {
        ok(&mut ploke(&p.root, &["index", "-q", "--deps", "none"]));
    }
    let old_root = old.root.to_string_lossy().into_owned();
    let out = ok(&mut ploke(
        &new.root,
        &["analyze", "api-diff", "--against", &old_root, "--json"],
    ));
    let v = json(&out);
    let added = paths(&v["added"]);
    for f in [
        "indexmap::map::IndexMap::insert_before",
        "indexmap::map::IndexMap::get_disjoint_mut",
    ] {
        assert!(added.contains(&f.to_string()), "{f} added: {added:?}");
    }
    // Both keep the core of the API.
    let removed = paths(&v["removed"]);
    for kept in [
        "indexmap::map::IndexMap::insert",
        "indexmap::map::IndexMap::get",
    ] {
        assert!(
            !removed.contains(&kept.to_string()),
            "{kept} kept: {removed:?}"
        );
        assert!(
            !added.contains(&kept.to_string()),
            "{kept} not new: {added:?}"
        );
    }
}
