//! MOCK integrations: the status from the request template's `statusCode`, the integration
//! response chosen by `selectionPattern` against it (whole-string match, the pattern-less
//! response as default), and the passthrough rules that decide which template runs.

use crate::common;

use common::{portico_json, send};
use serde_json::json;

fn api() -> serde_json::Value {
    let responses = json!({
        "200": {"statusCode": "200", "responseParameters": {"method.response.header.X-Kind": "'default'"},
                "responseTemplates": {"application/json": "{\"ok\": true}"}},
        "404": {"statusCode": "404", "selectionPattern": "404",
                "responseParameters": {"method.response.header.X-Kind": "'not found'", "method.response.header.X-Stage": "context.stage"},
                "responseTemplates": {"application/json": "{\"error\": \"no such pet\"}", "application/xml": "<error>no such pet</error>"}},
        "500": {"statusCode": "500", "selectionPattern": "5\\d{2}"}
    });
    let method_responses = json!({
        "200": {"statusCode": "200", "responseParameters": {"method.response.header.X-Kind": false}},
        "404": {"statusCode": "404", "responseParameters": {"method.response.header.X-Kind": false, "method.response.header.X-Stage": false}},
        "500": {"statusCode": "500"}
    });
    let mock = |template: &str, passthrough: &str| {
        json!({
            "methodResponses": method_responses,
            "methodIntegration": {
                "type": "MOCK", "passthroughBehavior": passthrough,
                "requestTemplates": {"application/json": template},
                "integrationResponses": responses
            }
        })
    };
    json!({
        "restApi": {"name": "mock"},
        "stages": [{"stageName": "test"}],
        "resources": [
            {"path": "/ok", "resourceMethods": {"GET": mock("{\"statusCode\": 200}", "WHEN_NO_MATCH")}},
            {"path": "/missing", "resourceMethods": {"GET": mock("{statusCode: 404}", "WHEN_NO_MATCH")}},
            {"path": "/broken", "resourceMethods": {"GET": mock("{\"statusCode\": 503}", "WHEN_NO_MATCH")}},
            {"path": "/teapot", "resourceMethods": {"GET": mock("{\"statusCode\": 418}", "WHEN_NO_MATCH")}},
            {"path": "/never", "resourceMethods": {"POST": mock("{\"statusCode\": 200}", "NEVER")}},
            {"path": "/no-match", "resourceMethods": {"POST": mock("{\"statusCode\": 200}", "WHEN_NO_MATCH")}},
            {"path": "/partial", "resourceMethods": {"GET": {
                "methodResponses": {"200": {"statusCode": "200"}},
                "methodIntegration": {"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 404}"},
                    "integrationResponses": {"200": {"statusCode": "200", "selectionPattern": "40"}}}
            }}}
        ]
    })
}

#[tokio::test]
async fn status_selects_the_integration_response() {
    let server = portico_json(api()).await;
    let base = format!("http://{}/test", server.addr);

    let ok = send("GET", &format!("{base}/ok"), &[], "").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), r#"{"ok": true}"#);
    assert_eq!(ok.header("x-kind"), Some("default"));
    assert_eq!(ok.header("content-type"), Some("application/json"));
    assert!(ok.header("x-amzn-requestid").is_some());
    assert!(ok.header("x-amzn-trace-id").is_none(), "MOCK responses carry no trace id");

    let missing = send("GET", &format!("{base}/missing"), &[], "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text(), r#"{"error": "no such pet"}"#);
    assert_eq!(missing.header("x-kind"), Some("not found"));
    assert_eq!(missing.header("x-stage"), Some("test"));

    let xml = send("GET", &format!("{base}/missing"), &[("accept", "application/xml")], "").await;
    assert_eq!(xml.text(), "<error>no such pet</error>", "the Accept header picks the response template");
    assert_eq!(xml.header("content-type"), Some("application/json"), "the template key does not set Content-Type");

    let broken = send("GET", &format!("{base}/broken"), &[], "").await;
    assert_eq!(broken.status, 500);
    assert_eq!(broken.text(), "", "no template: the (empty) MOCK body passes through");

    let teapot = send("GET", &format!("{base}/teapot"), &[], "").await;
    assert_eq!(teapot.status, 200, "no pattern matches 418: the default response answers");
    server.shutdown().await;
}

#[tokio::test]
async fn patterns_match_the_whole_value_and_no_default_is_a_500() {
    let server = portico_json(api()).await;
    let reply = send("GET", &format!("http://{}/test/partial", server.addr), &[], "").await;
    assert_eq!(reply.status, 500, "`40` does not match 404, and there is no default");
    assert_eq!(reply.text(), r#"{"message": "Internal server error"}"#);
    assert_eq!(reply.header("x-amzn-ErrorType"), Some("InternalServerErrorException"));
    server.shutdown().await;
}

#[tokio::test]
async fn content_type_picks_the_template_and_passthrough_rules_apply() {
    let server = portico_json(api()).await;
    let base = format!("http://{}/test", server.addr);
    let json_charset =
        send("POST", &format!("{base}/never"), &[("content-type", "application/json; charset=UTF-8")], "x").await;
    assert_eq!(json_charset.status, 200, "parameters of the media type are ignored");
    let no_type = send("POST", &format!("{base}/never"), &[], "<xml/>").await;
    assert_eq!(no_type.status, 200, "no Content-Type selects application/json");
    let xml = send("POST", &format!("{base}/never"), &[("content-type", "application/xml")], "<a/>").await;
    assert_eq!(xml.status, 415);
    assert_eq!(xml.text(), r#"{"message": "Unsupported Media Type"}"#);
    assert_eq!(xml.header("x-amzn-ErrorType"), Some("BadRequestException"));
    // WHEN_NO_MATCH passes the client's body to the mock, whose statusCode then selects.
    let passed =
        send("POST", &format!("{base}/no-match"), &[("content-type", "text/plain")], r#"{"statusCode": 404}"#).await;
    assert_eq!(passed.status, 404);
    server.shutdown().await;
}
