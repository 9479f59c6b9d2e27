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
        let mut t = Template {
            nodes,
            symbols,
            regexes: Regexes::new(),
            foreach,
            velocity_count,
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
        visit_refs(&self.nodes, &mut |r| {
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
        let bodies = self.symbols.macros.values().map(|m| &m.body).chain(self.symbols.blocks.iter());
        for body in bodies {
            visit_refs(body, &mut |r| {
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
        }
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
        visit_refs(&self.nodes, &mut collect);
        for m in self.symbols.macros.values() {
            visit_refs(&m.body, &mut collect);
        }
        for b in &self.symbols.blocks {
            visit_refs(b, &mut collect);
        }
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

fn visit_refs(nodes: &[Node], f: &mut dyn FnMut(&ast::Ref)) {
    for n in nodes {
        match n {
            Node::Text(_) => {}
            Node::Ref(r) | Node::MutatingRef(r) | Node::EscapedRef { r, .. } => visit_ref(r, f),
            Node::Print(p) => visit_ref(&p.r, f),
            Node::Set { target, value, .. } => {
                visit_ref(target, f);
                visit_expr(value, f);
            }
            Node::If { branches, otherwise } => {
                for (c, body) in branches {
                    visit_expr(c, f);
                    visit_refs(body, f);
                }
                if let Some(body) = otherwise {
                    visit_refs(body, f);
                }
            }
            Node::Foreach { iterable, body, .. } => {
                visit_expr(iterable, f);
                visit_refs(body, f);
            }
            Node::MacroCall { args, .. } => args.iter().for_each(|a| visit_expr(a, f)),
            Node::Define { .. } => {}
            Node::Break | Node::Stop => {}
        }
    }
}

fn visit_ref(r: &ast::Ref, f: &mut dyn FnMut(&ast::Ref)) {
    f(r);
    for a in &r.path {
        match a {
            Access::Method(_, args) => args.iter().for_each(|e| visit_expr(e, f)),
            Access::Index(e) => visit_expr(e, f),
            Access::Property(_) => {}
        }
    }
}

fn visit_expr(e: &Expr, f: &mut dyn FnMut(&ast::Ref)) {
    match e {
        Expr::Ref(r) | Expr::MutatingRef(r) => visit_ref(r, f),
        Expr::Interpolated(nodes) => visit_refs(nodes, f),
        Expr::List(items) => items.iter().for_each(|i| visit_expr(i, f)),
        Expr::Map(entries) => entries.iter().for_each(|(k, v)| {
            visit_expr(k, f);
            visit_expr(v, f);
        }),
        Expr::Range(a, b) | Expr::Binary(_, a, b) => {
            visit_expr(a, f);
            visit_expr(b, f);
        }
        Expr::Not(e) | Expr::Neg(e) => visit_expr(e, f),
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Float(_) | Expr::Str(_) => {}
    }
}
