//! Gateway responses: every way a request can fail before or around the integration, each
//! answered with API Gateway's status, body and `x-amzn-ErrorType` (`runtime.md` §10). This is
//! the only place that turns an error into HTTP.

use super::{full, Body, Invocation};
use crate::mapping::params::MethodRequestView;
use crate::plan::gateway::{GatewayResponsePlan, Piece};
use crate::plan::Plan;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;

/// API Gateway's gateway response types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    AccessDenied,
    ApiConfigurationError,
    AuthorizerConfigurationError,
    AuthorizerFailure,
    BadRequestBody,
    BadRequestParameters,
    Default4xx,
    Default5xx,
    ExpiredToken,
    IntegrationFailure,
    IntegrationTimeout,
    InvalidApiKey,
    InvalidSignature,
    MissingAuthenticationToken,
    QuotaExceeded,
    RequestTooLarge,
    ResourceNotFound,
    Throttled,
    Unauthorized,
    UnsupportedMediaType,
    WafFiltered,
}

impl ResponseType {
    pub const ALL: [ResponseType; 21] = [
        Self::AccessDenied,
        Self::ApiConfigurationError,
        Self::AuthorizerConfigurationError,
        Self::AuthorizerFailure,
        Self::BadRequestBody,
        Self::BadRequestParameters,
        Self::Default4xx,
        Self::Default5xx,
        Self::ExpiredToken,
        Self::IntegrationFailure,
        Self::IntegrationTimeout,
        Self::InvalidApiKey,
        Self::InvalidSignature,
        Self::MissingAuthenticationToken,
        Self::QuotaExceeded,
        Self::RequestTooLarge,
        Self::ResourceNotFound,
        Self::Throttled,
        Self::Unauthorized,
        Self::UnsupportedMediaType,
        Self::WafFiltered,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::AccessDenied => "ACCESS_DENIED",
            Self::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            Self::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            Self::AuthorizerFailure => "AUTHORIZER_FAILURE",
            Self::BadRequestBody => "BAD_REQUEST_BODY",
            Self::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            Self::Default4xx => "DEFAULT_4XX",
            Self::Default5xx => "DEFAULT_5XX",
            Self::ExpiredToken => "EXPIRED_TOKEN",
            Self::IntegrationFailure => "INTEGRATION_FAILURE",
            Self::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            Self::InvalidApiKey => "INVALID_API_KEY",
            Self::InvalidSignature => "INVALID_SIGNATURE",
            Self::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::RequestTooLarge => "REQUEST_TOO_LARGE",
            Self::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Self::Throttled => "THROTTLED",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::WafFiltered => "WAF_FILTERED",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The status AWS's `GetGatewayResponses` lists for the type.
    pub fn default_status(self) -> StatusCode {
        let code = match self {
            Self::AccessDenied | Self::ExpiredToken | Self::InvalidApiKey | Self::InvalidSignature => 403,
            Self::MissingAuthenticationToken | Self::WafFiltered => 403,
            Self::ApiConfigurationError | Self::AuthorizerConfigurationError | Self::AuthorizerFailure => 500,
            Self::BadRequestBody | Self::BadRequestParameters | Self::Default4xx => 400,
            Self::Default5xx => 500,
            Self::IntegrationFailure | Self::IntegrationTimeout => 504,
            Self::QuotaExceeded | Self::Throttled => 429,
            Self::RequestTooLarge => 413,
            Self::ResourceNotFound => 404,
            Self::Unauthorized => 401,
            Self::UnsupportedMediaType => 415,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The `x-amzn-ErrorType` header value.
    pub fn error_type(self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::BadRequestBody | Self::BadRequestParameters | Self::UnsupportedMediaType | Self::Default4xx => {
                "BadRequestException"
            }
            Self::InvalidApiKey | Self::WafFiltered => "ForbiddenException",
            Self::Throttled => "TooManyRequestsException",
            Self::QuotaExceeded => "LimitExceededException",
            Self::Unauthorized => "UnauthorizedException",
            Self::AccessDenied => "AccessDeniedException",
            Self::ExpiredToken => "ExpiredTokenException",
            Self::InvalidSignature => "InvalidSignatureException",
            Self::RequestTooLarge => "RequestTooLongException",
            Self::ResourceNotFound => "NotFoundException",
            Self::ApiConfigurationError
            | Self::AuthorizerConfigurationError
            | Self::AuthorizerFailure
            | Self::Default5xx
            | Self::IntegrationFailure
            | Self::IntegrationTimeout => "InternalServerErrorException",
        }
    }
}

/// Everything that can go wrong on the request path and that a client gets to see.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("no resource and method match the request")]
    MissingAuthenticationToken,
    #[error("no template matches the request content type and passthrough is not allowed")]
    UnsupportedMediaType,
    #[error("missing required request parameters: {0:?}")]
    BadRequestParameters(Vec<String>),
    #[error("request body does not match the model: {0}")]
    BadRequestBody(String),
    #[error("request body is not valid JSON")]
    InvalidJsonBody,
    #[error("configuration error: {0}")]
    ApiConfiguration(String),
    #[error("network error communicating with the endpoint: {0}")]
    IntegrationFailure(String),
    #[error("endpoint request timed out")]
    IntegrationTimeout,
    #[error("request body is larger than the limit")]
    RequestTooLarge,
    #[error("the request rate is over the throttling limit")]
    Throttled,
    #[error("the request URL is longer than the limit")]
    UriTooLong,
    /// A Lambda function or the Lambda service failed, or answered a proxy integration with
    /// something that is not a proxy response: API Gateway's 502.
    #[error("bad gateway: {0}")]
    BadGateway(String),
}

impl GatewayError {
    pub fn response_type(&self) -> ResponseType {
        match self {
            Self::MissingAuthenticationToken => ResponseType::MissingAuthenticationToken,
            Self::UnsupportedMediaType => ResponseType::UnsupportedMediaType,
            Self::BadRequestParameters(_) => ResponseType::BadRequestParameters,
            Self::BadRequestBody(_) => ResponseType::BadRequestBody,
            Self::InvalidJsonBody => ResponseType::Default4xx,
            Self::ApiConfiguration(_) => ResponseType::ApiConfigurationError,
            Self::IntegrationFailure(_) => ResponseType::IntegrationFailure,
            Self::IntegrationTimeout => ResponseType::IntegrationTimeout,
            Self::RequestTooLarge => ResponseType::RequestTooLarge,
            Self::BadGateway(_) => ResponseType::Default5xx,
            Self::Throttled => ResponseType::Throttled,
            Self::UriTooLong => ResponseType::Default4xx,
        }
    }

