//! The API document as a tree of positioned values, read from YAML or JSON, so that every
//! problem found later can name the line and column it comes from.

use std::fmt;

/// A place in the document: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub text: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

impl Node {
    /// What the node holds, in the words a problem message uses.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The node converted to JSON, for the parts of the document that are JSON themselves
    /// (model schemas given inline).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => {
                serde_json::Number::from_f64(*f).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
            }
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                serde_json::Value::Object(entries.iter().map(|(k, v)| (k.text.clone(), v.to_json())).collect())
            }
        }
    }
}

/// The document could not be read as YAML or JSON at all.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Reads a document, choosing the JSON reader for `.json` files (so that errors point at the
/// right place) and YAML otherwise.
pub fn parse(text: &str, is_json: bool) -> Result<Node, SyntaxError> {
    if is_json {
        json::parse(text)
    } else {
        yaml::parse(text)
    }
}

mod yaml {
    use super::{Key, Node, Pos, SyntaxError, Value};
    use saphyr_parser::{Event, Parser, ScalarStyle, Span};
    use std::collections::HashMap;

    enum Frame {
        Seq(Vec<Node>, Pos, usize),
        Map(Vec<(Key, Node)>, Option<Key>, Pos, usize),
    }

    fn pos(span: &Span) -> Pos {
        Pos { line: span.start.line() as u32, col: span.start.col() as u32 + 1 }
    }

    pub fn parse(text: &str) -> Result<Node, SyntaxError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut anchors: HashMap<usize, Node> = HashMap::new();
        let mut root: Option<Node> = None;
        for item in Parser::new_from_str(text) {
            let (event, span) = item.map_err(|e| SyntaxError {
                pos: Pos { line: e.marker().line() as u32, col: e.marker().col() as u32 + 1 },
                message: e.info().to_string(),
            })?;
            let at = pos(&span);
            let done = match event {
                Event::DocumentStart(_) if root.is_some() => {
                    return Err(SyntaxError { pos: at, message: "the file holds more than one YAML document".into() })
                }
                Event::Scalar(raw, style, anchor, _) => {
                    if let Some(Frame::Map(_, pending @ None, _, _)) = stack.last_mut() {
                        *pending = Some(Key { text: raw.into_owned(), pos: at });
                        continue;
                    }
                    let text = raw;
                    let value = if style == ScalarStyle::Plain { plain(&text) } else { Value::Str(text.into_owned()) };
                    let node = Node { value, pos: at };
                    if anchor > 0 {
                        anchors.insert(anchor, node.clone());
                    }
                    Some(node)
                }
                Event::Alias(id) => Some(
                    anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| SyntaxError { pos: at, message: "alias to an unknown anchor".into() })?,
                ),
                Event::SequenceStart(anchor, _) => {
                    stack.push(Frame::Seq(Vec::new(), at, anchor));
                    None
                }
                Event::MappingStart(anchor, _) => {
                    stack.push(Frame::Map(Vec::new(), None, at, anchor));
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, anchor) = match stack.pop() {
                        Some(Frame::Seq(items, p, a)) => (Node { value: Value::Seq(items), pos: p }, a),
                        Some(Frame::Map(entries, _, p, a)) => (Node { value: Value::Map(entries), pos: p }, a),
                        None => continue,
                    };
                    if anchor > 0 {
                        anchors.insert(anchor, node.clone());
                    }
                    Some(node)
                }
                _ => None,
            };
            let Some(node) = done else { continue };
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq(items, _, _)) => items.push(node),
                Some(Frame::Map(entries, pending, _, _)) => match pending.take() {
                    Some(key) => entries.push((key, node)),
                    None => {
                        let text = match node.value {
                            Value::Str(s) => s,
                            Value::Null => String::new(),
                            Value::Bool(b) => b.to_string(),
                            Value::Int(i) => i.to_string(),
                            Value::Float(f) => f.to_string(),
                            Value::Seq(_) | Value::Map(_) => {
                                return Err(SyntaxError {
                                    pos: node.pos,
                                    message: "a map key must be a plain value, not a list or a map".into(),
                                })
                            }
                        };
                        *pending = Some(Key { text, pos: node.pos });
                    }
                },
            }
        }
        Ok(root.unwrap_or(Node { value: Value::Null, pos: Pos { line: 1, col: 1 } }))
    }

    /// YAML 1.2 core schema resolution of a plain scalar.
    fn plain(text: &str) -> Value {
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
            "true" | "True" | "TRUE" => return Value::Bool(true),
            "false" | "False" | "FALSE" => return Value::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
            _ => {}
        }
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(i) = text.parse::<i64>() {
                return Value::Int(i);
            }
        }
        if let Some(hex) = text.strip_prefix("0x") {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Value::Int(i);
            }
        }
        if let Some(oct) = text.strip_prefix("0o") {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return Value::Int(i);
            }
        }
        let looks_float = digits.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
            && digits.bytes().any(|b| b.is_ascii_digit());
        if looks_float {
            if let Ok(f) = text.parse::<f64>() {
                return Value::Float(f);
            }
        }
        Value::Str(text.to_string())
    }
}

