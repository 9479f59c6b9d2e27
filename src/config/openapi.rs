//! OpenAPI 3 and Swagger 2 documents with API Gateway's `x-amazon-apigateway-*` extensions
//! (what `aws apigateway get-export` writes, or a SAM `DefinitionBody`), translated into the
//! native document so that one loader checks both and problems keep their file positions.
//! Portico's own keys ride along as `x-portico-*`.

use super::problem::{child, Collector};
use super::source::{Key, Node, Pos, Value};

/// Whether the document is OpenAPI or Swagger rather than native.
pub fn is_openapi(root: &Node) -> bool {
    get(root, "openapi").is_some() || get(root, "swagger").is_some()
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => {
            entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v).filter(|v| v.value != Value::Null)
        }
        _ => None,
    }
}

fn entries(node: &Node) -> &[(Key, Node)] {
    match &node.value {
        Value::Map(e) => e,
        _ => &[],
    }
}

fn text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn s(pos: Pos, v: impl Into<String>) -> Node {
    Node { value: Value::Str(v.into()), pos }
}

fn map(pos: Pos, items: Vec<(&str, Node)>) -> Node {
    Node { value: Value::Map(items.into_iter().map(|(k, v)| (Key { text: k.to_string(), pos }, v)).collect()), pos }
}

fn map_owned(pos: Pos, items: Vec<(String, Node)>) -> Node {
    Node { value: Value::Map(items.into_iter().map(|(k, v)| (Key { text: k, pos }, v)).collect()), pos }
}

/// An AWS enum as exports write it (`http_proxy`, `when_no_match`) in the API's spelling.
fn upper(node: &Node) -> Node {
    match &node.value {
        Value::Str(v) => s(node.pos, v.to_uppercase()),
        _ => node.clone(),
    }
}

struct Translator<'a> {
    root: &'a Node,
    out: &'a mut Collector,
    warnings: &'a mut Collector,
}

