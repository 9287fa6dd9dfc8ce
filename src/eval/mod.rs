//! Terraform evaluation: known, symbolic and unknown values.

pub mod value;
