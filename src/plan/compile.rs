//! Document → plan: every cross-reference resolved, every expression, URI and pattern
//! compiled, every problem collected with its location.

use super::uri::UriTemplate;
use super::*;
use crate::config::model::{Document, Integration, Located, Method as MethodDoc, Resource};
use crate::config::problem::{Collector, Problem};
use crate::mapping::expression::{
    parse_header_target, parse_method_parameter, parse_request_target, parse_source, Side, Source,
};
use std::collections::HashMap;

/// Compiles a loaded document. Problems already found while loading are passed in so that
/// one list says everything that is wrong.
pub fn compile(doc: &Document, mut problems: Vec<Problem>) -> Result<Plan, Vec<Problem>> {
    let mut out = Collector::default();
    let models = super::models::compile(&doc.models, &mut out);
    let mut router = Router::default();
    let mut methods = Vec::new();
    for resource in &doc.resources {
        for method in &resource.resource_methods {
            if let Some(plan) = compile_method(doc, &models, resource, method, &mut out) {
                router.insert(&resource.path, &method.http_method, methods.len() as u32);
                methods.push(plan);
            }
        }
    }
    let mut stages: Vec<StagePlan> = doc
        .stages
        .iter()
        .map(|s| StagePlan {
            name: s.stage_name.as_str().into(),
            throttles: stage_throttles(s, &methods),
            access_log_format: s
                .access_log_settings
                .as_ref()
                .and_then(|a| a.format.as_deref())
                .map(super::gateway::parse_template),
            variables: Arc::new(s.variables.clone()),
            deployment_id: s
                .deployment_id
                .clone()
                .unwrap_or_else(|| crate::config::load::generated_id(&s.stage_name))
                .into(),
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for s in &doc.stages {
        if !seen.insert(&s.stage_name) {
            out.at(s.pos, format!("stages {}", s.stage_name), "another stage already has this stageName");
        }
    }
    if stages.is_empty() {
        stages.push(StagePlan {
            name: "".into(),
            throttles: vec![None; methods.len()],
            access_log_format: None,
            variables: Arc::default(),
            deployment_id: crate::config::load::generated_id("").into(),
        });
    }
    for vpc in &doc.vpc_links {
        for arn in &vpc.target_arns {
            if !doc.network_load_balancers.iter().any(|n| n.arn == arn.value) {
                out.at(
                    arn.pos,
                    format!("vpcLinks {} targetArns", vpc.id),
                    format!("no networkLoadBalancers entry has the arn {:?}", arn.value),
                );
            }
        }
    }
    let observer_slots = (0..(stages.len() + 1) * (methods.len() + 1)).map(|_| Default::default()).collect();
    let gateway_responses = compile_gateway_responses(doc, &mut out);
    let backend_ca = read_backend_ca(doc, &mut out);
    let vpc_links = crate::integration::vpc_link::compile(doc, &mut out);
    problems.extend(out.problems);
    problems.sort_by_key(|p| p.pos.map(|pos| (pos.line, pos.col)));
    if !problems.is_empty() {
        return Err(problems);
    }
    let api_id = doc.rest_api.id.as_str();
    Ok(Plan {
        api_id: api_id.into(),
        api_id_header: http::HeaderValue::from_str(api_id).ok(),
        user_agent_header: http::HeaderValue::from_str(&format!("AmazonAPIGateway_{api_id}")).ok(),
        api_name: doc.rest_api.name.clone(),
        binary_media_types: doc.rest_api.binary_media_types.clone(),
        stages,
        router,
        methods,
        resource_count: doc.resources.len(),
        lambda_endpoint: doc.lambda.as_ref().map(|l| l.endpoint.trim_end_matches('/').to_string()),
        gateway_responses,
        backend_ca,
        vpc_links,
        account_throttle: None,
        warnings: doc.warnings.clone(),
        observer_slots,
        max_payload_bytes: crate::pipeline::MAX_PAYLOAD_BYTES,
        max_url_length: crate::pipeline::MAX_URL_LENGTH,
    })
}

/// The extra CA certificates of `backendTls.caFile`, read at load.
fn read_backend_ca(doc: &Document, out: &mut Collector) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let Some(tls) = &doc.backend_tls else { return Vec::new() };
    let mut path = std::path::PathBuf::from(&tls.ca_file.value);
    if path.is_relative() {
        if let Some(base) = &doc.base_dir {
            path = base.join(path);
        }
    }
    let certs: Result<Vec<_>, _> = match CertificateDer::pem_file_iter(&path) {
        Ok(iter) => iter.collect(),
        Err(e) => Err(e),
    };
    match certs {
        Ok(certs) if !certs.is_empty() => certs,
        Ok(_) => {
            out.at(tls.ca_file.pos, "backendTls.caFile", format!("{} holds no PEM certificate", path.display()));
            Vec::new()
        }
        Err(e) => {
            out.at(
                tls.ca_file.pos,
                "backendTls.caFile",
                format!("cannot read certificates from {}: {e}", path.display()),
            );
            Vec::new()
        }
    }
}

fn compile_gateway_responses(
    doc: &Document,
    out: &mut Collector,
) -> HashMap<crate::pipeline::gateway_response::ResponseType, super::gateway::GatewayResponsePlan> {
    use super::gateway::{parse_parameter, parse_template, GatewayResponsePlan};
    use crate::pipeline::gateway_response::ResponseType;
    let mut compiled = HashMap::new();
    for (i, gr) in doc.gateway_responses.iter().enumerate() {
        let base = format!("gatewayResponses[{i}]");
        let Some(kind) = ResponseType::parse(&gr.response_type) else {
            out.at(
                gr.pos,
                format!("{base}.responseType"),
                format!("{:?} is not an API Gateway response type", gr.response_type),
            );
            continue;
        };
        if kind == ResponseType::RequestTooLarge {
            out.at(gr.pos, format!("{base}.responseType"), "REQUEST_TOO_LARGE cannot be customised (as on AWS)");
            continue;
        }
        let mut parameters = Vec::new();
        for (target, source) in &gr.response_parameters {
            match parse_parameter(target, &source.value) {
                Ok(p) => parameters.push(p),
                Err(e) => out.at(source.pos, format!("{base}.responseParameters[{target:?}]"), e),
            }
        }
        let templates = gr.response_templates.iter().map(|(ct, t)| (ct.clone(), parse_template(&t.value))).collect();
        let status = gr.status_code.as_deref().and_then(status_code);
        if compiled.insert(kind, GatewayResponsePlan { status, parameters, templates }).is_some() {
            out.at(gr.pos, format!("{base}.responseType"), format!("{} is customised twice", gr.response_type));
        }
    }
    compiled
}

/// One bucket per method that the stage's most specific throttling setting covers.
fn stage_throttles(
    stage: &crate::config::model::Stage,
    methods: &[MethodPlan],
) -> Vec<Option<Arc<super::throttle::TokenBucket>>> {
    use super::throttle::{setting_applies, TokenBucket};
    methods
        .iter()
        .map(|m| {
            let best = stage
                .method_settings
                .iter()
                .filter(|(_, s)| s.throttling_rate_limit.is_some() || s.throttling_burst_limit.is_some())
                .filter_map(|(key, s)| setting_applies(key, &m.resource_path, &m.http_method).map(|rank| (rank, s)))
                .max_by_key(|(rank, _)| *rank)?;
            let setting = best.1;
            let rate = setting.throttling_rate_limit.unwrap_or(10_000.0);
            let burst = setting.throttling_burst_limit.unwrap_or(5_000).max(0) as u64;
            Some(Arc::new(TokenBucket::new(rate, burst)))
        })
        .collect()
}

fn compile_method(
    doc: &Document,
    models: &HashMap<String, Arc<jsonschema::Validator>>,
    resource: &Resource,
    method: &MethodDoc,
    out: &mut Collector,
) -> Option<MethodPlan> {
    let base = format!("resources[{}] {} {}", resource.index, resource.path, method.http_method);
    let mut request_parameters = Vec::new();
    for (key, required) in &method.request_parameters {
        match parse_method_parameter(key) {
            Ok((loc, name)) => request_parameters.push((loc, name, required.value)),
            Err(e) => out.at(required.pos, format!("{base} requestParameters[{key:?}]"), e),
        }
    }
    let mut validation = None;
    if let Some(v) = &method.request_validator_id {
        match doc.request_validators.iter().find(|rv| rv.id == v.value) {
            Some(rv) => {
                let body_models = if rv.validate_request_body {
                    method
                        .request_models
                        .iter()
                        .filter_map(|(ct, name)| models.get(&name.value).map(|m| (ct.clone(), m.clone())))
                        .collect()
                } else {
                    Vec::new()
                };
                validation = Some(Validation { parameters: rv.validate_request_parameters, body_models });
            }
            None => out.at(
                v.pos,
                format!("{base} requestValidatorId"),
                format!("no requestValidators entry has the id {:?}", v.value),
            ),
        }
    }
    for (content_type, model) in &method.request_models {
        if !doc.models.iter().any(|m| m.name == model.value) && model.value != "Empty" && model.value != "Error" {
            out.at(
                model.pos,
                format!("{base} requestModels[{content_type:?}]"),
                format!("no models entry has the name {:?}", model.value),
            );
        }
    }
    let mut method_responses = Vec::new();
    for (key, mr) in &method.method_responses {
        let Some(status) = status_code(&mr.status_code) else {
            continue;
        };
        let mut headers = Vec::new();
        for (target, flag) in &mr.response_parameters {
            match parse_header_target(target, "method.response.header.") {
                Ok(h) => headers.push(h),
                Err(e) => {
                    out.at(flag.pos, format!("{base} methodResponses[{key:?}].responseParameters[{target:?}]"), e)
                }
            }
        }
        method_responses.push(MethodResponsePlan { status, headers });
    }
    let Some(integration) = &method.method_integration else {
        if method.integration_written {
            return None;
        }
        out.at(
            method.pos,
            format!("{base} methodIntegration"),
            "is required (AWS refuses to deploy a method without an integration)",
        );
        return None;
    };
    let integration = compile_integration(
        doc,
        integration,
        &format!("{base} methodIntegration"),
        &request_parameters,
        &method_responses,
        out,
    )?;
    Some(MethodPlan {
        resource_id: resource.id.as_str().into(),
        resource_path: resource.path.as_str().into(),
        http_method: method.http_method.clone(),
        request_parameters,
        validation,
        integration,
        method_responses,
    })
}

fn status_code(text: &str) -> Option<StatusCode> {
    text.parse::<u16>().ok().and_then(|s| StatusCode::from_u16(s).ok())
}

fn compile_integration(
    doc: &Document,
    integration: &Integration,
    base: &str,
    declared: &[(RequestLocation, String, bool)],
    method_responses: &[MethodResponsePlan],
    out: &mut Collector,
) -> Option<IntegrationPlan> {
    let kind = integration.kind;
    if matches!(kind, IntegrationType::Aws | IntegrationType::AwsProxy) {
        if doc.lambda.is_none() {
            out.at(
                integration.pos,
                format!("{base}.type"),
                "Lambda integrations need `lambda.endpoint` (where the Lambda Invoke API is served)",
            );
        }
        if kind == IntegrationType::AwsProxy && integration.http_method.as_deref().is_some_and(|m| m != "POST") {
            // AWS accepts this and fails every request with 500, as Portico does at run time.
            tracing::debug!("{base}: AWS_PROXY with httpMethod other than POST");
        }
    }
    let uri = integration.uri.as_ref().and_then(|u| compile_uri(kind, u, &format!("{base}.uri"), out));
    let lambda_function = match (&uri, kind) {
        (Some(u), IntegrationType::Aws | IntegrationType::AwsProxy) if !u.uses_stage_variables() => {
            crate::integration::lambda::function_of(&u.render(|_| None, |_| None)).ok()
        }
        _ => None,
    };
    let http_method = match integration.http_method.as_deref() {
        None | Some("ANY") => None,
        Some(m) => Method::from_bytes(m.as_bytes()).ok(),
    };
    if let Some(id) = &integration.connection_id {
        let literal = !id.value.contains("${");
        if integration.connection_type == ConnectionType::VpcLink
            && literal
            && !doc.vpc_links.iter().any(|l| l.id == id.value)
        {
            out.at(id.pos, format!("{base}.connectionId"), format!("no vpcLinks entry has the id {:?}", id.value));
        }
    }
    let mut request_parameters = Vec::new();
    for (target, source) in &integration.request_parameters {
        let at = format!("{base}.requestParameters[{target:?}]");
        let t = parse_request_target(target);
        let s = parse_source(&source.value, Side::IntegrationRequest);
        match (t, s) {
            (Ok(t), Ok(s)) => {
                if let Source::MethodRequest(loc, name) = &s {
                    if !declared.iter().any(|(l, n, _)| l == loc && n == name) {
                        out.at(source.pos, &at, format!("{s} is not declared in the method's requestParameters"));
                    }
                }
                request_parameters.push((t, s));
            }
            (Err(e), _) | (_, Err(e)) => out.at(source.pos, &at, e),
        }
    }
    let request_templates = compile_templates(&integration.request_templates, &format!("{base}.requestTemplates"), out);
    let mut responses = Vec::new();
    let mut defaults = 0;
    for ir in &integration.integration_responses {
        let at = format!("{base}.integrationResponses[{:?}]", ir.key);
        let Some(status) = status_code(&ir.status_code) else {
            continue;
        };
        let pattern = match &ir.selection_pattern {
            Some(p) => match SelectionPattern::compile(&p.value) {
                Ok(re) => Some(re),
                Err(e) => {
                    out.at(p.pos, format!("{at}.selectionPattern"), format!("invalid regular expression: {e}"));
                    None
                }
            },
            None => {
                defaults += 1;
                if defaults > 1 {
                    out.at(
                        ir.pos,
                        &at,
                        "a second integration response without selectionPattern: only one default is allowed",
                    );
                }
                None
            }
        };
        let Some(mr) = method_responses.iter().find(|m| m.status == status) else {
            out.at(
                ir.pos,
                format!("{at}.statusCode"),
                format!("no methodResponses entry has the statusCode {:?}", ir.status_code),
            );
            continue;
        };
        let mut response_parameters = Vec::new();
        for (target, source) in &ir.response_parameters {
            let pat = format!("{at}.responseParameters[{target:?}]");
            match (
                parse_header_target(target, "method.response.header."),
                parse_source(&source.value, Side::IntegrationResponse),
            ) {
                (Ok(h), Ok(s)) => {
                    if !mr.headers.contains(&h) {
                        out.at(
                            source.pos,
                            &pat,
                            format!(
                                "{target} is not declared in methodResponses[{:?}].responseParameters",
                                ir.status_code
                            ),
                        );
                    }
                    match HeaderName::from_bytes(h.as_bytes()) {
                        Ok(name) => response_parameters.push((name, s)),
                        Err(_) => out.at(source.pos, &pat, format!("{h:?} is not a valid header name")),
                    }
                }
                (Err(e), _) | (_, Err(e)) => out.at(source.pos, &pat, e),
            }
        }
        responses.push(IntegrationResponsePlan {
            status,
            pattern,
            response_parameters,
            response_templates: compile_templates(&ir.response_templates, &format!("{at}.responseTemplates"), out),
            content_handling: ir.content_handling,
        });
    }
    let plain_http = match (kind, integration.connection_type, &uri) {
        (IntegrationType::HttpProxy, ConnectionType::Internet, Some(uri)) => uri.plain_http(),
        _ => None,
    };
    Some(IntegrationPlan {
        kind,
        http_method,
        uri,
        plain_http,
        connection_type: integration.connection_type,
        connection_id: integration.connection_id.as_ref().and_then(|id| UriTemplate::parse(&id.value).ok()),
        timeout: Duration::from_millis(integration.timeout_in_millis as u64),
        request_parameters,
        request_templates,
        passthrough_behavior: integration.passthrough_behavior,
        content_handling: integration.content_handling,
        responses,
        tls_insecure_skip_verification: integration.tls_insecure_skip_verification,
        lambda_function,
    })
}

/// Parses every template; a template that does not parse is a document problem located at
/// the template, with the line and column inside it.
fn compile_templates(templates: &[(String, Located<String>)], at: &str, out: &mut Collector) -> Templates {
    let mut compiled = Vec::new();
    for (content_type, t) in templates {
        match Template::compile(&t.value) {
            Ok(template) => compiled.push((content_type.clone(), template)),
            Err(e) => out.at(t.pos, format!("{at}[{content_type:?}]"), e.to_string()),
        }
    }
    Templates(compiled)
}

fn compile_uri(kind: IntegrationType, uri: &Located<String>, at: &str, out: &mut Collector) -> Option<UriTemplate> {
    let template = match UriTemplate::parse(&uri.value) {
        Ok(t) => t,
        Err(e) => {
            out.at(uri.pos, at, e);
            return None;
        }
    };
    match kind {
        IntegrationType::Http | IntegrationType::HttpProxy => {
            let sample = template.render(|_| Some("x"), |_| Some("x"));
            let parsed = sample.parse::<http::Uri>();
            let ok = parsed
                .as_ref()
                .is_ok_and(|u| matches!(u.scheme_str(), Some("http") | Some("https")) && u.authority().is_some());
            if !ok && !template.uses_stage_variables() {
                out.at(uri.pos, at, format!("{:?} is not an absolute http:// or https:// URL", uri.value));
                return None;
            }
        }
        IntegrationType::Aws | IntegrationType::AwsProxy => {
            let sample = template.render(|_| Some("x"), |_| Some("x"));
            if let Err(e) = crate::integration::lambda::function_of(&sample) {
                out.at(uri.pos, at, e);
                return None;
            }
        }
        IntegrationType::Mock => {}
    }
    Some(template)
}
