//! Mapping templates on the request path: VTL request templates deciding a MOCK's status,
//! `$context.requestOverride` / `.responseOverride`, an HTTP integration whose request and
//! response are both reshaped by templates, and templates that fail to render or to parse.

use crate::common;

use common::{backend::Backend, portico_json, send};
use serde_json::json;

fn mock(
    request_template: &str,
    responses: serde_json::Value,
    method_responses: serde_json::Value,
) -> serde_json::Value {
    json!({
        "methodResponses": method_responses,
        "methodIntegration": {
            "type": "MOCK",
            "requestTemplates": {"application/json": request_template},
            "integrationResponses": responses
        }
    })
}

fn api(backend: &str) -> serde_json::Value {
    let ok_and_forbidden = json!({
        "200": {"statusCode": "200", "responseTemplates": {"application/json": "{\"scope\": \"$input.params('scope')\"}"}},
        "403": {"statusCode": "403", "selectionPattern": "403", "responseTemplates": {"application/json": "{\"denied\": true}"}}
    });
    json!({
        "restApi": {"name": "templates", "id": "tmpl000001"},
        "stages": [{"stageName": "dev", "variables": {"greeting": "hello"}}],
        "resources": [
            {"path": "/scoped", "resourceMethods": {"GET": mock(
                "{#if($input.params('scope') == \"internal\")\"statusCode\": 200#{else}\"statusCode\": 403#end}",
                ok_and_forbidden,
                json!({"200": {"statusCode": "200"}, "403": {"statusCode": "403"}}))}},
            {"path": "/override", "resourceMethods": {"GET": mock(
                "#set($context.responseOverride.status = 444)\n#set($context.responseOverride.header.foo = \"bar\")\n#set($context.responseOverride.custom = \"is also passed around\")\n{\"statusCode\": 200}",
                json!({"200": {"statusCode": "200"}}),
                json!({"200": {"statusCode": "200"}}))}},
            {"path": "/override-echo", "resourceMethods": {"GET": mock(
                "#set($context.responseOverride.status = 444)\n#set($context.responseOverride.header.foo = \"bar\")\n#set($context.responseOverride.custom = \"is also passed around\")\n{\"statusCode\": 200}",
                json!({"200": {"statusCode": "200", "responseTemplates": {"application/json":
                    "{\"statusOverride\":\"$context.responseOverride.status\",\"fooHeader\":\"$context.responseOverride.header.foo\",\"custom\":\"$context.responseOverride.custom\"}"}}}),
                json!({"200": {"statusCode": "200"}}))}},
            {"path": "/items/{id}", "resourceMethods": {"GET": mock(
                "{\"statusCode\": 200}",
                json!({"200": {"statusCode": "200", "responseTemplates": {"application/json": "{\"statusCode\": 200, \"id\": $input.params().path.id}"}}}),
                json!({"200": {"statusCode": "200"}}))}},
            {"path": "/assign", "resourceMethods": {"GET": mock(
                "#set($paramName = \"foo\")\n#set($context.requestOverride.querystring[$paramName] = \"bar\")\n#set($put = $context.requestOverride.querystring.put(\"putKey\", \"putBar\"))\n#set($context[\"requestOverride\"].path[\"nested\"] = \"nestedFoo\")\n{\"statusCode\": 200}",
                json!({"200": {"statusCode": "200", "responseTemplates": {"application/json":
                    "$context.requestOverride.querystring.foo $context.requestOverride.querystring.putKey $context.requestOverride.path.nested"}}}),
                json!({"200": {"statusCode": "200"}}))}},
            {"path": "/runaway", "resourceMethods": {"GET": mock(
                "#foreach($i in [1..5000])x#end{\"statusCode\": 200}",
                json!({"200": {"statusCode": "200"}}),
                json!({"200": {"statusCode": "200"}}))}},
            {"path": "/orders", "resourceMethods": {"POST": {
                "requestParameters": {"method.request.querystring.customer": false},
                "methodResponses": {"200": {"statusCode": "200", "responseParameters": {"method.response.header.X-Customer": false}}},
                "methodIntegration": {
                    "type": "HTTP", "httpMethod": "POST", "uri": format!("{backend}/orders"),
                    "requestParameters": {"integration.request.header.X-Customer": "method.request.querystring.customer"},
                    "requestTemplates": {"application/json":
                        "#set($body = $input.path('$'))\n#set($context.requestOverride.querystring.source = \"template\")\n{\n  \"customer\": \"$input.params('customer')\",\n  \"greeting\": \"$stageVariables.greeting\",\n  \"count\": $body.items.size(),\n  \"skus\": [#foreach($i in $body.items)\"$i.sku\"#if($foreach.hasNext),#end#end]\n}"},
                    "integrationResponses": {"200": {
                        "statusCode": "200",
                        "responseParameters": {"method.response.header.X-Customer": "integration.response.body.headers.x-customer"},
                        "responseTemplates": {"application/json":
                            "#set($echo = $util.parseJson($input.path('$.body')))\n{\"received\": $echo.count, \"first\": \"$echo.skus[0]\", \"method\": \"$input.path('$.method')\"}"}
                    }}
                }
            }}}
        ]
    })
}

