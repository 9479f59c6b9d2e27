//! Model, RequestValidator and GatewayResponse operations: the parts of an API that shape
//! method requests and error answers.

use super::error::{bad_request, conflict, not_found, AdminResult};
use super::patch::{self, Field, Fields};
use super::state::{new_id, Obj, State};
use super::{api, api_mut, page, string_field, Reply};
use crate::pipeline::gateway_response::ResponseType;
use http::StatusCode;
use serde_json::{json, Map, Value};

fn model_not_found(name: &str) -> super::error::AdminError {
    not_found(format!("Invalid model name specified: {name}"))
}

fn check_schema(model: &Obj) -> AdminResult<()> {
    if let Some(schema) = model.get("schema").and_then(Value::as_str) {
        if serde_json::from_str::<Value>(schema).is_err() {
            return Err(bad_request(
                "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
            ));
        }
    }
    Ok(())
}

pub fn create_model(state: &mut State, id: &str, body: &Value) -> AdminResult<Reply> {
    let api = api_mut(state, id)?;
    let name = string_field(body, "name").ok_or_else(|| bad_request("Model name must be non-empty"))?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad_request("Model name must be alphanumeric"));
    }
    let content_type =
        string_field(body, "contentType").ok_or_else(|| bad_request("Content type must be non-empty"))?;
    if api.models.contains_key(&name) {
        return Err(conflict("Model name already exists for this REST API"));
    }
    let mut model = json!({"id": new_id(6), "name": name, "contentType": content_type});
    for key in ["description", "schema"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            model[key] = v.clone();
        }
    }
    let model = model.as_object().unwrap().clone();
    check_schema(&model)?;
    api.models.insert(name, model.clone());
    Ok(Reply::new(StatusCode::CREATED, Value::Object(model)))
}

pub fn get_model(state: &mut State, id: &str, name: &str) -> AdminResult<Reply> {
    let model = api(state, id)?.models.get(name).ok_or_else(|| model_not_found(name))?;
    Ok(Reply::ok(Value::Object(model.clone())))
}

pub fn get_models(state: &mut State, id: &str, query: &[(String, String)]) -> AdminResult<Reply> {
    page(api(state, id)?.models.values().map(|m| Value::Object(m.clone())).collect(), query)
}

pub fn update_model(state: &mut State, id: &str, name: &str, body: &Value) -> AdminResult<Reply> {
    const FIELDS: Fields = &[("schema", Field::Str), ("description", Field::Str)];
    let model = api_mut(state, id)?.models.get_mut(name).ok_or_else(|| model_not_found(name))?;
    let updated = patch::update(model, body, FIELDS)?;
    check_schema(model)?;
    Ok(Reply::ok(updated))
}

pub fn delete_model(state: &mut State, id: &str, name: &str) -> AdminResult<Reply> {
    let api = api_mut(state, id)?;
    api.models.get(name).ok_or_else(|| model_not_found(name))?;
    let used = api.resources.values().any(|r| {
        r.get("resourceMethods").and_then(Value::as_object).into_iter().flat_map(|m| m.values()).any(|m| {
            m.get("requestModels").and_then(Value::as_object).is_some_and(|models| models.values().any(|v| v == name))
        })
    });
    if used {
        return Err(conflict(format!("Cannot delete model '{name}', is referenced in a method request")));
    }
    api.models.shift_remove(name);
    Ok(Reply::empty(StatusCode::ACCEPTED))
}

fn validator_not_found() -> super::error::AdminError {
    not_found("Invalid Request Validator identifier specified")
}

pub fn create_request_validator(state: &mut State, id: &str, body: &Value) -> AdminResult<Reply> {
    let api = api_mut(state, id)?;
    let vid = new_id(6);
    let validator = json!({
        "id": vid,
        "name": body.get("name").cloned().unwrap_or(Value::Null),
        "validateRequestBody": body.get("validateRequestBody").and_then(Value::as_bool).unwrap_or(false),
        "validateRequestParameters": body.get("validateRequestParameters").and_then(Value::as_bool).unwrap_or(false),
    });
    let mut validator = validator.as_object().unwrap().clone();
    if validator["name"].is_null() {
        validator.remove("name");
    }
    api.request_validators.insert(vid, validator.clone());
    Ok(Reply::new(StatusCode::CREATED, Value::Object(validator)))
}

