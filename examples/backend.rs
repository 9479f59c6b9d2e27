//! A small pet store backend for the examples: `cargo run --release --example backend`
//! (listens on 127.0.0.1:9000, or the address given as the first argument).

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

type Pets = Arc<Mutex<Vec<serde_json::Value>>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9000".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("pet store backend on http://{}", listener.local_addr()?);
    let pets: Pets = Arc::new(Mutex::new(vec![
        serde_json::json!({"id": 1, "type": "dog", "price": 249.99}),
        serde_json::json!({"id": 2, "type": "cat", "price": 124.99}),
        serde_json::json!({"id": 3, "type": "fish", "price": 0.99}),
    ]));
    loop {
        let (stream, _) = listener.accept().await?;
        let pets = pets.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(req, pets.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    r
}

async fn handle(req: Request<Incoming>, pets: Pets) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: serde_json::Map<String, serde_json::Value> =
        req.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into())).collect();
    let body = req.into_body().collect().await?.to_bytes();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    Ok(match (method.as_str(), parts.as_slice()) {
        ("GET", ["pets"]) => json(StatusCode::OK, serde_json::Value::Array(pets.lock().unwrap().clone())),
        ("POST", ["pets"]) => match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(mut pet) => {
                let mut all = pets.lock().unwrap();
                pet["id"] = (all.len() as u64 + 1).into();
                all.push(pet.clone());
                json(StatusCode::CREATED, pet)
            }
            Err(e) => json(StatusCode::BAD_REQUEST, serde_json::json!({"error": e.to_string()})),
        },
        ("GET", ["pets", id]) => {
            match pets.lock().unwrap().iter().find(|p| id.parse::<u64>().is_ok_and(|n| p["id"] == n)) {
                Some(pet) => json(StatusCode::OK, pet.clone()),
                None => json(StatusCode::NOT_FOUND, serde_json::json!({"error": format!("no pet {id}")})),
            }
        }
        _ => json(
            StatusCode::OK,
            serde_json::json!({
                "method": method.as_str(), "path": path, "query": query, "headers": headers,
                "body": String::from_utf8_lossy(&body),
            }),
        ),
    })
}
