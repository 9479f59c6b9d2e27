//! OpenAPI 3 and Swagger 2 documents with API Gateway's extensions, served directly: the
//! PetStore export, a mock CORS preflight, a Lambda proxy, a private integration whose link
//! comes from a stage variable, a Swagger 2 document with a body model, and the warnings and
//! problems `check` reports.

use crate::common;

use common::backend::Backend;
use common::lambda::{Behaviour, LambdaStub};
use common::{get, portico, send};

#[tokio::test]
async fn the_petstore_export_is_served() {
    let backend = Backend::start().await;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/petstore-openapi.yaml"))
        .unwrap()
        .replace("127.0.0.1:9000", &backend.addr.to_string());
    let server = portico(&doc).await;
    let base = format!("http://{}/petstore", server.addr);

    let pets = get(&format!("{base}/pets?type=dog&page=2&ignored=1")).await;
    assert_eq!(pets.status, 200);
    assert_eq!(pets.header("access-control-allow-origin"), Some("*"));
    let got = backend.last();
    assert_eq!(got.uri, "/pets?page=2&type=dog", "mapped query parameters only, in mapping order");

    let pet = get(&format!("{base}/pets/42")).await;
    assert_eq!(pet.status, 200);
    assert_eq!(backend.last().uri, "/pets/42");

    let preflight = send("OPTIONS", &format!("{base}/pets"), &[], "").await;
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.header("access-control-allow-methods"), Some("POST,GET,OPTIONS"));
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("Content-Type,X-Amz-Date,Authorization,X-Api-Key")
    );

    let before = backend.count();
    let invalid = send(
        "POST",
        &format!("{base}/pets"),
        &[("content-type", "application/json")],
        r#"{"type": "unicorn", "price": 1}"#,
    )
    .await;
    assert_eq!(invalid.status, 400, "the NewPet model (with its $ref to PetType) refuses an unknown type");
    assert_eq!(backend.count(), before);
    let valid = send(
        "POST",
        &format!("{base}/pets"),
        &[("content-type", "application/json")],
        r#"{"type": "dog", "price": 1}"#,
    )
    .await;
    assert_eq!(valid.status, 200);
    assert_eq!(backend.last().method, "POST");
    server.shutdown().await;
}

