//! A JSON value rewritten as the HCL expression Terraform reads it as, laid out so that each
//! token starts at the byte offset of the JSON it comes from.
//!
//! Terraform JSON-unescapes a string first and then reads it as a template. So each string is
//! decoded and written back as an HCL quoted template: literal text escaped HCL's way, `${...}`
//! and `%{...}` sequences copied as they are. What a JSON escape stands for is never longer
//! than the escape, so the rewrite never outgrows the JSON; the bytes it saves become spaces
//! between tokens, which puts the next token back at its JSON offset. Only inside a string
//! nested in an interpolation (`\"a\\nb\"`) can no space be added: there a token may end a few
//! bytes early, but later tokens start where the JSON has them again.

use std::ops::Range;

use foldhash::HashMap;
use jsonc_parser::ast::{Object, ObjectProp, ObjectPropName, Value as Json};

/// How the strings of a value are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// An expression: strings are templates (`"${var.ns}-api"`).
    Template,
    /// Taken literally: a variable's `default`, `source` of a module, tfvars values.
    Literal,
}

/// A string whose template Terraform would reject, at a byte offset of the file.
#[derive(Debug)]
pub(super) struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// HCL text written from file offset `base` on.
pub(super) struct Emitter<'t> {
    text: &'t str,
    base: usize,
    out: String,
    literals: Vec<(usize, String)>,
}

/// What an [`Emitter`] wrote: the HCL text, and the literal strings whose value the parsed
/// string must be given afterwards, by the offset where the string starts.
pub(super) struct Emitted {
    pub text: String,
    pub literals: Vec<(usize, String)>,
}

impl<'t> Emitter<'t> {
    /// `text` is the whole file; the emitted text starts at its offset `base`.
    pub fn new(text: &'t str, base: usize) -> Self {
        Emitter {
            text,
            base,
            out: String::new(),
            literals: Vec::new(),
        }
    }

    pub fn finish(self) -> Emitted {
        Emitted {
            text: self.out,
            literals: self.literals,
        }
    }

    fn cursor(&self) -> usize {
        self.base + self.out.len()
    }

    fn pad_to(&mut self, offset: usize) {
        let missing = offset.saturating_sub(self.cursor());
        self.out.extend(std::iter::repeat_n(' ', missing));
    }

    fn token(&mut self, at: usize, token: &str) {
        self.pad_to(at);
        self.out.push_str(token);
    }

