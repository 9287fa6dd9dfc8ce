//! Chart versions: SemVer 2.0 precedence (a leading `v` ignored), and the version
//! constraints Helm, Flux and Argo CD accept (`~1.2`, `^3.0.0`, `>=4, <5`, `1.x`, `a || b`),
//! read generously: a constraint may admit more versions than the chart tool would, never
//! fewer, so that picking the eras it admits can only make an answer unknown, not wrong.

use std::cmp::Ordering;

/// A version as SemVer orders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SemVer {
    triple: Triple,
    /// Pre-release identifiers; empty for a release.
    pre: Vec<PreId>,
}

type Triple = (u64, u64, u64);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PreId {
    // Numeric identifiers sort before alphanumeric ones.
    Num(u64),
    Alpha(String),
}

impl SemVer {
    pub fn parse(text: &str) -> Option<SemVer> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let text = text.split_once('+').map_or(text, |(v, _build)| v);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let mut parts = core.split('.');
        let mut number = || -> Option<u64> {
            let p = parts.next()?;
            // SemVer forbids leading zeros.
            if p.is_empty() || (p.len() > 1 && p.starts_with('0')) {
                return None;
            }
            p.parse().ok()
        };
        let triple = (number()?, number()?, number()?);
        if parts.next().is_some() {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(pre) => pre
                .split('.')
                .map(|id| {
                    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        None
                    } else if id.chars().all(|c| c.is_ascii_digit()) {
                        id.parse().ok().map(PreId::Num)
                    } else {
                        Some(PreId::Alpha(id.to_string()))
                    }
                })
                .collect::<Option<Vec<_>>>()?,
        };
        Some(SemVer { triple, pre })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.triple
            .cmp(&other.triple)
            // A release sorts after its pre-releases.
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

/// Which versions a constraint admits: a union of inclusive ranges of `major.minor.patch`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Constraint {
    ranges: Vec<(Triple, Triple)>,
}

const MAX: u64 = u64::MAX;
const ANY: (Triple, Triple) = ((0, 0, 0), (MAX, MAX, MAX));

impl Constraint {
    /// `None` when the text is no constraint irsa-lint can read.
    pub fn parse(text: &str) -> Option<Constraint> {
        let mut ranges = Vec::new();
        for alternative in text.split("||") {
            ranges.push(conjunction(alternative)?);
        }
        ranges.retain(|(lo, hi)| lo <= hi);
        Some(Constraint { ranges })
    }

    /// Whether some version between `min` and `max` (inclusive, `None` open) is admitted.
    pub fn overlaps(&self, min: Option<&SemVer>, max: Option<&SemVer>) -> bool {
        let min = min.map_or((0, 0, 0), |v| v.triple);
        let max = max.map_or((MAX, MAX, MAX), |v| v.triple);
        self.ranges.iter().any(|(lo, hi)| *lo <= max && min <= *hi)
    }
}

/// `>=1.2 <2`, `>=1.2, <2`: the intersection of each part's range.
fn conjunction(text: &str) -> Option<(Triple, Triple)> {
    let text = text.trim();
    // A hyphen range: `1.2 - 1.4.5`.
    if let Some((from, to)) = text.split_once(" - ") {
        let (lo, _) = partial(from.trim())?;
        let (_, hi) = partial(to.trim())?;
        return Some((lo, hi));
    }
    let mut words = Vec::new();
    let mut pending_operator = String::new();
    for word in text.split([' ', ',']).filter(|w| !w.is_empty()) {
        // An operator written apart from its version: `>= 1.2`.
        if word.chars().all(|c| "<>=~^!".contains(c)) {
            pending_operator.push_str(word);
            continue;
        }
        words.push(format!("{pending_operator}{word}"));
        pending_operator.clear();
    }
    let mut range = ANY;
    for word in &words {
        let (lo, hi) = one(word)?;
        range = (range.0.max(lo), range.1.min(hi));
    }
    Some(range)
}

