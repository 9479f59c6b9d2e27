//! Rendering a template outside a request, as `portico render` does: one template with a
//! made-up request, or a file of cases (the format of `vtl-cases.json`) checked against their
//! expected output.

use super::context::RequestContext;
use super::template::{MappingTemplate, Overrides, Params, TemplateInput};
use crate::vtl::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The request id a rendered case sees as `$context.requestId`.
pub const FIXED_REQUEST_ID: &str = "c0ffee00-0000-4000-8000-000000000000";

/// A made-up request for a template.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseParams {
    pub path: BTreeMap<String, String>,
    pub querystring: BTreeMap<String, String>,
    pub header: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Case {
    pub name: String,
    pub template: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub params: CaseParams,
    #[serde(default)]
    pub context: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    /// The exact output expected...
    #[serde(default)]
    pub expected: Option<String>,
    /// ...or the exact error (`line L, column C: message`).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// Everything a render reads besides its body, owned, for rendering outside a request:
/// `portico render`, its cases, benchmarks and property tests.
pub struct Standalone {
    pub params: Arc<Params>,
    pub stage_variables: Arc<BTreeMap<String, String>>,
    pub context: Arc<RequestContext>,
    pub overrides: Overrides,
}

impl Standalone {
    /// A request with `params`, no stage variables and the default context.
    pub fn new(params: Params) -> Self {
        Self::with(params, BTreeMap::new(), default_context())
    }

    pub fn with(params: Params, stage_variables: BTreeMap<String, String>, context: RequestContext) -> Self {
        Self {
            params: Arc::new(params),
            stage_variables: Arc::new(stage_variables),
            context: Arc::new(context),
            overrides: Overrides::default(),
        }
    }

    pub fn input<'a>(&'a self, body: &'a bytes::Bytes) -> TemplateInput<'a> {
        TemplateInput {
            body,
            params: &self.params,
            stage_variables: &self.stage_variables,
            context: &self.context,
            overrides: &self.overrides,
        }
    }
}

/// Where a case's `$context` starts: a fixed request id and plausible values for the rest.
pub fn default_context() -> RequestContext {
    RequestContext {
        api_id: "abcdef1234".into(),
        deployment_id: "dep123".into(),
        domain_name: "abcdef1234.execute-api.localhost".into(),
        domain_prefix: None,
        extended_request_id: "AbCdEfGhIjKlMnO=".into(),
        http_method: "POST".into(),
        path: "/test/resource".into(),
        protocol: "HTTP/1.1",
        request_id: FIXED_REQUEST_ID.into(),
        request_time: "01/Jan/2026:00:00:00 +0000".into(),
        request_time_epoch: 1_767_225_600_000,
        resource_id: "res123".into(),
        resource_path: "/resource".into(),
        stage: "test".into(),
        source_ip: "127.0.0.1".into(),
        user_agent: "portico-render".into(),
        ..RequestContext::default()
    }
}

/// Sets a `$context` variable by its dotted name.
pub fn set_context(ctx: &mut RequestContext, name: &str, value: &str) {
    let v = value.to_string();
    match name {
        "apiId" => ctx.api_id = v.into(),
        "deploymentId" => ctx.deployment_id = v.into(),
        "domainName" => ctx.domain_name = v,
        "domainPrefix" => ctx.domain_prefix = Some(v),
        "extendedRequestId" => ctx.extended_request_id = v,
        "httpMethod" => ctx.http_method = v.into(),
        "path" => ctx.path = v,
        "requestId" => ctx.request_id = v,
        "requestTime" => ctx.request_time = v.into(),
        "requestTimeEpoch" => ctx.request_time_epoch = value.parse().unwrap_or(ctx.request_time_epoch),
        "resourceId" => ctx.resource_id = v.into(),
        "resourcePath" => ctx.resource_path = v.into(),
        "stage" => ctx.stage = v.into(),
        "identity.sourceIp" => ctx.source_ip = v,
        "identity.userAgent" => ctx.user_agent = v,
        "error.message" => ctx.error.message = v,
        _ => {
            ctx.extra.insert(name.to_string(), v);
        }
    }
}

/// Renders one case; the error is the template's, with line and column.
pub fn render_case(case: &Case) -> Result<String, crate::vtl::Error> {
    let template = MappingTemplate::compile(&case.template)?;
    let mut ctx = default_context();
    for (k, v) in &case.context {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        set_context(&mut ctx, k, &text);
    }
    let pairs = |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
    let params = Params {
        path: pairs(&case.params.path),
        querystring: pairs(&case.params.querystring),
        // Names and values no request could carry are left out.
        header: case
            .params
            .header
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    http::HeaderName::from_bytes(k.as_bytes()).ok()?,
                    http::HeaderValue::from_bytes(v.as_bytes()).ok()?,
                ))
            })
            .collect(),
    };
    let request = Standalone::with(params, case.stage_variables.clone(), ctx);
    let body = bytes::Bytes::from(case.body.clone().unwrap_or_default());
    template.render(&request.input(&body), Limits::default()).map(|r| r.body)
}

/// One case that did not give its expected output.
pub struct Failure {
    pub name: String,
    pub expected: String,
    pub got: Result<String, String>,
}

pub struct Report {
    pub passed: usize,
    pub failures: Vec<Failure>,
}

pub fn run_cases(json: &str) -> Result<Report, String> {
    let cases: Vec<Case> = serde_json::from_str(json).map_err(|e| format!("not a list of cases: {e}"))?;
    let mut report = Report { passed: 0, failures: Vec::new() };
    for case in &cases {
        let got = render_case(case).map_err(|e| e.to_string());
        let ok = match (&case.expected, &case.error, &got) {
            (Some(expected), None, Ok(out)) => out == expected,
            (None, Some(expected), Err(err)) => err == expected,
            _ => false,
        };
        if ok {
            report.passed += 1;
        } else {
            let expected = match (&case.expected, &case.error) {
                (Some(e), None) => e.clone(),
                (None, Some(e)) => format!("error: {e}"),
                _ => "exactly one of expected or error".to_string(),
            };
            report.failures.push(Failure { name: case.name.clone(), expected, got });
        }
    }
    Ok(report)
}
