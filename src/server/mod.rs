//! The listener: accepts connections, runs each request through the current plan, and stops
//! gracefully (no new connections, in-flight requests finish within a bound).

use crate::integration::client::HttpClient;
use crate::pipeline;
use crate::plan::Plan;
use arc_swap::ArcSwap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long in-flight requests may run once shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub mod access_log;
pub mod allocator;
mod http1;
mod idle;
pub mod metrics;
pub mod registry;
pub mod reload;

/// What every connection shares: the current plan (swapped whole on reload) and the pooled
/// client (kept across reloads).
pub struct Gateway {
    pub plan: ArcSwap<Plan>,
    pub client: HttpClient,
    /// Applied to every plan before it serves (process-wide settings from the command line).
    pub prepare: Box<dyn Fn(&mut Plan) + Send + Sync>,
    pub reloads: std::sync::atomic::AtomicU64,
    pub failed_reloads: std::sync::atomic::AtomicU64,
    pub access_log: Option<Arc<access_log::AccessLog>>,
    pub metrics: metrics::Metrics,
    /// The APIs deployed through the management API; empty without it.
    pub deployed: ArcSwap<registry::Registry>,
    /// Plain connections waiting for a request without hyper's buffers (see `idle`).
    pub parked_connections: std::sync::atomic::AtomicU64,
    /// Times a quiet keep-alive connection was taken back from hyper.
    pub idle_releases: std::sync::atomic::AtomicU64,
}

impl pipeline::Observer for Gateway {
    fn finished(
        &self,
        plan: &Plan,
        inv: &pipeline::Invocation,
        status: http::StatusCode,
        length: Option<u64>,
        latency: Duration,
    ) {
        self.metrics.record(plan, inv, status, latency);
        tracing::debug!(
            request_id = %inv.context.request_id,
            method = %inv.context.http_method,
            path = %inv.context.path,
            resource = %inv.context.resource_path,
            status = status.as_u16(),
            latency_ms = latency.as_millis() as u64,
            integration_latency_ms = inv.context.integration_latency,
            "request"
        );
        if let Some(log) = &self.access_log {
            log.record(plan, inv, status.as_u16(), length, latency);
        }
    }
}

impl Gateway {
    pub fn new(plan: Plan) -> Arc<Self> {
        Self::with(plan, Box::new(|_| {}), None)
    }

    /// A gateway whose plans (the first and every reloaded one) pass through `prepare`.
    pub fn with(
        mut plan: Plan,
        prepare: Box<dyn Fn(&mut Plan) + Send + Sync>,
        access_log: Option<Arc<access_log::AccessLog>>,
    ) -> Arc<Self> {
        prepare(&mut plan);
        let client = HttpClient::new(&plan.backend_ca);
        crate::integration::vpc_link::start_health_checks(&plan.vpc_links);
        Arc::new(Self {
            plan: ArcSwap::from_pointee(plan),
            client,
            prepare,
            reloads: Default::default(),
            failed_reloads: Default::default(),
            access_log,
            metrics: Default::default(),
            deployed: Default::default(),
            parked_connections: Default::default(),
            idle_releases: Default::default(),
        })
    }

    /// The plan that serves `req`: a deployed API's stage when one matches, else the document's.
    pub fn plan_for<B>(&self, req: &mut http::Request<B>) -> Arc<Plan> {
        let deployed = self.deployed.load();
        if !deployed.is_empty() {
            if let Some(plan) = deployed.resolve(req) {
                return plan;
            }
        }
        self.plan.load_full()
    }
}

/// A running server: its address, and the means to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, waits for in-flight requests (at most `DRAIN_TIMEOUT`), and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// The base URL of a stage (`http://ADDR/STAGE/`, or `http://ADDR/` for the root stage).
    pub fn url(&self, stage: &str) -> String {
        if stage.is_empty() {
            format!("http://{}/", self.addr)
        } else {
            format!("http://{}/{stage}/", self.addr)
        }
    }
}

