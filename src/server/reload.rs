//! Hot reload: the document is read again when its file changes (polled) or on SIGHUP; a valid
//! new document is compiled off the request path and swapped in whole, in-flight requests
//! finishing on the plan they started with; an invalid one is refused and the old plan keeps
//! serving.

use super::Gateway;
use crate::config::{self, LoadError};
use crate::plan::Plan;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What a reload changed, by `METHOD /path`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl std::fmt::Display for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty() {
            return write!(f, "no method changed");
        }
        let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        write!(f, "added: {}; removed: {}; changed: {}", list(&self.added), list(&self.removed), list(&self.changed))
    }
}

fn fingerprints(plan: &Plan) -> BTreeMap<String, String> {
    plan.methods.iter().map(|m| (format!("{} {}", m.http_method, m.resource_path), format!("{m:?}"))).collect()
}

/// The methods a new plan adds, removes and changes compared with the old one.
pub fn changes(old: &Plan, new: &Plan) -> Changes {
    let (before, after) = (fingerprints(old), fingerprints(new));
    let mut c = Changes::default();
    for (k, v) in &after {
        match before.get(k) {
            None => c.added.push(k.clone()),
            Some(old) if old != v => c.changed.push(k.clone()),
            _ => {}
        }
    }
    c.removed = before.keys().filter(|k| !after.contains_key(*k)).cloned().collect();
    c
}

/// Reads and compiles the document again and, if it is valid, swaps it in.
pub fn reload(gateway: &Gateway, path: &Path) -> Result<Changes, LoadError> {
    let result = config::load_file(path).map(|mut plan| {
        (gateway.prepare)(&mut plan);
        plan
    });
    match result {
        Ok(plan) => {
            let old = gateway.plan.load_full();
            let changes = changes(&old, &plan);
            if plan.backend_ca != old.backend_ca {
                tracing::warn!("backendTls changes take effect when Portico restarts");
            }
            crate::integration::vpc_link::start_health_checks(&plan.vpc_links);
            gateway.plan.store(Arc::new(plan));
            gateway.reloads.fetch_add(1, Ordering::Relaxed);
            tracing::info!(document = %path.display(), %changes, "reloaded");
            Ok(changes)
        }
        Err(e) => {
            gateway.failed_reloads.fetch_add(1, Ordering::Relaxed);
            tracing::error!(document = %path.display(), "reload refused, the previous document keeps serving");
            for p in e.problems() {
                tracing::error!("{}: {p}", path.display());
            }
            if e.problems().is_empty() {
                tracing::error!("{e}");
            }
            Err(e)
        }
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Polls the document every `interval` and reloads it when it changes.
pub fn watch(gateway: Arc<Gateway>, path: PathBuf, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = stamp(&path);
        loop {
            tokio::time::sleep(interval).await;
            let now = stamp(&path);
            if now.is_some() && now != last {
                last = now;
                let (gateway, path) = (gateway.clone(), path.clone());
                // Compiling may take a while for a large document: keep it off the runtime's
                // request threads.
                let _ = tokio::task::spawn_blocking(move || reload(&gateway, &path)).await;
            }
        }
    })
}
