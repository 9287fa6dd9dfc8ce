//! The Terraform functions IRSA code really uses. Any other function is unknown.

use std::collections::BTreeMap;
use std::path::Path;

use hcl_edit::expr::FuncCall;

use super::module::{EvalResult, Fail, Module, Scope, module_path};
use super::value::{Str, Value, format_number};

/// `file()` and `templatefile()` refuse files larger than this.
pub(super) const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

impl<'a> Module<'a> {
    pub(super) fn call(&self, f: &FuncCall, scope: &Scope) -> EvalResult {
        if f.name.is_namespaced() || f.args.expand_final() {
            return Ok(Value::Unknown);
        }
        let name = f.name.name.as_str();
        // `try` and `can` must see failures of their arguments instead of propagating them.
        match name {
            "try" => {
                for arg in f.args.iter() {
                    match self.eval(arg, scope) {
                        Ok(v) if v.is_unknown() => return Ok(Value::Unknown),
                        Ok(v) => return Ok(v),
                        Err(Fail) => continue,
                    }
                }
                return Err(Fail);
            }
            "can" => {
                return Ok(match f.args.get(0).map(|a| self.eval(a, scope)) {
                    Some(Ok(Value::Unknown)) => Value::Unknown,
                    Some(Ok(_)) => Value::Bool(true),
                    _ => Value::Bool(false),
                });
            }
            _ => {}
        }
        let mut args = Vec::with_capacity(f.args.len());
        for a in f.args.iter() {
            args.push(self.eval(a, scope)?);
        }
        let at = crate::source::Span::new(
            self.current_file().unwrap_or(crate::source::FileId(0)),
            hcl_edit::Span::span(f).unwrap_or(0..0),
        );
        if let Some(result) = self.host_call(name, &args, at) {
            return result;
        }
        if name == "templatefile" {
            return self.templatefile(&args);
        }
        if name == "file" {
            return Ok(match args.first().and_then(Value::as_known_str) {
                Some(path) => match self.read_file(path) {
                    Some(text) => Value::str(text),
                    None => Value::Unknown,
                },
                None => Value::Unknown,
            });
        }
        // What a function writes is counted before it is written when it can be far larger
        // than its arguments (`replace`, `join`, `format`, `range`, the encoders), and after
        // otherwise (its result is at most a few times their size).
        let Some(estimate) = cost_estimate(name, &args) else {
            return Ok(Value::Unknown);
        };
        if !self.charge_bytes(estimate.bytes) || !self.charge_steps(estimate.steps) {
            return Ok(Value::Unknown);
        }
        let value = call_pure(name, &args).unwrap_or(Value::Unknown);
        if estimate.bytes == 0 {
            return Ok(match self.charge_bytes(super::budget::weight(&value)) {
                true => value,
                false => Value::Unknown,
            });
        }
        Ok(value)
    }

    fn read_file(&self, path: &str) -> Option<String> {
        let full = module_path(&self.dir, path);
        let (_, text) = self.loader.load(&full)?;
        // Each call copies the file: reading one in a loop is counted.
        (text.len() <= MAX_FILE_BYTES && self.charge_bytes(text.len() as u64))
            .then(|| text.to_string())
    }

    fn templatefile(&self, args: &[Value]) -> EvalResult {
        let (Some(path), Some(vars)) = (args.first().and_then(Value::as_known_str), args.get(1))
        else {
            return Ok(Value::Unknown);
        };
        let full = module_path(&self.dir, path);
        let Some((file, text)) = self.loader.load(&full) else {
            return Ok(Value::Unknown);
        };
        if text.len() > MAX_FILE_BYTES {
            return Ok(Value::Unknown);
        }
        self.templatefile_value(file, &text, vars)
    }
}

/// The variables a `templatefile()` call passes, as a scope.
pub fn template_scope(vars: Option<&Value>) -> Scope {
    let mut scope = Scope::default();
    if let Some(Value::Map(m)) = vars {
        for (k, v) in m {
            scope = scope.with(k, v.clone());
        }
    }
    scope
}

fn string_arg(args: &[Value], i: usize) -> Option<Str> {
    args.get(i)?.to_str()
}

fn known_arg(args: &[Value], i: usize) -> Option<String> {
    string_arg(args, i)?.as_known().map(str::to_string)
}

