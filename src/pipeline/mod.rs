//! One request through an API, phase by phase as API Gateway runs it: method request →
//! integration request → integration → integration response → method response, with a
//! gateway response for every way out (`runtime.md` §1).

pub mod gateway_response;
pub mod header_names;
mod ids;
pub mod integration_request;
pub mod integration_response;
pub mod method_request;
pub mod method_response;
mod panic_guard;
pub mod payload;
mod schema_messages;

pub(crate) use crate::integration::http1::ProxyLines;
use crate::integration::{self, client::HttpClient};
use crate::mapping::context::{self, RequestContext};
use crate::mapping::template::{Overrides, Params};
use crate::plan::Plan;
use bytes::Bytes;
use gateway_response::GatewayError;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Client headers API Gateway drops at the door: invisible to mappings, templates and proxy
/// events alike (`runtime.md` §3).
pub const DROPPED_AT_THE_DOOR: &[&str] = &[
    "connection",
    "content-length",
    "content-md5",
    "expect",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "www-authenticate",
];

/// Bodies in both directions: streamed for proxies, whole for mapped payloads.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// The per-request state every phase reads and adds to.
pub struct Invocation {
    /// `$context`, shared with template renders (changed copy-on-write).
    pub context: Arc<RequestContext>,
    /// The request as templates see it, built the first time a template renders.
    pub params: Option<Arc<Params>>,
    /// What templates set in `$context.requestOverride` / `.responseOverride`.
    pub overrides: Overrides,
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    /// The stage the request was routed to (index into the plan's stages).
    pub stage: Option<usize>,
    /// The method it was routed to (index into the plan's methods).
    pub method: Option<usize>,
    /// The request path after the stage, raw (still percent-encoded).
    pub resource_relative_path: String,
    /// The client's `X-Amzn-Trace-Id`, if it sent one.
    incoming_trace_id: Option<String>,
    /// The `X-Amzn-Trace-Id` sent to integrations, made when first needed (MOCK never does).
    trace_id: std::sync::OnceLock<String>,
    /// The execution log of TestInvokeMethod, one line per step; `None` when serving.
    pub log: Option<Vec<String>>,
    /// Where an HTTP_PROXY response's headers may be written as lines, when the caller
    /// writes the response head itself ([`execute_writing`]).
    pub(crate) header_lines: Option<ProxyLines>,
}

impl Invocation {
    /// `host`, `user_agent` and `trace` are the request's first values of those headers.
    fn new<B>(req: &Request<B>, peer: SocketAddr, [host, user_agent, trace]: [Option<&HeaderValue>; 3]) -> Self {
        let (request_time, request_time_epoch) = context::request_time(SystemTime::now());
        let host = host
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let user_agent = user_agent.and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
        Self {
            context: Arc::new(RequestContext {
                domain_name: host,
                extended_request_id: ids::extended_request_id(),
                http_method: method_name(req.method()),
                path: req.uri().path().to_string(),
                protocol: protocol(req.version()),
                request_id: ids::request_id(),
                request_time,
                request_time_epoch,
                source_ip: source_ip(peer.ip()),
                user_agent,
                ..RequestContext::default()
            }),
            params: None,
            overrides: Overrides::default(),
            path_params: Vec::new(),
            query: Vec::new(),
            stage: None,
            method: None,
            resource_relative_path: String::new(),
            incoming_trace_id: trace.and_then(|v| v.to_str().ok()).map(str::to_string),
            trace_id: std::sync::OnceLock::new(),
            log: None,
            header_lines: None,
        }
    }

    /// The `X-Amzn-Trace-Id` sent to integrations: the client's, completed, or a new one.
    pub fn trace_id(&self) -> &str {
        self.trace_id.get_or_init(|| {
            ids::trace_id(self.incoming_trace_id.as_deref(), (self.context.request_time_epoch / 1000) as u32)
        })
    }

    /// Adds a line to the execution log when one is kept; costs nothing otherwise.
    pub fn trace(&mut self, line: impl FnOnce() -> String) {
        if let Some(log) = &mut self.log {
            log.push(format!("{} : {}", httpdate::fmt_http_date(SystemTime::now()), line()));
        }
    }

