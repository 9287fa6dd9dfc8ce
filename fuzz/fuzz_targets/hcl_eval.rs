//! The HCL front end and the evaluator: the input is a `main.tf` given as standard input,
//! so the whole engine parses it, evaluates every module value and runs the rules, with no
//! file system involved.
#![no_main]

use std::path::PathBuf;

use irsa_lint::engine::{Settings, lint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = Settings {
        stdin: Some((PathBuf::from("main.tf"), text.to_string())),
        ..Settings::default()
    };
    let _ = lint(&settings);
});
