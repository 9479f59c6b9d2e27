//! HTTP and HTTP_PROXY integrations over the internet (`runtime.md` §5.2, §5.3, §6.2): the
//! request built from the integration URI and the mappings, sent through the pooled client,
//! bounded by `timeoutInMillis`.

use super::client::HttpClient;
use super::http1::{header_line, request_line, HeaderOutput};
use super::EndpointResponse;
use crate::mapping::params::{form_encode, MethodRequestView};
use crate::pipeline::gateway_response::GatewayError;
use crate::pipeline::integration_request::{map_parameters, IntegrationRequest};
use crate::pipeline::{full, header_names, method_response, Body, Invocation, DROPPED_AT_THE_DOOR};
use crate::plan::uri::PlainHttpTarget;
use crate::plan::{MethodPlan, Plan, StagePlan};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::BodyExt;

/// What HTTP_PROXY never forwards besides the headers dropped at the door: `Host`,
/// `Content-Encoding`, `Via`, and hop-by-hop headers.
const NOT_FORWARDED: &[&str] = &["host", "content-encoding", "via", "keep-alive", "proxy-connection"];

/// Mapped headers that never reach the backend.
static DROPPED_AFTER_MAPPING: [HeaderName; 4] =
    [http::header::EXPECT, http::header::PROXY_AUTHENTICATE, http::header::TE, http::header::VIA];

/// The backend URI: the integration URI with its placeholders filled, then its own query,
/// the client's query (HTTP_PROXY only) and the mapped query parameters, in that order.
fn target_uri(
    method: &MethodPlan,
    stage: &StagePlan,
    path: &[(String, String)],
    client_query: Option<&str>,
    mapped_query: &[(String, String)],
) -> Result<Uri, GatewayError> {
    let template =
        method.integration.uri.as_ref().ok_or_else(|| GatewayError::ApiConfiguration("no integration uri".into()))?;
    let encoded: Vec<(&str, String)> = path.iter().map(|(k, v)| (k.as_str(), encode_path_value(v))).collect();
    let mut text = template.render(
        |name| encoded.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()),
        |name| stage.variables.get(name).map(String::as_str),
    );
    append_query(&mut text, client_query, mapped_query);
    // Parsed from the text's own bytes, not a copy.
    let text = bytes::Bytes::from(text);
    let invalid =
        || GatewayError::ApiConfiguration(format!("Invalid endpoint address: {}", String::from_utf8_lossy(&text)));
    let uri = Uri::from_maybe_shared(text.clone()).map_err(|_| invalid())?;
    if !matches!(uri.scheme_str(), Some("http") | Some("https")) || uri.authority().is_none() {
        return Err(invalid());
    }
    Ok(uri)
}

/// Puts the rest of the query onto a rendered URI in place: the client's query string
/// (HTTP_PROXY), then the mapped query parameters; a bare `?` ends nothing.
fn append_query(text: &mut String, client_query: Option<&str>, mapped_query: &[(String, String)]) {
    let mut has_query = match text.find('?') {
        Some(at) if at + 1 == text.len() => {
            text.truncate(at);
            false
        }
        found => found.is_some(),
    };
    let mut separate = |text: &mut String| {
        text.push(if has_query { '&' } else { '?' });
        has_query = true;
    };
    if let Some(q) = client_query.filter(|q| !q.is_empty()) {
        separate(text);
        text.push_str(q);
    }
    for (k, v) in mapped_query {
        separate(text);
        form_encode(k, text);
        text.push('=');
        form_encode(v, text);
    }
}

/// A value for a `{name}` placeholder: raw path parameters keep their percent-encoding, and
/// whatever a URI cannot hold (a decoded query value's spaces, say) is percent-encoded.
fn encode_path_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode_path_value_into(value, &mut out);
    out
}

fn encode_path_value_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

fn set_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        headers.insert(n, v);
    }
}

/// For VPC_LINK integrations, the target behind the link instead of the URI's host, and the
/// URI's authority for the `Host` header.
fn through_vpc_link(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    uri: Uri,
) -> Result<(Uri, Option<String>), GatewayError> {
    if method.integration.connection_type != crate::config::model::ConnectionType::VpcLink {
        return Ok((uri, None));
    }
    let id = method
        .integration
        .connection_id
        .as_ref()
        .map(|t| t.render(|_| None, |name| stage.variables.get(name).map(String::as_str)))
        .unwrap_or_default();
    let (target, host) = super::vpc_link::route(&plan.vpc_links, &id, &uri)?;
    Ok((target, Some(host)))
}

