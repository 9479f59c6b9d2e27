//! Method, MethodResponse, Integration and IntegrationResponse operations. Each lives inside
//! its resource's `resourceMethods`, in the shape GetMethod returns, so that a deployment
//! snapshot is the resources as they are.

use super::error::{bad_request, conflict, not_found, AdminResult};
use super::patch::{self, Field, Fields};
use super::state::{Obj, State};
use super::{api_mut, Reply};
use http::StatusCode;
use serde_json::{json, Map, Value};

const VERBS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"];

/// The resource's method map, refusing an unknown API, resource or verb.
fn methods<'a>(state: &'a mut State, id: &str, rid: &str, verb: &str) -> AdminResult<&'a mut Map<String, Value>> {
    if !VERBS.contains(&verb) {
        return Err(bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        ));
    }
    let api = api_mut(state, id)?;
    let resource = api.resources.get_mut(rid).ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
    let methods = resource.entry("resourceMethods").or_insert_with(|| json!({}));
    Ok(methods.as_object_mut().expect("resourceMethods is a map"))
}

fn method<'a>(state: &'a mut State, id: &str, rid: &str, verb: &str) -> AdminResult<&'a mut Obj> {
    methods(state, id, rid, verb)?
        .get_mut(verb)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| not_found("Invalid Method identifier specified"))
}

/// Copies the request fields named in `keys` that are set.
fn take(body: &Value, keys: &[&str], into: &mut Obj) {
    for key in keys {
        if let Some(v) = body.get(*key).filter(|v| !v.is_null()) {
            into.insert(key.to_string(), v.clone());
        }
    }
}

const METHOD_FIELDS: Fields = &[
    ("authorizationType", Field::Str),
    ("authorizerId", Field::Str),
    ("apiKeyRequired", Field::Bool),
    ("requestValidatorId", Field::Str),
    ("operationName", Field::Str),
    ("requestParameters", Field::BoolMap),
    ("requestModels", Field::StrMap),
    ("authorizationScopes", Field::StrSet),
];

fn check_method(state: &State, id: &str, method: &Obj) -> AdminResult<()> {
    let api = &state.apis[id];
    match method.get("authorizationType").and_then(Value::as_str) {
        Some("NONE" | "AWS_IAM" | "CUSTOM" | "COGNITO_USER_POOLS") => {}
        other => {
            return Err(bad_request(format!(
                "Invalid authorization type specified: {}. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS",
                other.unwrap_or("")
            )))
        }
    }
    if let Some(v) = method.get("requestValidatorId").and_then(Value::as_str) {
        if !api.request_validators.contains_key(v) {
            return Err(bad_request("Invalid Request Validator identifier specified"));
        }
    }
    for model in method.get("requestModels").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
        let name = model.as_str().unwrap_or("");
        if !api.models.contains_key(name) {
            return Err(bad_request(format!("Invalid model identifier specified: {name}")));
        }
    }
    for key in method.get("requestParameters").and_then(Value::as_object).into_iter().flat_map(|m| m.keys()) {
        let valid = ["path", "querystring", "header", "multivaluequerystring", "multivalueheader"].iter().any(|loc| {
            key.strip_prefix("method.request.")
                .and_then(|k| k.strip_prefix(loc))
                .is_some_and(|n| n.len() > 1 && n.starts_with('.'))
        });
        if !valid {
            return Err(bad_request(format!("Invalid mapping expression specified: {key}")));
        }
    }
    Ok(())
}

pub fn put_method(state: &mut State, id: &str, rid: &str, verb: &str, body: &Value) -> AdminResult<Reply> {
    if methods(state, id, rid, verb)?.contains_key(verb) {
        return Err(conflict("Method already exists for this resource"));
    }
    let mut m = Map::new();
    m.insert("httpMethod".into(), json!(verb));
    m.insert("authorizationType".into(), body.get("authorizationType").cloned().unwrap_or(Value::Null));
    m.insert("apiKeyRequired".into(), json!(body.get("apiKeyRequired").and_then(Value::as_bool).unwrap_or(false)));
    take(
        body,
        &[
            "authorizerId",
            "operationName",
            "requestParameters",
            "requestModels",
            "requestValidatorId",
            "authorizationScopes",
        ],
        &mut m,
    );
    check_method(state, id, &m)?;
    methods(state, id, rid, verb)?.insert(verb.to_string(), Value::Object(m.clone()));
    Ok(Reply::new(StatusCode::CREATED, Value::Object(m)))
}