mod json {
    use super::{Key, Node, Pos, SyntaxError, Value};

    const MAX_DEPTH: usize = 256;

    struct Reader<'a> {
        bytes: &'a [u8],
        text: &'a str,
        at: usize,
        line: u32,
        line_start: usize,
    }

    pub fn parse(text: &str) -> Result<Node, SyntaxError> {
        let mut r = Reader { bytes: text.as_bytes(), text, at: 0, line: 1, line_start: 0 };
        r.skip_ws();
        let node = r.value(0)?;
        r.skip_ws();
        if r.at < r.bytes.len() {
            return Err(r.error("unexpected text after the JSON value"));
        }
        Ok(node)
    }

    impl Reader<'_> {
        fn pos(&self) -> Pos {
            let col = self.text[self.line_start..self.at].chars().count() as u32 + 1;
            Pos { line: self.line, col }
        }

        fn error(&self, message: &str) -> SyntaxError {
            SyntaxError { pos: self.pos(), message: message.to_string() }
        }

        fn skip_ws(&mut self) {
            while let Some(&b) = self.bytes.get(self.at) {
                match b {
                    b'\n' => {
                        self.at += 1;
                        self.line += 1;
                        self.line_start = self.at;
                    }
                    b' ' | b'\t' | b'\r' => self.at += 1,
                    _ => break,
                }
            }
        }

        fn eat(&mut self, b: u8) -> bool {
            if self.bytes.get(self.at) == Some(&b) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
            if depth > MAX_DEPTH {
                return Err(self.error("nesting is too deep"));
            }
            let pos = self.pos();
            let value = match self.bytes.get(self.at) {
                None => return Err(self.error("unexpected end of the file, a value was expected")),
                Some(b'{') => {
                    self.at += 1;
                    let mut entries = Vec::new();
                    self.skip_ws();
                    if !self.eat(b'}') {
                        loop {
                            self.skip_ws();
                            let key_pos = self.pos();
                            if self.bytes.get(self.at) != Some(&b'"') {
                                return Err(self.error("expected a string key"));
                            }
                            let text = self.string()?;
                            self.skip_ws();
                            if !self.eat(b':') {
                                return Err(self.error("expected ':' after the key"));
                            }
                            self.skip_ws();
                            let v = self.value(depth + 1)?;
                            entries.push((Key { text, pos: key_pos }, v));
                            self.skip_ws();
                            if self.eat(b',') {
                                continue;
                            }
                            if self.eat(b'}') {
                                break;
                            }
                            return Err(self.error("expected ',' or '}'"));
                        }
                    }
                    Value::Map(entries)
                }
                Some(b'[') => {
                    self.at += 1;
                    let mut items = Vec::new();
                    self.skip_ws();
                    if !self.eat(b']') {
                        loop {
                            self.skip_ws();
                            items.push(self.value(depth + 1)?);
                            self.skip_ws();
                            if self.eat(b',') {
                                continue;
                            }
                            if self.eat(b']') {
                                break;
                            }
                            return Err(self.error("expected ',' or ']'"));
                        }
                    }
                    Value::Seq(items)
                }
                Some(b'"') => Value::Str(self.string()?),
                Some(b't') if self.text[self.at..].starts_with("true") => {
                    self.at += 4;
                    Value::Bool(true)
                }
                Some(b'f') if self.text[self.at..].starts_with("false") => {
                    self.at += 5;
                    Value::Bool(false)
                }
                Some(b'n') if self.text[self.at..].starts_with("null") => {
                    self.at += 4;
                    Value::Null
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(_) => return Err(self.error("unexpected character, a value was expected")),
            };
            Ok(Node { value, pos })
        }

        fn number(&mut self) -> Result<Value, SyntaxError> {
            let start = self.at;
            while let Some(&b) = self.bytes.get(self.at) {
                if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                    self.at += 1;
                } else {
                    break;
                }
            }
            let text = &self.text[start..self.at];
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
            text.parse::<f64>().map(Value::Float).map_err(|_| {
                self.at = start;
                self.error("malformed number")
            })
        }

        fn string(&mut self) -> Result<String, SyntaxError> {
            self.at += 1;
            let mut out = String::new();
            loop {
                let rest = &self.text[self.at..];
                let Some(c) = rest.chars().next() else {
                    return Err(self.error("unterminated string"));
                };
                self.at += c.len_utf8();
                match c {
                    '"' => return Ok(out),
                    '\\' => {
                        let Some(e) = self.bytes.get(self.at).copied() else {
                            return Err(self.error("unterminated string"));
                        };
                        self.at += 1;
                        match e {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let hi = self.hex4()?;
                                let c = if (0xD800..0xDC00).contains(&hi) && self.text[self.at..].starts_with("\\u") {
                                    self.at += 2;
                                    let lo = self.hex4()?;
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF))
                                } else {
                                    char::from_u32(hi)
                                };
                                out.push(c.unwrap_or('\u{FFFD}'));
                            }
                            _ => {
                                self.at -= 2;
                                return Err(self.error("invalid escape in string"));
                            }
                        }
                    }
                    '\n' => {
                        self.at -= 1;
                        return Err(self.error("line break inside a string"));
                    }
                    c => out.push(c),
                }
            }
        }

        fn hex4(&mut self) -> Result<u32, SyntaxError> {
            let digits = self.text.get(self.at..self.at + 4).ok_or_else(|| self.error("truncated \\u escape"))?;
            let v = u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid \\u escape"))?;
            self.at += 4;
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_positions_and_types() {
        let n = parse("a: 1\nb:\n  - 'x'\n  - true\n\"200\": {c: 1.5}\n", false).unwrap();
        let Value::Map(entries) = &n.value else { panic!() };
        assert_eq!(entries[0].0.text, "a");
        assert_eq!(entries[0].1.value, Value::Int(1));
        assert_eq!(entries[0].1.pos, Pos { line: 1, col: 4 });
        let Value::Seq(items) = &entries[1].1.value else { panic!() };
        assert_eq!(items[0].value, Value::Str("x".into()));
        assert_eq!(items[1].pos, Pos { line: 4, col: 5 });
        assert_eq!(entries[2].0.text, "200");
    }

    #[test]
    fn json_positions_and_errors() {
        let n = parse("{\n  \"a\": [1, 2.5, \"\\u00e9\"]\n}", true).unwrap();
        let Value::Map(entries) = &n.value else { panic!() };
        assert_eq!(entries[0].0.pos, Pos { line: 2, col: 3 });
        let err = parse("{\n  \"a\": tru\n}", true).unwrap_err();
        assert_eq!(err.pos, Pos { line: 2, col: 8 });
        let err = parse("{\"a\": 1,}", true).unwrap_err();
        assert_eq!(err.pos, Pos { line: 1, col: 9 });
    }
}
