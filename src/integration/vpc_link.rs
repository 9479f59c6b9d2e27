//! Private integrations: a VPC link leads to a network load balancer, simulated here by its
//! listeners and their targets (Portico's `networkLoadBalancers`). The integration URI's port
//! picks the listener and its host becomes the `Host` header; the request goes to one of the
//! listener's healthy targets, round robin (`runtime.md` §6.3).

use crate::config::model::{Document, HealthCheck, VpcLinkStatus};
use crate::config::problem::Collector;
use crate::pipeline::gateway_response::GatewayError;
use http::Uri;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

#[derive(Debug)]
pub struct Target {
    pub address: String,
    healthy: AtomicBool,
}

impl Target {
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub struct Listener {
    pub targets: Vec<Target>,
    next: AtomicUsize,
    health_check: Option<HealthCheck>,
}

#[derive(Debug)]
pub struct VpcLinkPlan {
    pub status: VpcLinkStatus,
    pub status_message: Option<String>,
    /// Listeners by port, across the link's load balancers.
    pub listeners: HashMap<u16, Arc<Listener>>,
}

/// The VPC links of a document, with their load balancers' listeners.
pub fn compile(doc: &Document, out: &mut Collector) -> HashMap<String, VpcLinkPlan> {
    let mut links = HashMap::new();
    for link in &doc.vpc_links {
        let mut listeners = HashMap::new();
        for arn in &link.target_arns {
            let Some(nlb) = doc.network_load_balancers.iter().find(|n| n.arn == arn.value) else { continue };
            for (i, l) in nlb.listeners.iter().enumerate() {
                for (j, t) in l.targets.iter().enumerate() {
                    if t.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).is_none() {
                        out.at(
                            nlb.pos,
                            format!("networkLoadBalancers {} listeners[{i}].targets[{j}]", nlb.arn),
                            format!("{t:?} is not HOST:PORT"),
                        );
                    }
                }
                let listener = Listener {
                    targets: l
                        .targets
                        .iter()
                        .map(|t| Target { address: t.clone(), healthy: AtomicBool::new(true) })
                        .collect(),
                    next: AtomicUsize::new(0),
                    health_check: l.health_check.clone(),
                };
                listeners.insert(l.port, Arc::new(listener));
            }
        }
        links.insert(
            link.id.clone(),
            VpcLinkPlan { status: link.status, status_message: link.status_message.clone(), listeners },
        );
    }
    links
}

fn configuration(message: String) -> GatewayError {
    GatewayError::ApiConfiguration(message)
}

/// Where a request through `link_id` goes: the same path and query at a healthy target of the
/// listener on the URI's port. Returns the target URI and the original authority for `Host`.
pub fn route(links: &HashMap<String, VpcLinkPlan>, link_id: &str, uri: &Uri) -> Result<(Uri, String), GatewayError> {
    let link = links.get(link_id).ok_or_else(|| configuration(format!("no VPC link {link_id:?}")))?;
    if link.status != VpcLinkStatus::Available {
        return Err(configuration(format!(
            "VPC link {link_id} is not AVAILABLE ({:?}){}",
            link.status,
            link.status_message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
        )));
    }
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let listener = link
        .listeners
        .get(&port)
        .ok_or_else(|| configuration(format!("VPC link {link_id} has no listener on port {port}")))?;
    let healthy: Vec<&Target> = listener.targets.iter().filter(|t| t.is_healthy()).collect();
    if healthy.is_empty() {
        return Err(GatewayError::IntegrationFailure(format!(
            "no healthy target behind port {port} of VPC link {link_id}"
        )));
    }
    let target = healthy[listener.next.fetch_add(1, Ordering::Relaxed) % healthy.len()];
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let rewritten: Uri = format!("{}://{}{path}", if https { "https" } else { "http" }, target.address)
        .parse()
        .map_err(|_| configuration(format!("target {} is not an address", target.address)))?;
    Ok((rewritten, authority))
}

/// Starts the health checks of every listener that has one. Each check stops when its
/// listener is dropped (the plan it belongs to was replaced).
pub fn start_health_checks(links: &HashMap<String, VpcLinkPlan>) {
    for link in links.values() {
        for listener in link.listeners.values() {
            if let Some(check) = &listener.health_check {
                let check = check.clone();
                let weak = Arc::downgrade(listener);
                tokio::spawn(health_loop(weak, check));
            }
        }
    }
}

async fn probe(address: &str, check: &HealthCheck) -> bool {
    let timeout = Duration::from_secs(check.timeout_seconds as u64);
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        if check.protocol != "HTTP" {
            return Some(true);
        }
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let path = check.path.as_deref().unwrap_or("/");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nUser-Agent: ELB-HealthChecker/2.0\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        let status: u16 = std::str::from_utf8(&head[9..12]).ok()?.parse().ok()?;
        Some((200..400).contains(&status))
    };
    matches!(tokio::time::timeout(timeout, attempt).await, Ok(Some(true)))
}

async fn health_loop(listener: Weak<Listener>, check: HealthCheck) {
    let interval = Duration::from_secs(check.interval_seconds as u64);
    loop {
        let Some(l) = listener.upgrade() else { return };
        let addresses: Vec<String> = l.targets.iter().map(|t| t.address.clone()).collect();
        drop(l);
        let mut results = Vec::with_capacity(addresses.len());
        for a in &addresses {
            results.push(probe(a, &check).await);
        }
        let Some(l) = listener.upgrade() else { return };
        for (t, ok) in l.targets.iter().zip(results) {
            if t.healthy.swap(ok, Ordering::Relaxed) != ok {
                tracing::info!(target = %t.address, healthy = ok, "VPC link target health changed");
            }
        }
        drop(l);
        tokio::time::sleep(interval).await;
    }
}
