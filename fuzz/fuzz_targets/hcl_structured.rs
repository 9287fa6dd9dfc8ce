//! The evaluator, from structure rather than bytes: the input decodes (with `arbitrary`) into
//! a module of locals, module calls and resources whose expressions call the Terraform
//! functions irsa-lint knows, nest templates and `for`s, and name each other, so that the
//! fuzzer spends its time on evaluation (budgets, cycles, amplification, magnitudes) rather
//! than on text that does not parse. The module is written out as HCL and linted from disk
//! beside a manifest, as a user's tree would be.
#![no_main]

use std::fmt::Write as _;

use arbitrary::Arbitrary;
use irsa_lint::engine::{Settings, lint};
use libfuzzer_sys::fuzz_target;

/// The functions irsa-lint evaluates, and two it does not (unknown).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Func {
    Replace,
    Join,
    Split,
    Format,
    Substr,
    Range,
    Distinct,
    Concat,
    Flatten,
    Element,
    Length,
    Jsonencode,
    Yamlencode,
    Merge,
    Lookup,
    Toset,
    Tonumber,
    Coalesce,
    Try,
    File,
    Templatefile,
    Regex,
    Timestamp,
}

impl Func {
    fn name(self) -> &'static str {
        match self {
            Func::Replace => "replace",
            Func::Join => "join",
            Func::Split => "split",
            Func::Format => "format",
            Func::Substr => "substr",
            Func::Range => "range",
            Func::Distinct => "distinct",
            Func::Concat => "concat",
            Func::Flatten => "flatten",
            Func::Element => "element",
            Func::Length => "length",
            Func::Jsonencode => "jsonencode",
            Func::Yamlencode => "yamlencode",
            Func::Merge => "merge",
            Func::Lookup => "lookup",
            Func::Toset => "toset",
            Func::Tonumber => "tonumber",
            Func::Coalesce => "coalesce",
            Func::Try => "try",
            Func::File => "file",
            Func::Templatefile => "templatefile",
            Func::Regex => "regex",
            Func::Timestamp => "timestamp",
        }
    }
}

/// Numbers at the magnitudes that break naive code.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Number {
    Small(u8),
    Negative(u8),
    Huge,
    Unmoving,
    MaxU64,
    Fraction,
}

#[derive(Arbitrary, Debug)]
enum Expr {
    Number(Number),
    Str(String),
    Bool(bool),
    Null,
    Local(u8),
    Var(u8),
    Each,
    ModuleOutput(u8),
    ResourceAttr(u8),
    Call(Func, Vec<Expr>),
    Template(Vec<Expr>),
    TemplateFor(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    For(Box<Expr>, Box<Expr>),
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
}

/// Where a module call points: itself, its parent, a sibling, or the registry.
#[derive(Arbitrary, Debug)]
enum Source {
    Itself,
    ItselfDot,
    Sibling,
    Parent,
    Registry,
}

#[derive(Arbitrary, Debug)]
struct Tree {
    locals: Vec<Expr>,
    roles: Vec<(Option<Expr>, Expr)>,
    calls: Vec<(Source, Vec<Expr>)>,
    sibling_locals: Vec<Expr>,
    file_text: String,
}

/// A quoted HCL string of arbitrary text: escapes and template markers kept literal.
fn quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars().take(64) {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_expr(e: &Expr, depth: usize, out: &mut String) {
    if depth > 12 {
        out.push_str("null");
        return;
    }
    let d = depth + 1;
    match e {
        Expr::Number(n) => out.push_str(&match n {
            Number::Small(n) => n.to_string(),
            Number::Negative(n) => format!("-{n}"),
            Number::Huge => "1e300".to_string(),
            Number::Unmoving => "1e17".to_string(),
            Number::MaxU64 => "18446744073709551615".to_string(),
            Number::Fraction => "0.5".to_string(),
        }),
        Expr::Str(s) => quoted(s, out),
        Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Null => out.push_str("null"),
        Expr::Local(i) => {
            let _ = write!(out, "local.l{}", i % 16);
        }
        Expr::Var(i) => {
            let _ = write!(out, "var.v{}", i % 4);
        }
        Expr::Each => out.push_str("each.value"),
        Expr::ModuleOutput(i) => {
            let _ = write!(out, "module.m{}.out", i % 4);
        }
        Expr::ResourceAttr(i) => {
            let _ = write!(out, "aws_iam_role.r{}.arn", i % 4);
        }
        Expr::Call(f, args) => {
            out.push_str(f.name());
            out.push('(');
            for (i, a) in args.iter().take(4).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match (f, i, a) {
                    (Func::File | Func::Templatefile, 0, _) => {
                        out.push_str("\"${path.module}/data.txt\"")
                    }
                    _ => write_expr(a, d, out),
                }
            }
            out.push(')');
        }
        Expr::Template(parts) => {
            out.push('"');
            for p in parts.iter().take(4) {
                out.push_str("${");
                write_expr(p, d, out);
                out.push('}');
            }
            out.push('"');
        }
        Expr::TemplateFor(collection, body) => {
            out.push_str("\"%{ for x in ");
            write_expr(collection, d, out);
            out.push_str(" }${");
            write_expr(body, d, out);
            out.push_str("}%{ endfor }\"");
        }
        Expr::List(items) => {
            out.push('[');
            for (i, item) in items.iter().take(6).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(item, d, out);
            }
            out.push(']');
        }
        Expr::Object(entries) => {
            out.push('{');
            for (k, v) in entries.iter().take(6) {
                out.push('\n');
                quoted(k, out);
                out.push_str(" = ");
                write_expr(v, d, out);
            }
            out.push_str("\n}");
        }
        Expr::For(collection, body) => {
            out.push_str("[for x in ");
            write_expr(collection, d, out);
            out.push_str(" : ");
            write_expr(body, d, out);
            out.push(']');
        }
        Expr::Conditional(c, a, b) => {
            out.push('(');
            write_expr(c, d, out);
            out.push_str(" ? ");
            write_expr(a, d, out);
            out.push_str(" : ");
            write_expr(b, d, out);
            out.push(')');
        }
        Expr::Index(v, i) => {
            out.push('(');
            write_expr(v, d, out);
            out.push_str(")[");
            write_expr(i, d, out);
            out.push(']');
        }
        Expr::Add(a, b) => {
            out.push('(');
            write_expr(a, d, out);
            out.push_str(" + ");
            write_expr(b, d, out);
            out.push(')');
        }
    }
}

