//! Integrations: where a method sends its request (MOCK, HTTP and HTTP_PROXY over the
//! internet), and what comes back as the endpoint response.

pub mod client;
mod deadline;
pub mod http;
pub(crate) mod http1;
pub mod lambda;
pub mod mock;
pub mod pool;
pub mod vpc_link;

use crate::config::model::IntegrationType;
use crate::pipeline::gateway_response::GatewayError;
use crate::pipeline::integration_request::IntegrationRequest;
use crate::pipeline::Invocation;
use crate::plan::{MethodPlan, Plan, StagePlan};
use ::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use client::HttpClient;

/// What a non-proxy integration answered, before the integration response maps it.
pub struct EndpointResponse {
    /// `None` when a MOCK template gave no status code: the default response is then chosen.
    pub status: Option<StatusCode>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// What `selectionPattern` is matched against when it is not the status code: a Lambda
    /// function's `errorMessage`, or `""` when the function succeeded.
    pub lambda_error: Option<String>,
}

impl EndpointResponse {
    /// The value `selectionPattern` is matched against: the status code for HTTP and MOCK,
    /// the error message for Lambda.
    pub fn selection_value(&self) -> Option<String> {
        match &self.lambda_error {
            Some(message) => Some(message.clone()),
            None => self.status.map(|s| s.as_u16().to_string()),
        }
    }
}

/// Calls a non-proxy backend (HTTP, AWS). MOCK has none: the pipeline answers it in place
/// with [`mock::invoke`], so that no future is made for it.
pub async fn call(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    client: &HttpClient,
    request: IntegrationRequest,
    inv: &Invocation,
) -> Result<EndpointResponse, GatewayError> {
    // The pipeline boxes this future (see `pipeline::run`).
    match method.integration.kind {
        IntegrationType::Http => http::invoke(plan, stage, method, client, request, inv).await,
        IntegrationType::Aws => lambda::invoke_custom(plan, stage, method, client, request.body, inv.trace_id()).await,
        IntegrationType::Mock | IntegrationType::HttpProxy | IntegrationType::AwsProxy => {
            Err(GatewayError::ApiConfiguration(format!(
                "{:?} integrations are not run by this path",
                method.integration.kind
            )))
        }
    }
}
