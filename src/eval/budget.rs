//! How much evaluation a run may do, counted in the work it really does.
//!
//! Steps alone do not measure work: one `replace()` can write megabytes, one reference to a
//! local copies its whole value, one `range()` makes thousands of elements. So evaluation
//! counts two things: *steps* (expressions evaluated, elements iterated, comparisons made)
//! and *bytes* (of strings produced and of values built or copied, at the size they take in
//! memory). Both are counted for the whole run, across every root module, module instance
//! and Terragrunt file, and each root module's tree may use only a share of them, so that one
//! hostile folder cannot starve the rest of the scan of its evaluation.
//!
//! Once a budget is spent, every value not yet evaluated is unknown, the place where it
//! stopped is reported (an IRSA000 warning), and the root module is marked as one that may
//! create or annotate anything: partial evaluation never proves an absence.
//!
//! Evaluation is recursive (a local names a local that names a local...): nested evaluation
//! deeper than [`MAX_EVAL_DEPTH`] is unknown too, so a chain of 150,000 locals ends well
//! within the worker threads' stacks.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use super::value::{Part, Str, Value};

/// Steps the whole run may take.
pub const RUN_STEPS: u64 = 32_000_000;
/// Bytes of values the whole run may produce or copy.
pub const RUN_BYTES: u64 = 512 << 20;
/// Steps one root module's tree may take (with its module instances).
pub const ROOT_STEPS: u64 = 4_000_000;
/// Bytes one root module's tree may produce or copy.
pub const ROOT_BYTES: u64 = 64 << 20;
/// How deep evaluation may nest (an expression inside an expression, a local naming a local).
pub const MAX_EVAL_DEPTH: usize = 1_000;
/// A root reports its use to the run's counters in chunks this large, not on every step.
const FLUSH_EVERY: u64 = 1 << 16;

/// What the whole run has used: shared by every thread.
#[derive(Debug, Default)]
pub struct Budget {
    steps: AtomicU64,
    bytes: AtomicU64,
}

impl Budget {
    /// Steps and bytes used so far, for measurements.
    pub fn used(&self) -> (u64, u64) {
        (
            self.steps.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// Why evaluation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    RootSteps,
    RootBytes,
    RunSteps,
    RunBytes,
}

impl Spent {
    /// The limit as said in a message.
    pub fn describe(self) -> String {
        match self {
            Spent::RootSteps => format!(
                "this root module's share of evaluation steps ({}) is spent",
                thousands(ROOT_STEPS)
            ),
            Spent::RootBytes => format!(
                "this root module's share of evaluated values ({} MiB) is spent",
                ROOT_BYTES >> 20
            ),
            Spent::RunSteps => format!(
                "the run's evaluation steps ({}) are spent",
                thousands(RUN_STEPS)
            ),
            Spent::RunBytes => format!(
                "the run's budget of evaluated values ({} MiB) is spent",
                RUN_BYTES >> 20
            ),
        }
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What one root module's tree has used, with the run's counters it reports to.
#[derive(Debug)]
pub struct RootBudget<'r> {
    run: &'r Budget,
    steps: Cell<u64>,
    bytes: Cell<u64>,
    /// Used but not yet added to the run's counters.
    pending_steps: Cell<u64>,
    pending_bytes: Cell<u64>,
    depth: Cell<usize>,
    spent: Cell<Option<Spent>>,
    /// Some evaluation nested too deep and was left unknown.
    pub cut_by_depth: Cell<bool>,
}

/// One level of nested evaluation, left when dropped (also when a panic unwinds through it).
pub struct Nested<'b, 'r>(pub(super) &'b RootBudget<'r>);

impl Drop for Nested<'_, '_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

impl<'r> RootBudget<'r> {
    pub fn new(run: &'r Budget) -> Self {
        RootBudget {
            run,
            steps: Cell::new(0),
            bytes: Cell::new(0),
            pending_steps: Cell::new(0),
            pending_bytes: Cell::new(0),
            depth: Cell::new(0),
            spent: Cell::new(None),
            cut_by_depth: Cell::new(false),
        }
    }

    /// Count work; `Err` once a budget is spent (and from then on).
    pub fn charge(&self, steps: u64, bytes: u64) -> Result<(), Spent> {
        if let Some(spent) = self.spent.get() {
            return Err(spent);
        }
        let total_steps = self.steps.get().saturating_add(steps);
        let total_bytes = self.bytes.get().saturating_add(bytes);
        self.steps.set(total_steps);
        self.bytes.set(total_bytes);
        let mut spent = None;
        if total_steps > ROOT_STEPS {
            spent = Some(Spent::RootSteps);
        } else if total_bytes > ROOT_BYTES {
            spent = Some(Spent::RootBytes);
        }
        let pending_steps = self.pending_steps.get().saturating_add(steps);
        let pending_bytes = self.pending_bytes.get().saturating_add(bytes);
        if pending_steps >= FLUSH_EVERY || pending_bytes >= FLUSH_EVERY * 64 || spent.is_some() {
            spent = spent.or(self.flush(pending_steps, pending_bytes));
        } else {
            self.pending_steps.set(pending_steps);
            self.pending_bytes.set(pending_bytes);
        }
        match spent {
            Some(s) => {
                self.spent.set(Some(s));
                Err(s)
            }
            None => Ok(()),
        }
    }

    fn flush(&self, steps: u64, bytes: u64) -> Option<Spent> {
        self.pending_steps.set(0);
        self.pending_bytes.set(0);
        let run_steps = self.run.steps.fetch_add(steps, Ordering::Relaxed) + steps;
        let run_bytes = self.run.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if run_steps > RUN_STEPS {
            Some(Spent::RunSteps)
        } else if run_bytes > RUN_BYTES {
            Some(Spent::RunBytes)
        } else {
            None
        }
    }

    /// Whether a budget was spent: what this root's tree did not evaluate is unknown.
    pub fn spent(&self) -> Option<Spent> {
        self.spent.get()
    }

    /// Enter one level of nested evaluation; false when that would pass [`MAX_EVAL_DEPTH`].
    /// Every `true` must be followed by one [`RootBudget::leave`].
    pub fn enter(&self) -> bool {
        let depth = self.depth.get();
        if depth >= MAX_EVAL_DEPTH {
            return false;
        }
        self.depth.set(depth + 1);
        true
    }

    pub fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }
}

impl Drop for RootBudget<'_> {
    fn drop(&mut self) {
        self.flush(self.pending_steps.get(), self.pending_bytes.get());
    }
}

/// The bytes a value takes in memory (and so what copying or building it costs).
pub fn weight(v: &Value) -> u64 {
    const NODE: u64 = std::mem::size_of::<Value>() as u64;
    match v {
        Value::String(s) => NODE + str_weight(s),
        Value::List(l) => NODE + l.iter().map(weight).sum::<u64>(),
        // a map entry: its key, its value and the tree's own share
        Value::Map(m) => {
            NODE + m
                .iter()
                .map(|(k, v)| k.len() as u64 + 32 + weight(v))
                .sum::<u64>()
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Unknown => NODE,
    }
}

/// The bytes of a string's parts.
pub fn str_weight(s: &Str) -> u64 {
    s.parts()
        .iter()
        .map(|p| match p {
            Part::Lit(l) => l.len() as u64 + 64,
            Part::Sym(_) => 64,
        })
        .sum()
}
