//! Access logs: one line per request in the stage's `accessLogSettings.format` (API Gateway's
//! `$context` substitution, so AWS's CLF, JSON, XML and CSV formats work unchanged), written by
//! a background task. A full queue drops the line and counts it rather than stall a request.

use crate::pipeline::Invocation;
use crate::plan::gateway::{parse_template, Piece};
use crate::plan::Plan;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// AWS's JSON format, used for stages without a format of their own.
pub const DEFAULT_FORMAT: &str = r#"{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller","user":"$context.identity.user","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","responseLatency":"$context.responseLatency","integrationLatency":"$context.integrationLatency","stage":"$context.stage","path":"$context.path","errorMessage":"$context.error.message"}"#;

const QUEUE: usize = 65_536;

pub enum Destination {
    Stdout,
    File(PathBuf),
}

pub struct AccessLog {
    tx: mpsc::Sender<String>,
    default_format: Vec<Piece>,
    /// Whether stages without a format of their own are logged (in the default format).
    log_every_stage: bool,
    pub dropped: AtomicU64,
}

impl AccessLog {
    pub async fn start(destination: Destination, log_every_stage: bool) -> std::io::Result<Arc<AccessLog>> {
        let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
        let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match destination {
            Destination::Stdout => Box::new(tokio::io::stdout()),
            Destination::File(path) => {
                Box::new(tokio::fs::OpenOptions::new().create(true).append(true).open(path).await?)
            }
        };
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(64 * 1024);
            while let Some(line) = rx.recv().await {
                buf.extend_from_slice(line.as_bytes());
                buf.push(b'\n');
                // Take whatever else is queued, then write it in one go.
                while buf.len() < 60 * 1024 {
                    match rx.try_recv() {
                        Ok(line) => {
                            buf.extend_from_slice(line.as_bytes());
                            buf.push(b'\n');
                        }
                        Err(_) => break,
                    }
                }
                if out.write_all(&buf).await.is_err() || out.flush().await.is_err() {
                    tracing::warn!("writing the access log failed");
                }
                buf.clear();
            }
        });
        Ok(Arc::new(AccessLog {
            tx,
            default_format: parse_template(DEFAULT_FORMAT),
            log_every_stage,
            dropped: AtomicU64::new(0),
        }))
    }

    /// The line for a finished request, if its stage is logged.
    pub fn line(
        &self,
        plan: &Plan,
        inv: &Invocation,
        status: u16,
        length: Option<u64>,
        latency: Duration,
    ) -> Option<String> {
        let stage = inv.stage.and_then(|i| plan.stages.get(i));
        let format = match stage.and_then(|s| s.access_log_format.as_ref()) {
            Some(f) => f,
            None if self.log_every_stage => &self.default_format,
            None => return None,
        };
        let mut line = String::with_capacity(256);
        for piece in format {
            let value = match piece {
                Piece::Text(t) => {
                    line.push_str(t);
                    continue;
                }
                Piece::Context(name) => match name.as_str() {
                    "status" => Some(status.to_string()),
                    "responseLength" => length.map(|l| l.to_string()),
                    "responseLatency" => Some(latency.as_millis().to_string()),
                    other => inv.context.get(other),
                },
                Piece::StageVariable(name) => stage.and_then(|s| s.variables.get(name).cloned()),
                Piece::MethodRequest(_) => None,
            };
            match value {
                Some(v) if !v.is_empty() => line.push_str(&v),
                _ => line.push('-'),
            }
        }
        Some(line)
    }

    pub fn record(&self, plan: &Plan, inv: &Invocation, status: u16, length: Option<u64>, latency: Duration) {
        if let Some(line) = self.line(plan, inv, status, length, latency) {
            if self.tx.try_send(line).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
