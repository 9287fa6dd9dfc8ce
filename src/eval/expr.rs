//! Expression evaluation: literals, templates, references, operators, `for` and splats.

use std::collections::BTreeMap;

use hcl_edit::Span as _;
use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Directive, Element, Template};

use super::module::{EvalResult, Fail, Module, Scope};
use super::value::{Str, Symbol, Tri, Value};

impl<'a> Module<'a> {
    /// Evaluate an expression. Unknown is a value; `Err(Fail)` is a provable error.
    pub fn eval(&self, expr: &Expression, scope: &Scope) -> EvalResult {
        if !self.step_at(expr.span()) {
            return Ok(Value::Unknown);
        }
        let Some(_nested) = self.enter(expr.span()) else {
            return Ok(Value::Unknown);
        };
        self.eval_nested(expr, scope)
    }

    fn eval_nested(&self, expr: &Expression, scope: &Scope) -> EvalResult {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(n
                .value()
                .as_f64()
                .map(Value::Number)
                .unwrap_or(Value::Unknown)),
            Expression::String(s) => {
                if !self.charge_bytes(s.value().len() as u64) {
                    return Ok(Value::Unknown);
                }
                Ok(Value::String(
                    Str::lit(s.value().as_str()).with_origin(self.origin_of(s.span())),
                ))
            }
            Expression::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for e in a.iter() {
                    out.push(self.eval(e, scope)?);
                }
                Ok(Value::List(out))
            }
            Expression::Object(o) => {
                let mut out = BTreeMap::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(e) => match self
                            .eval(e, scope)?
                            .to_str()
                            .as_ref()
                            .and_then(Str::as_known)
                        {
                            Some(k) => k.to_string(),
                            None => return Ok(Value::Unknown),
                        },
                    };
                    out.insert(key, self.eval(v.expr(), scope)?);
                }
                Ok(Value::Map(out))
            }
            Expression::StringTemplate(t) => {
                let v = self.eval_template_elements(t.iter(), scope)?;
                Ok(self.written_at(v, t.span()))
            }
            Expression::HeredocTemplate(h) => {
                let v = self.heredoc_value(h, scope)?;
                Ok(self.written_at(v, h.span()))
            }
            Expression::Parenthesis(p) => self.eval(p.inner(), scope),
            Expression::Variable(v) => Ok(self.scope_variable(v.as_str(), scope)),
            Expression::Conditional(c) => match self.eval(&c.cond_expr, scope)?.truthy() {
                Some(true) => self.eval(&c.true_expr, scope),
                Some(false) => self.eval(&c.false_expr, scope),
                None => Ok(Value::Unknown),
            },
            Expression::FuncCall(f) => self.call(f, scope),
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                let v = self.traverse(&t.expr, &ops, scope)?;
                Ok(self.referenced_at(v, t.span()))
            }
            Expression::UnaryOp(u) => {
                let v = self.eval(&u.expr, scope)?;
                Ok(match (u.operator.value(), v) {
                    (UnaryOperator::Neg, Value::Number(n)) => Value::Number(-n),
                    (UnaryOperator::Not, v) => match v.truthy() {
                        Some(b) => Value::Bool(!b),
                        None => Value::Unknown,
                    },
                    _ => Value::Unknown,
                })
            }
            Expression::BinaryOp(b) => {
                let op = *b.operator.value();
                // `&&` and `||` short-circuit on a known side, as Terraform's do not, but an
                // unknown side cannot change a decided answer.
                let lhs = self.eval(&b.lhs_expr, scope)?;
                let rhs = self.eval(&b.rhs_expr, scope)?;
                Ok(binary(op, &lhs, &rhs))
            }
            Expression::ForExpr(f) => self.eval_for(f, scope),
        }
    }

    /// A string built by a template of the user's is shown where the template is written; one
    /// built inside a model keeps the origin of what was interpolated into it.
    /// A string that carries a caller's input (see [`Module::called_root`]) keeps the input's
    /// origin: that is where the value was chosen.
    fn written_at(&self, v: Value, range: Option<std::ops::Range<usize>>) -> Value {
        match (v, self.origin_of(range)) {
            (Value::String(s), Some(origin)) if !self.is_input(s.origin) => {
                Value::String(s.with_origin(Some(origin)))
            }
            (v, _) => v,
        }
    }

    /// A string read through a reference in the user's code (`module.eks.oidc_provider`,
    /// `local.issuer`) is shown where that reference is written: the outermost reference wins,
    /// so a fact a module model builds from an input points at the input the user wrote, not
    /// at the module call nor at a line the value passed through on its way.
    /// A value set by a Terragrunt unit keeps the unit's line: that is where it is written.
    fn referenced_at(&self, v: Value, range: Option<std::ops::Range<usize>>) -> Value {
        match (v, self.origin_of(range)) {
            (Value::String(s), Some(origin)) if !self.is_input(s.origin) => {
                Value::String(s.with_origin(Some(origin)))
            }
            (v, _) => v,
        }
    }

    /// The value of a bare identifier: a scope variable, or unknown.
    fn scope_variable(&self, name: &str, scope: &Scope) -> Value {
        scope
            .get(name)
            .map(|v| self.copied(v))
            .unwrap_or(Value::Unknown)
    }

    /// Key/value pairs of a collection, as `for` and `for_each` see them, each element
    /// counted as copied; `None` when the collection is not one, or a budget is spent.
    pub(super) fn items(&self, collection: &Value) -> Option<Vec<(Value, Value)>> {
        let len = match collection {
            Value::List(l) => l.len(),
            Value::Map(m) => m.len(),
            _ => return None,
        };
        if !self.charge_steps(len as u64) || !self.charge_bytes(super::budget::weight(collection)) {
            return None;
        }
        iterate(collection)
    }

    fn traverse(&self, root: &Expression, ops: &[&TraversalOperator], scope: &Scope) -> EvalResult {
        let (mut value, rest) = match root {
            Expression::Variable(v) if scope.get(v.as_str()).is_none() => {
                self.reference(v.as_str(), ops, scope)?
            }
            other => (self.eval(other, scope)?, ops),
        };
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                TraversalOperator::GetAttr(name) => value = get_attr(&value, name.as_str())?,
                TraversalOperator::Index(e) => {
                    let key = self.eval(e, scope)?;
                    value = index(&value, &key)?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    value = index(&value, &Value::Number(*n.value() as f64))?;
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let items = match value {
                        Value::List(l) => l,
                        Value::Unknown => return Ok(Value::Unknown),
                        Value::Null => Vec::new(),
                        single => vec![single],
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.apply_ops(item, &rest[i + 1..], scope)?);
                    }
                    return Ok(Value::List(out));
                }
            }
            i += 1;
        }
        Ok(value)
    }

    fn apply_ops(&self, mut value: Value, ops: &[&TraversalOperator], scope: &Scope) -> EvalResult {
        for op in ops {
            value = match op {
                TraversalOperator::GetAttr(name) => get_attr(&value, name.as_str())?,
                TraversalOperator::Index(e) => index(&value, &self.eval(e, scope)?)?,
                TraversalOperator::LegacyIndex(n) => {
                    index(&value, &Value::Number(*n.value() as f64))?
                }
                _ => return Ok(Value::Unknown),
            };
        }
        Ok(value)
    }

    /// A reference rooted at a Terraform namespace (`var`, `local`, `data`, a resource type).
    /// Returns the value and the operators left to apply.
    fn reference<'o>(
        &self,
        root: &str,
        ops: &'o [&'o TraversalOperator],
        scope: &Scope,
    ) -> Result<(Value, &'o [&'o TraversalOperator]), Fail> {
        let attr = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
            _ => None,
        };
        match root {
            "var" => match attr(0) {
                Some(name) => Ok((self.variable(name)?, &ops[1..])),
                None => Ok((Value::Unknown, &[])),
            },
            "local" => match attr(0) {
                Some(name) => Ok((self.local(name)?, &ops[1..])),
                None => Ok((Value::Unknown, &[])),
            },
            "path" => Ok((Value::str("."), &ops[ops.len().min(1)..])),
            "data" => match (attr(0), attr(1)) {
                (Some(kind), Some(name)) => match self.data_source(kind, name) {
                    Some(res) => {
                        let (v, used) = self.resource_reference(res, &ops[2..], scope)?;
                        Ok((v, &ops[2 + used..]))
                    }
                    None => Ok((Value::Unknown, &[])),
                },
                _ => Ok((Value::Unknown, &[])),
            },
            "module" => match attr(0) {
                Some(name) => self.module_reference(name, &ops[1..], scope),
                None => Ok((Value::Unknown, &[])),
            },
            kind => match attr(0).and_then(|name| self.resource(kind, name)) {
                // a root the host adds (`include`): the operators apply to its value
                None if let Some(value) = self.host_root(kind) => Ok((value, ops)),
                Some(res) => {
                    let (v, used) = self.resource_reference(res, &ops[1..], scope)?;
                    Ok((v, &ops[1 + used..]))
                }
                // module outputs, `terraform.workspace`, resources declared elsewhere
                None => Ok((Value::Unknown, &[])),
            },
        }
    }

    /// `module.NAME[...].OUTPUT`: the output of the child instance, or unknown when the call
    /// cannot be followed.
    fn module_reference<'o>(
        &self,
        name: &str,
        ops: &'o [&'o TraversalOperator],
        scope: &Scope,
    ) -> Result<(Value, &'o [&'o TraversalOperator]), Fail> {
        let Some(instances) = self.module_instances(name) else {
            return Ok((Value::Unknown, &[]));
        };
        let single = matches!(
            instances.as_slice(),
            [(super::module::InstanceKey::Single, _)]
        );
        let (child, rest) = if single {
            (instances[0].1.clone(), ops)
        } else {
            match ops.first() {
                Some(TraversalOperator::Index(i)) => {
                    let key = self.eval(i, scope)?;
                    let found = instances.iter().find(|(k, _)| match (k, &key) {
                        (super::module::InstanceKey::Index(n), Value::Number(x)) => *n as f64 == *x,
                        (super::module::InstanceKey::Key(k), v) => {
                            v.as_known_str() == Some(k.as_str())
                        }
                        _ => false,
                    });
                    match found {
                        Some((_, m)) => (m.clone(), &ops[1..]),
                        None if key.is_unknown() => return Ok((Value::Unknown, &[])),
                        None => return Err(Fail),
                    }
                }
                _ => return Ok((Value::Unknown, &[])),
            }
        };
        match rest.first() {
            Some(TraversalOperator::GetAttr(out)) => Ok((child.output(out.as_str())?, &rest[1..])),
            _ => Ok((child.outputs()?, rest)),
        }
    }

    /// Evaluate a template (a `templatefile()` body, a heredoc) to a string.
    pub fn eval_template(&self, t: &Template, scope: &Scope) -> EvalResult {
        self.eval_template_elements(t.iter(), scope)
    }

    fn eval_template_elements<'e>(
        &self,
        elements: impl Iterator<Item = &'e Element>,
        scope: &Scope,
    ) -> EvalResult {
        let mut out = Str::default();
        for e in elements {
            let piece = match e {
                Element::Literal(l) => Str::lit(l.value().as_str()),
                Element::Interpolation(i) => self
                    .eval(&i.expr, scope)?
                    .to_str()
                    .unwrap_or_else(|| Str::sym(Symbol::Unknown)),
                Element::Directive(d) => match self.eval_directive(d, scope)? {
                    Value::String(s) => s,
                    _ => Str::sym(Symbol::Unknown),
                },
            };
            // What the template writes is counted before it is written: doubling a string
            // through locals ends at the budget, not in an allocation failure.
            if !self.charge_bytes(super::budget::str_weight(&piece)) {
                return Ok(Value::Unknown);
            }
            out.append(&piece);
        }
        Ok(Value::String(out))
    }

    fn eval_directive(&self, d: &Directive, scope: &Scope) -> EvalResult {
        match d {
            Directive::If(i) => match self.eval(&i.if_expr.cond_expr, scope)?.truthy() {
                Some(true) => self.eval_template(&i.if_expr.template, scope),
                Some(false) => match &i.else_expr {
                    Some(e) => self.eval_template(&e.template, scope),
                    None => Ok(Value::str("")),
                },
                None => Ok(Value::Unknown),
            },
            Directive::For(f) => {
                let fe = &f.for_expr;
                let collection = self.eval(&fe.collection_expr, scope)?;
                let mut out = Str::default();
                // Not a collection: nothing to repeat (as before); unknown, or past the
                // budget: unknown.
                let items = match &collection {
                    Value::List(_) | Value::Map(_) => match self.items(&collection) {
                        Some(items) => items,
                        None => return Ok(Value::Unknown),
                    },
                    Value::Unknown => return Ok(Value::Unknown),
                    _ => Vec::new(),
                };
                for (k, v) in items {
                    let mut s = scope.with(fe.value_var.as_str(), v);
                    if let Some(kv) = &fe.key_var {
                        s = s.with(kv.as_str(), k);
                    }
                    match self.eval_template(&fe.template, &s)? {
                        Value::String(t) if self.charge_bytes(super::budget::str_weight(&t)) => {
                            out.append(&t)
                        }
                        _ => return Ok(Value::Unknown),
                    }
                }
                Ok(Value::String(out))
            }
        }
    }

    fn eval_for(&self, f: &ForExpr, scope: &Scope) -> EvalResult {
        let collection = self.eval(&f.intro.collection_expr, scope)?;
        let Some(items) = self.items(&collection) else {
            return Ok(Value::Unknown);
        };
        if f.grouping {
            return Ok(Value::Unknown);
        }
        let mut list = Vec::new();
        let mut map = BTreeMap::new();
        for (k, v) in items {
            let mut s = scope.with(f.intro.value_var.as_str(), v);
            if let Some(kv) = &f.intro.key_var {
                s = s.with(kv.as_str(), k);
            }
            if let Some(cond) = &f.cond {
                match self.eval(&cond.expr, &s)?.truthy() {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return Ok(Value::Unknown),
                }
            }
            let value = self.eval(&f.value_expr, &s)?;
            match &f.key_expr {
                Some(ke) => match self.eval(ke, &s)?.to_str().as_ref().and_then(Str::as_known) {
                    Some(key) => {
                        map.insert(key.to_string(), value);
                    }
                    None => return Ok(Value::Unknown),
                },
                None => list.push(value),
            }
        }
        Ok(if f.key_expr.is_some() {
            Value::Map(map)
        } else {
            Value::List(list)
        })
    }
}