    pub fn value(&mut self, v: &Json<'_>, mode: Mode) -> Result<(), TemplateError> {
        match v {
            Json::StringLit(s) => self.string(s.range.start..s.range.end, mode, Place::Value)?,
            Json::NumberLit(n) if n.value.parse::<f64>().is_ok_and(f64::is_finite) => {
                self.token(n.range.start, n.value)
            }
            // Terraform's numbers have no limit, hcl-edit's are 64-bit: keep the digits
            Json::NumberLit(n) => self.token(n.range.start, &format!("\"{}\"", n.value)),
            Json::BooleanLit(b) => {
                self.token(b.range.start, if b.value { "true" } else { "false" })
            }
            Json::NullKeyword(n) => self.token(n.range.start, "null"),
            // A separator goes right after each item but the last, where the JSON has its
            // comma or the whitespace before it; a trailing one could take the closing
            // bracket's place.
            Json::Array(a) => {
                self.token(a.range.start, "[");
                for (i, e) in a.elements.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.value(e, mode)?;
                }
                self.token(a.range.end - 1, "]");
            }
            Json::Object(o) => {
                self.token(o.range.start, "{");
                for (i, p) in kept_properties(o).enumerate() {
                    let ObjectPropName::String(key) = &p.name else {
                        continue; // strict parsing allows no bare words
                    };
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.string(key.range.start..key.range.end, mode, Place::Key)?;
                    self.out.push(':');
                    self.value(&p.value, mode)?;
                }
                self.token(o.range.end - 1, "}");
            }
        }
        Ok(())
    }

    /// A JSON string (its range includes the quotes).
    pub fn string(
        &mut self,
        range: Range<usize>,
        mode: Mode,
        place: Place,
    ) -> Result<(), TemplateError> {
        let content = range.start + 1..range.end - 1;
        let chars = decode(&self.text[content.clone()], content.start);
        self.pad_to(range.start);
        let start = self.cursor();
        self.out.push('"');
        match mode {
            Mode::Literal if place == Place::Value && opens_sequence(&chars) => {
                // `$${` would make the string longer than the JSON: write a stand-in of the
                // same length and give the parsed string its value afterwards
                let value: String = chars.iter().map(|(c, _)| *c).collect();
                let stand_in: Vec<(char, Range<usize>)> = chars
                    .iter()
                    .map(|(c, r)| (if matches!(c, '$' | '%') { '_' } else { *c }, r.clone()))
                    .collect();
                self.literal(&stand_in);
                self.literals.push((start, value));
            }
            Mode::Literal => self.literal(&chars),
            Mode::Template => {
                check_template(&chars)?;
                self.template(&chars);
            }
        }
        self.out.push('"');
        Ok(())
    }

    /// Text taken literally: `${` and `%{` are escaped so HCL does not read them.
    fn literal(&mut self, chars: &[(char, Range<usize>)]) {
        for (i, (c, _)) in chars.iter().enumerate() {
            let opens_sequence = chars.get(i + 1).is_some_and(|n| n.0 == '{');
            if (*c == '$' || *c == '%') && opens_sequence {
                self.out.push(*c);
            }
            push_quoted(&mut self.out, *c);
        }
    }

    /// Template text: literal parts escaped, sequences copied, spaces where bytes were saved.
    fn template(&mut self, chars: &[(char, Range<usize>)]) {
        let mut nesting: Vec<Nest> = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i].0;
            let next = chars.get(i + 1).map(|x| x.0);
            let in_literal_text = matches!(nesting.last(), None | Some(Nest::String));
            i += match (nesting.last().copied(), c) {
                (_, '$' | '%') if in_literal_text && next == Some(c) => {
                    // `$${` / `%%{`: an escaped sequence opener, the same in both syntaxes
                    self.out.extend([c, c]);
                    2
                }
                (_, '$' | '%') if in_literal_text && next == Some('{') => {
                    self.out.extend([c, '{']);
                    nesting.push(Nest::Sequence(0));
                    2
                }
                (None, c) => {
                    push_quoted(&mut self.out, c);
                    1
                }
                (Some(Nest::String), _) => self.in_nested_string(&chars[i..], &mut nesting),
                (Some(Nest::Sequence(depth)), _) => {
                    self.in_sequence(&chars[i], depth, &mut nesting);
                    1
                }
            };
        }
    }

    /// A character of a string inside a sequence: copied, HCL escapes and all. Returns how
    /// many characters it took.
    fn in_nested_string(
        &mut self,
        chars: &[(char, Range<usize>)],
        nesting: &mut Vec<Nest>,
    ) -> usize {
        let (c, range) = (chars[0].0, &chars[0].1);
        match c {
            '\\' => {
                self.out.push('\\');
                self.out.extend(chars.get(1).map(|n| n.0));
                2
            }
            '"' => {
                nesting.pop();
                self.out.push('"');
                if !nesting.contains(&Nest::String) {
                    // outside strings again: catch up with the JSON
                    self.pad_to(range.end);
                }
                1
            }
            c => {
                self.out.push(c);
                1
            }
        }
    }

    /// A character of a `${...}` / `%{...}` sequence, placed where its JSON form ends when it
    /// may be preceded by spaces (not inside a nested string, not inside a word).
    fn in_sequence(
        &mut self,
        (c, range): &(char, Range<usize>),
        depth: usize,
        nesting: &mut Vec<Nest>,
    ) {
        let c = if matches!(c, '\n' | '\r' | '\t') {
            ' '
        } else {
            *c
        };
        let inside_word = self.out.chars().next_back().is_some_and(is_word) && is_word(c);
        if !nesting.contains(&Nest::String) && !inside_word {
            self.pad_to(range.end - c.len_utf8());
        }
        self.out.push(c);
        let top = nesting.len() - 1;
        match c {
            '"' => nesting.push(Nest::String),
            '{' => nesting[top] = Nest::Sequence(depth + 1),
            '}' if depth == 0 => {
                nesting.pop();
            }
            '}' => nesting[top] = Nest::Sequence(depth - 1),
            _ => {}
        }
    }
}

