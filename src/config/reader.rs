//! Typed reads of document nodes: each read either yields a value or records a problem at the
//! node's position, so loading goes on and every problem is reported at once.

use super::model::{Located, Ordered};
use super::problem::{child, Collector};
use super::source::{Key, Node, Pos, Value};

/// Keys AWS returns on every shape that mean nothing to a runtime.
const BOOKKEEPING: &[&str] = &["_links", "_embedded", "createdDate", "lastUpdatedDate", "tags", "version", "warnings"];

pub struct Reader {
    pub out: Collector,
}

/// A map node whose keys are taken one by one; what is left is reported as unknown.
pub struct Obj<'n> {
    entries: &'n [(Key, Node)],
    used: Vec<bool>,
    pub path: String,
    pub pos: Pos,
}

impl<'n> Obj<'n> {
    pub fn get(&mut self, key: &str) -> Option<&'n Node> {
        let i = self.entries.iter().position(|(k, _)| k.text == key)?;
        self.used[i] = true;
        let node = &self.entries[i].1;
        (node.value != Value::Null).then_some(node)
    }

    pub fn field(&self, key: &str) -> String {
        child(&self.path, key)
    }
}

impl Reader {
    pub fn new() -> Self {
        Self { out: Collector::default() }
    }

    pub fn obj<'n>(&mut self, node: &'n Node, path: &str) -> Option<Obj<'n>> {
        match &node.value {
            Value::Map(entries) => {
                let mut seen = std::collections::HashSet::new();
                for (k, _) in entries {
                    if !seen.insert(k.text.as_str()) {
                        self.out.at(k.pos, child(path, &k.text), "duplicate key");
                    }
                }
                Some(Obj { entries, used: vec![false; entries.len()], path: path.to_string(), pos: node.pos })
            }
            Value::Null => None,
            _ => {
                self.out.at(node.pos, path, format!("expected a map, found {}", node.kind()));
                None
            }
        }
    }

    /// Reports the keys of `obj` that nobody took, except AWS's bookkeeping keys and the
    /// `ignored` AWS fields that have no runtime meaning here.
    pub fn finish(&mut self, obj: Obj<'_>, ignored: &[&str]) {
        for ((key, _), used) in obj.entries.iter().zip(obj.used) {
            if !used && !BOOKKEEPING.contains(&key.text.as_str()) && !ignored.contains(&key.text.as_str()) {
                self.out.at(key.pos, child(&obj.path, &key.text), "unknown key");
            }
        }
    }

    pub fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            _ => {
                self.out.at(node.pos, path, format!("expected a string, found {}", node.kind()));
                None
            }
        }
    }

    pub fn located(&mut self, node: &Node, path: &str) -> Option<Located<String>> {
        self.string(node, path).map(|value| Located { value, pos: node.pos })
    }

    pub fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s == "true" => Some(true),
            Value::Str(s) if s == "false" => Some(false),
            _ => {
                self.out.at(node.pos, path, format!("expected true or false, found {}", node.kind()));
                None
            }
        }
    }

    pub fn integer(&mut self, node: &Node, path: &str) -> Option<i64> {
        match &node.value {
            Value::Int(i) => Some(*i),
            Value::Str(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            _ => {
                self.out.at(node.pos, path, format!("expected an integer, found {}", node.kind()));
                None
            }
        }
    }

    pub fn number(&mut self, node: &Node, path: &str) -> Option<f64> {
        match &node.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) if s.trim().parse::<f64>().is_ok() => s.trim().parse().ok(),
            _ => {
                self.out.at(node.pos, path, format!("expected a number, found {}", node.kind()));
                None
            }
        }
    }

    /// One of AWS's enum values, spelled exactly as AWS spells it.
    pub fn one_of<T: Copy>(&mut self, node: &Node, path: &str, choices: &[(&str, T)]) -> Option<T> {
        let text = self.string(node, path)?;
        if let Some((_, v)) = choices.iter().find(|(name, _)| *name == text) {
            return Some(*v);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        self.out.at(node.pos, path, format!("must be one of {}, got {text:?}", names.join(", ")));
        None
    }

    pub fn strings(&mut self, node: &Node, path: &str) -> Vec<Located<String>> {
        match &node.value {
            Value::Seq(items) => {
                items.iter().enumerate().filter_map(|(i, item)| self.located(item, &format!("{path}[{i}]"))).collect()
            }
            Value::Null => Vec::new(),
            _ => {
                self.out.at(node.pos, path, format!("expected a list, found {}", node.kind()));
                Vec::new()
            }
        }
    }

    pub fn items<'n>(&mut self, node: &'n Node, path: &str) -> &'n [Node] {
        match &node.value {
            Value::Seq(items) => items,
            Value::Null => &[],
            _ => {
                self.out.at(node.pos, path, format!("expected a list, found {}", node.kind()));
                &[]
            }
        }
    }

    /// A map whose values are all read by `read`, in document order.
    pub fn map_of<'n, T>(
        &mut self,
        node: &'n Node,
        path: &str,
        mut read: impl FnMut(&mut Self, &'n Node, &str) -> Option<T>,
    ) -> Ordered<T> {
        let Some(obj) = self.obj(node, path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in obj.entries {
            if let Some(v) = read(self, value, &child(path, &key.text)) {
                out.push((key.text.clone(), v));
            }
        }
        out
    }

    pub fn string_map(&mut self, node: &Node, path: &str) -> Ordered<Located<String>> {
        self.map_of(node, path, |r, n, p| r.located(n, p))
    }

    pub fn bool_map(&mut self, node: &Node, path: &str) -> Ordered<Located<bool>> {
        self.map_of(node, path, |r, n, p| r.boolean(n, p).map(|value| Located { value, pos: n.pos }))
    }
}
