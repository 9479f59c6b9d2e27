//! Deployment and Stage operations. A deployment freezes the API as a native document; a
//! stage serves the snapshot of the deployment it points at, so changes reach the data plane
//! only when deployed, as on AWS.

use super::error::{bad_request, conflict, not_found, AdminError, AdminResult};
use super::patch::{self, Field, Fields};
use super::state::{new_id, now, Deployment, Obj, State};
use super::{api, api_mut, page, string_field, Reply};
use crate::plan::Plan;
use http::StatusCode;
use serde_json::{json, Map, Value};

/// Compiles a snapshot with one stage (or none) and the shared environment into a plan.
pub fn compile(state: &State, snapshot: &Value, stage: Option<&Obj>) -> Result<Plan, String> {
    let doc = state.document(snapshot, stage);
    let text = serde_json::to_string(&doc).map_err(|e| e.to_string())?;
    crate::config::compile_text(&text, true)
        .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
}

/// AWS's refusals of an API that cannot be deployed, then anything the compiler finds.
fn check_deployable(state: &State, id: &str, snapshot: &Value) -> AdminResult<()> {
    let api = &state.apis[id];
    let mut any = false;
    for resource in api.resources.values() {
        for method in resource.get("resourceMethods").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
            any = true;
            if method.get("methodIntegration").is_none() {
                return Err(bad_request("No integration defined for method"));
            }
        }
    }
    if !any {
        return Err(bad_request("The REST API doesn't contain any methods"));
    }
    compile(state, snapshot, None).map(drop).map_err(|e| bad_request(format!("Errors found during deployment: {e}")))
}

fn deployment_not_found() -> AdminError {
    not_found("Invalid Deployment identifier specified")
}

fn stage_not_found() -> AdminError {
    not_found("Invalid Stage identifier specified")
}

fn valid_stage_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 128 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub fn new_stage(name: &str, deployment: &str, description: Option<&Value>, variables: Option<&Value>) -> Obj {
    let mut stage = json!({
        "deploymentId": deployment,
        "stageName": name,
        "cacheClusterEnabled": false,
        "cacheClusterStatus": "NOT_AVAILABLE",
        "methodSettings": {},
        "tracingEnabled": false,
        "createdDate": now(),
        "lastUpdatedDate": now(),
    });
    if let Some(d) = description.filter(|d| !d.is_null()) {
        stage["description"] = d.clone();
    }
    if let Some(v) = variables.filter(|v| v.as_object().is_some_and(|m| !m.is_empty())) {
        stage["variables"] = v.clone();
    }
    stage.as_object().unwrap().clone()
}

pub fn create_deployment(state: &mut State, id: &str, body: &Value) -> AdminResult<Reply> {
    let snapshot = api(state, id)?.snapshot();
    check_deployable(state, id, &snapshot)?;
    let stage_name = string_field(body, "stageName");
    if let Some(name) = &stage_name {
        if !valid_stage_name(name) {
            return Err(bad_request("Stage name only allows a-zA-Z0-9_ and -"));
        }
    }
    let deployment_id = new_id(6);
    let mut deployment = json!({"id": deployment_id, "createdDate": now()});
    if let Some(d) = body.get("description").filter(|d| !d.is_null()) {
        deployment["description"] = d.clone();
    }
    let deployment = deployment.as_object().unwrap().clone();
    let api = api_mut(state, id)?;
    api.deployments.insert(deployment_id.clone(), Deployment { deployment: deployment.clone(), snapshot });
    if let Some(name) = stage_name {
        match api.stages.get_mut(&name) {
            Some(stage) => {
                stage.insert("deploymentId".into(), json!(deployment_id));
                stage.insert("lastUpdatedDate".into(), json!(now()));
                if let Some(Value::Object(vars)) = body.get("variables") {
                    let current = stage.entry("variables").or_insert_with(|| json!({}));
                    for (k, v) in vars {
                        current[k] = v.clone();
                    }
                }
            }
            None => {
                let stage = new_stage(&name, &deployment_id, body.get("stageDescription"), body.get("variables"));
                api.stages.insert(name, stage);
            }
        }
    }
    Ok(Reply::new(StatusCode::CREATED, Value::Object(deployment)))
}

pub fn get_deployments(state: &mut State, id: &str, query: &[(String, String)]) -> AdminResult<Reply> {
    let items = api(state, id)?.deployments.values().map(|d| Value::Object(d.deployment.clone())).collect();
    page(items, query)
}

pub fn get_deployment(state: &mut State, id: &str, did: &str) -> AdminResult<Reply> {
    let d = api(state, id)?.deployments.get(did).ok_or_else(deployment_not_found)?;
    Ok(Reply::ok(Value::Object(d.deployment.clone())))
}

