//! Integration request: every mapping source to every target, as the backend receives it; the
//! passthrough behaviours against matching, non-matching and absent Content-Types with API
//! Gateway's 415; and the headers a mapping may not write (`runtime.md` §5).

use crate::common;

use common::{backend::Backend, portico_json, send};
use serde_json::json;

fn http(uri: String, request_parameters: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    let mut integration = json!({
        "type": "HTTP", "httpMethod": "POST", "uri": uri,
        "requestParameters": request_parameters,
        "integrationResponses": {"200": {"statusCode": "200"}}
    });
    for (k, v) in extra.as_object().unwrap() {
        integration[k] = v.clone();
    }
    integration
}

fn method(declared: &[&str], integration: serde_json::Value) -> serde_json::Value {
    let declared: serde_json::Map<String, serde_json::Value> =
        declared.iter().map(|d| (d.to_string(), false.into())).collect();
    json!({"requestParameters": declared, "methodResponses": {"200": {"statusCode": "200"}}, "methodIntegration": integration})
}

fn mappings_api(b: &str) -> serde_json::Value {
    json!({
        "restApi": {"name": "mappings", "id": "mapping001"},
        "stages": [{"stageName": "dev", "variables": {"color": "blue"}}],
        "resources": [{
            "path": "/things/{id}",
            "resourceMethods": {"POST": method(
                &["method.request.path.id", "method.request.querystring.q", "method.request.multivaluequerystring.tag",
                  "method.request.header.x-one", "method.request.multivalueheader.x-many", "method.request.header.x-absent"],
                http(format!("{b}/echo/{{thing}}/{{from_query}}"), json!({
                    "integration.request.path.thing": "method.request.path.id",
                    "integration.request.path.from_query": "method.request.querystring.q",
                    "integration.request.querystring.tags": "method.request.multivaluequerystring.tag",
                    "integration.request.querystring.one": "method.request.header.x-one",
                    "integration.request.header.x-many": "method.request.multivalueheader.x-many",
                    "integration.request.header.x-body": "method.request.body",
                    "integration.request.header.x-name": "method.request.body.pet.name",
                    "integration.request.header.x-first-tag": "method.request.body.pet.tags[0]",
                    "integration.request.header.x-color": "stageVariables.color",
                    "integration.request.header.x-resource": "context.resourcePath",
                    "integration.request.header.x-static": "'fixed value'",
                    "integration.request.header.x-absent": "method.request.header.x-absent"
                }), json!({})))}
        }, {
            "path": "/forbidden",
            "resourceMethods": {"GET": method(&[], http(format!("{b}/echo"), json!({"integration.request.header.Content-Length": "'0'"}), json!({})))}
        }]
    })
}