    /// The message the client sees (`$context.error.message`).
    pub fn message(&self) -> String {
        match self {
            Self::MissingAuthenticationToken => "Missing Authentication Token".into(),
            Self::UnsupportedMediaType => "Unsupported Media Type".into(),
            Self::BadRequestParameters(missing) => {
                format!("Missing required request parameters: [{}]", missing.join(", "))
            }
            Self::BadRequestBody(_) => "Invalid request body".into(),
            Self::InvalidJsonBody => "Invalid JSON in request body".into(),
            Self::ApiConfiguration(_) => "Internal server error".into(),
            Self::IntegrationFailure(_) => "Network error communicating with endpoint".into(),
            Self::IntegrationTimeout => "Endpoint request timed out".into(),
            Self::RequestTooLarge => "Request Too Long".into(),
            Self::BadGateway(_) => "Internal server error".into(),
            Self::Throttled => "Too Many Requests".into(),
            Self::UriTooLong => "Request-URI Too Long".into(),
        }
    }

    /// The status, before any customisation of the response type.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidJsonBody => StatusCode::BAD_REQUEST,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            other => other.response_type().default_status(),
        }
    }
}

/// The body of an uncustomised gateway response. Recorded AWS bodies differ in spacing by
/// type: the authorization-family 4xx come from the default template
/// `{"message":$context.error.messageString}`, the validation and integration errors carry a
/// space after the colon (`runtime.md` §10.1).
fn default_body(kind: ResponseType, message: &str) -> String {
    let quoted = serde_json::Value::String(message.to_string()).to_string();
    match kind {
        ResponseType::MissingAuthenticationToken
        | ResponseType::AccessDenied
        | ResponseType::InvalidApiKey
        | ResponseType::ExpiredToken
        | ResponseType::InvalidSignature
        | ResponseType::Unauthorized
        | ResponseType::Throttled
        | ResponseType::QuotaExceeded
        | ResponseType::WafFiltered => format!("{{\"message\":{quoted}}}"),
        _ => format!("{{\"message\": {quoted}}}"),
    }
}

