//! Helm's template language, evaluated over known values: enough of Go templates and
//! Helm's functions to render a chart's ServiceAccount templates and the `_helpers.tpl`
//! names they include. Values that are not text (a role ARN Terraform computes) and text
//! that came from a values file (with its span) pass through the rendered YAML as tokens,
//! so the ServiceAccount read back from it keeps them.
//!
//! Anything it does not follow (an unknown function, a condition on an unknown value, `tpl`,
//! `lookup`) stops the rendering: the caller reads the chart as unknown.

use std::collections::BTreeMap;

use foldhash::HashMap;

use crate::eval::value::{Str, Value, format_number};
use crate::parse::gotemplate::{Arg, Command, Node, Pipeline};

/// Starts a token of a string kept aside; `TOKEN_END` ends it.
const TOKEN: char = '\u{E000}';
const TOKEN_END: char = '\u{E001}';
/// Text that cannot be known.
const UNKNOWN: char = '\u{E002}';

/// How many templates may include each other, and how much text one rendering may write.
const MAX_DEPTH: usize = 32;
const MAX_OUTPUT: usize = 1 << 20;
/// How many nodes one rendering may visit (loops multiply them).
const MAX_STEPS: usize = 200_000;

/// Why a rendering stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Something it does not follow: the output is unknown.
    Unsupported,
    Break,
    Continue,
}

type Result<T> = std::result::Result<T, Stop>;

pub(crate) struct Renderer<'a> {
    pub defines: &'a HashMap<String, Vec<Node>>,
    /// Strings written as tokens, by index.
    kept: Vec<Str>,
    output: usize,
    steps: usize,
}

