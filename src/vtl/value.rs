//! Values as templates see them: a small enum of cheap, single-threaded clones (`Rc`). Lists
//! and maps made by the template are mutable and shared (Java reference semantics); JSON
//! documents stay immutable and are referenced by node; host objects (`$input`, `$util`,
//! `$context`) plug in through [`Object`].

use super::json::{write_json_string, Doc, Json, Kind};
use indexmap::IndexMap;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;

pub type List = Rc<RefCell<Items>>;
pub type Map = Rc<RefCell<Members>>;

/// A list's items. Lists nest as deep as a template makes them (`#set($l = [$l])` in a
/// loop), so they are let go of with a stack of their own instead of by recursion, which
/// would run a thread's stack out.
#[derive(Default)]
pub struct Items(pub Vec<Value>);

/// A map's members, let go of as [`Items`] are.
#[derive(Default)]
pub struct Members(pub IndexMap<Rc<str>, Value>);

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::ops::DerefMut for Items {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl std::ops::Deref for Members {
    type Target = IndexMap<Rc<str>, Value>;
    fn deref(&self) -> &IndexMap<Rc<str>, Value> {
        &self.0
    }
}

impl std::ops::DerefMut for Members {
    fn deref_mut(&mut self) -> &mut IndexMap<Rc<str>, Value> {
        &mut self.0
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        if self.0.iter().any(Value::is_collection) {
            drop_without_recursion(std::mem::take(&mut self.0));
        }
    }
}

impl Drop for Members {
    fn drop(&mut self) {
        if self.0.values().any(Value::is_collection) {
            drop_without_recursion(std::mem::take(&mut self.0).into_values().collect());
        }
    }
}

/// Lets go of values, taking the items of each list or map no one else holds onto the same
/// stack, so that each collection is dropped empty.
fn drop_without_recursion(mut stack: Vec<Value>) {
    while let Some(value) = stack.pop() {
        match value {
            Value::List(l) | Value::JsonList(l) => {
                if let Ok(items) = Rc::try_unwrap(l) {
                    stack.append(&mut items.into_inner().0);
                }
            }
            Value::Map(m) => {
                if let Ok(members) = Rc::try_unwrap(m) {
                    stack.extend(std::mem::take(&mut members.into_inner().0).into_values());
                }
            }
            _ => {}
        }
    }
}

/// A four-byte tag puts every payload at offset four or eight, each where its stores put it,
/// so that a value copied right after it was made reads back what was written, piece for
/// piece (a one-byte tag left a payload at offset one, copied in pieces that straddle the
/// stores and stall the processor).
#[derive(Clone, Default)]
#[repr(u32)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<String>),
    /// A string short enough to live in the value itself (see [`Short`]).
    Short(Short),
    /// A string node of a JSON document (no copy).
    JsonStr {
        id: u32,
        doc: Rc<Doc>,
    },
    /// A JSON array or object node (scalars are unwrapped into the variants above).
    Json {
        id: u32,
        doc: Rc<Doc>,
    },
    List(List),
    /// A JSON array the template changed (`$input.path('$.items').add(...)`): a list like any
    /// other, that prints as JSON, as the array API Gateway hands templates does.
    JsonList(List),
    Map(Map),
    Object(Rc<Box<dyn Object>>),
    /// `$foreach` of a running loop.
    Foreach(Rc<Foreach>),
    /// A `#define` block, rendered where it is referenced.
    Block(u32),
}

/// `$foreach`: one per loop, updated in place each iteration; or, in a template that only
/// ever reads its properties, one for the whole render, which each loop sets and puts back
/// ([`super::Template`]'s `lean_foreach`). A length of zero means no loop is running: no
/// loop with no items runs its body, so a property read then is outside any loop, and null.
pub struct Foreach {
    pub(crate) index: Cell<usize>,
    pub(crate) len: Cell<usize>,
    pub(crate) parent: Value,
}

