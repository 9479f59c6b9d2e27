//! MOCK: no backend; the status code comes from the `statusCode` of the rendered request
//! template, and the endpoint body is empty (`runtime.md` §6.1).

use super::EndpointResponse;
use crate::pipeline::integration_request::IntegrationRequest;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};

pub fn invoke(request: &IntegrationRequest) -> EndpointResponse {
    EndpointResponse {
        status: status_code(&request.body),
        headers: HeaderMap::new(),
        body: Bytes::new(),
        lambda_error: None,
    }
}

/// Reads `statusCode` leniently, as AWS does: `{"statusCode": 200}`, `{statusCode: 200}` and
/// `{'statusCode': "404"}` all work.
pub fn status_code(body: &[u8]) -> Option<StatusCode> {
    const KEY: &str = "statusCode";
    // The searcher for the key is built once, not on every request.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(KEY));
    let text = std::str::from_utf8(body).ok()?;
    let at = FINDER.find(body)?;
    let rest = text[at + KEY.len()..].trim_start_matches(['"', '\'']).trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().trim_start_matches(['"', '\'']);
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    StatusCode::from_u16(digits.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_status_code() {
        assert_eq!(status_code(br#"{"statusCode": 200}"#), Some(StatusCode::OK));
        assert_eq!(status_code(b"{statusCode: 404}"), Some(StatusCode::NOT_FOUND));
        assert_eq!(status_code(br#"{ 'statusCode' : "500" }"#), Some(StatusCode::INTERNAL_SERVER_ERROR));
        assert_eq!(status_code(b"{}"), None);
        assert_eq!(status_code(br#"{"statusCode": "abc"}"#), None);
    }
}
