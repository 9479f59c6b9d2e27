//! Method request validation: required parameters (API Gateway's 400 naming them, sorted by
//! their full key) and request bodies against JSON Schema draft 4 models (`runtime.md` §4.2).

use crate::common;

use common::{portico, send};

fn api(validate_parameters: bool, validate_body: bool) -> String {
    format!(
        r#"
restApi: {{name: validation, id: valid00001}}
stages: [{{stageName: dev}}]
requestValidators:
  - {{id: v1, name: all, validateRequestParameters: {validate_parameters}, validateRequestBody: {validate_body}}}
models:
  - name: Pair
    contentType: application/json
    schema: {{"$schema": "http://json-schema.org/draft-04/schema#", type: object, properties: {{a: {{type: number}}, b: {{type: number}}}}, required: [a, b]}}
  - name: Pairs
    contentType: application/json
    schema: '{{"type": "array", "items": {{"$ref": "https://apigateway.amazonaws.com/restapis/valid00001/models/Pair"}}}}'
resources:
  - path: /nested/{{test}}
    resourceMethods:
      POST: &method
        requestValidatorId: v1
        requestParameters:
          method.request.header.x-header-param: true
          method.request.path.issuer: true
          method.request.querystring.qs1: true
          method.request.querystring.optional: false
        requestModels: {{application/json: Pair}}
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: MOCK
          requestTemplates: {{application/json: '{{"statusCode": 200}}'}}
          integrationResponses: {{"200": {{statusCode: "200", responseTemplates: {{application/json: '{{"ok": true}}'}}}}}}
  - path: /checked/{{test}}
    resourceMethods:
      POST:
        requestValidatorId: v1
        requestParameters:
          method.request.header.x-header-param: true
          method.request.path.test: true
          method.request.querystring.qs1: true
        requestModels: {{application/json: Pair}}
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: MOCK
          requestTemplates: {{application/json: '{{"statusCode": 200}}'}}
          integrationResponses: {{"200": {{statusCode: "200", responseTemplates: {{application/json: '{{"ok": true}}'}}}}}}
      GET:
        requestValidatorId: v1
        requestModels: {{application/json: Pair}}
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: MOCK
          requestTemplates: {{application/json: '{{"statusCode": 200}}'}}
          integrationResponses: {{"200": {{statusCode: "200"}}}}
  - path: /list
    resourceMethods:
      POST:
        requestValidatorId: v1
        requestModels: {{application/json: Pairs}}
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: MOCK
          requestTemplates: {{application/json: '{{"statusCode": 200}}'}}
          integrationResponses: {{"200": {{statusCode: "200"}}}}
"#
    )
}

#[tokio::test]
async fn missing_required_parameters_are_listed_sorted_by_full_key() {
    let server = portico(&api(true, true)).await;
    let reply = send("POST", &format!("http://{}/dev/nested/value", server.addr), &[], r#"{"test":"test"}"#).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.text(), r#"{"message": "Missing required request parameters: [x-header-param, issuer, qs1]"}"#);
    assert_eq!(reply.header("x-amzn-ErrorType"), Some("BadRequestException"));

    // A blank value counts as missing, as the AWS guide says.
    let blank = send(
        "POST",
        &format!("http://{}/dev/nested/value?qs1=", server.addr),
        &[("x-header-param", "h")],
        r#"{"a": 1, "b": 2}"#,
    )
    .await;
    assert_eq!(blank.text(), r#"{"message": "Missing required request parameters: [issuer, qs1]"}"#);
    server.shutdown().await;
}

#[tokio::test]
async fn bodies_are_checked_against_the_model() {
    let server = portico(&api(true, true)).await;
    let url = format!("http://{}/dev/checked/value?qs1=1", server.addr);
    let headers = [("x-header-param", "h"), ("content-type", "application/json")];
    let wrong = send("POST", &url, &headers, r#"{"test":"test"}"#).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.text(), r#"{"message": "Invalid request body"}"#);
    assert_eq!(wrong.header("x-amzn-ErrorType"), Some("BadRequestException"));
    let right = send("POST", &url, &headers, r#"{"a": 1, "b": 2}"#).await;
    assert_eq!(right.status, 200);
    assert_eq!(right.text(), r#"{"ok": true}"#);
    let not_json = send("POST", &url, &headers, "a=1&b=2").await;
    assert_eq!(not_json.status, 400);
    // An empty body is validated as {}, so a model with required properties refuses it.
    let empty = send("GET", &format!("http://{}/dev/checked/value", server.addr), &[], "").await;
    assert_eq!(empty.status, 400);
    assert_eq!(empty.text(), r#"{"message": "Invalid request body"}"#);
    server.shutdown().await;
}

#[tokio::test]
async fn models_refer_to_other_models() {
    let server = portico(&api(true, true)).await;
    let url = format!("http://{}/dev/list", server.addr);
    assert_eq!(send("POST", &url, &[], "").await.status, 400, "an empty body is {{}} and not an array");
    assert_eq!(send("POST", &url, &[], r#"[{"a": 1, "b": 2}]"#).await.status, 200);
    assert_eq!(send("POST", &url, &[], r#"[{"a": 1}]"#).await.status, 400);
    server.shutdown().await;
}

#[tokio::test]
async fn a_validator_with_both_checks_off_lets_everything_through() {
    let server = portico(&api(false, false)).await;
    let reply = send("POST", &format!("http://{}/dev/nested/value", server.addr), &[], "not even json").await;
    assert_eq!(reply.status, 200);
    server.shutdown().await;
}
