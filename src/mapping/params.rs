//! The values mapping sources read: method request parameters (path, query string, headers,
//! body), stage variables and `$context` (`runtime.md` §5.1, §7.2).

use super::context::RequestContext;
use super::expression::{RequestLocation, Source};
use http::HeaderMap;
use std::collections::BTreeMap;

/// What a mapping source yields: one value, or the several values of a multi-value source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    One(String),
    Many(Vec<String>),
}

impl Mapped {
    /// The value as one string (several values joined with `,`, as AWS joins multi-value
    /// headers).
    pub fn joined(self) -> String {
        match self {
            Self::One(s) => s,
            Self::Many(v) => v.join(","),
        }
    }
}

/// The method request as mappings see it.
pub struct MethodRequestView<'a> {
    pub path_params: &'a [(&'a str, &'a str)],
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub stage_variables: &'a BTreeMap<String, String>,
    pub context: &'a RequestContext,
}

impl MethodRequestView<'_> {
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The last value of a query string parameter, as API Gateway's single-value view.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A client header, unless it is one API Gateway drops at the door.
    pub fn header(&self, name: &str) -> Option<&str> {
        if crate::pipeline::DROPPED_AT_THE_DOOR.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            return None;
        }
        self.headers.get_all(name).iter().next_back().and_then(|v| v.to_str().ok())
    }

    /// Evaluates a source; absent and empty values are `None`, as AWS omits them.
    pub fn eval(&self, source: &Source) -> Option<Mapped> {
        let mapped = match source {
            Source::MethodRequest(loc, name) => match loc {
                RequestLocation::Path => Mapped::One(self.path_param(name)?.to_string()),
                RequestLocation::QueryString => Mapped::One(self.query_param(name)?.to_string()),
                RequestLocation::MultiValueQueryString => {
                    let values: Vec<String> =
                        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect();
                    match values.len() {
                        0 => return None,
                        1 => Mapped::One(values.into_iter().next().unwrap_or_default()),
                        _ => Mapped::Many(values),
                    }
                }
                RequestLocation::Header => Mapped::One(self.header(name)?.to_string()),
                RequestLocation::MultiValueHeader => {
                    self.header(name)?;
                    let values: Vec<&str> =
                        self.headers.get_all(name.as_str()).iter().filter_map(|v| v.to_str().ok()).collect();
                    if values.is_empty() {
                        return None;
                    }
                    Mapped::One(values.join(","))
                }
            },
            Source::MethodRequestBody(None) => Mapped::One(String::from_utf8_lossy(self.body).into_owned()),
            Source::MethodRequestBody(Some(path)) => Mapped::One(super::jsonpath::body_value(self.body, &path.path)?),
            Source::StageVariable(name) => Mapped::One(self.stage_variables.get(name)?.clone()),
            Source::Context(name) => Mapped::One(self.context.get(name)?),
            Source::Static(v) => Mapped::One(v.clone()),
            Source::IntegrationResponseHeader { .. } | Source::IntegrationResponseBody(_) => return None,
        };
        match &mapped {
            Mapped::One(s) if s.is_empty() => None,
            _ => Some(mapped),
        }
    }
}

/// Splits a raw query string into decoded pairs, in order (`+` is a space, `%2B` a plus).
///
/// Split byte by byte: a query string is short, and a character search pays more to start
/// than such a string takes to scan.
pub fn query_pairs(raw: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest.bytes().position(|b| b == b'&').unwrap_or(rest.len());
        // `&` and `=` are ASCII: both splits fall between characters.
        let pair = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.bytes().position(|b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, ""),
        };
        pairs.push((form_decode(k), form_decode(v)));
    }
    pairs
}

/// A query string key or value decoded as `URLDecoder` decodes it: `+` is a space, `%XX` a
/// byte, a malformed escape stays as it is, and bytes that are not UTF-8 become U+FFFD.
pub fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b == b'+' || b == b'%') {
        return s.to_string();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes a query string key or value the way `URLEncoder` does (space as `+`).
pub fn form_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0').to_ascii_uppercase());
                out.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0').to_ascii_uppercase());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = query_pairs("email=test%2Balias@gmail.com&plus=test+alias@gmail.com&a=1&a=2&bad=%zz&end=%4");
        assert_eq!(q[0], ("email".into(), "test+alias@gmail.com".into()));
        assert_eq!(q[1], ("plus".into(), "test alias@gmail.com".into()));
        assert_eq!(q[4], ("bad".into(), "%zz".into()));
        assert_eq!(q[5], ("end".into(), "%4".into()));
        assert_eq!(q[2], ("a".into(), "1".into()));
        let pairs = |raw| query_pairs(raw).into_iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>();
        assert_eq!(pairs("&&a=&=b&c&d=1=2&é=ü&"), ["a:", ":b", "c:", "d:1=2", "é:ü"]);
        assert_eq!(pairs(""), Vec::<String>::new());
        assert_eq!(form_decode("O%27Brien"), "O'Brien");
        assert_eq!(form_decode("caf%C3%A9"), "café");
        assert_eq!(form_decode("%FFx"), "\u{FFFD}x");
    }

    #[test]
    fn form_encoding() {
        let mut s = String::new();
        form_encode("a b&c~*", &mut s);
        assert_eq!(s, "a+b%26c%7E*");
    }
}
