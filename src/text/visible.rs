//! Text from the scanned files as a terminal or a CI log shows it: the characters that
//! would act on them (move the cursor, change colours, set the window title, start a new
//! line or annotation, reorder what is read) are made visible, once, for every text output.

/// What [`visible`] does with a line break (`\n`, `\r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// Kept: a message the human format lays out on several lines.
    Keep,
    /// Escaped like any other control character: a file name, a line-per-finding format.
    Escape,
}

/// Whether a character would act on a terminal or a log rather than be shown: C0 and C1
/// controls (escape sequences start with ESC or CSI), the Unicode line and paragraph
/// separators, and the marks that reorder text (Trojan Source).
fn acts(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Text from the scanned files (file names, values quoted in messages) as the text formats
/// print it: every character that would act on a terminal or a CI log is written as its
/// escape (`\u{1b}`), so that a value can neither colour, move nor rewrite the output, nor
/// forge a line of its own. Tabs stay.
pub fn visible(text: &str, breaks: Breaks) -> std::borrow::Cow<'_, str> {
    let escaped =
        |c: char| acts(c) && c != '\t' && !(breaks == Breaks::Keep && matches!(c, '\n' | '\r'));
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A file's text for a code frame: each character that would act on a terminal replaced by
/// one of the same length in bytes (`?`, `¿` or `�`), so that every span still points at
/// the same bytes. Line breaks and tabs stay.
pub fn visible_same_width(text: &str) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| acts(c) && !matches!(c, '\t' | '\n' | '\r');
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let out: String = text
        .chars()
        .map(|c| match (escaped(c), c.len_utf8()) {
            (false, _) => c,
            (true, 1) => '?',
            (true, 2) => '\u{bf}',
            (true, _) => '\u{fffd}',
        })
        .collect();
    debug_assert_eq!(out.len(), text.len());
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acting_characters_are_escaped_and_text_is_kept() {
        let text = "pay/api\u{1b}[2J\u{7}\u{85}\u{202e}\tx\ny\u{2028}é";
        assert_eq!(
            visible(text, Breaks::Escape),
            "pay/api\\u{1b}[2J\\u{7}\\u{85}\\u{202e}\tx\\u{a}y\\u{2028}é"
        );
        assert_eq!(
            visible(text, Breaks::Keep),
            "pay/api\\u{1b}[2J\\u{7}\\u{85}\\u{202e}\tx\ny\\u{2028}é"
        );
        assert!(matches!(
            visible("plain – text", Breaks::Escape),
            std::borrow::Cow::Borrowed(_)
        ));
        // Byte for byte in a frame, so that spans still point at the same text.
        let frame = visible_same_width(text);
        assert_eq!(frame, "pay/api?[2J?\u{bf}\u{fffd}\tx\ny\u{fffd}é");
        assert_eq!(frame.len(), text.len());
    }
}