/// Where a string is written: a value can be given its text after parsing, an object key
/// cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Value,
    Key,
}

fn opens_sequence(chars: &[(char, Range<usize>)]) -> bool {
    chars
        .windows(2)
        .any(|w| matches!(w[0].0, '$' | '%') && w[1].0 == '{')
}

/// Where a template character stands: in a `${...}` / `%{...}` sequence (with its open
/// braces), or in a string inside one. Outside both is the template's literal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nest {
    Sequence(usize),
    String,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A character inside an HCL quoted string, escaped where HCL needs it.
fn push_quoted(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push(c),
    }
}

/// Terraform's own check of a decoded string as a template, so a broken one is reported
/// where it is written rather than as a broken rewrite.
fn check_template(chars: &[(char, Range<usize>)]) -> Result<(), TemplateError> {
    let source: String = chars.iter().map(|(c, _)| *c).collect();
    if !source.contains("${") && !source.contains("%{") {
        return Ok(());
    }
    hcl_edit::parser::parse_template(&source)
        .map(|_| ())
        .map_err(|err| {
            let mut at = 0;
            let offset = chars
                .iter()
                .find(|(c, _)| {
                    at += c.len_utf8();
                    at > err.location().offset()
                })
                .or(chars.last())
                .map(|(_, r)| r.start)
                .unwrap_or_default();
            TemplateError {
                offset,
                message: format!(
                    "invalid template: {}",
                    crate::parse::hcl::lowercase_first(err.message())
                ),
            }
        })
}

/// The properties of an object without those a later one of the same name replaces.
/// A name that is a template cannot be compared before evaluation and is always kept.
pub(super) fn kept_properties<'o, 'a>(
    o: &'o Object<'a>,
) -> impl Iterator<Item = &'o ObjectProp<'a>> {
    let name = |p: &'o ObjectProp<'a>| -> &'o str {
        match &p.name {
            ObjectPropName::String(s) => &s.value,
            ObjectPropName::Word(w) => w.value,
        }
    };
    let last: HashMap<&str, usize> = o
        .properties
        .iter()
        .enumerate()
        .map(|(i, p)| (name(p), i))
        .collect();
    o.properties.iter().enumerate().filter_map(move |(i, p)| {
        let n = name(p);
        let is_template = n.contains("${") || n.contains("%{");
        (is_template || last[n] == i).then_some(p)
    })
}

/// The characters of a JSON string's content, each with the byte range its JSON form takes
/// in the file (`base` is the offset of `raw`).
pub(super) fn decode(raw: &str, base: usize) -> Vec<(char, Range<usize>)> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let (c, width) = if bytes[i] == b'\\' && i + 1 < raw.len() {
            escape(raw, i)
        } else {
            let c = raw[i..].chars().next().unwrap_or('\u{fffd}');
            (c, c.len_utf8())
        };
        out.push((c, base + i..base + i + width));
        i += width;
    }
    out
}

/// The character of the escape at `raw[i]` and how many bytes the escape takes.
fn escape(raw: &str, i: usize) -> (char, usize) {
    let hex = |at: usize| {
        raw.get(at..at + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    match raw.as_bytes()[i + 1] {
        b'b' => ('\u{8}', 2),
        b'f' => ('\u{c}', 2),
        b'n' => ('\n', 2),
        b'r' => ('\r', 2),
        b't' => ('\t', 2),
        b'u' => match hex(i + 2) {
            Some(high @ 0xD800..0xDC00) => {
                let low = raw
                    .get(i + 6..i + 8)
                    .filter(|s| *s == "\\u")
                    .and_then(|_| hex(i + 8))
                    .filter(|l| (0xDC00..0xE000).contains(l));
                match low {
                    Some(low) => {
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(code).unwrap_or('\u{fffd}'), 12)
                    }
                    None => ('\u{fffd}', 6),
                }
            }
            Some(code) => (char::from_u32(code).unwrap_or('\u{fffd}'), 6),
            None => ('\u{fffd}', 2),
        },
        other => {
            let c = raw[i + 1..].chars().next().unwrap_or(other as char);
            (c, 1 + c.len_utf8())
        }
    }
}
