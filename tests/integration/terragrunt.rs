//! Terragrunt units on disk: a module runs through its units only, `get_repo_root()` and the
//! files units include or read stay below the scanned roots, and what a unit cannot show
//! (var files, generated code, a skipped unit) never becomes a finding.

use std::path::Path;

use irsa_lint::engine::{Report, Settings, lint};

/// A module whose role admits `system:serviceaccount:<var.namespace>:api`; its default
/// namespace is the wrong one for the ServiceAccount below.
const MODULE: &str = r#"
variable "namespace" {
  type    = string
  default = "payment"
}

variable "provider_arn" {
  type    = string
  default = "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A"
}

resource "aws_iam_role" "api" {
  name = "ledger-api"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.provider_arn }
      Condition = { StringEquals = {
        "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub" = "system:serviceaccount:${var.namespace}:api"
        "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:aud" = "sts.amazonaws.com"
      } }
    }]
  })
}
"#;

const SERVICE_ACCOUNT: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  \
                               namespace: payments\n  annotations:\n    \
                               eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/ledger-api\n";

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn lint_at(root: &Path) -> Report {
    lint(&Settings {
        paths: vec![root.to_path_buf()],
        ..Settings::default()
    })
    .unwrap()
}

fn rules(report: &Report) -> Vec<&'static str> {
    report.diagnostics.iter().map(|d| d.rule_id).collect()
}

fn unit(source: &str, inputs: &str) -> String {
    format!("terraform {{\n  source = \"{source}\"\n}}\n\ninputs = {{\n{inputs}\n}}\n")
}

#[test]
fn a_module_units_run_is_not_also_evaluated_with_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &[
            ("modules/api-role/main.tf", MODULE),
            ("k8s/sa.yaml", SERVICE_ACCOUNT),
        ],
    );
    // Alone, the module's default namespace is wrong for the ServiceAccount.
    assert!(rules(&lint_at(root)).contains(&"IRSA003"));
    let unit_file = unit("../../modules//api-role", "  namespace = \"payments\"");
    write(root, &[("live/api/terragrunt.hcl", &unit_file)]);
    assert_eq!(rules(&lint_at(root)), Vec::<&str>::new());
}

#[test]
fn get_repo_root_is_the_folder_with_git_and_never_above_the_roots() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let unit_file = unit(
        "${get_repo_root()}/modules//api-role",
        "  namespace = \"billing\"",
    );
    write(
        &repo,
        &[
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("modules/api-role/main.tf", MODULE),
            ("live/prod/api/terragrunt.hcl", &unit_file),
            ("live/k8s/sa.yaml", SERVICE_ACCOUNT),
        ],
    );
    let whole = lint_at(&repo);
    let d = whole
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "IRSA003")
        .expect("the unit's input breaks the link");
    let input = &d.related[0];
    let file = whole.sources.get(input.span.file);
    assert!(file.path.ends_with("live/prod/api/terragrunt.hcl"));
    assert_eq!(
        &file.text[input.span.start as usize..input.span.end as usize],
        "\"billing\""
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.starts_with("in Terragrunt unit") && n.ends_with("live/prod/api")),
        "{:?}",
        d.notes
    );
    // Scanning `live/` only: the repository root is above the scan, the module unknown.
    let live = lint_at(&repo.join("live"));
    assert_eq!(rules(&live), Vec::<&str>::new());
    assert!(
        !live
            .sources
            .iter()
            .any(|(_, f)| f.path.to_string_lossy().contains("modules")),
        "nothing above the scanned root is read"
    );
}

#[test]
fn included_and_read_files_are_read_below_the_roots_only() {
    let dir = tempfile::tempdir().unwrap();
    let outer = dir.path();
    // Above the scanned root: a root.hcl and an account.hcl that would break the link.
    write(
        outer,
        &[
            ("root.hcl", "inputs = {\n  namespace = \"billing\"\n}\n"),
            ("account.hcl", "locals {\n  namespace = \"billing\"\n}\n"),
        ],
    );
    let repo = outer.join("repo");
    let unit_file = "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n\n\
                     locals {\n  account = read_terragrunt_config(\"../../../account.hcl\")\n}\n\n\
                     terraform {\n  source = \"../../modules//api-role\"\n}\n\n\
                     inputs = {\n  provider_arn = local.account.locals.namespace\n}\n";
    write(
        &repo,
        &[
            ("modules/api-role/main.tf", MODULE),
            ("live/api/terragrunt.hcl", unit_file),
            ("k8s/sa.yaml", SERVICE_ACCOUNT),
        ],
    );
    let report = lint_at(&repo);
    assert_eq!(rules(&report), Vec::<&str>::new());
    assert!(
        !report
            .sources
            .iter()
            .any(|(_, f)| f.path.to_string_lossy().ends_with(".hcl")
                && !f.path.ends_with("terragrunt.hcl")),
        "root.hcl and account.hcl above the root are not read"
    );
    // The same files below the root are read, so the check above can fail.
    write(
        &repo,
        &[("root.hcl", "inputs = {\n  namespace = \"billing\"\n}\n")],
    );
    assert!(rules(&lint_at(&repo)).contains(&"IRSA003"));
}

