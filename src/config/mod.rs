//! The API definition document: its model in AWS's shapes, reading it from YAML or JSON, and
//! checking it, with every problem located.

pub mod export;
pub mod load;
pub mod model;
mod openapi;
pub mod problem;
mod reader;
mod resources;
pub mod source;

use crate::plan::{self, Plan};
use problem::{Problem, Problems};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid API document:\n{problems}")]
    Invalid { path: PathBuf, problems: Problems },
}

impl LoadError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Io { .. } => &[],
            Self::Invalid { problems, .. } => &problems.0,
        }
    }
}

/// Reads, checks and compiles a document from text.
pub fn compile_text(text: &str, is_json: bool) -> Result<Plan, Vec<Problem>> {
    compile_in(text, is_json, None)
}

fn compile_in(text: &str, is_json: bool, base_dir: Option<&Path>) -> Result<Plan, Vec<Problem>> {
    let (mut doc, problems) = load::load(text, is_json);
    doc.base_dir = base_dir.map(Path::to_path_buf);
    plan::compile(&doc, problems)
}

/// Reads, checks and compiles the document at `path` (JSON when it ends in `.json`).
pub fn load_file(path: &Path) -> Result<Plan, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    compile_in(&text, is_json, path.parent())
        .map_err(|problems| LoadError::Invalid { path: path.to_path_buf(), problems: Problems(problems) })
}

/// Reads a document into its model, for tools that work on the document itself (export).
pub fn load_document(path: &Path) -> Result<model::Document, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let (doc, problems) = load::load(&text, is_json);
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(LoadError::Invalid { path: path.to_path_buf(), problems: Problems(problems) })
    }
}
