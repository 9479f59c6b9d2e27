//! Integration and method responses for HTTP integrations: selection by `selectionPattern`
//! (whole-string, default, no match), header mappings from the backend's headers and body,
//! API Gateway's renaming of reserved headers, templates chosen by Accept, and the backend body
//! passed through when there is none (`runtime.md` §7, §8).

use crate::common;

use common::{backend::Backend, portico_json, send};
use serde_json::json;

fn api(b: &str) -> serde_json::Value {
    let status_method = |responses: serde_json::Value, method_responses: serde_json::Value| {
        json!({
            "requestParameters": {"method.request.path.code": true},
            "methodResponses": method_responses,
            "methodIntegration": {
                "type": "HTTP", "httpMethod": "GET", "uri": format!("{b}/status/{{code}}"),
                "requestParameters": {"integration.request.path.code": "method.request.path.code"},
                "integrationResponses": responses
            }
        })
    };
    json!({
        "restApi": {"name": "responses"},
        "stages": [{"stageName": "dev", "variables": {"tier": "gold"}}],
        "resources": [
            {"path": "/select/{code}", "resourceMethods": {"GET": status_method(
                json!({
                    "200": {"statusCode": "200"},
                    "400": {"statusCode": "400", "selectionPattern": "4\\d{2}", "responseTemplates": {"application/json": "{\"error\": \"client\", \"was\": $input.json('$.method')}"}},
                    "502": {"statusCode": "502", "selectionPattern": "5(?!04)\\d{2}"}
                }),
                json!({"200": {"statusCode": "200"}, "400": {"statusCode": "400"}, "502": {"statusCode": "502"}}))}},
            {"path": "/strict/{code}", "resourceMethods": {"GET": status_method(
                json!({"404": {"statusCode": "404", "selectionPattern": "404"}}),
                json!({"404": {"statusCode": "404"}}))}},
            {"path": "/headers/{code}", "resourceMethods": {"GET": status_method(
                json!({"200": {
                    "statusCode": "200",
                    "responseParameters": {
                        "method.response.header.X-From-Header": "integration.response.header.x-backend",
                        "method.response.header.X-Multi": "integration.response.multivalueheader.x-backend",
                        "method.response.header.X-From-Body": "integration.response.body.method",
                        "method.response.header.X-Whole-Body": "integration.response.body",
                        "method.response.header.X-Tier": "stageVariables.tier",
                        "method.response.header.X-Stage": "context.stage",
                        "method.response.header.Content-Type": "'text/plain'",
                        "method.response.header.Server": "'mapped-server'",
                        "method.response.header.Date": "'mapped-date'",
                        "method.response.header.Transfer-Encoding": "'chunked'"
                    },
                    "responseTemplates": {
                        "application/json": "{\"json\": true}",
                        "application/xml": "<method>$input.path('$.method')</method>"
                    }
                }}),
                json!({"200": {"statusCode": "200", "responseParameters": {
                    "method.response.header.X-From-Header": false, "method.response.header.X-Multi": false,
                    "method.response.header.X-From-Body": false, "method.response.header.X-Whole-Body": false,
                    "method.response.header.X-Tier": false, "method.response.header.X-Stage": false,
                    "method.response.header.Content-Type": false, "method.response.header.Server": false,
                    "method.response.header.Date": false, "method.response.header.Transfer-Encoding": false}}}))}}
        ]
    })
}

#[tokio::test]
async fn selection_by_pattern_default_and_no_match() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url())).await;
    let base = format!("http://{}/dev", server.addr);
    for (code, expected) in [(201, 200), (200, 200), (404, 400), (418, 400), (503, 502), (504, 200), (302, 200)] {
        let reply = send("GET", &format!("{base}/select/{code}"), &[], "").await;
        assert_eq!(reply.status.as_u16(), expected, "backend {code}");
        if expected == 400 {
            assert_eq!(reply.json(), json!({"error": "client", "was": "GET"}));
        }
        if expected == 200 {
            // No template: the backend's body passes through.
            assert_eq!(reply.json()["method"], "GET");
        }
    }
    // `404` must match the whole status; no default means API Gateway's 500.
    let strict = send("GET", &format!("{base}/strict/404"), &[], "").await;
    assert_eq!(strict.status, 404);
    let unmatched = send("GET", &format!("{base}/strict/4040"), &[], "").await;
    assert_eq!(unmatched.status, 500);
    assert_eq!(unmatched.text(), r#"{"message": "Internal server error"}"#);
    server.shutdown().await;
}

#[tokio::test]
async fn header_and_body_mappings() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url())).await;
    let reply = send("GET", &format!("http://{}/dev/headers/200", server.addr), &[], "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-from-header"), Some("echo"));
    assert_eq!(reply.header("x-multi"), Some("echo"));
    assert_eq!(reply.header("x-from-body"), Some("GET"));
    assert!(reply.header("x-whole-body").is_some_and(|b| b.starts_with("{\"method\":\"GET\"")));
    assert_eq!(reply.header("x-tier"), Some("gold"));
    assert_eq!(reply.header("x-stage"), Some("dev"));
    assert_eq!(reply.header("content-type"), Some("text/plain"), "a mapped Content-Type is kept");
    assert_eq!(reply.header("x-amzn-Remapped-Server"), Some("mapped-server"));
    assert_eq!(reply.header("x-amzn-Remapped-Date"), Some("mapped-date"));
    assert!(reply.header("server").is_none());
    assert!(reply.header("transfer-encoding").is_none(), "a mapped Transfer-Encoding is dropped");
    assert!(reply.header("x-backend").is_none(), "unmapped backend headers are not returned");
    assert!(reply.header("x-amzn-trace-id").is_some());
    assert_eq!(reply.text(), r#"{"json": true}"#, "no Accept: the application/json template");

    let xml =
        send("GET", &format!("http://{}/dev/headers/200", server.addr), &[("accept", "application/xml")], "").await;
    assert_eq!(xml.text(), "<method>GET</method>");
    let other = send("GET", &format!("http://{}/dev/headers/200", server.addr), &[("accept", "text/html")], "").await;
    assert_eq!(other.text(), r#"{"json": true}"#, "an Accept with no template falls back to application/json");
    server.shutdown().await;
}
