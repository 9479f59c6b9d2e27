//! Method response: the selected integration response's status, its mapped headers (only
//! those the method response declares), its template or the endpoint body, and the header
//! rules API Gateway applies on the way out (`runtime.md` §7.2–§8).

use super::gateway_response::GatewayError;
use super::header_names;
use super::integration_request::mime;
use super::integration_request::render;
use super::payload;
use super::{full, Body, Invocation};
use crate::config::model::IntegrationType;
use crate::integration::EndpointResponse;
use crate::mapping::expression::Source;
use crate::mapping::jsonpath::body_value;
use crate::plan::{IntegrationResponsePlan, MethodPlan, Plan, StagePlan, Template, Templates};
use http::header::{HeaderName, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Response};

/// Mapped headers that HTTP and AWS integrations rename to `x-amzn-Remapped-*`.
const REMAPPED_NON_PROXY: &[&str] = &[
    "authorization",
    "connection",
    "content-length",
    "content-md5",
    "date",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "trailer",
    "upgrade",
    "user-agent",
    "www-authenticate",
];

fn remapped_name(name: &str) -> Option<HeaderName> {
    HeaderName::from_bytes(format!("x-amzn-Remapped-{name}").as_bytes()).ok()
}

/// Moves every value of each header to its new name.
fn rename(headers: &mut HeaderMap, renames: &[(HeaderName, HeaderName)]) {
    let found = header_names::present(headers, renames, |(name, _)| name);
    for (i, (name, renamed)) in renames.iter().enumerate() {
        if found & 1 << i == 0 {
            continue;
        }
        let http::header::Entry::Occupied(entry) = headers.entry(name) else { continue };
        let mut values = entry.remove_entry_mult().1;
        // One value is the rule; more are gathered without a vector for the first.
        let first = values.next();
        let rest: Vec<HeaderValue> = values.collect();
        for v in first.into_iter().chain(rest) {
            headers.append(renamed, v);
        }
    }
}

/// AWS_PROXY response headers: framing and identity headers renamed, `Transfer-Encoding`
/// dropped.
pub fn remap_lambda_proxy_headers(headers: &mut HeaderMap) {
    headers.remove(http::header::TRANSFER_ENCODING);
    rename(headers, &header_names::REMAPPED_PROXY[..4]);
}

/// What HTTP_PROXY does with a backend's response header: framing and identity headers
/// renamed, transport headers dropped (`None`), the rest kept. Applied as the response head
/// is read, so no header is taken out and put back.
pub fn proxy_header_name(name: &HeaderName) -> Option<HeaderName> {
    if header_names::DROPPED_PROXY.contains(name) {
        return None;
    }
    let renamed = header_names::REMAPPED_PROXY.iter().find(|(from, _)| from == name);
    Some(renamed.map_or_else(|| name.clone(), |(_, to)| to.clone()))
}

/// What [`proxy_header_name`] does with a name, read from the name's lowercased bytes (for
/// heads written without header maps).
#[derive(Debug, PartialEq)]
pub enum ProxyName {
    Keep,
    Drop,
    Renamed(&'static HeaderName),
}

pub fn proxy_header_name_of(lower: &[u8]) -> ProxyName {
    if header_names::DROPPED_PROXY.iter().any(|n| n.as_str().as_bytes() == lower) {
        return ProxyName::Drop;
    }
    match header_names::REMAPPED_PROXY.iter().find(|(from, _)| from.as_str().as_bytes() == lower) {
        Some((_, to)) => ProxyName::Renamed(to),
        None => ProxyName::Keep,
    }
}

/// The response template for the client's Accept: its MIME type, else `application/json`,
/// else the first template (`runtime.md` §7.3).
pub fn choose_template<'p>(templates: &'p Templates, headers: &HeaderMap) -> Option<&'p Template> {
    let accept = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(mime).filter(|m| !m.is_empty());
    accept.and_then(|a| templates.get(a)).or_else(|| templates.get("application/json")).or_else(|| templates.first())
}

fn eval_response_source(
    source: &Source,
    endpoint: &EndpointResponse,
    stage: &StagePlan,
    inv: &Invocation,
) -> Option<String> {
    let value = match source {
        Source::IntegrationResponseHeader { name, multi: false } => {
            endpoint.headers.get_all(name.as_str()).iter().next_back()?.to_str().ok()?.to_string()
        }
        Source::IntegrationResponseHeader { name, multi: true } => {
            let values: Vec<&str> =
                endpoint.headers.get_all(name.as_str()).iter().filter_map(|v| v.to_str().ok()).collect();
            values.join(",")
        }
        Source::IntegrationResponseBody(None) => String::from_utf8_lossy(&endpoint.body).into_owned(),
        Source::IntegrationResponseBody(Some(path)) => body_value(&endpoint.body, &path.path)?,
        Source::StageVariable(name) => stage.variables.get(name)?.clone(),
        Source::Context(name) => inv.context.get(name)?,
        Source::Static(v) => v.clone(),
        Source::MethodRequest(..) | Source::MethodRequestBody(_) => return None,
    };
    (!value.is_empty()).then_some(value)
}

