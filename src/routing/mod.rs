//! Routing a request to a resource and method exactly as API Gateway does: on the raw path,
//! a literal part before `{param}` before `{proxy+}`, per path *and* verb, with backtracking
//! (`runtime.md` §2.3).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The hash of a resource path part. The table's keys come from the API document, so a
/// request can only look keys up, never make a chain longer: a multiply-rotate hash over eight
/// bytes at a time is safe here, and a fraction of SipHash's cost on every request.
#[derive(Default)]
struct PartHasher(u64);

impl Hasher for PartHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl PartHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The verbs `ANY` stands for, in the order of the method table.
pub const VERBS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

fn verb_index(verb: &str) -> Option<usize> {
    VERBS.iter().position(|v| *v == verb)
}

#[derive(Debug, Default, Clone)]
struct Methods {
    by_verb: [Option<u32>; 7],
    any: Option<u32>,
}

impl Methods {
    /// An explicit verb beats `ANY` on the same resource.
    fn find(&self, verb: Option<usize>) -> Option<u32> {
        let verb = verb?;
        self.by_verb[verb].or(self.any)
    }
}

#[derive(Debug, Default, Clone)]
struct Node {
    literal: HashMap<Box<str>, u32, BuildHasherDefault<PartHasher>>,
    param: Option<(Box<str>, u32)>,
    greedy: Option<(Box<str>, u32)>,
    methods: Methods,
}

/// The routing table of one API: a tree of path parts with the methods of each resource.
#[derive(Debug, Clone)]
pub struct Router {
    nodes: Vec<Node>,
}

/// A matched method and its path parameters: names from the resource path, values the raw
/// (still percent-encoded) text of the request path.
#[derive(Debug, PartialEq, Eq)]
pub struct RouteMatch<'p, 'r> {
    pub method: u32,
    pub params: Vec<(&'p str, &'r str)>,
}

impl Default for Router {
    fn default() -> Self {
        Self { nodes: vec![Node::default()] }
    }
}

impl Router {
    /// Adds `verb` (or `ANY`) on the resource `path`, a valid resource path, with `method` as
    /// the value a match returns.
    pub fn insert(&mut self, path: &str, verb: &str, method: u32) {
        let mut at = 0usize;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            at = self.child(at, part);
        }
        let methods = &mut self.nodes[at].methods;
        match verb_index(verb) {
            Some(i) => methods.by_verb[i] = Some(method),
            None => methods.any = Some(method),
        }
    }

    fn child(&mut self, at: usize, part: &str) -> usize {
        let next = self.nodes.len() as u32;
        let node = &mut self.nodes[at];
        let slot = if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            &mut node.greedy.get_or_insert_with(|| (name.into(), next)).1
        } else if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            &mut node.param.get_or_insert_with(|| (name.into(), next)).1
        } else {
            node.literal.entry(part.into()).or_insert(next)
        };
        let id = *slot as usize;
        if id == next as usize {
            self.nodes.push(Node::default());
        }
        id
    }

    /// Finds the method for `verb` on the resource path `path` (the request path after the
    /// stage, raw). Trailing slashes are ignored; inner empty segments are kept.
    pub fn find<'p, 'r>(&'p self, verb: &str, path: &'r str) -> Option<RouteMatch<'p, 'r>> {
        let verb = verb_index(verb);
        let path = path.trim_start_matches('/').trim_end_matches('/');
        let mut params = Vec::new();
        let method = self.walk(0, path, verb, &mut params)?;
        Some(RouteMatch { method, params })
    }

    fn walk<'p, 'r>(
        &'p self,
        at: usize,
        rest: &'r str,
        verb: Option<usize>,
        params: &mut Vec<(&'p str, &'r str)>,
    ) -> Option<u32> {
        let node = &self.nodes[at];
        if rest.is_empty() {
            return node.methods.find(verb);
        }
        let (segment, tail) = match memchr::memchr(b'/', rest.as_bytes()) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        // An inner `//` leaves an empty segment: no literal or `{param}` takes it, a greedy
        // part takes it with the rest.
        if let Some(&child) = node.literal.get(segment) {
            if let Some(m) = self.walk(child as usize, tail, verb, params) {
                return Some(m);
            }
        }
        if let Some((name, child)) = &node.param {
            if !segment.is_empty() {
                params.push((name, segment));
                if let Some(m) = self.walk(*child as usize, tail, verb, params) {
                    return Some(m);
                }
                params.pop();
            }
        }
        if let Some((name, child)) = &node.greedy {
            if let Some(m) = self.nodes[*child as usize].methods.find(verb) {
                params.push((name, rest));
                return Some(m);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let mut r = Router::default();
        for (i, (path, verb)) in routes.iter().enumerate() {
            r.insert(path, verb, i as u32);
        }
        r
    }

    #[test]
    fn literal_then_param_then_greedy_per_verb() {
        let r = router(&[("/test", "POST"), ("/test/any", "ANY"), ("/{proxy+}", "OPTIONS")]);
        assert_eq!(r.find("OPTIONS", "/test").unwrap().method, 2);
        assert_eq!(r.find("POST", "/test").unwrap().method, 0);
        assert_eq!(r.find("OPTIONS", "/test/any").unwrap().method, 1);
        assert_eq!(r.find("GET", "/test").map(|m| m.method), None);
    }

    #[test]
    fn greedy_never_takes_its_parent() {
        let r = router(&[("/{proxy+}", "ANY")]);
        assert!(r.find("GET", "/").is_none());
        assert_eq!(r.find("GET", "/a//b/").unwrap().params, vec![("proxy", "a//b")]);
    }

    #[test]
    fn empty_inner_segment_does_not_match_literals() {
        let r = router(&[("/a/b", "GET")]);
        assert!(r.find("GET", "/a//b").is_none());
        assert!(r.find("GET", "/a/b/").is_some());
    }
}
