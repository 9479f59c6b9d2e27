//! Method request: the stage from the first path segment, the resource and method from the
//! routing table, then the method's own checks (`runtime.md` §2, §4).

use super::gateway_response::GatewayError;
use super::Invocation;
use crate::mapping::expression::RequestLocation;
use crate::mapping::params::query_pairs;
use crate::plan::Validation;
use crate::plan::{MethodPlan, Plan, StagePlan};
use http::HeaderMap;

/// Finds the stage and method, and records in `inv` what routing learned (`$context`
/// resource fields, path parameters, the query string).
pub fn route<'p>(
    plan: &'p Plan,
    req: &http::request::Parts,
    inv: &mut Invocation,
) -> Result<(&'p StagePlan, &'p MethodPlan), GatewayError> {
    let raw = req.uri.path();
    let (stage, rest) = if plan.serves_at_root() {
        inv.stage = Some(0);
        (&plan.stages[0], raw)
    } else {
        // Leading duplicate slashes are collapsed before the stage is read.
        let trimmed = raw.trim_start_matches('/');
        let (name, rest) = match memchr::memchr(b'/', trimmed.as_bytes()) {
            Some(i) => (&trimmed[..i], &trimmed[i..]),
            None => (trimmed, ""),
        };
        let index =
            plan.stages.iter().position(|s| &*s.name == name).ok_or(GatewayError::MissingAuthenticationToken)?;
        inv.stage = Some(index);
        let stage = &plan.stages[index];
        if raw.starts_with("//") {
            std::sync::Arc::make_mut(&mut inv.context).path = format!("/{name}{rest}");
        }
        (stage, rest)
    };
    let context = std::sync::Arc::make_mut(&mut inv.context);
    context.stage = stage.name.clone();
    context.api_id = plan.api_id.clone();
    context.deployment_id = stage.deployment_id.clone();
    let found = plan.router.find(req.method.as_str(), rest).ok_or(GatewayError::MissingAuthenticationToken)?;
    let method = &plan.methods[found.method as usize];
    inv.method = Some(found.method as usize);
    let context = std::sync::Arc::make_mut(&mut inv.context);
    context.resource_id = method.resource_id.clone();
    context.resource_path = method.resource_path.clone();
    inv.path_params = found.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    inv.resource_relative_path = rest.to_string();
    if let Some(q) = req.uri.query() {
        inv.query = query_pairs(q);
    }
    Ok((stage, method))
}

/// `validateRequestParameters`: every required parameter present and not blank; the missing
/// ones are listed sorted by their full key (headers, then path, then query string), as AWS
/// lists them (`runtime.md` §4.2).
pub fn validate_parameters(method: &MethodPlan, headers: &HeaderMap, inv: &Invocation) -> Result<(), GatewayError> {
    let mut missing: Vec<(String, &str)> = Vec::new();
    for (loc, name, required) in &method.request_parameters {
        if !required {
            continue;
        }
        let present = match loc {
            RequestLocation::Path => inv.path_params.iter().any(|(k, v)| k == name && !v.trim().is_empty()),
            RequestLocation::QueryString | RequestLocation::MultiValueQueryString => {
                inv.query.iter().any(|(k, v)| k == name && !v.trim().is_empty())
            }
            RequestLocation::Header | RequestLocation::MultiValueHeader => {
                headers.get_all(name.as_str()).iter().any(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
            }
        };
        if !present {
            missing.push((format!("method.request.{}.{name}", loc.word()), name));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    Err(GatewayError::BadRequestParameters(missing.into_iter().map(|(_, n)| n.to_string()).collect()))
}

/// `validateRequestBody`: the body (`{}` when empty) against the model for the request's
/// content type (`application/json` when none is sent; `$default` when no model matches).
pub fn validate_body(
    validation: &Validation,
    headers: &HeaderMap,
    body: &[u8],
    inv: &mut Invocation,
) -> Result<(), GatewayError> {
    if validation.body_models.is_empty() {
        return Ok(());
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(super::integration_request::mime)
        .filter(|m| !m.is_empty())
        .unwrap_or("application/json");
    let model = validation
        .body_models
        .iter()
        .find(|(ct, _)| ct.eq_ignore_ascii_case(content_type))
        .or_else(|| validation.body_models.iter().find(|(ct, _)| ct == "$default"));
    let Some((_, model)) = model else { return Ok(()) };
    let instance: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return Err(body_error(inv, vec![format!("Invalid JSON: {e}")])),
        }
    };
    let errors = super::schema_messages::messages(model.iter_errors(&instance));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(body_error(inv, errors))
    }
}

fn body_error(inv: &mut Invocation, errors: Vec<String>) -> GatewayError {
    let detail = format!("[{}]", errors.join(", "));
    std::sync::Arc::make_mut(&mut inv.context).error.validation_error_string = detail.clone();
    GatewayError::BadRequestBody(detail)
}

/// The process-wide limit first, then the method's own on this stage: API Gateway's 429.
pub fn throttle(plan: &Plan, stage: &StagePlan, index: usize) -> Result<(), GatewayError> {
    if plan.account_throttle.as_ref().is_some_and(|b| !b.try_acquire()) {
        return Err(GatewayError::Throttled);
    }
    match stage.throttles.get(index) {
        Some(Some(bucket)) if !bucket.try_acquire() => Err(GatewayError::Throttled),
        _ => Ok(()),
    }
}