pub fn get_request_validator(state: &mut State, id: &str, vid: &str) -> AdminResult<Reply> {
    let v = api(state, id)?.request_validators.get(vid).ok_or_else(validator_not_found)?;
    Ok(Reply::ok(Value::Object(v.clone())))
}

pub fn get_request_validators(state: &mut State, id: &str, query: &[(String, String)]) -> AdminResult<Reply> {
    page(api(state, id)?.request_validators.values().map(|v| Value::Object(v.clone())).collect(), query)
}

pub fn update_request_validator(state: &mut State, id: &str, vid: &str, body: &Value) -> AdminResult<Reply> {
    const FIELDS: Fields =
        &[("name", Field::Str), ("validateRequestBody", Field::Bool), ("validateRequestParameters", Field::Bool)];
    let v = api_mut(state, id)?.request_validators.get_mut(vid).ok_or_else(validator_not_found)?;
    Ok(Reply::ok(patch::update(v, body, FIELDS)?))
}

pub fn delete_request_validator(state: &mut State, id: &str, vid: &str) -> AdminResult<Reply> {
    api_mut(state, id)?.request_validators.shift_remove(vid).ok_or_else(validator_not_found)?;
    Ok(Reply::empty(StatusCode::ACCEPTED))
}

fn response_type(name: &str) -> AdminResult<ResponseType> {
    ResponseType::parse(name).ok_or_else(|| bad_request(format!("Invalid response type specified: {name}")))
}

/// A gateway response as AWS shows it: customised, or the default with `defaultResponse`.
fn gateway_response_view(state: &State, id: &str, kind: ResponseType) -> Value {
    match state.apis[id].gateway_responses.get(kind.name()) {
        Some(custom) => {
            let mut out = custom.clone();
            out.insert("defaultResponse".into(), json!(false));
            Value::Object(out)
        }
        None => {
            let mut out = json!({
                "responseType": kind.name(),
                "responseParameters": {},
                "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"},
                "defaultResponse": true,
            });
            if !matches!(kind.name(), "DEFAULT_4XX" | "DEFAULT_5XX") {
                out["statusCode"] = json!(kind.default_status().as_str());
            }
            out
        }
    }
}

pub fn put_gateway_response(state: &mut State, id: &str, kind: &str, body: &Value) -> AdminResult<Reply> {
    let kind = response_type(kind)?;
    let api = api_mut(state, id)?;
    let mut response = Map::new();
    response.insert("responseType".into(), json!(kind.name()));
    if let Some(code) = string_field(body, "statusCode") {
        response.insert("statusCode".into(), json!(code));
    }
    for key in ["responseParameters", "responseTemplates"] {
        response.insert(key.into(), body.get(key).filter(|v| !v.is_null()).cloned().unwrap_or(json!({})));
    }
    api.gateway_responses.insert(kind.name().to_string(), response);
    Ok(Reply::new(StatusCode::CREATED, gateway_response_view(state, id, kind)))
}

pub fn get_gateway_response(state: &mut State, id: &str, kind: &str) -> AdminResult<Reply> {
    let kind = response_type(kind)?;
    api(state, id)?;
    Ok(Reply::ok(gateway_response_view(state, id, kind)))
}

pub fn get_gateway_responses(state: &mut State, id: &str, query: &[(String, String)]) -> AdminResult<Reply> {
    api(state, id)?;
    let items = ResponseType::ALL.iter().map(|k| gateway_response_view(state, id, *k)).collect();
    page(items, query)
}

pub fn update_gateway_response(state: &mut State, id: &str, kind: &str, body: &Value) -> AdminResult<Reply> {
    const FIELDS: Fields =
        &[("statusCode", Field::Str), ("responseParameters", Field::StrMap), ("responseTemplates", Field::StrMap)];
    let kind = response_type(kind)?;
    let ops = patch::operations(body)?;
    let current = gateway_response_view(state, id, kind);
    let mut updated = current.as_object().cloned().unwrap_or_default();
    updated.remove("defaultResponse");
    patch::apply(&mut updated, &ops, FIELDS)?;
    api_mut(state, id)?.gateway_responses.insert(kind.name().to_string(), updated);
    Ok(Reply::ok(gateway_response_view(state, id, kind)))
}

pub fn delete_gateway_response(state: &mut State, id: &str, kind: &str) -> AdminResult<Reply> {
    let kind = response_type(kind)?;
    api_mut(state, id)?.gateway_responses.shift_remove(kind.name());
    Ok(Reply::empty(StatusCode::ACCEPTED))
}