/// Limits against slow or abusive clients, with API Gateway's figures as defaults.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once; past it, new connections get a 503 and are closed.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection waits for the next request.
    pub header_read_timeout: Duration,
    /// The largest request head (request line and headers) read.
    pub max_head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_connections: 10_000, header_read_timeout: Duration::from_secs(30), max_head_bytes: 16 * 1024 }
    }
}

/// How the listener speaks.
#[derive(Clone, Default)]
pub struct Options {
    pub limits: Limits,
    /// TLS termination; HTTP/2 and HTTP/1.1 are offered by ALPN.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Cleartext HTTP/2 (h2c) next to HTTP/1.1 on a plain listener.
    pub h2c: bool,
}

/// A TLS configuration from PEM files, offering HTTP/2 and HTTP/1.1.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect())
        .map_err(|e| format!("cannot read certificates from {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read a private key from {}: {e}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not go together: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Binds `addr` and serves `gateway` until `shutdown` is called.
pub async fn start(gateway: Arc<Gateway>, addr: SocketAddr) -> std::io::Result<Running> {
    start_with(gateway, addr, Options::default()).await
}

/// As [`start`], with TLS, HTTP/2 and limits.
pub async fn start_with(gateway: Arc<Gateway>, addr: SocketAddr, options: Options) -> std::io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, gateway.clone(), stopped, options));
    Ok(Running { addr, gateway, stop, task })
}

/// Answers a connection over the limit with a 503 and closes it.
async fn shed(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let body = r#"{"message": "Service Unavailable"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(response.as_bytes())).await;
    let _ = stream.shutdown().await;
}

async fn accept_loop(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    mut stopped: watch::Receiver<bool>,
    options: Options,
) {
    let graceful = GracefulShutdown::new();
    // The largest head read, by hyper and by the plain HTTP/1.1 path alike.
    let max_head_bytes = options.limits.max_head_bytes.max(8192);
    let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.limits.header_read_timeout)
        .max_buf_size(max_head_bytes)
        .writev(false)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        // The connection sweep times request heads (see `idle`).
        .header_read_timeout(None)
        .max_buf_size(max_head_bytes)
        // One buffer, one `write` per response: measured faster than a vectored write of
        // head and body for the small responses an API gateway mostly sends.
        .writev(false)
        .keep_alive(true);
    let tls = options.tls.map(tokio_rustls::TlsAcceptor::from);
    // Plain HTTP/1.1 connections each hold a receiver; shutdown waits until all are gone.
    let (drain, _) = watch::channel(());
    let connections = Arc::new(idle::Connections::new(options.limits.header_read_timeout));
    tokio::spawn(connections.clone().sweep_until(stopped.clone()));
    let plain = Arc::new(idle::Listener {
        http1: http1.clone(),
        gateway: gateway.clone(),
        connections,
        keep_alive: options.limits.header_read_timeout,
        max_head_bytes,
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(options.limits.max_connections));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; shedding");
            tokio::spawn(shed(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        // The h2c and TLS connections' service; plain ones build their own (see `idle`).
        let service = || {
            let gateway = gateway.clone();
            service_fn(move |mut req| {
                let gateway = gateway.clone();
                async move {
                    let plan = gateway.plan_for(&mut req);
                    Ok::<_, Infallible>(pipeline::execute(&plan, &gateway.client, req, peer, &*gateway).await)
                }
            })
        };
        match &tls {
            // Plain HTTP/1.1 needs no protocol detection: the lighter connection type serves it.
            None if !options.h2c => {
                let (plain, stopped, held) = (plain.clone(), stopped.clone(), drain.subscribe());
                tokio::spawn(async move {
                    idle::serve(stream, plain, peer, stopped, held).await;
                    drop(permit);
                });
            }
            None => {
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service()).into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            Some(acceptor) => {
                let (acceptor, builder, watcher, service) =
                    (acceptor.clone(), builder.clone(), graceful.watcher(), service());
                let handshake_timeout = options.limits.header_read_timeout;
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let conn = watcher.watch(builder.serve_connection(TokioIo::new(tls), service).into_owned());
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    let drained = async {
        graceful.shutdown().await;
        drain.closed().await;
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, drained).await.is_err() {
        tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}; closing");
    }
}