#[tokio::test]
async fn every_source_reaches_its_target() {
    let backend = Backend::start().await;
    let server = portico_json(mappings_api(&backend.url())).await;
    let reply = send(
        "POST",
        &format!("http://{}/dev/things/a%20b?q=from-query&tag=x&tag=y", server.addr),
        &[("x-one", "header-one"), ("x-many", "m1"), ("x-many", "m2"), ("content-type", "application/json")],
        r#"{"pet": {"name": "Rex", "tags": ["good", "dog"]}}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    let got = backend.last();
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri, "/echo/a%20b/from-query?tags=x&tags=y&one=header-one");
    assert_eq!(got.header("x-many"), Some("m1,m2"));
    assert_eq!(got.header("x-body"), Some(r#"{"pet": {"name": "Rex", "tags": ["good", "dog"]}}"#));
    assert_eq!(got.header("x-name"), Some("Rex"));
    assert_eq!(got.header("x-first-tag"), Some("good"));
    assert_eq!(got.header("x-color"), Some("blue"));
    assert_eq!(got.header("x-resource"), Some("/things/{id}"));
    assert_eq!(got.header("x-static"), Some("fixed value"));
    assert!(got.header("x-absent").is_none(), "an absent source maps to nothing");
    assert!(got.header("x-one").is_none(), "client headers are not forwarded by HTTP integrations");
    assert_eq!(got.body.as_ref(), br#"{"pet": {"name": "Rex", "tags": ["good", "dog"]}}"#, "no template: passthrough");
    server.shutdown().await;
}

#[tokio::test]
async fn mapping_a_forbidden_header_is_a_500() {
    let backend = Backend::start().await;
    let server = portico_json(mappings_api(&backend.url())).await;
    let reply = send("GET", &format!("http://{}/dev/forbidden", server.addr), &[], "").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.text(), r#"{"message": "Internal server error"}"#);
    assert_eq!(reply.body.len(), 36);
    assert_eq!(reply.header("x-amzn-ErrorType"), Some("InternalServerErrorException"));
    assert_eq!(backend.count(), 0, "nothing reaches the backend");
    server.shutdown().await;
}

/// One resource per passthrough behaviour, each with a template for application/json only,
/// plus one per behaviour with no templates at all.
fn passthrough_api(b: &str) -> serde_json::Value {
    let mut resources = Vec::new();
    for behaviour in ["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"] {
        let with = http(
            format!("{b}/echo"),
            json!({}),
            json!({"passthroughBehavior": behaviour, "requestTemplates": {"application/json": "{\"templated\": \"$input.path('$.v')\"}"}}),
        );
        let without = http(format!("{b}/echo"), json!({}), json!({"passthroughBehavior": behaviour}));
        resources.push(json!({"path": format!("/{behaviour}"), "resourceMethods": {"POST": method(&[], with)}}));
        resources
            .push(json!({"path": format!("/{behaviour}/none"), "resourceMethods": {"POST": method(&[], without)}}));
    }
    json!({"restApi": {"name": "passthrough"}, "stages": [{"stageName": "dev"}], "resources": resources})
}

#[tokio::test]
async fn passthrough_behaviours() {
    let backend = Backend::start().await;
    let server = portico_json(passthrough_api(&backend.url())).await;
    let body = r#"{"v": "x"}"#;
    let templated = r#"{"templated": "x"}"#;
    // (behaviour, content type, expected: the body the backend got, or 415)
    let table: &[(&str, Option<&str>, Option<&str>)] = &[
        ("WHEN_NO_MATCH", Some("application/json"), Some(templated)),
        ("WHEN_NO_MATCH", Some("application/json; charset=utf-8"), Some(templated)),
        ("WHEN_NO_MATCH", Some("text/plain"), Some(body)),
        ("WHEN_NO_MATCH", None, Some(templated)),
        ("WHEN_NO_TEMPLATES", Some("application/json"), Some(templated)),
        ("WHEN_NO_TEMPLATES", Some("text/plain"), None),
        ("WHEN_NO_TEMPLATES", None, Some(templated)),
        ("NEVER", Some("application/json"), Some(templated)),
        ("NEVER", Some("text/plain"), None),
        ("NEVER", None, Some(templated)),
        ("WHEN_NO_MATCH/none", Some("text/plain"), Some(body)),
        ("WHEN_NO_TEMPLATES/none", Some("text/plain"), Some(body)),
        ("WHEN_NO_TEMPLATES/none", None, Some(body)),
        ("NEVER/none", Some("text/plain"), None),
        ("NEVER/none", None, None),
    ];
    for (path, content_type, expected) in table {
        let before = backend.count();
        let headers: Vec<(&str, &str)> = content_type.iter().map(|ct| ("content-type", *ct)).collect();
        let reply = send("POST", &format!("http://{}/dev/{path}", server.addr), &headers, body).await;
        match expected {
            Some(sent) => {
                assert_eq!(reply.status, 200, "{path} {content_type:?}");
                assert_eq!(String::from_utf8_lossy(&backend.last().body), *sent, "{path} {content_type:?}");
            }
            None => {
                assert_eq!(reply.status, 415, "{path} {content_type:?}");
                assert_eq!(reply.text(), r#"{"message": "Unsupported Media Type"}"#);
                assert_eq!(reply.header("x-amzn-ErrorType"), Some("BadRequestException"));
                assert_eq!(backend.count(), before, "a 415 never reaches the backend");
            }
        }
    }
    server.shutdown().await;
}
