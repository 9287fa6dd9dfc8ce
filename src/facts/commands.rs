//! Role ARNs set by shell commands Terraform runs (`provisioner "local-exec"` of a
//! `null_resource` or `terraform_data`):
//!
//! - `kubectl annotate serviceaccount NAME -n NS eks.amazonaws.com/role-arn=VALUE`
//! - `helm upgrade --install RELEASE CHART -n NS --set ...role-arn=VALUE` of a known chart
//!
//! Each becomes a ServiceAccount fact whose role-arn annotation is the value, so it is checked
//! like an annotation (IRSA012) and linked to its role. The command is read from its
//! evaluated text: interpolations keep their values (symbolic or unknown), shell variables
//! and other placeholders stay placeholders. Spans point into the command where the source
//! shows the value, else at the whole command.

use crate::eval::value::{Part, Str, Value};
use crate::source::{Span, Spanned};

use super::charts::{self, DefaultName};
use super::kubernetes::{ChartRelease, Values, record_chart_service_accounts, split_key};
use super::{Annotation, Facts, ROLE_ARN_KEY, ServiceAccount};

/// A command as Terraform runs it, where it is written, and who runs it.
pub(crate) struct Command<'a> {
    pub text: &'a Str,
    /// The command's expression, and its source text when the span is in the user's file.
    pub span: Span,
    pub source: Option<&'a str>,
    /// `null_resource.annotate_alb`, for the note.
    pub resource: &'a str,
    pub unit: &'a str,
}

/// The ServiceAccounts the command annotates or installs with a role.
pub(crate) fn facts(command: &Command<'_>, facts: &mut Facts) {
    for words in statements(command.text) {
        let literal = |i: usize| words.get(i).and_then(Str::as_known);
        let Some(at) = (0..words.len()).find(|&i| matches!(literal(i), Some("kubectl" | "helm")))
        else {
            continue;
        };
        let args = &words[at + 1..];
        match literal(at) {
            Some("kubectl") => kubectl_annotate(command, args, facts),
            _ => helm_install(command, args, facts),
        }
    }
}

/// `kubectl annotate [sa|serviceaccount] NAME ... eks.amazonaws.com/role-arn=VALUE`.
fn kubectl_annotate(command: &Command<'_>, args: &[Str], facts: &mut Facts) {
    let Some(annotate) = args.iter().position(|w| w.as_known() == Some("annotate")) else {
        return;
    };
    let mut positional = Vec::new();
    let mut namespace = None;
    let mut role_arn = None;
    let mut rest = args[annotate + 1..].iter();
    while let Some(word) = rest.next() {
        match flag(word, &["-n", "--namespace"]) {
            Some(Some(value)) => namespace = Some(value),
            Some(None) => namespace = rest.next().cloned(),
            None if word.as_known().is_some_and(|w| w.starts_with('-')) => {}
            None => match word.strip_prefix(&format!("{ROLE_ARN_KEY}=")) {
                Some(value) => role_arn = Some(value),
                None => positional.push(word.clone()),
            },
        }
    }
    let Some(role_arn) = role_arn else { return };
    // `sa NAME`, `serviceaccount NAME` or `sa/NAME`.
    let name = match positional.as_slice() {
        [kind, name, ..] if is_service_account_kind(kind.as_known()) => name.clone(),
        [kind_name, ..] => match kind_name.as_known().and_then(|k| k.split_once('/')) {
            Some((kind, name)) if is_service_account_kind(Some(kind)) => Str::lit(name),
            _ => return,
        },
        [] => return,
    };
    let (Some(name), namespace) = (name.as_known().map(str::to_string), namespace) else {
        facts.hidden_service_accounts = true;
        return;
    };
    let namespace = match namespace.map(|n| n.as_known().map(str::to_string)) {
        Some(Some(ns)) => Some(ns),
        Some(None) => {
            facts.hidden_service_accounts = true;
            return;
        }
        None => None,
    };
    let value = spanned_value(command, role_arn);
    let annotation = Annotation {
        key: Spanned::new(ROLE_ARN_KEY.to_string(), value.span),
        value: Some(value),
    };
    let name = Spanned::new(name.clone(), span_of(command, &name));
    let namespace = namespace.map(|ns| Spanned::new(ns.clone(), span_of(command, &ns)));
    let mut sa = ServiceAccount::terraform(
        command.span,
        name,
        namespace,
        vec![annotation],
        command.unit,
    );
    sa.rendered.push(format!(
        "annotated by `kubectl annotate` in the local-exec command of {}",
        command.resource
    ));
    facts.service_accounts.push(sa);
}