/// One comparison: `>=1.2.3`, `~1.2`, `^0.3`, `1.x`, `*`.
fn one(word: &str) -> Option<(Triple, Triple)> {
    let operator_len = word
        .find(|c: char| !"<>=~^!".contains(c))
        .unwrap_or(word.len());
    let (operator, version) = word.split_at(operator_len);
    let (lo, hi) = partial(version)?;
    Some(match operator {
        "" | "=" | "==" => (lo, hi),
        "!=" => ANY,
        ">" | ">=" => (lo, ANY.1),
        "<" | "<=" | "=<" => (ANY.0, hi),
        "~" | "~>" | "=~" => match given_parts(version) {
            1 => (lo, (lo.0, MAX, MAX)),
            _ => (lo, (lo.0, lo.1, MAX)),
        },
        "^" => match lo {
            (0, 0, _) if given_parts(version) >= 3 => (lo, (0, 0, MAX)),
            (0, minor, _) if given_parts(version) >= 2 => (lo, (0, minor, MAX)),
            (major, _, _) => (lo, (major, MAX, MAX)),
        },
        _ => return None,
    })
}

/// How many leading numbers a partial version gives (`1.2.x` gives 2).
fn given_parts(version: &str) -> usize {
    let version = version.strip_prefix('v').unwrap_or(version);
    let core = version.split(['-', '+']).next().unwrap_or("");
    core.split('.')
        .take_while(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .count()
}

/// The range a partial version stands for: `1.2` is `1.2.0`..`1.2.MAX`; `*` is any.
fn partial(version: &str) -> Option<(Triple, Triple)> {
    let version = version.strip_prefix('v').unwrap_or(version);
    if matches!(version, "" | "*" | "x" | "X") {
        return Some(ANY);
    }
    let core = version.split(['-', '+']).next()?;
    let mut numbers = Vec::new();
    for part in core.split('.') {
        match part {
            "x" | "X" | "*" => break,
            p => numbers.push(p.parse::<u64>().ok()?),
        }
    }
    if numbers.is_empty() || numbers.len() > 3 {
        return None;
    }
    let lo = (
        numbers[0],
        numbers.get(1).copied().unwrap_or(0),
        numbers.get(2).copied().unwrap_or(0),
    );
    let hi = (
        numbers[0],
        numbers.get(1).copied().unwrap_or(MAX),
        numbers.get(2).copied().unwrap_or(MAX),
    );
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemVer {
        SemVer::parse(s).unwrap()
    }

    #[test]
    fn semver_precedence_ignores_a_leading_v() {
        let mut vs = vec![
            "1.0.0",
            "1.0.0-rc.1",
            "1.0.0-beta",
            "v0.9.14",
            "1.0.0-rc.10",
            "0.10.0",
        ];
        vs.sort_by_key(|s| v(s));
        assert_eq!(
            vs,
            [
                "v0.9.14",
                "0.10.0",
                "1.0.0-beta",
                "1.0.0-rc.1",
                "1.0.0-rc.10",
                "1.0.0"
            ]
        );
        assert_eq!(v("0.2.6"), v("v0.2.6"));
        assert!(SemVer::parse("9.10.01").is_none());
        assert!(SemVer::parse("1.2").is_none());
        assert!(SemVer::parse("main").is_none());
    }

    fn admits(constraint: &str, version: &str) -> bool {
        let version = v(version);
        Constraint::parse(constraint)
            .unwrap()
            .overlaps(Some(&version), Some(&version))
    }

    #[test]
    fn constraints_admit_what_helm_would() {
        assert!(admits("~1.2.3", "1.2.9"));
        assert!(!admits("~1.2.3", "1.3.0"));
        assert!(admits("^1.2.3", "1.9.0"));
        assert!(!admits("^1.2.3", "2.0.0"));
        assert!(!admits("^0.2.3", "0.3.0"));
        assert!(admits(">=4.0.0 <5.0.0", "4.9.1"));
        assert!(!admits(">= 4.0.0, < 5.0.0", "6.0.0"));
        assert!(admits("5.x", "5.46.0"));
        assert!(!admits("5.x", "6.0.0"));
        assert!(admits("*", "0.0.1"));
        assert!(admits("1.x || 3.x", "3.1.0"));
        assert!(!admits("1.x || 3.x", "2.1.0"));
        assert!(admits("1.2 - 1.4.5", "1.3.0"));
        assert!(Constraint::parse("latest").is_none());
    }

    #[test]
    fn a_constraint_overlaps_an_era_when_it_admits_some_version_of_it() {
        let c = Constraint::parse("~56.6").unwrap();
        assert!(c.overlaps(Some(&v("9.3.4")), Some(&v("56.6.1"))));
        assert!(c.overlaps(Some(&v("56.6.2")), Some(&v("70.5.0"))));
        assert!(!c.overlaps(Some(&v("70.6.0")), None));
    }
}
