//! Routing exactly as API Gateway: stage prefix, raw paths, trailing slashes, literal over
//! `{param}` over `{proxy+}` per path and verb, explicit verbs over ANY, and the 403 for
//! everything that matches nothing (`runtime.md` §2.3).

use crate::common;

use common::{backend::Backend, get, mock_method, portico_json, proxy_method, send};
use serde_json::json;

fn routing_api() -> serde_json::Value {
    json!({
        "restApi": {"name": "routing", "id": "routing01"},
        "stages": [{"stageName": "dev"}],
        "resources": [
            {"path": "/", "resourceMethods": {"GET": mock_method("root GET")}},
            {"path": "/pets", "resourceMethods": {"GET": mock_method("pets GET"), "POST": mock_method("pets POST")}},
            {"path": "/pets/{petId}", "resourceMethods": {"GET": mock_method("pet GET")}},
            {"path": "/pets/special", "resourceMethods": {"GET": mock_method("special GET")}},
            {"path": "/pets/{petId}/toys", "resourceMethods": {"ANY": mock_method("toys ANY"), "DELETE": mock_method("toys DELETE")}},
            {"path": "/{proxy+}", "resourceMethods": {"OPTIONS": mock_method("proxy OPTIONS"), "GET": mock_method("proxy GET")}},
            {"path": "/test", "resourceMethods": {"POST": mock_method("test POST")}},
            {"path": "/test/any", "resourceMethods": {"ANY": mock_method("test/any ANY")}},
            {"path": "/files/{path+}", "resourceMethods": {"GET": mock_method("files GET")}},
            {"path": "/Case", "resourceMethods": {"GET": mock_method("Case GET")}}
        ]
    })
}

const NOT_FOUND: &str = "403";

/// (verb, path, what answers: a method's body, or 403)
const TABLE: &[(&str, &str, &str)] = &[
    ("GET", "/dev", "root GET"),
    ("GET", "/dev/", "root GET"),
    ("GET", "/dev/pets", "pets GET"),
    ("GET", "/dev/pets/", "pets GET"),
    ("GET", "//dev/pets", "pets GET"),
    ("GET", "/dev//pets", "pets GET"),
    ("POST", "/dev/pets", "pets POST"),
    ("GET", "/dev/pets/42", "pet GET"),
    ("GET", "/dev/pets/4%202", "pet GET"),
    ("GET", "/dev/pets/special", "special GET"),
    ("POST", "/dev/pets/special", NOT_FOUND),
    ("OPTIONS", "/dev/pets/special", "proxy OPTIONS"),
    ("DELETE", "/dev/pets/42/toys", "toys DELETE"),
    ("PATCH", "/dev/pets/42/toys", "toys ANY"),
    ("HEAD", "/dev/pets/42/toys", "toys ANY"),
    ("HEAD", "/dev/pets", NOT_FOUND),
    ("GET", "/dev/unknown/deep/path", "proxy GET"),
    ("OPTIONS", "/dev/test", "proxy OPTIONS"),
    ("POST", "/dev/test", "test POST"),
    ("GET", "/dev/test", "proxy GET"),
    ("GET", "/dev/test/any", "test/any ANY"),
    ("OPTIONS", "/dev/test/any", "test/any ANY"),
    ("GET", "/dev/files/a/b/c.txt", "files GET"),
    ("GET", "/dev/files", "proxy GET"),
    ("GET", "/dev/Case", "Case GET"),
    ("GET", "/dev/case", "proxy GET"),
    ("GET", "/dev/pets%2F42", "proxy GET"),
    ("GET", "/dev/pets//42", "proxy GET"),
    ("PUT", "/dev/pets/42", NOT_FOUND),
    ("TRACE", "/dev/pets", NOT_FOUND),
    ("GET", "/prod/pets", NOT_FOUND),
    ("GET", "/", NOT_FOUND),
    ("GET", "/DEV/pets", NOT_FOUND),
];

#[tokio::test]
async fn routing_table() {
    let server = portico_json(routing_api()).await;
    let mut failures = Vec::new();
    for (verb, path, expected) in TABLE {
        let reply = send(verb, &format!("http://{}{path}", server.addr), &[], "").await;
        let got = if reply.status == 403 {
            assert_eq!(reply.header("x-amzn-ErrorType"), Some("MissingAuthenticationTokenException"), "{verb} {path}");
            if *verb != "HEAD" {
                assert_eq!(reply.text(), r#"{"message":"Missing Authentication Token"}"#, "{verb} {path}");
            }
            NOT_FOUND.to_string()
        } else {
            assert_eq!(reply.status, 200, "{verb} {path}");
            if *verb == "HEAD" {
                // No body on HEAD: the length of the body a GET would have had tells the method.
                assert_eq!(reply.header("content-length"), Some("8"), "{verb} {path}");
                "toys ANY".to_string()
            } else {
                reply.text()
            }
        };
        if got != *expected {
            failures.push(format!("{verb} {path}: expected {expected}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "routing mismatches:\n{}", failures.join("\n"));
    server.shutdown().await;
}

#[tokio::test]
async fn missing_route_has_api_gateway_headers() {
    let server = portico_json(routing_api()).await;
    let reply = get(&format!("http://{}/nostage/x", server.addr)).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("x-amzn-errortype"), Some("MissingAuthenticationTokenException"));
    let id = reply.header("x-amzn-requestid").expect("request id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "request id {id} is a UUID");
    assert!(reply.header("x-amz-apigw-id").is_some_and(|v| v.len() == 16));
    assert!(reply.header("date").is_some());
    assert!(reply.header("x-amzn-trace-id").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn path_parameters_keep_their_encoding() {
    let backend = Backend::start().await;
    let b = backend.url();
    let server = portico_json(json!({
        "restApi": {"name": "params"},
        "stages": [{"stageName": "v1"}],
        "resources": [
            {"path": "/pets/{petId}", "resourceMethods": {"GET": proxy_method(&format!("{b}/pets/{{id}}"), &[("id", "petId")])}},
            {"path": "/files/{path+}", "resourceMethods": {"GET": proxy_method(&format!("{b}/files/{{path}}"), &[("path", "path")])}},
            {"path": "/{proxy+}", "resourceMethods": {"ANY": proxy_method(&format!("{b}/any/{{proxy}}"), &[("proxy", "proxy")])}}
        ]
    }))
    .await;
    let base = format!("http://{}/v1", server.addr);
    for (path, backend_uri) in [
        ("/pets/test%2Balias@gmail.com", "/pets/test%2Balias@gmail.com"),
        ("/pets/a+b", "/pets/a+b"),
        ("/pets/x%2Fy", "/pets/x%2Fy"),
        ("/files/a/b//c.txt/", "/files/a/b//c.txt"),
        ("/proxy-value//double-slash", "/any/proxy-value//double-slash"),
        ("/deep/er/path?x=1&x=2", "/any/deep/er/path?x=1&x=2"),
    ] {
        let reply = get(&format!("{base}{path}")).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(backend.last().uri, backend_uri, "{path}");
    }
    server.shutdown().await;
}
