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
pub mod metrics;
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
        })
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

/// Binds `addr` and serves `gateway` until `shutdown` is called.
pub async fn start(gateway: Arc<Gateway>, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, gateway.clone(), stopped));
    Ok(Running { addr, gateway, stop, task })
}

async fn accept_loop(listener: TcpListener, gateway: Arc<Gateway>, mut stopped: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(30)).keep_alive(true);
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
        let _ = stream.set_nodelay(true);
        let gateway = gateway.clone();
        let service = service_fn(move |req| {
            let gateway = gateway.clone();
            async move {
                let plan = gateway.plan.load_full();
                Ok::<_, Infallible>(pipeline::execute(&plan, &gateway.client, req, peer, &*gateway).await)
            }
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}; closing");
    }
}
