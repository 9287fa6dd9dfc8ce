//! Terraform's JSON syntax: the reader alone, then the whole engine on a `main.tf.json`.
#![no_main]

use std::path::PathBuf;

use irsa_lint::engine::{Settings, lint};
use irsa_lint::parse::tfjson::{parse_tf_json, parse_tfvars_json};
use irsa_lint::source::FileId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_tf_json(FileId(0), text);
    let _ = parse_tfvars_json(FileId(0), text);
    let settings = Settings {
        stdin: Some((PathBuf::from("main.tf.json"), text.to_string())),
        ..Settings::default()
    };
    let _ = lint(&settings);
});
