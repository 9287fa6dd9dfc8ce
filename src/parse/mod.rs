//! Parsers: HCL, Terraform JSON, YAML and policy JSON. Parsing never fails: each parser returns
//! what it could read plus errors, which become IRSA000 diagnostics.

pub mod hcl;
pub mod tfjson;
pub mod yaml;
