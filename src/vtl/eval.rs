//! The evaluator: walks the tree with the template's variables in slots, bounded in loop
//! iterations, macro depth and output size so that no template can hang or exhaust memory.

use super::ast::*;
use super::error::{at, Error, ErrorKind};
use super::json::{Children, Doc};
use super::methods;
use super::value::{Foreach, Number, Value, MAX_NESTING};
use super::Template;
use std::cell::Cell;
use std::rc::Rc;

/// Values inside lists and maps one render may print or compare as text in all: a fraction of
/// a second of work.
const PRINT_BUDGET: u64 = 20_000_000;

/// The bounds of one render. A render that exceeds one fails with an error (API Gateway's
/// 500 for the client) instead of running on.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Iterations of one `#foreach` (API Gateway's documented quota is 1,000).
    pub loop_iterations: usize,
    /// Iterations of all loops together, so nested loops stay bounded too.
    pub total_iterations: usize,
    /// Nested macro calls (Velocity's default `velocimacro.max.depth`).
    pub macro_depth: usize,
    /// Bytes of output (API Gateway's 10 MB payload limit).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { loop_iterations: 1000, total_iterations: 100_000, macro_depth: 20, output_bytes: 10 * 1024 * 1024 }
    }
}

enum Flow {
    Normal,
    Break,
    Stop,
}

/// What a `#foreach` walks: a JSON container by position (no copy of its items), or the
/// items of a list or map, taken one by one.
enum Items {
    Json(Rc<Doc>, Children),
    Values(Vec<Value>),
    /// Nothing to walk (null, a host object): the loop does not run.
    None,
}

/// Evaluated call arguments. One (the usual count) or two live on the stack, so that only
/// the values there are dropped afterwards.
enum Args {
    None,
    One(Value),
    Two([Value; 2]),
    Many(Vec<Value>),
}

impl Args {
    fn as_slice(&self) -> &[Value] {
        match self {
            Args::None => &[],
            Args::One(value) => std::slice::from_ref(value),
            Args::Two(values) => values,
            Args::Many(values) => values,
        }
    }
}

/// A render's variables, one per slot of its template: the tree holds only that template's
/// slots, so each indexes them without a check.
pub struct Slots(Box<[Value]>);

impl std::ops::Index<Slot> for Slots {
    type Output = Value;
    #[inline(always)]
    fn index(&self, s: Slot) -> &Value {
        debug_assert!((s as usize) < self.0.len());
        // SAFETY: `Renderer::new` makes one value for each slot of the template, and every
        // slot of its tree was given out by its symbol table (`Symbols::slot`).
        unsafe { self.0.get_unchecked(s as usize) }
    }
}

impl std::ops::IndexMut<Slot> for Slots {
    #[inline(always)]
    fn index_mut(&mut self, s: Slot) -> &mut Value {
        debug_assert!((s as usize) < self.0.len());
        // SAFETY: as for `index`.
        unsafe { self.0.get_unchecked_mut(s as usize) }
    }
}

pub struct Renderer<'t> {
    t: &'t Template,
    vars: Slots,
    out: String,
    limits: Limits,
    iterations: usize,
    depth: usize,
    spare_foreach: Option<Rc<Foreach>>,
    /// The `$foreach` every loop shares when the template only reads its properties
    /// (`Template::lean_foreach`); also in its slot.
    lean_foreach: Option<Rc<Foreach>>,
}

impl<'t> Renderer<'t> {
    pub fn new(t: &'t Template, mut vars: Vec<Value>, limits: Limits, capacity: usize) -> Self {
        // Variables made for another template may be fewer.
        vars.resize(t.symbols.names.len().max(vars.len()), Value::Null);
        Self {
            t,
            vars: Slots(vars.into_boxed_slice()),
            out: String::with_capacity(capacity.min(limits.output_bytes)),
            limits,
            iterations: 0,
            depth: 0,
            spare_foreach: None,
            lean_foreach: None,
        }
    }

    #[cold]
    fn limit(&self, offset: Offset, message: impl Into<String>) -> Box<Error> {
        Box::new(at(&self.t.source, offset as usize, ErrorKind::Limit, message))
    }

    pub fn render(mut self) -> Result<(String, Vec<Value>), Error> {
        if let (true, Some(s)) = (self.t.lean_foreach, self.t.foreach) {
            let idle = Rc::new(Foreach { index: Cell::new(0), len: Cell::new(0), parent: Value::Null });
            self.vars[s] = Value::Foreach(idle.clone());
            self.lean_foreach = Some(idle);
        }
        super::value::set_print_budget(PRINT_BUDGET);
        let rendered = self.nodes(&self.t.nodes).and_then(|_| self.check_print_budget(0));
        // What the host prints after the render (overrides) is not the template's to pay for.
        super::value::set_print_budget(u64::MAX);
        rendered.map_err(|e| *e)?;
        Ok((self.out, self.vars.0.into_vec()))
    }

