//! Models (JSON Schema draft 4) compiled into validators once, with `$ref`s to other models
//! (`https://apigateway.amazonaws.com/restapis/{apiId}/models/{name}`) resolved from the
//! document itself.

use crate::config::model::Model;
use crate::config::problem::Collector;
use jsonschema::{Draft, Retrieve, Uri, Validator};
use std::collections::HashMap;
use std::sync::Arc;

/// Answers `$ref`s by model name from the document, and nothing else (no network).
struct DocumentModels(HashMap<String, serde_json::Value>);

impl Retrieve for DocumentModels {
    fn retrieve(&self, uri: &Uri<String>) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let path = uri.path().as_str();
        let name = path.rsplit('/').next().unwrap_or(path);
        self.0.get(name).cloned().ok_or_else(|| format!("no model named {name:?} for $ref {uri}").into())
    }
}

/// Every model of the document that has a schema, compiled.
pub fn compile(models: &[Model], out: &mut Collector) -> HashMap<String, Arc<Validator>> {
    let schemas: HashMap<String, serde_json::Value> =
        models.iter().filter_map(|m| m.schema.as_ref().map(|s| (m.name.clone(), s.value.clone()))).collect();
    let mut compiled = HashMap::new();
    for (i, m) in models.iter().enumerate() {
        let Some(schema) = &m.schema else { continue };
        let options = jsonschema::options().with_draft(Draft::Draft4).with_retriever(DocumentModels(schemas.clone()));
        match options.build(&schema.value) {
            Ok(v) => {
                compiled.insert(m.name.clone(), Arc::new(v));
            }
            Err(e) => {
                out.at(schema.pos, format!("models[{i}] {} schema", m.name), format!("is not a valid JSON Schema: {e}"))
            }
        }
    }
    compiled
}
