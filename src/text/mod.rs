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
fn glob_match_units<U: PartialEq + Copy>(p: &[U], t: &[U], star_unit: U, one: U) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star_unit {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == star_unit {
        pi += 1;
    }
    pi == p.len()
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
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
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(wanted, c), c))
        .filter(|(d, c)| *d <= limit && *c != wanted)
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
