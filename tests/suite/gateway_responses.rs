//! Gateway responses: every response type a request can trigger, with API Gateway's default
//! status, body and `x-amzn-ErrorType`, then customised through `gatewayResponses` (status,
//! header mappings, templates with `$context.error.*`) and the DEFAULT_4XX / DEFAULT_5XX
//! fallbacks (`runtime.md` §10).

use crate::common;

use common::{backend::Backend, portico, send};

fn document(backend: &str, gateway_responses: &str) -> String {
    format!(
        r#"
restApi: {{name: errors, id: errors0001}}
stages: [{{stageName: dev, variables: {{team: blue}}}}]
requestValidators: [{{id: v, validateRequestParameters: true, validateRequestBody: true}}]
models: [{{name: Thing, schema: {{type: object, required: [name]}}}}]
{gateway_responses}
resources:
  - path: /validated
    resourceMethods:
      POST:
        requestValidatorId: v
        requestParameters: {{method.request.querystring.id: true}}
        requestModels: {{application/json: Thing}}
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: MOCK
          passthroughBehavior: NEVER
          requestTemplates: {{application/json: '{{"statusCode": 200}}'}}
          integrationResponses: {{"200": {{statusCode: "200"}}}}
  - path: /nomatch
    resourceMethods:
      GET:
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: MOCK
          requestTemplates: {{application/json: '{{"statusCode": 404}}'}}
          integrationResponses: {{"200": {{statusCode: "200", selectionPattern: "2\\d\\d"}}}}
  - path: /slow
    resourceMethods:
      GET:
        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: '{backend}/sleep/2000', timeoutInMillis: 100}}
  - path: /down
    resourceMethods:
      GET:
        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'http://127.0.0.1:9/'}}
"#
    )
}

/// (method, path, headers, body, default status, default body, x-amzn-ErrorType)
type Trigger =
    (&'static str, &'static str, Vec<(&'static str, &'static str)>, Vec<u8>, u16, &'static str, &'static str);

fn triggers() -> Vec<Trigger> {
    vec![
        (
            "GET",
            "/dev/nowhere",
            vec![],
            vec![],
            403,
            r#"{"message":"Missing Authentication Token"}"#,
            "MissingAuthenticationTokenException",
        ),
        (
            "POST",
            "/dev/validated",
            vec![],
            b"{}".to_vec(),
            400,
            r#"{"message": "Missing required request parameters: [id]"}"#,
            "BadRequestException",
        ),
        (
            "POST",
            "/dev/validated?id=1",
            vec![],
            b"{}".to_vec(),
            400,
            r#"{"message": "Invalid request body"}"#,
            "BadRequestException",
        ),
        (
            "POST",
            "/dev/validated?id=1",
            vec![("content-type", "text/plain")],
            b"x".to_vec(),
            415,
            r#"{"message": "Unsupported Media Type"}"#,
            "BadRequestException",
        ),
        (
            "GET",
            "/dev/nomatch",
            vec![],
            vec![],
            500,
            r#"{"message": "Internal server error"}"#,
            "InternalServerErrorException",
        ),
        (
            "GET",
            "/dev/slow",
            vec![],
            vec![],
            504,
            r#"{"message": "Endpoint request timed out"}"#,
            "InternalServerErrorException",
        ),
        (
            "GET",
            "/dev/down",
            vec![],
            vec![],
            504,
            r#"{"message": "Network error communicating with endpoint"}"#,
            "InternalServerErrorException",
        ),
        (
            "POST",
            "/dev/validated?id=1",
            vec![],
            vec![b' '; 11 * 1024 * 1024],
            413,
            r#"{"message": "Request Too Long"}"#,
            "RequestTooLongException",
        ),
    ]
}

