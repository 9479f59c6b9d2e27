//! What the management API holds: every RestApi in AWS's response shapes, its deployments
//! (each a snapshot of the API as a native document) and stages, the account's VPC links, and
//! Portico's own environment (load balancers, the Lambda endpoint). With a state directory,
//! every acknowledged change is on disk first (write, fsync, rename, fsync the directory).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

pub type Obj = Map<String, Value>;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub apis: indexmap::IndexMap<String, RestApiState>,
    pub vpc_links: indexmap::IndexMap<String, Obj>,
    /// Portico's keys of the native document that are not part of an API: `networkLoadBalancers`,
    /// `lambda`, `backendTls`; every deployment is compiled with them.
    pub environment: Obj,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApiState {
    pub rest_api: Obj,
    pub resources: indexmap::IndexMap<String, Obj>,
    pub models: indexmap::IndexMap<String, Obj>,
    pub request_validators: indexmap::IndexMap<String, Obj>,
    pub gateway_responses: indexmap::IndexMap<String, Obj>,
    pub deployments: indexmap::IndexMap<String, Deployment>,
    pub stages: indexmap::IndexMap<String, Obj>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Deployment {
    /// The Deployment as AWS returns it (`id`, `description`, `createdDate`).
    pub deployment: Obj,
    /// The API as it was deployed, a native document without stages.
    pub snapshot: Value,
}

/// An id like AWS's: lowercase letters and digits.
pub fn new_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in uuid::Uuid::new_v4().into_bytes() {
            if out.len() < len {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The fields of each shape that the native document knows; the rest (`createdDate`, `tags`,
/// ...) stay in the management API only.
fn pick(obj: &Obj, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter().filter_map(|k| obj.get(*k).filter(|v| !v.is_null()).map(|v| (k.to_string(), v.clone()))).collect(),
    )
}

const REST_API_KEYS: &[&str] =
    &["id", "name", "description", "binaryMediaTypes", "minimumCompressionSize", "apiKeySource"];
const STAGE_KEYS: &[&str] =
    &["stageName", "description", "variables", "deploymentId", "methodSettings", "accessLogSettings"];
const VPC_LINK_KEYS: &[&str] = &["id", "name", "description", "targetArns", "status", "statusMessage"];
const MODEL_KEYS: &[&str] = &["name", "description", "contentType", "schema"];
const VALIDATOR_KEYS: &[&str] = &["id", "name", "validateRequestBody", "validateRequestParameters"];
const GATEWAY_RESPONSE_KEYS: &[&str] = &["responseType", "statusCode", "responseParameters", "responseTemplates"];

impl RestApiState {
    pub fn id(&self) -> &str {
        self.rest_api.get("id").and_then(Value::as_str).unwrap_or("")
    }

    /// The API as a native document without stages: what a deployment freezes.
    pub fn snapshot(&self) -> Value {
        json!({
            "restApi": pick(&self.rest_api, REST_API_KEYS),
            "resources": self.resources.values().cloned().map(Value::Object).collect::<Vec<_>>(),
            "models": self.models.values().map(|m| pick(m, MODEL_KEYS)).collect::<Vec<_>>(),
            "requestValidators": self.request_validators.values().map(|v| pick(v, VALIDATOR_KEYS)).collect::<Vec<_>>(),
            "gatewayResponses": self.gateway_responses.values().map(|g| pick(g, GATEWAY_RESPONSE_KEYS)).collect::<Vec<_>>(),
        })
    }
}

impl State {
    /// A whole native document: a snapshot, one stage, and what every API shares.
    pub fn document(&self, snapshot: &Value, stage: Option<&Obj>) -> Value {
        let mut doc = snapshot.as_object().cloned().unwrap_or_default();
        if let Some(stage) = stage {
            doc.insert("stages".into(), json!([pick(stage, STAGE_KEYS)]));
        }
        let links: Vec<Value> = self.vpc_links.values().map(|l| pick(l, VPC_LINK_KEYS)).collect();
        if !links.is_empty() {
            doc.insert("vpcLinks".into(), Value::Array(links));
        }
        for (k, v) in &self.environment {
            doc.insert(k.clone(), v.clone());
        }
        Value::Object(doc)
    }

    /// The ARNs of the load balancers the environment knows.
    pub fn load_balancer_arns(&self) -> Vec<String> {
        self.environment
            .get("networkLoadBalancers")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(|n| n.get("arn")?.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

/// Where the state lives on disk.
pub struct Disk {
    dir: PathBuf,
}

impl Disk {
    const FILE: &'static str = "state.json";

    pub fn open(dir: &Path) -> std::io::Result<(Self, Option<State>)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(Self::FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok((Self { dir: dir.to_path_buf() }, state))
    }

    /// Replaces the state on disk atomically: a crash leaves the old state or the new, whole.
    pub fn save(&self, state: &State) -> std::io::Result<()> {
        use std::io::Write;
        let bytes = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        let tmp = self.dir.join(format!("{}.tmp", Self::FILE));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, self.dir.join(Self::FILE))?;
        std::fs::File::open(&self.dir)?.sync_all()
    }
}
