//! The APIs deployed through the management API, by id and stage, and how a request reaches
//! one: `/restapis/{apiId}/{stage}/_user_request_/{path}`, `Host: {apiId}.execute-api.*`, or the
//! plain `/{stage}/{path}` while a single API is deployed.

use crate::plan::Plan;
use http::Request;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub struct Registry {
    /// API id → stage name → the plan compiled from the stage's deployment.
    pub apis: HashMap<String, HashMap<String, Arc<Plan>>>,
}

fn first_segment(path: &str) -> &str {
    let trimmed = path.trim_start_matches('/');
    trimmed.split('/').next().unwrap_or("")
}

impl Registry {
    pub fn is_empty(&self) -> bool {
        self.apis.is_empty()
    }

    fn stage(&self, api: &str, path: &str) -> Option<Arc<Plan>> {
        self.apis.get(api)?.get(first_segment(path)).cloned()
    }

    /// The plan that serves `req`, with the request's path rewritten to `/{stage}/{path}` when
    /// it came in the `/restapis/...` form.
    pub fn resolve<B>(&self, req: &mut Request<B>) -> Option<Arc<Plan>> {
        let path = req.uri().path();
        if let Some(rest) = path.strip_prefix("/restapis/") {
            let mut parts = rest.splitn(3, '/');
            let (api, stage, tail) = (parts.next()?, parts.next()?, parts.next()?);
            let user_path = tail.strip_prefix("_user_request_")?;
            if !user_path.is_empty() && !user_path.starts_with('/') {
                return None;
            }
            let plan = self.apis.get(api)?.get(stage)?.clone();
            let user_path = if user_path.is_empty() { "/" } else { user_path };
            let rewritten = match req.uri().query() {
                Some(q) => format!("/{stage}{user_path}?{q}"),
                None => format!("/{stage}{user_path}"),
            };
            *req.uri_mut() = rewritten.parse().ok()?;
            return Some(plan);
        }
        let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        if let Some((api, _)) = host.split_once(".execute-api.") {
            if let Some(plan) = self.stage(api, path) {
                return Some(plan);
            }
        }
        if self.apis.len() == 1 {
            let api = self.apis.keys().next()?;
            return self.stage(api, path);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str) -> Arc<Plan> {
        let doc = format!(
            r#"{{"restApi": {{"name": "{name}"}}, "stages": [{{"stageName": "dev"}}],
                "resources": [{{"path": "/", "resourceMethods": {{"GET": {{"methodIntegration": {{"type": "MOCK"}}}}}}}}]}}"#
        );
        Arc::new(crate::config::compile_text(&doc, true).unwrap())
    }

    fn request(uri: &str, host: &str) -> Request<()> {
        Request::builder().uri(uri).header("host", host).body(()).unwrap()
    }

    #[test]
    fn each_form_reaches_its_api_and_stage() {
        let mut registry = Registry::default();
        registry.apis.entry("aaa".into()).or_default().insert("dev".into(), plan("a"));
        let mut req = request("/restapis/aaa/dev/_user_request_/pets/1?x=1", "localhost:4000");
        assert_eq!(registry.resolve(&mut req).unwrap().api_name, "a");
        assert_eq!(req.uri().to_string(), "/dev/pets/1?x=1");
        let mut req = request("/restapis/aaa/dev/_user_request_", "localhost");
        assert!(registry.resolve(&mut req).is_some());
        assert_eq!(req.uri().path(), "/dev/");
        // One API deployed: the plain stage path reaches it.
        assert_eq!(registry.resolve(&mut request("/dev/pets", "localhost")).unwrap().api_name, "a");

        registry.apis.entry("bbb".into()).or_default().insert("dev".into(), plan("b"));
        assert!(registry.resolve(&mut request("/dev/pets", "localhost")).is_none());
        let by_host = registry.resolve(&mut request("/dev/pets", "bbb.execute-api.localhost:4000")).unwrap();
        assert_eq!(by_host.api_name, "b");
        assert!(registry.resolve(&mut request("/restapis/ccc/dev/_user_request_/", "localhost")).is_none());
        assert!(registry.resolve(&mut request("/restapis/aaa/prod/_user_request_/", "localhost")).is_none());
        assert!(registry.resolve(&mut request("/restapis/aaa/dev/elsewhere/", "localhost")).is_none());
    }
}
