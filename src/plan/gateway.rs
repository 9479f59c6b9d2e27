//! Customised gateway responses, compiled: the status, the header mappings, and the body
//! templates, which API Gateway fills by plain substitution of `$context.*`,
//! `$stageVariables.*` and `$method.request.*` (they are not VTL).

use crate::mapping::expression::{parse_header_target, parse_source, Side, Source};
use http::{HeaderName, StatusCode};

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Context(String),
    StageVariable(String),
    MethodRequest(Source),
}

#[derive(Debug, Clone)]
pub struct GatewayResponsePlan {
    pub status: Option<StatusCode>,
    pub parameters: Vec<(HeaderName, Source)>,
    /// Body templates by content type, in document order.
    pub templates: Vec<(String, Vec<Piece>)>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// Splits a gateway response template into text and the variables it substitutes.
pub fn parse_template(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (braced, body) = match after.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, after),
        };
        let len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
        let name = body[..len].trim_end_matches('.');
        let closed = !braced || body[name.len()..].starts_with('}');
        let piece = if !closed {
            None
        } else if let Some(n) = name.strip_prefix("context.").filter(|n| !n.is_empty()) {
            Some(Piece::Context(n.to_string()))
        } else if let Some(n) = name.strip_prefix("stageVariables.").filter(|n| !n.is_empty()) {
            Some(Piece::StageVariable(n.to_string()))
        } else if let Some(Ok(source)) =
            name.starts_with("method.request.").then(|| parse_source(name, Side::GatewayResponse))
        {
            Some(Piece::MethodRequest(source))
        } else {
            None
        };
        match piece {
            Some(p) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(p);
                rest = &body[name.len() + braced as usize..];
            }
            None => {
                literal.push('$');
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    pieces
}

/// A `gatewayresponse.header.NAME` → source mapping.
pub fn parse_parameter(target: &str, source: &str) -> Result<(HeaderName, Source), String> {
    let name = parse_header_target(target, "gatewayresponse.header.")?;
    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a valid header name"))?;
    Ok((header, parse_source(source, Side::GatewayResponse)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_pieces() {
        let p = parse_template(
            r#"{"message":$context.error.messageString,"type":"${context.error.responseType}","v":"$stageVariables.v","$5"}"#,
        );
        assert_eq!(
            p,
            vec![
                Piece::Text("{\"message\":".into()),
                Piece::Context("error.messageString".into()),
                Piece::Text(",\"type\":\"".into()),
                Piece::Context("error.responseType".into()),
                Piece::Text("\",\"v\":\"".into()),
                Piece::StageVariable("v".into()),
                Piece::Text("\",\"$5\"}".into()),
            ]
        );
    }
}