pub fn update_deployment(state: &mut State, id: &str, did: &str, body: &Value) -> AdminResult<Reply> {
    const FIELDS: Fields = &[("description", Field::Str)];
    let d = api_mut(state, id)?.deployments.get_mut(did).ok_or_else(deployment_not_found)?;
    Ok(Reply::ok(patch::update(&mut d.deployment, body, FIELDS)?))
}

pub fn delete_deployment(state: &mut State, id: &str, did: &str) -> AdminResult<Reply> {
    let api = api_mut(state, id)?;
    api.deployments.get(did).ok_or_else(deployment_not_found)?;
    if api.stages.values().any(|s| s.get("deploymentId").and_then(Value::as_str) == Some(did)) {
        return Err(bad_request("Active stages pointing to this deployment must be moved or deleted"));
    }
    api.deployments.shift_remove(did);
    Ok(Reply::empty(StatusCode::ACCEPTED))
}

pub fn create_stage(state: &mut State, id: &str, body: &Value) -> AdminResult<Reply> {
    let api = api_mut(state, id)?;
    let name = string_field(body, "stageName").unwrap_or_default();
    if !valid_stage_name(&name) {
        return Err(bad_request("Stage name only allows a-zA-Z0-9_ and -"));
    }
    let deployment = string_field(body, "deploymentId").unwrap_or_default();
    if !api.deployments.contains_key(&deployment) {
        return Err(deployment_not_found());
    }
    if api.stages.contains_key(&name) {
        return Err(conflict("Stage already exists"));
    }
    let mut stage = new_stage(&name, &deployment, body.get("description"), body.get("variables"));
    for key in ["tracingEnabled", "cacheClusterEnabled", "tags"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            stage.insert(key.into(), v.clone());
        }
    }
    api.stages.insert(name, stage.clone());
    Ok(Reply::new(StatusCode::CREATED, Value::Object(stage)))
}

pub fn get_stage(state: &mut State, id: &str, name: &str) -> AdminResult<Reply> {
    let stage = api(state, id)?.stages.get(name).ok_or_else(stage_not_found)?;
    Ok(Reply::ok(Value::Object(stage.clone())))
}

pub fn get_stages(state: &mut State, id: &str, query: &[(String, String)]) -> AdminResult<Reply> {
    let wanted = query.iter().find(|(k, _)| k == "deploymentId").map(|(_, v)| v.as_str());
    let items: Vec<Value> = api(state, id)?
        .stages
        .values()
        .filter(|s| wanted.is_none() || s.get("deploymentId").and_then(Value::as_str) == wanted)
        .map(|s| Value::Object(s.clone()))
        .collect();
    Ok(Reply::ok(json!({ "item": items })))
}

const STAGE_FIELDS: Fields = &[
    ("description", Field::Str),
    ("deploymentId", Field::Str),
    ("tracingEnabled", Field::Bool),
    ("cacheClusterEnabled", Field::Bool),
    ("cacheClusterSize", Field::Str),
    ("variables", Field::StrMap),
    ("accessLogSettings", Field::Object(&[("format", Field::Str), ("destinationArn", Field::Str)])),
];

/// `/{resourcePath}/{httpMethod}/{area}/{setting}` (`/*/*/throttling/rateLimit`,
/// `/~1pets/GET/metrics/enabled`): the methodSettings field and its type.
fn method_setting(area: &str, setting: &str) -> Option<(&'static str, Field)> {
    Some(match (area, setting) {
        ("throttling", "rateLimit") => ("throttlingRateLimit", Field::Float),
        ("throttling", "burstLimit") => ("throttlingBurstLimit", Field::Int),
        ("metrics", "enabled") => ("metricsEnabled", Field::Bool),
        ("logging", "loglevel") => ("loggingLevel", Field::Str),
        ("logging", "dataTrace") => ("dataTraceEnabled", Field::Bool),
        ("caching", "enabled") => ("cachingEnabled", Field::Bool),
        ("caching", "ttlInSeconds") => ("cacheTtlInSeconds", Field::Int),
        ("caching", "dataEncrypted") => ("cacheDataEncrypted", Field::Bool),
        ("caching", "requireAuthorizationForCacheControl") => ("requireAuthorizationForCacheControl", Field::Bool),
        ("caching", "unauthorizedCacheControlHeaderStrategy") => ("unauthorizedCacheControlHeaderStrategy", Field::Str),
        _ => return None,
    })
}

/// What AWS fills in when a method setting is first written.
fn default_method_setting() -> Value {
    json!({
        "metricsEnabled": false,
        "dataTraceEnabled": false,
        "throttlingBurstLimit": 5000,
        "throttlingRateLimit": 10000.0,
        "cachingEnabled": false,
        "cacheTtlInSeconds": 300,
        "cacheDataEncrypted": false,
        "requireAuthorizationForCacheControl": true,
        "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
    })
}

