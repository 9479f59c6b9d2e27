//! JSONPath as API Gateway evaluates it (Jayway JsonPath): compiled once; a definite path
//! (names and indexes only) yields one value or null, an indefinite one (wildcards, deep
//! scans, filters, slices) yields the list of matches.

use crate::vtl::json::{Json, JsonObject};
use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use jsonpath_rust::query::queryable::Queryable;
use std::borrow::Cow;
use std::sync::Arc;

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
        let query = jsonpath_rust::parser::parse_json_path(&normal).map_err(|e| format!("invalid JSONPath {text:?}: {e}"))?;
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

    /// The match: `None` when a definite path finds nothing.
    pub fn eval(&self, root: &Json) -> Option<Json> {
        match self {
            JsonPath::Definite(steps) => {
                let mut at = root;
                for step in steps {
                    at = match (step, at) {
                        (Step::Name(n), Json::Object(o)) => o.get(n)?,
                        (Step::Index(i), Json::Array(a)) => {
                            let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                            a.get(usize::try_from(idx).ok()?)?
                        }
                        _ => return None,
                    };
                }
                Some(at.clone())
            }
            JsonPath::Query(q) => {
                let found = jsonpath_rust::query::js_path_process(q, root).unwrap_or_default();
                Some(Json::Array(Arc::new(found.into_iter().map(|r| r.val().clone()).collect())))
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
                if name.chars().all(|c| c.is_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit()) {
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
        _ => Json::Object(Arc::new(JsonObject::default())),
    };
    match path.eval(&root)? {
        Json::Null => None,
        Json::Str(s) => Some(s.to_string()),
        other => Some(other.to_json_string()),
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::Str(s.into())
    }
}
impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::Str(s.into())
    }
}
impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}
impl From<i64> for Json {
    fn from(i: i64) -> Self {
        Json::Int(i)
    }
}
impl From<f64> for Json {
    fn from(f: f64) -> Self {
        Json::Float(f)
    }
}
impl From<Vec<Json>> for Json {
    fn from(v: Vec<Json>) -> Self {
        Json::Array(Arc::new(v))
    }
}

impl Queryable for Json {
    fn get(&self, key: &str) -> Option<&Self> {
        Json::get(self, key)
    }
    fn as_array(&self) -> Option<&Vec<Self>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }
    fn as_object(&self) -> Option<Vec<(&str, &Self)>> {
        match self {
            Json::Object(o) => Some(o.entries.iter().map(|(k, v)| (&**k, v)).collect()),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Int(i) => Some(*i),
            _ => None,
        }
    }
    fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Int(i) => Some(*i as f64),
            Json::Float(f) => Some(*f),
            _ => None,
        }
    }
    fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn null() -> Self {
        Json::Null
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