impl Translator<'_> {
    /// Follows local `$ref`s (`#/components/parameters/PetId`) to what they name.
    fn deref(&mut self, node: &Node, at: &str) -> Node {
        let mut current = node.clone();
        for _ in 0..16 {
            let Some(r) = get(&current, "$ref").and_then(text).map(str::to_string) else { return current };
            let Some(pointer) = r.strip_prefix('#') else {
                self.out.at(current.pos, at, format!("$ref {r:?} points outside the document"));
                return current;
            };
            let mut target = self.root;
            for part in pointer.split('/').filter(|p| !p.is_empty()) {
                let part = part.replace("~1", "/").replace("~0", "~");
                match get(target, &part) {
                    Some(t) => target = t,
                    None => {
                        self.out.at(current.pos, at, format!("$ref {r:?} names nothing in the document"));
                        return current;
                    }
                }
            }
            current = target.clone();
        }
        current
    }

    fn integration(&mut self, node: &Node, at: &str) -> Node {
        let mut items: Vec<(String, Node)> = Vec::new();
        for (k, v) in entries(node) {
            let value = match k.text.as_str() {
                "type" | "passthroughBehavior" | "contentHandling" | "connectionType" => upper(v),
                "httpMethod" => upper(v),
                "responses" => {
                    let mut responses = Vec::new();
                    for (pattern, response) in entries(v) {
                        let mut fields: Vec<(String, Node)> = Vec::new();
                        for (rk, rv) in entries(response) {
                            let rv = if rk.text == "contentHandling" { upper(rv) } else { rv.clone() };
                            fields.push((rk.text.clone(), rv));
                        }
                        if pattern.text != "default" {
                            fields.push(("selectionPattern".into(), s(pattern.pos, pattern.text.clone())));
                        }
                        let status = get(response, "statusCode").map(|st| match &st.value {
                            Value::Int(i) => i.to_string(),
                            Value::Str(t) => t.clone(),
                            _ => String::new(),
                        });
                        match status {
                            Some(status) => responses.push((status, map_owned(response.pos, fields))),
                            None => self.out.at(
                                response.pos,
                                format!("{at}.responses[{:?}].statusCode", pattern.text),
                                "is required",
                            ),
                        }
                    }
                    items.push(("integrationResponses".into(), map_owned(v.pos, responses)));
                    continue;
                }
                _ => v.clone(),
            };
            items.push((k.text.clone(), value));
        }
        map_owned(node.pos, items)
    }

    fn operation(
        &mut self,
        op: &Node,
        path_params: &[Node],
        validators: &Option<String>,
        at: &str,
        swagger: bool,
    ) -> Node {
        let mut method: Vec<(String, Node)> = Vec::new();
        let mut request_parameters: Vec<(String, Node)> = Vec::new();
        let mut request_models: Vec<(String, Node)> = Vec::new();
        let params: Vec<Node> = path_params
            .iter()
            .cloned()
            .chain(get(op, "parameters").map_or_else(Vec::new, |p| match &p.value {
                Value::Seq(items) => items.clone(),
                _ => Vec::new(),
            }))
            .collect();
        for p in params {
            let p = self.deref(&p, &format!("{at}.parameters"));
            let (Some(name), Some(location)) = (get(&p, "name").and_then(text), get(&p, "in").and_then(text)) else {
                continue;
            };
            let required =
                location == "path" || matches!(get(&p, "required").map(|r| &r.value), Some(Value::Bool(true)));
            let loc = match location {
                "path" => "path",
                "query" => "querystring",
                "header" => "header",
                "body" if swagger => {
                    if let Some(model) = get(&p, "schema").and_then(|sch| get(sch, "$ref")).and_then(text) {
                        let name = model.rsplit('/').next().unwrap_or(model).to_string();
                        let consumes = get(op, "consumes").or_else(|| get(self.root, "consumes"));
                        let ct = consumes.and_then(|c| match &c.value {
                            Value::Seq(items) => items.first().and_then(text).map(str::to_string),
                            _ => None,
                        });
                        request_models.push((ct.unwrap_or_else(|| "application/json".into()), s(p.pos, name)));
                    }
                    continue;
                }
                other => {
                    self.warnings.at(
                        p.pos,
                        format!("{at}.parameters {name}"),
                        format!("parameters in {other:?} are not mapped (only path, query and header)"),
                    );
                    continue;
                }
            };
            request_parameters
                .push((format!("method.request.{loc}.{name}"), Node { value: Value::Bool(required), pos: p.pos }));
        }
        if let Some(body) = get(op, "requestBody") {
            let body = self.deref(body, &format!("{at}.requestBody"));
            for (ct, media) in get(&body, "content").map(entries).unwrap_or_default() {
                if let Some(model) = get(media, "schema").and_then(|sch| get(sch, "$ref")).and_then(text) {
                    request_models.push((ct.text.clone(), s(ct.pos, model.rsplit('/').next().unwrap_or(model))));
                }
            }
        }
        if !request_parameters.is_empty() {
            method.push(("requestParameters".into(), map_owned(op.pos, request_parameters)));
        }
        if !request_models.is_empty() {
            method.push(("requestModels".into(), map_owned(op.pos, request_models)));
        }
        let validator = get(op, "x-amazon-apigateway-request-validator")
            .and_then(text)
            .map(str::to_string)
            .or_else(|| validators.clone());
        if let Some(v) = validator {
            method.push(("requestValidatorId".into(), s(op.pos, v)));
        }
        if let Some(responses) = get(op, "responses") {
            let mut method_responses = Vec::new();
            for (status, response) in entries(responses) {
                if status.text == "default" {
                    continue;
                }
                let response = self.deref(response, &format!("{at}.responses"));
                let mut fields = vec![("statusCode".to_string(), s(status.pos, status.text.clone()))];
                let headers: Vec<(String, Node)> = get(&response, "headers")
                    .map(entries)
                    .unwrap_or_default()
                    .iter()
                    .map(|(h, _)| {
                        (format!("method.response.header.{}", h.text), Node { value: Value::Bool(false), pos: h.pos })
                    })
                    .collect();
                if !headers.is_empty() {
                    fields.push(("responseParameters".into(), map_owned(response.pos, headers)));
                }
                method_responses.push((status.text.clone(), map_owned(response.pos, fields)));
            }
            method.push(("methodResponses".into(), map_owned(responses.pos, method_responses)));
        }
        if get(op, "security").is_some() && get(op, "x-amazon-apigateway-auth").is_none() {
            self.warnings.at(
                op.pos,
                format!("{at}.security"),
                "authorizers are not enforced yet: the method is served without them",
            );
        }
        // Without an integration the loader reports the method, as for a native document.
        if let Some(i) = get(op, "x-amazon-apigateway-integration") {
            method
                .push(("methodIntegration".into(), self.integration(i, &child(at, "x-amazon-apigateway-integration"))));
        }
        for (k, _) in entries(op) {
            if k.text.starts_with("x-amazon-apigateway-")
                && !matches!(
                    k.text.as_str(),
                    "x-amazon-apigateway-integration" | "x-amazon-apigateway-request-validator"
                )
            {
                self.warnings.at(k.pos, child(at, &k.text), "extension not supported; ignored");
            }
        }
        map_owned(op.pos, method)
    }

    /// Rewrites `#/components/schemas/X` and `#/definitions/X` into API Gateway model URLs.
    fn schema(&self, node: &Node) -> Node {
        match &node.value {
            Value::Map(entries) => Node {
                value: Value::Map(
                    entries
                        .iter()
                        .map(|(k, v)| {
                            let v = match (&*k.text, &v.value) {
                                ("$ref", Value::Str(r))
                                    if r.starts_with("#/components/schemas/") || r.starts_with("#/definitions/") =>
                                {
                                    s(
                                        v.pos,
                                        format!(
                                            "https://apigateway.amazonaws.com/restapis/local/models/{}",
                                            r.rsplit('/').next().unwrap_or("")
                                        ),
                                    )
                                }
                                _ => self.schema(v),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                ),
                pos: node.pos,
            },
            Value::Seq(items) => {
                Node { value: Value::Seq(items.iter().map(|i| self.schema(i)).collect()), pos: node.pos }
            }
            _ => node.clone(),
        }
    }

    fn document(&mut self) -> Node {
        let root = self.root;
        let pos = root.pos;
        let swagger = get(root, "swagger").is_some();
        let mut doc: Vec<(String, Node)> = Vec::new();
        let title = get(root, "info").and_then(|i| get(i, "title")).cloned().unwrap_or_else(|| s(pos, "api"));
        let mut rest_api: Vec<(&str, Node)> = vec![("name", title)];
        if let Some(d) = get(root, "info").and_then(|i| get(i, "description")) {
            rest_api.push(("description", d.clone()));
        }
        if let Some(b) = get(root, "x-amazon-apigateway-binary-media-types") {
            rest_api.push(("binaryMediaTypes", b.clone()));
        }
        if let Some(k) = get(root, "x-amazon-apigateway-api-key-source") {
            rest_api.push(("apiKeySource", upper(k)));
        }
        if let Some(id) = get(root, "x-portico-rest-api-id") {
            rest_api.push(("id", id.clone()));
        }
        doc.push(("restApi".into(), map(pos, rest_api)));

        let validators: Option<String> =
            get(root, "x-amazon-apigateway-request-validator").and_then(text).map(str::to_string);
        if let Some(vs) = get(root, "x-amazon-apigateway-request-validators") {
            let items: Vec<Node> = entries(vs)
                .iter()
                .map(|(name, v)| {
                    let mut fields = vec![
                        ("id".to_string(), s(name.pos, name.text.clone())),
                        ("name".to_string(), s(name.pos, name.text.clone())),
                    ];
                    for (k, val) in entries(v) {
                        fields.push((k.text.clone(), val.clone()));
                    }
                    map_owned(v.pos, fields)
                })
                .collect();
            doc.push(("requestValidators".into(), Node { value: Value::Seq(items), pos: vs.pos }));
        }
        let schemas =
            if swagger { get(root, "definitions") } else { get(root, "components").and_then(|c| get(c, "schemas")) };
        if let Some(schemas) = schemas {
            let models: Vec<Node> = entries(schemas)
                .iter()
                .map(|(name, schema)| {
                    map(
                        schema.pos,
                        vec![
                            ("name", s(name.pos, name.text.clone())),
                            ("contentType", s(name.pos, "application/json")),
                            ("schema", self.schema(schema)),
                        ],
                    )
                })
                .collect();
            doc.push(("models".into(), Node { value: Value::Seq(models), pos: schemas.pos }));
        }
        if let Some(g) = get(root, "x-amazon-apigateway-gateway-responses") {
            let items: Vec<Node> = entries(g)
                .iter()
                .map(|(kind, v)| {
                    let mut fields = vec![("responseType".to_string(), s(kind.pos, kind.text.clone()))];
                    for (k, val) in entries(v) {
                        fields.push((k.text.clone(), val.clone()));
                    }
                    map_owned(v.pos, fields)
                })
                .collect();
            doc.push(("gatewayResponses".into(), Node { value: Value::Seq(items), pos: g.pos }));
        }
        let mut resources = Vec::new();
        let paths = get(root, "paths").cloned().unwrap_or(Node { value: Value::Map(Vec::new()), pos });
        for (path, item) in entries(&paths) {
            let at = format!("paths[{:?}]", path.text);
            let path_params: Vec<Node> = match get(item, "parameters").map(|p| &p.value) {
                Some(Value::Seq(items)) => items.clone(),
                _ => Vec::new(),
            };
            let mut methods: Vec<(String, Node)> = Vec::new();
            for (verb, op) in entries(item) {
                let v = match verb.text.as_str() {
                    "get" | "put" | "post" | "delete" | "options" | "head" | "patch" => verb.text.to_uppercase(),
                    "x-amazon-apigateway-any-method" => "ANY".to_string(),
                    "parameters" | "summary" | "description" | "servers" => continue,
                    other => {
                        self.warnings.at(verb.pos, child(&at, other), "not an operation API Gateway serves; ignored");
                        continue;
                    }
                };
                let op_at = format!("{at} {v}");
                methods.push((v, self.operation(op, &path_params, &validators, &op_at, swagger)));
            }
            resources.push(map(
                item.pos,
                vec![("path", s(path.pos, path.text.clone())), ("resourceMethods", map_owned(item.pos, methods))],
            ));
        }
        doc.push(("resources".into(), Node { value: Value::Seq(resources), pos: paths.pos }));

        // Stages: Portico's key, or the export's base path.
        if let Some(stages) = get(root, "x-portico-stages") {
            doc.push(("stages".into(), stages.clone()));
        } else if let Some(stage) = base_path(root) {
            doc.push((
                "stages".into(),
                Node { value: Value::Seq(vec![map(pos, vec![("stageName", s(pos, stage))])]), pos },
            ));
        }
        for (key, native) in [
            ("x-portico-vpc-links", "vpcLinks"),
            ("x-portico-network-load-balancers", "networkLoadBalancers"),
            ("x-portico-lambda", "lambda"),
            ("x-portico-backend-tls", "backendTls"),
        ] {
            if let Some(v) = get(root, key) {
                doc.push((native.into(), v.clone()));
            }
        }
        for (k, _) in entries(root) {
            let known = matches!(
                k.text.as_str(),
                "openapi"
                    | "swagger"
                    | "info"
                    | "paths"
                    | "components"
                    | "definitions"
                    | "servers"
                    | "basePath"
                    | "host"
                    | "schemes"
                    | "consumes"
                    | "produces"
                    | "tags"
                    | "externalDocs"
                    | "security"
                    | "securityDefinitions"
                    | "parameters"
                    | "responses"
                    | "x-amazon-apigateway-request-validators"
                    | "x-amazon-apigateway-request-validator"
                    | "x-amazon-apigateway-gateway-responses"
                    | "x-amazon-apigateway-binary-media-types"
                    | "x-amazon-apigateway-api-key-source"
                    | "x-portico-stages"
                    | "x-portico-vpc-links"
                    | "x-portico-network-load-balancers"
                    | "x-portico-lambda"
                    | "x-portico-backend-tls"
                    | "x-portico-rest-api-id"
            );
            if !known {
                self.warnings.at(k.pos, k.text.clone(), "not supported; ignored");
            }
        }
        let schemes = if swagger {
            get(root, "securityDefinitions")
        } else {
            get(root, "components").and_then(|c| get(c, "securitySchemes"))
        };
        for (name, scheme) in schemes.map(entries).unwrap_or_default() {
            if get(scheme, "x-amazon-apigateway-authorizer").is_some() {
                self.warnings.at(
                    name.pos,
                    format!("security scheme {}", name.text),
                    "x-amazon-apigateway-authorizer is kept but not enforced yet",
                );
            }
        }
        map_owned(pos, doc)
    }
}

/// The stage an export was made from: Swagger's `basePath`, or OpenAPI's `servers[0]`
/// `basePath` variable.
fn base_path(root: &Node) -> Option<String> {
    let raw = get(root, "basePath").and_then(text).map(str::to_string).or_else(|| {
        let server = match &get(root, "servers")?.value {
            Value::Seq(items) => items.first()?.clone(),
            _ => return None,
        };
        get(&server, "variables")
            .and_then(|v| get(v, "basePath"))
            .and_then(|b| get(b, "default"))
            .and_then(text)
            .map(str::to_string)
    })?;
    let stage = raw.trim_matches('/').to_string();
    (!stage.is_empty() && !stage.contains('/')).then_some(stage)
}

/// Translates an OpenAPI or Swagger document into the native one; `out` gets what makes it
/// unservable, `warnings` what is ignored.
pub fn to_native(root: &Node, out: &mut Collector, warnings: &mut Collector) -> Node {
    Translator { root, out, warnings }.document()
}
