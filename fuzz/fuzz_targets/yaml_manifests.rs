//! The YAML front end: multi-document manifests, as plain YAML, as templates and as JSON.
#![no_main]

use irsa_lint::parse::yaml::{ManifestSyntax, extract_manifests};
use irsa_lint::source::FileId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for syntax in [
        ManifestSyntax::Yaml,
        ManifestSyntax::Template,
        ManifestSyntax::Json,
    ] {
        let _ = extract_manifests(FileId(0), text, syntax, "k8s");
    }
});
