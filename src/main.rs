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

/// `mi_option_purge_delay` and `mi_option_allow_thp` in mimalloc 3's `mi_option_t`:
/// libmimalloc-sys names only the options its two mimalloc versions share.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// mimalloc's settings for a run that grows fast and ends soon. Each variable of mimalloc's
/// own still wins.
///
/// - Freed pages go back to the system after 100 ms, not one second (`MIMALLOC_PURGE_DELAY`).
///   A run frees the syntax trees of hundreds of thousands of files while it still grows, so
///   at 100,000 services 70 MB of freed pages were still held at the peak; at 100 ms the run
///   is as fast (measured at 10,000 services; 10 ms cost 6%).
/// - No transparent huge pages (`MIMALLOC_ALLOW_THP`). mimalloc asks for them for all its
///   memory (`MADV_HUGEPAGE`): each first touch of a 2 MiB block has the whole block zeroed,
///   and the kernel compacts memory to find one. A check held 70–100% more memory than its
///   peak heap (GitOps tree: 96 MB resident for 44 MB), and at 100,000 services a sixth of
///   its CPU went to it. With small pages only (alternated runs): 100,000 services 7.3 →
///   6.2 s; 10,000 services 688 → 609 ms; GitOps 102 → 75 MB and 1,000 services 56 → 30 MB
///   at the same speed; the language server's edits as fast.
fn tune_allocator() {
    let purge_sooner = std::env::var_os("MIMALLOC_PURGE_DELAY").is_none();
    let small_pages = std::env::var_os("MIMALLOC_ALLOW_THP").is_none();
    // SAFETY: mi_option_set is not thread safe; this runs first in main, before any thread
    // other than this one exists. mimalloc took its first memory before main, asking for
    // huge pages: the option covers what it takes later, the process's flag (which
    // `MIMALLOC_ALLOW_THP=0` sets too) all of it.
    #[allow(unsafe_code)]
    unsafe {
        if purge_sooner {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 100);
        }
        if small_pages {
            libmimalloc_sys::mi_option_set(ALLOW_THP, 0);
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

fn main() -> ExitCode {
    tune_allocator();
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

    /// Likewise for the huge pages option: on (1) by default, and the option after it, the
    /// minimal purge size, 0.
    #[test]
    fn the_huge_pages_option_is_mimallocs() {
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
            return;
        }
        // SAFETY: reading an option is thread safe.
        #[allow(unsafe_code)]
        let (allowed, purge_size) = unsafe {
            (
                libmimalloc_sys::mi_option_get(super::ALLOW_THP),
                libmimalloc_sys::mi_option_get(super::ALLOW_THP + 1),
            )
        };
        assert_eq!((allowed, purge_size), (1, 0), "mimalloc 3's defaults");
    }
}
