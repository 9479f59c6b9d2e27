//! A stand-in for the Lambda Invoke API (`POST /2015-03-31/functions/NAME/invocations`):
//! each function name has a scripted behaviour, and every invocation is recorded.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Clone)]
pub enum Behaviour {
    /// Return this JSON text as the function's result.
    Returns(String),
    /// A proxy result whose body is the event the function received.
    EchoEvent,
    /// The function throws with this message (`X-Amz-Function-Error: Unhandled`).
    Throws(String),
    /// The function takes this long, then returns `{}`.
    Sleeps(u64),
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub function: String,
    pub query: Option<String>,
    pub headers: http::HeaderMap,
    pub payload: serde_json::Value,
}

#[derive(Clone)]
pub struct LambdaStub {
    pub addr: SocketAddr,
    pub invocations: Arc<Mutex<Vec<Invocation>>>,
}

impl LambdaStub {
    pub async fn start(functions: Vec<(&str, Behaviour)>) -> LambdaStub {
        let functions: Arc<HashMap<String, Behaviour>> =
            Arc::new(functions.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let invocations = Arc::new(Mutex::new(Vec::new()));
        let log = invocations.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { break };
                let (functions, log) = (functions.clone(), log.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| answer(req, functions.clone(), log.clone()));
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        LambdaStub { addr, invocations }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn last(&self) -> Invocation {
        self.invocations.lock().unwrap().last().cloned().expect("the function was invoked")
    }
}

fn reply(status: u16, body: String, function_error: bool) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    if function_error {
        r.headers_mut().insert("x-amz-function-error", "Unhandled".parse().unwrap());
    }
    r
}

async fn answer(
    req: Request<Incoming>,
    functions: Arc<HashMap<String, Behaviour>>,
    log: Arc<Mutex<Vec<Invocation>>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let headers = req.headers().clone();
    let body = req.into_body().collect().await?.to_bytes();
    let Some(name) = path.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations")) else {
        return Ok(reply(404, r#"{"message": "Not found"}"#.into(), false));
    };
    let payload: serde_json::Value =
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    log.lock().unwrap().push(Invocation { function: name.to_string(), query, headers, payload: payload.clone() });
    Ok(match functions.get(name) {
        None => reply(404, format!(r#"{{"Type": "User", "message": "Function not found: {name}"}}"#), false),
        Some(Behaviour::Returns(json)) => reply(200, json.clone(), false),
        Some(Behaviour::EchoEvent) => reply(200, serde_json::json!({"statusCode": 200, "body": payload.to_string()}).to_string(), false),
        Some(Behaviour::Throws(message)) => reply(
            200,
            serde_json::json!({"errorMessage": message, "errorType": "Error", "stackTrace": ["at handler (index.js:1:1)"]}).to_string(),
            true,
        ),
        Some(Behaviour::Sleeps(ms)) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            reply(200, "{}".into(), false)
        }
    })
}
