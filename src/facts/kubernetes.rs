//! Kubernetes objects Terraform creates: Helm releases, `kubernetes_manifest` and
//! `kubectl_manifest`.

use super::Facts;
use crate::eval::module::Module;

pub fn extract(m: &Module<'_>, _unit: &str) -> Facts {
    let mut facts = Facts::default();
    // Charts and raw manifests applied from Terraform create ServiceAccounts we cannot see.
    let opaque = ["helm_release", "kubernetes_manifest", "kubectl_manifest"];
    if opaque.iter().any(|k| !m.resources_of(k, false).is_empty()) {
        facts.hidden_service_accounts = true;
    }
    facts
}
