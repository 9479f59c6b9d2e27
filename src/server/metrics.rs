//! Metrics in API Gateway's CloudWatch terms (`Count`, `4XXError`, `5XXError`, `Latency`,
//! `IntegrationLatency`) by API, stage, resource and method, plus process and reload
//! figures, served for Prometheus on a listener of their own with `/healthz` and `/readyz`.

use super::Gateway;
use crate::pipeline::Invocation;
use crate::plan::Plan;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// Histogram bucket bounds, in milliseconds.
const BUCKETS: [u64; 14] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 29000, 60000];

/// Each observation counts in one bucket (the first bound it is under); the cumulative
/// counts Prometheus wants are summed when the metrics are read, not on every request.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_ms: AtomicU64,
}

impl Histogram {
    fn observe(&self, ms: u64) {
        if let Some(i) = BUCKETS.iter().position(|bound| ms <= *bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum_ms.load(Ordering::Relaxed));
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

#[derive(Default)]
struct Series {
    count: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    latency: Histogram,
    integration_latency: Histogram,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    api: String,
    stage: String,
    resource: String,
    method: String,
}

pub struct Metrics {
    series: RwLock<HashMap<Key, Arc<Series>>>,
    started: SystemTime,
    pub ready: std::sync::atomic::AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self { series: RwLock::default(), started: SystemTime::now(), ready: std::sync::atomic::AtomicBool::new(true) }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn record(&self, plan: &Plan, inv: &Invocation, status: StatusCode, latency: Duration) {
        // After the first request of a stage and method, the series is found through the
        // plan's slot: no lock, no key to build.
        let slot = plan.observer_slot(inv.stage, inv.method);
        if let Some(series) = slot.and_then(|s| s.get()).and_then(|a| a.downcast_ref::<Series>()) {
            series.observe(inv, status, latency);
            return;
        }
        let series = self.series_for(plan, inv);
        series.observe(inv, status, latency);
        if let Some(slot) = slot {
            let _ = slot.set(series);
        }
    }

    fn series_for(&self, plan: &Plan, inv: &Invocation) -> Arc<Series> {
        let stage = inv.stage.and_then(|i| plan.stages.get(i)).map_or("", |s| &*s.name);
        let method = inv.method.and_then(|i| plan.methods.get(i));
        let key = Key {
            api: plan.api_id.to_string(),
            stage: stage.to_string(),
            resource: method.map_or_else(String::new, |m| m.resource_path.to_string()),
            method: method.map_or_else(String::new, |m| m.http_method.clone()),
        };
        let mut all = self.series.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        all.entry(key).or_default().clone()
    }
}

impl Series {
    fn observe(&self, inv: &Invocation, status: StatusCode, latency: Duration) {
        let series = self;
        series.count.fetch_add(1, Ordering::Relaxed);
        if status.is_client_error() {
            series.client_errors.fetch_add(1, Ordering::Relaxed);
        } else if status.is_server_error() {
            series.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        series.latency.observe(latency.as_millis() as u64);
        if let Some(ms) = inv.context.integration_latency {
            series.integration_latency.observe(ms);
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self, gateway: &Gateway) -> String {
        let mut out = String::new();
        let all = self
            .series
            .read()
            .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>())
            .unwrap_or_default();
        let mut all = all;
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let labels = |k: &Key| {
            format!(
                "api=\"{}\",stage=\"{}\",resource=\"{}\",method=\"{}\"",
                escape(&k.api),
                escape(&k.stage),
                escape(&k.resource),
                escape(&k.method)
            )
        };
        for (name, help, pick) in [
            ("apigateway_count", "Requests (CloudWatch Count)", 0),
            ("apigateway_4xx_error", "Client errors (CloudWatch 4XXError)", 1),
            ("apigateway_5xx_error", "Server errors (CloudWatch 5XXError)", 2),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (k, s) in &all {
                let v = [&s.count, &s.client_errors, &s.server_errors][pick].load(Ordering::Relaxed);
                let _ = writeln!(out, "{name}{{{}}} {v}", labels(k));
            }
        }
        let _ = writeln!(out, "# HELP apigateway_latency_milliseconds Time from request to response (CloudWatch Latency)\n# TYPE apigateway_latency_milliseconds histogram");
        for (k, s) in &all {
            s.latency.write(&mut out, "apigateway_latency_milliseconds", &labels(k));
        }
        let _ = writeln!(out, "# HELP apigateway_integration_latency_milliseconds Time spent in the integration (CloudWatch IntegrationLatency)\n# TYPE apigateway_integration_latency_milliseconds histogram");
        for (k, s) in &all {
            s.integration_latency.write(&mut out, "apigateway_integration_latency_milliseconds", &labels(k));
        }
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(&mut out, "portico_reloads_total", "Documents reloaded", gateway.reloads.load(Ordering::Relaxed));
        counter(
            &mut out,
            "portico_reload_failures_total",
            "Reloads refused (invalid documents)",
            gateway.failed_reloads.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "portico_idle_releases_total",
            "Quiet keep-alive connections whose buffers were given back",
            gateway.idle_releases.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP portico_parked_connections Connections waiting for a request without buffers\n# TYPE portico_parked_connections gauge\nportico_parked_connections {}",
            gateway.parked_connections.load(Ordering::Relaxed)
        );
        let dropped = gateway.access_log.as_ref().map_or(0, |a| a.dropped.load(Ordering::Relaxed));
        counter(
            &mut out,
            "portico_access_log_dropped_total",
            "Access log lines dropped because the writer fell behind",
            dropped,
        );
        process_metrics(&mut out, self.started);
        out
    }
}

/// Process figures from /proc, where there is one.
fn process_metrics(out: &mut String, started: SystemTime) {
    let start = started.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let _ = writeln!(out, "# HELP process_start_time_seconds Start time of the process\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {start}");
    if let Ok(statm) = std::fs::read_to_string("/proc/self/statm") {
        if let Some(pages) = statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()) {
            let _ = writeln!(out, "# HELP process_resident_memory_bytes Resident memory\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}", pages * 4096);
        }
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let cpu = (ticks(11) + ticks(12)) / 100.0;
        let _ = writeln!(out, "# HELP process_cpu_seconds_total CPU time\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}");
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        let _ = writeln!(
            out,
            "# HELP process_open_fds Open file descriptors\n# TYPE process_open_fds gauge\nprocess_open_fds {}",
            fds.count()
        );
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` until the process ends.
pub async fn serve(gateway: Arc<Gateway>, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                let gateway = gateway.clone();
                async move {
                    let (status, body) = match req.uri().path() {
                        "/metrics" => (StatusCode::OK, gateway.metrics.render(&gateway)),
                        "/healthz" => (StatusCode::OK, "ok\n".to_string()),
                        "/readyz" if gateway.metrics.ready.load(Ordering::Relaxed) => {
                            (StatusCode::OK, "ready\n".to_string())
                        }
                        "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n".to_string()),
                        _ => (StatusCode::NOT_FOUND, "not found\n".to_string()),
                    };
                    let mut r = Response::new(Full::new(Bytes::from(body)));
                    *r.status_mut() = status;
                    r.headers_mut().insert("content-type", http::HeaderValue::from_static("text/plain; version=0.0.4"));
                    Ok::<_, Infallible>(r)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}
