//! Lambda integrations (AWS and AWS_PROXY), invoked over the Lambda Invoke API at
//! `lambda.endpoint`, so that any Lambda emulator (`sam local start-lambda`, ...) runs the
//! functions (`runtime.md` §6.4, §6.5, §9).

use super::client::HttpClient;
use super::EndpointResponse;
use crate::mapping::params::query_pairs;
use crate::pipeline::gateway_response::GatewayError;
use crate::pipeline::{full, header_names, method_response, payload, Body, Invocation, DROPPED_AT_THE_DOOR};
use crate::plan::{MethodPlan, Plan, StagePlan};
use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};

/// A function named by an integration URI.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub qualifier: Option<String>,
}

/// The function of `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION/invocations`,
/// where FUNCTION is a Lambda function ARN (with an optional alias or version) or a name.
pub fn function_of(uri: &str) -> Result<Function, String> {
    let rest =
        uri.strip_prefix("arn:aws:apigateway:").ok_or_else(|| format!("{uri:?} is not an API Gateway service ARN"))?;
    let mut parts = rest.splitn(3, ':');
    let (_region, service, path) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if service != "lambda" {
        return Err(format!(
            "{uri:?}: only Lambda is supported among AWS service integrations (arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations)"
        ));
    }
    let function = path
        .strip_prefix("path/2015-03-31/functions/")
        .and_then(|f| f.strip_suffix("/invocations"))
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            format!(
                "{uri:?} is not a Lambda invocation ARN (…:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations)"
            )
        })?;
    let (name, qualifier) = match function.strip_prefix("arn:") {
        Some(arn) => {
            // aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
            let fields: Vec<&str> = arn.split(':').collect();
            match fields.as_slice() {
                [_, "lambda", _, _, "function", name] => (name.to_string(), None),
                [_, "lambda", _, _, "function", name, qualifier] => (name.to_string(), Some(qualifier.to_string())),
                _ => return Err(format!("{function:?} is not a Lambda function ARN")),
            }
        }
        None => match function.split_once(':') {
            Some((name, qualifier)) => (name.to_string(), Some(qualifier.to_string())),
            None => (function.to_string(), None),
        },
    };
    Ok(Function { name, qualifier })
}

/// The result of one Invoke call.
struct Invoked {
    function_error: bool,
    payload: Bytes,
}

fn configuration(message: impl Into<String>) -> GatewayError {
    GatewayError::ApiConfiguration(message.into())
}