impl Foreach {
    #[inline]
    pub fn property(&self, name: &str) -> Value {
        let (i, len) = (self.index.get(), self.len.get());
        if len == 0 {
            return Value::Null;
        }
        match name {
            "count" => Value::Int(i as i64 + 1),
            "index" => Value::Int(i as i64),
            "hasNext" => Value::Bool(i + 1 < len),
            "first" => Value::Bool(i == 0),
            "last" => Value::Bool(i + 1 == len),
            "parent" => self.parent.clone(),
            _ => Value::Null,
        }
    }

    /// `#if($foreach.hasNext)` and the like, told by the name's first bytes (every property
    /// name of `$foreach` fits in them) without building a value.
    #[inline]
    pub(crate) fn test(&self, name: &super::ast::Name) -> bool {
        const HAS_NEXT: u64 = u64::from_le_bytes(*b"hasNext\0");
        const FIRST: u64 = u64::from_le_bytes(*b"first\0\0\0");
        const LAST: u64 = u64::from_le_bytes(*b"last\0\0\0\0");
        let (i, len) = (self.index.get(), self.len.get());
        match name.word {
            HAS_NEXT => i + 1 < len,
            FIRST => i == 0 && len > 0,
            LAST => i + 1 == len,
            _ => self.property(name).is_truthy(),
        }
    }

    pub fn call(&self, name: &str, args: &[Value]) -> Option<Value> {
        let prop = match name {
            "getCount" => "count",
            "getIndex" => "index",
            "hasNext" => "hasNext",
            "isFirst" => "first",
            "isLast" => "last",
            "getParent" => "parent",
            _ => return None,
        };
        args.is_empty().then(|| self.property(prop))
    }
}

/// A host object: what `$input`, `$util` and `$context` are to the engine, which knows
/// nothing of HTTP.
pub trait Object {
    /// `$obj.name` (and `$obj.getName()` / `$obj.get("name")`).
    fn property(&self, _name: &str) -> Value {
        Value::Null
    }
    /// `$obj.name(args)`; `None` when the object has no such method.
    fn call(&self, _name: &str, _args: &[Value]) -> Option<Value> {
        None
    }
    /// How the object prints.
    fn render(&self, _out: &mut String) {}
    /// `$obj.name(args)` written straight into the output, where the result is only printed
    /// (saves building a string value); false when the object does not do this for `name`, and
    /// then `call` answers instead.
    fn write_call(&self, _name: &str, _args: &[Value], _out: &mut String) -> bool {
        false
    }
    /// `$obj.name` written straight into the output, in the same way.
    fn write_property(&self, _name: &str, _out: &mut String) -> bool {
        false
    }
    /// [`Object::write_call`] with one argument, a string, given as its text: a JSON string
    /// (`$util.escapeJavaScript($item.title)`) is passed where it lies instead of as a value.
    /// The same answer as `write_call` with that string, or false to have it asked instead.
    fn write_call_on_text(&self, _name: &str, _text: &str, _out: &mut String) -> bool {
        false
    }
}

