//! Reading the API definition document into its model: AWS's field names, enums and
//! defaults, resources given by `path` or by `id`/`parentId`/`pathPart`, every problem kept.

use super::model::*;
use super::problem::{child, Collector, Problem};
use super::reader::{Obj, Reader};
use super::resources::{resolve_resources, RawResource};
use super::source::{self, Node};

/// Reads a document. The model is returned even when problems were found, so that the
/// compiler can look for more; it must not be served unless the list is empty.
pub fn load(text: &str, is_json: bool) -> (Document, Vec<Problem>) {
    let root = match source::parse(text, is_json) {
        Ok(root) => root,
        Err(e) => {
            let what = if is_json { "JSON" } else { "YAML" };
            let problem = Problem {
                pos: Some(e.pos),
                path: "document".into(),
                message: format!("invalid {what}: {}", e.message),
            };
            return (Document::default(), vec![problem]);
        }
    };
    let mut r = Reader::new();
    let mut warnings = Collector::default();
    let root = if super::openapi::is_openapi(&root) {
        super::openapi::to_native(&root, &mut r.out, &mut warnings)
    } else {
        root
    };
    let mut doc = read_document(&mut r, &root);
    doc.warnings = warnings.problems;
    (doc, r.out.problems)
}

fn read_document(r: &mut Reader, root: &Node) -> Document {
    let mut doc = Document::default();
    let Some(mut top) = r.obj(root, "") else {
        r.out.at(root.pos, "document", "the document must be a map with `restApi` and `resources`");
        return doc;
    };
    match top.get("restApi") {
        Some(n) => doc.rest_api = read_rest_api(r, n),
        None => r.out.at(root.pos, "restApi", "is required"),
    }
    if let Some(n) = top.get("resources") {
        let raw: Vec<RawResource> =
            r.items(n, "resources").iter().enumerate().filter_map(|(i, item)| read_resource(r, item, i)).collect();
        doc.resources = resolve_resources(r, raw);
    }
    if let Some(n) = top.get("stages") {
        doc.stages = r.items(n, "stages").iter().enumerate().filter_map(|(i, s)| read_stage(r, s, i)).collect();
    }
    if let Some(n) = top.get("vpcLinks") {
        doc.vpc_links = r.items(n, "vpcLinks").iter().enumerate().filter_map(|(i, s)| read_vpc_link(r, s, i)).collect();
    }
    if let Some(n) = top.get("gatewayResponses") {
        doc.gateway_responses = r
            .items(n, "gatewayResponses")
            .iter()
            .enumerate()
            .filter_map(|(i, s)| read_gateway_response(r, s, i))
            .collect();
    }
    if let Some(n) = top.get("models") {
        doc.models = r.items(n, "models").iter().enumerate().filter_map(|(i, s)| read_model(r, s, i)).collect();
    }
    if let Some(n) = top.get("requestValidators") {
        doc.request_validators =
            r.items(n, "requestValidators").iter().enumerate().filter_map(|(i, s)| read_validator(r, s, i)).collect();
    }
    if let Some(n) = top.get("authorizers") {
        doc.authorizers =
            r.items(n, "authorizers").iter().enumerate().filter_map(|(i, s)| read_authorizer(r, s, i)).collect();
    }
    if let Some(n) = top.get("networkLoadBalancers") {
        doc.network_load_balancers =
            r.items(n, "networkLoadBalancers").iter().enumerate().filter_map(|(i, s)| read_nlb(r, s, i)).collect();
    }
    if let Some(n) = top.get("lambda") {
        if let Some(mut o) = r.obj(n, "lambda") {
            match o.get("endpoint") {
                Some(e) => {
                    if let Some(endpoint) = r.string(e, "lambda.endpoint") {
                        doc.lambda = Some(LambdaSettings { endpoint });
                    }
                }
                None => r.out.at(o.pos, "lambda.endpoint", "is required"),
            }
            r.finish(o, &[]);
        }
    }
    if let Some(n) = top.get("backendTls") {
        if let Some(mut o) = r.obj(n, "backendTls") {
            match o.get("caFile") {
                Some(f) => doc.backend_tls = r.located(f, "backendTls.caFile").map(|ca_file| BackendTls { ca_file }),
                None => r.out.at(o.pos, "backendTls.caFile", "is required"),
            }
            r.finish(o, &[]);
        }
    }
    r.finish(top, &[]);
    doc
}

