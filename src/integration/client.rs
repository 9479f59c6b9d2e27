//! The HTTP client every integration shares: plain-HTTP backends and Lambda endpoints through
//! the gateway's own keep-alive pool ([`super::pool`]), TLS ones through hyper_util's pooled
//! client with rustls. It lives outside the plan, so a reload keeps its warm keep-alive
//! connections.

use super::http1::{HeaderOutput, Rename};
use super::pool::Http1Pool;
use crate::pipeline::{Body, BoxError};
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;
use std::time::Duration;

type Inner = Client<HttpsConnector<HttpConnector>, Body>;

#[derive(Clone)]
pub struct HttpClient {
    /// Verifies backend certificates against the system roots and the document's CAs.
    inner: Inner,
    /// For integrations with `tlsConfig.insecureSkipVerification`.
    insecure: Inner,
    /// Plain-HTTP backends of HTTP and HTTP_PROXY integrations.
    plain: Arc<Http1Pool>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(config: ClientConfig) -> Inner {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.enforce_http(false);
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    // Head and small bodies are copied into one buffer and sent with one `write`: cheaper
    // than a vectored write of the pieces for the small messages gateways mostly carry.
    Client::builder(TokioExecutor::new())
        .http1_writev(false)
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(1024)
        .build(https)
}

/// Accepts any certificate, checking only the handshake signatures (AWS's
/// `insecureSkipVerification`).
#[derive(Debug)]
struct SkipVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for SkipVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl HttpClient {
    /// A client trusting the system's roots plus `extra_roots`.
    pub fn new(extra_roots: &[CertificateDer<'static>]) -> Self {
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        for cert in extra_roots {
            if let Err(e) = roots.add(cert.clone()) {
                tracing::warn!(error = %e, "an extra CA certificate was not accepted");
            }
        }
        let verified = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth());
        let insecure = ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().map(|b| {
            b.dangerous().with_custom_certificate_verifier(Arc::new(SkipVerification(provider()))).with_no_client_auth()
        });
        match (verified, insecure) {
            (Ok(verified), Ok(insecure)) => {
                Self { inner: build(verified), insecure: build(insecure), plain: Arc::default() }
            }
            // The ring provider supports the default versions; this cannot fail in practice.
            (Err(e), _) | (_, Err(e)) => panic!("TLS client configuration: {e}"),
        }
    }

    /// Sends an HTTP or HTTP_PROXY integration's request: to a plain-HTTP backend through the
    /// gateway's own connection pool, to an HTTPS one through the TLS client (`insecure` for
    /// `tlsConfig.insecureSkipVerification`).
    /// `deadline` bounds a body still arriving after the head ([`super::deadline`]); the
    /// response's header names are those `rename` gives, when given.
    pub(crate) async fn send(
        &self,
        req: Request<Body>,
        insecure: bool,
        deadline: Option<tokio::time::Instant>,
        rename: Option<Rename>,
    ) -> Result<Response<Body>, BoxError> {
        if req.uri().scheme() == Some(&http::uri::Scheme::HTTP) {
            return self.plain.send(req, deadline, rename).await;
        }
        let client = if insecure { &self.insecure } else { &self.inner };
        let mut response = client.request(req).await?;
        if let Some(rename) = rename {
            let headers = std::mem::take(response.headers_mut());
            let renamed = response.headers_mut();
            let mut name = None;
            // A name comes with its first value only, `None` with the next ones.
            for (first, value) in headers {
                if let Some(first) = first {
                    name = rename(&first);
                }
                if let Some(name) = &name {
                    renamed.append(name, value);
                }
            }
        }
        Ok(response.map(|body| super::deadline::bound(body.map_err(Into::into).boxed_unsync(), deadline)))
    }

    /// Sends a request to a plain-HTTP backend whose head the caller wrote
    /// ([`Http1Pool::send_head`]).
    pub(crate) async fn send_head(
        &self,
        backend: &http::uri::Authority,
        head: Vec<u8>,
        method: &http::Method,
        body: Body,
        deadline: Option<tokio::time::Instant>,
        output: HeaderOutput<'_>,
    ) -> Result<Response<Body>, BoxError> {
        self.plain.send_head(backend, head, method, body, deadline, output).await
    }
}
