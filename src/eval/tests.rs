//! Evaluator behaviour as Terraform users rely on it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use super::FileLoader;
use super::module::{InstanceKey, Module};
use super::value::{Str, Symbol, Tri, Value};
use super::workspace::{ModuleDir, ParsedFile, Workspace};
use crate::source::FileId;

struct NoFiles;

impl FileLoader for NoFiles {
    fn load(&self, _path: &Path) -> Option<(FileId, Arc<str>)> {
        None
    }
}

/// A workspace of module directories, each with the given file texts.
pub(crate) fn workspace(dirs: &[(&str, &[&str])]) -> Workspace<'static> {
    let mut next = 0;
    let dirs = dirs
        .iter()
        .map(|(dir, texts)| {
            let files = texts
                .iter()
                .map(|t| {
                    next += 1;
                    ParsedFile {
                        id: FileId(next),
                        body: hcl_edit::parser::parse_body(t).expect("test HCL parses"),
                        text: Arc::from(*t),
                    }
                })
                .collect();
            let module_dir = ModuleDir {
                dir: PathBuf::from(dir),
                files,
                is_model: false,
            };
            (PathBuf::from(dir), module_dir)
        })
        .collect();
    Workspace {
        dirs,
        models: Vec::new(),
        loader: &NoFiles,
        budget: Box::leak(Box::default()),
    }
}

/// Evaluate `local.<name>` in a module made of `hcl`, with `vars` set as by tfvars.
fn local(hcl: &str, name: &str, vars: &[(&str, Value)]) -> Value {
    let ws = workspace(&[("root", &[hcl])]);
    let vars: HashMap<String, Value> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], vars);
    m.local(name).unwrap_or(Value::Unknown)
}

#[test]
fn variables_take_tfvars_over_defaults() {
    let hcl = r#"
        variable "ns" { default = "payments" }
        locals { subject = "system:serviceaccount:${var.ns}:ledger-api" }
    "#;
    assert_eq!(
        local(hcl, "subject", &[]),
        Value::str("system:serviceaccount:payments:ledger-api")
    );
    assert_eq!(
        local(hcl, "subject", &[("ns", Value::str("billing"))]),
        Value::str("system:serviceaccount:billing:ledger-api")
    );
}

#[test]
fn functions_irsa_code_uses() {
    let hcl = r#"
        locals {
          url      = "https://oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2"
          host     = replace(local.url, "https://", "")
          trimmed  = trimprefix(local.url, "https://")
          key      = format("%s:sub", local.host)
          joined   = join(",", concat(["a"], ["b", "c"]))
          second   = element(split("/", local.host), 1)
          fallback = try(local.missing_map.key, "default")
          first    = coalesce("", "payments")
          looked   = lookup({ a = "x" }, "b", "y")
          upper    = upper("ab")
          base     = basename("policies/trust.json")
          subjects = [for sa in ["api", "worker"] : "system:serviceaccount:payments:${sa}"]
          missing_map = {}
        }
    "#;
    assert_eq!(local(hcl, "host", &[]), local(hcl, "trimmed", &[]));
    assert_eq!(
        local(hcl, "key", &[]),
        Value::str("oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2:sub")
    );
    assert_eq!(local(hcl, "joined", &[]), Value::str("a,b,c"));
    assert_eq!(local(hcl, "second", &[]), Value::str("id"));
    assert_eq!(local(hcl, "fallback", &[]), Value::str("default"));
    assert_eq!(local(hcl, "first", &[]), Value::str("payments"));
    assert_eq!(local(hcl, "looked", &[]), Value::str("y"));
    assert_eq!(local(hcl, "upper", &[]), Value::str("AB"));
    assert_eq!(local(hcl, "base", &[]), Value::str("trust.json"));
    assert_eq!(
        local(hcl, "subjects", &[]),
        Value::List(vec![
            Value::str("system:serviceaccount:payments:api"),
            Value::str("system:serviceaccount:payments:worker")
        ])
    );
}

