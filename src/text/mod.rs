//! Small text helpers shared by rules, configuration and the command line: IAM's glob,
//! edit distance and the one "did you mean" threshold, template placeholders and Flux's
//! `${NAME}` substitution. Nothing here knows AWS, Terraform or Kubernetes.

pub mod envsubst;
pub mod placeholders;
pub mod visible;

/// IAM's `StringLike` glob: `*` any run of characters, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    // Subjects and actions are ASCII: compare bytes, and only collect characters otherwise.
    if pattern.is_ascii() && text.is_ascii() {
        return glob_match_units(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_match_units(&p, &t, '*', '?')
}

/// The glob over any units (bytes or characters): `star` any run, `one` any one unit.
///
/// The pattern is its runs between stars: the first must start the text, the last end it,
/// and each one between is taken at its first place after the previous (the earliest place
/// leaves the most text to the rest, so this never misses a match). Each run is looked for
/// once, left to right: time is the text's length times a run's, never the product of the
/// text and the number of stars, as backtracking to the last star is on `*a*a*a…b`.
fn glob_match_units<U: PartialEq + Copy>(p: &[U], t: &[U], star: U, one: U) -> bool {
    let unit_matches = |pu: U, tu: U| pu == one || pu == tu;
    let run_at = |run: &[U], at: usize| {
        t.len() >= at + run.len() && run.iter().zip(&t[at..]).all(|(&a, &b)| unit_matches(a, b))
    };
    let mut runs = p.split(|u| *u == star);
    let first = runs.next().unwrap_or(&[]);
    if !p.contains(&star) {
        return first.len() == t.len() && run_at(first, 0);
    }
    if !run_at(first, 0) {
        return false;
    }
    let mut runs: Vec<&[U]> = runs.collect();
    let last = runs.pop().unwrap_or(&[]);
    let mut at = first.len();
    for run in runs {
        if run.is_empty() {
            continue;
        }
        let Some(found) = (at..=t.len().saturating_sub(run.len())).find(|&i| run_at(run, i)) else {
            return false;
        };
        at = found + run.len();
    }
    t.len() >= at + last.len() && run_at(last, t.len() - last.len())
}

/// Strings longer than this (in characters) are never taken as typos of one another: a
/// megabyte value is no misspelt name, and comparing two would take their product.
const MAX_TYPO_CHARS: usize = 1024;

/// Levenshtein distance, for "did you mean": exact up to 3 (every threshold irsa-lint uses),
/// and `usize::MAX` for two different strings longer than [`MAX_TYPO_CHARS`] that are
/// further apart.
pub fn edit_distance(a: &str, b: &str) -> usize {
    if a.len() > MAX_TYPO_CHARS || b.len() > MAX_TYPO_CHARS {
        return edit_distance_within(a, b, 3).unwrap_or(usize::MAX);
    }
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The edit distance when it is at most `limit`, computed in the band of width `limit`
/// around the diagonal (time: length × limit); `None` when it is larger. A string over
/// [`MAX_TYPO_CHARS`] is only compared when the other is as long.
pub fn edit_distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    // characters are at least a quarter of the bytes: a far longer string is far away
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() > 4 * (short.chars().count() + limit) {
        return None;
    }
    // Lengths apart by more than the limit are, before anything is allocated: asked of
    // every defined name, most are.
    if a.chars().count().abs_diff(b.chars().count()) > limit {
        return None;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Row i keeps the cells j in i-limit..=i+limit, at k = j + limit - i.
    const FAR: usize = usize::MAX / 2;
    let width = 2 * limit + 1;
    let cell = |row: &[usize], i: usize, j: usize| -> usize {
        match (j + limit).checked_sub(i) {
            Some(k) if k < width && j <= b.len() => row[k],
            _ => FAR,
        }
    };
    let mut prev: Vec<usize> = (0..width)
        .map(|k| match k.checked_sub(limit) {
            Some(j) if j <= b.len() => j,
            _ => FAR,
        })
        .collect();
    let mut cur = vec![FAR; width];
    for (i, ca) in a.iter().enumerate() {
        let row = i + 1;
        let mut best = FAR;
        for (k, slot) in cur.iter_mut().enumerate() {
            *slot = FAR;
            let Some(j) = (k + row).checked_sub(limit) else {
                continue;
            };
            if j > b.len() {
                continue;
            }
            let value = match j {
                0 => row,
                _ => (cell(&prev, row - 1, j - 1) + usize::from(*ca != b[j - 1]))
                    .min(cell(&prev, row - 1, j) + 1),
            };
            *slot = value;
        }
        // insertions along the row, left to right
        for k in 1..width {
            cur[k] = cur[k].min(cur[k - 1] + 1);
            best = best.min(cur[k]);
        }
        best = best.min(cur[0]);
        if best > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(cell(&prev, a.len(), b.len())).filter(|d| *d <= limit)
}

/// The largest edit distance "did you mean" accepts for a word of this length: one typo in
/// a short word, up to three in a long one. Every suggestion irsa-lint makes uses it.
pub fn typo_distance(wanted: &str) -> usize {
    (wanted.chars().count() / 5).clamp(1, 3)
}

/// The candidates within [`typo_distance`] of `wanted` (itself excluded), closest first, ties
/// in text order.
pub fn close_matches<'c>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Vec<&'c str> {
    let limit = typo_distance(wanted);
    if wanted.len() > MAX_TYPO_CHARS {
        return Vec::new();
    }
    // Each candidate costs its length times the limit, and one of a very different length
    // costs nothing: asking about every missing name against every defined one stays cheap.
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .filter_map(|c| Some((edit_distance_within(wanted, c, limit)?, c)))
        .collect();
    near.sort_unstable();
    near.dedup();
    near.into_iter().map(|(_, c)| c).collect()
}

/// The closest candidate within [`typo_distance`], for "did you mean".
pub fn closest<'c>(wanted: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    close_matches(wanted, candidates).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_follows_iam_string_like() {
        assert!(glob_match(
            "system:serviceaccount:payments:*",
            "system:serviceaccount:payments:api"
        ));
        assert!(!glob_match(
            "system:serviceaccount:payments:*",
            "system:serviceaccount:billing:api"
        ));
        assert!(glob_match("sts:Assume*", "sts:AssumeRoleWithWebIdentity"));
        assert!(glob_match("a?c", "abc"));
        assert!(
            glob_match("ä?c*", "äöcé"),
            "characters, not bytes, outside ASCII"
        );
        assert!(!glob_match("ä?c", "äöéc"));
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn did_you_mean_scales_with_the_length() {
        assert_eq!(closest("api", ["app", "apx"]), Some("app"));
        assert_eq!(
            closest("ledger-apii", ["ledger-api", "ledger"]),
            Some("ledger-api")
        );
        assert_eq!(
            closest("payments-ledgerapi", ["payments-ledger-api"]),
            Some("payments-ledger-api")
        );
        assert_eq!(closest("api", ["api"]), None, "itself is not a suggestion");
        assert_eq!(
            close_matches("trust-subject-mismach", ["trust-subject-mismatch", "x"]),
            ["trust-subject-mismatch"]
        );
    }
}

#[cfg(test)]
mod hostile_sizes {
    use super::*;

    #[test]
    fn the_banded_distance_agrees_with_the_full_one() {
        let words = [
            "",
            "a",
            "ab",
            "ledger-api",
            "ledger_api",
            "ledgerapi",
            "legder-api",
            "api-ledger",
            "système",
            "sys",
            "kube-system",
            "kube-sytem",
        ];
        for a in words {
            for b in words {
                let full = edit_distance(a, b);
                for limit in 0..4 {
                    let want = Some(full).filter(|d| *d <= limit);
                    assert_eq!(edit_distance_within(a, b, limit), want, "{a} {b} {limit}");
                }
            }
        }
    }

    #[test]
    fn megabyte_strings_and_many_stars_are_linear() {
        let long = "a".repeat(1 << 20);
        let started = std::time::Instant::now();
        assert_eq!(edit_distance(&long, &format!("{long}b")), 1);
        assert_eq!(edit_distance(&long, &"b".repeat(1 << 20)), usize::MAX);
        assert!(close_matches(&long, [long.as_str(), "a"]).is_empty());
        let stars = format!("{}b", "*a".repeat(5_000));
        assert!(!glob_match(&stars, &long));
        assert!(glob_match(&format!("{}*", "*a".repeat(5_000)), &long));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn glob_runs_match_as_backtracking_did() {
        for (pattern, text, expected) in [
            (
                "system:serviceaccount:*:api",
                "system:serviceaccount:pay:api",
                true,
            ),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*", "a", true),
            ("*a", "ba", true),
            ("a*b*c", "abbbc", true),
            ("a*b*c", "acb", false),
            ("?*?", "a", false),
            ("?*?", "ab", true),
            ("*ab*ab", "abab", true),
            ("a*a", "a", false),
            ("*x?z*", "wxyz", true),
        ] {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} {text}");
        }
    }
}
