//! HTTPS backends through the shared pooled client: a backend with a certificate from a test
//! CA (made here with rcgen) is trusted through `backendTls.caFile`, refused without it
//! (API Gateway's 504), and reached anyway with `tlsConfig.insecureSkipVerification`.

use crate::common;

use bytes::Bytes;
use common::{portico, send};
use http_body_util::{Either, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A body that sends `abc` of the ten bytes its response promises, then nothing more.
struct Stalls(bool);

impl http_body::Body for Stalls {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.0 {
            return std::task::Poll::Pending;
        }
        self.0 = true;
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from("abc")))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(10)
    }
}

/// A test CA (PEM) and a TLS server for 127.0.0.1 signed by it, answering `secure hello`, or
/// on `/stall` three bytes of ten and then nothing.
async fn tls_backend() -> (String, SocketAddr) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Portico test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { break };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let body = if req.uri().path() == "/stall" {
                        Either::Right(Stalls(false))
                    } else {
                        Either::Left(Full::new(Bytes::from("secure hello")))
                    };
                    Ok::<_, hyper::Error>(hyper::Response::new(body))
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), svc).await;
            });
        }
    });
    (ca_cert.pem(), addr)
}

fn document(addr: SocketAddr, ca_file: Option<&str>, insecure: bool) -> String {
    let tls = ca_file.map(|f| format!("backendTls: {{caFile: '{f}'}}\n")).unwrap_or_default();
    format!(
        "restApi: {{name: tls}}\n{tls}resources:\n  - path: /secure\n    resourceMethods:\n      GET:\n        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'https://{addr}/', tlsConfig: {{insecureSkipVerification: {insecure}}}}}\n  - path: /stalls\n    resourceMethods:\n      GET:\n        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'https://{addr}/stall', timeoutInMillis: 500, tlsConfig: {{insecureSkipVerification: {insecure}}}}}\n"
    )
}

#[tokio::test]
async fn https_backends_with_a_test_ca() {
    let (ca_pem, addr) = tls_backend().await;
    let dir = std::env::temp_dir().join(format!("portico-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();

    let trusted = portico(&document(addr, Some(ca_file.to_str().unwrap()), false)).await;
    let reply = send("GET", &format!("http://{}/secure", trusted.addr), &[], "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "secure hello");
    // Through the TLS client too, the backend's framing headers come back renamed.
    assert_eq!(reply.header("x-amzn-Remapped-Content-Length"), Some("12"));
    assert!(reply.header("x-amzn-Remapped-Date").is_some());
    trusted.shutdown().await;

    let untrusted = portico(&document(addr, None, false)).await;
    let reply = send("GET", &format!("http://{}/secure", untrusted.addr), &[], "").await;
    assert_eq!(reply.status, 504, "a certificate error is a network error");
    assert_eq!(reply.text(), r#"{"message": "Network error communicating with endpoint"}"#);
    untrusted.shutdown().await;

    let skipping = portico(&document(addr, None, true)).await;
    let reply = send("GET", &format!("http://{}/secure", skipping.addr), &[], "").await;
    assert_eq!(reply.status, 200);
    skipping.shutdown().await;

    let missing =
        portico::config::compile_text(&document(addr, Some("/nonexistent/ca.pem"), false), false).unwrap_err();
    assert!(
        missing[0]
            .to_string()
            .starts_with("line 2, column 22: backendTls.caFile: cannot read certificates from /nonexistent/ca.pem"),
        "{}",
        missing[0]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// An HTTPS backend that stalls part-way through its body does not hold the client for ever:
/// at the integration's timeout the connection ends short of the body's end.
#[tokio::test]
async fn a_tls_body_stalled_past_the_timeout_ends_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_, addr) = tls_backend().await;
    let server = portico(&document(addr, None, true)).await;
    let mut client = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    client.write_all(b"GET /stalls HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), client.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was still open after 10 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body_start = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(answer.len() - body_start < 10, "the body is cut short: {text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    server.shutdown().await;
}
