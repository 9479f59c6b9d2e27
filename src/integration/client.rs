//! The pooled HTTP client every integration shares. It lives outside the plan, so a reload
//! keeps its warm keep-alive connections.

use crate::pipeline::Body;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

#[derive(Clone)]
pub struct HttpClient {
    pub(crate) inner: Client<HttpConnector, Body>,
}

impl HttpClient {
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(1024)
            .build(connector);
        Self { inner }
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}