async fn invoke(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    client: &HttpClient,
    payload: Bytes,
    trace_id: &str,
) -> Result<Invoked, GatewayError> {
    let integration = &method.integration;
    let endpoint = plan.lambda_endpoint.as_deref().ok_or_else(|| configuration("no lambda.endpoint"))?;
    let template = integration.uri.as_ref().ok_or_else(|| configuration("no integration uri"))?;
    // The function is known at load unless the ARN names it through a stage variable.
    let resolved;
    let function = match &integration.lambda_function {
        Some(f) => f,
        None => {
            let uri = template.render(|_| None, |name| stage.variables.get(name).map(String::as_str));
            resolved = function_of(&uri).map_err(configuration)?;
            &resolved
        }
    };
    let mut url = format!("{endpoint}/2015-03-31/functions/{}/invocations", function.name);
    if let Some(q) = &function.qualifier {
        url.push_str("?Qualifier=");
        crate::mapping::params::form_encode(q, &mut url);
    }
    let mut request = Request::new(full(payload));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = url.parse().map_err(|_| configuration(format!("Invalid endpoint address: {url}")))?;
    let headers = request.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(&header_names::X_AMZ_INVOCATION_TYPE, HeaderValue::from_static("RequestResponse"));
    if let Some(v) = &plan.user_agent_header {
        headers.insert(http::header::USER_AGENT, v.clone());
    }
    if let Some(v) = &plan.api_id_header {
        headers.insert(&header_names::X_AMZN_APIGATEWAY_API_ID, v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(trace_id) {
        headers.insert(&header_names::X_AMZN_TRACE_ID, v);
    }
    let exchange = async {
        // A plain-HTTP endpoint (a local Lambda emulator) goes through the gateway's own
        // keep-alive pool, an HTTPS one through the TLS client.
        let response = client
            .send(request, false, None, None)
            .await
            .map_err(|e| GatewayError::BadGateway(format!("invoking {}: {e}", function.name)))?;
        let (parts, body) = response.into_parts();
        let payload = body.collect().await.map_err(|e| GatewayError::BadGateway(e.to_string()))?.to_bytes();
        if !parts.status.is_success() {
            return Err(GatewayError::BadGateway(format!(
                "the Lambda service answered {} for {}: {}",
                parts.status,
                function.name,
                String::from_utf8_lossy(&payload)
            )));
        }
        Ok(Invoked { function_error: parts.headers.contains_key(&header_names::X_AMZ_FUNCTION_ERROR), payload })
    };
    tokio::time::timeout(integration.timeout, exchange).await.map_err(|_| GatewayError::IntegrationTimeout)?
}

/// AWS (custom) integration: the mapped request is the payload; a function error is selected
/// by its `errorMessage`, a success by the empty string (`runtime.md` §7.1).
pub async fn invoke_custom(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    client: &HttpClient,
    payload: Bytes,
    trace_id: &str,
) -> Result<EndpointResponse, GatewayError> {
    let invoked = invoke(plan, stage, method, client, payload, trace_id).await?;
    let error = if invoked.function_error {
        let message = serde_json::from_slice::<Value>(&invoked.payload)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        Some(message)
    } else {
        Some(String::new())
    };
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(EndpointResponse { status: Some(StatusCode::OK), headers, body: invoked.payload, lambda_error: error })
}

/// `content-type` → `Content-Type`: header names as clients usually write them (the HTTP
/// server here does not keep the client's own casing).
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

fn null_if_empty(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

/// The version 1.0 proxy event (`runtime.md` §9.1).
fn event(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    parts: &http::request::Parts,
    body: &[u8],
    inv: &Invocation,
) -> Value {
    let ctx = &inv.context;
    let mut headers = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    let mut add = |name: String, value: String| {
        headers.insert(name.clone(), Value::String(value.clone()));
        match multi.get_mut(&name) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            _ => {
                multi.insert(name, json!([value]));
            }
        }
    };
    for (name, value) in &parts.headers {
        if DROPPED_AT_THE_DOOR.contains(&name.as_str()) {
            continue;
        }
        add(title_case(name.as_str()), String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let port = ctx.domain_name.rsplit_once(':').map_or("80", |(_, p)| p).to_string();
    add("X-Forwarded-For".into(), ctx.source_ip.clone());
    add("X-Forwarded-Port".into(), port);
    add("X-Forwarded-Proto".into(), "http".into());
    add("X-Amzn-Trace-Id".into(), inv.trace_id().to_string());

    let query = parts.uri.query().map(query_pairs).unwrap_or_default();
    let mut single = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for (k, v) in query {
        single.insert(k.clone(), Value::String(v.clone()));
        match multi_query.get_mut(&k) {
            Some(Value::Array(values)) => values.push(Value::String(v)),
            _ => {
                multi_query.insert(k, json!([v]));
            }
        }
    }
    let path_parameters: Map<String, Value> =
        inv.path_params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let stage_variables: Map<String, Value> =
        stage.variables.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let path = format!("/{}", inv.resource_relative_path.trim_start_matches('/'));
    let content_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let binary = payload::is_binary(&plan.binary_media_types, content_type);
    let (body, encoded) = match (body.is_empty(), binary) {
        (true, _) => (Value::Null, false),
        (false, true) => (Value::String(base64::engine::general_purpose::STANDARD.encode(body)), true),
        (false, false) => (Value::String(String::from_utf8_lossy(body).into_owned()), false),
    };
    json!({
        "resource": &*method.resource_path,
        "path": path,
        "httpMethod": ctx.http_method,
        "headers": null_if_empty(headers),
        "multiValueHeaders": null_if_empty(multi),
        "queryStringParameters": null_if_empty(single),
        "multiValueQueryStringParameters": null_if_empty(multi_query),
        "pathParameters": null_if_empty(path_parameters),
        "stageVariables": null_if_empty(stage_variables),
        "requestContext": {
            "accountId": crate::mapping::context::ACCOUNT_ID,
            "apiId": &*ctx.api_id,
            "deploymentId": &*ctx.deployment_id,
            "domainName": ctx.domain_name,
            "domainPrefix": ctx.domain_prefix,
            "extendedRequestId": ctx.extended_request_id,
            "httpMethod": ctx.http_method,
            "identity": {
                "accessKey": null, "accountId": null, "caller": null, "cognitoAuthenticationProvider": null,
                "cognitoAuthenticationType": null, "cognitoIdentityId": null, "cognitoIdentityPoolId": null,
                "principalOrgId": null, "sourceIp": ctx.source_ip, "user": null, "userAgent": ctx.user_agent, "userArn": null
            },
            "path": ctx.path,
            "protocol": ctx.protocol,
            "requestId": ctx.request_id,
            "requestTime": &*ctx.request_time,
            "requestTimeEpoch": ctx.request_time_epoch,
            "resourceId": &*ctx.resource_id,
            "resourcePath": &*ctx.resource_path,
            "stage": &*ctx.stage
        },
        "body": body,
        "isBase64Encoded": encoded
    })
}

fn malformed(why: &str) -> GatewayError {
    GatewayError::BadGateway(format!("Malformed Lambda proxy response: {why}"))
}

fn header_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        Value::Null => None,
        _ => None,
    }
}

/// The function's `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` as the
/// client's response (`runtime.md` §9.2); anything else is API Gateway's 502.
fn proxy_response(
    plan: &Plan,
    parts: &http::request::Parts,
    result: &[u8],
    inv: &Invocation,
) -> Result<Response<Body>, GatewayError> {
    let value: Value = serde_json::from_slice(result).map_err(|_| malformed("not JSON"))?;
    let Value::Object(fields) = value else { return Err(malformed("not a JSON object")) };
    const ALLOWED: &[&str] = &["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"];
    if let Some(extra) = fields.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(malformed(&format!("unexpected field {extra:?}")));
    }
    let status = match fields.get("statusCode") {
        None | Some(Value::Null) => 200,
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| malformed("statusCode"))?,
        Some(Value::String(s)) => s.trim().parse().map_err(|_| malformed("statusCode"))?,
        Some(_) => return Err(malformed("statusCode")),
    };
    let status = StatusCode::from_u16(u16::try_from(status).map_err(|_| malformed("statusCode"))?)
        .map_err(|_| malformed("statusCode"))?;
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, value: String| -> Result<(), GatewayError> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| malformed("header name"))?;
        let value = HeaderValue::from_str(&value).map_err(|_| malformed("header value"))?;
        headers.append(name, value);
        Ok(())
    };
    match fields.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (name, values) in m {
                let Value::Array(values) = values else {
                    return Err(malformed("multiValueHeaders value is not a list"));
                };
                for v in values.iter().filter_map(header_text) {
                    put(name, v)?;
                }
            }
        }
        Some(_) => return Err(malformed("multiValueHeaders")),
    }
    match fields.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (name, v) in m {
                let Some(v) = header_text(v) else { continue };
                let multi = fields.get("multiValueHeaders").and_then(|mv| mv.as_object());
                // An identical pair given in both forms appears once.
                let duplicate = multi.and_then(|mv| mv.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))).is_some_and(
                    |(_, vs)| vs.as_array().is_some_and(|vs| vs.iter().filter_map(header_text).any(|x| x == v)),
                );
                if !duplicate {
                    put(name, v)?;
                }
            }
        }
        Some(_) => return Err(malformed("headers")),
    }
    // Several values of one name are joined, as API Gateway returns them.
    let mut joined = HeaderMap::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if let Ok(v) = HeaderValue::from_str(&values.join(", ")) {
            joined.insert(name.clone(), v);
        }
    }
    let body = match fields.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let encoded = match fields.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(malformed("isBase64Encoded")),
    };
    let accept = parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok());
    let body = if encoded && payload::is_binary(&plan.binary_media_types, accept) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| GatewayError::ApiConfiguration("the function's base64 body does not decode".into()))?;
        Bytes::from(decoded)
    } else {
        Bytes::from(body)
    };
    method_response::remap_lambda_proxy_headers(&mut joined);
    if !joined.contains_key(http::header::CONTENT_TYPE) {
        joined.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if let Ok(v) = HeaderValue::from_str(inv.trace_id()) {
        joined.insert(&header_names::X_AMZN_TRACE_ID, v);
    }
    inv.add_request_headers(&mut joined);
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    *response.headers_mut() = joined;
    Ok(response)
}

