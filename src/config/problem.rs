//! Document problems: each names where it is (the document path of the field, and the line
//! and column in the file when known) and what is wrong, and all are reported together.

use super::source::Pos;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pos: Option<Pos>,
    /// Where in the document, e.g. `resources[3] /pets/{petId} GET methodIntegration.uri`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(pos) => write!(f, "{pos}: {}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem of a document that cannot be served.
#[derive(Debug, Clone, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Collects problems while a document is read or compiled.
#[derive(Debug, Default)]
pub struct Collector {
    pub problems: Vec<Problem>,
}

impl Collector {
    pub fn add(&mut self, pos: Option<Pos>, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { pos, path: path.into(), message: message.into() });
    }

    pub fn at(&mut self, pos: Pos, path: impl Into<String>, message: impl Into<String>) {
        self.add(Some(pos), path, message);
    }
}

/// `base.key` for identifier-like keys, `base["key"]` for the rest (content types,
/// mapping expressions).
pub fn child(base: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if base.ends_with(' ') && plain {
        return format!("{base}{key}");
    }
    match (base.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{base}.{key}"),
        (_, false) => format!("{base}[{key:?}]"),
    }
}