#[test]
fn issuer_reached_two_ways_is_the_same_symbol() {
    let hcl = r#"
        resource "aws_eks_cluster" "main" { name = "platform" }
        data "aws_eks_cluster" "this" { name = "platform" }
        resource "aws_iam_openid_connect_provider" "eks" {
          url = aws_eks_cluster.main.identity[0].oidc[0].issuer
        }
        locals {
          from_resource = replace(aws_eks_cluster.main.identity[0].oidc[0].issuer, "https://", "")
          from_data     = trimprefix(data.aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://")
          from_provider = aws_iam_openid_connect_provider.eks.url
          arn           = aws_iam_openid_connect_provider.eks.arn
        }
    "#;
    let issuer = Value::String(Str::sym(Symbol::Issuer("platform".into())));
    assert_eq!(local(hcl, "from_resource", &[]), issuer);
    assert_eq!(local(hcl, "from_data", &[]), issuer);
    assert_eq!(local(hcl, "from_provider", &[]), issuer);
    let arn = local(hcl, "arn", &[]);
    assert_eq!(arn.as_str().unwrap().known_suffix(), "");
    assert!(
        arn.as_str()
            .unwrap()
            .display()
            .ends_with(":oidc-provider/<issuer of cluster platform>")
    );
}

#[test]
fn module_outputs_and_unset_variables_are_unknown() {
    let hcl = r#"
        variable "account_id" {}
        locals {
          from_module = module.eks.oidc_provider_arn
          arn         = "arn:aws:iam::${var.account_id}:role/x"
        }
    "#;
    assert_eq!(local(hcl, "from_module", &[]), Value::Unknown);
    let arn = local(hcl, "arn", &[]);
    assert!(arn.as_str().unwrap().has_unknown());
    assert_eq!(
        arn.as_str()
            .unwrap()
            .equals(&Str::lit("arn:aws:iam::482910375521:role/x")),
        Tri::Unknown
    );
}

#[test]
fn locals_that_refer_to_each_other_end_as_unknown() {
    let hcl = r#"
        locals {
          a = "${local.b}-x"
          b = "${local.a}-y"
        }
    "#;
    let a = local(hcl, "a", &[]);
    assert!(a.as_str().is_none_or(|s| s.has_unknown()), "{a:?}");
}

#[test]
fn for_each_and_count_instances() {
    let hcl = r#"
        variable "services" {
          default = { api = "payments", worker = "billing" }
        }
        resource "aws_iam_role" "irsa" {
          for_each = var.services
          name     = "${each.value}-${each.key}"
        }
        resource "aws_iam_role" "optional" {
          count = var.enabled ? 1 : 0
          name  = "optional-${count.index}"
        }
        variable "enabled" { default = false }
        locals {
          api_arn = aws_iam_role.irsa["api"].arn
        }
    "#;
    let ws = workspace(&[("root", &[hcl])]);
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
    let role = m.resource("aws_iam_role", "irsa").unwrap();
    let instances = m.instances(role).unwrap();
    let keys: Vec<InstanceKey> = instances.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        keys,
        vec![
            InstanceKey::Key("api".into()),
            InstanceKey::Key("worker".into())
        ]
    );
    let name = m
        .instance_attr(role, &instances[1].0, &instances[1].1, "name")
        .unwrap();
    assert_eq!(name, Value::str("billing-worker"));
    assert_eq!(
        m.instances(m.resource("aws_iam_role", "optional").unwrap())
            .unwrap()
            .len(),
        0
    );
    let arn = m.local("api_arn").unwrap();
    assert!(
        arn.as_str()
            .unwrap()
            .display()
            .ends_with(":role/payments-api"),
        "{arn:?}"
    );
}

#[test]
fn local_module_inputs_and_outputs_flow_both_ways() {
    let root = r#"
        module "irsa" {
          for_each  = { api = "payments", worker = "billing" }
          source    = "./modules/irsa"
          namespace = each.value
          name      = "ledger-${each.key}"
        }
        locals {
          worker_subject = module.irsa["worker"].subject
          api_role       = module.irsa["api"].role_arn
        }
    "#;
    let child = r#"
        variable "namespace" { default = "default" }
        variable "name" {}
        resource "aws_iam_role" "this" { name = var.name }
        output "subject"  { value = "system:serviceaccount:${var.namespace}:${var.name}" }
        output "role_arn" { value = aws_iam_role.this.arn }
    "#;
    let ws = workspace(&[("root", &[root]), ("root/modules/irsa", &[child])]);
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
    assert_eq!(
        m.local("worker_subject").unwrap(),
        Value::str("system:serviceaccount:billing:ledger-worker")
    );
    let arn = m.local("api_role").unwrap();
    assert!(
        arn.as_str()
            .unwrap()
            .display()
            .ends_with(":role/ledger-api"),
        "{arn:?}"
    );
}