impl<'a> Renderer<'a> {
    pub fn new(defines: &'a HashMap<String, Vec<Node>>) -> Renderer<'a> {
        Renderer {
            defines,
            kept: Vec::new(),
            output: 0,
            steps: 0,
        }
    }

    /// Render a template with `root` as `.` and `$`.
    pub fn render(&mut self, nodes: &[Node], root: &Value) -> Option<String> {
        let root = self.tokenize(root.clone());
        let mut out = String::new();
        let mut vars = vec![(String::new(), root.clone())];
        match self.nodes(nodes, &root, &mut vars, &mut out, 0) {
            Ok(()) => Some(out),
            Err(_) => None,
        }
    }

    /// Rendered text back as a value: plain text, or a string with the kept strings in it;
    /// unknown when any part is.
    pub fn text_value(&self, text: &str) -> Value {
        if text.contains(UNKNOWN) {
            return Value::Unknown;
        }
        if !text.contains(TOKEN) {
            return Value::str(text);
        }
        let mut s = Str::default();
        let mut rest = text;
        while let Some(at) = rest.find(TOKEN) {
            s.push_str(&rest[..at]);
            let after = &rest[at + TOKEN.len_utf8()..];
            let Some(end) = after.find(TOKEN_END) else {
                return Value::Unknown;
            };
            let Some(kept) = after[..end]
                .parse::<usize>()
                .ok()
                .and_then(|i| self.kept.get(i))
            else {
                return Value::Unknown;
            };
            s.append(kept);
            rest = &after[end + TOKEN_END.len_utf8()..];
        }
        s.push_str(rest);
        Value::String(s)
    }

    fn nodes(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        vars: &mut Vec<(String, Value)>,
        out: &mut String,
        depth: usize,
    ) -> Result<()> {
        let scope = vars.len();
        let result = self.nodes_in_scope(nodes, dot, vars, out, depth);
        vars.truncate(scope);
        result
    }

    fn nodes_in_scope(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        vars: &mut Vec<(String, Value)>,
        out: &mut String,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Stop::Unsupported);
        }
        for node in nodes {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(Stop::Unsupported);
            }
            match node {
                Node::Text(t) => self.write(out, t)?,
                Node::Action(p) => {
                    let v = self.pipeline(p, dot, vars, depth)?;
                    if p.variables.is_empty() {
                        let text = self.print(&v)?;
                        self.write(out, &text)?;
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = false;
                    for (condition, body) in branches {
                        let v = self.pipeline(condition, dot, vars, depth)?;
                        if truth(&v)? {
                            self.nodes(body, dot, vars, out, depth + 1)?;
                            taken = true;
                            break;
                        }
                    }
                    if !taken {
                        self.nodes(otherwise, dot, vars, out, depth + 1)?;
                    }
                }
                Node::With {
                    pipeline,
                    body,
                    otherwise,
                } => {
                    let v = self.pipeline(pipeline, dot, vars, depth)?;
                    if truth(&v)? {
                        self.nodes(body, &v, vars, out, depth + 1)?;
                    } else {
                        self.nodes(otherwise, dot, vars, out, depth + 1)?;
                    }
                }
                Node::Range {
                    pipeline,
                    body,
                    otherwise,
                } => {
                    let v = self.pipeline(pipeline, dot, vars, depth)?;
                    let items: Vec<(Value, Value)> = match &v {
                        Value::List(l) => l
                            .iter()
                            .enumerate()
                            .map(|(i, x)| (Value::Number(i as f64), x.clone()))
                            .collect(),
                        Value::Map(m) => m
                            .iter()
                            .map(|(k, x)| (Value::str(k.clone()), x.clone()))
                            .collect(),
                        Value::Number(n) if *n >= 0.0 && *n < 1000.0 => (0..*n as usize)
                            .map(|i| (Value::Number(i as f64), Value::Number(i as f64)))
                            .collect(),
                        Value::Null => Vec::new(),
                        _ => return Err(Stop::Unsupported),
                    };
                    if items.is_empty() {
                        self.nodes(otherwise, dot, vars, out, depth + 1)?;
                    }
                    for (k, x) in items {
                        self.steps += 1;
                        if self.steps > MAX_STEPS {
                            return Err(Stop::Unsupported);
                        }
                        let scope = vars.len();
                        match pipeline.variables.as_slice() {
                            [] => {}
                            [v] => vars.push((v.clone(), x.clone())),
                            [key, v, ..] => {
                                vars.push((key.clone(), k));
                                vars.push((v.clone(), x.clone()));
                            }
                        }
                        let r = self.nodes(body, &x, vars, out, depth + 1);
                        vars.truncate(scope);
                        match r {
                            Ok(()) | Err(Stop::Continue) => {}
                            Err(Stop::Break) => break,
                            Err(e) => return Err(e),
                        }
                    }
                }
                Node::Template(name, arg) => {
                    let arg = match arg {
                        Some(p) => self.pipeline(p, dot, vars, depth)?,
                        None => Value::Null,
                    };
                    let text = self.include(name, &arg, depth)?;
                    self.write(out, &text)?;
                }
                Node::Break => return Err(Stop::Break),
                Node::Continue => return Err(Stop::Continue),
            }
        }
        Ok(())
    }

    fn write(&mut self, out: &mut String, text: &str) -> Result<()> {
        self.output += text.len();
        if self.output > MAX_OUTPUT {
            return Err(Stop::Unsupported);
        }
        out.push_str(text);
        Ok(())
    }

    fn include(&mut self, name: &str, dot: &Value, depth: usize) -> Result<String> {
        let defines = self.defines;
        let body = defines.get(name).ok_or(Stop::Unsupported)?;
        let mut out = String::new();
        let mut vars = vec![(String::new(), dot.clone())];
        self.nodes(body, dot, &mut vars, &mut out, depth + 1)?;
        Ok(out)
    }

    /// Inside a rendering every string is text: a string that is not plain text (a computed
    /// part, or a span to keep) is a token standing for it.
    fn tokenize(&mut self, v: Value) -> Value {
        match v {
            Value::String(s) => self.tok(s),
            Value::Map(m) => {
                Value::Map(m.into_iter().map(|(k, x)| (k, self.tokenize(x))).collect())
            }
            Value::List(l) => Value::List(l.into_iter().map(|x| self.tokenize(x)).collect()),
            other => other,
        }
    }

    /// A string as text: itself when it is plain, else a token.
    fn tok(&mut self, s: Str) -> Value {
        match s.as_known() {
            Some(t) if s.origin.is_none() || t.is_empty() => Value::str(t),
            _ => {
                self.kept.push(s);
                Value::str(format!("{TOKEN}{}{TOKEN_END}", self.kept.len() - 1))
            }
        }
    }

    /// The string a text stands for, when it is known text.
    fn resolve(&self, v: &Value) -> Result<Str> {
        match v {
            Value::Null => Ok(Str::default()),
            Value::String(s) => match s.as_known() {
                Some(t) => match self.text_value(t) {
                    Value::String(r) => Ok(r),
                    _ => Err(Stop::Unsupported),
                },
                None => Err(Stop::Unsupported),
            },
            Value::Bool(_) | Value::Number(_) => v.to_str().ok_or(Stop::Unsupported),
            _ => Err(Stop::Unsupported),
        }
    }

    /// How a value is written into the output.
    fn print(&mut self, v: &Value) -> Result<String> {
        Ok(match v {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => format_number(*n),
            Value::String(s) => s.as_known().ok_or(Stop::Unsupported)?.to_string(),
            Value::Unknown => UNKNOWN.to_string(),
            // Go prints maps and lists its own way; no ServiceAccount field is written so.
            Value::List(_) | Value::Map(_) => UNKNOWN.to_string(),
        })
    }

    fn pipeline(
        &mut self,
        p: &Pipeline,
        dot: &Value,
        vars: &mut Vec<(String, Value)>,
        depth: usize,
    ) -> Result<Value> {
        let mut last: Option<Value> = None;
        for command in &p.commands {
            last = Some(self.command(command, dot, vars, last, depth)?);
        }
        let v = last.unwrap_or(Value::Null);
        // `:=` declares and `=` assigns; either way the name now holds `v` (an assignment
        // inside a block is forgotten at its end, as a declaration is).
        for name in &p.variables {
            vars.push((name.clone(), v.clone()));
        }
        Ok(v)
    }

    fn arg(
        &mut self,
        a: &Arg,
        dot: &Value,
        vars: &mut Vec<(String, Value)>,
        depth: usize,
    ) -> Result<Value> {
        Ok(match a {
            Arg::Field(path) => fields(dot, path),
            Arg::Variable(name, path) => {
                let v = vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or(Stop::Unsupported)?;
                fields(&v, path)
            }
            Arg::String(s) => Value::str(s.clone()),
            Arg::Number(n) => Value::Number(*n),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Nil => Value::Null,
            Arg::Pipeline(p, path) => {
                let v = self.pipeline(p, dot, vars, depth)?;
                fields(&v, path)
            }
            Arg::Function(name) => self.call(name, Vec::new(), depth)?,
        })
    }

    fn command(
        &mut self,
        c: &Command,
        dot: &Value,
        vars: &mut Vec<(String, Value)>,
        piped: Option<Value>,
        depth: usize,
    ) -> Result<Value> {
        let Some((first, rest)) = c.args.split_first() else {
            return Err(Stop::Unsupported);
        };
        let Arg::Function(name) = first else {
            if !rest.is_empty() || piped.is_some() {
                return Err(Stop::Unsupported);
            }
            return self.arg(first, dot, vars, depth);
        };
        // `and` and `or` stop at the first value that decides them.
        if name == "and" || name == "or" {
            let mut last = Value::Null;
            let args = rest.iter().map(Some).chain(piped.as_ref().map(|_| None));
            for a in args {
                let v = match a {
                    Some(a) => self.arg(a, dot, vars, depth)?,
                    None => piped.clone().unwrap_or(Value::Null),
                };
                let t = truth(&v)?;
                last = v;
                if t == (name == "or") {
                    break;
                }
            }
            return Ok(last);
        }
        let mut args = Vec::with_capacity(rest.len() + 1);
        for a in rest {
            args.push(self.arg(a, dot, vars, depth)?);
        }
        if let Some(p) = piped {
            args.push(p);
        }
        self.call(name, args, depth)
    }

    fn call(&mut self, name: &str, args: Vec<Value>, depth: usize) -> Result<Value> {
        let int = |v: &Value| -> Result<i64> {
            match v {
                Value::Number(n) => Ok(*n as i64),
                Value::String(s) => s
                    .as_known()
                    .and_then(|t| t.parse().ok())
                    .ok_or(Stop::Unsupported),
                _ => Err(Stop::Unsupported),
            }
        };
        // Plain text of a value (tokens and all), as text functions see it.
        let raw = |v: &Value| -> Result<String> {
            match v {
                Value::Null => Ok(String::new()),
                Value::String(s) => s.as_known().map(str::to_string).ok_or(Stop::Unsupported),
                Value::Bool(_) | Value::Number(_) => v
                    .to_str()
                    .and_then(|s| s.as_known().map(str::to_string))
                    .ok_or(Stop::Unsupported),
                _ => Err(Stop::Unsupported),
            }
        };
        Ok(match (name, args.as_slice()) {
            ("include", [n, dot]) => {
                let n = self.known(n)?;
                Value::str(self.include(&n, dot, depth)?)
            }
            ("default", [d, v]) => {
                if truth(v)? {
                    v.clone()
                } else {
                    d.clone()
                }
            }
            ("default", [d]) => d.clone(),
            ("required", [_, v]) => v.clone(),
            ("quote" | "squote", [v]) => match v {
                Value::Unknown => Value::Unknown,
                _ if name == "quote" => Value::str(quoted(&raw(v)?)),
                _ => Value::str(format!("'{}'", raw(v)?.replace('\'', "''"))),
            },
            ("toString" | "toYaml" | "print", [v])
                if matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) =>
            {
                Value::str(raw(v)?)
            }
            ("toYaml", [v]) => {
                let mut out = String::new();
                yaml(v, 0, &mut out)?;
                Value::str(out.trim_end_matches('\n').to_string())
            }
            ("nindent" | "indent", [n, v]) => {
                let n = int(n)?.clamp(0, 200) as usize;
                let pad = " ".repeat(n);
                let text = match v {
                    Value::Unknown => UNKNOWN.to_string(),
                    other => raw(other)?,
                };
                let indented = text
                    .split('\n')
                    .map(|l| format!("{pad}{l}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                Value::str(if name == "nindent" {
                    format!("\n{indented}")
                } else {
                    indented
                })
            }
            ("trunc", [n, v]) => {
                let s = self.resolve(v)?;
                let t = s.as_known().ok_or(Stop::Unsupported)?;
                let n = int(n)?;
                let chars: Vec<char> = t.chars().collect();
                let cut: String = if n >= 0 {
                    chars.iter().take(n as usize).collect()
                } else {
                    let skip = chars.len().saturating_sub(n.unsigned_abs() as usize);
                    chars[skip..].iter().collect()
                };
                self.tok(Str::lit(cut).with_origin(s.origin))
            }
            ("trimSuffix" | "trimPrefix", [affix, v]) => {
                let affix = self.known(affix)?;
                let s = self.resolve(v)?;
                let t = s.as_known().ok_or(Stop::Unsupported)?;
                let r = if name == "trimSuffix" {
                    t.strip_suffix(affix.as_str()).unwrap_or(t)
                } else {
                    t.strip_prefix(affix.as_str()).unwrap_or(t)
                };
                self.tok(Str::lit(r).with_origin(s.origin))
            }
            ("trim" | "lower" | "upper", [v]) => {
                let s = self.resolve(v)?;
                let t = s.as_known().ok_or(Stop::Unsupported)?;
                let r = match name {
                    "trim" => t.trim().to_string(),
                    "lower" => t.to_lowercase(),
                    _ => t.to_uppercase(),
                };
                self.tok(Str::lit(r).with_origin(s.origin))
            }
            ("replace", [old, new, v]) => {
                let s = self.resolve(v)?;
                let t = s.as_known().ok_or(Stop::Unsupported)?;
                let r = t.replace(self.known(old)?.as_str(), &self.known(new)?);
                self.tok(Str::lit(r).with_origin(s.origin))
            }
            ("contains", [sub, v]) => {
                Value::Bool(self.known(v)?.contains(self.known(sub)?.as_str()))
            }
            ("hasPrefix", [p, v]) => {
                Value::Bool(self.known(v)?.starts_with(self.known(p)?.as_str()))
            }
            ("hasSuffix", [p, v]) => Value::Bool(self.known(v)?.ends_with(self.known(p)?.as_str())),
            ("printf", [format, rest @ ..]) => {
                let format = self.known(format)?;
                let mut out = String::new();
                let mut args = rest.iter();
                let mut chars = format.chars();
                while let Some(c) = chars.next() {
                    if c != '%' {
                        out.push(c);
                        continue;
                    }
                    match chars.next() {
                        Some('%') => out.push('%'),
                        Some('s' | 'v' | 'd') => {
                            out.push_str(&raw(args.next().ok_or(Stop::Unsupported)?)?)
                        }
                        _ => return Err(Stop::Unsupported),
                    }
                }
                Value::str(out)
            }
            ("not", [v]) => Value::Bool(!truth(v)?),
            ("empty", [v]) => Value::Bool(!truth(v)?),
            ("eq", [a, rest @ ..]) if !rest.is_empty() => {
                let mut any = false;
                for b in rest {
                    any |= self.equal(a, b)?;
                }
                Value::Bool(any)
            }
            ("ne", [a, b]) => Value::Bool(!self.equal(a, b)?),
            ("coalesce", args) => {
                let mut found = Value::Null;
                for a in args {
                    if truth(a)? {
                        found = a.clone();
                        break;
                    }
                }
                found
            }
            ("ternary", [yes, no, c]) => {
                if truth(c)? {
                    yes.clone()
                } else {
                    no.clone()
                }
            }
            ("hasKey", [Value::Map(m), k]) => Value::Bool(m.contains_key(&self.known(k)?)),
            ("index", [v, keys @ ..]) => {
                let mut v = v.clone();
                for k in keys {
                    v = match (&v, k) {
                        (Value::Map(m), k) => {
                            m.get(&self.known(k)?).cloned().unwrap_or(Value::Null)
                        }
                        (Value::List(l), k) => {
                            l.get(int(k)? as usize).cloned().ok_or(Stop::Unsupported)?
                        }
                        (Value::Null, _) => Value::Null,
                        _ => return Err(Stop::Unsupported),
                    };
                }
                v
            }
            ("dict", pairs) if pairs.len() % 2 == 0 => {
                let mut m = BTreeMap::new();
                for kv in pairs.chunks(2) {
                    m.insert(self.known(&kv[0])?, kv[1].clone());
                }
                Value::Map(m)
            }
            ("list", items) => Value::List(items.to_vec()),
            _ => return Err(Stop::Unsupported),
        })
    }

    /// The known text a value stands for.
    fn known(&self, v: &Value) -> Result<String> {
        self.resolve(v)?
            .as_known()
            .map(str::to_string)
            .ok_or(Stop::Unsupported)
    }

    fn equal(&self, a: &Value, b: &Value) -> Result<bool> {
        match (a, b) {
            (Value::String(_), _) | (_, Value::String(_)) => Ok(self.known(a)? == self.known(b)?),
            _ if a.has_unknown() || b.has_unknown() => Err(Stop::Unsupported),
            _ => Ok(a == b),
        }
    }
}

