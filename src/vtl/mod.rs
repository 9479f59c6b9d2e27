//! API Gateway's Velocity Template Language: parser, evaluator and value model. It knows
//! nothing of HTTP; API Gateway's variables plug in from `mapping` as host objects.

mod ast;
pub mod error;
mod eval;
pub mod json;
mod methods;
mod parser;
pub(crate) mod swar;
pub mod value;

use ast::{Access, Expr, Node};
pub use error::{Error, ErrorKind};
pub use eval::Limits;
use methods::Regexes;
use parser::Symbols;
use std::sync::Arc;
pub use value::{Object, Value};

/// A parsed template, ready to render any number of times.
#[derive(Debug)]
pub struct Template {
    nodes: Vec<Node>,
    symbols: Symbols,
    regexes: Regexes,
    /// Where `$foreach` and `$velocityCount` live, when the template mentions them: every
    /// loop sets them, so they are found once here instead of by name on every render.
    foreach: Option<ast::Slot>,
    velocity_count: Option<ast::Slot>,
    /// The template only reads `$foreach`'s properties (`$foreach.hasNext`, `.count`, ...):
    /// nothing can keep a loop's `$foreach` or see its parent, so one serves every loop of a
    /// render, each setting it and putting it back, instead of one made and swapped in per
    /// loop ([`foreach_only_read`]).
    lean_foreach: bool,
    source: Arc<str>,
    /// The size of the last output, to size the next one's buffer.
    size_hint: std::sync::atomic::AtomicUsize,
}

/// A template variable's place among a render's [`Vars`].
#[derive(Debug, Clone, Copy)]
pub struct Variable(ast::Slot);

