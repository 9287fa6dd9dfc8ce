//! `file:` URIs ↔ paths.
//!
//! lsp-types 0.97 carries URIs as plain parsed strings with no file-path conversion, so the
//! few lines that turn one into the other live here. Only `file:` URIs name files irsa-lint
//! can read; anything else (`untitled:`, `git:`) is not a path.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::Uri;

/// The path a `file:` URI names, or `None` for other schemes and remote hosts.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = strip_prefix_ignore_case(uri.as_str(), "file://")?;
    // `file:///path` and `file://localhost/path` are local; `file://server/share` is not.
    let (host, path) = rest.split_at(rest.find('/')?);
    if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let decoded = String::from_utf8(percent_decode(path)).ok()?;
    Some(native_path(decoded))
}

/// The `file:` URI of an absolute path.
pub fn from_path(path: &Path) -> Option<Uri> {
    let text = path.to_str()?;
    let text = if cfg!(windows) {
        format!("/{}", text.replace('\\', "/"))
    } else {
        text.to_string()
    };
    Uri::from_str(&format!("file://{}", percent_encode(&text))).ok()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// On Windows `/C:/dir` is `C:\dir`; elsewhere the decoded path is the path.
fn native_path(decoded: String) -> PathBuf {
    if cfg!(windows) {
        let trimmed = decoded.strip_prefix('/').unwrap_or(&decoded);
        return PathBuf::from(trimmed.replace('/', "\\"));
    }
    PathBuf::from(decoded)
}

/// Everything but unreserved characters and `/` is escaped, as editors do for paths.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        Uri::from_str(text).unwrap()
    }

    #[test]
    fn paths_with_spaces_and_non_ascii_round_trip() {
        let path = Path::new("/projects/my repo/台帳/sa#1.yaml");
        let encoded = from_path(path).unwrap();
        assert_eq!(
            encoded.as_str(),
            "file:///projects/my%20repo/%E5%8F%B0%E5%B8%B3/sa%231.yaml"
        );
        assert_eq!(to_path(&encoded).unwrap(), path);
    }

    #[test]
    fn editors_spellings_of_the_same_file_agree() {
        let expected = Some(PathBuf::from("/projects/a:b.tf"));
        assert_eq!(to_path(&uri("file:///projects/a%3Ab.tf")), expected);
        assert_eq!(to_path(&uri("file:///projects/a%3ab.tf")), expected);
        assert_eq!(to_path(&uri("file:///projects/a:b.tf")), expected);
        assert_eq!(to_path(&uri("FILE://localhost/projects/a:b.tf")), expected);
    }

    #[test]
    fn other_schemes_and_hosts_are_not_paths() {
        assert_eq!(to_path(&uri("untitled:Untitled-1")), None);
        assert_eq!(to_path(&uri("file://server/share/a.tf")), None);
    }
}
