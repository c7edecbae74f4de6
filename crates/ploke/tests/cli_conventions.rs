//! The command line behaves as users of cargo, ripgrep and fd expect: answers that match the
//! files (refreshed before answering), one rule for paths, unambiguous items, one way to
//! give the workspace, exit codes 0/1/2, a quiet closed pipe, colour only where it belongs,
//! `--quiet`, `ploke status`, completions and a man page, messages in the right number.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;

use common::{doc as json, krate, ok, ploke, run, tempdir, write_files};

/// A two-member workspace where both members define `parse_config`, and `alpha` re-exports
/// a type from a private module.
fn two_members(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"alpha\", \"beta\"]\nresolver = \"2\"\n",
            ),
            (
                "alpha/Cargo.toml",
                "[package]\nname = \"alpha\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            (
                "alpha/src/lib.rs",
                "//! Alpha.\nmod settings;\n\npub use settings::Settings;\n\n/// Reads the alpha configuration.\npub fn parse_config(text: &str) -> Settings {\n    Settings::new(text)\n}\n",
            ),
            (
                "alpha/src/settings.rs",
                "/// Settings of alpha.\npub struct Settings {\n    pub text: String,\n}\n\nimpl Settings {\n    pub fn new(text: &str) -> Settings {\n        Settings { text: text.to_string() }\n    }\n}\n",
            ),
            (
                "beta/Cargo.toml",
                "[package]\nname = \"beta\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            (
                "beta/src/lib.rs",
                "/// Reads the beta configuration.\npub fn parse_config(text: &str) -> usize {\n    text.len()\n}\n\npub fn new() -> usize {\n    0\n}\n",
            ),
        ],
    );
}

fn indexed_two_members() -> tempfile::TempDir {
    let dir = tempdir();
    two_members(dir.path());
    ok(&mut ploke(dir.path(), &["index"]));
    dir
}

#[test]
fn a_changed_file_is_reindexed_before_answering_and_said_so() {
    let dir = indexed_two_members();
    let lib = dir.path().join("beta/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!("{text}\npub fn frobnicate_widgets() -> u8 {{\n    7\n}}\n"),
    )
    .unwrap();

    // --no-refresh answers from the stored state: nothing found yet (exit 1).
    let stored = run(&mut ploke(
        dir.path(),
        &["search", "frobnicate", "--no-refresh"],
    ));
    assert_eq!(stored.code, Some(1), "{}", stored.show());

    let out = ok(&mut ploke(dir.path(), &["search", "frobnicate"]));
    assert!(
        out.stdout.contains("beta::frobnicate_widgets"),
        "{}",
        out.show()
    );
    assert!(
        out.stderr
            .contains("note: re-indexed 1 changed file (beta/src/lib.rs)"),
        "{}",
        out.show()
    );
    // Refreshed once: the next command has nothing to do, and says nothing.
    let again = ok(&mut ploke(dir.path(), &["search", "frobnicate"]));
    assert_eq!(again.stderr, "", "{}", again.show());

    // A line inserted above an item moves it: `item` reports the new lines.
    let before = json(&ok(&mut ploke(dir.path(), &["item", "beta::new", "--json"])).stdout);
    let line = before["items"][0]["start_line"].as_u64().unwrap();
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("// a comment\n{text}")).unwrap();
    let after = json(&ok(&mut ploke(dir.path(), &["item", "beta::new", "--json"])).stdout);
    assert_eq!(after["items"][0]["start_line"].as_u64().unwrap(), line + 1);
}