    fn write_value(&mut self, v: &Value, offset: Offset) -> Result<(), Box<Error>> {
        self.check_printable(v, offset)?;
        v.write_display(&mut self.out);
        self.check_print_budget(offset)?;
        self.check_output(offset)
    }

    /// Printing and comparing collections, inside the output or not, is bounded in all
    /// ([`PRINT_BUDGET`]): once spent, the rest prints as `...` at once, and the render fails
    /// at the next value it prints or the end of the loop it is in.
    #[inline]
    fn check_print_budget(&self, offset: Offset) -> Result<(), Box<Error>> {
        if super::value::print_budget_spent() {
            return Err(
                self.limit(offset, format!("the template printed more than {PRINT_BUDGET} values of lists and maps"))
            );
        }
        Ok(())
    }

    /// Lists and maps nested past [`MAX_NESTING`] levels, or holding themselves through each
    /// other, fail the render (Java would run its stack out printing them: API Gateway's 500).
    #[inline]
    fn check_printable(&self, v: &Value, offset: Offset) -> Result<(), Box<Error>> {
        if v.is_collection() && v.nested_deeper_than(MAX_NESTING) {
            return Err(self.limit(
                offset,
                format!(
                    "a list or map nested more than {MAX_NESTING} levels deep, or holding itself, cannot be printed"
                ),
            ));
        }
        Ok(())
    }

    #[inline]
    fn check_output(&self, offset: Offset) -> Result<(), Box<Error>> {
        if self.out.len() > self.limits.output_bytes {
            return Err(self.output_exceeded(offset));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn output_exceeded(&self, offset: Offset) -> Box<Error> {
        self.limit(offset, format!("the output is larger than {} bytes", self.limits.output_bytes))
    }

    #[inline(never)]
    fn nodes(&mut self, nodes: &'t [Node]) -> Result<Flow, Box<Error>> {
        self.run(nodes)
    }

    /// The output bound is checked after each reference and here, at the end of a list of
    /// nodes, rather than after each text: a list's texts add at most the template's size.
    /// Written out in [`Self::nodes`] and in the loop of [`Self::foreach`], so that an
    /// iteration costs no call (whose entry spills the renderer's state each time).
    #[inline(always)]
    fn run(&mut self, nodes: &'t [Node]) -> Result<Flow, Box<Error>> {
        for n in nodes {
            match self.node(n)? {
                Flow::Normal => {}
                other => {
                    self.check_output(0)?;
                    return Ok(other);
                }
            }
        }
        self.check_output(0)?;
        Ok(Flow::Normal)
    }

    #[inline(always)]
    fn node(&mut self, n: &'t Node) -> Result<Flow, Box<Error>> {
        match n {
            Node::Text(t) => t.write_to(&mut self.out),
            Node::Print(p) => {
                if let Some(t) = &p.before {
                    t.write_to(&mut self.out);
                }
                match self.write_reference(&p.r)? {
                    Flow::Normal => {}
                    other => return Ok(other),
                }
                if let Some(t) = &p.after {
                    t.write_to(&mut self.out);
                }
            }
            // Only inside double-quoted strings (elsewhere references are fused into prints).
            Node::Ref(r) => return self.write_lone_reference(r),
            Node::MutatingRef(r) => match self.mutating_reference(r)? {
                Value::Block(id) => return self.block(id, r.at),
                v => self.write_value(&v, r.at)?,
            },
            Node::EscapedRef { r, source } => self.write_escaped(r, source)?,
            Node::Set { target, value, .. } => {
                let v = self.expr(value)?;
                self.assign(target, v)?;
            }
            Node::If { branches, otherwise } => {
                for (cond, body) in branches {
                    if self.condition(cond)? {
                        return self.branch(body);
                    }
                }
                if let Some(body) = otherwise {
                    return self.branch(body);
                }
            }
            Node::Foreach { var, iterable, body, at } => return self.foreach(*var, iterable, body, *at),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
            Node::MacroCall { name, args, source, at } => return self.call_macro(name, args, source, *at),
            Node::Define { slot, block } => self.vars[*slot] = Value::Block(*block),
        }
        Ok(Flow::Normal)
    }

    /// The body of the `#if` branch taken. Most are one text (the comma between items, a
    /// line of JSON), written here instead of through another walk of the tree.
    #[inline(always)]
    fn branch(&mut self, body: &'t [Node]) -> Result<Flow, Box<Error>> {
        if let [Node::Text(t)] = body {
            t.write_to(&mut self.out);
            return Ok(Flow::Normal);
        }
        self.nodes(body)
    }

    /// An `#if` condition. A reference is tested where it is, without a clone.
    #[inline(always)]
    fn condition(&mut self, e: &'t Expr) -> Result<bool, Box<Error>> {
        match e {
            Expr::Ref(r) => match (&self.vars[r.root], r.path.as_slice()) {
                // A `#define` block renders when tested (it may `#set`), so it takes the long way.
                (Value::Block(_), _) => {}
                (v, []) => return Ok(v.is_truthy()),
                (Value::Foreach(f), [Access::Property(name)]) => return Ok(f.test(name)),
                (Value::Json { id, doc }, path) => {
                    if let Some(node) = json_path(doc, *id, path) {
                        return Ok(doc.is_truthy(node));
                    }
                }
                _ => {}
            },
            // Numbers compared without building values (reading operands has no effects, so
            // falling back to the general way is safe).
            Expr::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne), l, r) => {
                if let (Some(a), Some(b)) = (self.number_operand(l), self.number_operand(r)) {
                    return Ok(compare_numbers(*op, a, b));
                }
            }
            _ => {}
        }
        Ok(self.expr(e)?.is_truthy())
    }

