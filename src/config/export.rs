//! Writing a document out again: a native document as OpenAPI 3 with API Gateway's
//! extensions (for `aws apigateway import-rest-api`), and any document in the native format.

use super::model::*;
use super::source::Node;
use serde_json::{json, Map, Value};

fn ordered<T>(items: &[(String, T)], f: impl Fn(&T) -> Value) -> Value {
    Value::Object(items.iter().map(|(k, v)| (k.clone(), f(v))).collect())
}

fn integration(i: &Integration) -> Value {
    let kind = match i.kind {
        IntegrationType::Http => "http",
        IntegrationType::HttpProxy => "http_proxy",
        IntegrationType::Mock => "mock",
        IntegrationType::Aws => "aws",
        IntegrationType::AwsProxy => "aws_proxy",
    };
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    if let Some(h) = &i.http_method {
        m.insert("httpMethod".into(), json!(h));
    }
    if let Some(u) = &i.uri {
        m.insert("uri".into(), json!(u.value));
    }
    if i.connection_type == ConnectionType::VpcLink {
        m.insert("connectionType".into(), json!("VPC_LINK"));
    }
    if let Some(c) = &i.connection_id {
        m.insert("connectionId".into(), json!(c.value));
    }
    if let Some(c) = &i.credentials {
        m.insert("credentials".into(), json!(c));
    }
    if !i.request_parameters.is_empty() {
        m.insert("requestParameters".into(), ordered(&i.request_parameters, |v| json!(v.value)));
    }
    if !i.request_templates.is_empty() {
        m.insert("requestTemplates".into(), ordered(&i.request_templates, |v| json!(v.value)));
    }
    let passthrough = match i.passthrough_behavior {
        PassthroughBehavior::WhenNoMatch => "when_no_match",
        PassthroughBehavior::WhenNoTemplates => "when_no_templates",
        PassthroughBehavior::Never => "never",
    };
    m.insert("passthroughBehavior".into(), json!(passthrough));
    if let Some(c) = i.content_handling {
        m.insert("contentHandling".into(), json!(content_handling(c)));
    }
    m.insert("timeoutInMillis".into(), json!(i.timeout_in_millis));
    if let Some(c) = &i.cache_namespace {
        m.insert("cacheNamespace".into(), json!(c));
    }
    if !i.cache_key_parameters.is_empty() {
        m.insert("cacheKeyParameters".into(), json!(i.cache_key_parameters));
    }
    if i.tls_insecure_skip_verification {
        m.insert("tlsConfig".into(), json!({"insecureSkipVerification": true}));
    }
    let mut responses = Map::new();
    for ir in &i.integration_responses {
        let mut r = Map::new();
        r.insert("statusCode".into(), json!(ir.status_code));
        if !ir.response_parameters.is_empty() {
            r.insert("responseParameters".into(), ordered(&ir.response_parameters, |v| json!(v.value)));
        }
        if !ir.response_templates.is_empty() {
            r.insert("responseTemplates".into(), ordered(&ir.response_templates, |v| json!(v.value)));
        }
        if let Some(c) = ir.content_handling {
            r.insert("contentHandling".into(), json!(content_handling(c)));
        }
        let key = ir.selection_pattern.as_ref().map_or_else(|| "default".to_string(), |p| p.value.clone());
        responses.insert(key, Value::Object(r));
    }
    m.insert("responses".into(), Value::Object(responses));
    Value::Object(m)
}

fn content_handling(c: ContentHandling) -> &'static str {
    match c {
        ContentHandling::ConvertToText => "CONVERT_TO_TEXT",
        ContentHandling::ConvertToBinary => "CONVERT_TO_BINARY",
    }
}

