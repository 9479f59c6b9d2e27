//! Lambda integrations against a Lambda Invoke API stand-in: the AWS_PROXY event field by
//! field, proxy results turned into responses (and malformed ones into API Gateway's 502),
//! custom integrations selecting by `errorMessage`, functions chosen by stage variable, and
//! functions that outlast the timeout or cannot be reached (`runtime.md` §6.4, §6.5, §9).

use crate::common;

use common::lambda::{Behaviour, LambdaStub};
use common::{portico_json, send};
use serde_json::json;

const ARN: &str =
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:";

fn proxy(function: &str) -> serde_json::Value {
    json!({"methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "uri": format!("{ARN}{function}/invocations")}})
}

fn api(lambda: &str) -> serde_json::Value {
    let selection = json!({
        "requestTemplates": {"application/json": "{\"param1\": \"$input.params('param1')\"}"},
        "methodResponses": {"200": {"statusCode": "200"}, "405": {"statusCode": "405"}, "502": {"statusCode": "502"}, "504": {"statusCode": "504"}},
        "integrationResponses": {
            "200": {"statusCode": "200"},
            "405": {"statusCode": "405", "selectionPattern": ".*four hundred.*"},
            "502": {"statusCode": "502", "selectionPattern": ".+"},
            "504": {"statusCode": "504", "selectionPattern": "200"}
        }
    });
    let custom = |function: &str| {
        json!({
            "methodResponses": selection["methodResponses"],
            "methodIntegration": {
                "type": "AWS", "httpMethod": "POST", "uri": format!("{ARN}{function}/invocations"),
                "requestTemplates": selection["requestTemplates"],
                "integrationResponses": selection["integrationResponses"]
            }
        })
    };
    let mut results = Vec::new();
    for name in [
        "status-200",
        "bool-header",
        "string-status",
        "extra-field",
        "bad-status",
        "multi",
        "base64",
        "empty",
        "just-string",
        "not-json",
        "not-list",
        "throws",
    ] {
        results.push(json!({"path": format!("/result/{name}"), "resourceMethods": {"GET": proxy(name)}}));
    }
    let mut resources = vec![
        json!({"path": "/{proxy+}", "resourceMethods": {"ANY": proxy("echo")}}),
        json!({"path": "/custom/pass", "resourceMethods": {"GET": custom("pass")}}),
        json!({"path": "/custom/four", "resourceMethods": {"GET": custom("four")}}),
        json!({"path": "/custom/other", "resourceMethods": {"GET": custom("other")}}),
        json!({"path": "/by-stage", "resourceMethods": {"POST": {"methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "uri": format!("{ARN}${{stageVariables.fn}}/invocations")}}}}),
        json!({"path": "/slow", "resourceMethods": {"GET": {"methodIntegration": {"type": "AWS_PROXY", "httpMethod": "POST", "timeoutInMillis": 150, "uri": format!("{ARN}slow/invocations")}}}}),
        json!({"path": "/missing", "resourceMethods": {"GET": proxy("no-such-function")}}),
        json!({"path": "/alias", "resourceMethods": {"GET": proxy("echo:live")}}),
        json!({"path": "/get-method", "resourceMethods": {"GET": {"methodIntegration": {"type": "AWS_PROXY", "httpMethod": "GET", "uri": format!("{ARN}echo/invocations")}}}}),
    ];
    resources.extend(results);
    json!({
        "restApi": {"name": "lambdas", "id": "lambda0001", "binaryMediaTypes": ["image/png"]},
        "stages": [{"stageName": "stage", "variables": {"fn": "echo", "env": "test"}}, {"stageName": "other", "variables": {"fn": "pass"}}],
        "lambda": {"endpoint": lambda},
        "resources": resources
    })
}

async fn stub() -> LambdaStub {
    LambdaStub::start(vec![
        ("echo", Behaviour::EchoEvent),
        ("pass", Behaviour::Returns("\"Pass\"".into())),
        ("four", Behaviour::Throws("Error: Raising four hundred from within the Lambda function".into())),
        ("other", Behaviour::Throws("Error: Raising five hundred from within the Lambda function".into())),
        ("slow", Behaviour::Sleeps(2000)),
        ("status-200", Behaviour::Returns(r#"{"statusCode": 200, "headers": {"test-header": "value", "header-bool": true}}"#.into())),
        ("bool-header", Behaviour::Returns(r#"{"headers": {"test-header": "value"}}"#.into())),
        ("string-status", Behaviour::Returns(r#"{"statusCode": "201"}"#.into())),
        ("extra-field", Behaviour::Returns(r#"{"statusCode": 200, "wrongValue": "value"}"#.into())),
        ("bad-status", Behaviour::Returns(r#"{"statusCode": "test"}"#.into())),
        ("multi", Behaviour::Returns(r#"{"statusCode": 200, "multiValueHeaders": {"tesT-Multi": ["value-multi"]}, "headers": {"test-multi": "value-solo"}, "body": "hi"}"#.into())),
        ("base64", Behaviour::Returns(r#"{"statusCode": 200, "body": "iVBORw0KGgo=", "isBase64Encoded": true, "headers": {"Content-Type": "image/png"}}"#.into())),
        ("empty", Behaviour::Returns("{}".into())),
        ("just-string", Behaviour::Returns("\"justAString\"".into())),
        ("not-json", Behaviour::Returns("<html>".into())),
        ("not-list", Behaviour::Returns(r#"{"multiValueHeaders": {"a": "b"}}"#.into())),
        ("throws", Behaviour::Throws("boom".into())),
    ])
    .await
}

#[tokio::test]
async fn proxy_event_field_by_field() {
    let lambda = stub().await;
    let server = portico_json(api(&lambda.url())).await;
    let reply = send(
        "POST",
        &format!("http://{}/stage/proxy-value/api/test%2Balias@gmail.com/?category=electronics&category=books&plus=test+alias&email=a%2Bb", server.addr),
        &[("x-custom", "one"), ("x-custom", "two"), ("content-type", "application/json;charset=utf-8"), ("user-agent", "lambda-test")],
        r#"{"message": "hello world"}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("x-amzn-trace-id").is_some(), "AWS_PROXY responses carry the trace id");
    let event: serde_json::Value = serde_json::from_str(&reply.text()).unwrap();
    let invocation = lambda.last();
    assert_eq!(invocation.function, "echo");
    assert_eq!(invocation.query, None, "no qualifier: the function's LATEST version");
    let header = |name: &str| invocation.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    assert_eq!(header("user-agent").as_deref(), Some("AmazonAPIGateway_lambda0001"));
    assert_eq!(header("x-amzn-apigateway-api-id").as_deref(), Some("lambda0001"));
    assert_eq!(header("x-amz-invocation-type").as_deref(), Some("RequestResponse"));
    assert_eq!(header("host"), Some(lambda.addr.to_string()), "the endpoint's authority");
    assert_eq!(event["resource"], "/{proxy+}");
    assert_eq!(event["path"], "/proxy-value/api/test%2Balias@gmail.com/");
    assert_eq!(event["httpMethod"], "POST");
    assert_eq!(event["pathParameters"], json!({"proxy": "proxy-value/api/test%2Balias@gmail.com"}));
    assert_eq!(event["queryStringParameters"], json!({"category": "books", "plus": "test alias", "email": "a+b"}));
    assert_eq!(event["multiValueQueryStringParameters"]["category"], json!(["electronics", "books"]));
    assert_eq!(event["headers"]["X-Custom"], "two");
    assert_eq!(event["multiValueHeaders"]["X-Custom"], json!(["one", "two"]));
    assert_eq!(event["headers"]["Content-Type"], "application/json;charset=utf-8");
    assert_eq!(event["headers"]["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(event["headers"]["X-Forwarded-Proto"], "http");
    assert!(event["headers"]["X-Amzn-Trace-Id"].as_str().unwrap().starts_with("Root=1-"));
    assert!(event["headers"].get("Content-Length").is_none(), "dropped at the door");
    assert_eq!(event["stageVariables"], json!({"env": "test", "fn": "echo"}));
    assert_eq!(event["body"], r#"{"message": "hello world"}"#);
    assert_eq!(event["isBase64Encoded"], false);
    let rc = &event["requestContext"];
    assert_eq!(rc["path"], "/stage/proxy-value/api/test%2Balias@gmail.com/");
    assert_eq!(rc["stage"], "stage");
    assert_eq!(rc["resourcePath"], "/{proxy+}");
    assert_eq!(rc["httpMethod"], "POST");
    assert_eq!(rc["apiId"], "lambda0001");
    assert_eq!(rc["protocol"], "HTTP/1.1");
    assert_eq!(rc["requestId"], reply.header("x-amzn-RequestId").unwrap());
    assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["identity"]["userAgent"], "lambda-test");
    assert_eq!(rc["identity"]["caller"], serde_json::Value::Null);
    assert!(rc["requestTimeEpoch"].as_u64().is_some());

    let get = send("GET", &format!("http://{}/stage//proxy-value", server.addr), &[], "").await;
    let event: serde_json::Value = serde_json::from_str(&get.text()).unwrap();
    assert_eq!(event["path"], "/proxy-value", "leading double slashes collapse");
    assert_eq!(event["requestContext"]["path"], "/stage//proxy-value");
    assert_eq!(event["body"], serde_json::Value::Null);
    assert_eq!(event["queryStringParameters"], serde_json::Value::Null);
    assert_eq!(event["multiValueQueryStringParameters"], serde_json::Value::Null);

    let png = send(
        "POST",
        &format!("http://{}/stage/upload", server.addr),
        &[("content-type", "image/png")],
        &[0x89u8, 0x50, 0x4E, 0x47][..],
    )
    .await;
    let event: serde_json::Value = serde_json::from_str(&png.text()).unwrap();
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "iVBORw==");
    server.shutdown().await;
}

#[tokio::test]
async fn proxy_results_become_responses() {
    let lambda = stub().await;
    let server = portico_json(api(&lambda.url())).await;
    let addr = server.addr;
    let get = |name: &'static str, accept: Option<&'static str>| async move {
        let url = format!("http://{addr}/stage/result/{name}");
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("accept", *a)).collect();
        send("GET", &url, &headers, "").await
    };
    let r = get("status-200", None).await;
    assert_eq!((r.status.as_u16(), r.text().as_str()), (200, ""));
    assert_eq!(r.header("test-header"), Some("value"));
    assert_eq!(r.header("header-bool"), Some("true"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = get("bool-header", None).await;
    assert_eq!((r.status.as_u16(), r.header("test-header")), (200, Some("value")));
    assert_eq!(get("string-status", None).await.status, 201);
    let r = get("multi", None).await;
    assert_eq!(r.header("tesT-Multi"), Some("value-multi, value-solo"));
    assert_eq!(r.text(), "hi");
    let r = get("base64", Some("image/png")).await;
    assert_eq!(r.body.as_ref(), &[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A][..], "binary Accept: decoded");
    assert_eq!(get("base64", None).await.text(), "iVBORw0KGgo=", "text Accept: the base64 text");
    let r = get("empty", None).await;
    assert_eq!((r.status.as_u16(), r.text().as_str()), (200, ""));
    for malformed in ["extra-field", "bad-status", "just-string", "not-json", "not-list", "throws"] {
        let r = get(malformed, None).await;
        assert_eq!(r.status, 502, "{malformed}");
        assert_eq!(r.text(), r#"{"message": "Internal server error"}"#, "{malformed}");
        assert_eq!(r.header("x-amzn-ErrorType"), Some("InternalServerErrorException"), "{malformed}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn custom_integration_selects_by_error_message() {
    let lambda = stub().await;
    let server = portico_json(api(&lambda.url())).await;
    let pass =
        send("GET", &format!("http://{}/stage/custom/pass?param1=foobar&Signature=1", server.addr), &[], "").await;
    assert_eq!(pass.status, 200, "success has an empty error message: the default, not `200`");
    assert_eq!(pass.text(), "\"Pass\"");
    assert_eq!(lambda.last().payload, json!({"param1": "foobar"}), "the rendered template is the payload");
    let four = send("GET", &format!("http://{}/stage/custom/four", server.addr), &[], "").await;
    assert_eq!(four.status, 405);
    assert_eq!(four.json()["errorMessage"], "Error: Raising four hundred from within the Lambda function");
    let other = send("GET", &format!("http://{}/stage/custom/other", server.addr), &[], "").await;
    assert_eq!(other.status, 502);
    server.shutdown().await;
}

#[tokio::test]
async fn function_chosen_by_stage_variable() {
    let lambda = stub().await;
    let server = portico_json(api(&lambda.url())).await;
    send("POST", &format!("http://{}/stage/by-stage", server.addr), &[], "{}").await;
    assert_eq!(lambda.last().function, "echo");
    let other = send("POST", &format!("http://{}/other/by-stage", server.addr), &[], "{}").await;
    assert_eq!(lambda.last().function, "pass");
    assert_eq!(other.status, 502, "\"Pass\" is not a proxy result");
    server.shutdown().await;
}

#[tokio::test]
async fn alias_in_the_arn_is_the_qualifier() {
    let lambda = stub().await;
    let server = portico_json(api(&lambda.url())).await;
    let reply = send("GET", &format!("http://{}/stage/alias", server.addr), &[], "").await;
    assert_eq!(reply.status, 200);
    let invocation = lambda.last();
    assert_eq!(invocation.function, "echo");
    assert_eq!(invocation.query.as_deref(), Some("Qualifier=live"));
    server.shutdown().await;
}

#[tokio::test]
async fn slow_missing_and_unreachable_functions() {
    let lambda = stub().await;
    let server = portico_json(api(&lambda.url())).await;
    let slow = send("GET", &format!("http://{}/stage/slow", server.addr), &[], "").await;
    assert_eq!(slow.status, 504);
    assert_eq!(slow.text(), r#"{"message": "Endpoint request timed out"}"#);
    let missing = send("GET", &format!("http://{}/stage/missing", server.addr), &[], "").await;
    assert_eq!(missing.status, 502);
    let get = send("GET", &format!("http://{}/stage/get-method", server.addr), &[], "").await;
    assert_eq!(get.status, 500, "AWS_PROXY needs httpMethod POST");
    assert_eq!(get.text(), r#"{"message": "Internal server error"}"#);
    server.shutdown().await;

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = portico_json(api(&format!("http://{closed}"))).await;
    let down = send("GET", &format!("http://{}/stage/anything", server.addr), &[], "").await;
    assert_eq!(down.status, 502);
    assert_eq!(down.text(), r#"{"message": "Internal server error"}"#);
    server.shutdown().await;
}