/// `toYaml`: block style, every string quoted (tokens inside the quotes).
fn yaml(v: &Value, indent: usize, out: &mut String) -> Result<()> {
    let pad = " ".repeat(indent);
    match v {
        Value::Map(m) if m.is_empty() => out.push_str("{}\n"),
        Value::List(l) if l.is_empty() => out.push_str("[]\n"),
        Value::Map(m) => {
            for (k, x) in m {
                out.push_str(&pad);
                out.push_str(&quoted(k));
                out.push(':');
                if matches!(x, Value::Map(n) if !n.is_empty())
                    || matches!(x, Value::List(n) if !n.is_empty())
                {
                    out.push('\n');
                    yaml(x, indent + 2, out)?;
                } else {
                    out.push(' ');
                    yaml(x, 0, out)?;
                }
            }
        }
        Value::List(l) => {
            for x in l {
                out.push_str(&pad);
                out.push_str("- ");
                let mut inner = String::new();
                yaml(x, indent + 2, &mut inner)?;
                out.push_str(inner.trim_start());
            }
        }
        Value::String(s) => {
            out.push_str(&quoted(s.as_known().ok_or(Stop::Unsupported)?));
            out.push('\n');
        }
        Value::Unknown => {
            out.push_str(&quoted(&UNKNOWN.to_string()));
            out.push('\n');
        }
        Value::Null => out.push_str("null\n"),
        Value::Bool(b) => {
            out.push_str(&b.to_string());
            out.push('\n');
        }
        Value::Number(n) => {
            out.push_str(&format_number(*n));
            out.push('\n');
        }
    }
    Ok(())
}

