//! HTTPS backends through the shared pooled client: a backend with a certificate from a test
//! CA (made here with rcgen) is trusted through `backendTls.caFile`, refused without it
//! (API Gateway's 504), and reached anyway with `tlsConfig.insecureSkipVerification`.

mod common;

use bytes::Bytes;
use common::{portico, send};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A test CA (PEM) and a TLS server for 127.0.0.1 signed by it, answering `secure hello`.
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
                let svc = service_fn(|_req| async {
                    Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from("secure hello"))))
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
        "restApi: {{name: tls}}\n{tls}resources:\n  - path: /secure\n    resourceMethods:\n      GET:\n        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'https://{addr}/', tlsConfig: {{insecureSkipVerification: {insecure}}}}}\n"
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
