//! Rendering as Terraform renders, and where each rendered byte comes from.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use super::*;
use crate::eval::FileLoader;
use crate::eval::workspace::{ModuleDir, ParsedFile, Workspace};

/// Template files by path, each with its own id after the module's file (id 1).
struct Templates(Vec<(&'static str, &'static str)>);

impl FileLoader for Templates {
    fn load(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
        let wanted = crate::eval::workspace::normalize(path);
        self.0
            .iter()
            .position(|(p, _)| Path::new("root").join(p) == wanted)
            .map(|i| (FileId(10 + i as u32), Arc::from(self.0[i].1)))
    }
}

const MAIN: FileId = FileId(1);

fn with_module<T>(hcl: &str, templates: Templates, run: impl FnOnce(&Module<'_>) -> T) -> T {
    let file = ParsedFile {
        id: MAIN,
        body: hcl_edit::parser::parse_body(hcl).expect("test HCL parses"),
        text: Arc::from(hcl),
    };
    let dir = ModuleDir {
        dir: PathBuf::from("root"),
        files: vec![file],
        is_model: false,
    };
    let ws = Workspace {
        dirs: HashMap::from_iter([(PathBuf::from("root"), dir)]),
        models: Vec::new(),
        loader: &templates,
        budget: &crate::eval::budget::Budget::default(),
    };
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
    run(&m)
}

/// The rendering of `local.<name>`.
fn render_local(hcl: &str, templates: Templates, name: &str) -> Option<Rendered> {
    with_module(hcl, templates, |m| {
        let (file, expr) = m.local_expression(name)?;
        m.render(file, expr, &Scope::default())
    })
}

fn shown(text: &str, span: Span) -> &str {
    &text[span.range()]
}

#[test]
fn an_indented_heredoc_loses_its_common_indent_and_keeps_its_structure() {
    let hcl = "locals {\n  values = <<-EOT\n    serviceAccount:\n      name: ledger\n\n      annotations:\n        team: payments\n    EOT\n}\n";
    let r = render_local(hcl, Templates(vec![]), "values").unwrap();
    assert_eq!(
        r.text(),
        "serviceAccount:\n  name: ledger\n\n  annotations:\n    team: payments\n"
    );
    let at = r.text().find("ledger").unwrap();
    let span = r.span_of(at..at + 6).unwrap();
    assert_eq!((span.file, shown(hcl, span)), (MAIN, "ledger"));
}

#[test]
fn a_line_that_starts_with_an_interpolation_keeps_every_indent() {
    // Terraform strips the least indentation of any line; a line starting with `${` has none.
    let hcl = "locals {\n  values = <<-EOT\n${local.top}\n    nested: true\n  EOT\n  top = \"replicas: 2\"\n}\n";
    let r = render_local(hcl, Templates(vec![]), "values").unwrap();
    assert_eq!(r.text(), "replicas: 2\n    nested: true\n");
}

#[test]
fn the_same_value_follows_through_a_heredoc_evaluated() {
    let hcl = "locals {\n  values = <<-EOT\n    a:\n      b: ${local.b}\n    EOT\n  b = \"c\"\n}\n";
    let value = with_module(hcl, Templates(vec![]), |m| m.local("values").unwrap());
    assert_eq!(value, Value::str("a:\n  b: c\n"));
}

#[test]
fn a_value_known_only_after_apply_is_a_hole_shown_at_its_expression() {
    let hcl = "resource \"aws_iam_role\" \"ledger\" {\n  name = \"ledger\"\n}\nlocals {\n  values = <<EOT\nrole: ${aws_iam_role.ledger.arn}\nEOT\n}\n";
    let r = render_local(hcl, Templates(vec![]), "values").unwrap();
    let scalar = r.text().strip_prefix("role: ").unwrap().trim_end();
    let value = r.scalar(scalar);
    let arn = value.as_str().unwrap();
    assert!(!arn.is_known());
    assert!(arn.display().ends_with(":role/ledger"), "{}", arn.display());
    let start = r.text().find(scalar).unwrap();
    let span = r.span_of(start..start + scalar.len()).unwrap();
    assert_eq!(shown(hcl, span), "aws_iam_role.ledger.arn");
    assert_eq!(
        r.to_str(),
        Str::lit("role: ").concat(arn).concat(&Str::lit("\n"))
    );
}

#[test]
fn an_unknown_value_is_an_unknown_scalar_never_text() {
    let hcl = "locals {\n  values = \"name: ${module.naming.name}\"\n}\n";
    let r = render_local(hcl, Templates(vec![]), "values").unwrap();
    let scalar = r.text().strip_prefix("name: ").unwrap();
    assert_eq!(r.scalar(scalar), Value::Unknown);
    assert!(!r.unknown_structure);
}

#[test]
fn a_template_file_is_rendered_with_its_variables_and_mapped_into_the_file() {
    let template = "kind: ServiceAccount\nmetadata:\n  name: ${name}\n  labels:\n    literal: \"$${NOT_A_VAR}\"\n%{ if annotate }\n  annotations:\n    team: payments\n%{ endif ~}\n";
    let hcl = "locals {\n  manifest = templatefile(\"${path.module}/sa.yaml.tftpl\", { name = \"ledger\", annotate = true })\n}\n";
    let r = render_local(
        hcl,
        Templates(vec![("sa.yaml.tftpl", template)]),
        "manifest",
    )
    .unwrap();
    assert_eq!(
        r.text(),
        "kind: ServiceAccount\nmetadata:\n  name: ledger\n  labels:\n    literal: \"${NOT_A_VAR}\"\n\n  annotations:\n    team: payments\n"
    );
    assert_eq!(r.template, Some(FileId(10)));
    assert_eq!(r.template_path.as_deref(), Some("sa.yaml.tftpl"));
    let at = r.text().find("team").unwrap();
    let span = r.span_of(at..at + 4).unwrap();
    assert_eq!((span.file, shown(template, span)), (FileId(10), "team"));
    let at = r.text().find("NOT_A_VAR").unwrap();
    assert_eq!(shown(template, r.span_of(at..at + 9).unwrap()), "NOT_A_VAR");
    let at = r.text().find("ledger").unwrap();
    assert_eq!(shown(template, r.span_of(at..at + 6).unwrap()), "name");
}

#[test]
fn an_unknown_condition_leaves_the_structure_unknown() {
    let template = "a: 1\n%{ if enabled }b: 2\n%{ endif }";
    let hcl = "locals {\n  v = templatefile(\"t.tftpl\", { enabled = var.enabled })\n}\nvariable \"enabled\" {}\n";
    let r = render_local(hcl, Templates(vec![("t.tftpl", template)]), "v").unwrap();
    assert!(r.unknown_structure);
}

#[test]
fn a_template_that_expands_without_end_stops_at_the_budget_with_a_diagnostic() {
    let template =
        "%{ for a in range(10000) }%{ for b in range(10000) }0123456789%{ endfor }%{ endfor }";
    let hcl = "locals {\n  v = templatefile(\"big.tftpl\", {})\n}\n";
    let (rendered, limits) = with_module(hcl, Templates(vec![("big.tftpl", template)]), |m| {
        let (file, expr) = m.local_expression("v").unwrap();
        (m.render(file, expr, &Scope::default()), m.limits_hit())
    });
    assert!(rendered.is_none());
    assert!(
        limits
            .iter()
            .any(|l| l.message.contains("stopped after 4 MiB")),
        "{limits:?}"
    );
}

#[test]
fn escapes_and_strip_markers_render_as_terraform_writes_them() {
    let hcl = "locals {\n  values = <<-EOT\n    args:\n      - --prefix=$${HOSTNAME}\n    %{~ for ns in [\"payments\", \"ledger\"] ~}\n      - --namespace=${ns}\n    %{~ endfor ~}\n\n    replicas: 2\n    EOT\n}\n";
    let r = render_local(hcl, Templates(vec![]), "values").unwrap();
    assert_eq!(
        r.text(),
        "args:\n  - --prefix=${HOSTNAME}- --namespace=payments- --namespace=ledgerreplicas: 2\n"
    );
    let at = r.text().find("${HOSTNAME}").unwrap();
    let span = r.span_of(at..at + "${HOSTNAME}".len()).unwrap();
    assert_eq!(shown(hcl, span), "$${HOSTNAME}");
}
