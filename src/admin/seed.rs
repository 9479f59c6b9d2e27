//! Seeding an empty state from a native document (`--config`): the document's API with ids as
//! AWS would give them, each of its stages deployed, and its VPC links.

use super::deployments::new_stage;
use super::state::{new_id, now, Deployment, Obj, RestApiState, State};
use serde_json::{json, Value};

/// The environment keys of the document (load balancers, Lambda endpoint, backend TLS).
pub fn environment(state: &mut State, doc: &Value) {
    state.environment.clear();
    for key in ["networkLoadBalancers", "lambda", "backendTls"] {
        if let Some(v) = doc.get(key) {
            state.environment.insert(key.into(), v.clone());
        }
    }
}

fn path_of(resource: &Value, all: &[Value], depth: usize) -> Option<String> {
    if let Some(p) = resource.get("path").and_then(Value::as_str) {
        return Some(p.to_string());
    }
    let Some(parent) = resource.get("parentId").and_then(Value::as_str) else { return Some("/".into()) };
    if depth > 64 {
        return None;
    }
    let parent = all.iter().find(|r| r.get("id").and_then(Value::as_str) == Some(parent))?;
    let base = path_of(parent, all, depth + 1)?;
    let part = resource.get("pathPart").and_then(Value::as_str)?;
    Some(if base == "/" { format!("/{part}") } else { format!("{base}/{part}") })
}

pub fn seed(state: &mut State, doc: &Value) -> Result<(), String> {
    let given = doc.get("restApi").cloned().unwrap_or(json!({}));
    let id = given.get("id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| new_id(10));
    let mut rest_api = json!({"id": id, "createdDate": now(), "apiKeySource": "HEADER",
        "endpointConfiguration": {"types": ["EDGE"]}, "disableExecuteApiEndpoint": false});
    for key in ["name", "description", "binaryMediaTypes", "minimumCompressionSize", "apiKeySource"] {
        if let Some(v) = given.get(key) {
            rest_api[key] = v.clone();
        }
    }
    let raw: Vec<Value> = doc.get("resources").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut by_path: indexmap::IndexMap<String, Obj> = indexmap::IndexMap::new();
    let mut located: Vec<(String, &Value)> = Vec::new();
    for r in &raw {
        located.push((path_of(r, &raw, 0).ok_or("a resource's parent cannot be found")?, r));
    }
    located.sort_by_key(|(p, _)| p.matches('/').count() - usize::from(p == "/"));
    let root_id = located
        .iter()
        .find(|(p, _)| p == "/")
        .and_then(|(_, r)| r.get("id").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| new_id(10));
    by_path.insert("/".into(), json!({"id": root_id, "path": "/"}).as_object().unwrap().clone());
    for (path, resource) in &located {
        // Parents are implied: create each missing one on the way down.
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        for depth in 1..=parts.len() {
            let sub = format!("/{}", parts[..depth].join("/"));
            if by_path.contains_key(&sub) {
                continue;
            }
            let parent = if depth == 1 { "/".to_string() } else { format!("/{}", parts[..depth - 1].join("/")) };
            let parent_id = by_path[&parent]["id"].clone();
            let own = (depth == parts.len()).then(|| resource.get("id").and_then(Value::as_str)).flatten();
            let rid = own.map(str::to_string).unwrap_or_else(|| new_id(6));
            let entry = json!({"id": rid, "parentId": parent_id, "pathPart": parts[depth - 1], "path": sub});
            by_path.insert(sub, entry.as_object().unwrap().clone());
        }
        if let Some(Value::Object(methods)) = resource.get("resourceMethods") {
            let mut filled = methods.clone();
            for (verb, m) in filled.iter_mut() {
                if let Some(m) = m.as_object_mut() {
                    m.entry("httpMethod").or_insert_with(|| json!(verb));
                    m.entry("authorizationType").or_insert_with(|| json!("NONE"));
                    m.entry("apiKeyRequired").or_insert_with(|| json!(false));
                }
            }
            by_path.get_mut(path).unwrap().insert("resourceMethods".into(), Value::Object(filled));
        }
    }
    rest_api["rootResourceId"] = json!(root_id);
    let mut api = RestApiState { rest_api: rest_api.as_object().unwrap().clone(), ..Default::default() };
    for r in by_path.into_values() {
        api.resources.insert(r["id"].as_str().unwrap_or_default().to_string(), r);
    }
    let items = |key: &str| doc.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    for mut m in items("models") {
        let name = m.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if let Some(schema) = m.get("schema").filter(|s| !s.is_string()) {
            m["schema"] = json!(schema.to_string());
        }
        m.as_object_mut().map(|o| o.entry("id").or_insert_with(|| json!(new_id(6))));
        api.models.insert(name, m.as_object().cloned().unwrap_or_default());
    }
    for v in items("requestValidators") {
        let vid = v.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        api.request_validators.insert(vid, v.as_object().cloned().unwrap_or_default());
    }
    for g in items("gatewayResponses") {
        let kind = g.get("responseType").and_then(Value::as_str).unwrap_or_default().to_string();
        api.gateway_responses.insert(kind, g.as_object().cloned().unwrap_or_default());
    }
    for link in items("vpcLinks") {
        let lid = link.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut link = link.as_object().cloned().unwrap_or_default();
        link.entry("status").or_insert_with(|| json!("AVAILABLE"));
        state.vpc_links.insert(lid, link);
    }
    for stage in items("stages") {
        let name = stage.get("stageName").and_then(Value::as_str).unwrap_or_default().to_string();
        let did = new_id(6);
        let deployment = json!({"id": did, "createdDate": now(), "description": "seeded from the document"});
        api.deployments.insert(
            did.clone(),
            Deployment { deployment: deployment.as_object().unwrap().clone(), snapshot: api.snapshot() },
        );
        let mut s = new_stage(&name, &did, stage.get("description"), stage.get("variables"));
        for key in ["methodSettings", "accessLogSettings"] {
            if let Some(v) = stage.get(key) {
                s.insert(key.into(), v.clone());
            }
        }
        api.stages.insert(name, s);
    }
    state.apis.insert(id, api);
    Ok(())
}