#[tokio::test]
async fn every_triggerable_type_with_its_default() {
    let backend = Backend::start().await;
    let server = portico(&document(&backend.url(), "")).await;
    for (method, path, headers, body, status, text, error_type) in triggers() {
        let reply = send(method, &format!("http://{}{path}", server.addr), &headers, body).await;
        assert_eq!(reply.status.as_u16(), status, "{method} {path}");
        assert_eq!(reply.text(), text, "{method} {path}");
        assert_eq!(reply.header("x-amzn-ErrorType"), Some(error_type), "{method} {path}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(reply.header("x-amzn-RequestId").is_some());
        assert!(reply.header("x-amzn-trace-id").is_none());
    }
    // Nothing else was disturbed by the oversized body.
    let ok = send("POST", &format!("http://{}/dev/validated?id=1", server.addr), &[], r#"{"name": "x"}"#).await;
    assert_eq!(ok.status, 200);
    server.shutdown().await;
}

const CUSTOM: &str = r#"
gatewayResponses:
  - responseType: MISSING_AUTHENTICATION_TOKEN
    statusCode: "404"
    responseParameters:
      gatewayresponse.header.X-Trace: method.request.header.x-trace
      gatewayresponse.header.X-Kind: "'custom'"
      gatewayresponse.header.Access-Control-Allow-Origin: "'*'"
    responseTemplates:
      application/json: '{"error": $context.error.messageString, "type": "$context.error.responseType", "path": "$context.path"}'
  - responseType: BAD_REQUEST_BODY
    responseTemplates:
      application/json: '{"invalid": "$context.error.message", "team": "$stageVariables.team", "id": "$method.request.querystring.id", "details": "$context.error.validationErrorString"}'
  - responseType: DEFAULT_4XX
    responseParameters:
      gatewayresponse.header.X-Fallback: "'4xx'"
  - responseType: DEFAULT_5XX
    statusCode: "599"
"#;

#[tokio::test]
async fn customised_responses_and_fallbacks() {
    let backend = Backend::start().await;
    let server = portico(&document(&backend.url(), CUSTOM)).await;
    let base = format!("http://{}", server.addr);

    let missing = send("GET", &format!("{base}/dev/nowhere"), &[("x-trace", "t-1")], "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.text(),
        r#"{"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN", "path": "/dev/nowhere"}"#
    );
    assert_eq!(missing.header("x-trace"), Some("t-1"));
    assert_eq!(missing.header("x-kind"), Some("custom"));
    assert_eq!(missing.header("access-control-allow-origin"), Some("*"));
    assert_eq!(missing.header("x-amzn-ErrorType"), Some("MissingAuthenticationTokenException"));

    let body = send("POST", &format!("{base}/dev/validated?id=42"), &[], "{}").await;
    assert_eq!(body.status, 400, "no statusCode: the type's own status");
    // Plain substitution, not VTL: values are inserted as they are.
    let text = body.text();
    assert_eq!(
        text,
        r#"{"invalid": "Invalid request body", "team": "blue", "id": "42", "details": "[object has missing required properties (["name"])]"}"#
    );

    // DEFAULT_4XX answers for 4xx types without their own response: its header, the
    // type's status, and the default template.
    let params = send("POST", &format!("{base}/dev/validated"), &[], "{}").await;
    assert_eq!(params.status, 400);
    assert_eq!(params.text(), r#"{"message":"Missing required request parameters: [id]"}"#);
    assert_eq!(params.header("x-fallback"), Some("4xx"));
    let media = send("POST", &format!("{base}/dev/validated?id=1"), &[("content-type", "text/plain")], "x").await;
    assert_eq!(media.status, 415);
    assert_eq!(media.header("x-fallback"), Some("4xx"));

    // DEFAULT_5XX with a status: every 5xx type takes it.
    for path in ["/dev/nomatch", "/dev/slow", "/dev/down"] {
        let reply = send("GET", &format!("{base}{path}"), &[], "").await;
        assert_eq!(reply.status.as_u16(), 599, "{path}");
        assert_eq!(reply.header("x-amzn-ErrorType"), Some("InternalServerErrorException"));
    }
    let timeout = send("GET", &format!("{base}/dev/slow"), &[], "").await;
    assert_eq!(timeout.text(), r#"{"message":"Endpoint request timed out"}"#);
    server.shutdown().await;
}

#[test]
fn unknown_response_types_are_document_problems() {
    let yaml = "restApi: {name: t}\ngatewayResponses:\n  - {responseType: NOT_A_TYPE}\n  - {responseType: REQUEST_TOO_LARGE, statusCode: '400'}\n  - responseType: DEFAULT_4XX\n    responseParameters: {gatewayresponse.header.x: integration.response.header.y}\n";
    let problems: Vec<String> =
        portico::config::compile_text(yaml, false).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        vec![
            r#"line 3, column 5: gatewayResponses[0].responseType: "NOT_A_TYPE" is not an API Gateway response type"#,
            "line 4, column 5: gatewayResponses[1].responseType: REQUEST_TOO_LARGE cannot be customised (as on AWS)",
            r#"line 6, column 52: gatewayResponses[2].responseParameters["gatewayresponse.header.x"]: invalid mapping expression "integration.response.header.y": integration.response.* is only available in integration responses"#,
        ]
    );
}

#[tokio::test]
async fn integration_status_latency_and_error_are_recorded() {
    let backend = Backend::start().await;
    let yaml = format!(
        r#"
restApi: {{name: recorded}}
gatewayResponses:
  - responseType: DEFAULT_5XX
    responseTemplates:
      application/json: '{{"status": "$context.integrationStatus", "latency": "$context.integrationLatency", "error": "$context.integration.error"}}'
resources:
  - path: /unmatched
    resourceMethods:
      GET:
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: HTTP
          httpMethod: GET
          uri: '{}/status/503'
          integrationResponses: {{"200": {{statusCode: "200", selectionPattern: "2\\d\\d"}}}}
  - path: /down
    resourceMethods:
      GET:
        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'http://127.0.0.1:9/'}}
"#,
        backend.url()
    );
    let server = portico(&yaml).await;
    let unmatched = send("GET", &format!("http://{}/unmatched", server.addr), &[], "").await;
    assert_eq!(unmatched.status, 500);
    let v = unmatched.json();
    assert_eq!(v["status"], "503");
    assert!(v["latency"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(v["error"], "");
    let down = send("GET", &format!("http://{}/down", server.addr), &[], "").await;
    assert_eq!(down.status, 504);
    let v = down.json();
    assert_eq!(v["status"], "");
    assert!(v["error"].as_str().unwrap().contains("network error"), "{v}");
    server.shutdown().await;
}