#[test]
fn paths_are_relative_to_the_current_directory_for_people_and_to_the_workspace_in_json() {
    let dir = indexed_two_members();
    let root = dir.path();
    let out = ok(&mut ploke(root, &["search", "parse_config"]));
    assert!(
        out.stdout.contains("alpha/src/lib.rs:6:1"),
        "file:line:col from the root: {}",
        out.show()
    );
    assert!(out.stdout.contains("beta/src/lib.rs:1:1"), "{}", out.show());

    // From inside a member, paths climb out of it where needed.
    let inner = ok(&mut ploke(&root.join("beta"), &["search", "parse_config"]));
    assert!(
        inner.stdout.contains("../alpha/src/lib.rs:6:1"),
        "{}",
        inner.show()
    );
    assert!(
        inner.stdout.contains("  src/lib.rs:1:1"),
        "{}",
        inner.show()
    );

    // JSON: workspace-relative file plus package, wherever the command runs.
    for cwd in [root.to_path_buf(), root.join("beta/src")] {
        let v = json(&ok(&mut ploke(&cwd, &["search", "parse_config", "--json"])).stdout);
        assert_eq!(v["schema"], 1);
        let files: Vec<(String, String)> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == "parse_config")
            .map(|r| {
                (
                    r["file"].as_str().unwrap().to_string(),
                    r["package"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(
            files.contains(&("alpha/src/lib.rs".into(), "alpha".into())),
            "{files:?}"
        );
        assert!(
            files.contains(&("beta/src/lib.rs".into(), "beta".into())),
            "{files:?}"
        );
        let item = json(&ok(&mut ploke(&cwd, &["item", "alpha::parse_config", "--json"])).stdout);
        assert_eq!(item["items"][0]["file"], "alpha/src/lib.rs");
        assert_eq!(item["items"][0]["package"], "alpha");
    }
}

#[test]
fn every_json_document_has_a_schema_version() {
    let dir = indexed_two_members();
    let root = dir.path();
    let docs = [
        ok(&mut ploke(root, &["index", "--json"])).stdout,
        ok(&mut ploke(root, &["search", "config", "--json"])).stdout,
        ok(&mut ploke(root, &["item", "beta::parse_config", "--json"])).stdout,
        ok(&mut ploke(
            root,
            &["context", "read the configuration", "--json"],
        ))
        .stdout,
        ok(&mut ploke(root, &["status", "--json"])).stdout,
    ];
    for d in &docs {
        assert_eq!(json(d)["schema"], 1, "{d}");
    }
    let batch = tempdir();
    let file = batch.path().join("q.jsonl");
    std::fs::write(&file, "{\"id\": 1, \"query\": \"config\"}\n").unwrap();
    let out = ok(&mut ploke(
        root,
        &["search", "--batch", file.to_str().unwrap()],
    ));
    for line in out.stdout.lines() {
        assert_eq!(json(line)["schema"], 1, "{line}");
    }
}

#[test]
fn a_name_of_several_items_lists_them_and_a_reexport_path_finds_the_definition() {
    let dir = indexed_two_members();
    let root = dir.path();
    // `new` names `beta::new` and `alpha::settings::Settings::new`: listed, exit 2.
    let out = run(&mut ploke(root, &["item", "new"]));
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stdout.contains("beta::new"), "{}", out.show());
    assert!(
        out.stdout.contains("alpha::settings::Settings::new"),
        "{}",
        out.show()
    );
    assert!(
        !out.stdout.contains("Settings { text"),
        "no source when listing: {}",
        out.show()
    );
    let err: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(err.len(), 1, "{}", out.show());
    assert!(
        err[0].starts_with("error: `new` names 2 items; give one of the paths above"),
        "{}",
        out.show()
    );
    let all = ok(&mut ploke(root, &["item", "new", "--all"]));
    assert!(all.stdout.contains("Settings { text"), "{}", all.show());

    // The public path through `pub use settings::Settings` resolves to the definition.
    let re = ok(&mut ploke(root, &["item", "alpha::Settings"]));
    assert!(
        re.stdout.starts_with("struct alpha::settings::Settings"),
        "{}",
        re.show()
    );
    assert!(
        re.stderr
            .contains("`alpha::Settings` is a re-export of `alpha::settings::Settings`"),
        "{}",
        re.show()
    );
    let j = json(&ok(&mut ploke(root, &["item", "alpha::Settings", "--json"])).stdout);
    assert_eq!(j["match"]["by"], "reexport");
    assert_eq!(j["items"][0]["path"], "alpha::settings::Settings");
}

#[test]
fn the_workspace_is_given_the_same_way_on_every_command() {
    let ws = tempdir();
    two_members(ws.path());
    let elsewhere = tempdir();
    let root = ws.path().to_str().unwrap();
    // Positional PATH, or --path, on every command; --db on every command.
    ok(&mut ploke(elsewhere.path(), &["index", "--path", root]));
    let db = elsewhere.path().join("idx");
    let dbs = db.to_str().unwrap();
    ok(&mut ploke(elsewhere.path(), &["index", root, "--db", dbs]));
    for args in [
        vec!["search", "parse_config", root],
        vec!["search", "parse_config", "--path", root],
        vec!["search", "parse_config", root, "--db", dbs],
        vec!["item", "beta::parse_config", root],
        vec!["item", "beta::parse_config", "--path", root, "--db", dbs],
        vec!["context", "configuration", root],
        vec!["status", root],
        vec!["status", "--path", root, "--db", dbs],
    ] {
        ok(&mut ploke(elsewhere.path(), &args));
    }
    let undo = run(&mut ploke(elsewhere.path(), &["undo", root, "--db", dbs]));
    assert_eq!(undo.code, Some(1), "nothing to undo: {}", undo.show());
    for cmd in [
        "index", "watch", "mcp", "search", "context", "ask", "edit", "undo", "item", "status",
    ] {
        let help = ok(&mut ploke(elsewhere.path(), &[cmd, "--help"])).stdout;
        assert!(help.contains("--db <DIR>"), "{cmd}: {help}");
        assert!(help.contains("--path <PATH>"), "{cmd}: {help}");
        assert!(help.contains("[PATH]"), "{cmd}: {help}");
    }
    // -k has a long form.
    let v = json(
        &ok(&mut ploke(
            ws.path(),
            &["search", "config", "--limit", "1", "--json"],
        ))
        .stdout,
    );
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
}

#[test]
fn usage_errors_exit_2_with_one_line_that_says_what_works() {
    let dir = indexed_two_members();
    let root = dir.path();
    let words = run(&mut ploke(root, &["search", "parse", "config", "text"]));
    assert_eq!(words.code, Some(2), "{}", words.show());
    assert_eq!(
        words.stderr.trim(),
        "error: `config` is not a file or directory; quote several words to make one argument: ploke search \"parse config text\""
    );
    let batch = run(&mut ploke(root, &["search", "q", "--batch", "-"]));
    assert_eq!(batch.code, Some(2), "{}", batch.show());
    assert!(batch.stderr.contains("not both"), "{}", batch.show());
    // clap's own usage errors, and ploke's failures, exit 2 as well.
    let flag = run(&mut ploke(root, &["search", "x", "--no-such-flag"]));
    assert_eq!(flag.code, Some(2), "{}", flag.show());
    let missing = run(&mut ploke(root, &["search", "x", "/no/such/dir"]));
    assert_eq!(missing.code, Some(2), "{}", missing.show());
    let no_index = tempdir();
    krate(
        no_index.path(),
        "plain",
        &[("src/lib.rs", "pub fn f() {}\n")],
    );
    let none = run(&mut ploke(no_index.path(), &["search", "f"]));
    assert_eq!(none.code, Some(2), "{}", none.show());
    assert!(
        none.stderr.contains("run `ploke index` first"),
        "{}",
        none.show()
    );
}

#[test]
fn exit_0_when_found_1_when_nothing_found_with_the_message_on_stderr() {
    let dir = indexed_two_members();
    let root = dir.path();
    let found = run(&mut ploke(root, &["search", "parse_config"]));
    assert_eq!(found.code, Some(0), "{}", found.show());
    let nothing = run(&mut ploke(root, &["search", "qqqzzzxxx"]));
    assert_eq!(nothing.code, Some(1), "{}", nothing.show());
    assert_eq!(nothing.stdout, "", "{}", nothing.show());
    assert_eq!(
        nothing.stderr.trim(),
        "note: no results for \"qqqzzzxxx\"",
        "{}",
        nothing.show()
    );
    let json_nothing = run(&mut ploke(root, &["search", "qqqzzzxxx", "--json"]));
    assert_eq!(json_nothing.code, Some(1));
    assert_eq!(json(&json_nothing.stdout)["results"], serde_json::json!([]));
    let item = run(&mut ploke(root, &["item", "no_such_item"]));
    assert_eq!(item.code, Some(1), "{}", item.show());
    assert_eq!(item.stdout, "");
    assert!(item.stderr.contains("no item named `no_such_item`"));
    // --quiet: results only; nothing on stderr even when nothing is found.
    let quiet = run(&mut ploke(root, &["-q", "search", "qqqzzzxxx"]));
    assert_eq!((quiet.code, quiet.stderr.as_str()), (Some(1), ""));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempdir();
    let body: String = (0..3000)
        .map(|i| format!("/// Widget number {i}.\npub fn widget_{i}() -> u32 {{\n    {i}\n}}\n"))
        .collect();
    krate(dir.path(), "widgets", &[("src/lib.rs", &body)]);
    ok(&mut ploke(dir.path(), &["index"]));
    // Far more output than a pipe holds: the reader goes away after one line.
    let mut child = ploke(
        dir.path(),
        &["search", "widget", "--limit", "3000", "--mode", "lexical"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("widget_"), "{first}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "", "nothing on stderr");

    // The same through a shell pipeline, as a user types it.
    let bin = env!("CARGO_BIN_EXE_ploke");
    let sh = run(std::process::Command::new("bash")
        .current_dir(dir.path())
        .env("PLOKE_EMBED", "off")
        .args([
            "-c",
            &format!("set -o pipefail; '{bin}' search widget -k 3000 --mode lexical | head -1"),
        ]));
    assert_eq!(sh.code, Some(0), "{}", sh.show());
    assert_eq!(sh.stdout.lines().count(), 1, "{}", sh.show());
    assert_eq!(sh.stderr, "", "{}", sh.show());
}

#[test]
fn quiet_prints_results_and_errors_only() {
    let dir = tempdir();
    two_members(dir.path());
    let index = ok(&mut ploke(dir.path(), &["--quiet", "index"]));
    assert_eq!((index.stdout.as_str(), index.stderr.as_str()), ("", ""));
    let lib = dir.path().join("beta/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\npub fn quietly() {{}}\n")).unwrap();
    let search = ok(&mut ploke(dir.path(), &["search", "-q", "quietly"]));
    assert!(search.stdout.contains("beta::quietly"));
    assert_eq!(search.stderr, "", "no refresh note with -q");
}

#[test]
fn status_says_where_the_index_stands() {
    let dir = indexed_two_members();
    let root = dir.path();
    let out = ok(&mut ploke(root, &["status"]));
    for want in [
        "workspace  .",
        "index      .ploke (generation 1,",
        "changed    none",
        "vectors    none",
        "live       not kept live",
    ] {
        assert!(out.stdout.contains(want), "{want}:\n{}", out.show());
    }
    std::fs::write(root.join("beta/src/lib.rs"), "pub fn changed() {}\n").unwrap();
    let v = json(&ok(&mut ploke(root, &["status", "--json"])).stdout);
    assert_eq!(v["changed_files"], 1, "{v}");
    assert_eq!(v["live_elsewhere"], serde_json::Value::Null);
    assert!(v["db_bytes"].as_u64().unwrap() > 0);
    assert!(v["written_at"].as_u64().unwrap() > 0);
    assert_eq!(v["model"], serde_json::Value::Null);
    // status reports; it does not refresh.
    let again = json(&ok(&mut ploke(root, &["status", "--json"])).stdout);
    assert_eq!(again["changed_files"], 1);

    // A live index elsewhere is named.
    let mut watch = common::Running::spawn(&mut ploke(root, &["watch"]));
    watch.wait_line(
        common::Stream::Stderr,
        0,
        std::time::Duration::from_secs(60),
        |l| l.starts_with("watching"),
    );
    let live = json(&ok(&mut ploke(root, &["status", "--json"])).stdout);
    assert!(
        live["live_elsewhere"]
            .as_str()
            .is_some_and(|h| h.starts_with("ploke watch (pid ")),
        "{live}"
    );
    assert_eq!(live["changed_files"], 0, "the watcher took the change in");
    watch.kill();
}

#[test]
fn completions_and_man_page_come_from_the_command_definition() {
    let dir = tempdir();
    let bash = ok(&mut ploke(dir.path(), &["completions", "bash"])).stdout;
    assert!(bash.contains("_ploke()"), "{bash}");
    assert!(bash.contains("--no-refresh"), "{bash}");
    let zsh = ok(&mut ploke(dir.path(), &["completions", "zsh"])).stdout;
    assert!(zsh.starts_with("#compdef ploke"), "{zsh}");
    let man = ok(&mut ploke(dir.path(), &["man"])).stdout;
    assert!(man.contains(".TH ploke 1"), "{man}");
    assert!(man.contains("status"), "{man}");
}

#[test]
fn counts_are_in_the_right_number_and_targets_are_called_targets() {
    let one = tempdir();
    krate(one.path(), "solo", &[("src/lib.rs", "pub fn only() {}\n")]);
    let out = ok(&mut ploke(one.path(), &["index"]));
    assert!(
        out.stdout
            .starts_with("indexed . (1 package, 1 target, 1 file, 1 line) into .ploke\n"),
        "{}",
        out.show()
    );
    assert!(
        out.stdout
            .contains("  2 items, 1 edge, 0 unresolved references; 1 file parsed,"),
        "{}",
        out.show()
    );
    let two = tempdir();
    two_members(two.path());
    krate(
        &two.path().join("beta"),
        "beta",
        &[("src/main.rs", "fn main() {}\n")],
    );
    let out = ok(&mut ploke(two.path(), &["index"]));
    assert!(
        out.stdout.contains("(2 packages, 3 targets, 4 files,"),
        "{}",
        out.show()
    );
    // The summary's time includes the embedding stage (off here: not listed).
    assert!(out.stdout.contains("  time "), "{}", out.show());
}

/// A pseudo-terminal: what a program run on it sees as a terminal.
struct Pty {
    master: std::fs::File,
    slave: std::fs::File,
}

impl Pty {
    fn open() -> Pty {
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        rustix::termios::tcsetwinsize(
            &master,
            rustix::termios::Winsize {
                ws_row: 40,
                ws_col: 120,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        Pty {
            master: std::fs::File::from(master),
            slave,
        }
    }

    /// Runs `cmd` with stdout and stderr on the terminal; returns everything it printed.
    fn run(self, cmd: &mut std::process::Command) -> (Option<i32>, String) {
        cmd.stdout(self.slave.try_clone().unwrap())
            .stderr(self.slave.try_clone().unwrap());
        let mut child = cmd.spawn().unwrap();
        drop(self.slave);
        // Every copy of the terminal's other end is closed now but the child's: reading
        // ends (EIO) when it exits.
        let mut master = self.master;
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
            }
            String::from_utf8_lossy(&all).into_owned()
        });
        let status = child.wait().unwrap();
        // Replacing them closes the command's copies of the terminal's other end.
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        (status.code(), reader.join().unwrap())
    }
}

#[test]
fn colour_on_a_terminal_only_and_as_asked() {
    let dir = indexed_two_members();
    let root = dir.path();
    let esc = "\u{1b}[";
    // A terminal: coloured.
    let (code, text) = Pty::open().run(&mut ploke(root, &["search", "parse_config"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains(esc), "colour on a terminal: {text:?}");
    assert!(text.contains("parse_config"), "{text:?}");
    // NO_COLOR and --color never turn it off there.
    let (_, text) = Pty::open().run(ploke(root, &["search", "parse_config"]).env("NO_COLOR", "1"));
    assert!(!text.contains(esc), "NO_COLOR: {text:?}");
    let (_, text) = Pty::open().run(&mut ploke(
        root,
        &["search", "parse_config", "--color", "never"],
    ));
    assert!(!text.contains(esc), "--color never: {text:?}");
    // A pipe: plain, unless --color always.
    let piped = ok(&mut ploke(root, &["search", "parse_config"]));
    assert!(!piped.stdout.contains(esc), "{}", piped.show());
    let forced = ok(&mut ploke(
        root,
        &["--color", "always", "search", "parse_config"],
    ));
    assert!(forced.stdout.contains(esc), "{}", forced.show());
    // Logs written to a file carry no escape codes.
    let logged = run(ploke(root, &["-vv", "index"]).env("PLOKE_LOG", "debug"));
    assert!(logged.ok(), "{}", logged.show());
    assert!(logged.stderr.contains("DEBUG"), "{}", logged.show());
    assert!(!logged.stderr.contains(esc), "{}", logged.show());
}

#[test]
fn progress_is_drawn_on_a_terminal_and_not_into_a_pipe() {
    let dir = tempdir();
    let body: String = (0..400)
        .map(|i| format!("pub fn f{i}() -> u32 {{ {i} }}\n"))
        .collect();
    let files: Vec<(String, String)> = (0..60)
        .map(|m| (format!("src/m{m}.rs"), body.clone()))
        .collect();
    let mut all: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let lib: String = (0..60).map(|m| format!("pub mod m{m};\n")).collect();
    all.push(("src/lib.rs", &lib));
    krate(dir.path(), "many", &all);
    let (code, text) = Pty::open().run(&mut ploke(dir.path(), &["index"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("parse") && text.contains('\r'),
        "a progress bar redrawn in place: {text:?}"
    );
    let piped = ok(&mut ploke(dir.path(), &["index", "--rebuild"]));
    assert!(!piped.stderr.contains('\r'), "{}", piped.show());
    assert!(!piped.stderr.contains("[====="), "{}", piped.show());
}

#[test]
fn with_a_live_index_elsewhere_a_command_waits_for_it_instead_of_writing_beside_it() {
    let dir = indexed_two_members();
    let root = dir.path();
    let mut watch = common::Running::spawn(&mut ploke(root, &["watch"]));
    watch.wait_line(
        common::Stream::Stderr,
        0,
        std::time::Duration::from_secs(60),
        |l| l.starts_with("watching"),
    );
    let lib = root.join("beta/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\npub fn followed_change() {{}}\n")).unwrap();
    // At once: the watcher may not have taken the change in yet; the command waits for it.
    let out = ok(&mut ploke(root, &["search", "followed_change"]));
    assert!(
        out.stdout.contains("beta::followed_change"),
        "{}",
        out.show()
    );
    assert!(
        !out.stderr.contains("re-indexed"),
        "the watcher writes the index, not the command: {}",
        out.show()
    );
    assert!(
        out.stderr.is_empty() || out.stderr.contains("keeps this index live; waited"),
        "{}",
        out.show()
    );
    watch.kill();
}