    /// The request's parameters for templates: path, single-value query string, headers.
    pub fn template_params(&mut self, headers: &HeaderMap) -> Arc<Params> {
        if let Some(p) = &self.params {
            return p.clone();
        }
        let mut querystring: Vec<(String, String)> = Vec::with_capacity(self.query.len());
        for (k, v) in &self.query {
            match querystring.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = v.clone(),
                None => querystring.push((k.clone(), v.clone())),
            }
        }
        let mut header: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            if DROPPED_AT_THE_DOOR.contains(&name.as_str()) {
                continue;
            }
            match header.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value.clone(),
                None => header.push((name.clone(), value.clone())),
            }
        }
        let params = Arc::new(Params { path: self.path_params.clone(), querystring, header });
        self.params = Some(params.clone());
        params
    }

    /// `x-amzn-RequestId` and `x-amz-apigw-id`, on every response.
    pub fn add_request_headers(&self, headers: &mut HeaderMap) {
        if let Ok(v) = HeaderValue::from_str(&self.context.request_id) {
            headers.insert(&header_names::X_AMZN_REQUESTID, v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.context.extended_request_id) {
            headers.insert(&header_names::X_AMZ_APIGW_ID, v);
        }
    }
}

/// The client's address as text; IPv4 (the common case) without the formatting machinery.
fn source_ip(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut out = String::with_capacity(15);
            for (i, n) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if n >= 100 {
                    out.push((b'0' + n / 100) as char);
                }
                if n >= 10 {
                    out.push((b'0' + n / 10 % 10) as char);
                }
                out.push((b'0' + n % 10) as char);
            }
            out
        }
        std::net::IpAddr::V6(_) => ip.to_string(),
    }
}

fn protocol(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    }
}

/// The method's name, without an allocation for the standard ones.
fn method_name(m: &http::Method) -> std::borrow::Cow<'static, str> {
    use http::Method;
    let name = match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => return m.as_str().to_string().into(),
    };
    name.into()
}

/// Runs one request through `plan`. Never fails: errors become gateway responses.
pub fn execute<'a, B>(
    plan: &'a Plan,
    client: &'a HttpClient,
    req: Request<B>,
    peer: SocketAddr,
    observer: &'a dyn Observer,
) -> impl std::future::Future<Output = Response<Body>> + Send + 'a
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    execute_logged(plan, client, req, peer, observer, None)
}

/// As [`execute`], filling `log` with the execution log (TestInvokeMethod) when given.
pub fn execute_logged<'a, B>(
    plan: &'a Plan,
    client: &'a HttpClient,
    req: Request<B>,
    peer: SocketAddr,
    observer: &'a dyn Observer,
    log: Option<&'a mut Vec<String>>,
) -> impl std::future::Future<Output = Response<Body>> + Send + 'a
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // Made here, so that the future below holds the request's future once, not also the
    // request it was made from.
    let answer = execute_in(plan, client, req, peer, observer, log, None);
    async move { answer.await.0 }
}

/// As [`execute`], for a caller that writes the response head itself (the server's
/// HTTP/1.1 path): an HTTP_PROXY response may come with the backend's headers written as
/// header lines into `lines` ([`ProxyLines::written`]), its map then holding only what
/// the gateway adds after them. `lines` comes back, written or not, for the next request.
pub(crate) fn execute_writing<'a, B>(
    plan: &'a Plan,
    client: &'a HttpClient,
    req: Request<B>,
    peer: SocketAddr,
    observer: &'a dyn Observer,
    lines: ProxyLines,
) -> impl std::future::Future<Output = (Response<Body>, ProxyLines)> + Send + 'a
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    execute_in(plan, client, req, peer, observer, None, Some(lines))
}

/// What needs only the request runs before the future is made, so that the future holds the
/// request's parts once, not also the whole request it came from: every request's future is
/// moved a few times on its way to the connection, and its size is what each move copies.
fn execute_in<'a, B>(
    plan: &'a Plan,
    client: &'a HttpClient,
    req: Request<B>,
    peer: SocketAddr,
    observer: &'a dyn Observer,
    log: Option<&'a mut Vec<String>>,
    mut lines: Option<ProxyLines>,
) -> impl std::future::Future<Output = (Response<Body>, ProxyLines)> + Send + 'a
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let started = std::time::Instant::now();
    let [host, user_agent, trace, connection] = header_names::first_values(
        req.headers(),
        [&http::header::HOST, &http::header::USER_AGENT, &header_names::X_AMZN_TRACE_ID, &http::header::CONNECTION],
    );
    let mut inv = Invocation::new(&req, peer, [host, user_agent, trace]);
    // API Gateway answers `Connection: keep-alive` unless the client asked to close.
    let keep_alive = req.version() == http::Version::HTTP_11
        && (connection.is_none() || !lists_token(req.headers(), http::header::CONNECTION, "close"));
    if log.is_some() {
        inv.log = Some(Vec::new());
        let id = inv.context.request_id.clone();
        inv.trace(|| format!("Starting execution for request: {id}"));
        // The execution log reads the response's headers from its map.
        lines = None;
    }
    if let Some(lines) = &mut lines {
        lines.reset();
    }
    inv.header_lines = lines;
    let (parts, body) = req.into_parts();
    let body = body.map_err(Into::into).boxed_unsync();
    panic_guard::PanicGuard::new(async move {
        let mut response = match run(plan, client, &parts, body, &mut inv).await {
            Ok(response) => response,
            Err(error) => {
                // Lines written for a response that did not come to be are not its.
                if let Some(lines) = &mut inv.header_lines {
                    lines.reset();
                }
                inv.trace(|| format!("Execution failed: {error}"));
                gateway_response::respond(plan, &parts.headers, &mut inv, &error)
            }
        };
        let status = response.status().as_u16();
        inv.trace(|| format!("Method completed with status: {status}"));
        if keep_alive {
            response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("keep-alive"));
        }
        let length = http_body::Body::size_hint(response.body()).exact();
        observer.finished(plan, &inv, response.status(), length, started.elapsed());
        if let Some(log) = log {
            *log = inv.log.take().unwrap_or_default();
        }
        (response, inv.header_lines.take().unwrap_or_default())
    })
}