#[test]
fn what_a_unit_does_not_show_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &[
            ("modules/api-role/main.tf", MODULE),
            ("k8s/sa.yaml", SERVICE_ACCOUNT),
        ],
    );
    let cases = [
        // A var file may set the namespace: the variables are unknown.
        "terraform {\n  source = \"../../modules//api-role\"\n  extra_arguments \"vars\" {\n    \
         commands           = [\"plan\", \"apply\"]\n    required_var_files = [\"${get_terragrunt_dir()}/prod.tfvars\"]\n  }\n}\n",
        // The namespace comes from an environment variable without a default.
        "terraform {\n  source = \"../../modules//api-role\"\n}\n\ninputs = {\n  namespace = get_env(\"NAMESPACE\")\n}\n",
        // A skipped unit is not run: the module's defaults are not deployed.
        "skip = true\n\nterraform {\n  source = \"../../modules//api-role\"\n}\n",
        // The source is chosen by the environment: the local module it may be runs with
        // every variable unknown, not with its defaults.
        "terraform {\n  source = \"${get_env(\"ENV\") == \"prod\" ? \"git::https://github.com/acme/infra.git//modules/api-role?ref=v${get_env(\"VERSION\")}\" : \"../../modules//api-role\"}\"\n}\n\ninputs = {\n  namespace = \"billing\"\n}\n",
    ];
    for case in cases {
        write(root, &[("live/api/terragrunt.hcl", case)]);
        assert_eq!(rules(&lint_at(root)), Vec::<&str>::new(), "{case}");
    }
}

#[test]
fn generated_resources_hide_roles_but_a_generated_provider_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let other_role = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: worker\n  \
                      namespace: payments\n  annotations:\n    \
                      eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/ledger-worker\n";
    write(
        root,
        &[
            ("modules/api-role/main.tf", MODULE),
            ("k8s/sa.yaml", SERVICE_ACCOUNT),
            ("k8s/worker.yaml", other_role),
        ],
    );
    let with_generate = |contents: &str| {
        format!(
            "terraform {{\n  source = \"../../modules//api-role\"\n}}\n\n\
             generate \"extra\" {{\n  path      = \"extra.tf\"\n  if_exists = \"overwrite\"\n  \
             contents  = <<EOF\n{contents}\nEOF\n}}\n\ninputs = {{\n  namespace = \"payments\"\n}}\n"
        )
    };
    let provider = with_generate("provider \"aws\" {\n  region = \"eu-west-1\"\n}");
    write(root, &[("live/api/terragrunt.hcl", &provider)]);
    assert_eq!(
        rules(&lint_at(root)),
        vec!["IRSA001"],
        "ledger-worker is nowhere"
    );
    let role =
        with_generate("resource \"aws_iam_role\" \"worker\" {\n  name = \"ledger-worker\"\n}");
    write(root, &[("live/api/terragrunt.hcl", &role)]);
    assert_eq!(rules(&lint_at(root)), Vec::<&str>::new());
    // A provider file that an included root.hcl generates, by a path relative to root.hcl
    // (its data sources create nothing).
    let provider = "data \"aws_eks_cluster\" \"this\" {\n  name = \"ledger\"\n}\n\n\
                    provider \"kubernetes\" {\n  host = data.aws_eks_cluster.this.endpoint\n}\n";
    let root_hcl = "generate \"provider\" {\n  path      = \"provider.tf\"\n  \
                    if_exists = \"overwrite\"\n  contents  = file(\"_common/provider.tf\")\n}\n";
    let included = "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n\n\
                    terraform {\n  source = \"../../modules//api-role\"\n}\n\n\
                    inputs = {\n  namespace = \"payments\"\n}\n";
    write(
        root,
        &[
            ("live/_common/provider.tf", provider),
            ("live/root.hcl", root_hcl),
            ("live/api/terragrunt.hcl", included),
        ],
    );
    assert_eq!(rules(&lint_at(root)), vec!["IRSA001"]);
}