pub fn get_method(state: &mut State, id: &str, rid: &str, verb: &str) -> AdminResult<Reply> {
    Ok(Reply::ok(Value::Object(method(state, id, rid, verb)?.clone())))
}

pub fn update_method(state: &mut State, id: &str, rid: &str, verb: &str, body: &Value) -> AdminResult<Reply> {
    let ops = patch::operations(body)?;
    let mut updated = method(state, id, rid, verb)?.clone();
    patch::apply(&mut updated, &ops, METHOD_FIELDS)?;
    check_method(state, id, &updated)?;
    *method(state, id, rid, verb)? = updated.clone();
    Ok(Reply::ok(Value::Object(updated)))
}

pub fn delete_method(state: &mut State, id: &str, rid: &str, verb: &str) -> AdminResult<Reply> {
    method(state, id, rid, verb)?;
    methods(state, id, rid, verb)?.remove(verb);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

fn check_status_code(code: &str) -> AdminResult<()> {
    let ok = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && ("100".."600").contains(&code);
    if ok {
        Ok(())
    } else {
        Err(bad_request(format!("Invalid status code specified: {code}")))
    }
}

/// A map inside a method or integration (`methodResponses`, `integrationResponses`).
fn submap<'a>(parent: &'a mut Obj, key: &str) -> &'a mut Map<String, Value> {
    let slot = parent.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    slot.as_object_mut().unwrap()
}

fn response_not_found() -> super::error::AdminError {
    not_found("Invalid Response status code specified")
}

/// PutMethodResponse and PutIntegrationResponse: a response by status code in `map`.
fn put_response(parent: &mut Obj, map: &str, code: &str, body: &Value, keys: &[&str]) -> AdminResult<Reply> {
    check_status_code(code)?;
    let mut r = Map::new();
    r.insert("statusCode".into(), json!(code));
    take(body, keys, &mut r);
    submap(parent, map).insert(code.to_string(), Value::Object(r.clone()));
    Ok(Reply::new(StatusCode::CREATED, Value::Object(r)))
}

/// A response by status code in `map` of its method or integration.
fn response_in<'a>(parent: &'a mut Obj, map: &str, code: &str) -> AdminResult<&'a mut Obj> {
    submap(parent, map).get_mut(code).and_then(Value::as_object_mut).ok_or_else(response_not_found)
}

fn delete_response(parent: &mut Obj, map: &str, code: &str) -> AdminResult<Reply> {
    response_in(parent, map, code)?;
    submap(parent, map).remove(code);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

const METHOD_RESPONSE_FIELDS: Fields = &[("responseParameters", Field::BoolMap), ("responseModels", Field::StrMap)];

pub fn put_method_response(
    state: &mut State,
    id: &str,
    rid: &str,
    verb: &str,
    code: &str,
    body: &Value,
) -> AdminResult<Reply> {
    put_response(
        method(state, id, rid, verb)?,
        "methodResponses",
        code,
        body,
        &["responseParameters", "responseModels"],
    )
}

fn method_response<'a>(state: &'a mut State, id: &str, rid: &str, verb: &str, code: &str) -> AdminResult<&'a mut Obj> {
    response_in(method(state, id, rid, verb)?, "methodResponses", code)
}

pub fn get_method_response(state: &mut State, id: &str, rid: &str, verb: &str, code: &str) -> AdminResult<Reply> {
    Ok(Reply::ok(Value::Object(method_response(state, id, rid, verb, code)?.clone())))
}

pub fn update_method_response(
    state: &mut State,
    id: &str,
    rid: &str,
    verb: &str,
    code: &str,
    body: &Value,
) -> AdminResult<Reply> {
    let response = method_response(state, id, rid, verb, code)?;
    // AWS answers UpdateMethodResponse with 201.
    Ok(Reply::new(StatusCode::CREATED, patch::update(response, body, METHOD_RESPONSE_FIELDS)?))
}

