//! JSONPath as API Gateway evaluates it (Jayway JsonPath): compiled once; a definite path
//! (names and indexes only) yields one value or null, an indefinite one (wildcards, deep
//! scans, filters, slices) yields the list of matches.

use crate::vtl::json::Json;
use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub enum JsonPath {
    Definite(Vec<Step>),
    Query(JpQuery),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Name(String),
    Index(i64),
}

impl JsonPath {
    /// Compiles a path as Jayway does: a path that does not start with `$` or `@` is read as
    /// `$.` followed by it; dotted names may hold characters such as `-`.
    pub fn compile(text: &str) -> Result<JsonPath, String> {
        let text = text.trim();
        let normal = normalize(text);
        let query =
            jsonpath_rust::parser::parse_json_path(&normal).map_err(|e| format!("invalid JSONPath {text:?}: {e}"))?;
        let mut steps = Vec::new();
        for seg in &query.segments {
            match seg {
                Segment::Selector(Selector::Name(n)) => steps.push(Step::Name(n.clone())),
                Segment::Selector(Selector::Index(i)) => steps.push(Step::Index(*i)),
                _ => return Ok(JsonPath::Query(query)),
            }
        }
        Ok(JsonPath::Definite(steps))
    }

    /// The match: `None` when a definite path finds nothing. Indefinite paths run on a
    /// copy of the document (they are rare in mapping templates).
    pub fn eval(&self, root: &Json) -> Option<Json> {
        match self {
            JsonPath::Definite(steps) => {
                let mut at = root.clone();
                for step in steps {
                    at = match step {
                        Step::Name(n) => at.get(n)?,
                        Step::Index(i) => at.index(*i)?,
                    };
                }
                Some(at)
            }
            JsonPath::Query(q) => {
                let tree = root.to_serde();
                let found = jsonpath_rust::query::js_path_process(q, &tree).unwrap_or_default();
                let items = found.into_iter().map(|r| r.val().clone()).collect();
                Some(Json::from_serde(&serde_json::Value::Array(items)))
            }
        }
    }
}

/// Rewrites Jayway-isms the RFC 9535 parser refuses: a missing leading `$`, and dotted
/// member names with characters outside letters, digits and `_`.
fn normalize(text: &str) -> String {
    let text: Cow<str> = if text.starts_with('$') || text.starts_with('@') {
        Cow::Borrowed(text)
    } else if text.is_empty() {
        Cow::Borrowed("$")
    } else if text.starts_with('[') {
        Cow::Owned(format!("${text}"))
    } else {
        Cow::Owned(format!("$.{text}"))
    };
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut in_brackets = 0usize;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' if in_brackets > 0 => {
                quote = Some(c);
                out.push(c);
            }
            '[' => {
                in_brackets += 1;
                out.push(c);
            }
            ']' => {
                in_brackets = in_brackets.saturating_sub(1);
                out.push(c);
            }
            '.' if in_brackets == 0 && chars.get(i + 1).is_some_and(|n| *n != '.' && *n != '*' && *n != '[') => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && !matches!(chars[end], '.' | '[') {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                if name.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                {
                    out.push('.');
                    out.push_str(&name);
                } else {
                    out.push_str("['");
                    out.push_str(&name.replace('\\', "\\\\").replace('\'', "\\'"));
                    out.push_str("']");
                }
                i = end;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// `method.request.body.PATH` / `integration.response.body.PATH`: the value as text (JSON
/// text for objects and lists); the body is read as JSON only if it looks like JSON.
pub fn body_value(body: &[u8], path: &JsonPath) -> Option<String> {
    let root = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[' | b'"' | b'\'') => Json::parse(body).ok()?,
        _ => Json::parse(b"{}").ok()?,
    };
    let found = path.eval(&root)?;
    match found.kind() {
        crate::vtl::json::Kind::Null => None,
        crate::vtl::json::Kind::Str(s) => Some(s.to_string()),
        _ => Some(found.to_json_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(path: &str, body: &str) -> Option<String> {
        let p = JsonPath::compile(path).unwrap();
        p.eval(&Json::parse(body.as_bytes()).unwrap()).map(|j| j.to_json_string())
    }

    #[test]
    fn definite_and_indefinite() {
        let body = r#"{"a": {"b-c": [1, {"d": "x"}]}, "items": [{"p": 1}, {"p": 5}]}"#;
        assert_eq!(eval("$.a.b-c[1].d", body).as_deref(), Some("\"x\""));
        assert_eq!(eval("a.b-c[0]", body).as_deref(), Some("1"));
        assert_eq!(eval("$.missing", body), None);
        assert_eq!(eval("$.items[*].p", body).as_deref(), Some("[1,5]"));
        assert_eq!(eval("$.items[?(@.p > 2)].p", body).as_deref(), Some("[5]"));
        assert_eq!(eval("$", "[1]").as_deref(), Some("[1]"));
        assert_eq!(eval("$.items[-1].p", body).as_deref(), Some("5"));
    }
}

/// A compiled JSONPath that remembers how it was written (for messages and equality).
#[derive(Debug, Clone)]
pub struct BodyPath {
    pub text: String,
    pub path: JsonPath,
}

impl PartialEq for BodyPath {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl BodyPath {
    pub fn compile(text: &str) -> Result<Self, String> {
        Ok(Self { text: text.to_string(), path: JsonPath::compile(text)? })
    }
}