fn is_service_account_kind(kind: Option<&str>) -> bool {
    matches!(kind, Some("sa" | "serviceaccount" | "serviceaccounts"))
}

/// `helm upgrade --install RELEASE CHART ... --set k=v,...`, `helm install RELEASE CHART`,
/// for a chart irsa-lint knows: its ServiceAccount with the values `--set` gives it.
fn helm_install(command: &Command<'_>, args: &[Str], facts: &mut Facts) {
    let Some(verb) = args.first().and_then(Str::as_known) else {
        return;
    };
    if !matches!(verb, "upgrade" | "install") {
        return;
    }
    let mut positional: Vec<&Str> = Vec::new();
    let mut namespace = None;
    let mut version = charts::Version::Latest;
    let mut repository = None;
    let mut sets: Vec<Str> = Vec::new();
    let mut rest = args[1..].iter();
    while let Some(word) = rest.next() {
        if let Some(value) = flag(word, &["-n", "--namespace"]) {
            namespace = value.or_else(|| rest.next().cloned());
        } else if let Some(value) = flag(word, &["--version"]) {
            let value = value.or_else(|| rest.next().cloned());
            version = charts::Version::written(Some(value.as_ref().and_then(|v| v.as_known())));
        } else if let Some(value) = flag(word, &["--repo"]) {
            repository = value.or_else(|| rest.next().cloned());
        } else if let Some(value) = flag(word, &["--set", "--set-string"]) {
            sets.extend(value.or_else(|| rest.next().cloned()));
        } else if let Some(flag) = word.as_known().filter(|w| w.starts_with('-')) {
            // Flags with a value of their own; the others (`--install`, `--wait`) stand alone.
            const WITH_VALUE: &[&str] = &["-f", "--values", "--timeout"];
            if WITH_VALUE.contains(&flag) {
                rest.next();
            }
        } else {
            positional.push(word);
        }
    }
    let [release, chart, ..] = positional.as_slice() else {
        return;
    };
    let (Some(release), Some(chart)) = (release.as_known(), chart.as_known()) else {
        return;
    };
    let repository = repository.as_ref().and_then(|r| r.as_known());
    let Some(known) = charts::find_in(chart, repository) else {
        if sets
            .iter()
            .any(|s| s.as_known().is_none_or(|s| s.contains("role-arn")))
        {
            facts.hidden_service_accounts = true;
        }
        return;
    };
    let mut values = Values::default();
    let mut sets_role = false;
    for set in &sets {
        for (key, value) in set_pairs(set) {
            let path = split_key(&key);
            sets_role |= path.last().map(String::as_str) == Some(ROLE_ARN_KEY);
            let span = spanned_value(command, value.clone()).span;
            values.set(path, Value::String(value), span);
        }
    }
    if !sets_role {
        return;
    }
    let namespace = match namespace.map(|n| n.as_known().map(str::to_string)) {
        Some(Some(ns)) => Spanned::new(ns.clone(), span_of(command, &ns)),
        Some(None) => {
            facts.hidden_service_accounts = true;
            return;
        }
        None => Spanned::new("default".to_string(), command.span),
    };
    let Some(eras) = known.eras(&version) else {
        facts.hidden_service_accounts = true;
        return;
    };
    // The release is where the ServiceAccount's name comes from.
    let label = span_after(command, verb, release);
    let chart = ChartRelease {
        chart_name: known.name,
        service_account_key: known.service_account,
        default_name: DefaultName::Chart(eras),
        release,
        label,
        namespace,
        unit: command.unit,
    };
    for mut sa in record_chart_service_accounts(&chart, &values, facts) {
        sa.rendered.push(format!(
            "installed by `helm {verb}` in the local-exec command of {}",
            command.resource
        ));
        facts.service_accounts.push(sa);
    }
}

