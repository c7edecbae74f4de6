//! `ploke`: index a Rust workspace into a code graph, search it, show items, ask and edit.
//!
//! The binary is thin: it parses arguments, opens a [`ploke_session::Session`], calls one of
//! its operations and renders the result (text or JSON). Every piece of logic a front end
//! would share lives in the session. `main` only maps `run()`'s error to an exit code.

// A command-line program: printing its results is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod cmd;
mod render;

use std::process::ExitCode;

use clap::Parser;

/// Indexing allocates many small strings and vectors; mimalloc handles that markedly faster
/// than the system allocator (measured: see README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let env = ploke_session::Environment::capture();
    let result = cmd::run(cli, &env);
    match result {
        Ok(code) => code,
        Err(e) => {
            if render::is_broken_pipe(&e) {
                // The reader went away (`ploke search x | head -1`): nothing to report.
                return ExitCode::from(141);
            }
            let secrets = env.secrets();
            eprintln!("error: {}", render::error_line(&e, &secrets));
            ExitCode::from(1)
        }
    }
}
