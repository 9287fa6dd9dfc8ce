//! The whole engine on a small tree: the input is split at NUL bytes into the files of a
//! root module, a local module it calls, a tfvars file and manifests (kustomize included).
#![no_main]

use irsa_lint::engine::{Settings, lint};
use libfuzzer_sys::fuzz_target;

const FILES: &[&str] = &[
    "infra/main.tf",
    "infra/modules/irsa/main.tf",
    "infra/terraform.tfvars",
    "k8s/base/sa.yaml",
    "k8s/base/kustomization.yaml",
    "k8s/overlays/prod/kustomization.yaml",
    "k8s/deploy.json",
];

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    for (name, part) in FILES.iter().zip(data.split(|b| *b == 0)) {
        let path = dir.path().join(name);
        let _ = std::fs::create_dir_all(path.parent().unwrap());
        let _ = std::fs::write(path, part);
    }
    let settings = Settings {
        paths: vec![dir.path().to_path_buf()],
        ..Settings::default()
    };
    let _ = lint(&settings);
});
