//! Opt-in stage timings for performance work: with `IRSA_LINT_TIMINGS=1` in the environment,
//! each stage of a lint writes its wall time to standard error (the language server's log),
//! with the process's resident memory where the system tells it, e.g.
//! `timing: rules 212.4 ms (RSS 153 MB)`. Off, a mark costs one load of a cached flag.

use std::sync::OnceLock;
use std::time::Instant;

pub(super) struct Timings {
    last: Option<Instant>,
}

impl Timings {
    pub(super) fn start() -> Self {
        static ON: OnceLock<bool> = OnceLock::new();
        let on =
            *ON.get_or_init(|| std::env::var_os("IRSA_LINT_TIMINGS").is_some_and(|v| v == "1"));
        Timings {
            last: on.then(Instant::now),
        }
    }

    /// The time since the previous mark (or the start), under this stage's name.
    pub(super) fn mark(&mut self, stage: &str) {
        if let Some(last) = &mut self.last {
            let now = Instant::now();
            let rss = resident_mb().map_or(String::new(), |mb| format!(" (RSS {mb} MB)"));
            eprintln!(
                "timing: {stage} {:.1} ms{rss}",
                (now - *last).as_secs_f64() * 1000.0
            );
            *last = now;
        }
    }
}

/// The resident memory of this process in megabytes, on Linux.
fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