/// The variables of one render, by slot.
pub struct Vars {
    values: Vec<Value>,
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, Error> {
        let mut symbols = Symbols::default();
        let mut nodes = parser::parse(source, &mut symbols)?;
        ast::fuse(&mut nodes);
        symbols.macros.values_mut().for_each(|m| ast::fuse(&mut m.body));
        symbols.blocks.iter_mut().for_each(ast::fuse);
        let (foreach, velocity_count) = (symbols.find("foreach"), symbols.find("velocityCount"));
        let lean_foreach = foreach.is_some_and(|s| foreach_only_read(&nodes, &symbols, s));
        let mut t = Template {
            nodes,
            symbols,
            regexes: Regexes::new(),
            foreach,
            velocity_count,
            lean_foreach,
            source: source.into(),
            size_hint: Default::default(),
        };
        t.compile_regexes();
        Ok(t)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Fresh variables for a render: all null until set.
    pub fn vars(&self) -> Vars {
        Vars { values: vec![Value::Null; self.symbols.names.len()] }
    }

    /// Where `$name` lives, if the template mentions it: looked up once, when a host compiles
    /// the template, and then given to [`Vars::set_at`] on every render.
    pub fn variable(&self, name: &str) -> Option<Variable> {
        self.symbols.find(name).map(Variable)
    }

    pub fn render(&self, vars: Vars, limits: Limits) -> Result<String, Error> {
        use std::sync::atomic::Ordering::Relaxed;
        // Room for what the last render wrote and a quarter more, so that a few bytes more
        // (or a call reserving room for its worst case near the end) need no larger buffer.
        let last = self.size_hint.load(Relaxed).max(self.source.len());
        let hint = last + last / 4 + 64;
        let _changes = json::ChangesKept::new();
        let out = eval::Renderer::new(self, vars.values, limits, hint).render().map(|(out, _)| out)?;
        // Stored only when it changed: renders of one template on every thread share it.
        if self.size_hint.load(Relaxed) != out.len() {
            self.size_hint.store(out.len(), Relaxed);
        }
        Ok(out)
    }

    /// The string literals passed as the first argument of `$root.method(...)` for any of
    /// `methods`, so a host can prepare what they name (JSONPaths for `$input.path`).
    pub fn literal_arguments(&self, root: &str, methods: &[&str]) -> Vec<Arc<str>> {
        let mut found = Vec::new();
        let Some(slot) = self.symbols.find(root) else {
            return found;
        };
        visit_refs(bodies(&self.nodes, &self.symbols), &mut |r| {
            if r.root == slot {
                if let Some(Access::Method(name, args)) = r.path.first() {
                    if methods.contains(&&**name) {
                        if let Some(Expr::Str(s)) = args.first() {
                            found.push(s.clone());
                        }
                    }
                }
            }
        });
        found
    }

    /// Compiles the literal patterns of `replaceAll`, `replaceFirst`, `matches` and `split`
    /// once, so rendering does not.
    fn compile_regexes(&mut self) {
        let mut patterns: Vec<String> = Vec::new();
        let mut collect = |r: &ast::Ref| {
            for a in &r.path {
                if let Access::Method(name, args) = a {
                    if let Some(Expr::Str(p)) = args.first() {
                        match &**name {
                            "replaceAll" | "replaceFirst" | "split" => patterns.push(p.to_string()),
                            "matches" => patterns.push(methods::anchored(p)),
                            _ => {}
                        }
                    }
                }
            }
        };
        visit_refs(bodies(&self.nodes, &self.symbols), &mut collect);
        for p in patterns {
            if let Ok(re) = regex::Regex::new(&p) {
                self.regexes.insert(p.into(), re);
            }
        }
    }
}

impl Vars {
    /// Sets a variable found beforehand with [`Template::variable`] on the same template.
    pub fn set_at(&mut self, variable: Variable, value: Value) {
        if let Some(slot) = self.values.get_mut(variable.0 as usize) {
            *slot = value;
        }
    }
}

/// Whether every reference to `$foreach` (slot `s`) reads one of its properties, and nothing
/// binds it (`#set`, `#foreach`, `#define`, a macro parameter): then no template code can
/// hold on to a loop's `$foreach`, nor tell one loop's from another's.
fn foreach_only_read(nodes: &[Node], symbols: &Symbols, s: ast::Slot) -> bool {
    const PROPERTIES: [&str; 5] = ["count", "index", "hasNext", "first", "last"];
    const METHODS: [&str; 5] = ["getCount", "getIndex", "hasNext", "isFirst", "isLast"];
    let mut read_only = !symbols.macros.values().any(|m| m.params.contains(&s));
    for body in bodies(nodes, symbols) {
        walk(body, &mut |seen| {
            read_only &= match seen {
                Seen::Ref(r) if r.root == s => match r.path.first() {
                    Some(Access::Property(name)) => PROPERTIES.contains(&&**name),
                    Some(Access::Method(name, args)) => args.is_empty() && METHODS.contains(&&**name),
                    _ => false,
                },
                Seen::Node(Node::Foreach { var: bound, .. } | Node::Define { slot: bound, .. }) => *bound != s,
                _ => true,
            };
        });
    }
    read_only
}

/// What a walk of a template's tree meets: each node, and each reference of the nodes and of
/// their expressions, strings' included.
enum Seen<'a> {
    Node(&'a Node),
    Ref(&'a ast::Ref),
}

/// The tree's bodies: the template's, its macros' and its `#define` blocks'.
fn bodies<'a>(nodes: &'a [Node], symbols: &'a Symbols) -> impl Iterator<Item = &'a [Node]> {
    std::iter::once(nodes)
        .chain(symbols.macros.values().map(|m| &m.body[..]))
        .chain(symbols.blocks.iter().map(|b| &b[..]))
}

/// The references of every body ([`walk`]).
fn visit_refs<'a>(bodies: impl Iterator<Item = &'a [Node]>, f: &mut dyn FnMut(&ast::Ref)) {
    for body in bodies {
        walk(body, &mut |seen| {
            if let Seen::Ref(r) = seen {
                f(r)
            }
        });
    }
}

fn walk(nodes: &[Node], f: &mut dyn FnMut(Seen)) {
    for n in nodes {
        f(Seen::Node(n));
        match n {
            Node::Text(_) => {}
            Node::Ref(r) | Node::MutatingRef(r) | Node::EscapedRef { r, .. } => walk_ref(r, f),
            Node::Print(p) => walk_ref(&p.r, f),
            Node::Set { target, value, .. } => {
                walk_ref(target, f);
                walk_expr(value, f);
            }
            Node::If { branches, otherwise } => {
                for (c, body) in branches {
                    walk_expr(c, f);
                    walk(body, f);
                }
                if let Some(body) = otherwise {
                    walk(body, f);
                }
            }
            Node::Foreach { iterable, body, .. } => {
                walk_expr(iterable, f);
                walk(body, f);
            }
            Node::MacroCall { args, .. } => args.iter().for_each(|a| walk_expr(a, f)),
            Node::Define { .. } => {}
            Node::Break | Node::Stop => {}
        }
    }
}

fn walk_ref(r: &ast::Ref, f: &mut dyn FnMut(Seen)) {
    f(Seen::Ref(r));
    for a in &r.path {
        match a {
            Access::Method(_, args) => args.iter().for_each(|e| walk_expr(e, f)),
            Access::Index(e) => walk_expr(e, f),
            Access::Property(_) => {}
        }
    }
}

fn walk_expr(e: &Expr, f: &mut dyn FnMut(Seen)) {
    match e {
        Expr::Ref(r) | Expr::MutatingRef(r) => walk_ref(r, f),
        Expr::Interpolated(nodes) => walk(nodes, f),
        Expr::List(items) => items.iter().for_each(|i| walk_expr(i, f)),
        Expr::Map(entries) => entries.iter().for_each(|(k, v)| {
            walk_expr(k, f);
            walk_expr(v, f);
        }),
        Expr::Range(a, b) | Expr::Binary(_, a, b) => {
            walk_expr(a, f);
            walk_expr(b, f);
        }
        Expr::Not(e) | Expr::Neg(e) => walk_expr(e, f),
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Float(_) | Expr::Str(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::Template;

    /// One `$foreach` serves a whole render only where no template code could tell.
    #[test]
    fn foreach_shared_only_when_its_properties_are_all_that_is_read() {
        let lean = |source: &str| Template::parse(source).unwrap().lean_foreach;
        assert!(lean(include_str!("../../benches/data/template.vtl")));
        assert!(lean("#foreach($x in [1])$foreach.count$foreach.isLast()#end"));
        assert!(lean("#macro(m $a)$foreach.index#end#define($d)$foreach.first#end"));
        for kept in [
            "#foreach($x in [1])#set($f = $foreach)#end",
            "#foreach($x in [1])$foreach#end",
            "#foreach($x in [1])$foreach.parent.count#end",
            "#foreach($x in [1])$foreach.getParent()#end",
            "#foreach($x in [1])#m($foreach)#end",
            "#macro(m $foreach)#end",
            "#foreach($foreach in [1])#end",
            "#define($foreach)x#end",
            "#set($foreach.count = 2)#set($foreach = 1)",
            "#set($s = \"#foreach($foreach in [1])#end\")$foreach.count",
            "$foreach.count#set($l = [\"#define($foreach)x#end\"])",
        ] {
            assert!(!lean(kept), "{kept}");
        }
    }
}