#[test]
fn a_module_that_calls_itself_ends_as_unknown() {
    let looping = r#"
        module "again" { source = "./" }
        output "x" { value = module.again.x }
        locals { x = module.again.x }
    "#;
    let ws = workspace(&[("loop", &[looping])]);
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("loop")], HashMap::new());
    assert_eq!(m.local("x").unwrap(), Value::Unknown);
}

#[test]
fn modules_that_read_each_others_outputs_do_not_loop() {
    let root = r#"
        module "a" {
          source = "./a"
          x      = [module.b.y]
        }
        module "b" {
          source = "./a"
          x      = { v = module.a.y }
        }
        locals { y = module.a.y }
    "#;
    let child = r#"
        variable "x" {}
        output "y" { value = "fixed" }
    "#;
    let ws = workspace(&[("root", &[root]), ("root/a", &[child])]);
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
    assert_eq!(m.local("y").unwrap(), Value::str("fixed"));
}

#[test]
fn a_module_read_while_its_reader_is_set_up_gets_the_readers_values_later() {
    // The eks v19 examples: the cluster maps the Karpenter node role, and Karpenter's IRSA
    // role trusts the cluster's provider. Terraform orders the resources, so both are known.
    let root = r#"
        module "cluster" {
          source    = "./cluster"
          node_role = module.karpenter.node_role
        }
        module "karpenter" {
          source   = "./karpenter"
          provider = module.cluster.provider
        }
        locals {
          trusted = module.karpenter.trusted
          cluster = module.cluster.provider
        }
    "#;
    let cluster = r#"
        variable "node_role" {}
        output "provider" { value = "oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2" }
    "#;
    let karpenter = r#"
        variable "provider" {}
        output "trusted"   { value = "${var.provider}:sub" }
        output "node_role" { value = "karpenter-node" }
    "#;
    let ws = workspace(&[
        ("root", &[root]),
        ("root/cluster", &[cluster]),
        ("root/karpenter", &[karpenter]),
    ]);
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
    // The cluster is set up first and reads Karpenter, which then sees the cluster unknown.
    assert_eq!(
        m.local("cluster").unwrap(),
        Value::str("oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2")
    );
    assert_eq!(
        m.local("trusted").unwrap(),
        Value::str("oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2:sub")
    );
}

#[test]
fn optional_object_attributes_are_filled_in() {
    let hcl = r#"
        variable "services" {
          type = map(object({
            namespace       = string
            service_account = optional(string)
            audience        = optional(string, "sts.amazonaws.com")
          }))
          default = {
            worker = { namespace = "payments" }
          }
        }
        locals {
          sa       = coalesce(var.services["worker"].service_account, "ledger-worker")
          audience = var.services["worker"].audience
        }
    "#;
    assert_eq!(local(hcl, "sa", &[]), Value::str("ledger-worker"));
    assert_eq!(local(hcl, "audience", &[]), Value::str("sts.amazonaws.com"));
}

#[test]
fn a_string_read_through_a_reference_is_shown_where_the_reference_is_written() {
    let hcl = r#"
        resource "aws_eks_cluster" "main" { name = "platform" }
        locals {
          issuer  = aws_eks_cluster.main.identity[0].oidc[0].issuer
          literal = "oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2"
          copied  = local.literal
        }
    "#;
    let at = |needle: &str| {
        let start = hcl.find(needle).unwrap();
        start..start + needle.len()
    };
    let origin = |name: &str| {
        let v = local(hcl, name, &[]);
        let span = v.as_str().unwrap().origin.unwrap();
        span.start as usize..span.end as usize
    };
    assert_eq!(
        origin("issuer"),
        at("aws_eks_cluster.main.identity[0].oidc[0].issuer")
    );
    // The outermost reference wins over where the text was first written.
    assert_eq!(origin("copied"), at("local.literal"));
    assert_eq!(
        origin("literal"),
        at("\"oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2\"")
    );
}