/// Headers as the execution log prints them: `{name=value, ...}`.
pub fn log_headers(headers: &HeaderMap) -> String {
    let pairs: Vec<String> =
        headers.iter().map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v.as_bytes()))).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn log_pairs(pairs: &[(String, String)]) -> String {
    format!("{{{}}}", pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
}

/// Told about every finished request (access logs, metrics). The response body may still be
/// streaming.
pub trait Observer: Send + Sync {
    fn finished(
        &self,
        plan: &Plan,
        inv: &Invocation,
        status: http::StatusCode,
        response_length: Option<u64>,
        latency: std::time::Duration,
    );
}

/// Observes nothing.
impl Observer for () {
    fn finished(&self, _: &Plan, _: &Invocation, _: http::StatusCode, _: Option<u64>, _: std::time::Duration) {}
}

/// Whether a comma-separated header (`Connection`) lists `token`, case-insensitively.
pub(crate) fn lists_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| v.to_str().is_ok() && value_lists(v.as_bytes(), token))
}

/// Whether one comma-separated header value lists `token`, case-insensitively.
pub(crate) fn value_lists(value: &[u8], token: &str) -> bool {
    value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// `$context.integrationLatency`, `.integrationStatus` and `.integration.error`, for access
/// logs.
fn record_integration(inv: &mut Invocation, latency_ms: u64, outcome: Result<http::StatusCode, &GatewayError>) {
    let context = Arc::make_mut(&mut inv.context);
    context.integration_latency = Some(latency_ms);
    match outcome {
        Ok(status) => context.integration_status = Some(status.as_u16()),
        Err(e) => context.integration_error = Some(e.to_string()),
    }
}

/// Whole milliseconds since `started`.
fn since(started: std::time::Instant) -> u64 {
    started.elapsed().as_millis() as u64
}

/// API Gateway's URL length limit (regional endpoints).
pub const MAX_URL_LENGTH: usize = 10_240;

/// Refuses, before anything else, a URL or a declared body over API Gateway's limits.
fn check_limits(plan: &Plan, parts: &http::request::Parts) -> Result<(), GatewayError> {
    if parts.uri.path_and_query().map_or(0, |p| p.as_str().len()) > plan.max_url_length {
        return Err(GatewayError::UriTooLong);
    }
    let declared =
        parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > plan.max_payload_bytes as u64) {
        return Err(GatewayError::RequestTooLarge);
    }
    Ok(())
}

/// API Gateway's payload limit (10 MB).
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// Reads a whole request body, refusing one over API Gateway's payload limit.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| GatewayError::IntegrationFailure(format!("reading the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(GatewayError::RequestTooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