fn operation(m: &Method) -> Value {
    let mut op = Map::new();
    let mut parameters = Vec::new();
    for (key, required) in &m.request_parameters {
        let Some(rest) = key.strip_prefix("method.request.") else { continue };
        let Some((location, name)) = rest.split_once('.') else { continue };
        let location = match location {
            "path" => "path",
            "querystring" | "multivaluequerystring" => "query",
            "header" | "multivalueheader" => "header",
            _ => continue,
        };
        parameters.push(json!({"name": name, "in": location, "required": required.value || location == "path", "schema": {"type": "string"}}));
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if !m.request_models.is_empty() {
        let content: Map<String, Value> = m
            .request_models
            .iter()
            .map(|(ct, model)| {
                (ct.clone(), json!({"schema": {"$ref": format!("#/components/schemas/{}", model.value)}}))
            })
            .collect();
        op.insert("requestBody".into(), json!({"content": content}));
    }
    let mut responses = Map::new();
    for (status, mr) in &m.method_responses {
        let headers: Map<String, Value> = mr
            .response_parameters
            .iter()
            .filter_map(|(k, _)| {
                k.strip_prefix("method.response.header.")
                    .map(|h| (h.to_string(), json!({"schema": {"type": "string"}})))
            })
            .collect();
        let mut r = json!({"description": format!("{status} response")});
        if !headers.is_empty() {
            r["headers"] = Value::Object(headers);
        }
        responses.insert(status.clone(), r);
    }
    op.insert("responses".into(), Value::Object(responses));
    if let Some(v) = &m.request_validator_id {
        op.insert("x-amazon-apigateway-request-validator".into(), json!(v.value));
    }
    if let Some(i) = &m.method_integration {
        op.insert("x-amazon-apigateway-integration".into(), integration(i));
    }
    Value::Object(op)
}

fn stage(s: &Stage) -> Value {
    let mut m = Map::new();
    m.insert("stageName".into(), json!(s.stage_name));
    if !s.variables.is_empty() {
        m.insert("variables".into(), json!(s.variables));
    }
    if let Some(d) = &s.deployment_id {
        m.insert("deploymentId".into(), json!(d));
    }
    if !s.method_settings.is_empty() {
        m.insert(
            "methodSettings".into(),
            ordered(&s.method_settings, |ms| {
                let mut o = Map::new();
                if let Some(r) = ms.throttling_rate_limit {
                    o.insert("throttlingRateLimit".into(), json!(r));
                }
                if let Some(b) = ms.throttling_burst_limit {
                    o.insert("throttlingBurstLimit".into(), json!(b));
                }
                Value::Object(o)
            }),
        );
    }
    if let Some(a) = &s.access_log_settings {
        m.insert("accessLogSettings".into(), json!({"format": a.format, "destinationArn": a.destination_arn}));
    }
    Value::Object(m)
}

/// A native document as OpenAPI 3.0 with API Gateway's extensions; Portico's own settings
/// travel as `x-portico-*` keys.
pub fn to_openapi(doc: &Document) -> Value {
    let mut paths = Map::new();
    for r in &doc.resources {
        if r.resource_methods.is_empty() {
            continue;
        }
        let mut item = Map::new();
        for m in &r.resource_methods {
            let key = if m.http_method == "ANY" {
                "x-amazon-apigateway-any-method".to_string()
            } else {
                m.http_method.to_lowercase()
            };
            item.insert(key, operation(m));
        }
        paths.insert(r.path.clone(), Value::Object(item));
    }
    let mut root = Map::new();
    root.insert("openapi".into(), json!("3.0.1"));
    let mut info = json!({"title": doc.rest_api.name, "version": "1.0"});
    if let Some(d) = &doc.rest_api.description {
        info["description"] = json!(d);
    }
    root.insert("info".into(), info);
    root.insert("x-portico-rest-api-id".into(), json!(doc.rest_api.id));
    root.insert("paths".into(), Value::Object(paths));
    if !doc.rest_api.binary_media_types.is_empty() {
        root.insert("x-amazon-apigateway-binary-media-types".into(), json!(doc.rest_api.binary_media_types));
    }
    if !doc.models.is_empty() {
        let schemas: Map<String, Value> = doc
            .models
            .iter()
            .map(|m| (m.name.clone(), m.schema.as_ref().map_or(json!({}), |s| s.value.clone())))
            .collect();
        root.insert("components".into(), json!({"schemas": schemas}));
    }
    if !doc.request_validators.is_empty() {
        let v: Map<String, Value> = doc
            .request_validators
            .iter()
            .map(|v| {
                (v.id.clone(), json!({"validateRequestBody": v.validate_request_body, "validateRequestParameters": v.validate_request_parameters}))
            })
            .collect();
        root.insert("x-amazon-apigateway-request-validators".into(), Value::Object(v));
    }
    if !doc.gateway_responses.is_empty() {
        let g: Map<String, Value> = doc
            .gateway_responses
            .iter()
            .map(|g| {
                let mut o = Map::new();
                if let Some(s) = &g.status_code {
                    o.insert("statusCode".into(), json!(s));
                }
                if !g.response_parameters.is_empty() {
                    o.insert("responseParameters".into(), ordered(&g.response_parameters, |v| json!(v.value)));
                }
                if !g.response_templates.is_empty() {
                    o.insert("responseTemplates".into(), ordered(&g.response_templates, |v| json!(v.value)));
                }
                (g.response_type.clone(), Value::Object(o))
            })
            .collect();
        root.insert("x-amazon-apigateway-gateway-responses".into(), Value::Object(g));
    }
    if !doc.stages.is_empty() {
        root.insert("x-portico-stages".into(), Value::Array(doc.stages.iter().map(stage).collect()));
    }
    if !doc.vpc_links.is_empty() {
        let links: Vec<Value> = doc
            .vpc_links
            .iter()
            .map(|l| {
                let status = match l.status {
                    VpcLinkStatus::Available => "AVAILABLE",
                    VpcLinkStatus::Pending => "PENDING",
                    VpcLinkStatus::Deleting => "DELETING",
                    VpcLinkStatus::Failed => "FAILED",
                };
                json!({"id": l.id, "name": l.name, "targetArns": l.target_arns.iter().map(|a| &a.value).collect::<Vec<_>>(), "status": status})
            })
            .collect();
        root.insert("x-portico-vpc-links".into(), Value::Array(links));
    }
    if !doc.network_load_balancers.is_empty() {
        let nlbs: Vec<Value> = doc
            .network_load_balancers
            .iter()
            .map(|n| {
                let listeners: Vec<Value> = n
                    .listeners
                    .iter()
                    .map(|l| {
                        let mut o = json!({"port": l.port, "targets": l.targets});
                        if let Some(h) = &l.health_check {
                            o["healthCheck"] = json!({"protocol": h.protocol, "path": h.path, "intervalSeconds": h.interval_seconds, "timeoutSeconds": h.timeout_seconds});
                        }
                        o
                    })
                    .collect();
                json!({"arn": n.arn, "listeners": listeners})
            })
            .collect();
        root.insert("x-portico-network-load-balancers".into(), Value::Array(nlbs));
    }
    if let Some(l) = &doc.lambda {
        root.insert("x-portico-lambda".into(), json!({"endpoint": l.endpoint}));
    }
    if let Some(t) = &doc.backend_tls {
        root.insert("x-portico-backend-tls".into(), json!({"caFile": t.ca_file.value}));
    }
    Value::Object(root)
}

/// The native document a file holds (an OpenAPI file translated), as JSON.
pub fn to_native(text: &str, is_json: bool) -> Result<Value, Vec<super::problem::Problem>> {
    let root: Node = super::source::parse(text, is_json)
        .map_err(|e| vec![super::problem::Problem { pos: Some(e.pos), path: "document".into(), message: e.message }])?;
    if !super::openapi::is_openapi(&root) {
        return Ok(root.to_json());
    }
    let (mut out, mut warnings) = (super::problem::Collector::default(), super::problem::Collector::default());
    let native = super::openapi::to_native(&root, &mut out, &mut warnings);
    if out.problems.is_empty() {
        Ok(native.to_json())
    } else {
        Err(out.problems)
    }
}