/// Headers API Gateway adds to every HTTP integration request.
fn add_gateway_headers(headers: &mut HeaderMap, plan: &Plan, uri: &Uri, inv: &Invocation) {
    if let Some(authority) = uri.authority() {
        if !headers.contains_key(http::header::HOST) {
            if let Ok(v) = HeaderValue::from_str(authority.as_str()) {
                headers.insert(http::header::HOST, v);
            }
        }
    }
    if let Some(v) = &plan.api_id_header {
        headers.insert(&header_names::X_AMZN_APIGATEWAY_API_ID, v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(inv.trace_id()) {
        headers.insert(&header_names::X_AMZN_TRACE_ID, v);
    }
    header_names::remove_all(headers, &DROPPED_AFTER_MAPPING);
}

fn classify(error: crate::pipeline::BoxError) -> GatewayError {
    GatewayError::IntegrationFailure(error.to_string())
}

/// HTTP_PROXY: the client's request goes to the backend with only API Gateway's header
/// changes, and the backend's response comes back unchanged but for `runtime.md` §8.1; both
/// bodies stream.
pub async fn proxy(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    client: &HttpClient,
    parts: &http::request::Parts,
    body: Body,
    inv: &mut Invocation,
) -> Result<Response<Body>, GatewayError> {
    let path_params: Vec<(&str, &str)> = inv.path_params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let stage_variables = &stage.variables;
    let view = MethodRequestView {
        path_params: &path_params,
        query: &inv.query,
        headers: &parts.headers,
        body: &[],
        stage_variables,
        context: &inv.context,
    };
    let (path, query, mapped_headers) = map_parameters(&method.integration, &view)?;
    let verb = method.integration.http_method.as_ref().unwrap_or(&parts.method);
    // The body streams on after the head: it too must be in by the integration's deadline.
    let deadline = tokio::time::Instant::now() + method.integration.timeout;
    let rename = Some(method_response::proxy_header_name as super::http1::Rename);
    let direct = match (&method.integration.plain_http, mapped_headers.is_empty()) {
        (Some(target), true) => direct_head(plan, target, verb, &path, parts, &query, inv).map(|head| (target, head)),
        _ => None,
    };
    // The head written directly may have its response's headers written as lines too.
    let mut lines = if direct.is_some() { inv.header_lines.take() } else { None };
    let sent = match direct {
        Some((target, head)) => {
            let output = match &mut lines {
                Some(lines) => HeaderOutput::ProxyLines(lines),
                None => HeaderOutput::Map(rename),
            };
            let send = client.send_head(&target.authority, head, verb, body, Some(deadline), output);
            tokio::time::timeout_at(deadline, send).await
        }
        None => {
            let uri = target_uri(method, stage, &path, parts.uri.query(), &query)?;
            let (uri, link_host) = through_vpc_link(plan, stage, method, uri)?;
            let mut headers = HeaderMap::with_capacity(parts.headers.len() + 4);
            if let Some(host) = &link_host {
                set_header(&mut headers, "host", host);
            }
            for (name, value) in &parts.headers {
                if forwarded(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
            for (name, value) in &mapped_headers {
                set_header(&mut headers, name, value);
            }
            add_gateway_headers(&mut headers, plan, &uri, inv);
            let mut outgoing = Request::new(body);
            *outgoing.method_mut() = verb.clone();
            *outgoing.uri_mut() = uri;
            *outgoing.headers_mut() = headers;
            let insecure = method.integration.tls_insecure_skip_verification;
            // Boxed: held inline, the general exchange would make every proxy's future larger.
            let send = Box::pin(client.send(outgoing, insecure, Some(deadline), rename));
            tokio::time::timeout_at(deadline, send).await
        }
    };
    let sent = sent.map_err(|_| GatewayError::IntegrationTimeout).and_then(|r| r.map_err(classify));
    let written = lines.as_ref().is_some_and(|l| l.written && sent.is_ok());
    let response = match lines {
        Some(mut lines) if written => {
            // What the general path's map gets below, in its order.
            header_line(&mut lines.lines, header_names::X_AMZN_REQUESTID.as_str(), inv.context.request_id.as_bytes());
            let extended = inv.context.extended_request_id.as_bytes();
            header_line(&mut lines.lines, header_names::X_AMZ_APIGW_ID.as_str(), extended);
            if !lines.content_type {
                header_line(&mut lines.lines, "content-type", b"application/json");
            }
            inv.header_lines = Some(lines);
            return sent;
        }
        lines => {
            inv.header_lines = lines;
            sent?
        }
    };
    let (mut parts, body) = response.into_parts();
    inv.add_request_headers(&mut parts.headers);
    if !parts.headers.contains_key(http::header::CONTENT_TYPE) {
        parts.headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(Response::from_parts(parts, body))
}

/// Whether HTTP_PROXY passes a client header on.
fn forwarded(name: &HeaderName) -> bool {
    !DROPPED_AT_THE_DOOR.contains(&name.as_str()) && !NOT_FORWARDED.contains(&name.as_str())
}

/// The head (up to its framing) of an HTTP_PROXY request to a plain-HTTP backend named
/// outright, written from the client's head: the bytes the general path sends (the target
/// as [`target_uri`] makes it, the forwarded headers in the order a header map gives them,
/// then `Host`, the API id and the trace header, each of the last two in place of a
/// client's), without a header map built for it and a URI parsed back. `None` when a
/// placeholder has no value: the general path answers that.
fn direct_head(
    plan: &Plan,
    backend: &PlainHttpTarget,
    verb: &Method,
    path: &[(String, String)],
    parts: &http::request::Parts,
    mapped_query: &[(String, String)],
    inv: &Invocation,
) -> Option<Vec<u8>> {
    let mut target = String::with_capacity(64);
    let rendered =
        backend.path.render_into(&mut target, |name, out| match path.iter().rev().find(|(k, _)| k == name) {
            Some((_, v)) => {
                encode_path_value_into(v, out);
                true
            }
            None => false,
        });
    if !rendered {
        return None;
    }
    append_query(&mut target, parts.uri.query(), mapped_query);
    let mut out = Vec::with_capacity(256 + parts.headers.len() * 32);
    request_line(&mut out, verb, &target);
    let (mut api_id, mut trace) = (plan.api_id_header.as_ref(), Some(inv.trace_id()));
    for (name, value) in &parts.headers {
        if *name == header_names::X_AMZN_TRACE_ID {
            if let Some(t) = trace.take() {
                header_line(&mut out, name.as_str(), t.as_bytes());
            }
        } else if *name == header_names::X_AMZN_APIGATEWAY_API_ID && plan.api_id_header.is_some() {
            if let Some(v) = api_id.take() {
                header_line(&mut out, name.as_str(), v.as_bytes());
            }
        } else if forwarded(name) {
            header_line(&mut out, name.as_str(), value.as_bytes());
        }
    }
    header_line(&mut out, "host", backend.authority.as_str().as_bytes());
    if let Some(v) = api_id {
        header_line(&mut out, header_names::X_AMZN_APIGATEWAY_API_ID.as_str(), v.as_bytes());
    }
    if let Some(t) = trace {
        header_line(&mut out, header_names::X_AMZN_TRACE_ID.as_str(), t.as_bytes());
    }
    Some(out)
}

/// HTTP (non-proxy): only what the mappings and the template say reaches the backend; the
/// whole response is read for the integration response to map.
pub async fn invoke(
    plan: &Plan,
    stage: &StagePlan,
    method: &MethodPlan,
    client: &HttpClient,
    request: IntegrationRequest,
    inv: &Invocation,
) -> Result<EndpointResponse, GatewayError> {
    let uri = target_uri(method, stage, &request.path, None, &request.query)?;
    let (uri, link_host) = through_vpc_link(plan, stage, method, uri)?;
    let client_method: Method = inv.context.http_method.parse().unwrap_or(Method::GET);
    let verb = method.integration.http_method.clone().unwrap_or_else(|| client_method.clone());
    let mut headers = HeaderMap::new();
    if let Some(host) = &link_host {
        set_header(&mut headers, "host", host);
    }
    for (name, value) in &request.headers {
        set_header(&mut headers, name, value);
    }
    if !headers.contains_key(http::header::ACCEPT) {
        headers.insert(http::header::ACCEPT, HeaderValue::from_static("application/json"));
    }
    if let (false, Some(v)) = (headers.contains_key(http::header::USER_AGENT), &plan.user_agent_header) {
        headers.insert(http::header::USER_AGENT, v.clone());
    }
    if !matches!(client_method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !headers.contains_key(http::header::CONTENT_TYPE)
    {
        if let Some(ct) = &request.client_content_type {
            headers.insert(http::header::CONTENT_TYPE, ct.clone());
        }
    }
    add_gateway_headers(&mut headers, plan, &uri, inv);
    let body =
        if matches!(verb, Method::GET | Method::HEAD | Method::OPTIONS) { bytes::Bytes::new() } else { request.body };
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut outgoing = Request::new(full(body));
    *outgoing.method_mut() = verb;
    *outgoing.uri_mut() = uri;
    *outgoing.headers_mut() = headers;
    let exchange = async {
        let response = client
            .send(outgoing, method.integration.tls_insecure_skip_verification, None, None)
            .await
            .map_err(classify)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| GatewayError::IntegrationFailure(e.to_string()))?.to_bytes();
        Ok::<_, GatewayError>(EndpointResponse {
            status: Some(parts.status),
            headers: parts.headers,
            body,
            lambda_error: None,
        })
    };
    tokio::time::timeout(method.integration.timeout, exchange).await.map_err(|_| GatewayError::IntegrationTimeout)?
}