fn locals_block(locals: &[Expr], out: &mut String) {
    out.push_str("locals {\n");
    for (i, e) in locals.iter().take(16).enumerate() {
        let _ = write!(out, "  l{i} = ");
        write_expr(e, 0, out);
        out.push('\n');
    }
    out.push_str("}\n");
}

fn main_tf(tree: &Tree) -> String {
    let mut out = String::new();
    for v in 0..4 {
        let _ = writeln!(out, "variable \"v{v}\" {{\n  default = {v}\n}}");
    }
    locals_block(&tree.locals, &mut out);
    for (i, (for_each, name)) in tree.roles.iter().take(4).enumerate() {
        let _ = writeln!(out, "resource \"aws_iam_role\" \"r{i}\" {{");
        if let Some(for_each) = for_each {
            out.push_str("  for_each = ");
            write_expr(for_each, 0, &mut out);
            out.push('\n');
        }
        out.push_str("  name = ");
        write_expr(name, 0, &mut out);
        out.push_str("\n  assume_role_policy = jsonencode({ Statement = [{ Action = \"sts:AssumeRoleWithWebIdentity\", Condition = { StringEquals = { \"oidc.eks.eu-west-1.amazonaws.com/id/X:sub\" = local.l0 } } }] })\n}\n");
    }
    for (i, (source, inputs)) in tree.calls.iter().take(4).enumerate() {
        let source = match source {
            Source::Itself => "./",
            Source::ItselfDot => "./.",
            Source::Sibling => "../sibling",
            Source::Parent => "../infra",
            Source::Registry => "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks",
        };
        let _ = writeln!(out, "module \"m{i}\" {{\n  source = \"{source}\"");
        for (j, input) in inputs.iter().take(4).enumerate() {
            let _ = write!(out, "  v{j} = ");
            write_expr(input, 0, &mut out);
            out.push('\n');
        }
        out.push_str("}\n");
    }
    out
}

const WITNESS: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: pay\n  annotations:\n    eks.amazonaws.com/role-arm: arn:aws:iam::482910375521:role/ledger-api\n";

fuzz_target!(|tree: Tree| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        let _ = std::fs::create_dir_all(path.parent().unwrap());
        let _ = std::fs::write(path, text);
    };
    write("infra/main.tf", &main_tf(&tree));
    write("infra/data.txt", &tree.file_text);
    let mut sibling = String::new();
    locals_block(&tree.sibling_locals, &mut sibling);
    sibling.push_str("module \"back\" {\n  source = \"../infra\"\n}\noutput \"out\" {\n  value = local.l0\n}\n");
    write("sibling/main.tf", &sibling);
    write("k8s/sa.yaml", WITNESS);
    let settings = Settings {
        paths: vec![dir.path().to_path_buf()],
        ..Settings::default()
    };
    let report = lint(&settings).expect("a tree on disk is linted");
    // The witness beside whatever was generated is always reported.
    assert!(
        report.diagnostics.iter().any(|d| d.rule_id == "IRSA013"),
        "the manifest beside the module is still linted"
    );
});