#[tokio::test]
async fn request_template_logic_decides_the_mock_status() {
    let server = portico_json(api("http://127.0.0.1:1")).await;
    let base = format!("http://{}/dev", server.addr);
    let ok = send("GET", &format!("{base}/scoped?scope=internal"), &[], "").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), r#"{"scope": "internal"}"#);
    let denied = send("GET", &format!("{base}/scoped?scope=public"), &[], "").await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.text(), r#"{"denied": true}"#);
    let item = send("GET", &format!("{base}/items/42"), &[("content-type", "application/json")], "").await;
    assert_eq!(item.status, 200);
    assert_eq!(item.json(), json!({"id": 42, "statusCode": 200}));
    server.shutdown().await;
}

#[tokio::test]
async fn response_override_from_the_request_template() {
    let server = portico_json(api("http://127.0.0.1:1")).await;
    let base = format!("http://{}/dev", server.addr);
    let plain = send("GET", &format!("{base}/override"), &[], "").await;
    assert_eq!(plain.status.as_u16(), 444);
    assert_eq!(plain.header("foo"), Some("bar"));
    assert_eq!(plain.text(), "", "no response template: the MOCK's empty body");
    let echoed = send("GET", &format!("{base}/override-echo"), &[], "").await;
    assert_eq!(echoed.status.as_u16(), 444);
    assert_eq!(echoed.json(), json!({"statusOverride": "444", "fooHeader": "bar", "custom": "is also passed around"}));
    server.shutdown().await;
}

#[tokio::test]
async fn request_overrides_assigned_as_maps_reach_the_response_template() {
    let server = portico_json(api("http://127.0.0.1:1")).await;
    let reply = send("GET", &format!("http://{}/dev/assign", server.addr), &[], "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "bar putBar nestedFoo");
    server.shutdown().await;
}

#[tokio::test]
async fn http_integration_with_request_and_response_templates() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url())).await;
    let reply = send(
        "POST",
        &format!("http://{}/dev/orders?customer=O%27Brien", server.addr),
        &[("content-type", "application/json"), ("x-not-forwarded", "1")],
        r#"{"items": [{"sku": "A-1"}, {"sku": "B-2"}]}"#,
    )
    .await;
    let received = backend.last();
    assert_eq!(received.method, "POST");
    assert_eq!(received.uri, "/orders?source=template", "the request override adds a query parameter");
    let sent: serde_json::Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(sent, json!({"customer": "O'Brien", "greeting": "hello", "count": 2, "skus": ["A-1", "B-2"]}));
    assert_eq!(received.header("x-customer"), Some("O'Brien"));
    assert!(received.header("x-not-forwarded").is_none(), "client headers are not forwarded by HTTP integrations");
    assert_eq!(received.header("accept"), Some("application/json"));
    assert_eq!(received.header("user-agent"), Some("AmazonAPIGateway_tmpl000001"));
    assert_eq!(received.header("content-type"), Some("application/json"));

    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"received": 2, "first": "A-1", "method": "POST"}));
    assert_eq!(reply.header("x-customer"), Some("O'Brien"));
    assert!(reply.header("x-amzn-trace-id").is_some(), "HTTP responses carry the trace id");
    assert!(reply.header("x-backend").is_none(), "backend headers are not returned unless mapped");
    server.shutdown().await;
}