fn header_str(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Builds the client's response for a non-proxy integration.
pub fn build(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    selected: &IntegrationResponsePlan,
    request: &Parts,
    endpoint: EndpointResponse,
    inv: &mut Invocation,
) -> Result<Response<Body>, GatewayError> {
    if method.method_response(selected.status).is_none() {
        return Err(GatewayError::ApiConfiguration(format!(
            "Output mapping refers to an invalid method response: {}",
            selected.status.as_u16()
        )));
    }
    let mut headers = HeaderMap::new();
    let remap = matches!(method.integration.kind, IntegrationType::Http | IntegrationType::Aws);
    for (name, source) in &selected.response_parameters {
        let Some(value) = eval_response_source(source, &endpoint, stage, inv) else {
            continue;
        };
        let Ok(value) = HeaderValue::from_str(&value) else {
            continue;
        };
        let lower = name.as_str();
        if lower == "transfer-encoding" {
            continue;
        }
        if remap && REMAPPED_NON_PROXY.contains(&lower) {
            if let Some(new) = remapped_name(lower) {
                headers.insert(new, value);
            }
        } else {
            headers.insert(name.clone(), value);
        }
    }
    let binary_payload =
        payload::is_binary(&plan.binary_media_types, header_str(&endpoint.headers, http::header::CONTENT_TYPE));
    let binary_accept =
        payload::is_binary(&plan.binary_media_types, header_str(&request.headers, http::header::ACCEPT));
    let converted = payload::convert_response(endpoint.body, binary_payload, binary_accept, selected.content_handling)?;
    let body = match choose_template(&selected.response_templates, &request.headers) {
        Some(t) => {
            if std::str::from_utf8(&converted).is_err() {
                return Err(GatewayError::ApiConfiguration("a binary body cannot be rendered by a template".into()));
            }
            bytes::Bytes::from(render(t, &converted, stage, &request.headers, inv)?)
        }
        None => converted,
    };
    // `$context.responseOverride`, from either template, is applied last.
    for (name, value) in inv.overrides.response_headers() {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            headers.insert(name, value);
        }
    }
    let status =
        inv.overrides.response_status().and_then(|s| http::StatusCode::from_u16(s).ok()).unwrap_or(selected.status);
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if matches!(method.integration.kind, IntegrationType::Http | IntegrationType::Aws) {
        if let Ok(v) = HeaderValue::from_str(inv.trace_id()) {
            headers.insert(&header_names::X_AMZN_TRACE_ID, v);
        }
    }
    inv.add_request_headers(&mut headers);
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
        headers.get_all(name).iter().map(|v| v.to_str().unwrap()).collect()
    }

    #[test]
    fn proxy_header_names_renamed_dropped_or_kept() {
        let named = |name: &'static str| proxy_header_name(&HeaderName::from_static(name)).map(|n| n.to_string());
        for (name, becomes) in [
            ("server", Some("x-amzn-remapped-server")),
            ("date", Some("x-amzn-remapped-date")),
            ("content-length", Some("x-amzn-remapped-content-length")),
            ("connection", Some("x-amzn-remapped-connection")),
            ("x-amzn-requestid", Some("x-amzn-remapped-x-amzn-requestid")),
            ("transfer-encoding", None),
            ("content-encoding", None),
            ("via", None),
            ("keep-alive", None),
            ("content-type", Some("content-type")),
            ("x-kept", Some("x-kept")),
        ] {
            assert_eq!(named(name).as_deref(), becomes, "{name}");
            let of_bytes = match proxy_header_name_of(name.as_bytes()) {
                ProxyName::Keep => Some(name.to_string()),
                ProxyName::Drop => None,
                ProxyName::Renamed(to) => Some(to.to_string()),
            };
            assert_eq!(of_bytes.as_deref(), becomes, "{name}, by its bytes");
        }
    }

    #[test]
    fn lambda_proxy_headers_rename_the_framing_four() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        headers.insert(http::header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert(HeaderName::from_static("x-amzn-requestid"), HeaderValue::from_static("kept"));
        remap_lambda_proxy_headers(&mut headers);
        assert_eq!(values(&headers, "x-amzn-Remapped-Content-Length"), ["12"]);
        assert!(!headers.contains_key("transfer-encoding"));
        assert_eq!(values(&headers, "x-amzn-RequestId"), ["kept"], "AWS_PROXY keeps a function's request id header");
    }
}
