//! Integration request: parameter mapping, template selection with passthrough rules (415),
//! the rendered template as the integration body, and `$context.requestOverride`
//! (`runtime.md` §5).

use super::gateway_response::GatewayError;
use super::{payload, Invocation};
use crate::config::model::{IntegrationType, PassthroughBehavior};
use crate::mapping::expression::RequestTarget;
use crate::mapping::params::{Mapped, MethodRequestView};
use crate::mapping::template::TemplateInput;
use crate::plan::{IntegrationPlan, MethodPlan, Plan, StagePlan, Template};
use crate::vtl::Limits;
use bytes::Bytes;
use http::request::Parts;
use http::HeaderMap;

/// What the integration is asked to do, after mapping.
pub struct IntegrationRequest {
    /// Values for the URI's `{name}` placeholders.
    pub path: Vec<(String, String)>,
    /// Query parameters added by mappings, in mapping order (multi-value sources repeat).
    pub query: Vec<(String, String)>,
    /// Headers set by mappings.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The client's Content-Type, which HTTP integrations pass on for methods with a body.
    pub client_content_type: Option<http::HeaderValue>,
}

/// Header targets a mapping may not write (the request fails with 500, as on AWS).
const FORBIDDEN_ALL: &[&str] = &["content-length", "transfer-encoding", "x-amzn-trace-id", "x-amzn-apigateway-api-id"];
const FORBIDDEN_AWS: &[&str] = &["authorization", "connection", "expect", "proxy-authenticate", "te"];

fn check_header_target(kind: IntegrationType, name: &str) -> Result<(), GatewayError> {
    let lower = name.to_ascii_lowercase();
    let aws = matches!(kind, IntegrationType::Aws | IntegrationType::AwsProxy);
    if FORBIDDEN_ALL.contains(&lower.as_str()) || (aws && FORBIDDEN_AWS.contains(&lower.as_str())) {
        return Err(GatewayError::ApiConfiguration(format!("mapping to the header {name} is not allowed")));
    }
    Ok(())
}

/// The §5.1 check that runs even where mappings are ignored (AWS_PROXY).
pub fn check_forbidden_mappings(integration: &IntegrationPlan) -> Result<(), GatewayError> {
    for (target, _) in &integration.request_parameters {
        if let RequestTarget::Header(name) = target {
            check_header_target(integration.kind, name)?;
        }
    }
    Ok(())
}

/// Mapped path, query and header values.
pub type Mappings = (Vec<(String, String)>, Vec<(String, String)>, Vec<(String, String)>);

/// Applies `requestParameters` for any integration type. For HTTP_PROXY the body is not
/// read, so body sources see an empty body.
pub fn map_parameters(integration: &IntegrationPlan, view: &MethodRequestView) -> Result<Mappings, GatewayError> {
    let (mut path, mut query, mut headers) = (Vec::new(), Vec::new(), Vec::new());
    for (target, source) in &integration.request_parameters {
        if let RequestTarget::Header(name) = target {
            check_header_target(integration.kind, name)?;
        }
        let Some(value) = view.eval(source) else {
            continue;
        };
        match target {
            RequestTarget::Path(name) => path.push((name.clone(), value.joined())),
            RequestTarget::QueryString(name) => match value {
                Mapped::One(v) => query.push((name.clone(), v)),
                Mapped::Many(vs) => query.extend(vs.into_iter().map(|v| (name.clone(), v))),
            },
            RequestTarget::Header(name) => headers.push((name.clone(), value.joined())),
        }
    }
    Ok((path, query, headers))
}

/// Which body the integration gets: a template's output or the client's body unchanged.
pub enum BodyChoice<'p> {
    Template(&'p Template),
    Passthrough,
}

/// The MIME type of a Content-Type or Accept value (`application/json; charset=UTF-8` →
/// `application/json`).
pub fn mime(value: &str) -> &str {
    value.split([';', ',']).next().unwrap_or("").trim()
}

