//! Variable type constraints, as far as they change values: `optional()` attributes of object
//! types are filled in (with their default, or null), as Terraform does when it converts a
//! variable's value to its type.

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};

use super::module::{Module, Scope};
use super::value::Value;

impl Module<'_> {
    /// Convert a variable's value to its declared type.
    pub(super) fn conform(&self, value: Value, ty: &Expression) -> Value {
        let Expression::FuncCall(call) = ty else {
            return value; // string, number, bool, any
        };
        let arg = call.args.get(0);
        match (call.name.name.as_str(), value, arg) {
            ("map", Value::Map(m), Some(t)) => Value::Map(
                m.into_iter()
                    .map(|(k, v)| (k, self.conform(v, t)))
                    .collect(),
            ),
            ("list" | "set", Value::List(l), Some(t)) => {
                Value::List(l.into_iter().map(|v| self.conform(v, t)).collect())
            }
            ("object", Value::Map(m), Some(Expression::Object(fields))) => {
                let mut out = BTreeMap::new();
                for (key, field) in fields.iter() {
                    let name = match key {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                        ObjectKey::Expression(_) => return Value::Map(m),
                    };
                    let field_ty = field.expr();
                    let value = match (m.get(&name), optional(field_ty)) {
                        (Some(v), Some((inner, _))) => self.conform(v.clone(), inner),
                        (Some(v), None) => self.conform(v.clone(), field_ty),
                        (None, Some((inner, default))) => match default {
                            Some(d) => {
                                let d = self.eval(d, &Scope::default()).unwrap_or(Value::Unknown);
                                self.conform(d, inner)
                            }
                            None => Value::Null,
                        },
                        // A required attribute that is missing: Terraform would refuse it.
                        (None, None) => Value::Unknown,
                    };
                    out.insert(name, value);
                }
                Value::Map(out)
            }
            (_, value, _) => value,
        }
    }
}

/// `optional(T)` or `optional(T, default)`.
fn optional(ty: &Expression) -> Option<(&Expression, Option<&Expression>)> {
    match ty {
        Expression::FuncCall(c) if c.name.name.as_str() == "optional" => {
            Some((c.args.get(0)?, c.args.get(1)))
        }
        _ => None,
    }
}
