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
}

impl Backend {
    pub async fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| answer(req, log.clone()));
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Backend { addr, received }
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
    let mut response = if path == "/raw" {
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
