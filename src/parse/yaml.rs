//! YAML syntax with positions: a stream split into documents, each loaded on its own with
//! saphyr (so one broken document does not hide the others, and alias bombs stop at its
//! limit), with the byte spans of every node; and the few accessors readers use on the
//! loaded nodes. Knows nothing of Kubernetes.
//!
//! Parsing never fails: a chunk that cannot be loaded is reported through `on_error`, with
//! whether it still applies as written (placeholders, or syntax only saphyr refuses and the
//! libyaml family — kubectl's go-yaml among them — accepts).

mod positions;
pub(crate) mod stream;

use saphyr::{MarkedYaml, ScalarStyle, YamlData};

use crate::source::FileId;
pub(crate) use positions::ChunkPositions;
use positions::{CharOffsets, reserved_directive_drift};
pub(crate) use stream::is_schema_document;

/// The byte ranges of the documents of a YAML stream (split at `---` and `...` lines).
pub fn document_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    stream::split_documents(&with_kubectl_line_breaks(text))
}

/// Load every document of a file whose root `kind` passes `wanted` and hand each to `read`
/// with the positions of its chunk. Returns whether some chunk could not be read although it
/// is still applied as written (placeholders, or syntax only saphyr refuses): what it holds
/// is unseen. Syntax errors themselves are the manifest reader's to report. For readers of
/// other kinds of YAML (eksctl's `ClusterConfig`).
pub(crate) fn read_documents(
    file: FileId,
    text: &str,
    wanted: &dyn Fn(&str) -> bool,
    read: &mut dyn FnMut(&MarkedYaml, &ChunkPositions),
) -> bool {
    let mut unseen = false;
    read_chunks(file, text, wanted, read, &mut |error| {
        unseen |= error.applies_anyway
    });
    unseen
}

/// The text as kubectl's YAML reader breaks its lines. go-yaml, which kubectl reads
/// manifests with, is a port of libyaml (YAML 1.1): NEL (U+0085), LINE SEPARATOR (U+2028) and
/// PARAGRAPH SEPARATOR (U+2029) break lines there, where saphyr (YAML 1.2) reads them as
/// text, and a file written with them would load as one long line that holds nothing. Each
/// becomes `\n` with spaces before it, to the same length in bytes: every byte offset, and
/// so every span, stays that of the file (trailing spaces change no value kubectl reads).
/// The file itself keeps its characters, so lines and columns are counted as editors count
/// them (they break lines at `\n` and `\r` only).
pub(crate) fn with_kubectl_line_breaks(text: &str) -> std::borrow::Cow<'_, str> {
    const BREAKS: [char; 3] = ['\u{85}', '\u{2028}', '\u{2029}'];
    // Nearly every file is ASCII, which a whole-text check answers many times faster than a
    // search for three characters.
    if text.is_ascii() || !text.contains(BREAKS) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if BREAKS.contains(&c) {
            for _ in 1..c.len_utf8() {
                out.push(' ');
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Why one document chunk could not be read.
pub(crate) struct ChunkError {
    pub span: crate::source::Span,
    pub message: String,
    /// The chunk is still applied as written, so the error is no finding, only unseen
    /// objects: a file with `${...}` placeholders is a template whose rendering is what
    /// counts, and where saphyr is stricter than the libyaml family (kubectl's go-yaml is a
    /// port of libyaml), the document still applies.
    pub applies_anyway: bool,
}

/// Split a stream into document chunks and load each on its own, so one broken document
/// does not hide the others.
pub(crate) fn read_chunks(
    file: FileId,
    text: &str,
    wanted: &dyn Fn(&str) -> bool,
    read: &mut dyn FnMut(&MarkedYaml, &ChunkPositions),
    on_error: &mut dyn FnMut(ChunkError),
) {
    let text = &*with_kubectl_line_breaks(text);
    let offsets = CharOffsets::new(text);
    for chunk in stream::split_documents(text) {
        let chunk_text = &text[chunk.clone()];
        if stream::is_schema_document(chunk_text) {
            continue;
        }
        let positions = ChunkPositions {
            file,
            text,
            offsets: &offsets,
            chunk_start_char: offsets.char_of_byte(chunk.start),
            index_drift: reserved_directive_drift(chunk_text),
        };
        let (documents, error) = stream::load_documents(chunk_text, wanted);
        for document in &documents {
            read(document, &positions);
        }
        if let Some(error) = error {
            let resource_limit =
                error.message.contains("alias") || error.message.contains("nesting");
            on_error(ChunkError {
                span: positions.error_span(error.char_index),
                applies_anyway: text.contains("${")
                    || (!resource_limit && libyaml_accepts(chunk_text)),
                message: error.message,
            });
        }
    }
}

/// Load every document of a YAML text that is not a Kubernetes object (Helm values), and
/// hand each to `read` with the positions of its chunk. Returns false when some chunk could
/// not be loaded.
pub(crate) fn read_plain_documents(
    file: FileId,
    text: &str,
    read: &mut dyn FnMut(&MarkedYaml, &ChunkPositions),
) -> bool {
    let text = &*with_kubectl_line_breaks(text);
    let offsets = CharOffsets::new(text);
    let mut loaded = true;
    for chunk in stream::split_documents(text) {
        let chunk_text = &text[chunk.clone()];
        let positions = ChunkPositions {
            file,
            text,
            offsets: &offsets,
            chunk_start_char: offsets.char_of_byte(chunk.start),
            index_drift: reserved_directive_drift(chunk_text),
        };
        let (documents, error) = stream::load_all_documents(chunk_text);
        for document in &documents {
            read(document, &positions);
        }
        loaded &= error.is_none();
    }
    loaded
}

/// Whether libyaml (through serde_yaml) reads every document of the chunk.
fn libyaml_accepts(chunk: &str) -> bool {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(chunk)
        .all(|doc| serde::de::IgnoredAny::deserialize(doc).is_ok())
}

/// A collection node without its custom tag (`!foo {a: 1}`); tags never change what we read.
pub(crate) fn untag<'n, 'input>(node: &'n MarkedYaml<'input>) -> &'n MarkedYaml<'input> {
    let mut node = node;
    while let YamlData::Tagged(_, inner) = &node.data {
        node = inner;
    }
    node
}

/// The value of `key` in a mapping. When a key is written twice, the later one wins.
pub(crate) fn get<'n, 'input>(
    node: &'n MarkedYaml<'input>,
    key: &str,
) -> Option<&'n MarkedYaml<'input>> {
    let YamlData::Mapping(entries) = &untag(node).data else {
        return None;
    };
    // saphyr already merged keys written alike (keeping the later value); keys written in
    // different styles (`kind`, `"kind"`) are distinct to it, hence the last match.
    entries
        .iter()
        .rev()
        .find(|(k, _)| scalar(k).is_some_and(|(text, _)| text == key))
        .map(|(_, value)| value)
}

/// The items of a sequence; nothing when the node is absent or not a sequence.
pub(crate) fn sequence<'n, 'input>(
    node: Option<&'n MarkedYaml<'input>>,
) -> &'n [MarkedYaml<'input>] {
    match node.map(|n| &untag(n).data) {
        Some(YamlData::Sequence(items)) => items,
        _ => &[],
    }
}

pub(crate) fn get_path<'n, 'input>(
    node: &'n MarkedYaml<'input>,
    path: &[&str],
) -> Option<&'n MarkedYaml<'input>> {
    path.iter().try_fold(node, |node, key| get(node, key))
}

/// The text of a scalar as written (after unquoting and unescaping) and its style.
pub(crate) fn scalar<'n>(node: &'n MarkedYaml) -> Option<(&'n str, ScalarStyle)> {
    match &node.data {
        YamlData::Representation(text, style, _) => Some((text, *style)),
        _ => None,
    }
}

