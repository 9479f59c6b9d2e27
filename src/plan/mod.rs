//! The compiled, immutable API: the document checked and turned into what the request path
//! needs (routing table, parsed mapping expressions and URIs, compiled patterns), so that no
//! request parses or compiles anything. A reload builds a new `Plan` and swaps it whole.

mod compile;
pub mod gateway;
mod models;
pub mod throttle;
pub mod uri;

pub use compile::compile;

use crate::config::model::{ConnectionType, ContentHandling, IntegrationType, PassthroughBehavior};
use crate::mapping::expression::{RequestLocation, RequestTarget, Source};
use crate::routing::Router;
use http::{HeaderName, Method, StatusCode};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use uri::UriTemplate;

#[derive(Debug)]
pub struct Plan {
    /// Shared with every request's `$context` (a reference count, not a copy).
    pub api_id: Arc<str>,
    /// The API id and `AmazonAPIGateway_<id>` as the header values sent to every integration,
    /// made once here instead of on each request.
    pub api_id_header: Option<http::HeaderValue>,
    pub user_agent_header: Option<http::HeaderValue>,
    pub api_name: String,
    pub binary_media_types: Vec<String>,
    /// The stages served; a document without stages is served as one unnamed stage at the root.
    pub stages: Vec<StagePlan>,
    pub router: Router,
    pub methods: Vec<MethodPlan>,
    pub resource_count: usize,
    /// Where Lambda integrations are invoked (the Lambda Invoke API).
    pub lambda_endpoint: Option<String>,
    /// VPC links by id, with the load balancer listeners behind them.
    pub vpc_links: std::collections::HashMap<String, crate::integration::vpc_link::VpcLinkPlan>,
    /// Per (stage, method) state that observers (metrics) attach once and then reach without a
    /// lock; see [`Plan::observer_slot`].
    pub observer_slots: Vec<std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>>,
    /// What the document has that Portico ignores, for `check` to report.
    pub warnings: Vec<crate::config::problem::Problem>,
    /// The largest request body (API Gateway's 10 MB unless set otherwise).
    pub max_payload_bytes: usize,
    /// The longest request URL (API Gateway's 10,240 characters unless set otherwise).
    pub max_url_length: usize,
    /// A process-wide throttle over every request (`--throttle-rate`/`--throttle-burst`).
    pub account_throttle: Option<Arc<throttle::TokenBucket>>,
    /// Extra CA certificates trusted for HTTPS backends (`backendTls.caFile`).
    pub backend_ca: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Customised gateway responses by response type.
    pub gateway_responses:
        std::collections::HashMap<crate::pipeline::gateway_response::ResponseType, gateway::GatewayResponsePlan>,
}

impl Plan {
    pub fn stage(&self, name: &str) -> Option<&StagePlan> {
        self.stages.iter().find(|s| &*s.name == name)
    }

    /// The slot for a request's stage and method (either unknown when routing failed).
    pub fn observer_slot(
        &self,
        stage: Option<usize>,
        method: Option<usize>,
    ) -> Option<&std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>> {
        let (stages, methods) = (self.stages.len() + 1, self.methods.len() + 1);
        let s = stage.filter(|s| *s < stages - 1).unwrap_or(stages - 1);
        let m = method.filter(|m| *m < methods - 1).unwrap_or(methods - 1);
        self.observer_slots.get(s * methods + m)
    }

    /// True when the document has no stages and everything is served from `/`.
    pub fn serves_at_root(&self) -> bool {
        self.stages.len() == 1 && self.stages[0].name.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct StagePlan {
    pub name: Arc<str>,
    /// `accessLogSettings.format`, split into text and `$context` variables.
    pub access_log_format: Option<Vec<gateway::Piece>>,
    /// Each method's throttle on this stage (by method index), from `methodSettings`.
    pub throttles: Vec<Option<Arc<throttle::TokenBucket>>>,
    pub variables: Arc<BTreeMap<String, String>>,
    pub deployment_id: Arc<str>,
}

#[derive(Debug)]
pub struct MethodPlan {
    pub resource_id: Arc<str>,
    pub resource_path: Arc<str>,
    pub http_method: String,
    /// Declared method request parameters and whether each is required.
    pub request_parameters: Vec<(RequestLocation, String, bool)>,
    /// What the method's request validator checks, if it has one.
    pub validation: Option<Validation>,
    pub integration: IntegrationPlan,
    pub method_responses: Vec<MethodResponsePlan>,
}

impl MethodPlan {
    pub fn method_response(&self, status: StatusCode) -> Option<&MethodResponsePlan> {
        self.method_responses.iter().find(|m| m.status == status)
    }
}

/// A request validator applied to one method.
pub struct Validation {
    pub parameters: bool,
    /// Body models by content type (only when the validator checks bodies).
    pub body_models: Vec<(String, Arc<jsonschema::Validator>)>,
}

impl std::fmt::Debug for Validation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let models: Vec<&str> = self.body_models.iter().map(|(ct, _)| ct.as_str()).collect();
        f.debug_struct("Validation").field("parameters", &self.parameters).field("body_models", &models).finish()
    }
}

