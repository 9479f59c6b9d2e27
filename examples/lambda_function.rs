//! A Lambda Invoke API stand-in with two functions, for the Lambda example:
//! `cargo run --release --example lambda_function` (listens on 127.0.0.1:3001, or the address
//! given as the first argument).
//!
//! - `hello`: a proxy handler; greets `?name=` and echoes the path it was called for.
//! - `add`: a plain handler for a custom integration; adds `a` and `b`, and fails with
//!   `errorMessage` "Bad input: ..." when they are not numbers.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3001".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("Lambda Invoke API stand-in on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(invoke))
                .await;
        });
    }
}

fn reply(payload: Value, function_error: bool) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(payload.to_string())));
    r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    if function_error {
        r.headers_mut().insert("x-amz-function-error", "Unhandled".parse().unwrap());
    }
    r
}

/// A number, or a string holding one.
fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.trim().parse().ok())
}

async fn invoke(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_string();
    let event: Value = serde_json::from_slice(&req.into_body().collect().await?.to_bytes()).unwrap_or(Value::Null);
    let function =
        path.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations")).unwrap_or("");
    Ok(match function {
        "hello" => {
            let name = event["queryStringParameters"]["name"].as_str().unwrap_or("world");
            let body = json!({"message": format!("Hello, {name}!"), "path": event["path"], "stage": event["requestContext"]["stage"]});
            reply(
                json!({"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body.to_string()}),
                false,
            )
        }
        "add" => match (number(&event["a"]), number(&event["b"])) {
            (Some(a), Some(b)) => reply(json!({"sum": a + b}), false),
            _ => reply(json!({"errorMessage": format!("Bad input: {event}"), "errorType": "ValueError"}), true),
        },
        other => {
            let mut r = reply(json!({"Type": "User", "message": format!("Function not found: {other}")}), false);
            *r.status_mut() = http::StatusCode::NOT_FOUND;
            r
        }
    })
}
