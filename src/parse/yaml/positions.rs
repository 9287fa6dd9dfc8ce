//! From saphyr positions to the byte spans facts carry.
//!
//! saphyr counts positions in characters from the start of the text it was given (one
//! document chunk here); facts need byte offsets into the whole file. saphyr's spans also
//! include what surrounds a value (tags, anchors, quotes, a block scalar's header), while a
//! fix must replace exactly the value: this module trims those away. It knows nothing of
//! Kubernetes.

use saphyr::{MarkedYaml, Marker, ScalarStyle, YamlData};

use crate::source::{FileId, Span};

/// Converts character indices into byte offsets of one file.
///
/// Only characters outside ASCII make the two differ, so only those are recorded: a pure
/// ASCII file (most manifests) needs no table at all, and the table never holds more entries
/// than the file has non-ASCII characters.
pub(super) struct CharOffsets {
    /// `(character index, byte offset)` just after each non-ASCII character, ascending.
    after_wide: Vec<(u32, u32)>,
}

impl CharOffsets {
    pub(super) fn new(text: &str) -> Self {
        if text.is_ascii() {
            return CharOffsets {
                after_wide: Vec::new(),
            };
        }
        let after_wide = text
            .char_indices()
            .enumerate()
            .filter(|(_, (_, c))| !c.is_ascii())
            .map(|(index, (byte, c))| (index as u32 + 1, (byte + c.len_utf8()) as u32))
            .collect();
        CharOffsets { after_wide }
    }

    pub(super) fn byte_of_char(&self, char_index: usize) -> usize {
        let i = self
            .after_wide
            .partition_point(|&(c, _)| c as usize <= char_index);
        match i.checked_sub(1) {
            None => char_index,
            Some(i) => {
                let (c, b) = self.after_wide[i];
                b as usize + (char_index - c as usize)
            }
        }
    }

    /// The character index of a byte offset that lies on a character boundary.
    pub(super) fn char_of_byte(&self, byte: usize) -> usize {
        let i = self
            .after_wide
            .partition_point(|&(_, b)| b as usize <= byte);
        match i.checked_sub(1) {
            None => byte,
            Some(i) => {
                let (c, b) = self.after_wide[i];
                c as usize + (byte - b as usize)
            }
        }
    }
}

/// How far saphyr's character indices run ahead in a chunk that starts with directives.
///
/// saphyr-parser 0.3.4 counts the name and parameters of a reserved directive (`%FOO bär`)
/// in bytes, not characters, so every later index of the chunk is too large by the
/// difference. `%YAML` and `%TAG` lines are counted right. Directives can only start a chunk.
pub(super) fn reserved_directive_drift(chunk: &str) -> usize {
    let mut drift = 0;
    for line in chunk.trim_start_matches('\u{feff}').lines() {
        let Some(directive) = line.strip_prefix('%') else {
            match line.trim_start().bytes().next() {
                None | Some(b'#') => continue,
                Some(_) => break,
            }
        };
        let name = directive.split([' ', '\t']).next().unwrap_or_default();
        if name != "YAML" && name != "TAG" {
            drift += line.len() - line.chars().count();
        }
    }
    drift
}

/// Positions inside one document chunk of a file.
pub(crate) struct ChunkPositions<'a> {
    pub(super) file: FileId,
    /// The whole file: spans are offsets into it.
    pub(super) text: &'a str,
    pub(super) offsets: &'a CharOffsets,
    /// Character index of the chunk's first character in the file.
    pub(super) chunk_start_char: usize,
    /// See [`reserved_directive_drift`].
    pub(super) index_drift: usize,
}

