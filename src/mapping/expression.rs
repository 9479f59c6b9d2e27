//! Parameter mapping expressions (`method.request.path.id`, `integration.response.header.X`,
//! `'static'`, ...): parsed once at load into what they read and where they write.

use super::jsonpath::BodyPath;
use std::fmt;

/// Where a method request parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestLocation {
    Header,
    MultiValueHeader,
    Path,
    QueryString,
    MultiValueQueryString,
}

impl RequestLocation {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "path" => Self::Path,
            "querystring" => Self::QueryString,
            "multivaluequerystring" => Self::MultiValueQueryString,
            "header" => Self::Header,
            "multivalueheader" => Self::MultiValueHeader,
            _ => return None,
        })
    }

    pub fn word(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::QueryString => "querystring",
            Self::MultiValueQueryString => "multivaluequerystring",
            Self::Header => "header",
            Self::MultiValueHeader => "multivalueheader",
        }
    }
}

/// A mapping source: the right-hand side of a `requestParameters` or `responseParameters`
/// entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    MethodRequest(RequestLocation, String),
    /// `method.request.body`, or one JSONPath into it (the text after `body.`).
    MethodRequestBody(Option<BodyPath>),
    IntegrationResponseHeader {
        name: String,
        multi: bool,
    },
    IntegrationResponseBody(Option<BodyPath>),
    StageVariable(String),
    /// A `$context` variable by its dotted name, e.g. `identity.sourceIp`.
    Context(String),
    Static(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MethodRequest(loc, name) => write!(f, "method.request.{}.{name}", loc.word()),
            Self::MethodRequestBody(None) => write!(f, "method.request.body"),
            Self::MethodRequestBody(Some(p)) => write!(f, "method.request.body.{}", p.text),
            Self::IntegrationResponseHeader { name, multi: false } => {
                write!(f, "integration.response.header.{name}")
            }
            Self::IntegrationResponseHeader { name, multi: true } => {
                write!(f, "integration.response.multivalueheader.{name}")
            }
            Self::IntegrationResponseBody(None) => write!(f, "integration.response.body"),
            Self::IntegrationResponseBody(Some(p)) => {
                write!(f, "integration.response.body.{}", p.text)
            }
            Self::StageVariable(n) => write!(f, "stageVariables.{n}"),
            Self::Context(n) => write!(f, "context.{n}"),
            Self::Static(v) => write!(f, "'{v}'"),
        }
    }
}

/// Which mapping a source appears in; each allows its own set of sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    IntegrationRequest,
    IntegrationResponse,
    GatewayResponse,
}

fn name_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.strip_prefix(prefix).filter(|n| !n.is_empty())
}

fn body_path(rest: &str) -> Result<Option<BodyPath>, String> {
    rest.strip_prefix("body.").map(BodyPath::compile).transpose()
}

/// Parses a source expression as AWS accepts it on `side`.
pub fn parse_source(text: &str, side: Side) -> Result<Source, String> {
    let invalid = || format!("invalid mapping expression {text:?}");
    if let Some(inner) = text.strip_prefix('\'') {
        return match inner.strip_suffix('\'') {
            Some(v) => Ok(Source::Static(v.to_string())),
            None => Err(format!("{}: a static value must be enclosed in single quotes", invalid())),
        };
    }
    if let Some(n) = name_after(text, "stageVariables.") {
        return Ok(Source::StageVariable(n.to_string()));
    }
    if let Some(n) = name_after(text, "context.") {
        return Ok(Source::Context(n.to_string()));
    }
    if let Some(rest) = text.strip_prefix("method.request.") {
        if side == Side::IntegrationResponse {
            return Err(format!("{}: an integration response maps from integration.response.*, stageVariables.*, context.* or a 'static' value", invalid()));
        }
        if rest == "body" || rest.starts_with("body.") {
            if side == Side::GatewayResponse {
                return Err(format!("{}: a gateway response cannot map from the request body", invalid()));
            }
            return Ok(Source::MethodRequestBody(body_path(rest)?));
        }
        let (word, name) = rest.split_once('.').ok_or_else(invalid)?;
        let loc = RequestLocation::parse(word).ok_or_else(invalid)?;
        if name.is_empty() {
            return Err(invalid());
        }
        return Ok(Source::MethodRequest(loc, name.to_string()));
    }
    if let Some(rest) = text.strip_prefix("integration.response.") {
        if side != Side::IntegrationResponse {
            return Err(format!("{}: integration.response.* is only available in integration responses", invalid()));
        }
        if rest == "body" || rest.starts_with("body.") {
            return Ok(Source::IntegrationResponseBody(body_path(rest)?));
        }
        if let Some(n) = name_after(rest, "header.") {
            return Ok(Source::IntegrationResponseHeader { name: n.to_string(), multi: false });
        }
        if let Some(n) = name_after(rest, "multivalueheader.") {
            return Ok(Source::IntegrationResponseHeader { name: n.to_string(), multi: true });
        }
    }
    Err(invalid())
}

/// Where an integration request mapping writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTarget {
    Path(String),
    QueryString(String),
    Header(String),
}

pub fn parse_request_target(text: &str) -> Result<RequestTarget, String> {
    let rest = text.strip_prefix("integration.request.").ok_or_else(|| {
        format!("invalid mapping target {text:?}: must be integration.request.path|querystring|header.NAME")
    })?;
    let target = if let Some(n) = name_after(rest, "path.") {
        RequestTarget::Path(n.to_string())
    } else if let Some(n) = name_after(rest, "querystring.") {
        RequestTarget::QueryString(n.to_string())
    } else if let Some(n) = name_after(rest, "header.") {
        RequestTarget::Header(n.to_string())
    } else {
        return Err(format!(
            "invalid mapping target {text:?}: must be integration.request.path|querystring|header.NAME"
        ));
    };
    Ok(target)
}

/// The header name of a `method.response.header.NAME` (or, for gateway responses,
/// `gatewayresponse.header.NAME`) target.
pub fn parse_header_target(text: &str, prefix: &str) -> Result<String, String> {
    name_after(text, prefix)
        .map(str::to_string)
        .ok_or_else(|| format!("invalid mapping target {text:?}: must be {prefix}NAME"))
}

/// A method request parameter declaration key, `method.request.LOCATION.NAME`.
pub fn parse_method_parameter(text: &str) -> Result<(RequestLocation, String), String> {
    match parse_source(text, Side::IntegrationRequest) {
        Ok(Source::MethodRequest(loc, name)) => Ok((loc, name)),
        _ => Err(format!(
            "invalid method request parameter {text:?}: must be method.request.path|querystring|multivaluequerystring|header|multivalueheader.NAME"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            parse_source("method.request.path.petId", Side::IntegrationRequest),
            Ok(Source::MethodRequest(RequestLocation::Path, "petId".into()))
        );
        assert_eq!(parse_source("'a b'", Side::IntegrationRequest), Ok(Source::Static("a b".into())));
        assert_eq!(
            parse_source("method.request.body.pets[0].name", Side::IntegrationRequest),
            Ok(Source::MethodRequestBody(Some(BodyPath::compile("pets[0].name").unwrap())))
        );
        assert!(parse_source("integration.response.header.X", Side::IntegrationRequest).is_err());
        assert!(parse_source("method.request.cookie.x", Side::IntegrationRequest).is_err());
        assert!(parse_source("'open", Side::IntegrationRequest).is_err());
        assert_eq!(
            parse_source("integration.response.multivalueheader.X", Side::IntegrationResponse),
            Ok(Source::IntegrationResponseHeader { name: "X".into(), multi: true })
        );
    }
}