/// Key/value pairs of a collection, as `for` and `for_each` see them.
pub(super) fn iterate(collection: &Value) -> Option<Vec<(Value, Value)>> {
    match collection {
        Value::List(l) => Some(
            l.iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v.clone()))
                .collect(),
        ),
        Value::Map(m) => Some(
            m.iter()
                .map(|(k, v)| (Value::str(k.clone()), v.clone()))
                .collect(),
        ),
        _ => None,
    }
}

fn get_attr(value: &Value, name: &str) -> EvalResult {
    match value {
        Value::Map(m) => match m.get(name) {
            Some(v) => Ok(v.clone()),
            None if value.has_unknown() => Ok(Value::Unknown),
            None => Err(Fail),
        },
        Value::Unknown => Ok(Value::Unknown),
        _ => Err(Fail),
    }
}

fn index(value: &Value, key: &Value) -> EvalResult {
    match (value, key) {
        (Value::Unknown, _) | (_, Value::Unknown) => Ok(Value::Unknown),
        (Value::List(l), k) => {
            let i = match k {
                Value::Number(n) => *n,
                other => match other.as_known_str().and_then(|s| s.parse::<f64>().ok()) {
                    Some(n) => n,
                    None => return Ok(Value::Unknown),
                },
            };
            if i < 0.0 {
                return Err(Fail);
            }
            l.get(i as usize).cloned().ok_or(Fail)
        }
        (Value::Map(m), k) => match k.to_str().as_ref().and_then(Str::as_known) {
            Some(k) => match m.get(k) {
                Some(v) => Ok(v.clone()),
                None if value.has_unknown() => Ok(Value::Unknown),
                None => Err(Fail),
            },
            None => Ok(Value::Unknown),
        },
        _ => Err(Fail),
    }
}