/// What a function call costs beyond evaluating its arguments.
#[derive(Default)]
struct Cost {
    /// Bytes it writes, when counted before the call; 0 to count its result after.
    bytes: u64,
    /// Comparisons or elements it goes through.
    steps: u64,
}

/// The cost of a call, from its arguments; `None` when the call would be absurdly large
/// whatever the budget (an index past what memory holds).
fn cost_estimate(name: &str, args: &[Value]) -> Option<Cost> {
    use super::budget::{str_weight, weight};
    let len_of = |i: usize| match args.get(i) {
        Some(Value::List(l)) => l.len() as u64,
        Some(Value::Map(m)) => m.len() as u64,
        _ => 0,
    };
    let str_len = |i: usize| args.get(i).and_then(Value::as_str).map_or(0, str_weight);
    let all: u64 = args.iter().map(weight).sum();
    Some(match name {
        // each occurrence of `from` becomes `to`
        "replace" => {
            let text = args.first().and_then(Value::as_known_str).unwrap_or("");
            let from = args.get(1).and_then(Value::as_known_str).unwrap_or("");
            let hits = match from.is_empty() {
                true => 0,
                false => text.matches(from).count() as u64,
            };
            Cost {
                bytes: str_len(0) + hits.saturating_mul(str_len(2)) + 1,
                steps: str_len(0),
            }
        }
        // the separator between every two items
        "join" => {
            let items: u64 = (1..args.len()).map(len_of).sum();
            Cost {
                bytes: all + items.saturating_mul(str_len(0)) + 1,
                steps: items,
            }
        }
        // each verb may write any argument
        "format" => {
            let verbs = args
                .first()
                .and_then(Value::as_known_str)
                .map_or(0, |f| f.matches('%').count() as u64);
            Cost {
                bytes: all.saturating_mul(verbs.max(1)) + 1,
                steps: verbs,
            }
        }
        // quoting, and YAML's indentation of every line at every depth
        "jsonencode" => Cost {
            bytes: all.saturating_mul(6) + 1,
            steps: all / 64,
        },
        "yamlencode" => Cost {
            bytes: all.saturating_mul(6) + yaml_indent_bytes(args.first()?) + 1,
            steps: all / 64,
        },
        // one piece per separator
        "split" => {
            let sep = args.first().and_then(Value::as_known_str).unwrap_or("");
            let text = args.get(1).and_then(Value::as_known_str).unwrap_or("");
            let pieces = match sep.is_empty() {
                true => 1,
                false => text.matches(sep).count() as u64 + 1,
            };
            Cost {
                bytes: pieces.saturating_mul(weight(&Value::Null) + 64) + str_len(1),
                steps: pieces,
            }
        }
        // as many elements as fit between start and end (at most what `range` makes)
        "range" => {
            let n = |i: usize| match args.get(i) {
                Some(Value::Number(n)) => *n,
                _ => 0.0,
            };
            let (start, end, step) = match args.len() {
                1 => (0.0, n(0), 1.0),
                2 => (n(0), n(1), 1.0),
                _ => (n(0), n(1), n(2)),
            };
            let count = ((end - start) / step).ceil();
            let count = match count.is_finite() && count > 0.0 {
                true => count.min(10_001.0) as u64,
                false => 0,
            };
            Cost {
                bytes: (count + 1) * weight(&Value::Null),
                steps: count,
            }
        }
        // each element against those kept, or hashed
        "distinct" | "toset" => Cost {
            bytes: 0,
            steps: len_of(0),
        },
        "contains" => Cost {
            bytes: 0,
            steps: len_of(0),
        },
        "flatten" | "concat" => Cost {
            bytes: 0,
            steps: all / 64,
        },
        _ => Cost::default(),
    })
}

/// The spaces `yamlencode` indents a value's lines with: depth × lines.
fn yaml_indent_bytes(v: &Value) -> u64 {
    fn walk(v: &Value, depth: u64) -> u64 {
        match v {
            Value::List(l) => l.iter().map(|i| 2 * depth + 2 + walk(i, depth + 1)).sum(),
            Value::Map(m) => m.values().map(|i| 2 * depth + 2 + walk(i, depth + 1)).sum(),
            _ => 0,
        }
    }
    Some(walk(v, 0))
        .filter(|n| *n < u64::MAX)
        .unwrap_or(u64::MAX)
}