/// AWS_PROXY: the request becomes the proxy event, the function's answer the response.
pub async fn proxy(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    client: &HttpClient,
    parts: &http::request::Parts,
    body: Bytes,
    inv: &mut Invocation,
) -> Result<Response<Body>, GatewayError> {
    if method.integration.http_method.as_ref().is_some_and(|m| m != Method::POST) {
        return Err(configuration("AWS_PROXY integrations must use httpMethod POST"));
    }
    let event = event(plan, stage, method, parts, &body, inv);
    let invoked = invoke(plan, stage, method, client, Bytes::from(event.to_string()), inv.trace_id()).await?;
    if invoked.function_error {
        return Err(GatewayError::BadGateway(format!(
            "the function failed: {}",
            String::from_utf8_lossy(&invoked.payload)
        )));
    }
    proxy_response(plan, parts, &invoked.payload, inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_from_invocation_arn() {
        let f = function_of("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello/invocations").unwrap();
        assert_eq!(f, Function { name: "hello".into(), qualifier: None });
        let f = function_of("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:hello:live/invocations").unwrap();
        assert_eq!(f.qualifier.as_deref(), Some("live"));
        assert!(function_of("arn:aws:apigateway:us-east-1:s3:path/bucket/key").unwrap_err().contains("only Lambda"));
        assert!(function_of("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions//invocations").is_err());
    }
}