/// `k=v,k2=v2` of a `--set`, split at commas and `=` outside backslash escapes; the keys are
/// known text, the values may be symbolic.
fn set_pairs(set: &Str) -> Vec<(String, Str)> {
    let mut out = Vec::new();
    for item in split_str(set, ',') {
        let Some(at) = item.parts().first().and_then(|p| match p {
            Part::Lit(l) => unescaped_find(l, '='),
            Part::Sym(_) => None,
        }) else {
            continue;
        };
        let Some(Part::Lit(first)) = item.parts().first() else {
            continue;
        };
        let key = first[..at].replace("\\.", "\u{0}").replace('"', "");
        let key = key.replace('\u{0}', "\\.");
        let value = item.strip_prefix(&first[..=at]).unwrap_or_default();
        out.push((key, value));
    }
    out
}

fn unescaped_find(text: &str, c: char) -> Option<usize> {
    let mut escaped = false;
    for (i, ch) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == c {
            return Some(i);
        }
    }
    None
}

/// `-n X`, `-nX`, `--namespace X`, `--namespace=X`: `Some(Some(X))` when the word holds the
/// value, `Some(None)` when the next word does, `None` for another word.
fn flag(word: &Str, names: &[&str]) -> Option<Option<Str>> {
    let Some(Part::Lit(first)) = word.parts().first() else {
        return None;
    };
    for name in names {
        if word.as_known() == Some(name) {
            return Some(None);
        }
        let joined = if name.starts_with("--") {
            format!("{name}=")
        } else {
            (*name).to_string()
        };
        if first.starts_with(&joined) && first.len() >= joined.len() {
            return Some(word.strip_prefix(&joined));
        }
    }
    None
}

/// The command's statements (split at `&&`, `||`, `;`, `|` and line ends outside quotes),
/// each as words (split at blanks outside quotes, quotes removed).
fn statements(text: &Str) -> Vec<Vec<Str>> {
    let mut statements = Vec::new();
    let mut words: Vec<Str> = Vec::new();
    let mut word = Str::default();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let end_word = |word: &mut Str, in_word: &mut bool, words: &mut Vec<Str>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    for part in text.parts() {
        let literal = match part {
            Part::Sym(sym) => {
                word.push_sym(sym.clone());
                in_word = true;
                continue;
            }
            Part::Lit(l) => l,
        };
        let mut chars = literal.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                // In double quotes, `\\` and `\"` are one character.
                (Some('"'), '\\') if matches!(chars.peek(), Some('\\' | '"' | '$')) => {
                    if let Some(next) = chars.next() {
                        word.push_str(&next.to_string());
                    }
                }
                (Some(_), c) => {
                    word.push_str(&c.to_string());
                    in_word = true;
                }
                (None, '\'' | '"') => {
                    quote = Some(c);
                    in_word = true;
                }
                (None, '\\') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    end_word(&mut word, &mut in_word, &mut words);
                }
                // Outside quotes a backslash keeps the next character as it is.
                (None, '\\') => {
                    if let Some(next) = chars.next() {
                        word.push_str(&next.to_string());
                        in_word = true;
                    }
                }
                (None, ' ' | '\t') => end_word(&mut word, &mut in_word, &mut words),
                // A comment runs to the end of the line.
                (None, '#') if !in_word => {
                    while chars.peek().is_some_and(|&c| c != '\n') {
                        chars.next();
                    }
                }
                (None, '\n' | ';' | '&' | '|') => {
                    end_word(&mut word, &mut in_word, &mut words);
                    if !words.is_empty() {
                        statements.push(std::mem::take(&mut words));
                    }
                }
                (None, c) => {
                    word.push_str(&c.to_string());
                    in_word = true;
                }
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut words);
    if !words.is_empty() {
        statements.push(words);
    }
    statements
}

