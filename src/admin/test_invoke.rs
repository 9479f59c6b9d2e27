//! TestInvokeMethod: a request through one method of the API as it is now, undeployed, with
//! the execution log of each phase — the tool for debugging mapping logic.

use super::error::{bad_request, AdminResult};
use super::{api, Admin, Reply};
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Map, Value};
use std::sync::Arc;

const STAGE: &str = "test-invoke-stage";

pub async fn test_invoke(admin: &Arc<Admin>, id: &str, rid: &str, verb: &str, body: &Value) -> AdminResult<Reply> {
    let (plan, resource_path) = {
        let state = admin.state.lock().unwrap_or_else(|p| p.into_inner());
        let api = api(&state, id)?;
        let resource = super::rest_apis::resource(api, rid)?;
        let method = resource
            .get("resourceMethods")
            .and_then(|m| m.get(verb))
            .ok_or_else(|| super::error::not_found("Invalid Method identifier specified"))?;
        if method.get("methodIntegration").is_none() {
            return Err(bad_request("No integration defined for method"));
        }
        let mut stage = json!({"stageName": STAGE});
        if let Some(vars) = body.get("stageVariables").filter(|v| v.is_object()) {
            stage["variables"] = vars.clone();
        }
        let mut plan = super::deployments::compile(&state, &api.snapshot(), stage.as_object())
            .map_err(|e| bad_request(format!("The API cannot run: {e}")))?;
        (admin.gateway.prepare)(&mut plan);
        (plan, resource.get("path").and_then(Value::as_str).unwrap_or("/").to_string())
    };
    let path =
        body.get("pathWithQueryString").and_then(Value::as_str).filter(|p| !p.is_empty()).unwrap_or(&resource_path);
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    let verb = if verb == "ANY" { "GET" } else { verb };
    let mut req = Request::builder().method(verb).uri(format!("/{STAGE}{path}"));
    if let Some(headers) = body.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str().unwrap_or(""));
        }
    }
    if let Some(headers) = body.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, values) in headers {
            for v in values.as_array().into_iter().flatten() {
                req = req.header(k.as_str(), v.as_str().unwrap_or(""));
            }
        }
    }
    let payload = body.get("body").and_then(Value::as_str).unwrap_or("").to_string();
    let req = req
        .header(http::header::HOST, "test-invoke.execute-api.localhost")
        .body(Full::new(Bytes::from(payload)))
        .map_err(|e| bad_request(format!("Invalid request: {e}")))?;
    let started = std::time::Instant::now();
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let mut log = Vec::new();
    let response = crate::pipeline::execute_logged(&plan, &admin.gateway.client, req, peer, &(), Some(&mut log)).await;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let latency = started.elapsed().as_millis() as u64;
    let mut headers = Map::new();
    let mut multi = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.to_string(), json!(value));
        multi.entry(name.to_string()).or_insert_with(|| json!([])).as_array_mut().unwrap().push(json!(value));
    }
    Ok(Reply::ok(json!({
        "status": parts.status.as_u16(),
        "body": String::from_utf8_lossy(&body),
        "headers": headers,
        "multiValueHeaders": multi,
        "log": log.join("\n"),
        "latency": latency,
    })))
}
