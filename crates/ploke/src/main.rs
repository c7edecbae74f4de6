//! `ploke`: index a Rust workspace into a code graph, search it, show items, ask and edit.
//!
//! The binary is thin: it parses arguments, opens a [`ploke_session::Session`], calls one of
//! its operations and renders the result (text or JSON). Every piece of logic a front end
//! would share lives in the session. `main` only maps `run()`'s outcome to an exit code.

// A command-line program: printing its results is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod analyze;
mod cache;
mod cli;
mod cmd;
mod render;

use std::process::ExitCode;

use clap::Parser;

/// Indexing allocates many small strings and vectors; mimalloc handles that markedly faster
/// than the system allocator (measured: see README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status: 0 found (or done), 1 nothing found (or nothing done), 2 an error: usage
/// errors (clap's own exit 2 too) and failures alike, as ripgrep does.
fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    render::init_color(cli.color);
    let env = ploke_session::Environment::capture();
    match cmd::run(cli, &env) {
        Ok(cmd::Outcome::Found) => ExitCode::SUCCESS,
        Ok(cmd::Outcome::Nothing) => ExitCode::from(1),
        // The reader went away (`ploke search x | head -1`): nothing to report, as ripgrep.
        Err(e) if render::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let secrets = env.secrets();
            render::error(&render::error_line(&e, &secrets));
            ExitCode::from(2)
        }
    }
}
