//! Test fixtures: Portico and backends as real servers on 127.0.0.1:0, and a plain HTTP
//! client to talk to them.

pub mod backend;
pub mod lambda;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use portico::server::{self, Gateway, Running};

/// Starts Portico on a free port with the document `yaml`; panics with every problem if the
/// document is invalid.
pub async fn portico(yaml: &str) -> Running {
    let plan = match portico::config::compile_text(yaml, false) {
        Ok(plan) => plan,
        Err(problems) => panic!("invalid test document:\n{}", portico::config::problem::Problems(problems)),
    };
    server::start(Gateway::new(plan), "127.0.0.1:0".parse().unwrap()).await.expect("portico starts")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request to `url` with headers and a body; the whole response is read.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).unwrap();
    let resp = client.request(req).await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Reply { status: parts.status, headers: parts.headers, body }
}

pub async fn get(url: &str) -> Reply {
    send("GET", url, &[], Bytes::new()).await
}

/// Starts Portico with a document built as JSON (which is YAML too).
pub async fn portico_json(doc: serde_json::Value) -> Running {
    portico(&doc.to_string()).await
}

/// A MOCK method whose 200 response body is `body`.
pub fn mock_method(body: &str) -> serde_json::Value {
    serde_json::json!({
        "methodResponses": {"200": {"statusCode": "200"}},
        "methodIntegration": {
            "type": "MOCK",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "integrationResponses": {"200": {"statusCode": "200", "responseTemplates": {"application/json": body}}}
        }
    })
}

/// An HTTP_PROXY method to `uri`, mapping each `(placeholder, method path parameter)`.
pub fn proxy_method(uri: &str, path_params: &[(&str, &str)]) -> serde_json::Value {
    let mut declared = serde_json::Map::new();
    let mut mapped = serde_json::Map::new();
    for (placeholder, param) in path_params {
        declared.insert(format!("method.request.path.{param}"), true.into());
        mapped.insert(format!("integration.request.path.{placeholder}"), format!("method.request.path.{param}").into());
    }
    serde_json::json!({
        "requestParameters": declared,
        "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": uri, "requestParameters": mapped}
    })
}

/// Starts `portico serve --config <config>` with `flags`; its stdout lines announce what it
/// serves.
pub fn spawn_serve(
    config: &std::path::Path,
    flags: &[&str],
) -> (std::process::Child, std::io::Lines<std::io::BufReader<std::process::ChildStdout>>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
        .arg("serve")
        .args(flags)
        .arg("--config")
        .arg(config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}
