//! Print what `ploke_workspace` finds: `cargo run -p ploke-workspace --example discover -- PATH
//! [--no-cargo]`.

// An example prints what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;

use ploke_workspace::{discover_with, rust_files, Options};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let options = Options {
        use_cargo_metadata: !args.any(|a| a == "--no-cargo"),
    };
    let ws = match discover_with(&path, &options) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!("root {} ({:?})", ws.root.display(), ws.method);
    for w in &ws.warnings {
        println!("warning: {w}");
    }
    for pkg in &ws.packages {
        let files = rust_files(&ws, pkg);
        println!(
            "package {} {} (edition {}) at `{}`: {} .rs files",
            pkg.name,
            pkg.version,
            pkg.edition,
            pkg.rel_dir,
            files.len()
        );
        for t in &pkg.targets {
            let file = t.root_file.strip_prefix(&ws.root).unwrap_or(&t.root_file);
            println!("  {:<6} {:<24} {}", t.kind.as_str(), t.name, file.display());
        }
    }
}