#[tokio::test]
async fn a_template_that_exceeds_a_bound_is_a_500() {
    let server = portico_json(api("http://127.0.0.1:1")).await;
    let reply = send("GET", &format!("http://{}/dev/runaway", server.addr), &[], "").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.text(), r#"{"message": "Internal server error"}"#);
    assert_eq!(reply.header("x-amzn-ErrorType"), Some("InternalServerErrorException"));
    server.shutdown().await;
}

#[test]
fn a_template_that_does_not_parse_is_a_document_problem() {
    let yaml = "restApi: {name: t}\nresources:\n  - path: /p\n    resourceMethods:\n      GET:\n        methodResponses: {\"200\": {statusCode: \"200\"}}\n        methodIntegration:\n          type: MOCK\n          requestTemplates:\n            application/json: |\n              {\"statusCode\": 200}\n              #if($x)\n          integrationResponses:\n            \"200\":\n              statusCode: \"200\"\n              responseTemplates: {application/json: \"#set($a 1)\"}\n";
    let problems: Vec<String> =
        portico::config::compile_text(yaml, false).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        vec![
            r#"line 11, column 15: resources[0] /p GET methodIntegration.requestTemplates["application/json"]: line 2, column 1: unclosed #if: #end expected"#,
            r#"line 16, column 53: resources[0] /p GET methodIntegration.integrationResponses["200"].responseTemplates["application/json"]: line 1, column 9: expected '=' in #set"#,
        ]
    );
}

#[tokio::test]
async fn context_variables_on_the_request_path() {
    let template = r#"{"requestId": "$context.requestId", "extendedRequestId": "$context.extendedRequestId", "epoch": $context.requestTimeEpoch, "time": "$context.requestTime", "method": "$context.httpMethod", "resourceId": "$context.resourceId", "resourcePath": "$context.resourcePath", "path": "$context.path", "stage": "$context.stage", "apiId": "$context.apiId", "accountId": "$context.accountId", "protocol": "$context.protocol", "domainName": "$context.domainName", "sourceIp": "$context.identity.sourceIp", "userAgent": "$context.identity.userAgent", "caller": "$context.identity.caller", "deploymentId": "$context.deploymentId"}"#;
    let server = portico_json(json!({
        "restApi": {"name": "ctx", "id": "context001"},
        "stages": [{"stageName": "prod", "deploymentId": "dep42"}],
        "resources": [{"id": "res001", "path": "/who/{name}", "resourceMethods": {"GET": mock(
            "{\"statusCode\": 200}",
            json!({"200": {"statusCode": "200", "responseTemplates": {"application/json": template}}}),
            json!({"200": {"statusCode": "200"}}))}}]
    }))
    .await;
    let reply = send("GET", &format!("http://{}/prod/who/me", server.addr), &[("user-agent", "ctx-test/1")], "").await;
    assert_eq!(reply.status, 200);
    let ctx = reply.json();
    assert_eq!(ctx["requestId"], reply.header("x-amzn-RequestId").unwrap());
    assert_eq!(ctx["extendedRequestId"], reply.header("x-amz-apigw-id").unwrap());
    assert!(ctx["epoch"].as_u64().unwrap() > 1_700_000_000_000);
    let time = ctx["time"].as_str().unwrap();
    assert!(time.len() == 26 && time.ends_with(" +0000") && &time[2..3] == "/", "{time}");
    assert_eq!(ctx["method"], "GET");
    assert_eq!(ctx["resourceId"], "res001");
    assert_eq!(ctx["resourcePath"], "/who/{name}");
    assert_eq!(ctx["path"], "/prod/who/me");
    assert_eq!(ctx["stage"], "prod");
    assert_eq!(ctx["apiId"], "context001");
    assert_eq!(ctx["accountId"], "000000000000");
    assert_eq!(ctx["protocol"], "HTTP/1.1");
    assert_eq!(ctx["domainName"], server.addr.to_string());
    assert_eq!(ctx["sourceIp"], "127.0.0.1");
    assert_eq!(ctx["userAgent"], "ctx-test/1");
    assert_eq!(ctx["caller"], "", "identity fields without an authorizer are null");
    assert_eq!(ctx["deploymentId"], "dep42");
    server.shutdown().await;
}