pub fn delete_method_response(state: &mut State, id: &str, rid: &str, verb: &str, code: &str) -> AdminResult<Reply> {
    delete_response(method(state, id, rid, verb)?, "methodResponses", code)
}

const INTEGRATION_FIELDS: Fields = &[
    ("type", Field::Str),
    ("uri", Field::Str),
    ("httpMethod", Field::Str),
    ("connectionType", Field::Str),
    ("connectionId", Field::Str),
    ("credentials", Field::Str),
    ("requestParameters", Field::StrMap),
    ("requestTemplates", Field::StrMap),
    ("passthroughBehavior", Field::Str),
    ("contentHandling", Field::Str),
    ("timeoutInMillis", Field::Int),
    ("cacheNamespace", Field::Str),
    ("cacheKeyParameters", Field::StrSet),
    ("tlsConfig", Field::Object(&[("insecureSkipVerification", Field::Bool)])),
];

/// PutIntegration's and UpdateIntegration's checks, with AWS's messages.
fn check_integration(state: &State, i: &Obj) -> AdminResult<()> {
    let s = |k: &str| i.get(k).and_then(Value::as_str);
    let kind = match s("type") {
        Some(k @ ("HTTP" | "HTTP_PROXY" | "MOCK" | "AWS" | "AWS_PROXY")) => k,
        Some(other) => return Err(bad_request(format!("Invalid integration type specified: {other}"))),
        None => return Err(bad_request("Enumeration value for IntegrationType must be non-empty")),
    };
    if kind != "MOCK" {
        if s("httpMethod").is_none() {
            return Err(bad_request("Enumeration value for HttpMethod must be non-empty"));
        }
        match s("uri") {
            None | Some("") => return Err(bad_request("Invalid HTTP endpoint specified for URI")),
            Some(uri) if kind.starts_with("HTTP") && !(uri.starts_with("http://") || uri.starts_with("https://")) => {
                return Err(bad_request("Invalid HTTP endpoint specified for URI"))
            }
            _ => {}
        }
    }
    if let Some(m) = s("httpMethod") {
        if !VERBS.contains(&m) {
            return Err(bad_request(format!("Invalid HttpMethod specified: {m}")));
        }
    }
    match s("passthroughBehavior") {
        None | Some("WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES" | "NEVER") => {}
        Some(p) => return Err(bad_request(format!("Invalid passthrough behavior specified: {p}"))),
    }
    match s("contentHandling") {
        None | Some("CONVERT_TO_TEXT" | "CONVERT_TO_BINARY") => {}
        Some(c) => return Err(bad_request(format!("Invalid content handling specified: {c}"))),
    }
    if let Some(t) = i.get("timeoutInMillis").and_then(Value::as_i64) {
        if !(50..=29_000).contains(&t) {
            return Err(bad_request("Timeout should be between 50 ms and 29000 ms"));
        }
    }
    match s("connectionType") {
        None | Some("INTERNET") => {}
        Some("VPC_LINK") => {
            if !kind.starts_with("HTTP") {
                return Err(bad_request("Private integrations (VPC_LINK) are only supported for HTTP and HTTP_PROXY"));
            }
            let link = s("connectionId").unwrap_or("");
            if link.is_empty() {
                return Err(bad_request("Connection id must be set for connection type VPC_LINK"));
            }
            if !link.starts_with("${stageVariables.") && !state.vpc_links.contains_key(link) {
                return Err(not_found(format!("Invalid VPC link identifier specified: {link}")));
            }
        }
        Some(other) => return Err(bad_request(format!("Invalid connection type specified: {other}"))),
    }
    Ok(())
}

fn integration<'a>(state: &'a mut State, id: &str, rid: &str, verb: &str) -> AdminResult<&'a mut Obj> {
    method(state, id, rid, verb)?
        .get_mut("methodIntegration")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| not_found("Invalid Integration identifier specified"))
}