/// Functions that only depend on their arguments. `None` means unknown.
fn call_pure(name: &str, args: &[Value]) -> Option<Value> {
    let s = |i| string_arg(args, i);
    let k = |i| known_arg(args, i);
    Some(match name {
        "replace" => {
            let (from, to) = (k(1)?, k(2)?);
            if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                return None; // a regular expression
            }
            Value::String(s(0)?.replace_literal(&from, &to)?)
        }
        "trimprefix" => {
            let (v, p) = (s(0)?, k(1)?);
            match v.starts_with(&p) {
                super::value::Tri::Yes => Value::String(v.strip_prefix(&p)?),
                super::value::Tri::No => Value::String(v),
                super::value::Tri::Unknown => return None,
            }
        }
        "trimsuffix" => {
            let (v, p) = (s(0)?, k(1)?);
            match v.ends_with(&p) {
                super::value::Tri::Yes => Value::String(v.strip_suffix(&p)?),
                super::value::Tri::No => Value::String(v),
                super::value::Tri::Unknown => return None,
            }
        }
        "trimspace" => Value::str(k(0)?.trim()),
        "lower" => Value::str(k(0)?.to_lowercase()),
        "upper" => Value::str(k(0)?.to_uppercase()),
        "tostring" => match args.first()? {
            Value::Null => Value::Null,
            v => Value::String(v.to_str()?),
        },
        "tonumber" => Value::Number(k(0)?.trim().parse().ok()?),
        "tolist" | "toset" => {
            let mut l = args.first()?.as_list()?.to_vec();
            if name == "toset" {
                dedup_values(&mut l);
            }
            Value::List(l)
        }
        "tomap" => match args.first()? {
            Value::Map(m) => Value::Map(m.clone()),
            _ => return None,
        },
        "format" => Value::String(format(&k(0)?, &args[1..])?),
        "join" => {
            let sep = k(0)?;
            let mut out = Str::default();
            let mut first = true;
            for list in &args[1..] {
                for item in list.as_list()? {
                    if !first {
                        out.push_str(&sep);
                    }
                    first = false;
                    out.append(&item.to_str()?);
                }
            }
            Value::String(out)
        }
        "split" => {
            let sep = k(0)?;
            if sep.is_empty() {
                return None;
            }
            Value::List(
                s(1)?
                    .split_literal(&sep)?
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            )
        }
        "element" => {
            let list = args.first()?.as_list()?;
            let Value::Number(i) = args.get(1)? else {
                return None;
            };
            // Terraform refuses a negative or fractional index and an empty list.
            if list.is_empty() || !(*i >= 0.0 && i.fract() == 0.0) {
                return None;
            }
            list[(*i as usize) % list.len()].clone()
        }
        "concat" => {
            let mut out = Vec::new();
            for l in args {
                out.extend(l.as_list()?.iter().cloned());
            }
            Value::List(out)
        }
        "flatten" => Value::List(flatten(args.first()?)?),
        "distinct" => {
            let mut l = args.first()?.as_list()?.to_vec();
            dedup_values(&mut l);
            Value::List(l)
        }
        "compact" => Value::List(
            args.first()?
                .as_list()?
                .iter()
                .filter(|v| !matches!(v, Value::Null) && v.as_known_str() != Some(""))
                .cloned()
                .collect(),
        ),
        "length" => Value::Number(match args.first()? {
            Value::List(l) => l.len() as f64,
            Value::Map(m) => m.len() as f64,
            Value::String(s) => s.as_known()?.chars().count() as f64,
            _ => return None,
        }),
        "keys" => match args.first()? {
            Value::Map(m) => Value::List(m.keys().map(|k| Value::str(k.clone())).collect()),
            _ => return None,
        },
        "values" => match args.first()? {
            Value::Map(m) => Value::List(m.values().cloned().collect()),
            _ => return None,
        },
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                match a {
                    Value::Map(m) => out.extend(m.clone()),
                    Value::Null => {}
                    _ => return None,
                }
            }
            Value::Map(out)
        }
        "lookup" => {
            let key = k(1)?;
            match args.first()? {
                Value::Map(m) => match m.get(&key) {
                    Some(v) => v.clone(),
                    None => args.get(2)?.clone(),
                },
                _ => return None,
            }
        }
        "contains" => {
            let list = args.first()?.as_list()?;
            let needle = args.get(1)?;
            let mut unknown = false;
            for item in list {
                match super::expr::values_equal(item, needle) {
                    super::value::Tri::Yes => return Some(Value::Bool(true)),
                    super::value::Tri::Unknown => unknown = true,
                    super::value::Tri::No => {}
                }
            }
            if unknown {
                return None;
            }
            Value::Bool(false)
        }
        "coalesce" => {
            for a in args {
                match a {
                    Value::Null => continue,
                    Value::String(s) if s.as_known() == Some("") => continue,
                    Value::Unknown => return None,
                    v => return Some(v.clone()),
                }
            }
            return None;
        }
        "coalescelist" => {
            for a in args {
                match a.as_list() {
                    Some([]) => continue,
                    Some(_) => return Some(a.clone()),
                    None => return None,
                }
            }
            return None;
        }
        "basename" => Value::str(
            Path::new(&k(0)?)
                .file_name()?
                .to_string_lossy()
                .into_owned(),
        ),
        "dirname" => Value::str(Path::new(&k(0)?).parent()?.to_string_lossy().into_owned()),
        "substr" => {
            let text = k(0)?;
            let (Value::Number(off), Value::Number(len)) = (args.get(1)?, args.get(2)?) else {
                return None;
            };
            if off.is_nan() || len.is_nan() {
                return None;
            }
            let chars: Vec<char> = text.chars().collect();
            let count = chars.len() as f64;
            // A negative offset counts from the end; a length of -1 runs to the end. Both
            // are taken in floating point and clamped, so no size overflows.
            let start = match *off < 0.0 {
                true => (count + off.trunc()).max(0.0),
                false => off.trunc().min(count),
            };
            let end = match *len < 0.0 {
                true => count,
                false => (start + len.trunc()).min(count),
            };
            let (start, end) = (start as usize, (end as usize).max(start as usize));
            Value::str(chars[start..end].iter().collect::<String>())
        }
        "startswith" => Value::Bool(match s(0)?.starts_with(&k(1)?) {
            super::value::Tri::Yes => true,
            super::value::Tri::No => false,
            super::value::Tri::Unknown => return None,
        }),
        "endswith" => Value::Bool(match s(0)?.ends_with(&k(1)?) {
            super::value::Tri::Yes => true,
            super::value::Tri::No => false,
            super::value::Tri::Unknown => return None,
        }),
        "jsonencode" => Value::String(json_encode(args.first()?)?),
        "yamlencode" => Value::String(yaml_encode(args.first()?)?),
        "range" => {
            let nums: Vec<f64> = args
                .iter()
                .map(|a| match a {
                    Value::Number(n) => Some(*n),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, 1.0),
                [s, e, st] => (*s, *e, *st),
                _ => return None,
            };
            let count = (end - start) / step;
            if step == 0.0 || !count.is_finite() || count > 10_000.0 {
                return None;
            }
            // At magnitudes where adding the step does not move the value (1e20 + 1), the
            // loop would never end: at most `count` elements, however they are spaced.
            let mut out = Vec::new();
            let mut x = start;
            while ((step > 0.0 && x < end) || (step < 0.0 && x > end)) && out.len() <= 10_000 {
                out.push(Value::Number(x));
                x += step;
            }
            if out.len() > 10_000 {
                return None;
            }
            Value::List(out)
        }
        _ => return None,
    })
}