/// A YAML double-quoted scalar (JSON's escaping is valid YAML).
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn fields(v: &Value, path: &[String]) -> Value {
    let mut v = v.clone();
    for f in path {
        v = match v {
            Value::Map(mut m) => m.remove(f).unwrap_or(Value::Null),
            Value::Null => Value::Null,
            _ => Value::Unknown,
        };
    }
    v
}

/// Go's truth: false, 0, nil, and empty strings, lists and maps are false.
fn truth(v: &Value) -> Result<bool> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(*n != 0.0),
        Value::String(s) => match s.as_known() {
            Some(t) => Ok(!t.is_empty()),
            // A string with a computed part (a role ARN) is not empty.
            None => Ok(true),
        },
        Value::List(l) => Ok(!l.is_empty()),
        Value::Map(m) => Ok(!m.is_empty()),
        Value::Unknown => Err(Stop::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use foldhash::HashMapExt;

    use super::*;
    use crate::parse::gotemplate::parse;

    const HELPERS: &str = r#"{{- define "ledger.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "ledger.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}
{{- define "ledger.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ledger.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
"#;

    const SA: &str = r#"{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "ledger.serviceAccountName" . }}
  labels:
    app.kubernetes.io/name: {{ include "ledger.name" . }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
"#;

    fn render(values: &str, release: &str) -> Option<String> {
        let helpers = parse(HELPERS).unwrap();
        let defines: HashMap<_, _> = helpers.defines.into_iter().collect();
        let sa = parse(SA).unwrap();
        let values = crate::facts::kubernetes::yaml_value(values).unwrap();
        let root = Value::Map(BTreeMap::from([
            ("Values".to_string(), values),
            (
                "Release".to_string(),
                Value::Map(BTreeMap::from([("Name".to_string(), Value::str(release))])),
            ),
            (
                "Chart".to_string(),
                Value::Map(BTreeMap::from([("Name".to_string(), Value::str("ledger"))])),
            ),
        ]));
        Renderer::new(&defines).render(&sa.nodes, &root)
    }

    #[test]
    fn helm_create_names_the_service_account_after_the_release() {
        let out = render(
            "serviceAccount:\n  create: true\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/ledger\n",
            "payments",
        )
        .unwrap();
        assert!(out.contains("name: payments-ledger\n"), "{out}");
        assert!(
            out.contains(
                "  annotations:\n    \"eks.amazonaws.com/role-arn\": \"arn:aws:iam::123456789012:role/ledger\""
            ),
            "{out}"
        );
        let out = render("serviceAccount:\n  create: true\n", "ledger-prod").unwrap();
        assert!(out.contains("name: ledger-prod\n"), "{out}");
        assert!(!out.contains("annotations"), "{out}");
    }

    #[test]
    fn no_service_account_when_create_is_false() {
        let out = render("serviceAccount:\n  create: false\n", "payments").unwrap();
        assert!(out.trim().is_empty(), "{out:?}");
    }

    #[test]
    fn loops_are_bounded() {
        let defines = HashMap::new();
        let t = parse("{{ range 999 }}{{ range 999 }}{{ range 999 }}{{ end }}{{ end }}{{ end }}")
            .unwrap();
        assert!(
            Renderer::new(&defines)
                .render(&t.nodes, &Value::Null)
                .is_none()
        );
    }

    #[test]
    fn unknown_functions_and_conditions_stop_the_rendering() {
        let defines = HashMap::new();
        let t = parse("{{ tpl .Values.x . }}").unwrap();
        let root = crate::facts::kubernetes::yaml_value("Values:\n  x: a\n").unwrap();
        assert!(Renderer::new(&defines).render(&t.nodes, &root).is_none());
        let t = parse("{{ if .Values.x }}a{{ end }}").unwrap();
        let root = Value::Map(BTreeMap::from([(
            "Values".to_string(),
            Value::Map(BTreeMap::from([("x".to_string(), Value::Unknown)])),
        )]));
        assert!(Renderer::new(&defines).render(&t.nodes, &root).is_none());
    }
}
