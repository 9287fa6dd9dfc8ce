//! Opt-in stage timings for performance work: with `IRSA_LINT_TIMINGS=1` in the environment,
//! each stage of a lint writes its wall time to standard error (the language server's log),
//! with the process's resident memory where the system tells it, e.g.
//! `timing: rules 212.4 ms (RSS 153 MB)`, and the slowest rules on their own. Off, a mark
//! costs one load of a cached flag.

use std::sync::OnceLock;
use std::time::Instant;

pub(super) struct Timings {
    last: Option<Instant>,
}

/// Whether `IRSA_LINT_TIMINGS=1` is set (read once).
pub(super) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("IRSA_LINT_TIMINGS").is_some_and(|v| v == "1"))
}

impl Timings {
    pub(super) fn start() -> Self {
        Timings {
            last: enabled().then(Instant::now),
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

/// The rules that took longest, each with its own time (they run side by side, so these
/// add up to more than the stage's wall time), e.g.
/// `timing: slowest rules IRSA015 17.6 ms, IRSA004 13.8 ms, IRSA003 8.6 ms`.
pub(super) fn slowest_rules(mut times: Vec<(&str, std::time::Duration)>) {
    times.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
    let shown: Vec<String> = times
        .iter()
        .take(5)
        .map(|(id, t)| format!("{id} {:.1} ms", t.as_secs_f64() * 1000.0))
        .collect();
    eprintln!("timing: slowest rules {}", shown.join(", "));
}
