//! Go template syntax, as Helm chart templates write it: text and `{{ }}` actions with
//! trim markers, pipelines, `if` / `with` / `range` / `define` / `template` blocks and
//! comments. Syntax only: what a template renders to is `facts::helm_template`'s.
//!
//! Parsing never fails on the file: a template it cannot read is `None`, and the chart that
//! holds it is then read as unknown.

/// A parsed template file: its nodes, and the named templates it defines.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Template {
    pub nodes: Vec<Node>,
    pub defines: Vec<(String, Vec<Node>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    /// `{{ pipeline }}`: its value is written (unless it declares a variable).
    Action(Pipeline),
    /// `{{ if a }}…{{ else if b }}…{{ else }}…{{ end }}`
    If {
        branches: Vec<(Pipeline, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    /// `{{ with x }}…{{ else }}…{{ end }}`: the body with `.` set to `x`.
    With {
        pipeline: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    /// `{{ range $k, $v := x }}…{{ else }}…{{ end }}`
    Range {
        pipeline: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    /// `{{ template "name" pipeline }}`
    Template(String, Option<Pipeline>),
    /// `{{ break }}`, `{{ continue }}`: what follows in the loop is skipped.
    Break,
    Continue,
}

/// `$x := a | f b | g`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    /// Variables declared (`:=`) or assigned (`=`) by it.
    pub variables: Vec<String>,
    pub commands: Vec<Command>,
}

/// A function call or a single operand: `include "x" .`, `.Values.a`.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `.a.b` on the current `.`; `.` itself is an empty path.
    Field(Vec<String>),
    /// `$x.a.b`; `$` is the name `""`.
    Variable(String, Vec<String>),
    String(String),
    Number(f64),
    Bool(bool),
    Nil,
    /// A function name.
    Function(String),
    /// `(pipeline).a.b`
    Pipeline(Box<Pipeline>, Vec<String>),
}

/// How many nested blocks a template may open before it is read as unknown.
const MAX_DEPTH: usize = 64;

pub fn parse(text: &str) -> Option<Template> {
    let items = lex(text)?;
    let mut parser = Parser {
        items,
        at: 0,
        defines: Vec::new(),
    };
    let (nodes, end) = parser.nodes(0)?;
    if end.is_some() {
        return None;
    }
    Some(Template {
        nodes,
        defines: parser.defines,
    })
}

/// Text, or the tokens of one action.
#[derive(Debug)]
enum Item {
    Text(String),
    Action(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Field(Vec<String>),
    Variable(String, Vec<String>),
    String(String),
    Number(f64),
    Open,
    /// `)` with the fields that follow it.
    Close(Vec<String>),
    Pipe,
    Declare,
    Assign,
    Comma,
}

fn lex(text: &str) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while !rest.is_empty() {
        let Some(open) = rest.find("{{") else {
            push_text(&mut items, rest, trim_next, false);
            break;
        };
        let body_start = open + 2;
        let trim_before = rest[body_start..].starts_with("- ")
            || rest[body_start..].starts_with("-\n")
            || rest[body_start..].starts_with("-\t");
        push_text(&mut items, &rest[..open], trim_next, trim_before);
        let inner_start = body_start + usize::from(trim_before);
        let (inner, after, trim_after) = action_body(&rest[inner_start..])?;
        trim_next = trim_after;
        let inner = inner.trim();
        if !(inner.starts_with("/*") && inner.ends_with("*/")) {
            items.push(Item::Action(tokens(inner)?));
        }
        rest = &rest[inner_start + after..];
    }
    Some(items)
}

fn push_text(items: &mut Vec<Item>, text: &str, trim_start: bool, trim_end: bool) {
    let mut t = text;
    if trim_start {
        t = t.trim_start();
    }
    if trim_end {
        t = t.trim_end();
    }
    if !t.is_empty() {
        items.push(Item::Text(t.to_string()));
    }
}

/// The inside of an action up to its `}}` (outside strings), where the text resumes, and
/// whether it ends with a trim marker.
fn action_body(s: &str) -> Option<(&str, usize, bool)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'/' if s[i..].starts_with("/*") => {
                i += s[i..].find("*/")? + 1;
            }
            b'}' if s[i..].starts_with("}}") => {
                let trimmed =
                    i >= 2 && bytes[i - 1] == b'-' && matches!(bytes[i - 2], b' ' | b'\n' | b'\t');
                let inner_end = if trimmed { i - 1 } else { i };
                return Some((&s[..inner_end], i + 2, trimmed));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn tokens(s: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    let fields = |i: &mut usize| -> Vec<String> {
        let mut fields = Vec::new();
        while *i < chars.len() && chars[*i] == '.' {
            let start = *i + 1;
            let mut j = start;
            while j < chars.len() && word_char(chars[j]) {
                j += 1;
            }
            if j == start {
                break;
            }
            fields.push(chars[start..j].iter().collect());
            *i = j;
        }
        fields
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '|' => {
                out.push(Token::Pipe);
                i += 1;
            }
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                i += 1;
                out.push(Token::Close(fields(&mut i)));
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                out.push(Token::Declare);
                i += 2;
            }
            '=' => {
                out.push(Token::Assign);
                i += 1;
            }
            '.' => {
                let f = fields(&mut i);
                if f.is_empty() {
                    i += 1; // `.` alone
                }
                out.push(Token::Field(f));
            }
            '$' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && word_char(chars[j]) {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                i = j;
                out.push(Token::Variable(name, fields(&mut i)));
            }
            '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    let c = *chars.get(i)?;
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            let e = *chars.get(i)?;
                            i += 1;
                            value.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                        c => value.push(c),
                    }
                }
                out.push(Token::String(value));
            }
            '`' => {
                let start = i + 1;
                let len = chars[start..].iter().position(|c| *c == '`')?;
                out.push(Token::String(chars[start..start + len].iter().collect()));
                i = start + len + 1;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token::Number(text.parse().ok()?));
            }
            c if word_char(c) => {
                let start = i;
                while i < chars.len() && (word_char(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
            _ => return None,
        }
    }
    Some(out)
}

