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

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t`: libmimalloc-sys names only the
/// options its two mimalloc versions share.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc 3 gives freed pages back to the system one second after they are freed. A run
/// frees the syntax trees of hundreds of thousands of files while it still grows, so at
/// 100,000 services 70 MB of freed pages were still held at the peak; at 100 ms the run is
/// as fast (measured at 10,000 services; 10 ms cost 6%). `MIMALLOC_PURGE_DELAY` still wins.
fn give_freed_pages_back_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mi_option_set is not thread safe; this runs first in main, before any thread
    // other than this one exists.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 100);
    }
}

fn main() -> ExitCode {
    give_freed_pages_back_sooner();
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

#[cfg(test)]
mod tests {
    /// The option's number is mimalloc's, not libmimalloc-sys's: a mimalloc whose options
    /// moved would set some other option to 100.
    #[test]
    fn the_purge_delay_is_mimallocs_option() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading an option is thread safe.
        #[allow(unsafe_code)]
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(
            delay, 1000,
            "mimalloc 3's default purge delay, in milliseconds"
        );
    }
}