fn binary(op: BinaryOperator, lhs: &Value, rhs: &Value) -> Value {
    use BinaryOperator::*;
    match op {
        Eq | NotEq => {
            let eq = values_equal(lhs, rhs);
            match (op, eq) {
                (_, Tri::Unknown) => Value::Unknown,
                (Eq, t) => Value::Bool(t == Tri::Yes),
                (_, t) => Value::Bool(t == Tri::No),
            }
        }
        And | Or => match (lhs.truthy(), rhs.truthy()) {
            (Some(a), Some(b)) => Value::Bool(if op == And { a && b } else { a || b }),
            (Some(false), None) | (None, Some(false)) if op == And => Value::Bool(false),
            (Some(true), None) | (None, Some(true)) if op == Or => Value::Bool(true),
            _ => Value::Unknown,
        },
        _ => {
            let (Some(a), Some(b)) = (number(lhs), number(rhs)) else {
                return Value::Unknown;
            };
            match op {
                Plus => Value::Number(a + b),
                Minus => Value::Number(a - b),
                Mul => Value::Number(a * b),
                Div if b != 0.0 => Value::Number(a / b),
                Mod if b != 0.0 => Value::Number(a % b),
                Less => Value::Bool(a < b),
                LessEq => Value::Bool(a <= b),
                Greater => Value::Bool(a > b),
                GreaterEq => Value::Bool(a >= b),
                _ => Value::Unknown,
            }
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::String(s) => s.as_known()?.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn values_equal(a: &Value, b: &Value) -> Tri {
    match (a, b) {
        (Value::Unknown, _) | (_, Value::Unknown) => Tri::Unknown,
        (Value::String(x), Value::String(y)) => x.equals(y),
        (Value::Null, Value::Null) => Tri::Yes,
        (Value::Bool(x), Value::Bool(y)) => Tri::from_bool(x == y),
        (Value::Number(x), Value::Number(y)) => Tri::from_bool(x == y),
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Tri::No;
            }
            all_equal(x.iter().zip(y))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.len() != y.len() || x.keys().ne(y.keys()) {
                return Tri::No;
            }
            all_equal(x.values().zip(y.values()))
        }
        _ => Tri::No,
    }
}

fn all_equal<'v>(pairs: impl Iterator<Item = (&'v Value, &'v Value)>) -> Tri {
    let mut result = Tri::Yes;
    for (x, y) in pairs {
        match values_equal(x, y) {
            Tri::No => return Tri::No,
            Tri::Unknown => result = Tri::Unknown,
            Tri::Yes => {}
        }
    }
    result
}