#[derive(Debug)]
pub struct MethodResponsePlan {
    pub status: StatusCode,
    /// Header names declared as `method.response.header.NAME`: only these may be mapped.
    pub headers: Vec<String>,
}

#[derive(Debug)]
pub struct IntegrationPlan {
    pub kind: IntegrationType,
    /// `None` for MOCK; the client's method is used when the integration says `ANY`.
    pub http_method: Option<Method>,
    pub uri: Option<UriTemplate>,
    /// An HTTP_PROXY integration's URI when it names a plain-HTTP backend outright over the
    /// internet: its requests' heads are written straight from the client's.
    pub plain_http: Option<uri::PlainHttpTarget>,
    pub connection_type: ConnectionType,
    /// The VPC link (a literal id, or `${stageVariables.NAME}`), for VPC_LINK integrations.
    pub connection_id: Option<UriTemplate>,
    pub timeout: Duration,
    pub request_parameters: Vec<(RequestTarget, Source)>,
    pub request_templates: Templates,
    pub passthrough_behavior: PassthroughBehavior,
    pub content_handling: Option<ContentHandling>,
    pub responses: Vec<IntegrationResponsePlan>,
    /// AWS's `tlsConfig.insecureSkipVerification`.
    pub tls_insecure_skip_verification: bool,
    /// The Lambda function of an AWS or AWS_PROXY integration, when the ARN names it outright.
    pub lambda_function: Option<crate::integration::lambda::Function>,
}

#[derive(Debug)]
pub struct IntegrationResponsePlan {
    pub status: StatusCode,
    /// `selectionPattern` compiled to match the whole selection value; `None` for the default.
    pub pattern: Option<SelectionPattern>,
    pub response_parameters: Vec<(HeaderName, Source)>,
    pub response_templates: Templates,
    pub content_handling: Option<ContentHandling>,
}

/// A Java regular expression matched against the whole selection value. Most compile to the
/// linear-time `regex` engine; look-around and back-references fall back to `fancy-regex`.
#[derive(Debug)]
pub enum SelectionPattern {
    Linear(Regex),
    Backtracking(fancy_regex::Regex),
}

impl SelectionPattern {
    /// The anchored expression.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Linear(r) => r.as_str(),
            Self::Backtracking(r) => r.as_str(),
        }
    }

    pub fn compile(java: &str) -> Result<Self, String> {
        let anchored = format!("^(?:{java})$");
        match Regex::new(&anchored) {
            Ok(re) => Ok(Self::Linear(re)),
            Err(linear) => {
                let message = linear.to_string();
                let last = message.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").trim();
                let last = last.trim_start_matches("error: ").to_string();
                if !(last.contains("look-around") || last.contains("backreferences")) {
                    return Err(last);
                }
                fancy_regex::Regex::new(&anchored).map(Self::Backtracking).map_err(|e| e.to_string())
            }
        }
    }

    pub fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Linear(re) => re.is_match(value),
            // A pattern that runs away (catastrophic backtracking) matches nothing.
            Self::Backtracking(re) => re.is_match(value).unwrap_or(false),
        }
    }
}

/// Mapping templates keyed by content type, in document order.
#[derive(Debug, Default)]
pub struct Templates(pub Vec<(String, Template)>);

impl Templates {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, content_type: &str) -> Option<&Template> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(content_type)).map(|(_, t)| t)
    }

    pub fn first(&self) -> Option<&Template> {
        self.0.first().map(|(_, t)| t)
    }
}

/// A compiled mapping template.
pub type Template = crate::mapping::template::MappingTemplate;
