//! An echo backend that records every request it receives and answers by path:
//! `/status/{code}` with that status, `/sleep/{ms}` after a delay, anything else with a JSON
//! echo of the request (or the raw body for `/raw`).

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// A real 1×1 PNG image.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query as they arrived, raw.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
pub struct Backend {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Backend {
    pub async fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::new(Mutex::new(Vec::new()));
        let (log, conns) = (received.clone(), tasks.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let log = log.clone();
                let conn = tokio::spawn(async move {
                    let svc = service_fn(move |req| answer(req, log.clone()));
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
                conns.lock().unwrap().push(conn.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Backend { addr, received, tasks }
    }

    /// Stops listening and closes every open connection.
    pub fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn last(&self) -> Received {
        self.received.lock().unwrap().last().cloned().expect("the backend received a request")
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.tasks.lock().unwrap().len() - 1
    }
}

async fn answer(req: Request<Incoming>, log: Arc<Mutex<Vec<Received>>>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let uri = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    log.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        uri: uri.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let path = parts.uri.path();
    if let Some(ms) = path.strip_prefix("/sleep/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
    }
    let mut response = if path == "/png" {
        let mut r = Response::new(Full::new(Bytes::from_static(PNG)));
        r.headers_mut().insert("content-type", "image/png".parse().unwrap());
        r
    } else if path == "/png64" {
        use base64::Engine;
        let mut r = Response::new(Full::new(Bytes::from(base64::engine::general_purpose::STANDARD.encode(PNG))));
        r.headers_mut().insert("content-type", "text/plain".parse().unwrap());
        r
    } else if path == "/raw" {
        let mut r = Response::new(Full::new(body.clone()));
        if let Some(ct) = parts.headers.get("content-type") {
            r.headers_mut().insert("content-type", ct.clone());
        }
        r
    } else {
        let headers: serde_json::Map<String, serde_json::Value> =
            parts.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into())).collect();
        let echo = serde_json::json!({
            "method": parts.method.as_str(),
            "uri": uri,
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        });
        let mut r = Response::new(Full::new(Bytes::from(echo.to_string())));
        r.headers_mut().insert("content-type", "application/json".parse().unwrap());
        r
    };
    if let Some(code) = path.strip_prefix("/status/") {
        *response.status_mut() =
            StatusCode::from_u16(code.parse().unwrap_or(500)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    response.headers_mut().insert("x-backend", "echo".parse().unwrap());
    response.headers_mut().insert("server", "echo-backend".parse().unwrap());
    response.headers_mut().insert("x-amzn-requestid", "backend-id".parse().unwrap());
    response.headers_mut().insert("access-control-allow-origin", "*".parse().unwrap());
    Ok(response)
}