pub fn put_integration(state: &mut State, id: &str, rid: &str, verb: &str, body: &Value) -> AdminResult<Reply> {
    method(state, id, rid, verb)?;
    let mut i = Map::new();
    take(
        body,
        &[
            "type",
            "httpMethod",
            "uri",
            "connectionType",
            "connectionId",
            "credentials",
            "requestParameters",
            "requestTemplates",
        ],
        &mut i,
    );
    i.insert(
        "passthroughBehavior".into(),
        body.get("passthroughBehavior").filter(|v| !v.is_null()).cloned().unwrap_or(json!("WHEN_NO_MATCH")),
    );
    take(body, &["contentHandling"], &mut i);
    i.insert(
        "timeoutInMillis".into(),
        body.get("timeoutInMillis").filter(|v| !v.is_null()).cloned().unwrap_or(json!(29_000)),
    );
    i.insert(
        "cacheNamespace".into(),
        body.get("cacheNamespace").filter(|v| !v.is_null()).cloned().unwrap_or(json!(rid)),
    );
    i.insert(
        "cacheKeyParameters".into(),
        body.get("cacheKeyParameters").filter(|v| !v.is_null()).cloned().unwrap_or(json!([])),
    );
    take(body, &["tlsConfig"], &mut i);
    let kind = i.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != "MOCK" && !i.contains_key("connectionType") {
        i.insert("connectionType".into(), json!("INTERNET"));
    }
    check_integration(state, &i)?;
    method(state, id, rid, verb)?.insert("methodIntegration".into(), Value::Object(i.clone()));
    Ok(Reply::new(StatusCode::CREATED, Value::Object(i)))
}

pub fn get_integration(state: &mut State, id: &str, rid: &str, verb: &str) -> AdminResult<Reply> {
    Ok(Reply::ok(Value::Object(integration(state, id, rid, verb)?.clone())))
}

pub fn update_integration(state: &mut State, id: &str, rid: &str, verb: &str, body: &Value) -> AdminResult<Reply> {
    let ops = patch::operations(body)?;
    let mut updated = integration(state, id, rid, verb)?.clone();
    patch::apply(&mut updated, &ops, INTEGRATION_FIELDS)?;
    check_integration(state, &updated)?;
    *integration(state, id, rid, verb)? = updated.clone();
    Ok(Reply::ok(Value::Object(updated)))
}

pub fn delete_integration(state: &mut State, id: &str, rid: &str, verb: &str) -> AdminResult<Reply> {
    integration(state, id, rid, verb)?;
    method(state, id, rid, verb)?.remove("methodIntegration");
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

const INTEGRATION_RESPONSE_FIELDS: Fields = &[
    ("selectionPattern", Field::Str),
    ("responseParameters", Field::StrMap),
    ("responseTemplates", Field::StrMap),
    ("contentHandling", Field::Str),
];

pub fn put_integration_response(
    state: &mut State,
    id: &str,
    rid: &str,
    verb: &str,
    code: &str,
    body: &Value,
) -> AdminResult<Reply> {
    const KEYS: &[&str] = &["selectionPattern", "responseParameters", "responseTemplates", "contentHandling"];
    put_response(integration(state, id, rid, verb)?, "integrationResponses", code, body, KEYS)
}

fn integration_response<'a>(
    state: &'a mut State,
    id: &str,
    rid: &str,
    verb: &str,
    code: &str,
) -> AdminResult<&'a mut Obj> {
    response_in(integration(state, id, rid, verb)?, "integrationResponses", code)
}

pub fn get_integration_response(state: &mut State, id: &str, rid: &str, verb: &str, code: &str) -> AdminResult<Reply> {
    Ok(Reply::ok(Value::Object(integration_response(state, id, rid, verb, code)?.clone())))
}

pub fn update_integration_response(
    state: &mut State,
    id: &str,
    rid: &str,
    verb: &str,
    code: &str,
    body: &Value,
) -> AdminResult<Reply> {
    let response = integration_response(state, id, rid, verb, code)?;
    Ok(Reply::ok(patch::update(response, body, INTEGRATION_RESPONSE_FIELDS)?))
}

pub fn delete_integration_response(
    state: &mut State,
    id: &str,
    rid: &str,
    verb: &str,
    code: &str,
) -> AdminResult<Reply> {
    delete_response(integration(state, id, rid, verb)?, "integrationResponses", code)
}