/// A string split at a character of its literal parts.
fn split_str(text: &Str, at: char) -> Vec<Str> {
    let mut out = vec![Str::default()];
    for part in text.parts() {
        match part {
            Part::Sym(sym) => out.last_mut().expect("never empty").push_sym(sym.clone()),
            Part::Lit(l) => {
                let mut pieces = l.split(at);
                if let Some(first) = pieces.next() {
                    out.last_mut().expect("never empty").push_str(first);
                }
                for piece in pieces {
                    out.push(Str::lit(piece));
                }
            }
        }
    }
    out
}

/// The value, spanned where the source shows it after `role-arn=`: to the end of that word.
fn spanned_value(command: &Command<'_>, value: Str) -> Spanned<Str> {
    let span = command
        .source
        .and_then(|source| {
            let key = source.find(&format!("{ROLE_ARN_KEY}="))?;
            let start = key + ROLE_ARN_KEY.len() + 1;
            let len = source[start..]
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '\\'))
                .unwrap_or(source.len() - start);
            Some(Span::new(
                command.span.file,
                command.span.start as usize + start..command.span.start as usize + start + len,
            ))
        })
        .unwrap_or(command.span);
    Spanned::new(value, span)
}

/// Where the source shows a word of the command, else the whole command.
fn span_of(command: &Command<'_>, word: &str) -> Span {
    span_after(command, "", word)
}

/// Where the source shows `word` after `anchor`, else the whole command.
fn span_after(command: &Command<'_>, anchor: &str, word: &str) -> Span {
    command
        .source
        .and_then(|source| {
            let from = source.find(anchor)? + anchor.len();
            let at = from + source[from..].find(word)?;
            let start = command.span.start as usize + at;
            Some(Span::new(command.span.file, start..start + word.len()))
        })
        .unwrap_or(command.span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::value::Symbol;

    fn words(text: &Str) -> Vec<Vec<String>> {
        statements(text)
            .iter()
            .map(|s| s.iter().map(Str::display).collect())
            .collect()
    }

    #[test]
    fn commands_split_into_statements_and_words_like_a_shell() {
        let mut text = Str::lit(
            "aws eks update-kubeconfig --name x && \\\n  kubectl annotate sa alb -n kube-system eks.amazonaws.com/role-arn=",
        );
        text.push_sym(Symbol::Account);
        text.push_str(" --overwrite # the role\necho 'done here'");
        assert_eq!(
            words(&text),
            [
                vec!["aws", "eks", "update-kubeconfig", "--name", "x"],
                vec![
                    "kubectl",
                    "annotate",
                    "sa",
                    "alb",
                    "-n",
                    "kube-system",
                    "eks.amazonaws.com/role-arn=<account id>",
                    "--overwrite"
                ],
                vec!["echo", "done here"],
            ]
        );
    }

    #[test]
    fn set_pairs_keep_escaped_dots_in_keys() {
        let pairs = set_pairs(&Str::lit(
            "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/x,clusterName=prod",
        ));
        let shown: Vec<(String, String)> =
            pairs.into_iter().map(|(k, v)| (k, v.display())).collect();
        assert_eq!(
            shown,
            [
                (
                    "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn".to_string(),
                    "arn:aws:iam::1:role/x".to_string()
                ),
                ("clusterName".to_string(), "prod".to_string()),
            ]
        );
    }
}