#[tokio::test]
async fn headers_dropped_at_the_door_are_invisible_to_templates() {
    let template = "#foreach($h in ['Content-Length', 'Expect', 'Max-Forwards', 'TE', 'Trailer', 'X-Kept'])$h=[$input.params($h)] #end";
    let server = portico_json(json!({
        "restApi": {"name": "door"},
        "resources": [{"path": "/h", "resourceMethods": {"POST": mock(
            "{\"statusCode\": 200}",
            json!({"200": {"statusCode": "200", "responseTemplates": {"application/json": template}}}),
            json!({"200": {"statusCode": "200"}}))}}]
    }))
    .await;
    let reply = send(
        "POST",
        &format!("http://{}/h", server.addr),
        &[("max-forwards", "3"), ("te", "trailers"), ("trailer", "x"), ("x-kept", "yes")],
        "{}",
    )
    .await;
    assert_eq!(reply.text(), "Content-Length=[] Expect=[] Max-Forwards=[] TE=[] Trailer=[] X-Kept=[yes] ");
    server.shutdown().await;
}

/// Serves `POST /dev/items` as an HTTP integration to `backend` through `template`, and posts
/// `body` to it as JSON.
async fn post_through_request_template(
    backend: &Backend,
    template: &str,
    body: &'static str,
) -> (portico::server::Running, common::Reply) {
    let server = portico_json(json!({
        "restApi": {"name": "changes"},
        "stages": [{"stageName": "dev"}],
        "resources": [{"path": "/items", "resourceMethods": {"POST": {
            "methodResponses": {"200": {"statusCode": "200"}},
            "methodIntegration": {
                "type": "HTTP", "httpMethod": "POST", "uri": format!("{}/items", backend.url()),
                "requestTemplates": {"application/json": template},
                "integrationResponses": {"200": {"statusCode": "200"}}
            }
        }}}]
    }))
    .await;
    let reply =
        send("POST", &format!("http://{}/dev/items", server.addr), &[("content-type", "application/json")], body).await;
    (server, reply)
}