fn opt_string(r: &mut Reader, o: &mut Obj, key: &str) -> Option<String> {
    let n = o.get(key)?;
    r.string(n, &o.field(key))
}

fn opt_located(r: &mut Reader, o: &mut Obj, key: &str) -> Option<Located<String>> {
    let n = o.get(key)?;
    r.located(n, &o.field(key))
}

fn opt_bool(r: &mut Reader, o: &mut Obj, key: &str) -> Option<bool> {
    let n = o.get(key)?;
    r.boolean(n, &o.field(key))
}

fn opt_int(r: &mut Reader, o: &mut Obj, key: &str) -> Option<i64> {
    let n = o.get(key)?;
    r.integer(n, &o.field(key))
}

fn required_string(r: &mut Reader, o: &mut Obj, key: &str) -> Option<String> {
    let v = opt_string(r, o, key);
    if v.is_none() {
        r.out.at(o.pos, o.field(key), "is required");
    }
    v
}

fn read_rest_api(r: &mut Reader, n: &Node) -> RestApi {
    let mut api = RestApi::default();
    let Some(mut o) = r.obj(n, "restApi") else {
        return api;
    };
    api.name = required_string(r, &mut o, "name").unwrap_or_default();
    api.id = match o.get("id") {
        Some(idn) => match r.string(idn, "restApi.id") {
            Some(id) if valid_id(&id) => id,
            Some(id) => {
                r.out.at(idn.pos, "restApi.id", format!("must be letters and digits only, got {id:?}"));
                id
            }
            None => String::new(),
        },
        None => generated_id(&api.name),
    };
    api.description = opt_string(r, &mut o, "description");
    if let Some(b) = o.get("binaryMediaTypes") {
        api.binary_media_types = r.strings(b, "restApi.binaryMediaTypes").into_iter().map(|l| l.value).collect();
    }
    api.minimum_compression_size = opt_int(r, &mut o, "minimumCompressionSize");
    if let Some(s) = o.get("apiKeySource") {
        api.api_key_source = r
            .one_of(
                s,
                "restApi.apiKeySource",
                &[("HEADER", ApiKeySource::Header), ("AUTHORIZER", ApiKeySource::Authorizer)],
            )
            .unwrap_or_default();
    }
    r.finish(o, &["endpointConfiguration", "policy", "disableExecuteApiEndpoint", "rootResourceId", "apiStatus"]);
    api
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A stable 10-character id derived from a name, so that an API without an `id` keeps the
/// same id (and `$context.apiId`) across restarts.
pub fn generated_id(seed: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut h: u64 = 0xcbf29ce484222325;
    for b in seed.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (0..10)
        .map(|_| {
            let c = ALPHABET[(h % 36) as usize] as char;
            h = (h / 36) ^ h.rotate_left(17).wrapping_mul(0x9E3779B97F4A7C15);
            c
        })
        .collect()
}

fn read_resource(r: &mut Reader, n: &Node, index: usize) -> Option<RawResource> {
    let base = format!("resources[{index}]");
    let mut o = r.obj(n, &base)?;
    let id = opt_located(r, &mut o, "id");
    let parent_id = opt_located(r, &mut o, "parentId");
    let path_part = opt_located(r, &mut o, "pathPart");
    let path = opt_located(r, &mut o, "path");
    let methods_node = o.get("resourceMethods");
    r.finish(o, &[]);
    Some(RawResource { index, pos: n.pos, id, parent_id, path_part, path, methods_node: methods_node.cloned() })
}

const VERBS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"];

/// Reads `resourceMethods` once the resource's path is known, so that problems name it.
pub fn read_methods(r: &mut Reader, n: &Node, base: &str) -> Vec<Method> {
    let path = format!("{base} resourceMethods");
    if r.obj(n, &path).is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let source::Value::Map(entries) = &n.value {
        for (key, value) in entries {
            if !VERBS.contains(&key.text.as_str()) {
                r.out.at(
                    key.pos,
                    child(&path, &key.text),
                    format!("unknown HTTP method; must be one of {}", VERBS.join(", ")),
                );
                continue;
            }
            if let Some(m) = read_method(r, value, &format!("{base} {}", key.text), &key.text) {
                out.push(m);
            }
        }
    }
    out
}

fn read_method(r: &mut Reader, n: &Node, base: &str, verb: &str) -> Option<Method> {
    let mut o = r.obj(n, base)?;
    // `Obj` paths for fields of a method read as `resources[0] /pets GET requestParameters`.
    o.path = format!("{base} ");
    if let Some(h) = o.get("httpMethod") {
        if let Some(m) = r.string(h, &format!("{base} httpMethod")) {
            if m != verb {
                r.out.at(h.pos, format!("{base} httpMethod"), format!("{m:?} does not match its key {verb:?}"));
            }
        }
    }
    let authorization_type = match o.get("authorizationType") {
        Some(a) => r
            .one_of(
                a,
                &format!("{base} authorizationType"),
                &[
                    ("NONE", AuthorizationType::None),
                    ("AWS_IAM", AuthorizationType::AwsIam),
                    ("CUSTOM", AuthorizationType::Custom),
                    ("COGNITO_USER_POOLS", AuthorizationType::CognitoUserPools),
                ],
            )
            .unwrap_or(AuthorizationType::None),
        None => AuthorizationType::None,
    };
    let field = |k: &str| format!("{base} {k}");
    let field = &field;
    let authorizer_id = o.get("authorizerId").and_then(|x| r.string(x, &field("authorizerId")));
    let api_key_required =
        o.get("apiKeyRequired").and_then(|x| r.boolean(x, &field("apiKeyRequired"))).unwrap_or(false);
    let request_validator_id = o.get("requestValidatorId").and_then(|x| r.located(x, &field("requestValidatorId")));
    let operation_name = o.get("operationName").and_then(|x| r.string(x, &field("operationName")));
    let request_parameters =
        o.get("requestParameters").map(|x| r.bool_map(x, &field("requestParameters"))).unwrap_or_default();
    let request_models = o.get("requestModels").map(|x| r.string_map(x, &field("requestModels"))).unwrap_or_default();
    let method_responses = match o.get("methodResponses") {
        Some(x) => r.map_of(x, &field("methodResponses"), read_method_response),
        None => Vec::new(),
    };
    let integration_node = o.get("methodIntegration");
    let integration_written = integration_node.is_some();
    let method_integration = integration_node.and_then(|x| read_integration(r, x, &field("methodIntegration")));
    let pos = o.pos;
    r.finish(o, &["authorizationScopes"]);
    for (key, resp) in &method_responses {
        if *key != resp.status_code {
            r.out.add(
                None,
                format!("{} methodResponses[{key:?}].statusCode", base),
                format!("{:?} must equal its key {key:?}", resp.status_code),
            );
        }
    }
    Some(Method {
        http_method: verb.to_string(),
        authorization_type,
        authorizer_id,
        api_key_required,
        request_validator_id,
        operation_name,
        request_parameters,
        request_models,
        method_responses,
        method_integration,
        integration_written,
        pos,
    })
}

fn read_method_response(r: &mut Reader, n: &Node, path: &str) -> Option<MethodResponse> {
    let mut o = r.obj(n, path)?;
    let status_code = required_string(r, &mut o, "statusCode")?;
    check_status(r, &o, "statusCode", &status_code);
    let response_parameters =
        o.get("responseParameters").map(|x| r.bool_map(x, &child(path, "responseParameters"))).unwrap_or_default();
    let response_models = o
        .get("responseModels")
        .map(|x| r.string_map(x, &child(path, "responseModels")).into_iter().map(|(k, v)| (k, v.value)).collect())
        .unwrap_or_default();
    r.finish(o, &[]);
    Some(MethodResponse { status_code, response_parameters, response_models })
}

fn check_status(r: &mut Reader, o: &Obj, key: &str, status: &str) {
    let ok = status.len() == 3 && status.parse::<u16>().is_ok_and(|s| (100..=599).contains(&s));
    if !ok {
        r.out.at(o.pos, o.field(key), format!("must be an HTTP status code from 100 to 599, got {status:?}"));
    }
}

const CONTENT_HANDLING: &[(&str, ContentHandling)] =
    &[("CONVERT_TO_TEXT", ContentHandling::ConvertToText), ("CONVERT_TO_BINARY", ContentHandling::ConvertToBinary)];

fn read_integration(r: &mut Reader, n: &Node, path: &str) -> Option<Integration> {
    let mut o = r.obj(n, path)?;
    let kind_node = o.get("type");
    let kind = match kind_node {
        Some(t) => r.one_of(
            t,
            &o.field("type"),
            &[
                ("HTTP", IntegrationType::Http),
                ("HTTP_PROXY", IntegrationType::HttpProxy),
                ("MOCK", IntegrationType::Mock),
                ("AWS", IntegrationType::Aws),
                ("AWS_PROXY", IntegrationType::AwsProxy),
            ],
        ),
        None => {
            r.out.at(o.pos, o.field("type"), "is required (HTTP, HTTP_PROXY, MOCK, AWS or AWS_PROXY)");
            None
        }
    };
    let http_method = opt_string(r, &mut o, "httpMethod");
    if let Some(m) = &http_method {
        if !VERBS.contains(&m.as_str()) {
            r.out.at(
                o.pos,
                o.field("httpMethod"),
                format!("unknown HTTP method {m:?}; must be one of {}", VERBS.join(", ")),
            );
        }
    }
    let uri = opt_located(r, &mut o, "uri");
    let connection_type = match o.get("connectionType") {
        Some(c) => r
            .one_of(
                c,
                &o.field("connectionType"),
                &[("INTERNET", ConnectionType::Internet), ("VPC_LINK", ConnectionType::VpcLink)],
            )
            .unwrap_or_default(),
        None => ConnectionType::Internet,
    };
    let connection_id = opt_located(r, &mut o, "connectionId");
    let credentials = opt_string(r, &mut o, "credentials");
    let request_parameters =
        o.get("requestParameters").map(|x| r.string_map(x, &child(path, "requestParameters"))).unwrap_or_default();
    let request_templates =
        o.get("requestTemplates").map(|x| r.string_map(x, &child(path, "requestTemplates"))).unwrap_or_default();
    let passthrough_behavior = match o.get("passthroughBehavior") {
        Some(p) => r
            .one_of(
                p,
                &o.field("passthroughBehavior"),
                &[
                    ("WHEN_NO_MATCH", PassthroughBehavior::WhenNoMatch),
                    ("WHEN_NO_TEMPLATES", PassthroughBehavior::WhenNoTemplates),
                    ("NEVER", PassthroughBehavior::Never),
                ],
            )
            .unwrap_or_default(),
        None => PassthroughBehavior::WhenNoMatch,
    };
    let content_handling =
        o.get("contentHandling").and_then(|c| r.one_of(c, &o.field("contentHandling"), CONTENT_HANDLING));
    let timeout_node = o.get("timeoutInMillis");
    let mut timeout_in_millis = DEFAULT_TIMEOUT_MILLIS;
    if let Some(t) = timeout_node {
        if let Some(v) = r.integer(t, &o.field("timeoutInMillis")) {
            if v < MIN_TIMEOUT_MILLIS as i64 || v > DEFAULT_TIMEOUT_MILLIS as i64 {
                r.out.at(
                    t.pos,
                    o.field("timeoutInMillis"),
                    format!("must be between {MIN_TIMEOUT_MILLIS} and {DEFAULT_TIMEOUT_MILLIS}, got {v}"),
                );
            } else {
                timeout_in_millis = v as u32;
            }
        }
    }
    let cache_namespace = opt_string(r, &mut o, "cacheNamespace");
    let cache_key_parameters = o
        .get("cacheKeyParameters")
        .map(|x| r.strings(x, &o.field("cacheKeyParameters")).into_iter().map(|l| l.value).collect())
        .unwrap_or_default();
    let mut tls_insecure_skip_verification = false;
    if let Some(t) = o.get("tlsConfig") {
        let tp = o.field("tlsConfig");
        if let Some(mut tc) = r.obj(t, &tp) {
            tls_insecure_skip_verification = opt_bool(r, &mut tc, "insecureSkipVerification").unwrap_or(false);
            r.finish(tc, &[]);
        }
    }
    let integration_responses = match o.get("integrationResponses") {
        Some(x) => {
            let ir_path = o.field("integrationResponses");
            r.map_of(x, &ir_path, read_integration_response)
                .into_iter()
                .map(|(key, mut ir)| {
                    ir.key = key;
                    ir
                })
                .collect()
        }
        None => Vec::new(),
    };
    let pos = o.pos;
    r.finish(o, &["integrationTarget"]);
    let kind = kind?;
    let at = |k: &str| child(path, k);
    if matches!(
        kind,
        IntegrationType::Http | IntegrationType::HttpProxy | IntegrationType::Aws | IntegrationType::AwsProxy
    ) {
        if uri.is_none() {
            r.out.at(pos, at("uri"), "is required for this integration type");
        }
        if http_method.is_none() {
            r.out.at(pos, at("httpMethod"), "is required for this integration type");
        }
    }
    if connection_type == ConnectionType::VpcLink {
        if connection_id.is_none() {
            r.out.at(pos, at("connectionId"), "is required when connectionType is VPC_LINK");
        }
        if !matches!(kind, IntegrationType::Http | IntegrationType::HttpProxy) {
            r.out.at(pos, at("connectionType"), "VPC_LINK is only for HTTP and HTTP_PROXY integrations");
        }
    }
    for ir in &integration_responses {
        if ir.key != ir.status_code {
            r.out.at(
                ir.pos,
                format!("{}[{:?}].statusCode", at("integrationResponses"), ir.key),
                format!("{:?} must equal its key {:?}", ir.status_code, ir.key),
            );
        }
    }
    Some(Integration {
        kind,
        http_method,
        uri,
        connection_type,
        connection_id,
        credentials,
        request_parameters,
        request_templates,
        passthrough_behavior,
        content_handling,
        timeout_in_millis,
        cache_namespace,
        cache_key_parameters,
        integration_responses,
        tls_insecure_skip_verification,
        pos,
    })
}

fn read_integration_response(r: &mut Reader, n: &Node, path: &str) -> Option<IntegrationResponse> {
    let mut o = r.obj(n, path)?;
    let status_code = required_string(r, &mut o, "statusCode")?;
    check_status(r, &o, "statusCode", &status_code);
    let selection_pattern = opt_located(r, &mut o, "selectionPattern").filter(|p| !p.value.is_empty());
    let response_parameters =
        o.get("responseParameters").map(|x| r.string_map(x, &child(path, "responseParameters"))).unwrap_or_default();
    let response_templates =
        o.get("responseTemplates").map(|x| r.string_map(x, &child(path, "responseTemplates"))).unwrap_or_default();
    let content_handling =
        o.get("contentHandling").and_then(|c| r.one_of(c, &o.field("contentHandling"), CONTENT_HANDLING));
    let pos = o.pos;
    r.finish(o, &[]);
    Some(IntegrationResponse {
        key: String::new(),
        status_code,
        selection_pattern,
        response_parameters,
        response_templates,
        content_handling,
        pos,
    })
}

fn read_stage(r: &mut Reader, n: &Node, i: usize) -> Option<Stage> {
    let base = format!("stages[{i}]");
    let mut o = r.obj(n, &base)?;
    let mut stage = Stage { pos: n.pos, ..Stage::default() };
    stage.stage_name = required_string(r, &mut o, "stageName").unwrap_or_default();
    let name_ok = !stage.stage_name.is_empty()
        && stage.stage_name.len() <= 128
        && stage.stage_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_ok && !stage.stage_name.is_empty() {
        r.out.at(
            n.pos,
            format!("{base}.stageName"),
            format!("must be letters, digits, '-' and '_' (at most 128), got {:?}", stage.stage_name),
        );
    }
    stage.description = opt_string(r, &mut o, "description");
    stage.deployment_id = opt_string(r, &mut o, "deploymentId");
    if let Some(v) = o.get("variables") {
        for (k, val) in r.string_map(v, &format!("{base}.variables")) {
            stage.variables.insert(k, val.value);
        }
    }
    if let Some(ms) = o.get("methodSettings") {
        stage.method_settings = r.map_of(ms, &format!("{base}.methodSettings"), read_method_setting);
    }
    if let Some(al) = o.get("accessLogSettings") {
        if let Some(mut a) = r.obj(al, &format!("{base}.accessLogSettings")) {
            let format = opt_string(r, &mut a, "format");
            let destination_arn = opt_string(r, &mut a, "destinationArn");
            r.finish(a, &[]);
            stage.access_log_settings = Some(AccessLogSettings { format, destination_arn });
        }
    }
    r.finish(
        o,
        &[
            "clientCertificateId",
            "cacheClusterEnabled",
            "cacheClusterSize",
            "cacheClusterStatus",
            "tracingEnabled",
            "webAclArn",
            "canarySettings",
            "documentationVersion",
        ],
    );
    Some(stage)
}

fn read_method_setting(r: &mut Reader, n: &Node, path: &str) -> Option<MethodSetting> {
    let mut o = r.obj(n, path)?;
    let s = MethodSetting {
        throttling_rate_limit: o
            .get("throttlingRateLimit")
            .and_then(|x| r.number(x, &child(path, "throttlingRateLimit"))),
        throttling_burst_limit: opt_int(r, &mut o, "throttlingBurstLimit"),
        logging_level: opt_string(r, &mut o, "loggingLevel"),
        metrics_enabled: opt_bool(r, &mut o, "metricsEnabled").unwrap_or(false),
        data_trace_enabled: opt_bool(r, &mut o, "dataTraceEnabled").unwrap_or(false),
        caching_enabled: opt_bool(r, &mut o, "cachingEnabled").unwrap_or(false),
        cache_ttl_in_seconds: opt_int(r, &mut o, "cacheTtlInSeconds"),
    };
    r.finish(
        o,
        &["cacheDataEncrypted", "requireAuthorizationForCacheControl", "unauthorizedCacheControlHeaderStrategy"],
    );
    Some(s)
}

fn read_vpc_link(r: &mut Reader, n: &Node, i: usize) -> Option<VpcLink> {
    let base = format!("vpcLinks[{i}]");
    let mut o = r.obj(n, &base)?;
    let id = required_string(r, &mut o, "id")?;
    let name = opt_string(r, &mut o, "name").unwrap_or_else(|| id.clone());
    let description = opt_string(r, &mut o, "description");
    let target_arns = o.get("targetArns").map(|t| r.strings(t, &format!("{base}.targetArns"))).unwrap_or_default();
    let status = match o.get("status") {
        Some(s) => r
            .one_of(
                s,
                &format!("{base}.status"),
                &[
                    ("AVAILABLE", VpcLinkStatus::Available),
                    ("PENDING", VpcLinkStatus::Pending),
                    ("DELETING", VpcLinkStatus::Deleting),
                    ("FAILED", VpcLinkStatus::Failed),
                ],
            )
            .unwrap_or_default(),
        None => VpcLinkStatus::Available,
    };
    let status_message = opt_string(r, &mut o, "statusMessage");
    r.finish(o, &[]);
    Some(VpcLink { id, name, description, target_arns, status, status_message, pos: n.pos })
}

fn read_gateway_response(r: &mut Reader, n: &Node, i: usize) -> Option<GatewayResponse> {
    let base = format!("gatewayResponses[{i}]");
    let mut o = r.obj(n, &base)?;
    let response_type = required_string(r, &mut o, "responseType")?;
    let status_code = opt_string(r, &mut o, "statusCode");
    if let Some(s) = &status_code {
        check_status(r, &o, "statusCode", s);
    }
    let response_parameters =
        o.get("responseParameters").map(|x| r.string_map(x, &format!("{base}.responseParameters"))).unwrap_or_default();
    let response_templates =
        o.get("responseTemplates").map(|x| r.string_map(x, &format!("{base}.responseTemplates"))).unwrap_or_default();
    r.finish(o, &["defaultResponse"]);
    Some(GatewayResponse { response_type, status_code, response_parameters, response_templates, pos: n.pos })
}

fn read_model(r: &mut Reader, n: &Node, i: usize) -> Option<Model> {
    let base = format!("models[{i}]");
    let mut o = r.obj(n, &base)?;
    let id = opt_string(r, &mut o, "id");
    let name = required_string(r, &mut o, "name")?;
    let description = opt_string(r, &mut o, "description");
    let content_type = opt_string(r, &mut o, "contentType").unwrap_or_else(|| "application/json".into());
    let schema = o.get("schema").and_then(|s| match &s.value {
        source::Value::Str(text) => match serde_json::from_str(text) {
            Ok(v) => Some(Located { value: v, pos: s.pos }),
            Err(e) => {
                r.out.at(s.pos, format!("{base}.schema"), format!("is not valid JSON: {e}"));
                None
            }
        },
        _ => Some(Located { value: s.to_json(), pos: s.pos }),
    });
    r.finish(o, &[]);
    Some(Model { id, name, description, content_type, schema, pos: n.pos })
}

fn read_validator(r: &mut Reader, n: &Node, i: usize) -> Option<RequestValidator> {
    let base = format!("requestValidators[{i}]");
    let mut o = r.obj(n, &base)?;
    let id = required_string(r, &mut o, "id")?;
    let name = opt_string(r, &mut o, "name");
    let validate_request_body = opt_bool(r, &mut o, "validateRequestBody").unwrap_or(false);
    let validate_request_parameters = opt_bool(r, &mut o, "validateRequestParameters").unwrap_or(false);
    r.finish(o, &[]);
    Some(RequestValidator { id, name, validate_request_body, validate_request_parameters })
}

fn read_authorizer(r: &mut Reader, n: &Node, i: usize) -> Option<Authorizer> {
    let base = format!("authorizers[{i}]");
    let mut o = r.obj(n, &base)?;
    let id = required_string(r, &mut o, "id")?;
    let name = opt_string(r, &mut o, "name").unwrap_or_else(|| id.clone());
    let kind = match o.get("type") {
        Some(t) => r
            .one_of(
                t,
                &format!("{base}.type"),
                &[("TOKEN", "TOKEN"), ("REQUEST", "REQUEST"), ("COGNITO_USER_POOLS", "COGNITO_USER_POOLS")],
            )
            .unwrap_or("TOKEN")
            .to_string(),
        None => {
            r.out.at(n.pos, format!("{base}.type"), "is required (TOKEN, REQUEST or COGNITO_USER_POOLS)");
            String::new()
        }
    };
    let a = Authorizer {
        id,
        name,
        kind,
        authorizer_uri: opt_string(r, &mut o, "authorizerUri"),
        identity_source: opt_string(r, &mut o, "identitySource"),
        identity_validation_expression: opt_string(r, &mut o, "identityValidationExpression"),
        authorizer_result_ttl_in_seconds: opt_int(r, &mut o, "authorizerResultTtlInSeconds"),
        provider_arns: o
            .get("providerARNs")
            .map(|p| r.strings(p, &format!("{base}.providerARNs")).into_iter().map(|l| l.value).collect())
            .unwrap_or_default(),
        authorizer_credentials: opt_string(r, &mut o, "authorizerCredentials"),
        pos: n.pos,
    };
    r.finish(o, &["authType"]);
    Some(a)
}

fn read_nlb(r: &mut Reader, n: &Node, i: usize) -> Option<NetworkLoadBalancer> {
    let base = format!("networkLoadBalancers[{i}]");
    let mut o = r.obj(n, &base)?;
    let arn = required_string(r, &mut o, "arn")?;
    let mut listeners = Vec::new();
    if let Some(ls) = o.get("listeners") {
        for (j, l) in r.items(ls, &format!("{base}.listeners")).iter().enumerate() {
            let lp = format!("{base}.listeners[{j}]");
            let Some(mut lo) = r.obj(l, &lp) else {
                continue;
            };
            let port = opt_int(r, &mut lo, "port");
            let targets: Vec<String> = lo
                .get("targets")
                .map(|t| r.strings(t, &format!("{lp}.targets")))
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.value)
                .collect();
            let health_check = lo.get("healthCheck").and_then(|h| {
                let hp = format!("{lp}.healthCheck");
                let mut ho = r.obj(h, &hp)?;
                let protocol = match ho.get("protocol") {
                    Some(p) => {
                        r.one_of(p, &format!("{hp}.protocol"), &[("TCP", "TCP"), ("HTTP", "HTTP")]).unwrap_or("TCP")
                    }
                    None => "TCP",
                }
                .to_string();
                let hc = HealthCheck {
                    protocol,
                    path: opt_string(r, &mut ho, "path"),
                    interval_seconds: opt_int(r, &mut ho, "intervalSeconds").unwrap_or(10).clamp(1, 3600) as u32,
                    timeout_seconds: opt_int(r, &mut ho, "timeoutSeconds").unwrap_or(5).clamp(1, 3600) as u32,
                };
                r.finish(ho, &[]);
                Some(hc)
            });
            match port {
                Some(p) if (1..=65535).contains(&p) => {
                    listeners.push(Listener { port: p as u16, targets, health_check })
                }
                Some(p) => r.out.at(l.pos, format!("{lp}.port"), format!("must be a port from 1 to 65535, got {p}")),
                None => r.out.at(l.pos, format!("{lp}.port"), "is required"),
            }
            r.finish(lo, &[]);
        }
    }
    r.finish(o, &[]);
    Some(NetworkLoadBalancer { arn, listeners, pos: n.pos })
}