/// A plain `null`, `~` or nothing at all (YAML 1.2 core schema); quoted, it is a string.
pub(crate) fn is_null(text: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A single-document YAML text as JSON values, for readers that want plain data and no
/// positions: kustomizations, JSON 6902 patches, Argo CD documents and Helm values. An empty
/// text is `null`; `None` when it does not load or holds several documents.
pub(crate) fn to_json(text: &str) -> Option<serde_json::Value> {
    use saphyr::LoadableYamlNode;
    let documents = saphyr::Yaml::load_from_str(text).ok()?;
    match documents.as_slice() {
        [] => Some(serde_json::Value::Null),
        [document] => Some(json_of(document)),
        _ => None,
    }
}

fn json_of(node: &saphyr::Yaml) -> serde_json::Value {
    use serde_json::Value;
    match node {
        saphyr::Yaml::Value(scalar) => match scalar {
            saphyr::Scalar::Null => Value::Null,
            saphyr::Scalar::Boolean(b) => Value::Bool(*b),
            saphyr::Scalar::Integer(i) => Value::from(*i),
            saphyr::Scalar::FloatingPoint(f) => {
                serde_json::Number::from_f64(f.into_inner()).map_or(Value::Null, Value::Number)
            }
            saphyr::Scalar::String(s) => Value::String(s.to_string()),
        },
        saphyr::Yaml::Sequence(items) => Value::Array(items.iter().map(json_of).collect()),
        saphyr::Yaml::Mapping(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (key_text(k), json_of(v)))
                .collect(),
        ),
        saphyr::Yaml::Representation(text, style, _) => {
            match saphyr::Scalar::parse_from_cow_and_metadata(text.clone(), *style, None) {
                Some(scalar) => json_of(&saphyr::Yaml::Value(scalar)),
                None => Value::String(text.to_string()),
            }
        }
        saphyr::Yaml::Tagged(_, inner) => json_of(inner),
        _ => Value::Null,
    }
}

fn key_text(key: &saphyr::Yaml) -> String {
    match json_of(key) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}