/// Keep the first of equal values, in order. Strings, numbers and booleans are compared by
/// hashing (a `split()` of a megabyte has a million of them); lists and maps by comparison
/// with those kept, and there are few of them.
fn dedup_values(l: &mut Vec<Value>) {
    use foldhash::{HashSet, HashSetExt};
    #[derive(PartialEq, Eq, Hash)]
    enum Key<'v> {
        Null,
        Bool(bool),
        Number(u64),
        String(&'v [super::value::Part]),
    }
    fn key(v: &Value) -> Option<Key<'_>> {
        Some(match v {
            Value::Null => Key::Null,
            Value::Bool(b) => Key::Bool(*b),
            // -0.0 and 0.0 are equal: one key
            Value::Number(n) if *n == 0.0 => Key::Number(0),
            Value::Number(n) if !n.is_nan() => Key::Number(n.to_bits()),
            Value::String(s) => Key::String(s.parts()),
            _ => return None,
        })
    }
    let mut keep = vec![true; l.len()];
    {
        let mut seen: HashSet<Key<'_>> = HashSet::new();
        let mut others: Vec<&Value> = Vec::new();
        for (i, v) in l.iter().enumerate() {
            keep[i] = match key(v) {
                Some(k) => seen.insert(k),
                None if others.contains(&v) => false,
                None => {
                    others.push(v);
                    true
                }
            };
        }
    }
    let mut flags = keep.into_iter();
    l.retain(|_| flags.next().unwrap_or(true));
}

