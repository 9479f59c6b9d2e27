//! The physical limit for the load benchmark: a bare hyper server answering every request with
//! a fixed body, on the same runtime and write settings Portico uses.
//! `cargo run --release --example bare [ADDR]`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const BODY: &[u8] = br#"{"message": "hello from the bare server"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18080".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("bare server on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let svc = service_fn(|_req| async {
                let mut r = hyper::Response::new(Full::new(Bytes::from_static(BODY)));
                r.headers_mut().insert("content-type", "application/json".parse().unwrap());
                Ok::<_, hyper::Error>(r)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .writev(false)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
