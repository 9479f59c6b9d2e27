//! Binary payloads: `binaryMediaTypes` and `contentHandling` (CONVERT_TO_TEXT,
//! CONVERT_TO_BINARY) in both directions with a real PNG, the client's Accept deciding a binary
//! response (`runtime.md` §5.5, §7.5).

use crate::common;

use base64::Engine;
use common::backend::{Backend, PNG};
use common::{portico_json, send};
use serde_json::json;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn http(uri: String, handling: Option<&str>, response_handling: Option<&str>) -> serde_json::Value {
    let mut ir = json!({"statusCode": "200"});
    if let Some(h) = response_handling {
        ir["contentHandling"] = h.into();
    }
    let mut integration =
        json!({"type": "HTTP", "httpMethod": "POST", "uri": uri, "integrationResponses": {"200": ir}});
    if let Some(h) = handling {
        integration["contentHandling"] = h.into();
    }
    json!({"methodResponses": {"200": {"statusCode": "200"}}, "methodIntegration": integration})
}

fn api(b: &str, binary_media_types: serde_json::Value) -> serde_json::Value {
    json!({
        "restApi": {"name": "binary", "binaryMediaTypes": binary_media_types},
        "stages": [{"stageName": "dev"}],
        "resources": [
            {"path": "/in/plain", "resourceMethods": {"POST": http(format!("{b}/raw"), None, None)}},
            {"path": "/in/text", "resourceMethods": {"POST": http(format!("{b}/raw"), Some("CONVERT_TO_TEXT"), None)}},
            {"path": "/in/binary", "resourceMethods": {"POST": http(format!("{b}/raw"), Some("CONVERT_TO_BINARY"), None)}},
            {"path": "/out/png", "resourceMethods": {"POST": http(format!("{b}/png"), None, None)}},
            {"path": "/out/png/text", "resourceMethods": {"POST": http(format!("{b}/png"), None, Some("CONVERT_TO_TEXT"))}},
            {"path": "/out/png64", "resourceMethods": {"POST": http(format!("{b}/png64"), None, None)}},
            {"path": "/out/png64/binary", "resourceMethods": {"POST": http(format!("{b}/png64"), None, Some("CONVERT_TO_BINARY"))}}
        ]
    })
}

#[tokio::test]
async fn binary_requests() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), json!(["image/png"]))).await;
    let base = format!("http://{}/dev", server.addr);
    let png = [("content-type", "image/png")];

    send("POST", &format!("{base}/in/plain"), &png, PNG).await;
    assert_eq!(backend.last().body.as_ref(), PNG, "a binary request passes unchanged");

    send("POST", &format!("{base}/in/text"), &png, PNG).await;
    assert_eq!(String::from_utf8_lossy(&backend.last().body), b64(PNG), "CONVERT_TO_TEXT base64-encodes it");

    let text = [("content-type", "text/plain")];
    send("POST", &format!("{base}/in/binary"), &text, b64(PNG)).await;
    assert_eq!(backend.last().body.as_ref(), PNG, "CONVERT_TO_BINARY base64-decodes a text request");

    let before = backend.count();
    let bad = send("POST", &format!("{base}/in/binary"), &text, "not base64!").await;
    assert_eq!(bad.status, 500);
    assert_eq!(bad.text(), r#"{"message": "Internal server error"}"#);
    assert_eq!(backend.count(), before);

    // Without binaryMediaTypes everything is text: invalid UTF-8 becomes U+FFFD.
    send("POST", &format!("{base}/in/plain"), &text, PNG).await;
    let mangled = backend.last().body;
    assert_ne!(mangled.as_ref(), PNG);
    assert!(String::from_utf8(mangled.to_vec()).unwrap().contains('\u{FFFD}'));
    server.shutdown().await;
}

#[tokio::test]
async fn binary_responses() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), json!(["image/png"]))).await;
    let base = format!("http://{}/dev", server.addr);
    let accept_png = [("accept", "image/png")];

    let raw = send("POST", &format!("{base}/out/png"), &accept_png, "").await;
    assert_eq!(raw.body.as_ref(), PNG, "binary payload, binary Accept: bytes unchanged");
    let first_only = send("POST", &format!("{base}/out/png"), &[("accept", "image/webp,image/png")], "").await;
    assert_eq!(first_only.text(), b64(PNG), "only the first Accept media type counts");
    let text = send("POST", &format!("{base}/out/png"), &[], "").await;
    assert_eq!(text.text(), b64(PNG), "binary payload, text Accept: base64");
    let converted = send("POST", &format!("{base}/out/png/text"), &accept_png, "").await;
    assert_eq!(converted.text(), b64(PNG), "CONVERT_TO_TEXT: base64 whatever the Accept");

    let decoded = send("POST", &format!("{base}/out/png64"), &accept_png, "").await;
    assert_eq!(decoded.body.as_ref(), PNG, "text payload, binary Accept: base64-decoded");
    let kept = send("POST", &format!("{base}/out/png64"), &[], "").await;
    assert_eq!(kept.text(), b64(PNG), "text payload, text Accept: unchanged");
    let forced = send("POST", &format!("{base}/out/png64/binary"), &[], "").await;
    assert_eq!(forced.body.as_ref(), PNG, "CONVERT_TO_BINARY: decoded whatever the Accept");
    server.shutdown().await;
}