/// Answers an error as API Gateway would: the type's customised response, else the
/// customised DEFAULT_4XX / DEFAULT_5XX for its status class, else the built-in default
/// (`runtime.md` §10.2).
pub fn respond(plan: &Plan, request_headers: &HeaderMap, inv: &mut Invocation, error: &GatewayError) -> Response<Body> {
    let kind = error.response_type();
    let message = error.message();
    if error.status().is_server_error() {
        tracing::warn!(request_id = %inv.context.request_id, response_type = kind.name(), %error, "gateway response");
    } else {
        tracing::debug!(request_id = %inv.context.request_id, response_type = kind.name(), %error, "gateway response");
    }
    {
        let context = Arc::make_mut(&mut inv.context);
        context.error.message = message.clone();
        context.error.response_type = kind.name();
    }
    let default_status = error.status();
    let fallback = if default_status.is_client_error() { ResponseType::Default4xx } else { ResponseType::Default5xx };
    let custom = plan.gateway_responses.get(&kind).or_else(|| plan.gateway_responses.get(&fallback));
    let mut response = match custom {
        None => {
            let mut r = Response::new(full(default_body(kind, &message)));
            *r.status_mut() = default_status;
            r
        }
        Some(custom) => customised(plan, custom, default_status, request_headers, inv),
    };
    let headers = response.headers_mut();
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    headers.insert(&super::header_names::X_AMZN_ERROR_TYPE, HeaderValue::from_static(kind.error_type()));
    inv.add_request_headers(headers);
    response
}

fn customised(
    plan: &Plan,
    custom: &GatewayResponsePlan,
    default_status: StatusCode,
    request_headers: &HeaderMap,
    inv: &Invocation,
) -> Response<Body> {
    let stage = inv.stage.and_then(|i| plan.stages.get(i));
    let no_variables = BTreeMap::new();
    let stage_variables = stage.map_or(&no_variables, |s| &*s.variables);
    let path_params: Vec<(&str, &str)> = inv.path_params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let view = MethodRequestView {
        path_params: &path_params,
        query: &inv.query,
        headers: request_headers,
        body: &[],
        stage_variables,
        context: &inv.context,
    };
    // Without templates of its own, a customised response uses the default template.
    let default_template =
        [Piece::Text("{\"message\":".into()), Piece::Context("error.messageString".into()), Piece::Text("}".into())];
    let template = custom
        .templates
        .iter()
        .find(|(ct, _)| ct.eq_ignore_ascii_case("application/json"))
        .or_else(|| custom.templates.first())
        .map_or(&default_template[..], |(_, t)| &t[..]);
    let mut body = String::new();
    for piece in template {
        match piece {
            Piece::Text(t) => body.push_str(t),
            Piece::Context(name) => body.push_str(&inv.context.get(name).unwrap_or_default()),
            Piece::StageVariable(name) => body.push_str(stage_variables.get(name).map_or("", String::as_str)),
            Piece::MethodRequest(source) => body.push_str(&view.eval(source).map(|m| m.joined()).unwrap_or_default()),
        }
    }
    let mut response = Response::new(full(body));
    *response.status_mut() = custom.status.unwrap_or(default_status);
    for (name, source) in &custom.parameters {
        if let Some(value) = view.eval(source) {
            if let Ok(v) = HeaderValue::from_str(&value.joined()) {
                response.headers_mut().insert(name.clone(), v);
            }
        }
    }
    response
}