/// Template selection and passthrough (`runtime.md` §5.4): the key is the request's MIME type,
/// `application/json` when the client sends none.
pub fn choose_body<'p>(integration: &'p IntegrationPlan, headers: &HeaderMap) -> Result<BodyChoice<'p>, GatewayError> {
    choose_body_for(integration, headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()))
}

/// [`choose_body`] for the client's Content-Type, read beforehand.
fn choose_body_for<'p>(
    integration: &'p IntegrationPlan,
    content_type: Option<&str>,
) -> Result<BodyChoice<'p>, GatewayError> {
    let content_type = content_type.map(mime).filter(|m| !m.is_empty()).unwrap_or("application/json");
    let templates = &integration.request_templates;
    if let Some(t) = templates.get(content_type) {
        return Ok(BodyChoice::Template(t));
    }
    match (integration.passthrough_behavior, templates.is_empty()) {
        (PassthroughBehavior::WhenNoMatch, _) | (PassthroughBehavior::WhenNoTemplates, true) => {
            Ok(BodyChoice::Passthrough)
        }
        _ => Err(GatewayError::UnsupportedMediaType),
    }
}

/// Replaces or adds `name` in a list of mapped values (an override wins over a mapping).
fn set_value(list: &mut Vec<(String, String)>, name: String, value: String, case_insensitive: bool) {
    list.retain(|(k, _)| if case_insensitive { !k.eq_ignore_ascii_case(&name) } else { *k != name });
    list.push((name, value));
}

/// Renders a template; a failed render is API Gateway's 500.
pub fn render(
    template: &Template,
    body: &Bytes,
    stage: &StagePlan,
    headers: &HeaderMap,
    inv: &mut Invocation,
) -> Result<String, GatewayError> {
    let params = inv.template_params(headers);
    let input = TemplateInput {
        body,
        params: &params,
        stage_variables: &stage.variables,
        context: &inv.context,
        overrides: &inv.overrides,
    };
    let rendered = template
        .render(&input, Limits::default())
        .map_err(|e| GatewayError::ApiConfiguration(format!("Unable to transform request: {e}")))?;
    inv.overrides = rendered.overrides;
    Ok(rendered.body)
}

/// Prepares a non-proxy integration request (MOCK, HTTP, AWS).
pub fn prepare(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    parts: &Parts,
    body: &Bytes,
    inv: &mut Invocation,
) -> Result<IntegrationRequest, GatewayError> {
    let integration = &method.integration;
    let path_params: Vec<(&str, &str)> = inv.path_params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let view = MethodRequestView {
        path_params: &path_params,
        query: &inv.query,
        headers: &parts.headers,
        body,
        stage_variables: &stage.variables,
        context: &inv.context,
    };
    let (mut path, mut query, mut headers) = map_parameters(integration, &view)?;
    // Read once: the template choice, the binary check and the HTTP integration all want it.
    let client_content_type = parts.headers.get(http::header::CONTENT_TYPE);
    let content_type = client_content_type.and_then(|v| v.to_str().ok());
    let choice = choose_body_for(integration, content_type)?;
    let binary = payload::is_binary(&plan.binary_media_types, content_type);
    let converted = payload::convert_request(body.clone(), binary, integration.content_handling)?;
    let body = match choice {
        BodyChoice::Template(t) => {
            if std::str::from_utf8(&converted).is_err() {
                return Err(GatewayError::ApiConfiguration("a binary body cannot be rendered by a template".into()));
            }
            Bytes::from(render(t, &converted, stage, &parts.headers, inv)?)
        }
        BodyChoice::Passthrough => converted,
    };
    for (name, value) in inv.overrides.request_headers() {
        check_header_target(integration.kind, &name)?;
        set_value(&mut headers, name, value, true);
    }
    for (name, value) in inv.overrides.request_querystring() {
        set_value(&mut query, name, value, false);
    }
    for (name, value) in inv.overrides.request_path() {
        set_value(&mut path, name, value, false);
    }
    Ok(IntegrationRequest { path, query, headers, body, client_content_type: client_content_type.cloned() })
}
