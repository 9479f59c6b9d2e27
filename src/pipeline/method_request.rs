//! Method request: the stage from the first path segment, the resource and method from the
//! routing table, then the method's own checks (`runtime.md` §2, §4).

use super::gateway_response::GatewayError;
use super::{Body, Invocation};
use crate::mapping::params::query_pairs;
use crate::plan::{MethodPlan, Plan, StagePlan};
use http::Request;

/// Finds the stage and method, and records in `inv` what routing learned (`$context`
/// resource fields, path parameters, the query string).
pub fn route<'p>(
    plan: &'p Plan,
    req: &Request<Body>,
    inv: &mut Invocation,
) -> Result<(&'p StagePlan, &'p MethodPlan), GatewayError> {
    let raw = req.uri().path();
    let (stage, rest) = if plan.serves_at_root() {
        (&plan.stages[0], raw)
    } else {
        // Leading duplicate slashes are collapsed before the stage is read.
        let trimmed = raw.trim_start_matches('/');
        let (name, rest) = match trimmed.find('/') {
            Some(i) => (&trimmed[..i], &trimmed[i..]),
            None => (trimmed, ""),
        };
        let stage = plan
            .stage(name)
            .ok_or(GatewayError::MissingAuthenticationToken)?;
        std::sync::Arc::make_mut(&mut inv.context).path = format!("/{name}{rest}");
        (stage, rest)
    };
    let context = std::sync::Arc::make_mut(&mut inv.context);
    context.stage = stage.name.clone();
    context.api_id = plan.api_id.clone();
    context.deployment_id = stage.deployment_id.clone();
    let found = plan
        .router
        .find(req.method().as_str(), rest)
        .ok_or(GatewayError::MissingAuthenticationToken)?;
    let method = &plan.methods[found.method as usize];
    let context = std::sync::Arc::make_mut(&mut inv.context);
    context.resource_id = method.resource_id.clone();
    context.resource_path = method.resource_path.clone();
    inv.path_params = found
        .params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    inv.resource_relative_path = rest.to_string();
    if let Some(q) = req.uri().query() {
        inv.query = query_pairs(q);
    }
    Ok((stage, method))
}