/// A shared object is an object: the host keeps one handle and gives the template another.
impl<T: Object + ?Sized> Object for Rc<T> {
    fn property(&self, name: &str) -> Value {
        (**self).property(name)
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Value> {
        (**self).call(name, args)
    }
    fn render(&self, out: &mut String) {
        (**self).render(out)
    }
    fn write_call(&self, name: &str, args: &[Value], out: &mut String) -> bool {
        (**self).write_call(name, args, out)
    }
    fn write_property(&self, name: &str, out: &mut String) -> bool {
        (**self).write_property(name, out)
    }
    fn write_call_on_text(&self, name: &str, text: &str, out: &mut String) -> bool {
        (**self).write_call_on_text(name, text, out)
    }
}

/// How deep lists and maps may nest when a template prints them. Deeper (or holding
/// themselves through each other) they make a render error, where Java would run its stack out.
pub const MAX_NESTING: usize = 1000;

/// Where printing one value stops, whatever is left: past API Gateway's 10 MB payload limit,
/// which a render's output bound then reports.
pub const MAX_PRINTED: usize = 16 * 1024 * 1024;

thread_local! {
    /// Values this thread may still print through the general printer (every value inside
    /// a list or map is one) in the current render: what
    /// bounds the work of comparing or printing huge collections over and over (`$a == $b` in
    /// a loop, each turning both into text), where the output bound sees none of it.
    static PRINT_BUDGET: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// Gives this thread's renders from now on `values` values to print inside collections.
pub fn set_print_budget(values: u64) {
    PRINT_BUDGET.set(values);
}

/// Whether this thread's render has printed all the values inside collections it may.
pub fn print_budget_spent() -> bool {
    PRINT_BUDGET.get() == 0
}

/// One value printed inside a collection; false once none may be any more.
fn spend_print_budget() -> bool {
    let left = PRINT_BUDGET.get();
    PRINT_BUDGET.set(left.saturating_sub(1));
    left > 0
}

/// Up to [`Short::CAPACITY`] bytes of text held inline: most strings a template makes
/// (literals, request parameters, split pieces) are that short, and making one then
/// allocates nothing. Sized so that a value stays 16 bytes.
#[derive(Clone, Copy)]
pub struct Short {
    len: u8,
    bytes: [u8; Short::CAPACITY],
}

impl Short {
    pub const CAPACITY: usize = 11;

    /// The only way a `Short` is made: [`Short::as_str`] relies on its bytes being a `str`'s.
    fn new(s: &str) -> Option<Short> {
        let (b, len) = (s.as_bytes(), s.len());
        let mut bytes = [0; Short::CAPACITY];
        // Two copies of a fixed size that overlap in the middle (or single bytes), instead of
        // the call that copies a length known only now.
        fn both<const N: usize>(bytes: &mut [u8; Short::CAPACITY], b: &[u8]) {
            let len = b.len();
            if let (Some(head), Some(tail)) = (b.first_chunk::<N>(), b.last_chunk::<N>()) {
                bytes[..N].copy_from_slice(head);
                bytes[len - N..len].copy_from_slice(tail);
            }
        }
        match len {
            0 => {}
            1..=3 => {
                bytes[0] = b[0];
                bytes[len / 2] = b[len / 2];
                bytes[len - 1] = b[len - 1];
            }
            4..=7 => both::<4>(&mut bytes, b),
            8..=Short::CAPACITY => both::<8>(&mut bytes, b),
            _ => return None,
        }
        Some(Short { len: len as u8, bytes })
    }

    pub fn as_str(&self) -> &str {
        let bytes = &self.bytes[..self.len as usize];
        // SAFETY: a `Short` is only made by `new`, from a whole `str` (its fields are private
        // and never written otherwise), so its bytes are UTF-8. Checking them again on every
        // read took a fifth of a `$input.params(..)` call.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.write_display(&mut s);
        write!(f, "{}({s})", self.type_name())
    }
}

impl From<Json> for Value {
    fn from(j: Json) -> Self {
        Value::node(&j.doc, j.id)
    }
}

impl Value {
    /// Stores a node of a document into `slot`, written in place (a loop variable is set
    /// this way every iteration).
    #[inline]
    pub fn set_node(slot: &mut Value, doc: &Rc<Doc>, id: u32) {
        // A loop variable moving along an array holds the same kind of node of the same
        // document at each step: only the node changes, and the document's count is left be.
        let held = match slot {
            Value::JsonStr { id: held, doc: d } if Rc::ptr_eq(d, doc) && doc.is_string(id) => Some(held),
            Value::Json { id: held, doc: d } if Rc::ptr_eq(d, doc) && doc.is_container(id) => Some(held),
            _ => None,
        };
        match held {
            Some(held) if !doc.has_changes() => *held = id,
            _ => *slot = Value::node(doc, id),
        }
    }

    /// A node of a document as a value; the document is shared only by strings and
    /// containers.
    pub fn node(doc: &Rc<Doc>, id: u32) -> Value {
        match doc.scalar(id) {
            Some(Kind::Null) => Value::Null,
            Some(Kind::Bool(b)) => Value::Bool(b),
            Some(Kind::Int(i)) => Value::Int(i),
            Some(Kind::Float(f)) => Value::Float(f),
            Some(_) => Value::JsonStr { id, doc: doc.clone() },
            None => doc.changed(id).unwrap_or_else(|| Value::Json { id, doc: doc.clone() }),
        }
    }

    /// What a JSON container stands for now: the list or map a template made of it when it
    /// changed it through another reference (`None` when it is as parsed, or not JSON).
    /// Values are made from nodes already changed ([`Value::node`]); this catches a value
    /// made before the change.
    #[inline]
    pub fn changed(&self) -> Option<Value> {
        match self {
            Value::Json { id, doc } if doc.has_changes() => doc.changed(*id),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Short::new(s).map_or_else(|| Value::Str(Rc::new(s.to_string())), Value::Short)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Short::new(&s).map_or_else(|| Value::Str(Rc::new(s)), Value::Short)
    }
}

/// A list or map made while a render runs.
enum Made {
    Items(std::rc::Weak<RefCell<Items>>),
    Members(std::rc::Weak<RefCell<Members>>),
}

thread_local! {
    /// The lists and maps made while a render runs ([`super::json::ChangesKept`]), so that
    /// those still alive when it ends are emptied: a map put into itself (Java allows it, and
    /// templates do it) would otherwise keep itself alive, and every render of such a
    /// template would leak it.
    static MADE: RefCell<Vec<Made>> = const { RefCell::new(Vec::new()) };
}

/// A new list's or map's contents, shared, and recorded in [`MADE`] while a render runs.
fn made<T>(contents: T, record: fn(std::rc::Weak<RefCell<T>>) -> Made) -> Rc<RefCell<T>> {
    let rc = Rc::new(RefCell::new(contents));
    if super::json::rendering() {
        MADE.with(|m| m.borrow_mut().push(record(Rc::downgrade(&rc))));
    }
    rc
}

fn items(items: Vec<Value>) -> Rc<RefCell<Items>> {
    made(Items(items), Made::Items)
}

fn members(entries: IndexMap<Rc<str>, Value>) -> Rc<RefCell<Members>> {
    made(Members(entries), Made::Members)
}

/// Empties the lists and maps made during the render that just ended which are still alive:
/// nothing outside a render holds them, so only those holding each other are, and emptying
/// them lets them go.
pub(crate) fn let_go_of_made() {
    fn empty<T: Default>(made: std::rc::Weak<RefCell<T>>) {
        if let Some(rc) = made.upgrade() {
            // Taken out before they are dropped: dropping them may let go of others.
            let taken = rc.try_borrow_mut().map(|mut c| std::mem::take(&mut *c));
            drop(rc);
            drop(taken);
        }
    }
    for m in MADE.with(|m| std::mem::take(&mut *m.borrow_mut())) {
        match m {
            Made::Items(w) => empty(w),
            Made::Members(w) => empty(w),
        }
    }
}

impl Value {
    pub fn new_list(items: Vec<Value>) -> Value {
        Value::List(self::items(items))
    }

    pub fn new_map(entries: IndexMap<Rc<str>, Value>) -> Value {
        Value::Map(members(entries))
    }

    pub fn object(o: impl Object + 'static) -> Value {
        Value::Object(Rc::new(Box::new(o)))
    }

    /// A JSON array or object as a list or map the template can change (Java's collections
    /// are mutable, and so are those API Gateway makes from JSON), its items and members
    /// still shared with the document; `None` for anything else. The first one made of a node
    /// is recorded on its document, and every later call gives that same list or map.
    pub fn mutable_copy(&self) -> Option<Value> {
        if let Some(changed) = self.changed() {
            return Some(changed);
        }
        let copy = self.collection_copy()?;
        if let Value::Json { id, doc } = self {
            doc.record_change(*id, copy.clone());
        }
        Some(copy)
    }

    /// A JSON array or object as a new list or map of its items or members, not recorded as
    /// the node's change ([`Value::mutable_copy`] records it).
    pub(crate) fn collection_copy(&self) -> Option<Value> {
        let j = self.json()?;
        Some(if j.is_array() {
            Value::JsonList(items(j.items().map(Value::from).collect()))
        } else {
            // A later duplicate key wins and the first one's place is kept, as a map insertion does.
            let mut members = IndexMap::with_capacity(j.len());
            for (k, v) in j.members() {
                members.insert(Rc::from(k), Value::from(v));
            }
            Value::new_map(members)
        })
    }

    /// The JSON node handle of a JSON array or object.
    pub fn json(&self) -> Option<Json> {
        match self {
            Value::Json { id, doc } => Some(Json { doc: doc.clone(), id: *id }),
            _ => None,
        }
    }

    /// A member of a JSON object, read without building a handle for the object.
    pub fn json_member(&self, key: &str) -> Option<Value> {
        match self {
            Value::Json { id, doc } => doc.member(*id, key).map(|m| Value::from(Json { doc: doc.clone(), id: m })),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn type_name(&self) -> &'static str {
        if let Some(changed) = self.changed() {
            return changed.type_name();
        }
        match self {
            Value::Null => "null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Float(_) => "Double",
            Value::Str(_) | Value::Short(_) | Value::JsonStr { .. } => "String",
            Value::Json { .. } if self.json().is_some_and(|j| j.is_array()) => "List",
            Value::List(_) | Value::JsonList(_) => "List",
            Value::Json { .. } | Value::Map(_) => "Map",
            Value::Object(_) | Value::Foreach(_) | Value::Block(_) => "Object",
        }
    }

    /// `#if` truthiness in Velocity 1.7: only null and `false` are false.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Short(s) => Some(s.as_str()),
            Value::JsonStr { id, doc } => Some(doc.text_of(*id)),
            _ => None,
        }
    }

    /// The value as Java's `toString()` gives it; null prints as the empty string, as API
    /// Gateway renders it.
    pub fn write_display(&self, out: &mut String) {
        match self {
            Value::Null => {}
            Value::Str(s) => out.push_str(s),
            Value::Short(s) => out.push_str(s.as_str()),
            Value::JsonStr { id, doc } => doc.write_text_of(*id, out),
            other => other.write_java(out),
        }
    }

    /// The value as text ([`Value::write_display`]), borrowed when it is a string.
    pub fn display(&self) -> std::borrow::Cow<'_, str> {
        match self.as_str() {
            Some(s) => s.into(),
            None => {
                let mut s = String::new();
                self.write_display(&mut s);
                s.into()
            }
        }
    }

    pub fn to_display(&self) -> String {
        self.display().into_owned()
    }

    /// Java's `toString()`, where a null inside a collection prints `null`. JSON arrays print
    /// as JSON and JSON objects as Java maps, as recorded on API Gateway.
    fn write_java(&self, out: &mut String) {
        self.write_java_at(out, 0);
    }

    /// [`Value::write_java`] `depth` collections down. A collection that holds itself prints
    /// `(this Map)` / `(this Collection)` there, as Java's do; past [`MAX_NESTING`] levels
    /// (a cycle through others, or a template nesting lists without end) or once the text
    /// passes [`MAX_PRINTED`] bytes (lists holding the same list twice over, level after
    /// level), the rest prints as `...` instead of running the stack or the memory out. The
    /// renderer refuses such values before it prints them ([`Value::nested_deeper_than`], its
    /// output bound); this keeps every other use safe too.
    fn write_java_at(&self, out: &mut String, depth: usize) {
        if depth > MAX_NESTING || out.len() > MAX_PRINTED || !spend_print_budget() {
            out.push_str("...");
            return;
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => write_int(*i, out),
            Value::Float(f) => write_java_double(*f, out),
            Value::Str(_) | Value::Short(_) | Value::JsonStr { .. } => out.push_str(self.as_str().unwrap_or_default()),
            Value::Json { .. } => {
                if let Some(changed) = self.changed() {
                    return changed.write_java_at(out, depth);
                }
                let j = self.json().unwrap_or_else(|| unreachable!());
                if j.is_array() {
                    return self.write_json_at(out, depth);
                }
                out.push('{');
                for (i, (k, v)) in j.members().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    Value::from(v).write_java_at(out, depth + 1);
                }
                out.push('}');
            }
            Value::JsonList(_) => self.write_json_at(out, depth),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match v {
                        Value::List(inner) if Rc::ptr_eq(inner, l) => out.push_str("(this Collection)"),
                        v => v.write_java_at(out, depth + 1),
                    }
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    match v {
                        Value::Map(inner) if Rc::ptr_eq(inner, m) => out.push_str("(this Map)"),
                        v => v.write_java_at(out, depth + 1),
                    }
                }
                out.push('}');
            }
            Value::Object(o) => o.render(out),
            Value::Foreach(_) | Value::Block(_) => {}
        }
    }

    /// The value as JSON text.
    pub fn write_json(&self, out: &mut String) {
        self.write_json_at(out, 0);
    }

    /// [`Value::write_json`] `depth` collections down, bounded as [`Value::write_java_at`] is.
    fn write_json_at(&self, out: &mut String, depth: usize) {
        if depth > MAX_NESTING || out.len() > MAX_PRINTED || !spend_print_budget() {
            out.push_str("null");
            return;
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => self.write_java(out),
            Value::Str(_) | Value::Short(_) | Value::JsonStr { .. } => {
                write_json_string(self.as_str().unwrap_or_default(), out)
            }
            Value::Json { id, doc } => {
                if !doc.has_changes() {
                    return doc.write_json_of(*id, out);
                }
                // Something in it may have changed: printed through values, which see it.
                if let Some(now) = self.changed().or_else(|| self.collection_copy()) {
                    now.write_json_at(out, depth);
                }
            }
            Value::List(l) | Value::JsonList(l) => {
                out.push('[');
                for (i, v) in l.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json_at(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    v.write_json_at(out, depth + 1);
                }
                out.push('}');
            }
            Value::Object(_) | Value::Foreach(_) | Value::Block(_) => {
                let mut s = String::new();
                self.write_java(&mut s);
                write_json_string(&s, out);
            }
        }
    }

    /// Whether lists and maps nest in this value more than `levels` deep, or hold themselves
    /// through others (which Java would print until its stack ran out). A collection holding
    /// itself directly does not count: it prints `(this Map)`. The search looks at no more
    /// than a bounded number of values; past that the printer's own bounds hold.
    pub fn nested_deeper_than(&self, levels: usize) -> bool {
        let mut budget = 100_000usize;
        self.deeper(levels, &mut budget)
    }

    fn deeper(&self, levels: usize, budget: &mut usize) -> bool {
        // Exactly the self-references `write_java_at` prints as `(this ...)`: a JSON list
        // holding itself has no such form.
        let holds_itself = |v: &Value| match (self, v) {
            (Value::List(a), Value::List(b)) => Rc::ptr_eq(a, b),
            (Value::Map(a), Value::Map(b)) => Rc::ptr_eq(a, b),
            _ => false,
        };
        let mut look = |v: &Value| {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            !holds_itself(v) && (levels == 0 || v.deeper(levels - 1, budget))
        };
        match self {
            Value::List(l) | Value::JsonList(l) => l.borrow().iter().any(|v| v.is_collection() && look(v)),
            Value::Map(m) => m.borrow().values().any(|v| v.is_collection() && look(v)),
            _ => false,
        }
    }

    /// A list or map (JSON containers are immutable and bounded in depth at parse).
    #[inline]
    pub(crate) fn is_collection(&self) -> bool {
        matches!(self, Value::List(_) | Value::JsonList(_) | Value::Map(_))
    }

    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Int(i) => Some(Number::Int(*i)),
            Value::Float(f) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    /// Velocity's `==`: numbers by value across integer and double; null equals null and,
    /// as recorded on API Gateway, the empty string; otherwise equal `toString()`s.
    pub fn loose_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Null, v) | (v, Value::Null) => v.as_str().is_some_and(str::is_empty),
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => {
                // Each side's text is looked up once: a short string's costs a UTF-8 check.
                if let (Some(a), Some(b)) = (self.as_str(), other.as_str()) {
                    return a == b;
                }
                match (self.as_number(), other.as_number()) {
                    (Some(a), Some(b)) => a.as_f64() == b.as_f64(),
                    _ => self.to_display() == other.to_display(),
                }
            }
        }
    }

    /// Items to iterate with `#foreach`: lists, JSON arrays, map values; nothing otherwise.
    pub fn iter_items(&self) -> Option<Vec<Value>> {
        if let Some(changed) = self.changed() {
            return changed.iter_items();
        }
        match self {
            Value::List(l) | Value::JsonList(l) => Some(l.borrow().clone()),
            Value::Json { .. } => {
                let j = self.json()?;
                if j.is_array() {
                    Some(j.items().map(Value::from).collect())
                } else {
                    Some(j.members().map(|(_, v)| Value::from(v)).collect())
                }
            }
            Value::Map(m) => Some(m.borrow().values().cloned().collect()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// The decimal digits of `n`, written at the end of `buf`: the one digit loop behind every
/// number printed without the formatting machinery (template output, response lengths).
pub fn decimal_digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// An integer in decimal, without the formatting machinery (it is printed often). Those
/// below a hundred, the commonest, take one or two bytes; the rest are written as one
/// fixed-size copy (a copy of the digits' own length is a call).
pub fn write_int(i: i64, out: &mut String) {
    if let 0..=99 = i {
        let i = i as u8;
        if i < 10 {
            out.push((b'0' + i) as char);
        } else {
            // SAFETY: decimal digits are ASCII, so the bytes appended are UTF-8.
            unsafe { out.as_mut_vec().extend_from_slice(&[b'0' + i / 10, b'0' + i % 10]) };
        }
        return;
    }
    // The digits end at byte 20; twenty more bytes are readable from wherever they start.
    let mut buf = [0u8; 40];
    let mut at = 20;
    if let Ok(digits) = <&mut [u8; 20]>::try_from(&mut buf[..20]) {
        at -= decimal_digits(i.unsigned_abs(), digits).len();
    }
    if i < 0 {
        // Nineteen digits at most: there is room before them.
        at -= 1;
        buf[at] = b'-';
    }
    out.reserve(20);
    // SAFETY: twenty bytes are read from `buf[at..]`, inside it, and written where twenty
    // were reserved; the length then covers only the sign and digits, ASCII.
    unsafe {
        let v = out.as_mut_vec();
        let len = v.len();
        std::ptr::copy_nonoverlapping(buf.as_ptr().add(at), v.as_mut_ptr().add(len), 20);
        v.set_len(len + 20 - at);
    }
}

/// `Double.toString`: plain decimals from 10^-3 to 10^7 (always with a fraction digit),
/// computerized scientific notation (`1.0E10`) outside.
pub fn write_java_double(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 || (1e-3..1e7).contains(&f.abs()) {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list and a map put into themselves during a render are let go of when it ends; made
    /// outside a render, a list is left as it is.
    #[test]
    fn collections_holding_themselves_are_let_go_of_after_a_render() {
        let (list, map) = {
            let _render = super::super::json::ChangesKept::new();
            let (Value::List(list), Value::Map(map)) = (Value::new_list(vec![]), Value::new_map(IndexMap::new()))
            else {
                unreachable!("made as asked")
            };
            list.borrow_mut().push(Value::List(list.clone()));
            map.borrow_mut().insert("self".into(), Value::Map(map.clone()));
            map.borrow_mut().insert("list".into(), Value::List(list.clone()));
            (Rc::downgrade(&list), Rc::downgrade(&map))
        };
        assert!(list.upgrade().is_none() && map.upgrade().is_none(), "both freed");
        let Value::List(kept) = Value::new_list(vec![Value::Int(1)]) else { unreachable!("made as asked") };
        drop(super::super::json::ChangesKept::new());
        assert_eq!(kept.borrow().len(), 1, "made outside a render, left alone");
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 7, 10, 91, 1234567, u64::MAX] {
            assert_eq!(decimal_digits(n, &mut [0; 20]), n.to_string().as_bytes());
        }
        for i in [0, 9, 10, -1, -9, -10, 42, 99, 100, -99, -100, 12345, i64::MIN, i64::MAX, i64::MIN + 1] {
            let mut out = String::new();
            write_int(i, &mut out);
            assert_eq!(out, i.to_string());
        }
    }

    #[test]
    fn short_strings_of_every_length_read_back_whole() {
        let text = "abcdéfghijkl";
        for end in (0..=text.len()).filter(|&e| text.is_char_boundary(e)) {
            let s = &text[..end];
            match Short::new(s) {
                Some(short) => assert_eq!(short.as_str(), s),
                None => assert!(s.len() > Short::CAPACITY, "{s}"),
            }
        }
    }

    #[test]
    fn value_stays_small() {
        assert_eq!(std::mem::size_of::<Value>(), 16, "Value is {} bytes", std::mem::size_of::<Value>());
        // The tag's spare values carry a result's error case: results of values stay 16 too.
        assert_eq!(std::mem::size_of::<Result<Value, Box<super::super::Error>>>(), 16);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 16);
    }

    #[test]
    fn short_strings_live_inline_and_read_back_whole() {
        for text in ["", "a", "eleven byte", "ten bytes\u{e9}", "twelve bytes", "eleven byt\u{e9}", "\u{1F600}x"] {
            let v = Value::from(text);
            assert_eq!(matches!(v, Value::Short(_)), text.len() <= Short::CAPACITY, "{text:?}");
            assert_eq!(v.as_str(), Some(text));
            assert_eq!(Value::from(text.to_string()).as_str(), Some(text));
            assert!(v.loose_eq(&Value::Str(Rc::new(text.to_string()))), "inline and shared strings compare by text");
        }
    }

    #[test]
    fn integers_print_in_decimal() {
        for i in [0, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            let mut s = String::new();
            write_int(i, &mut s);
            assert_eq!(s, i.to_string());
        }
    }

    #[test]
    fn java_printing() {
        let p = |v: Value| v.to_display();
        assert_eq!(p(Value::Float(3.0)), "3.0");
        assert_eq!(p(Value::Float(2.5)), "2.5");
        assert_eq!(p(Value::Float(1e10)), "1.0E10");
        assert_eq!(p(Value::Float(1.5e-5)), "1.5E-5");
        assert_eq!(p(Value::new_list(vec![Value::Int(1), "two".into(), Value::Null])), "[1, two, null]");
        let json = Json::parse(br#"{"foo":[{"nested":"bar"}],"n":null}"#).unwrap();
        assert_eq!(p(Value::from(json)), r#"{foo=[{"nested":"bar"}], n=null}"#);
    }
}
