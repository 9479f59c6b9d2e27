//! RestApi and Resource operations: CreateRestApi ... DeleteRestApi, CreateResource ...
//! DeleteResource, with AWS's paging, conflicts and messages.

use super::error::{bad_request, conflict, not_found, AdminResult};
use super::patch::{self, Field, Fields};
use super::state::{new_id, now, Obj, RestApiState, State};
use super::{api, page, string_field, Reply};
use http::StatusCode;
use serde_json::{json, Value};

const REST_API_FIELDS: Fields = &[
    ("name", Field::Str),
    ("description", Field::Str),
    ("version", Field::Str),
    ("binaryMediaTypes", Field::StrSet),
    ("minimumCompressionSize", Field::Int),
    ("apiKeySource", Field::Str),
    ("policy", Field::Str),
    ("disableExecuteApiEndpoint", Field::Bool),
];

pub fn create_rest_api(state: &mut State, body: &Value) -> AdminResult<Reply> {
    let name = string_field(body, "name").ok_or_else(|| bad_request("Invalid REST API name specified"))?;
    let (id, root) = (new_id(10), new_id(10));
    let mut rest_api = json!({
        "id": id,
        "name": name,
        "createdDate": now(),
        "apiKeySource": "HEADER",
        "endpointConfiguration": {"types": ["EDGE"]},
        "disableExecuteApiEndpoint": false,
        "rootResourceId": root,
    });
    for key in [
        "description",
        "version",
        "binaryMediaTypes",
        "minimumCompressionSize",
        "apiKeySource",
        "endpointConfiguration",
        "policy",
        "tags",
        "disableExecuteApiEndpoint",
    ] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            rest_api[key] = v.clone();
        }
    }
    check_rest_api(rest_api.as_object().unwrap())?;
    let mut api = RestApiState { rest_api: rest_api.as_object().unwrap().clone(), ..Default::default() };
    api.resources.insert(root.clone(), json!({"id": root, "path": "/"}).as_object().unwrap().clone());
    state.apis.insert(id, api);
    Ok(Reply::new(StatusCode::CREATED, Value::Object(rest_api.as_object().unwrap().clone())))
}

fn check_rest_api(api: &Obj) -> AdminResult<()> {
    if let Some(source) = api.get("apiKeySource").and_then(Value::as_str) {
        if source != "HEADER" && source != "AUTHORIZER" {
            return Err(bad_request(format!(
                "Invalid API key source specified: {source}. Must be HEADER or AUTHORIZER"
            )));
        }
    }
    if let Some(size) = api.get("minimumCompressionSize").and_then(Value::as_i64) {
        if !(0..=10_485_760).contains(&size) {
            return Err(bad_request("Invalid minimum compression size, must be between 0 and 10485760"));
        }
    }
    Ok(())
}

pub fn get_rest_api(state: &mut State, id: &str) -> AdminResult<Reply> {
    Ok(Reply::ok(Value::Object(api(state, id)?.rest_api.clone())))
}

pub fn get_rest_apis(state: &mut State, query: &[(String, String)]) -> AdminResult<Reply> {
    let items: Vec<Value> = state.apis.values().map(|a| Value::Object(a.rest_api.clone())).collect();
    page(items, query)
}

pub fn update_rest_api(state: &mut State, id: &str, body: &Value) -> AdminResult<Reply> {
    let api = super::api_mut(state, id)?;
    let updated = patch::update(&mut api.rest_api, body, REST_API_FIELDS)?;
    check_rest_api(&api.rest_api)?;
    Ok(Reply::ok(updated))
}

pub fn delete_rest_api(state: &mut State, id: &str) -> AdminResult<Reply> {
    api(state, id)?;
    state.apis.shift_remove(id);
    Ok(Reply::empty(StatusCode::ACCEPTED))
}

/// A Resource as GetResource returns it: methods named (`{"GET": {}}`), or whole with
/// `embed=methods`.
fn view(resource: &Obj, embed: bool) -> Value {
    let mut out = resource.clone();
    if !embed {
        if let Some(Value::Object(methods)) = out.get_mut("resourceMethods") {
            for m in methods.values_mut() {
                *m = json!({});
            }
        }
    }
    if out.get("resourceMethods").and_then(Value::as_object).is_some_and(|m| m.is_empty()) {
        out.remove("resourceMethods");
    }
    Value::Object(out)
}

fn embeds_methods(query: &[(String, String)]) -> bool {
    query.iter().any(|(k, v)| k == "embed" && v.split(',').any(|e| e.trim() == "methods"))
}

pub fn get_resources(state: &mut State, id: &str, query: &[(String, String)]) -> AdminResult<Reply> {
    let embed = embeds_methods(query);
    let items: Vec<Value> = api(state, id)?.resources.values().map(|r| view(r, embed)).collect();
    page(items, query)
}

pub fn get_resource(state: &mut State, id: &str, rid: &str, query: &[(String, String)]) -> AdminResult<Reply> {
    let api = api(state, id)?;
    Ok(Reply::ok(view(resource(api, rid)?, embeds_methods(query))))
}

pub fn resource<'a>(api: &'a RestApiState, rid: &str) -> AdminResult<&'a Obj> {
    api.resources.get(rid).ok_or_else(|| not_found("Invalid Resource identifier specified"))
}

