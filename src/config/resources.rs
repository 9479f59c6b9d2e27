//! The resource tree: paths from `path` or from `id`/`parentId`/`pathPart` (as GetResources
//! returns them), implied parents, and the tree rules API Gateway enforces when a resource is
//! created (one variable child per parent, greedy parts last).

use super::load::{generated_id, read_methods};
use super::model::{Located, Resource};
use super::reader::Reader;
use super::source::{Node, Pos};
use std::collections::{BTreeMap, HashMap};

pub struct RawResource {
    pub index: usize,
    pub pos: Pos,
    pub id: Option<Located<String>>,
    pub parent_id: Option<Located<String>>,
    pub path_part: Option<Located<String>>,
    pub path: Option<Located<String>>,
    pub methods_node: Option<Node>,
}

fn join(parent: &str, part: &str) -> String {
    if parent == "/" {
        format!("/{part}")
    } else {
        format!("{parent}/{part}")
    }
}

struct Resolver<'a> {
    raw: &'a [RawResource],
    by_id: HashMap<&'a str, usize>,
    memo: Vec<Option<Option<String>>>,
    visiting: Vec<bool>,
}

impl Resolver<'_> {
    fn path_of(&mut self, r: &mut Reader, i: usize) -> Option<String> {
        if let Some(done) = &self.memo[i] {
            return done.clone();
        }
        if self.visiting[i] {
            let res = &self.raw[i];
            r.out.at(
                res.pos,
                format!("resources[{}].parentId", res.index),
                "the parentId chain loops back to this resource",
            );
            self.memo[i] = Some(None);
            return None;
        }
        self.visiting[i] = true;
        let res = &self.raw[i];
        let base = format!("resources[{}]", res.index);
        let from_parent = match (&res.parent_id, &res.path_part) {
            (Some(pid), Some(part)) => match self.by_id.get(pid.value.as_str()).copied() {
                Some(p) => self.path_of(r, p).map(|pp| join(&pp, &part.value)),
                None => {
                    r.out.at(pid.pos, format!("{base}.parentId"), format!("no resource has the id {:?}", pid.value));
                    None
                }
            },
            (None, Some(part)) if res.path.is_none() => {
                r.out.at(part.pos, format!("{base}.parentId"), "is required with pathPart when path is not given");
                None
            }
            (Some(pid), None) if res.path.is_none() => {
                r.out.at(pid.pos, format!("{base}.pathPart"), "is required with parentId when path is not given");
                None
            }
            _ => None,
        };
        let path = match (&res.path, from_parent) {
            (Some(p), Some(computed)) => {
                if p.value != computed {
                    r.out.at(
                        p.pos,
                        format!("{base}.path"),
                        format!("{:?} disagrees with parentId/pathPart, which give {computed:?}", p.value),
                    );
                }
                Some(p.value.clone())
            }
            (Some(p), None) => Some(p.value.clone()),
            (None, Some(computed)) => Some(computed),
            (None, None) if res.parent_id.is_none() && res.path_part.is_none() => {
                if res.id.is_some() {
                    Some("/".to_string())
                } else {
                    r.out.at(res.pos, format!("{base}.path"), "is required (or id, parentId and pathPart)");
                    None
                }
            }
            (None, None) => None,
        };
        self.visiting[i] = false;
        self.memo[i] = Some(path.clone());
        path
    }
}

/// Why a path written in the document cannot be an API Gateway resource path, if it cannot.
fn path_problem(path: &str) -> Option<String> {
    if path == "/" {
        return None;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Some("must start with '/'".into());
    };
    let parts: Vec<&str> = rest.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Some("has an empty path part (a doubled or trailing '/')".into());
        }
        if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let (name, greedy) = match inner.strip_suffix('+') {
                Some(n) => (n, true),
                None => (inner, false),
            };
            if name.is_empty()
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            {
                return Some(format!("has an invalid path parameter {part:?}"));
            }
            if greedy && i + 1 != parts.len() {
                return Some(format!("Cannot create a child of a resource with a greedy path variable: {part}"));
            }
        } else if !part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b',' | b':')) {
            return Some(format!(
                "path part {part:?} may contain only letters, digits, '_', '-', '.', ',', ':' or be a {{parameter}}"
            ));
        }
    }
    None
}

pub fn resolve_resources(r: &mut Reader, raw: Vec<RawResource>) -> Vec<Resource> {
    let mut by_id = HashMap::new();
    for (i, res) in raw.iter().enumerate() {
        if let Some(id) = &res.id {
            if by_id.insert(id.value.as_str(), i).is_some() {
                r.out.at(
                    id.pos,
                    format!("resources[{}].id", res.index),
                    format!("another resource already has the id {:?}", id.value),
                );
            }
        }
    }
    let mut resolver = Resolver { raw: &raw, by_id, memo: vec![None; raw.len()], visiting: vec![false; raw.len()] };
    let mut by_path: BTreeMap<String, Resource> = BTreeMap::new();
    for (i, res) in raw.iter().enumerate() {
        let Some(path) = resolver.path_of(r, i) else {
            continue;
        };
        let base = format!("resources[{}]", res.index);
        if let Some(problem) = path_problem(&path) {
            r.out.at(res.path.as_ref().map_or(res.pos, |p| p.pos), format!("{base} {path}"), problem);
            continue;
        }
        let methods = match &res.methods_node {
            Some(n) => read_methods(r, n, &format!("{base} {path}")),
            None => Vec::new(),
        };
        if by_path.contains_key(&path) {
            r.out.at(res.pos, format!("{base} {path}"), "another resource already has this path");
            continue;
        }
        let id = res.id.as_ref().map_or_else(|| generated_id(&path), |l| l.value.clone());
        by_path.insert(path.clone(), Resource { id, path, resource_methods: methods, pos: res.pos, index: res.index });
    }
    // Parents are implied: `/pets/{petId}` alone also creates `/pets` and `/`.
    let written: Vec<(String, Pos, usize)> = by_path.values().map(|r| (r.path.clone(), r.pos, r.index)).collect();
    for (path, pos, index) in &written {
        let mut p = path.as_str();
        while let Some(cut) = p.rfind('/') {
            p = if cut == 0 { "/" } else { &p[..cut] };
            by_path.entry(p.to_string()).or_insert_with(|| Resource {
                id: generated_id(p),
                path: p.to_string(),
                resource_methods: Vec::new(),
                pos: *pos,
                index: *index,
            });
            if p == "/" {
                break;
            }
        }
    }
    // One variable child per parent, as AWS refuses a second one at CreateResource.
    let mut variable_child: HashMap<String, String> = HashMap::new();
    let mut in_document_order: Vec<&Resource> = by_path.values().collect();
    in_document_order.sort_by_key(|r| (r.index, r.path.len()));
    for res in in_document_order {
        if res.path == "/" {
            continue;
        }
        let cut = res.path.rfind('/').unwrap_or(0);
        let (parent, part) = (if cut == 0 { "/" } else { &res.path[..cut] }, &res.path[cut + 1..]);
        if !part.starts_with('{') {
            continue;
        }
        match variable_child.get(parent) {
            Some(existing) if existing != part => r.out.at(
                res.pos,
                format!("resources[{}] {}", res.index, res.path),
                format!(
                    "A sibling ({existing}) of this resource already has a variable path part -- only one is allowed"
                ),
            ),
            _ => {
                variable_child.insert(parent.to_string(), part.to_string());
            }
        }
    }
    let mut out: Vec<Resource> = by_path.into_values().collect();
    out.sort_by_key(|r| (r.index, r.path.len()));
    out
}