    /// An operand that is a number literal or a reference to a JSON number.
    #[inline(always)]
    fn number_operand(&self, e: &Expr) -> Option<Number> {
        match e {
            Expr::Int(i) => Some(Number::Int(*i)),
            Expr::Float(f) => Some(Number::Float(*f)),
            Expr::Ref(r) => match &self.vars[r.root] {
                Value::Json { id, doc } => doc.number(json_path(doc, *id, &r.path)?),
                Value::Int(i) if r.path.is_empty() => Some(Number::Int(*i)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Renders a `#define` block where it is referenced, bounded like a macro call.
    fn block(&mut self, id: u32, offset: Offset) -> Result<Flow, Box<Error>> {
        if self.depth >= self.limits.macro_depth {
            return Err(self.limit(offset, format!("#define blocks nested deeper than {}", self.limits.macro_depth)));
        }
        self.depth += 1;
        let flow = self.nodes(&self.t.symbols.blocks[id as usize]);
        self.depth -= 1;
        flow
    }

    #[inline(never)]
    fn foreach(&mut self, var: Slot, iterable: &'t Expr, body: &'t [Node], offset: Offset) -> Result<Flow, Box<Error>> {
        let found = self.json_items(iterable);
        let mut items = match found {
            Some(items) => items,
            None => self.items(iterable)?,
        };
        let len = match &items {
            Items::Json(_, children) => children.len(),
            Items::Values(values) => values.len(),
            Items::None => return Ok(Flow::Normal),
        };
        if len > self.limits.loop_iterations {
            return Err(self.limit(
                offset,
                format!("#foreach would run {len} iterations; the limit is {}", self.limits.loop_iterations),
            ));
        }
        self.iterations += len;
        if self.iterations > self.limits.total_iterations {
            return Err(self.limit(
                offset,
                format!("the template ran more than {} loop iterations", self.limits.total_iterations),
            ));
        }
        let saved_var = std::mem::take(&mut self.vars[var]);
        let saved_count = self.t.velocity_count.map(|s| std::mem::take(&mut self.vars[s]));
        let flow = match &self.lean_foreach {
            Some(state) => {
                let (index, outer_len) = (state.index.get(), state.len.replace(len));
                let flow = self.iterate(var, &mut items, len, body, None)?;
                if let Some(state) = &self.lean_foreach {
                    state.index.set(index);
                    state.len.set(outer_len);
                }
                flow
            }
            None => self.foreach_scoped(var, &mut items, len, body)?,
        };
        self.vars[var] = saved_var;
        if let (Some(s), Some(v)) = (self.t.velocity_count, saved_count) {
            self.vars[s] = v;
        }
        self.check_print_budget(offset)?;
        Ok(flow)
    }

    /// A loop with a `$foreach` of its own, which the body may keep (`#set($f = $foreach)`)
    /// and whose `parent` is the enclosing loop's.
    #[inline(never)]
    fn foreach_scoped(
        &mut self,
        var: Slot,
        items: &mut Items,
        len: usize,
        body: &'t [Node],
    ) -> Result<Flow, Box<Error>> {
        // The last finished loop's `$foreach` is reused when nothing kept it: an inner loop
        // then allocates nothing after its first run.
        let mut state = match self.spare_foreach.take() {
            Some(mut spare) => match Rc::get_mut(&mut spare) {
                Some(f) => {
                    f.index.set(0);
                    f.len.set(len);
                    spare
                }
                None => Rc::new(Foreach { index: Cell::new(0), len: Cell::new(len), parent: Value::Null }),
            },
            None => Rc::new(Foreach { index: Cell::new(0), len: Cell::new(len), parent: Value::Null }),
        };
        // The enclosing `$foreach` moves into this one as its parent, and back out at the end:
        // swapped where they lie (moved through a temporary, a value stalls on the copy).
        if let Some(s) = self.t.foreach {
            if let Some(f) = Rc::get_mut(&mut state) {
                std::mem::swap(&mut f.parent, &mut self.vars[s]);
            }
            self.vars[s] = Value::Foreach(state.clone());
        }
        let flow = self.iterate(var, items, len, body, Some(&state))?;
        if let Some(s) = self.t.foreach {
            // Dropping the slot's handle leaves `state` the only one unless the body kept it.
            self.vars[s] = Value::Null;
            match Rc::get_mut(&mut state) {
                Some(f) => std::mem::swap(&mut f.parent, &mut self.vars[s]),
                None => self.vars[s] = state.parent.clone(),
            }
        }
        self.spare_foreach = Some(state);
        Ok(flow)
    }

    /// A loop's iterations: the loop variable and `$foreach` (the loop's own, or else the
    /// shared one) set for each, then the body.
    #[inline(always)]
    fn iterate(
        &mut self,
        var: Slot,
        items: &mut Items,
        len: usize,
        body: &'t [Node],
        scoped: Option<&Foreach>,
    ) -> Result<Flow, Box<Error>> {
        for i in 0..len {
            if let Some(state) = scoped.or(self.lean_foreach.as_deref()) {
                state.index.set(i);
            }
            let slot = &mut self.vars[var];
            match items {
                Items::Json(doc, children) => Value::set_node(slot, doc, doc.child(*children, i)),
                Items::Values(values) => *slot = std::mem::take(&mut values[i]),
                Items::None => {}
            }
            if let Some(s) = self.t.velocity_count {
                self.vars[s] = Value::Int(i as i64 + 1);
            }
            match self.run(body)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Normal)
    }

    /// What `#foreach` walks when it names a JSON container through properties of a JSON
    /// variable (`$item.tags`): found where it is, without building a value.
    /// (Written out rather than through [`json_node`]: that way the loop's set-up compiled to
    /// 700 more instructions a render of the bench template.)
    fn json_items(&self, iterable: &Expr) -> Option<Items> {
        let Expr::Ref(r) = iterable else { return None };
        let Value::Json { id, doc } = &self.vars[r.root] else { return None };
        let children = doc.children(json_path(doc, *id, &r.path)?)?;
        Some(Items::Json(doc.clone(), children))
    }

    /// What `#foreach` walks, in general.
    #[inline(never)]
    fn items(&mut self, iterable: &'t Expr) -> Result<Items, Box<Error>> {
        let v = self.expr(iterable)?;
        Ok(match v.changed().unwrap_or(v) {
            Value::Json { id, doc } => match doc.children(id) {
                Some(children) => Items::Json(doc, children),
                None => Items::None,
            },
            Value::Object(_) | Value::Foreach(_) | Value::Null => Items::None,
            v => Items::Values(v.iter_items().unwrap_or_default()),
        })
    }

    fn call_macro(&mut self, name: &str, args: &'t [Expr], source: &str, offset: Offset) -> Result<Flow, Box<Error>> {
        let Some(m) = self.t.symbols.macros.get(name) else {
            self.out.push_str(source);
            return Ok(Flow::Normal);
        };
        if self.depth >= self.limits.macro_depth {
            return Err(self.limit(offset, format!("macro calls nested deeper than {}", self.limits.macro_depth)));
        }
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.expr(a)?);
        }
        let saved: Vec<Value> = m.params.iter().map(|p| self.vars[*p].clone()).collect();
        for (i, p) in m.params.iter().enumerate() {
            self.vars[*p] = values.get(i).cloned().unwrap_or_default();
        }
        self.depth += 1;
        let flow = self.nodes(&m.body);
        self.depth -= 1;
        for (p, v) in m.params.iter().zip(saved) {
            self.vars[*p] = v;
        }
        match flow? {
            Flow::Stop => Ok(Flow::Stop),
            _ => Ok(Flow::Normal),
        }
    }

    /// `#set`: Velocity 1.7 leaves the target unchanged when the value is null.
    fn assign(&mut self, target: &'t Ref, value: Value) -> Result<(), Box<Error>> {
        if value.is_null() {
            return Ok(());
        }
        let Some((last, init)) = target.path.split_last() else {
            self.vars[target.root] = value;
            return Ok(());
        };
        let (mut holder, done) = self.make_mutable(target.root, init)?;
        for a in &init[done..] {
            holder = self.access(holder, a)?;
        }
        let key = match last {
            Access::Property(name) => Value::from(&**name),
            Access::Index(e) => self.expr(e)?,
            Access::Method(..) => return Ok(()),
        };
        match (&holder, &key) {
            (Value::Map(m), k) => {
                // Printed before the map is borrowed to change: the key may be the map itself.
                let k = k.to_display();
                m.borrow_mut().insert(k.into(), value);
            }
            (Value::List(l) | Value::JsonList(l), Value::Int(i)) => {
                let mut l = l.borrow_mut();
                if let Some(slot) = usize::try_from(*i).ok().and_then(|i| l.get_mut(i)) {
                    *slot = value;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Before a template changes a collection it reached from a variable (`$m.put(..)`,
    /// `$m.items.add(..)`, `$m.l.get(0).put(..)`, `#set($m.a.b = 1)`), each JSON array or
    /// object on the way becomes a list or map that can change, stored where it was found: the
    /// change is then seen through the variable, as it is on API Gateway, whose JSON values
    /// are Java collections. Returns what the walk reached and how many steps of `path` it
    /// took (it stops at a method other than `get`): the caller goes on from there, so that no
    /// index or argument is evaluated twice (`$m.get($keys.remove(0)).put(..)` removes one).
    #[inline(never)]
    fn make_mutable(&mut self, root: Slot, path: &'t [Access]) -> Result<(Value, usize), Box<Error>> {
        let slot = &mut self.vars[root];
        if let Some(copy) = slot.mutable_copy() {
            *slot = copy;
        }
        let mut holder = slot.clone();
        for (done, a) in path.iter().enumerate() {
            let key = match a {
                Access::Property(name) => Value::from(&**name),
                Access::Index(e) => self.expr(e)?,
                Access::Method(name, args) if &**name == "get" && args.len() == 1 => self.expr(&args[0])?,
                Access::Method(..) => return Ok((holder, done)),
            };
            let child = |child: Option<&mut Value>| {
                let child = child?;
                if let Some(copy) = child.mutable_copy() {
                    *child = copy;
                }
                Some(child.clone())
            };
            let stored = match &holder {
                Value::Map(m) => {
                    let key = key.display();
                    child(m.borrow_mut().get_mut(&*key))
                }
                Value::List(l) | Value::JsonList(l) => match (&key, &mut *l.borrow_mut()) {
                    (Value::Int(i), items) => child(usize::try_from(*i).ok().and_then(|i| items.get_mut(i))),
                    _ => None,
                },
                _ => None,
            };
            // Not a member stored in a list or map: the step is read as any reference reads
            // it, with the key already evaluated.
            holder = match (stored, a) {
                (Some(next), _) => next,
                (None, Access::Property(name)) => methods::property(&holder, name),
                (None, Access::Index(_)) => methods::index(&holder, &key),
                (None, _) => methods::call(&holder, "get", std::slice::from_ref(&key), &self.t.regexes),
            };
        }
        Ok((holder, path.len()))
    }

    /// A reference ending in a changing call (`$m.a.put(..)`): its receiver made changeable
    /// ([`Self::make_mutable`]), then the rest of the walk.
    fn mutating_reference(&mut self, r: &'t Ref) -> Result<Value, Box<Error>> {
        let receiver = r.path.split_last().map_or(&[][..], |(_, receiver)| receiver);
        let (holder, done) = self.make_mutable(r.root, receiver)?;
        self.walk(holder, &r.path[done..])
    }

    /// `$obj.method(args)` or `$obj.name` on a host object, printed: the object may write the
    /// result straight into the output. True when the reference was written.
    fn write_host_call(&mut self, r: &'t Ref) -> Result<bool, Box<Error>> {
        let Value::Object(o) = &self.vars[r.root] else { return Ok(false) };
        let (name, args) = match r.path.as_slice() {
            [Access::Method(name, args)] => (name, args),
            [Access::Property(name)] => {
                if !o.write_property(name, &mut self.out) {
                    return Ok(false);
                }
                self.check_output(r.at)?;
                return Ok(true);
            }
            _ => return Ok(false),
        };
        if let [a] = args.as_slice() {
            if let Some((doc, node)) = json_node(&self.vars, a) {
                if let Some(text) = doc.string(node) {
                    if o.write_call_on_text(name, text, &mut self.out) {
                        self.check_output(r.at)?;
                        return Ok(true);
                    }
                }
            }
        }
        let o = o.clone();
        // One argument, the usual count, is evaluated into a local where it stays: passed
        // back through results it would be copied twice, and each copy stalls.
        if let [a] = args.as_slice() {
            let mut value = Value::Null;
            self.arg_into(a, &mut value)?;
            self.write_call(o, name, std::slice::from_ref(&value));
        } else {
            let values = self.args(args)?;
            self.write_call(o, name, values.as_slice());
        }
        self.check_output(r.at)?;
        Ok(true)
    }

    /// A host object's method, written by the object or else printed from its result.
    fn write_call(&mut self, o: Rc<Box<dyn super::Object>>, name: &str, values: &[Value]) {
        if !o.write_call(name, values, &mut self.out) {
            let v = methods::call(&Value::Object(o), name, values, &self.t.regexes);
            v.write_display(&mut self.out);
        }
    }

    /// One argument, into `slot`. A JSON member (`$item.title`) is written there in place.
    fn arg_into(&mut self, a: &'t Expr, slot: &mut Value) -> Result<(), Box<Error>> {
        if let Some((doc, node)) = json_node(&self.vars, a) {
            Value::set_node(slot, doc, node);
            return Ok(());
        }
        *slot = self.expr(a)?;
        Ok(())
    }

    fn args(&mut self, args: &'t [Expr]) -> Result<Args, Box<Error>> {
        Ok(match args {
            [] => Args::None,
            [a] => Args::One(self.arg(a)?),
            [a, b] => Args::Two([self.arg(a)?, self.arg(b)?]),
            _ => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.arg(a)?);
                }
                Args::Many(values)
            }
        })
    }

    /// One argument, as a value ([`Self::arg_into`]).
    fn arg(&mut self, a: &'t Expr) -> Result<Value, Box<Error>> {
        let mut value = Value::Null;
        self.arg_into(a, &mut value)?;
        Ok(value)
    }

    /// `\$ref`: Velocity evaluates the reference (a method it calls runs), then prints it as
    /// written, with the backslash kept when the value is null.
    #[inline(never)]
    fn write_escaped(&mut self, r: &'t Ref, source: &str) -> Result<(), Box<Error>> {
        if self.reference(r)?.is_null() {
            self.out.push('\\');
        }
        self.out.push_str(source);
        self.check_output(r.at)
    }

    #[inline(never)]
    fn write_lone_reference(&mut self, r: &'t Ref) -> Result<Flow, Box<Error>> {
        self.write_reference(r)
    }

    /// A reference printed into the output. Plain variables and chains of properties through
    /// a JSON document are written from where they are, without building a value.
    #[inline(always)]
    fn write_reference(&mut self, r: &'t Ref) -> Result<Flow, Box<Error>> {
        match &self.vars[r.root] {
            Value::Json { id, doc } => {
                if let Some(node) = json_path(doc, *id, &r.path) {
                    if doc.write_scalar(node, &mut self.out) {
                        self.check_output(r.at)?;
                        return Ok(Flow::Normal);
                    }
                }
            }
            Value::Block(_) => {}
            // The loop variable over a JSON array of strings (`$t`), the commonest print.
            Value::JsonStr { id, doc } if r.path.is_empty() => {
                doc.write_text_of(*id, &mut self.out);
                self.check_output(r.at)?;
                return Ok(Flow::Normal);
            }
            v if r.path.is_empty() => {
                self.check_printable(v, r.at)?;
                v.write_display(&mut self.out);
                self.check_output(r.at)?;
                return Ok(Flow::Normal);
            }
            _ => {
                if self.write_host_call(r)? {
                    return Ok(Flow::Normal);
                }
            }
        }
        match self.reference(r)? {
            Value::Block(id) => self.block(id, r.at),
            v => {
                self.write_value(&v, r.at)?;
                Ok(Flow::Normal)
            }
        }
    }

    /// The value of a reference. Values are returned straight from where they are made:
    /// copying a freshly built value through a temporary stalls the processor (the copy
    /// reads what was just written in pieces), so the common shapes each return directly.
    pub fn reference(&mut self, r: &'t Ref) -> Result<Value, Box<Error>> {
        let root = &self.vars[r.root];
        // A chain of properties through a JSON document is followed by node, building one
        // value at the end instead of one per step.
        // Once the document has changes, its nodes are read through values, which see them.
        if let Value::Json { id, doc } = root {
            if !doc.has_changes() {
                let mut node = *id;
                let mut steps = 0;
                for a in &r.path {
                    let Access::Property(name) = a else { break };
                    match doc.member_named(node, name) {
                        Some(m) => node = m,
                        None => break,
                    }
                    steps += 1;
                }
                if steps == r.path.len() {
                    return Ok(Value::node(doc, node));
                }
                if steps > 0 {
                    let v = Value::node(doc, node);
                    return self.walk(v, &r.path[steps..]);
                }
            }
        }
        match r.path.split_first() {
            None => Ok(root.clone()),
            // The first property is read from the variable in place, without a clone.
            Some((Access::Property(name), [])) => Ok(methods::property(root, name)),
            Some((Access::Property(name), rest)) => {
                let v = methods::property(root, name);
                self.walk(v, rest)
            }
            Some(_) => {
                let v = root.clone();
                self.walk(v, &r.path)
            }
        }
    }

    /// The rest of a reference's path from `v`; null stops the walk.
    fn walk(&mut self, mut v: Value, path: &'t [Access]) -> Result<Value, Box<Error>> {
        for a in path {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = self.access(v, a)?;
        }
        Ok(v)
    }

    fn access(&mut self, v: Value, a: &'t Access) -> Result<Value, Box<Error>> {
        Ok(match a {
            Access::Property(name) => match &v {
                Value::Json { id, doc } if !doc.has_changes() => match doc.member_named(*id, name) {
                    Some(m) => Value::node(doc, m),
                    None => methods::property(&v, name),
                },
                _ => methods::property(&v, name),
            },
            Access::Index(e) => {
                let key = self.expr(e)?;
                methods::index(&v, &key)
            }
            Access::Method(name, args) => {
                let values = self.args(args)?;
                methods::call(&v, name, values.as_slice(), &self.t.regexes)
            }
        })
    }

    /// The common expressions are handled here, the rest out of line, so that this function
    /// stays small: it runs for every condition, argument and operand.
    pub fn expr(&mut self, e: &'t Expr) -> Result<Value, Box<Error>> {
        match e {
            Expr::Ref(r) => {
                // Only a plain `$block` reference renders the block; checked before the lookup so
                // that the looked-up value is returned as it is (no copy through this frame).
                if let (Value::Block(id), true) = (&self.vars[r.root], r.path.is_empty()) {
                    let id = *id;
                    return self.block_text(id, r.at);
                }
                self.reference(r)
            }
            Expr::Int(i) => Ok(Value::Int(*i)),
            Expr::Binary(op, l, r) => match op {
                BinOp::And => Ok(Value::Bool(self.expr(l)?.is_truthy() && self.expr(r)?.is_truthy())),
                BinOp::Or => Ok(Value::Bool(self.expr(l)?.is_truthy() || self.expr(r)?.is_truthy())),
                _ => {
                    let a = self.expr(l)?;
                    let b = self.expr(r)?;
                    Ok(binary(*op, &a, &b))
                }
            },
            _ => self.expr_other(e),
        }
    }

    /// A `#define` block's output, as a string value.
    #[inline(never)]
    fn block_text(&mut self, id: u32, offset: Offset) -> Result<Value, Box<Error>> {
        let mark = self.out.len();
        self.block(id, offset)?;
        Ok(Value::from(self.out.split_off(mark)))
    }

    #[inline(never)]
    fn expr_other(&mut self, e: &'t Expr) -> Result<Value, Box<Error>> {
        Ok(match e {
            Expr::MutatingRef(r) => self.mutating_reference(r)?,
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::from(&**s),
            Expr::Interpolated(nodes) => {
                let mark = self.out.len();
                // `#stop` inside a string ends only the string.
                self.nodes(nodes)?;
                Value::from(self.out.split_off(mark))
            }
            Expr::Ref(r) => match self.reference(r)? {
                Value::Block(id) => {
                    let mark = self.out.len();
                    self.block(id, r.at)?;
                    Value::from(self.out.split_off(mark))
                }
                v => v,
            },
            Expr::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for i in items {
                    values.push(self.expr(i)?);
                }
                Value::new_list(values)
            }
            Expr::Map(entries) => {
                let mut map = indexmap::IndexMap::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.expr(k)?.to_display();
                    let v = self.expr(v)?;
                    map.insert(k.into(), v);
                }
                Value::new_map(map)
            }
            Expr::Range(a, b) => {
                let (Some(from), Some(to)) = (int_of(&self.expr(a)?), int_of(&self.expr(b)?)) else {
                    return Ok(Value::Null);
                };
                let len = (from - to).unsigned_abs() as usize + 1;
                if len > self.limits.total_iterations {
                    return Err(self.limit(
                        0,
                        format!("the range [{from}..{to}] is larger than {} items", self.limits.total_iterations),
                    ));
                }
                let items: Vec<Value> = if from <= to {
                    (from..=to).map(Value::Int).collect()
                } else {
                    (to..=from).rev().map(Value::Int).collect()
                };
                Value::new_list(items)
            }
            Expr::Not(e) => Value::Bool(!self.expr(e)?.is_truthy()),
            Expr::Neg(e) => match self.expr(e)? {
                Value::Int(i) => Value::Int(i.wrapping_neg()),
                Value::Float(f) => Value::Float(-f),
                _ => Value::Null,
            },
            Expr::Binary(op, l, r) => match op {
                BinOp::And => Value::Bool(self.expr(l)?.is_truthy() && self.expr(r)?.is_truthy()),
                BinOp::Or => Value::Bool(self.expr(l)?.is_truthy() || self.expr(r)?.is_truthy()),
                _ => {
                    let (a, b) = (self.expr(l)?, self.expr(r)?);
                    binary(*op, &a, &b)
                }
            },
        })
    }
}

/// The JSON node an expression names when it is a chain of properties of a variable holding
/// JSON (`$item.tags`), found where it is without building a value. A free function over the
/// variables, so that the output can be written while the node is borrowed.
#[inline(always)]
fn json_node<'v>(vars: &'v Slots, e: &Expr) -> Option<(&'v Rc<Doc>, u32)> {
    let Expr::Ref(r) = e else { return None };
    let Value::Json { id, doc } = &vars[r.root] else { return None };
    Some((doc, json_path(doc, *id, &r.path)?))
}

/// The node a chain of properties leads to from a JSON node, when every step is a member.
#[inline(always)]
fn json_path(doc: &Doc, mut node: u32, path: &[Access]) -> Option<u32> {
    // Once a template changed the document, its nodes are read through values, which see
    // the changes.
    if doc.has_changes() {
        return None;
    }
    for a in path {
        let Access::Property(name) = a else { return None };
        node = doc.member_named(node, name)?;
    }
    Some(node)
}

/// An ordering or equality test of two numbers: integers compared as integers, anything
/// else as doubles (Java's promotion).
fn compare_numbers(op: BinOp, a: Number, b: Number) -> bool {
    if let (Number::Int(i), Number::Int(j)) = (a, b) {
        match op {
            BinOp::Lt => return i < j,
            BinOp::Le => return i <= j,
            BinOp::Gt => return i > j,
            BinOp::Ge => return i >= j,
            _ => {}
        }
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    match op {
        BinOp::Lt => x < y,
        BinOp::Le => x <= y,
        BinOp::Gt => x > y,
        BinOp::Ge => x >= y,
        BinOp::Eq => x == y,
        _ => x != y,
    }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Str(_) | Value::Short(_) | Value::JsonStr { .. } => v.as_str()?.trim().parse().ok(),
        _ => None,
    }
}

/// Arithmetic and comparison with Java's rules: integers stay integers (division truncates),
/// a double makes a double, `+` with a string concatenates; a null operand or a division by
/// zero gives null.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Value {
    match op {
        BinOp::Eq => return Value::Bool(a.loose_eq(b)),
        BinOp::Ne => return Value::Bool(!a.loose_eq(b)),
        _ => {}
    }
    if a.is_null() || b.is_null() {
        return if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
            Value::Bool(false)
        } else {
            Value::Null
        };
    }
    let (x, y) = match (a.as_number(), b.as_number()) {
        (Some(x), Some(y)) => (x, y),
        _ => {
            return match op {
                BinOp::Add if a.as_str().is_some() || b.as_str().is_some() => {
                    let mut s = a.to_display();
                    b.write_display(&mut s);
                    Value::from(s)
                }
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Value::Bool(false),
                _ => Value::Null,
            };
        }
    };
    if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
        return Value::Bool(compare_numbers(op, x, y));
    }
    match (x, y) {
        (Number::Int(i), Number::Int(j)) => match op {
            BinOp::Add => i.checked_add(j).map_or(Value::Float(i as f64 + j as f64), Value::Int),
            BinOp::Sub => i.checked_sub(j).map_or(Value::Float(i as f64 - j as f64), Value::Int),
            BinOp::Mul => i.checked_mul(j).map_or(Value::Float(i as f64 * j as f64), Value::Int),
            BinOp::Div => i.checked_div(j).map_or(Value::Null, Value::Int),
            BinOp::Mod => i.checked_rem(j).map_or(Value::Null, Value::Int),
            _ => Value::Null,
        },
        _ => {
            let (i, j) = (x.as_f64(), y.as_f64());
            match op {
                BinOp::Add => Value::Float(i + j),
                BinOp::Sub => Value::Float(i - j),
                BinOp::Mul => Value::Float(i * j),
                BinOp::Div if j == 0.0 => Value::Null,
                BinOp::Div => Value::Float(i / j),
                BinOp::Mod if j == 0.0 => Value::Null,
                BinOp::Mod => Value::Float(i % j),
                _ => Value::Null,
            }
        }
    }
}