fn flatten(v: &Value) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for item in v.as_list()? {
        match item {
            Value::List(_) => out.extend(flatten(item)?),
            Value::Unknown => return None,
            other => out.push(other.clone()),
        }
    }
    Some(out)
}

/// Terraform's `format` for the verbs IRSA code uses: `%s`, `%d`, `%v`, `%q`, `%%`.
fn format(spec: &str, args: &[Value]) -> Option<Str> {
    let mut out = Str::default();
    let mut next = 0;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            let mut buf = [0u8; 4];
            out.push_str(c.encode_utf8(&mut buf));
            continue;
        }
        match chars.next()? {
            '%' => out.push_str("%"),
            's' | 'v' | 'd' => {
                out.append(&args.get(next)?.to_str()?);
                next += 1;
            }
            'q' => {
                out.push_str("\"");
                out.append(&args.get(next)?.to_str()?);
                out.push_str("\"");
                next += 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// JSON text of a value; symbolic strings stay symbolic inside the text.
pub(super) fn json_encode(v: &Value) -> Option<Str> {
    let mut out = Str::default();
    write_json(v, &mut out)?;
    Some(out)
}

fn write_json(v: &Value, out: &mut Str) -> Option<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(*n)),
        Value::String(s) => {
            out.push_str("\"");
            for p in s.parts() {
                match p {
                    super::value::Part::Lit(l) => {
                        let quoted = serde_json::to_string(l).ok()?;
                        out.push_str(&quoted[1..quoted.len() - 1]);
                    }
                    super::value::Part::Sym(sym) => out.push_sym(sym.clone()),
                }
            }
            out.push_str("\"");
        }
        Value::List(l) => {
            out.push_str("[");
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(",");
                }
                write_json(item, out)?;
            }
            out.push_str("]");
        }
        Value::Map(m) => {
            out.push_str("{");
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(",");
                }
                out.push_str(&serde_json::to_string(k).ok()?);
                out.push_str(":");
                write_json(item, out)?;
            }
            out.push_str("}");
        }
        Value::Unknown => return None,
    }
    Some(())
}

/// YAML text of a value (block style, strings always quoted as JSON, which YAML accepts).
fn yaml_encode(v: &Value) -> Option<Str> {
    let mut out = Str::default();
    write_yaml(v, 0, &mut out)?;
    Some(out)
}

fn write_yaml(v: &Value, indent: usize, out: &mut Str) -> Option<()> {
    let pad = " ".repeat(indent);
    match v {
        Value::Map(m) if !m.is_empty() => {
            for (k, item) in m {
                out.push_str(&format!("{pad}{}:", serde_json::to_string(k).ok()?));
                write_yaml_child(item, indent, out)?;
            }
        }
        Value::List(l) if !l.is_empty() => {
            for item in l {
                out.push_str(&format!("{pad}-"));
                write_yaml_child(item, indent, out)?;
            }
        }
        scalar => {
            out.push_str(&pad);
            write_json(scalar, out)?;
            out.push_str("\n");
        }
    }
    Some(())
}

fn write_yaml_child(item: &Value, indent: usize, out: &mut Str) -> Option<()> {
    match item {
        Value::Map(m) if !m.is_empty() => {
            out.push_str("\n");
            write_yaml(item, indent + 2, out)
        }
        Value::List(l) if !l.is_empty() => {
            out.push_str("\n");
            write_yaml(item, indent + 2, out)
        }
        scalar => {
            out.push_str(" ");
            write_json(scalar, out)?;
            out.push_str("\n");
            Some(())
        }
    }
}