#[tokio::test]
async fn lambda_proxy_and_private_integration_from_openapi() {
    let lambda =
        LambdaStub::start(vec![("hello", Behaviour::Returns(r#"{"statusCode": 201, "body": "hi"}"#.into()))]).await;
    let backend = Backend::start().await;
    let doc = format!(
        r#"
openapi: 3.0.1
info: {{title: mixed}}
x-portico-stages:
  - {{stageName: prod, variables: {{vpcLinkId: link1}}}}
x-portico-lambda: {{endpoint: "{lambda}"}}
x-portico-vpc-links:
  - {{id: link1, name: l, targetArns: [arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1]}}
x-portico-network-load-balancers:
  - arn: arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1
    listeners: [{{port: 80, targets: ["{backend}"]}}]
paths:
  /hello:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello/invocations
  /private/{{proxy+}}:
    get:
      parameters: [{{name: proxy, in: path, required: true}}]
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: http://internal.example/{{proxy}}
        connectionType: VPC_LINK
        connectionId: ${{stageVariables.vpcLinkId}}
        requestParameters: {{integration.request.path.proxy: method.request.path.proxy}}
"#,
        lambda = lambda.url(),
        backend = backend.addr
    );
    let server = portico(&doc).await;
    let hello = send("PATCH", &format!("http://{}/prod/hello", server.addr), &[], "").await;
    assert_eq!((hello.status.as_u16(), hello.text().as_str()), (201, "hi"));
    assert_eq!(lambda.last().payload["httpMethod"], "PATCH");
    let private = get(&format!("http://{}/prod/private/a/b", server.addr)).await;
    assert_eq!(private.status, 200);
    assert_eq!(backend.last().uri, "/a/b");
    assert_eq!(backend.last().header("host"), Some("internal.example"));
    server.shutdown().await;
}

#[tokio::test]
async fn swagger_2_with_a_body_model() {
    let doc = r##"
swagger: "2.0"
info: {title: legacy}
basePath: /v1
consumes: [application/json]
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
x-amazon-apigateway-request-validator: all
paths:
  /items:
    post:
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: "#/definitions/Item"}}
        - {name: X-Tenant, in: header, required: true, type: string}
      responses:
        "201": {description: created}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 201}'}
        responses:
          default: {statusCode: "201", responseTemplates: {application/json: '{"tenant": "$input.params(''X-Tenant'')"}'}}
definitions:
  Item: {type: object, required: [name], properties: {name: {type: string}}}
"##;
    let server = portico(doc).await;
    let url = format!("http://{}/v1/items", server.addr);
    let missing = send("POST", &url, &[], r#"{"name": "x"}"#).await;
    assert_eq!(missing.text(), r#"{"message": "Missing required request parameters: [X-Tenant]"}"#);
    let bad = send("POST", &url, &[("x-tenant", "t1")], "{}").await;
    assert_eq!(bad.text(), r#"{"message": "Invalid request body"}"#);
    let ok = send("POST", &url, &[("x-tenant", "t1")], r#"{"name": "x"}"#).await;
    assert_eq!(ok.status, 201);
    assert_eq!(ok.text(), r#"{"tenant": "t1"}"#);
    server.shutdown().await;
}

#[test]
fn warnings_and_problems_keep_their_locations() {
    let doc = "openapi: 3.0.1\ninfo: {title: t}\nx-amazon-apigateway-policy: {}\ncomponents:\n  securitySchemes:\n    auth:\n      type: apiKey\n      x-amazon-apigateway-authorizer: {type: token}\npaths:\n  /a:\n    get:\n      responses: {}\n  /b:\n    get:\n      x-amazon-apigateway-integration: {type: http, uri: 'http://x/', timeoutInMillis: 99999}\n";
    let problems: Vec<String> =
        portico::config::compile_text(doc, false).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        vec![
            "line 12, column 7: resources[0] /a GET methodIntegration: is required (AWS refuses to deploy a method without an integration)",
            "line 15, column 40: resources[1] /b GET methodIntegration.httpMethod: is required for this integration type",
            "line 15, column 88: resources[1] /b GET methodIntegration.timeoutInMillis: must be between 50 and 29000, got 99999",
        ]
    );
    let ok = doc
        .replace("      responses: {}\n", "      x-amazon-apigateway-integration: {type: mock}\n")
        .replace("timeoutInMillis: 99999", "httpMethod: GET");
    let plan = portico::config::compile_text(&ok, false).unwrap();
    let warnings: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "line 3, column 1: x-amazon-apigateway-policy: not supported; ignored",
            "line 6, column 5: security scheme auth: x-amazon-apigateway-authorizer is kept but not enforced yet",
        ]
    );
}

/// A native document exported as OpenAPI and read back compiles to the same plan.
#[test]
fn native_to_openapi_to_native_round_trip() {
    let native = r#"
restApi: {id: roundtrip1, name: RoundTrip, binaryMediaTypes: [image/png]}
stages:
  - {stageName: dev, variables: {link: l1}, methodSettings: {"*/*": {throttlingRateLimit: 10, throttlingBurstLimit: 5}}}
requestValidators: [{id: v, validateRequestBody: true, validateRequestParameters: true}]
models: [{name: Thing, schema: {type: object, required: [name]}}]
gatewayResponses:
  - {responseType: DEFAULT_4XX, statusCode: "400", responseParameters: {gatewayresponse.header.X-Err: "'yes'"}}
vpcLinks: [{id: l1, name: link, targetArns: [arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1]}]
networkLoadBalancers: [{arn: arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1, listeners: [{port: 80, targets: ["127.0.0.1:9"]}]}]
lambda: {endpoint: "http://127.0.0.1:3001"}
resources:
  - path: /things/{id}
    resourceMethods:
      POST:
        requestValidatorId: v
        requestParameters: {method.request.path.id: true, method.request.querystring.q: false, method.request.header.X-T: true}
        requestModels: {application/json: Thing}
        methodResponses:
          "200": {statusCode: "200", responseParameters: {method.response.header.X-Id: false}}
          "404": {statusCode: "404"}
        methodIntegration:
          type: HTTP
          httpMethod: PUT
          uri: http://internal/things/{id}
          connectionType: VPC_LINK
          connectionId: ${stageVariables.link}
          requestParameters: {integration.request.path.id: method.request.path.id, integration.request.header.X-Q: method.request.querystring.q}
          requestTemplates: {application/json: '{"name": "$input.path(''$.name'')"}'}
          passthroughBehavior: NEVER
          contentHandling: CONVERT_TO_TEXT
          timeoutInMillis: 5000
          integrationResponses:
            "200": {statusCode: "200", responseParameters: {method.response.header.X-Id: integration.response.body.id}, responseTemplates: {application/json: "$input.json('$')"}}
            "404": {statusCode: "404", selectionPattern: "4\\d{2}"}
  - path: /fn
    resourceMethods:
      ANY:
        methodIntegration: {type: AWS_PROXY, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f/invocations"}
"#;
    let direct = portico::config::compile_text(native, false).unwrap();
    let doc = {
        let dir = std::env::temp_dir().join(format!("portico-roundtrip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("native.yaml");
        std::fs::write(&path, native).unwrap();
        let doc = portico::config::load_document(&path).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        doc
    };
    let openapi = portico::config::export::to_openapi(&doc);
    assert_eq!(openapi["openapi"], "3.0.1");
    assert!(openapi["paths"]["/things/{id}"]["post"]["x-amazon-apigateway-integration"].is_object());
    let back = portico::config::compile_text(&openapi.to_string(), true).unwrap_or_else(|p| panic!("{p:?}"));
    let changes = portico::server::reload::changes(&direct, &back);
    assert_eq!(changes, Default::default(), "{changes}");
    assert_eq!(&*back.api_id, "roundtrip1");
    assert_eq!(back.binary_media_types, vec!["image/png"]);
    assert_eq!(back.stages.iter().map(|s| &*s.name).collect::<Vec<_>>(), vec!["dev"]);
    assert!(back.stages[0].throttles.iter().any(Option::is_some));
    assert_eq!(back.vpc_links.len(), 1);
    assert_eq!(back.gateway_responses.len(), 1);
    assert_eq!(back.lambda_endpoint.as_deref(), Some("http://127.0.0.1:3001"));
}
