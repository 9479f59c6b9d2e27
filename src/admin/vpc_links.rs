//! VpcLink operations. A link is PENDING when created and turns AVAILABLE once each target ARN
//! names a load balancer of the environment (`networkLoadBalancers`), FAILED otherwise; a link
//! that a deployed stage uses cannot be deleted.

use super::error::{bad_request, not_found, AdminResult};
use super::patch::{self, Field, Fields};
use super::state::{new_id, State};
use super::{page, string_field, Reply};
use http::StatusCode;
use serde_json::{json, Value};

fn link_not_found() -> super::error::AdminError {
    not_found("Invalid Vpc Link identifier specified")
}

pub fn create_vpc_link(state: &mut State, body: &Value) -> AdminResult<(Reply, String)> {
    let name = string_field(body, "name").ok_or_else(|| bad_request("Invalid VPC link name specified"))?;
    let targets: Vec<String> = body
        .get("targetArns")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if targets.is_empty() {
        return Err(bad_request("Invalid target ARNs specified: at least one network load balancer ARN is required"));
    }
    let id = new_id(6);
    let mut link = json!({
        "id": id,
        "name": name,
        "targetArns": targets,
        "status": "PENDING",
        "statusMessage": "VPC link is provisioning ENIs",
    });
    for key in ["description", "tags"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            link[key] = v.clone();
        }
    }
    state.vpc_links.insert(id.clone(), link.as_object().unwrap().clone());
    Ok((Reply::new(StatusCode::ACCEPTED, link), id))
}

/// Settles a PENDING link: AVAILABLE when every target is a known load balancer.
pub fn resolve(state: &mut State, id: &str) -> bool {
    let known = state.load_balancer_arns();
    let Some(link) = state.vpc_links.get_mut(id) else { return false };
    if link.get("status").and_then(Value::as_str) != Some("PENDING") {
        return false;
    }
    let missing: Vec<String> = link
        .get("targetArns")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|arn| !known.iter().any(|k| k == arn))
        .map(str::to_string)
        .collect();
    if missing.is_empty() {
        link.insert("status".into(), json!("AVAILABLE"));
        link.insert("statusMessage".into(), json!("Your vpc link is ready for use"));
    } else {
        link.insert("status".into(), json!("FAILED"));
        link.insert("statusMessage".into(), json!(format!("NLB ARN is not found: {}", missing.join(", "))));
    }
    true
}

pub fn get_vpc_link(state: &mut State, id: &str) -> AdminResult<Reply> {
    Ok(Reply::ok(Value::Object(state.vpc_links.get(id).ok_or_else(link_not_found)?.clone())))
}

pub fn get_vpc_links(state: &mut State, query: &[(String, String)]) -> AdminResult<Reply> {
    page(state.vpc_links.values().map(|l| Value::Object(l.clone())).collect(), query)
}

pub fn update_vpc_link(state: &mut State, id: &str, body: &Value) -> AdminResult<Reply> {
    const FIELDS: Fields = &[("name", Field::Str), ("description", Field::Str)];
    let link = state.vpc_links.get_mut(id).ok_or_else(link_not_found)?;
    Ok(Reply::ok(patch::update(link, body, FIELDS)?))
}

pub fn delete_vpc_link(state: &mut State, id: &str) -> AdminResult<Reply> {
    state.vpc_links.get(id).ok_or_else(link_not_found)?;
    let users = super::deployments::vpc_link_users(state, id);
    if !users.is_empty() {
        return Err(bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{}] in format of [Method:Resource:Stage].",
            users.join(", ")
        )));
    }
    state.vpc_links.shift_remove(id);
    Ok(Reply::empty(StatusCode::ACCEPTED))
}
