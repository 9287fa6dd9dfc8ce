//! JSON syntax for policy documents and Terraform JSON: jsonc-parser with every lenient
//! option off (IAM and Terraform read strict JSON), giving an AST with byte ranges.

use jsonc_parser::ast::Value as JsonValue;

pub fn strict_options() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// The document's AST, or nothing when it is not strict JSON.
pub fn parse_value(text: &str) -> Option<JsonValue<'_>> {
    parse(text).ok()
}

/// The document's AST, or where and why it is not strict JSON.
pub fn parse(text: &str) -> Result<JsonValue<'_>, (usize, String)> {
    let result = jsonc_parser::parse_to_ast(text, &Default::default(), &strict_options())
        .map_err(|e| (e.range().start, e.kind().to_string().to_lowercase()))?;
    result.value.ok_or((0, "empty document".to_string()))
}

/// The value of a JSON string's content as written between its quotes; Terraform's `$${` and
/// `%%{` escapes (a heredoc's literal `${`) are undone too.
pub fn unescape(raw: &str) -> Option<String> {
    if !raw.contains('\\') {
        return Some(raw.replace("$${", "${").replace("%%{", "%{"));
    }
    serde_json::from_str::<String>(&format!("\"{raw}\"")).ok()
}
