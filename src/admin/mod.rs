//! The management API: API Gateway's REST control plane (`/restapis`, `/vpclinks`, ...) on its
//! own listener, so that boto3, the AWS CLI and the SDKs configure Portico with
//! `--endpoint-url`. Changes live in [`state::State`]; deployments compile into plans that the
//! data plane serves through [`crate::server::registry`].

mod deployments;
pub mod error;
mod methods;
mod models;
pub mod patch;
mod rest_apis;
mod seed;
pub mod sigv4;
pub mod state;
mod test_invoke;
mod vpc_links;

use crate::server::registry::Registry;
use crate::server::Gateway;
use bytes::Bytes;
use error::{bad_request, not_found, AdminError, AdminResult};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{json, Value};
use state::{Disk, RestApiState, State};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The account id in AWS's messages (`Invalid API identifier specified 000000000000:abc`).
pub const ACCOUNT_ID: &str = "000000000000";

/// What a management request answers: a status and a JSON body (none for 202/204 deletes).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
}

impl Reply {
    pub fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body: Some(body) }
    }

    pub fn ok(body: Value) -> Self {
        Self::new(StatusCode::OK, body)
    }

    pub fn empty(status: StatusCode) -> Self {
        Self { status, body: None }
    }
}

pub fn api<'a>(state: &'a State, id: &str) -> AdminResult<&'a RestApiState> {
    state.apis.get(id).ok_or_else(|| not_found(format!("Invalid API identifier specified {ACCOUNT_ID}:{id}")))
}

pub fn api_mut<'a>(state: &'a mut State, id: &str) -> AdminResult<&'a mut RestApiState> {
    state.apis.get_mut(id).ok_or_else(|| not_found(format!("Invalid API identifier specified {ACCOUNT_ID}:{id}")))
}

/// A non-empty string field of a request body.
pub fn string_field(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A page of a collection, as AWS pages them: `limit` (25 by default, at most 500) items from
/// `position`, and the `position` of the next page when there is one.
pub fn page(items: Vec<Value>, query: &[(String, String)]) -> AdminResult<Reply> {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let limit = match param("limit") {
        None => 25,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => return Err(bad_request("1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 500")),
        },
    };
    let start = match param("position") {
        None => 0,
        Some(p) => p.parse::<usize>().map_err(|_| bad_request("Invalid position parameter"))?,
    };
    let end = (start + limit).min(items.len());
    let slice: Vec<Value> = items.get(start.min(items.len())..end).unwrap_or(&[]).to_vec();
    let mut out = json!({ "item": slice });
    if end < items.len() {
        out["position"] = json!(end.to_string());
    }
    Ok(Reply::ok(out))
}

/// The management API's shared state.
pub struct Admin {
    state: Mutex<State>,
    disk: Option<Disk>,
    gateway: Arc<Gateway>,
    credentials: Option<sigv4::Credentials>,
    throttle: Option<crate::plan::throttle::TokenBucket>,
}

/// Starting the management API.
#[derive(Default)]
pub struct AdminOptions<'a> {
    /// Where every change is kept (`--state`).
    pub state_dir: Option<&'a Path>,
    /// A native document that seeds an empty state and gives the environment
    /// (`networkLoadBalancers`, `lambda`, `backendTls`).
    pub seed: Option<Value>,
    /// With credentials, signatures are verified.
    pub credentials: Option<sigv4::Credentials>,
    /// AWS limits management calls per account; with a rate and burst, so does Portico
    /// (`TooManyRequestsException` past them). Off by default.
    pub throttle: Option<(f64, u64)>,
}