fn valid_path_part(part: &str) -> bool {
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c));
    match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(inner) => plain(inner.strip_suffix('+').unwrap_or(inner)),
        None => plain(part),
    }
}

/// Refuses a path part that is malformed or collides with a sibling, as AWS does.
fn check_path_part(api: &RestApiState, parent: &str, part: &str, this: Option<&str>) -> AdminResult<()> {
    if !valid_path_part(part) {
        return Err(bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.",
        ));
    }
    let siblings = api.resources.values().filter(|r| {
        r.get("parentId").and_then(Value::as_str) == Some(parent) && this != r.get("id").and_then(Value::as_str)
    });
    for sibling in siblings {
        let sibling_part = sibling.get("pathPart").and_then(Value::as_str).unwrap_or("");
        if sibling_part == part {
            return Err(conflict(format!("Another resource with the same parent already has this name: {part}")));
        }
        if sibling_part.starts_with('{') && part.starts_with('{') {
            return Err(bad_request(format!(
                "A sibling ({sibling_part}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(())
}

fn child_path(parent_path: &str, part: &str) -> String {
    if parent_path == "/" {
        format!("/{part}")
    } else {
        format!("{parent_path}/{part}")
    }
}

pub fn create_resource(state: &mut State, id: &str, parent: &str, body: &Value) -> AdminResult<Reply> {
    let api = super::api_mut(state, id)?;
    let parent_path = resource(api, parent)?.get("path").and_then(Value::as_str).unwrap_or("/").to_string();
    let part = string_field(body, "pathPart").ok_or_else(|| bad_request("Invalid resource path part specified"))?;
    check_path_part(api, parent, &part, None)?;
    let rid = new_id(6);
    let resource = json!({"id": rid, "parentId": parent, "pathPart": part, "path": child_path(&parent_path, &part)});
    api.resources.insert(rid, resource.as_object().unwrap().clone());
    Ok(Reply::new(StatusCode::CREATED, resource))
}

/// The resource and every resource under it.
fn subtree(api: &RestApiState, rid: &str) -> Vec<String> {
    let mut out = vec![rid.to_string()];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        out.extend(
            api.resources
                .values()
                .filter(|r| r.get("parentId").and_then(Value::as_str) == Some(&parent))
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string)),
        );
        i += 1;
    }
    out
}

pub fn update_resource(state: &mut State, id: &str, rid: &str, body: &Value) -> AdminResult<Reply> {
    let ops = patch::operations(body)?;
    let api = super::api_mut(state, id)?;
    let current = resource(api, rid)?.clone();
    let (mut parent, mut part) = (
        current.get("parentId").and_then(Value::as_str).unwrap_or("").to_string(),
        current.get("pathPart").and_then(Value::as_str).unwrap_or("").to_string(),
    );
    for op in &ops {
        let (name, path) = (op.op.as_deref().unwrap_or(""), op.path.as_deref().unwrap_or(""));
        if path != "/pathPart" && path != "/parentId" {
            return Err(bad_request(format!(
                "Invalid patch path  '{path}' specified for op '{name}'. Must be one of: [/parentId, /pathPart]"
            )));
        }
        if name != "replace" {
            return Err(bad_request(format!(
                "Invalid patch path  '{path}' specified for op '{name}'. Please choose supported operations"
            )));
        }
        let value = op.value.clone().unwrap_or_default();
        if path == "/pathPart" {
            part = value;
        } else {
            parent = value;
        }
    }
    if current.get("parentId").is_none() {
        return Err(bad_request("Root resource cannot be updated"));
    }
    let parent_path = resource(api, &parent)?.get("path").and_then(Value::as_str).unwrap_or("/").to_string();
    let moved = subtree(api, rid);
    if moved.contains(&parent) {
        return Err(bad_request("Resource cannot be moved under itself or one of its children"));
    }
    check_path_part(api, &parent, &part, Some(rid))?;
    let entry = api.resources.get_mut(rid).unwrap();
    entry.insert("parentId".into(), json!(parent));
    entry.insert("pathPart".into(), json!(part));
    entry.insert("path".into(), json!(child_path(&parent_path, &part)));
    // Descendants take the new path; `moved` lists parents before children.
    for child in moved.iter().skip(1) {
        let parent_id = api.resources[child].get("parentId").and_then(Value::as_str).unwrap_or("").to_string();
        let base = api.resources[&parent_id].get("path").and_then(Value::as_str).unwrap_or("/").to_string();
        let entry = api.resources.get_mut(child).unwrap();
        let own = entry.get("pathPart").and_then(Value::as_str).unwrap_or("").to_string();
        entry.insert("path".into(), json!(child_path(&base, &own)));
    }
    Ok(Reply::ok(view(&api.resources[rid], true)))
}

pub fn delete_resource(state: &mut State, id: &str, rid: &str) -> AdminResult<Reply> {
    let api = super::api_mut(state, id)?;
    if resource(api, rid)?.get("parentId").is_none() {
        return Err(bad_request("Cannot delete root resource"));
    }
    for gone in subtree(api, rid) {
        api.resources.shift_remove(&gone);
    }
    Ok(Reply::empty(StatusCode::ACCEPTED))
}