async fn run(
    plan: &Plan,
    client: &HttpClient,
    parts: &http::request::Parts,
    body: Body,
    inv: &mut Invocation,
) -> Result<Response<Body>, GatewayError> {
    check_limits(plan, parts)?;
    let (stage, method) = method_request::route(plan, parts, inv)?;
    if inv.log.is_some() {
        let (verb, path) = (parts.method.to_string(), inv.resource_relative_path.clone());
        let (params, query, headers) =
            (log_pairs(&inv.path_params), log_pairs(&inv.query), log_headers(&parts.headers));
        inv.trace(|| format!("HTTP Method: {verb}, Resource Path: {path}"));
        inv.trace(|| format!("Method request path: {params}"));
        inv.trace(|| format!("Method request query string: {query}"));
        inv.trace(|| format!("Method request headers: {headers}"));
    }
    method_request::throttle(plan, stage, inv.method.unwrap_or(usize::MAX))?;
    if let Some(validation) = &method.validation {
        if validation.parameters {
            method_request::validate_parameters(method, &parts.headers, inv)?;
        }
    }
    if method.integration.kind == crate::config::model::IntegrationType::AwsProxy {
        // Forbidden header mappings fail the request even though AWS_PROXY ignores mappings.
        integration_request::check_forbidden_mappings(&method.integration)?;
        let body = read_body(body, plan.max_payload_bytes).await?;
        if let Some(validation) = &method.validation {
            method_request::validate_body(validation, &parts.headers, &body, inv)?;
        }
        let started = std::time::Instant::now();
        let result = Box::pin(integration::lambda::proxy(plan, stage, method, client, parts, body, inv)).await;
        record_integration(inv, since(started), result.as_ref().map(|r| r.status()));
        return result;
    }
    let needs_body = method.validation.as_ref().is_some_and(|v| !v.body_models.is_empty());
    if method.integration.kind == crate::config::model::IntegrationType::HttpProxy && !needs_body {
        // The body streams to the backend untouched.
        let started = std::time::Instant::now();
        let result = Box::pin(integration::http::proxy(plan, stage, method, client, parts, body, inv)).await;
        record_integration(inv, since(started), result.as_ref().map(|r| r.status()));
        return result;
    }
    let body = read_body(body, plan.max_payload_bytes).await?;
    if let Some(validation) = &method.validation {
        method_request::validate_body(validation, &parts.headers, &body, inv)?;
    }
    if method.integration.kind == crate::config::model::IntegrationType::HttpProxy {
        let started = std::time::Instant::now();
        let result = Box::pin(integration::http::proxy(plan, stage, method, client, parts, full(body), inv)).await;
        record_integration(inv, since(started), result.as_ref().map(|r| r.status()));
        return result;
    }
    inv.trace(|| format!("Method request body before transformations: {}", String::from_utf8_lossy(&body)));
    // The request and endpoint response end with this block, so the response's logging (the
    // only wait after it) does not keep room for them in every request's future.
    let response = {
        let request = integration_request::prepare(plan, stage, method, parts, &body, inv)?;
        if inv.log.is_some() {
            let (path, query) = (log_pairs(&request.path), log_pairs(&request.query));
            let headers = log_pairs(&request.headers);
            let body = String::from_utf8_lossy(&request.body).into_owned();
            inv.trace(|| format!("Endpoint request path parameters: {path}"));
            inv.trace(|| format!("Endpoint request query string: {query}"));
            inv.trace(|| format!("Endpoint request headers: {headers}"));
            inv.trace(|| format!("Endpoint request body after transformations: {body}"));
        }
        // A backend's future is boxed: held inline, it would make every request's future (MOCK
        // ones too) larger, and each request's future is moved a few times on its way. MOCK
        // answers in place, in well under a millisecond: no clock is read for its latency.
        let (endpoint, latency) = match method.integration.kind {
            crate::config::model::IntegrationType::Mock => (Ok(integration::mock::invoke(&request)), 0),
            _ => {
                let started = std::time::Instant::now();
                let endpoint = Box::pin(integration::call(plan, stage, method, client, request, inv)).await;
                (endpoint, since(started))
            }
        };
        record_integration(inv, latency, endpoint.as_ref().map(|e| e.status.unwrap_or(http::StatusCode::OK)));
        let endpoint = endpoint?;
        if inv.log.is_some() {
            let status = endpoint.status.map_or("(none)".to_string(), |s| s.as_u16().to_string());
            let latency = inv.context.integration_latency.unwrap_or(0);
            let (headers, body) =
                (log_headers(&endpoint.headers), String::from_utf8_lossy(&endpoint.body).into_owned());
            inv.trace(|| format!("Received response. Status: {status}, Integration latency: {latency} ms"));
            inv.trace(|| format!("Endpoint response headers: {headers}"));
            inv.trace(|| format!("Endpoint response body before transformations: {body}"));
        }
        let selected = integration_response::select(method, &endpoint)?;
        let pattern = selected.pattern.as_ref().map(|p| p.as_str().to_string());
        inv.trace(|| match pattern {
            Some(p) => format!("Selected integration response: {} (selectionPattern {p})", selected.status.as_u16()),
            None => format!("Selected integration response: {} (the default)", selected.status.as_u16()),
        });
        method_response::build(plan, stage, method, selected, parts, endpoint, inv)?
    };
    if inv.log.is_none() {
        return Ok(response);
    }
    Ok(Box::pin(log_response(response, inv)).await)
}

/// TestInvokeMethod: the response read whole, to log its body.
async fn log_response(response: Response<Body>, inv: &mut Invocation) -> Response<Body> {
    let (head, body) = response.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let (headers, text) = (log_headers(&head.headers), String::from_utf8_lossy(&body).into_owned());
    inv.trace(|| format!("Method response body after transformations: {text}"));
    inv.trace(|| format!("Method response headers: {headers}"));
    inv.trace(|| "Successfully completed execution".to_string());
    Response::from_parts(head, full(body))
}