impl ChunkPositions<'_> {
    /// The whole file's text, which spans index.
    pub(crate) fn file_text(&self) -> &str {
        self.text
    }

    /// Byte offset in the file of a character index in the chunk.
    pub(super) fn byte(&self, char_index: usize) -> usize {
        let byte = self
            .offsets
            .byte_of_char(self.chunk_start_char + char_index.saturating_sub(self.index_drift));
        byte.min(self.text.len())
    }

    fn range(&self, start: Marker, end: Marker) -> (usize, usize) {
        let start = self.byte(start.index());
        (start, self.byte(end.index()).max(start))
    }

    /// One character at a parse error, so editors have something to underline; empty at a
    /// line end or at the end of the file.
    pub(super) fn error_span(&self, char_index: usize) -> Span {
        let start = self.byte(char_index);
        let width = self.text[start..]
            .chars()
            .next()
            .filter(|c| !matches!(c, '\n' | '\r'))
            .map_or(0, char::len_utf8);
        Span::new(self.file, start..start + width)
    }

    /// The text of a scalar as written: without quotes, tag, anchor or block header.
    pub(crate) fn scalar_span(&self, node: &MarkedYaml, style: ScalarStyle) -> Span {
        let (written_start, mut end) = self.range(node.span.start, node.span.end);
        if self.is_alias(written_start, end) {
            // The value is written at the anchor; the alias is what is written here.
            return Span::new(self.file, written_start..end);
        }
        let (text, tagged) = match &node.data {
            YamlData::Representation(text, _, tag) => (text.as_ref(), tag.is_some()),
            _ => ("", false),
        };
        // A block scalar's content may start with `!`: only skip a tag saphyr has seen.
        let mut start = self.skip_properties(written_start, end, tagged);
        let bytes = self.text.as_bytes();
        match style {
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted if start < end => {
                // saphyr's span of a quoted scalar runs on over trailing blanks and comments.
                end = self.closing_quote(start, end, style);
                start += 1;
            }
            ScalarStyle::Literal | ScalarStyle::Folded => {
                // With properties saphyr starts the span at them, before the header;
                // without, at the content.
                let has_header =
                    start > written_start && matches!(bytes.get(start), Some(b'|' | b'>'));
                start = if has_header {
                    self.start_of_block_content(start, end)
                } else {
                    written_start
                };
                // The span runs on to the next token, over the indentation before it.
                while end > start && bytes[end - 1].is_ascii_whitespace() {
                    end -= 1;
                }
            }
            _ => {}
        }
        if text.is_empty()
            && !matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
        {
            // An implicit null (`key:`, `{key}`) is spanned at whatever token follows it.
            end = start;
        }
        Span::new(self.file, start..end)
    }

    /// saphyr gives a resolved alias the span of the `*name` written where it is used.
    fn is_alias(&self, start: usize, end: usize) -> bool {
        let written = &self.text.as_bytes()[start..end];
        written.first() == Some(&b'*') && !written.iter().any(u8::is_ascii_whitespace)
    }

    /// The offset of the quote closing the scalar opened at `open`, or `limit` if none.
    fn closing_quote(&self, open: usize, limit: usize, style: ScalarStyle) -> usize {
        let bytes = self.text.as_bytes();
        let mut at = open + 1;
        while at < limit {
            match (style, bytes[at]) {
                (ScalarStyle::DoubleQuoted, b'\\') => at += 2,
                (ScalarStyle::DoubleQuoted, b'"') => return at,
                (ScalarStyle::SingleQuoted, b'\'') if bytes.get(at + 1) == Some(&b'\'') => at += 2,
                (ScalarStyle::SingleQuoted, b'\'') => return at,
                _ => at += 1,
            }
        }
        limit
    }

    /// The first content character after a block scalar header (`|`, `>-`, ...).
    fn start_of_block_content(&self, header: usize, end: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut at = header;
        while at < end && bytes[at] != b'\n' {
            at += 1;
        }
        at = (at + 1).min(end);
        while at < end && bytes[at] == b' ' {
            at += 1;
        }
        at
    }

    /// Skip node properties (`!tag`, `&anchor`), which saphyr includes in the node's span.
    fn skip_properties(&self, mut at: usize, end: usize, tags: bool) -> usize {
        let bytes = self.text.as_bytes();
        while at < end && (bytes[at] == b'&' || (tags && bytes[at] == b'!')) {
            while at < end && !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            while at < end && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
        }
        at
    }

    /// A whole object, from its first key to the end of its last value.
    ///
    /// saphyr ends a block collection where the next token starts, which would take in the
    /// comments and blank lines that follow it, and ends a flow collection just before its
    /// closing bracket. The end of the last value is what the user sees as the object's end.
    pub(crate) fn node_span(&self, node: &MarkedYaml) -> Span {
        let (start, _) = self.range(node.span.start, node.span.end);
        Span::new(self.file, start..self.node_end(node))
    }

    fn node_end(&self, node: &MarkedYaml) -> usize {
        let bytes = self.text.as_bytes();
        let mut node = node;
        // A loop, not recursion: the depth is bounded, but a loop needs no argument for it.
        loop {
            let (start, end) = self.range(node.span.start, node.span.end);
            let first = self.skip_properties(start, end, true);
            let is_flow = matches!(bytes.get(first), Some(b'{' | b'['));
            let last_child = match &node.data {
                // The children of an alias point at the anchor, elsewhere in the file.
                _ if self.is_alias(start, end) => return end,
                YamlData::Tagged(_, inner) => Some(&**inner),
                YamlData::Mapping(_) | YamlData::Sequence(_) if is_flow => {
                    let closed = matches!(bytes.get(end), Some(b'}' | b']'));
                    return end + usize::from(closed);
                }
                YamlData::Mapping(mapping) => mapping.back().map(|(_, value)| value),
                YamlData::Sequence(items) => items.last(),
                YamlData::Representation(_, style, _) => {
                    let quoted =
                        matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
                    let content_end = self.scalar_span(node, *style).end as usize;
                    return (content_end + usize::from(quoted)).min(end);
                }
                _ => return end,
            };
            match last_child {
                Some(child) => node = child,
                None => return end,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_and_byte_offsets_convert_both_ways_around_wide_characters() {
        let text = "a\u{feff}é日😀b";
        let offsets = CharOffsets::new(text);
        for (char_index, (byte, _)) in text.char_indices().enumerate() {
            assert_eq!(offsets.byte_of_char(char_index), byte);
            assert_eq!(offsets.char_of_byte(byte), char_index);
        }
        assert_eq!(offsets.byte_of_char(text.chars().count()), text.len());
    }
}
