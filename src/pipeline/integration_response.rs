//! Integration response: which configured response answers the endpoint's result, by
//! `selectionPattern` matched against the whole selection value (`runtime.md` §7.1).

use super::gateway_response::GatewayError;
use crate::integration::EndpointResponse;
use crate::plan::{IntegrationResponsePlan, MethodPlan};

/// The first response whose pattern matches the whole value, else the default (the one
/// without a pattern). Nothing matching and no default is AWS's configuration error (500).
pub fn select<'p>(
    method: &'p MethodPlan,
    endpoint: &EndpointResponse,
) -> Result<&'p IntegrationResponsePlan, GatewayError> {
    let responses = &method.integration.responses;
    let value = endpoint.selection_value();
    if let Some(value) = &value {
        if let Some(r) = responses.iter().find(|r| r.pattern.as_ref().is_some_and(|p| p.is_match(value))) {
            return Ok(r);
        }
    }
    responses.iter().find(|r| r.pattern.is_none()).ok_or_else(|| {
        GatewayError::ApiConfiguration(format!(
            "No match for output mapping and no default output mapping configured. Endpoint Response Status Code: {}",
            value.unwrap_or_default()
        ))
    })
}
