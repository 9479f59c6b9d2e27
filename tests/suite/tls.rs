//! TLS termination: HTTPS with a test certificate made by rcgen, HTTP/2 and HTTP/1.1 chosen by
//! ALPN, and clear errors for certificate files that do not work.

use crate::common;

use bytes::Bytes;
use common::mock_method;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use portico::server::{self, Gateway, Options};
use rustls::pki_types::CertificateDer;
use serde_json::json;
use std::sync::Arc;

fn client(
    ca: CertificateDer<'static>,
    h2: bool,
) -> Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Full<Bytes>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_only();
    let connector = if h2 { builder.enable_http2().build() } else { builder.enable_http1().build() };
    let mut b = Client::builder(TokioExecutor::new());
    if h2 {
        b.http2_only(true);
    }
    b.build(connector)
}

#[tokio::test]
async fn https_with_http2_and_http1_by_alpn() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = std::env::temp_dir().join(format!("portico-tls-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let tls = server::tls_config(&cert_file, &key_file).unwrap();

    let doc = json!({"restApi": {"name": "tls"}, "resources": [{"path": "/hello", "resourceMethods": {"GET": mock_method("secure")}}]});
    let plan = portico::config::compile_text(&doc.to_string(), true).unwrap();
    let running = server::start_with(
        Gateway::new(plan),
        "127.0.0.1:0".parse().unwrap(),
        Options { tls: Some(tls), ..Options::default() },
    )
    .await
    .unwrap();
    let url = format!("https://localhost:{}/hello", running.addr.port());
    for (h2, version) in [(true, http::Version::HTTP_2), (false, http::Version::HTTP_11)] {
        let c = client(cert.cert.der().clone(), h2);
        let response = c.request(http::Request::get(&url).body(Full::new(Bytes::new())).unwrap()).await.unwrap();
        assert_eq!(response.version(), version);
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("x-amzn-requestid").is_some());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.as_ref(), b"secure");
    }
    running.shutdown().await;

    std::fs::write(dir.join("garbage.pem"), "not a certificate").unwrap();
    let err = server::tls_config(&dir.join("garbage.pem"), &key_file).err().unwrap();
    assert!(err.contains("holds no PEM certificate"), "{err}");
    let err = server::tls_config(&cert_file, &dir.join("absent.pem")).err().unwrap();
    assert!(err.starts_with("cannot read a private key from"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
