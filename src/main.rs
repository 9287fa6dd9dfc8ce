//! The `irsa-lint` binary: parse the command line, run one subcommand, exit with its status.
//!
//! Flags and their validation live in `cli`, what each subcommand does in `commands`; the
//! linting itself is the library's.

#![cfg_attr(test, allow(clippy::disallowed_methods))]

mod cli;
mod commands;
mod write;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// Parsing allocates many small strings on every worker thread at once; mimalloc's per-thread
/// heaps serve that without the lock and heap-growth calls the system allocator spends up to
/// a fifth of a run in (measured with `perf` on the benchmark tree).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let status = match Cli::parse().command {
        Command::Check(args) => commands::check(args),
        Command::Explain(args) => commands::explain(args),
        Command::Rules(args) => commands::rules(args),
        Command::Completions(args) => commands::completions(args),
        Command::Man(args) => commands::man(args),
        Command::Graph(args) => commands::graph(args),
        Command::Lsp => commands::lsp(),
    };
    ExitCode::from(status)
}