#[tokio::test]
async fn a_request_template_changes_the_parsed_body_in_place() {
    let backend = Backend::start().await;
    let template = "#set($b = $input.path('$'))#set($keys = [\"items\", \"other\"])$b.get($keys.remove(0)).add(\"C-3\")|$b.items|$keys";
    let body = r#"{"items": ["A-1", "B-2"]}"#;
    let (server, reply) = post_through_request_template(&backend, template, body).await;
    assert_eq!(reply.status, 200);
    // The list from $input.path changes where it is and still prints as JSON; the index
    // expression ran once.
    assert_eq!(String::from_utf8_lossy(&backend.last().body), r#"true|["A-1","B-2","C-3"]|[other]"#);
    server.shutdown().await;
}

/// `$util.escapeJavaScript` of members of the parsed body, in a loop between texts, as a
/// request template reshaping an array does: strings with quotes, slashes and characters past
/// ASCII, and a number, which is escaped as its text.
#[tokio::test]
async fn escape_javascript_of_body_members_reaches_the_backend() {
    let backend = Backend::start().await;
    let template = "#set($b = $input.path('$'))[#foreach($i in $b.items)\"$util.escapeJavaScript($i.title)\"#if($foreach.hasNext), #end#end]|$util.escapeJavaScript($b.n)";
    let body = r#"{"items": [{"title": "it's \"q\""}, {"title": "a/b \u00e9"}], "n": 5}"#;
    let (server, reply) = post_through_request_template(&backend, template, body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(String::from_utf8_lossy(&backend.last().body), r#"["it\'s \"q\"", "a\/b \u00E9"]|5"#);
    server.shutdown().await;
}

/// `$foreach` in loops nested over the parsed body, as a request template reshaping orders
/// and their lines does: the outer loop's count and `hasNext` return after each inner loop,
/// whether it ran, ran out or was left by `#break`, and outside any loop it prints nothing.
#[tokio::test]
async fn foreach_of_nested_loops_reaches_the_backend() {
    let backend = Backend::start().await;
    let template = "#set($b = $input.path('$'))#foreach($o in $b.orders)[#foreach($l in $o.lines)#if($l == \"stop\")#break#end$l$foreach.count#if($foreach.hasNext),#end#end]$foreach.count/$foreach.hasNext #end|[$foreach.count]";
    let body = r#"{"orders": [{"lines": ["a", "b", "c"]}, {"lines": []}, {"lines": ["x", "stop", "y"]}]}"#;
    let (server, reply) = post_through_request_template(&backend, template, body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(String::from_utf8_lossy(&backend.last().body), "[a1,b2,c3]1/true []2/true [x1,]3/false |[]");
    server.shutdown().await;
}

#[tokio::test]
async fn a_change_through_one_variable_reaches_the_backend_through_another() {
    let backend = Backend::start().await;
    // `$items` and `$root.items` are the same list, and `$order` the same map as `$root.order`:
    // the backend gets the whole document with both changes.
    let template = "#set($root = $input.path('$'))#set($items = $root.items)#set($order = $root.order)\
                    #set($ok = $items.add(\"C-3\"))#set($order.state = \"packed\")$root.items|$root.order.state|$order.size()";
    let body = r#"{"items": ["A-1", "B-2"], "order": {"id": 7}}"#;
    let (server, reply) = post_through_request_template(&backend, template, body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(String::from_utf8_lossy(&backend.last().body), r#"["A-1","B-2","C-3"]|packed|2"#);
    server.shutdown().await;
}

/// `$input.params` reads headers case-insensitively, the last of repeated values, values as
/// sent (bytes that are not UTF-8 as U+FFFD), and not the headers dropped at the door.
#[tokio::test]
async fn header_parameters_as_templates_read_them() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let template = "$input.params('X-Name')|$input.params('x-raw')|$input.params('connection')|$input.params().header.get('x-name')|$input.params().header.size()";
    let server = portico_json(json!({
        "restApi": {"name": "hdr", "id": "headers001"},
        "resources": [{"path": "/h", "resourceMethods": {"GET": mock(
            "{\"statusCode\": 200}",
            json!({"200": {"statusCode": "200", "responseTemplates": {"application/json": template}}}),
            json!({"200": {"statusCode": "200"}}))}}]
    }))
    .await;
    let mut client = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut request =
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Name: first\r\nx-name: caf\xc3\xa9\r\nX-Raw: a\xffb\r\n".to_vec();
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    client.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8(answer).unwrap();
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // host, x-name and x-raw: `connection` is dropped at the door.
    assert_eq!(body, "café|a\u{FFFD}b||café|3");
    server.shutdown().await;
}
