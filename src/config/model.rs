//! The API definition document in Amazon API Gateway's own resource shapes (RestApi,
//! Resource, Method, Integration, Stage, ...), with the field names, enums and defaults AWS uses.

use super::source::Pos;
use std::collections::BTreeMap;

/// A value together with where the document wrote it, for values that are compiled later
/// (templates, mapping expressions, patterns) and whose problems must point back at the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

/// An ordered map as the document wrote it; order matters where AWS takes "the first".
pub type Ordered<T> = Vec<(String, T)>;

#[derive(Debug, Clone, Default)]
pub struct Document {
    pub rest_api: RestApi,
    pub resources: Vec<Resource>,
    pub stages: Vec<Stage>,
    pub vpc_links: Vec<VpcLink>,
    pub gateway_responses: Vec<GatewayResponse>,
    pub models: Vec<Model>,
    pub request_validators: Vec<RequestValidator>,
    pub authorizers: Vec<Authorizer>,
    pub network_load_balancers: Vec<NetworkLoadBalancer>,
    pub lambda: Option<LambdaSettings>,
    pub backend_tls: Option<BackendTls>,
    /// The directory of the document's file, against which relative paths resolve.
    pub base_dir: Option<std::path::PathBuf>,
    /// What the document has that Portico ignores (OpenAPI constructs it does not serve).
    pub warnings: Vec<super::problem::Problem>,
}

/// How Portico trusts HTTPS backends beyond the system's roots (Portico's own key).
#[derive(Debug, Clone)]
pub struct BackendTls {
    /// A PEM file of extra CA certificates, for self-signed local backends.
    pub ca_file: Located<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RestApi {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub binary_media_types: Vec<String>,
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: ApiKeySource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKeySource {
    #[default]
    Header,
    Authorizer,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub path: String,
    pub resource_methods: Vec<Method>,
    /// Where the resource is written, and its index in `resources` (for problem locations).
    pub pos: Pos,
    pub index: usize,
}

#[derive(Debug, Clone)]
pub struct Method {
    pub http_method: String,
    pub authorization_type: AuthorizationType,
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    pub request_validator_id: Option<Located<String>>,
    pub operation_name: Option<String>,
    pub request_parameters: Ordered<Located<bool>>,
    pub request_models: Ordered<Located<String>>,
    pub method_responses: Ordered<MethodResponse>,
    pub method_integration: Option<Integration>,
    /// Whether the document wrote a `methodIntegration` at all (it may have been unreadable).
    pub integration_written: bool,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationType {
    None,
    AwsIam,
    Custom,
    CognitoUserPools,
}

#[derive(Debug, Clone)]
pub struct MethodResponse {
    pub status_code: String,
    pub response_parameters: Ordered<Located<bool>>,
    pub response_models: Ordered<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationType {
    Http,
    HttpProxy,
    Mock,
    Aws,
    AwsProxy,
}

impl IntegrationType {
    pub fn is_proxy(self) -> bool {
        matches!(self, Self::HttpProxy | Self::AwsProxy)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectionType {
    #[default]
    Internet,
    VpcLink,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PassthroughBehavior {
    #[default]
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentHandling {
    ConvertToText,
    ConvertToBinary,
}

/// The default (and AWS's maximum) integration timeout.
pub const DEFAULT_TIMEOUT_MILLIS: u32 = 29_000;
pub const MIN_TIMEOUT_MILLIS: u32 = 50;

#[derive(Debug, Clone)]
pub struct Integration {
    pub kind: IntegrationType,
    pub http_method: Option<String>,
    pub uri: Option<Located<String>>,
    pub connection_type: ConnectionType,
    pub connection_id: Option<Located<String>>,
    pub credentials: Option<String>,
    /// Target expression → source expression, in document order.
    pub request_parameters: Ordered<Located<String>>,
    pub request_templates: Ordered<Located<String>>,
    pub passthrough_behavior: PassthroughBehavior,
    pub content_handling: Option<ContentHandling>,
    pub timeout_in_millis: u32,
    pub cache_namespace: Option<String>,
    pub cache_key_parameters: Vec<String>,
    pub integration_responses: Vec<IntegrationResponse>,
    pub tls_insecure_skip_verification: bool,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct IntegrationResponse {
    /// The key under `integrationResponses` (equal to `status_code` when valid).
    pub key: String,
    pub status_code: String,
    pub selection_pattern: Option<Located<String>>,
    pub response_parameters: Ordered<Located<String>>,
    pub response_templates: Ordered<Located<String>>,
    pub content_handling: Option<ContentHandling>,
    pub pos: Pos,
}

#[derive(Debug, Clone, Default)]
pub struct Stage {
    pub stage_name: String,
    pub description: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub deployment_id: Option<String>,
    pub method_settings: Ordered<MethodSetting>,
    pub access_log_settings: Option<AccessLogSettings>,
    pub pos: Pos,
}

#[derive(Debug, Clone, Default)]
pub struct MethodSetting {
    pub throttling_rate_limit: Option<f64>,
    pub throttling_burst_limit: Option<i64>,
    pub logging_level: Option<String>,
    pub metrics_enabled: bool,
    pub data_trace_enabled: bool,
    pub caching_enabled: bool,
    pub cache_ttl_in_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct AccessLogSettings {
    pub format: Option<String>,
    pub destination_arn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VpcLinkStatus {
    #[default]
    Available,
    Pending,
    Deleting,
    Failed,
}

#[derive(Debug, Clone)]
pub struct VpcLink {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub target_arns: Vec<Located<String>>,
    pub status: VpcLinkStatus,
    pub status_message: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct GatewayResponse {
    pub response_type: String,
    pub status_code: Option<String>,
    pub response_parameters: Ordered<Located<String>>,
    pub response_templates: Ordered<Located<String>>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub content_type: String,
    pub schema: Option<Located<serde_json::Value>>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct RequestValidator {
    pub id: String,
    pub name: Option<String>,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

#[derive(Debug, Clone)]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub authorizer_uri: Option<String>,
    pub identity_source: Option<String>,
    pub identity_validation_expression: Option<String>,
    pub authorizer_result_ttl_in_seconds: Option<i64>,
    pub provider_arns: Vec<String>,
    pub authorizer_credentials: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct NetworkLoadBalancer {
    pub arn: String,
    pub listeners: Vec<Listener>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub port: u16,
    pub targets: Vec<String>,
    pub health_check: Option<HealthCheck>,
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub protocol: String,
    pub path: Option<String>,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
}

#[derive(Debug, Clone)]
pub struct LambdaSettings {
    pub endpoint: String,
}
