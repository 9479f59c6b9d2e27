//! Binary payloads: whether a payload is binary (its media type against the API's
//! `binaryMediaTypes`) and the conversions `contentHandling` asks for on the way in and out
//! (`runtime.md` §5.5, §7.5).

use super::gateway_response::GatewayError;
use crate::config::model::ContentHandling;
use base64::Engine;
use bytes::Bytes;

/// Whether the first media type of a Content-Type or Accept value is one of
/// `binaryMediaTypes`. The wildcard lives only on the configured side: `image/*` matches
/// `image/png`, `*/*` matches everything, `*/png` matches nothing.
pub fn is_binary(binary_media_types: &[String], header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    let first = header.split(',').next().unwrap_or("").split(';').next().unwrap_or("").trim();
    let Some((kind, sub)) = first.split_once('/') else { return false };
    binary_media_types.iter().any(|configured| {
        let Some((ck, cs)) = configured.trim().split_once('/') else { return false };
        if ck == "*" {
            return cs == "*";
        }
        ck.eq_ignore_ascii_case(kind) && (cs == "*" || cs.eq_ignore_ascii_case(sub))
    })
}

fn lossy_text(body: Bytes) -> Bytes {
    match String::from_utf8_lossy(&body) {
        std::borrow::Cow::Borrowed(_) => body,
        std::borrow::Cow::Owned(fixed) => Bytes::from(fixed),
    }
}

fn encode(body: &[u8]) -> Bytes {
    Bytes::from(base64::engine::general_purpose::STANDARD.encode(body))
}

fn decode(body: &[u8]) -> Result<Bytes, GatewayError> {
    let text: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Bytes::from)
        .map_err(|_| GatewayError::ApiConfiguration("Unable to base64-decode the payload".into()))
}

/// The integration request body from the client's (`runtime.md` §5.5).
pub fn convert_request(body: Bytes, binary: bool, handling: Option<ContentHandling>) -> Result<Bytes, GatewayError> {
    match (binary, handling) {
        (false, None | Some(ContentHandling::ConvertToText)) => Ok(lossy_text(body)),
        (false, Some(ContentHandling::ConvertToBinary)) => decode(&body),
        (true, None | Some(ContentHandling::ConvertToBinary)) => Ok(body),
        (true, Some(ContentHandling::ConvertToText)) => Ok(encode(&body)),
    }
}

/// The method response body from the endpoint's (`runtime.md` §7.5).
pub fn convert_response(
    body: Bytes,
    binary_payload: bool,
    binary_accept: bool,
    handling: Option<ContentHandling>,
) -> Result<Bytes, GatewayError> {
    match (handling, binary_payload, binary_accept) {
        (None, false, false) => Ok(lossy_text(body)),
        (None, false, true) => decode(&body),
        (None, true, false) => Ok(encode(&body)),
        (None, true, true) => Ok(body),
        (Some(ContentHandling::ConvertToText), false, _) => Ok(body),
        (Some(ContentHandling::ConvertToText), true, _) => Ok(encode(&body)),
        (Some(ContentHandling::ConvertToBinary), false, _) => decode(&body),
        (Some(ContentHandling::ConvertToBinary), true, _) => Ok(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_matching() {
        let types = vec!["image/png".to_string(), "application/*".to_string(), "*/test".to_string()];
        assert!(is_binary(&types, Some("image/png")));
        assert!(is_binary(&types, Some("image/png,image/*,*/*;q=0.8")));
        assert!(!is_binary(&types, Some("image/webp,image/png")));
        assert!(!is_binary(&types, Some("image/*")));
        assert!(!is_binary(&types, Some("*/*")));
        assert!(is_binary(&types, Some("application/octet-stream; charset=x")));
        assert!(!is_binary(&types, Some("text/test")));
        assert!(is_binary(&["*/*".to_string()], Some("text/plain")));
        assert!(!is_binary(&types, None));
    }
}