#[test]
fn functions_at_hostile_sizes_end_with_terraforms_answer_or_unknown() {
    let hcl = r#"
        locals {
          tail      = substr("ledger-api", -3, 3)
          rest      = substr("ledger-api", 7, -1)
          huge      = substr("ledger-api", 1, 1e300)
          far       = substr("ledger-api", 18446744073709551615, 18446744073709551615)
          negative  = element(["a", "b"], -1)
          float     = length(range(1e20, 1e20 + 5000))
          unmoving  = range(1e17, 1e17 + 100, 1)
          unique    = distinct(split(",", "a,b,a,c,b,1"))
          numbers   = distinct([1, 1.0, 2, -0, 0])
        }
    "#;
    assert_eq!(local(hcl, "tail", &[]), Value::str("api"));
    assert_eq!(local(hcl, "rest", &[]), Value::str("api"));
    assert_eq!(local(hcl, "huge", &[]), Value::str("edger-api"));
    assert_eq!(local(hcl, "far", &[]), Value::str(""));
    assert_eq!(local(hcl, "negative", &[]), Value::Unknown);
    // (1e20 + 5000) - 1e20 is 0 in floating point: an empty range, not an endless loop.
    assert_eq!(local(hcl, "float", &[]), Value::Number(0.0));
    assert_eq!(local(hcl, "unmoving", &[]), Value::Unknown);
    let strings = |items: &[&str]| Value::List(items.iter().map(|s| Value::str(*s)).collect());
    assert_eq!(local(hcl, "unique", &[]), strings(&["a", "b", "c", "1"]));
    let numbers = |items: &[f64]| Value::List(items.iter().map(|n| Value::Number(*n)).collect());
    assert_eq!(local(hcl, "numbers", &[]), numbers(&[1.0, 2.0, -0.0]));
}

#[test]
fn amplification_ends_at_the_budget_as_unknown() {
    let mut doubling =
        String::from("locals {\n  s0 = \"abcdefghijklmnop\"\n  l0 = [\"a\", \"b\"]\n");
    for i in 0..40 {
        doubling.push_str(&format!(
            "  s{n} = \"${{local.s{i}}}${{local.s{i}}}\"\n  l{n} = [local.l{i}, local.l{i}]\n",
            n = i + 1
        ));
    }
    doubling.push_str(
        "  a = join(\"\", [for i in range(5000) : \"a\"])\n  \
         r = replace(local.a, \"a\", replace(local.a, \"a\", local.a))\n  \
         n = [for i in range(5000) : i]\n  \
         t = \"%{for a in local.n}%{for b in local.n}${a}${b}%{endfor}%{endfor}\"\n}\n",
    );
    let ws = workspace(&[("root", &[doubling.as_str()])]);
    let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
    for name in ["s40", "l40", "r", "t"] {
        assert_eq!(m.local(name), Ok(Value::Unknown), "{name}");
    }
    assert!(m.evaluation_cut());
    let limits = m.limits_hit();
    assert_eq!(limits.len(), 1, "said once per root: {limits:?}");
    assert!(limits[0].message.contains("stopped here"), "{limits:?}");
}

#[test]
fn a_chain_of_locals_past_the_depth_limit_is_unknown_not_a_stack_overflow() {
    let mut chain = String::from("locals {\n");
    for i in 0..20_000 {
        chain.push_str(&format!("  l{i} = local.l{}\n", i + 1));
    }
    chain.push_str("  l20000 = \"end\"\n  short = local.l19990\n}\n");
    // The engine evaluates on worker threads with a large stack; the limit must hold far
    // below it, in a debug build too.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let ws = workspace(&[("root", &[chain.as_str()])]);
            let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
            assert_eq!(m.local("short"), Ok(Value::str("end")));
            assert_eq!(m.local("l0"), Ok(Value::Unknown));
            assert!(m.evaluation_cut());
            assert!(m.limits_hit()[0].message.contains("nested"));
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn parent_folders_cancel_folder_names_only() {
    use crate::eval::workspace::normalize;
    let n = |p: &str| normalize(std::path::Path::new(p));
    assert_eq!(n("../repo/infra/../../x"), PathBuf::from("../x"));
    assert_eq!(n("infra/./modules/../iam"), PathBuf::from("infra/iam"));
    assert_eq!(n("/../etc"), PathBuf::from("/etc"));
}