struct Parser {
    items: Vec<Item>,
    at: usize,
    defines: Vec<(String, Vec<Node>)>,
}

/// What ended a list of nodes: `end`, `else`, or `else if …` / `else with …`.
#[derive(Debug)]
enum End {
    End,
    Else(Vec<Token>),
}

impl Parser {
    /// Nodes up to an `end` or `else` (returned), or the end of the file (`None`).
    fn nodes(&mut self, depth: usize) -> Option<(Vec<Node>, Option<End>)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut nodes = Vec::new();
        while self.at < self.items.len() {
            let item = std::mem::replace(&mut self.items[self.at], Item::Text(String::new()));
            self.at += 1;
            let tokens = match item {
                Item::Text(t) => {
                    nodes.push(Node::Text(t));
                    continue;
                }
                Item::Action(tokens) => tokens,
            };
            let keyword = match tokens.first() {
                Some(Token::Word(w)) => w.as_str(),
                _ => "",
            };
            match keyword {
                "end" => return Some((nodes, Some(End::End))),
                "else" => return Some((nodes, Some(End::Else(tokens[1..].to_vec())))),
                "if" => nodes.push(self.if_chain(&tokens[1..], depth)?),
                "with" => {
                    let pipeline = pipeline(&tokens[1..])?;
                    let (body, otherwise) = self.body_and_else(depth, "with")?;
                    nodes.push(Node::With {
                        pipeline,
                        body,
                        otherwise,
                    });
                }
                "range" => {
                    let pipeline = pipeline(&tokens[1..])?;
                    let (body, otherwise) = self.body_and_else(depth, "range")?;
                    nodes.push(Node::Range {
                        pipeline,
                        body,
                        otherwise,
                    });
                }
                "define" | "block" => {
                    let Some(Token::String(name)) = tokens.get(1) else {
                        return None;
                    };
                    let (body, end) = self.nodes(depth + 1)?;
                    if !matches!(end, Some(End::End)) {
                        return None;
                    }
                    if keyword == "block" {
                        let arg = pipeline(&tokens[2..])?;
                        nodes.push(Node::Template(name.clone(), Some(arg)));
                    }
                    self.defines.push((name.clone(), body));
                }
                "template" => {
                    let Some(Token::String(name)) = tokens.get(1) else {
                        return None;
                    };
                    let arg = match tokens.len() {
                        2 => None,
                        _ => Some(pipeline(&tokens[2..])?),
                    };
                    nodes.push(Node::Template(name.clone(), arg));
                }
                "break" => nodes.push(Node::Break),
                "continue" => nodes.push(Node::Continue),
                _ => nodes.push(Node::Action(pipeline(&tokens)?)),
            }
        }
        Some((nodes, None))
    }

    /// The body of a `with` or `range`, and its `else` part (`else with` chains nest).
    fn body_and_else(&mut self, depth: usize, keyword: &str) -> Option<(Vec<Node>, Vec<Node>)> {
        let (body, end) = self.nodes(depth + 1)?;
        match end? {
            End::End => Some((body, Vec::new())),
            End::Else(rest) if rest.is_empty() => {
                let (otherwise, end) = self.nodes(depth + 1)?;
                matches!(end, Some(End::End)).then_some((body, otherwise))
            }
            End::Else(rest)
                if keyword == "with" && rest.first() == Some(&Token::Word("with".into())) =>
            {
                let pipeline = pipeline(&rest[1..])?;
                let (inner, inner_else) = self.body_and_else(depth + 1, "with")?;
                Some((
                    body,
                    vec![Node::With {
                        pipeline,
                        body: inner,
                        otherwise: inner_else,
                    }],
                ))
            }
            End::Else(_) => None,
        }
    }

    fn if_chain(&mut self, condition: &[Token], depth: usize) -> Option<Node> {
        let mut branches = vec![(pipeline(condition)?, Vec::new())];
        loop {
            let (body, end) = self.nodes(depth + 1)?;
            branches.last_mut()?.1 = body;
            match end? {
                End::End => {
                    return Some(Node::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                End::Else(rest) if rest.is_empty() => {
                    let (otherwise, end) = self.nodes(depth + 1)?;
                    if !matches!(end, Some(End::End)) {
                        return None;
                    }
                    return Some(Node::If {
                        branches,
                        otherwise,
                    });
                }
                End::Else(rest) if rest.first() == Some(&Token::Word("if".into())) => {
                    branches.push((pipeline(&rest[1..])?, Vec::new()));
                }
                End::Else(_) => return None,
            }
        }
    }
}

/// `$a, $b := x | f y`
fn pipeline(tokens: &[Token]) -> Option<Pipeline> {
    let mut variables = Vec::new();
    let mut rest = tokens;
    if let Some(at) = tokens
        .iter()
        .position(|t| matches!(t, Token::Declare | Token::Assign))
        && tokens[..at]
            .iter()
            .all(|t| matches!(t, Token::Variable(_, f) if f.is_empty()) || *t == Token::Comma)
    {
        for t in &tokens[..at] {
            if let Token::Variable(name, _) = t {
                variables.push(name.clone());
            }
        }
        rest = &tokens[at + 1..];
    }
    let (commands, used) = commands(rest, 0)?;
    if used != rest.len() || commands.is_empty() {
        return None;
    }
    Some(Pipeline {
        variables,
        commands,
    })
}

/// Commands separated by `|`, up to a `)` when nested (`depth` > 0); how many tokens they
/// took.
fn commands(tokens: &[Token], depth: usize) -> Option<(Vec<Command>, usize)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let nested = depth > 0;
    let mut out = Vec::new();
    let mut args = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Pipe => {
                out.push(Command {
                    args: std::mem::take(&mut args),
                });
            }
            Token::Close(_) if nested => break,
            Token::Open => {
                let (inner, used) = commands(&tokens[i + 1..], depth + 1)?;
                let Some(Token::Close(fields)) = tokens.get(i + 1 + used) else {
                    return None;
                };
                args.push(Arg::Pipeline(
                    Box::new(Pipeline {
                        variables: Vec::new(),
                        commands: inner,
                    }),
                    fields.clone(),
                ));
                i += used + 1;
            }
            Token::Field(f) => args.push(Arg::Field(f.clone())),
            Token::Variable(name, f) => args.push(Arg::Variable(name.clone(), f.clone())),
            Token::String(s) => args.push(Arg::String(s.clone())),
            Token::Number(n) => args.push(Arg::Number(*n)),
            Token::Word(w) => args.push(match w.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                _ => Arg::Function(w.clone()),
            }),
            Token::Close(_) | Token::Declare | Token::Assign | Token::Comma => return None,
        }
        i += 1;
    }
    if !args.is_empty() {
        out.push(Command { args });
    }
    if out.iter().any(|c| c.args.is_empty()) {
        return None;
    }
    Some((out, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helm_create_service_account_template_parses() {
        let t = parse(
            "{{- if .Values.serviceAccount.create -}}\napiVersion: v1\nkind: ServiceAccount\n\
             metadata:\n  name: {{ include \"ledger.serviceAccountName\" . }}\n  \
             {{- with .Values.serviceAccount.annotations }}\n  annotations:\n    \
             {{- toYaml . | nindent 4 }}\n  {{- end }}\n{{- end }}\n",
        )
        .unwrap();
        let [
            Node::If {
                branches,
                otherwise,
            },
            Node::Text(newline),
        ] = t.nodes.as_slice()
        else {
            panic!("{t:?}");
        };
        assert_eq!(newline, "\n");
        assert!(otherwise.is_empty());
        assert_eq!(
            branches[0].0.commands[0].args,
            [Arg::Field(vec![
                "Values".into(),
                "serviceAccount".into(),
                "create".into()
            ])]
        );
        // The trim markers ate the newline after the `if` and the indentation before `with`.
        let Node::Text(first) = &branches[0].1[0] else {
            panic!()
        };
        assert!(first.starts_with("apiVersion"));
        assert!(matches!(branches[0].1.last(), Some(Node::With { .. })));
    }

    #[test]
    fn helpers_define_named_templates() {
        let t = parse(
            "{{/* Expand the name of the chart. */}}\n{{- define \"x.fullname\" -}}\n\
             {{- if .Values.fullnameOverride }}\n{{- .Values.fullnameOverride | trunc 63 | trimSuffix \"-\" }}\n\
             {{- else }}\n{{- $name := default .Chart.Name .Values.nameOverride }}\n\
             {{- if contains $name .Release.Name }}\n{{- .Release.Name | trunc 63 | trimSuffix \"-\" }}\n\
             {{- else }}\n{{- printf \"%s-%s\" .Release.Name $name | trunc 63 | trimSuffix \"-\" }}\n\
             {{- end }}\n{{- end }}\n{{- end }}\n",
        )
        .unwrap();
        assert_eq!(t.defines.len(), 1);
        assert_eq!(t.defines[0].0, "x.fullname");
        assert!(
            t.nodes
                .iter()
                .all(|n| matches!(n, Node::Text(s) if s.trim().is_empty()))
        );
    }

    #[test]
    fn pipelines_parenthesized_and_declared() {
        let t = parse("{{ $a := (index .Values \"x\").y | default \"z\" }}").unwrap();
        let [Node::Action(p)] = t.nodes.as_slice() else {
            panic!()
        };
        assert_eq!(p.variables, ["a"]);
        assert_eq!(p.commands.len(), 2);
        assert!(matches!(&p.commands[0].args[0], Arg::Pipeline(_, f) if f == &["y".to_string()]));
    }

    #[test]
    fn unreadable_templates_are_none() {
        let deep = format!("{{{{ {}.a{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).is_none(), "nesting is bounded");
        assert!(parse("{{ if .a }}no end").is_none());
        assert!(parse("{{ .a ").is_none());
        assert!(parse("{{ end }}").is_none());
    }
}
