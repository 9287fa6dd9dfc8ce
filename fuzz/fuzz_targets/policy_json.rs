//! The trust-policy JSON reader: the input is the heredoc policy of a role whose other
//! attributes are well formed, so the policy reader is what the mutations reach.
#![no_main]

use std::path::PathBuf;

use irsa_lint::engine::{Settings, lint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = std::str::from_utf8(data) else {
        return;
    };
    if policy.lines().any(|l| l.trim() == "EOF") {
        return;
    }
    let text = format!(
        "resource \"aws_iam_openid_connect_provider\" \"eks\" {{\n  \
         url = \"https://oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A\"\n}}\n\
         resource \"aws_iam_role\" \"api\" {{\n  name = \"api\"\n  \
         assume_role_policy = <<EOF\n{policy}\nEOF\n}}\n"
    );
    let settings = Settings {
        stdin: Some((PathBuf::from("main.tf"), text)),
        ..Settings::default()
    };
    let _ = lint(&settings);
});