fn apply_method_setting(stage: &mut Obj, op: &patch::PatchOperation, raw: &[&str]) -> AdminResult<bool> {
    let name = op.op.as_deref().unwrap_or("");
    let key = format!("{}/{}", raw[0], raw[1]);
    let settings = stage.entry("methodSettings").or_insert_with(|| json!({}));
    let settings = settings.as_object_mut().ok_or_else(|| bad_request("methodSettings is not a map"))?;
    match (name, raw.len()) {
        ("remove", 2) => {
            settings.remove(&key);
            Ok(true)
        }
        ("replace" | "add", 4) => {
            let Some((field, kind)) = method_setting(raw[2], raw[3]) else { return Ok(false) };
            let value = patch::coerce(op.value.as_deref().unwrap_or(""), kind)?;
            let entry = settings.entry(key).or_insert_with(default_method_setting);
            entry[field] = value;
            Ok(true)
        }
        _ => Ok(false),
    }
}

pub fn update_stage(state: &mut State, id: &str, name: &str, body: &Value) -> AdminResult<Reply> {
    let ops = patch::operations(body)?;
    let api = api_mut(state, id)?;
    let mut stage = api.stages.get(name).ok_or_else(stage_not_found)?.clone();
    for op in &ops {
        let path = op.path.as_deref().unwrap_or("");
        let raw: Vec<&str> = path.split('/').skip(1).collect();
        let is_setting = (raw.len() == 4 || raw.len() == 2) && !STAGE_FIELDS.iter().any(|(f, _)| *f == raw[0]);
        if is_setting && apply_method_setting(&mut stage, op, &raw)? {
            continue;
        }
        patch::apply(&mut stage, std::slice::from_ref(op), STAGE_FIELDS)?;
    }
    let deployment = stage.get("deploymentId").and_then(Value::as_str).unwrap_or("");
    if !api.deployments.contains_key(deployment) {
        return Err(deployment_not_found());
    }
    stage.insert("lastUpdatedDate".into(), json!(now()));
    api.stages.insert(name.to_string(), stage.clone());
    Ok(Reply::ok(Value::Object(stage)))
}

pub fn delete_stage(state: &mut State, id: &str, name: &str) -> AdminResult<Reply> {
    let api = api_mut(state, id)?;
    api.stages.shift_remove(name).ok_or_else(stage_not_found)?;
    Ok(Reply::empty(StatusCode::ACCEPTED))
}

/// Every deployed stage, compiled: what the data plane serves.
pub fn compile_stages(state: &State) -> Vec<(String, String, Result<Plan, String>)> {
    let mut out = Vec::new();
    for (id, api) in &state.apis {
        for (name, stage) in &api.stages {
            let deployment = stage.get("deploymentId").and_then(Value::as_str).unwrap_or("");
            let plan = match api.deployments.get(deployment) {
                Some(d) => compile(state, &d.snapshot, Some(stage)),
                None => Err(format!("deployment {deployment} does not exist")),
            };
            out.push((id.clone(), name.clone(), plan));
        }
    }
    out
}

/// The `Method:Resource:Stage` triples whose deployed integrations use a VPC link.
pub fn vpc_link_users(state: &State, link: &str) -> Vec<String> {
    let mut users = Vec::new();
    for api in state.apis.values() {
        for (stage_name, stage) in &api.stages {
            let deployment = stage.get("deploymentId").and_then(Value::as_str).unwrap_or("");
            let Some(d) = api.deployments.get(deployment) else { continue };
            let variables = stage.get("variables").cloned().unwrap_or(Value::Object(Map::new()));
            for resource in d.snapshot.get("resources").and_then(Value::as_array).into_iter().flatten() {
                let rid = resource.get("id").and_then(Value::as_str).unwrap_or("");
                for (verb, method) in resource.get("resourceMethods").and_then(Value::as_object).into_iter().flatten() {
                    let Some(integration) = method.get("methodIntegration") else { continue };
                    if integration.get("connectionType").and_then(Value::as_str) != Some("VPC_LINK") {
                        continue;
                    }
                    let connection = integration.get("connectionId").and_then(Value::as_str).unwrap_or("");
                    let resolved = match connection.strip_prefix("${stageVariables.").and_then(|v| v.strip_suffix('}'))
                    {
                        Some(var) => variables.get(var).and_then(Value::as_str).unwrap_or(""),
                        None => connection,
                    };
                    if resolved == link {
                        users.push(format!("{verb}:{rid}:{stage_name}"));
                    }
                }
            }
        }
    }
    users
}