impl Admin {
    pub fn open(gateway: Arc<Gateway>, options: AdminOptions) -> Result<Arc<Self>, String> {
        let (disk, stored) = match options.state_dir {
            Some(dir) => {
                let (disk, stored) = Disk::open(dir).map_err(|e| format!("state directory {}: {e}", dir.display()))?;
                (Some(disk), stored)
            }
            None => (None, None),
        };
        let fresh = stored.is_none();
        let mut state = stored.unwrap_or_default();
        if let Some(doc) = &options.seed {
            seed::environment(&mut state, doc);
            if fresh {
                seed::seed(&mut state, doc).map_err(|e| format!("seeding from the document: {e}"))?;
            }
        }
        if let Some(disk) = &disk {
            disk.save(&state).map_err(|e| format!("writing the state: {e}"))?;
        }
        let throttle = options.throttle.map(|(rate, burst)| crate::plan::throttle::TokenBucket::new(rate, burst));
        let admin =
            Arc::new(Self { state: Mutex::new(state), disk, gateway, credentials: options.credentials, throttle });
        admin.publish(&admin.state.lock().unwrap());
        let pending: Vec<String> = admin
            .state
            .lock()
            .unwrap()
            .vpc_links
            .iter()
            .filter(|(_, l)| l.get("status").and_then(Value::as_str) == Some("PENDING"))
            .map(|(id, _)| id.clone())
            .collect();
        for id in pending {
            admin.settle_vpc_link(id);
        }
        Ok(admin)
    }

    /// The state as it is now (for export and tests).
    pub fn snapshot(&self) -> State {
        self.state.lock().unwrap().clone()
    }

    /// Compiles every deployed stage and hands the set to the data plane. A stage that no
    /// longer compiles (its VPC link went away) keeps serving what it served.
    fn publish(&self, state: &State) {
        let previous = self.gateway.deployed.load_full();
        let mut registry = Registry::default();
        for (api, stage, plan) in deployments::compile_stages(state) {
            let plan = match plan {
                Ok(mut plan) => {
                    (self.gateway.prepare)(&mut plan);
                    crate::integration::vpc_link::start_health_checks(&plan.vpc_links);
                    Arc::new(plan)
                }
                Err(e) => match previous.apis.get(&api).and_then(|s| s.get(&stage)) {
                    Some(old) => {
                        tracing::warn!(api, stage, error = %e, "stage does not compile; it keeps its previous plan");
                        old.clone()
                    }
                    None => {
                        tracing::warn!(api, stage, error = %e, "stage does not compile; not served");
                        continue;
                    }
                },
            };
            registry.apis.entry(api).or_default().insert(stage, plan);
        }
        self.gateway.deployed.store(Arc::new(registry));
    }

    /// Runs a change: on success it is on disk before it is acknowledged; on any failure the
    /// state is as it was.
    fn mutate(&self, publish: bool, change: impl FnOnce(&mut State) -> AdminResult<Reply>) -> AdminResult<Reply> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let before = state.clone();
        let reply = match change(&mut state) {
            Ok(reply) => reply,
            Err(e) => {
                *state = before;
                return Err(e);
            }
        };
        if let Some(disk) = &self.disk {
            if let Err(e) = disk.save(&state) {
                *state = before;
                tracing::error!(error = %e, "cannot write the state; the change is refused");
                return Err(AdminError::Internal(format!("The change could not be stored: {e}")));
            }
        }
        if publish {
            self.publish(&state);
        }
        Ok(reply)
    }

    /// Settles a new VPC link shortly after it is created, as AWS provisions one.
    fn settle_vpc_link(self: &Arc<Self>, id: String) {
        let admin = self.clone();
        let settle = move || {
            let _ = admin.mutate(true, |state| {
                vpc_links::resolve(state, &id);
                Ok(Reply::empty(StatusCode::OK))
            });
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    let _ = tokio::task::spawn_blocking(settle).await;
                });
            }
            Err(_) => settle(),
        }
    }

    /// One management request, whole.
    pub async fn handle(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let reply = self.clone().answer(req).await;
        respond(reply, &request_id)
    }

    async fn answer(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> AdminResult<Reply> {
        let (parts, body) = req.into_parts();
        let body = Limited::new(body, 10 * 1024 * 1024)
            .collect()
            .await
            .map_err(|e| bad_request(format!("cannot read the request body: {e}")))?
            .to_bytes();
        if self.throttle.as_ref().is_some_and(|t| !t.try_acquire()) {
            return Err(AdminError::TooManyRequests("Too Many Requests".into()));
        }
        if let Some(credentials) = &self.credentials {
            sigv4::verify(
                credentials,
                parts.method.as_str(),
                parts.uri.path(),
                parts.uri.query(),
                &parts.headers,
                &body,
            )?;
        }
        let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(&body).map_err(|e| bad_request(format!("Invalid JSON body: {e}")))?
        };
        let segments: Vec<String> = parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| crate::mapping::params::form_decode(&s.replace('+', "%2B")))
            .collect();
        let query = parts.uri.query().map(crate::mapping::params::query_pairs).unwrap_or_default();
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        // TestInvokeMethod calls backends: it runs here, not on a blocking thread.
        if let (&Method::POST, ["restapis", id, "resources", rid, "methods", verb]) = (&parts.method, seg.as_slice()) {
            return test_invoke::test_invoke(&self, id, rid, verb, &body).await;
        }
        let method = parts.method.clone();
        let admin = self.clone();
        tokio::task::spawn_blocking(move || admin.dispatch(&method, &segments, &query, &body))
            .await
            .map_err(|e| AdminError::Internal(e.to_string()))?
    }

    fn read(&self, f: impl FnOnce(&mut State) -> AdminResult<Reply>) -> AdminResult<Reply> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state)
    }

    fn dispatch(
        self: &Arc<Self>,
        method: &Method,
        segments: &[String],
        query: &[(String, String)],
        body: &Value,
    ) -> AdminResult<Reply> {
        use deployments as d;
        use methods as m;
        use models as x;
        use rest_apis as r;
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        let w = |publish: bool, f: &dyn Fn(&mut State) -> AdminResult<Reply>| self.mutate(publish, f);
        match (method.as_str(), seg.as_slice()) {
            ("GET", ["restapis"]) => self.read(|s| r::get_rest_apis(s, query)),
            ("POST", ["restapis"]) => w(false, &|s| r::create_rest_api(s, body)),
            ("GET", ["restapis", id]) => self.read(|s| r::get_rest_api(s, id)),
            ("PATCH", ["restapis", id]) => w(false, &|s| r::update_rest_api(s, id, body)),
            ("DELETE", ["restapis", id]) => w(true, &|s| r::delete_rest_api(s, id)),
            ("GET", ["restapis", id, "resources"]) => self.read(|s| r::get_resources(s, id, query)),
            ("GET", ["restapis", id, "resources", rid]) => self.read(|s| r::get_resource(s, id, rid, query)),
            ("POST", ["restapis", id, "resources", rid]) => w(false, &|s| r::create_resource(s, id, rid, body)),
            ("PATCH", ["restapis", id, "resources", rid]) => w(false, &|s| r::update_resource(s, id, rid, body)),
            ("DELETE", ["restapis", id, "resources", rid]) => w(false, &|s| r::delete_resource(s, id, rid)),
            ("GET", ["restapis", id, "resources", rid, "methods", v]) => self.read(|s| m::get_method(s, id, rid, v)),
            ("PUT", ["restapis", id, "resources", rid, "methods", v]) => {
                w(false, &|s| m::put_method(s, id, rid, v, body))
            }
            ("PATCH", ["restapis", id, "resources", rid, "methods", v]) => {
                w(false, &|s| m::update_method(s, id, rid, v, body))
            }
            ("DELETE", ["restapis", id, "resources", rid, "methods", v]) => {
                w(false, &|s| m::delete_method(s, id, rid, v))
            }
            ("GET", ["restapis", id, "resources", rid, "methods", v, "responses", c]) => {
                self.read(|s| m::get_method_response(s, id, rid, v, c))
            }
            ("PUT", ["restapis", id, "resources", rid, "methods", v, "responses", c]) => {
                w(false, &|s| m::put_method_response(s, id, rid, v, c, body))
            }
            ("PATCH", ["restapis", id, "resources", rid, "methods", v, "responses", c]) => {
                w(false, &|s| m::update_method_response(s, id, rid, v, c, body))
            }
            ("DELETE", ["restapis", id, "resources", rid, "methods", v, "responses", c]) => {
                w(false, &|s| m::delete_method_response(s, id, rid, v, c))
            }
            ("GET", ["restapis", id, "resources", rid, "methods", v, "integration"]) => {
                self.read(|s| m::get_integration(s, id, rid, v))
            }
            ("PUT", ["restapis", id, "resources", rid, "methods", v, "integration"]) => {
                w(false, &|s| m::put_integration(s, id, rid, v, body))
            }
            ("PATCH", ["restapis", id, "resources", rid, "methods", v, "integration"]) => {
                w(false, &|s| m::update_integration(s, id, rid, v, body))
            }
            ("DELETE", ["restapis", id, "resources", rid, "methods", v, "integration"]) => {
                w(false, &|s| m::delete_integration(s, id, rid, v))
            }
            ("GET", ["restapis", id, "resources", rid, "methods", v, "integration", "responses", c]) => {
                self.read(|s| m::get_integration_response(s, id, rid, v, c))
            }
            ("PUT", ["restapis", id, "resources", rid, "methods", v, "integration", "responses", c]) => {
                w(false, &|s| m::put_integration_response(s, id, rid, v, c, body))
            }
            ("PATCH", ["restapis", id, "resources", rid, "methods", v, "integration", "responses", c]) => {
                w(false, &|s| m::update_integration_response(s, id, rid, v, c, body))
            }
            ("DELETE", ["restapis", id, "resources", rid, "methods", v, "integration", "responses", c]) => {
                w(false, &|s| m::delete_integration_response(s, id, rid, v, c))
            }
            ("GET", ["restapis", id, "deployments"]) => self.read(|s| d::get_deployments(s, id, query)),
            ("POST", ["restapis", id, "deployments"]) => w(true, &|s| d::create_deployment(s, id, body)),
            ("GET", ["restapis", id, "deployments", did]) => self.read(|s| d::get_deployment(s, id, did)),
            ("PATCH", ["restapis", id, "deployments", did]) => w(false, &|s| d::update_deployment(s, id, did, body)),
            ("DELETE", ["restapis", id, "deployments", did]) => w(false, &|s| d::delete_deployment(s, id, did)),
            ("GET", ["restapis", id, "stages"]) => self.read(|s| d::get_stages(s, id, query)),
            ("POST", ["restapis", id, "stages"]) => w(true, &|s| d::create_stage(s, id, body)),
            ("GET", ["restapis", id, "stages", name]) => self.read(|s| d::get_stage(s, id, name)),
            ("PATCH", ["restapis", id, "stages", name]) => w(true, &|s| d::update_stage(s, id, name, body)),
            ("DELETE", ["restapis", id, "stages", name]) => w(true, &|s| d::delete_stage(s, id, name)),
            ("GET", ["restapis", id, "models"]) => self.read(|s| x::get_models(s, id, query)),
            ("POST", ["restapis", id, "models"]) => w(false, &|s| x::create_model(s, id, body)),
            ("GET", ["restapis", id, "models", name]) => self.read(|s| x::get_model(s, id, name)),
            ("PATCH", ["restapis", id, "models", name]) => w(false, &|s| x::update_model(s, id, name, body)),
            ("DELETE", ["restapis", id, "models", name]) => w(false, &|s| x::delete_model(s, id, name)),
            ("GET", ["restapis", id, "requestvalidators"]) => self.read(|s| x::get_request_validators(s, id, query)),
            ("POST", ["restapis", id, "requestvalidators"]) => w(false, &|s| x::create_request_validator(s, id, body)),
            ("GET", ["restapis", id, "requestvalidators", v]) => self.read(|s| x::get_request_validator(s, id, v)),
            ("PATCH", ["restapis", id, "requestvalidators", v]) => {
                w(false, &|s| x::update_request_validator(s, id, v, body))
            }
            ("DELETE", ["restapis", id, "requestvalidators", v]) => {
                w(false, &|s| x::delete_request_validator(s, id, v))
            }
            ("GET", ["restapis", id, "gatewayresponses"]) => self.read(|s| x::get_gateway_responses(s, id, query)),
            ("GET", ["restapis", id, "gatewayresponses", t]) => self.read(|s| x::get_gateway_response(s, id, t)),
            ("PUT", ["restapis", id, "gatewayresponses", t]) => w(false, &|s| x::put_gateway_response(s, id, t, body)),
            ("PATCH", ["restapis", id, "gatewayresponses", t]) => {
                w(false, &|s| x::update_gateway_response(s, id, t, body))
            }
            ("DELETE", ["restapis", id, "gatewayresponses", t]) => w(false, &|s| x::delete_gateway_response(s, id, t)),
            ("GET", ["vpclinks"]) => self.read(|s| vpc_links::get_vpc_links(s, query)),
            ("POST", ["vpclinks"]) => {
                let mut created = None;
                let reply = self.mutate(false, |s| {
                    let (reply, id) = vpc_links::create_vpc_link(s, body)?;
                    created = Some(id);
                    Ok(reply)
                })?;
                if let Some(id) = created {
                    self.settle_vpc_link(id);
                }
                Ok(reply)
            }
            ("GET", ["vpclinks", id]) => self.read(|s| vpc_links::get_vpc_link(s, id)),
            ("PATCH", ["vpclinks", id]) => w(true, &|s| vpc_links::update_vpc_link(s, id, body)),
            ("DELETE", ["vpclinks", id]) => w(true, &|s| vpc_links::delete_vpc_link(s, id)),
            _ => Err(AdminError::NotFound(format!("No such operation: {method} /{}", segments.join("/")))),
        }
    }
}

fn respond(reply: AdminResult<Reply>, request_id: &str) -> Response<Full<Bytes>> {
    let builder = Response::builder().header("x-amzn-RequestId", request_id);
    let response = match reply {
        Ok(Reply { status, body: Some(body) }) => builder
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string()))),
        Ok(Reply { status, body: None }) => builder.status(status).body(Full::new(Bytes::new())),
        Err(e) => builder
            .status(e.status())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("x-amzn-ErrorType", e.error_type())
            .body(Full::new(Bytes::from(json!({ "message": e.to_string() }).to_string()))),
    };
    response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Serves the management API on `listener` until the process ends.
pub async fn serve(admin: Arc<Admin>, listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let admin = admin.clone();
                async move { Ok::<_, std::convert::Infallible>(admin.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The native document of an API: its current resources and parts, every stage, and the VPC
/// links and environment it needs (`portico export --state DIR --api ID`).
pub fn export(state: &State, id: &str) -> AdminResult<Value> {
    let api = api(state, id)?;
    let mut doc = state.document(&api.snapshot(), None);
    let stages: Vec<Value> = api
        .stages
        .values()
        .map(|s| {
            let keep = ["stageName", "description", "variables", "methodSettings", "accessLogSettings"];
            Value::Object(keep.iter().filter_map(|k| s.get(*k).map(|v| (k.to_string(), v.clone()))).collect())
        })
        .collect();
    if !stages.is_empty() {
        doc["stages"] = Value::Array(stages);
    }
    Ok(doc)
}

/// Reads a state directory without serving it.
pub fn load_state(dir: &Path) -> Result<State, String> {
    match Disk::open(dir) {
        Ok((_, Some(state))) => Ok(state),
        Ok((_, None)) => Err(format!("{} holds no state", dir.display())),
        Err(e) => Err(format!("{}: {e}", dir.display())),
    }
}
