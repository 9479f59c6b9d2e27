//! JSON documents as the template engine sees them: parsed once per payload into one flat
//! arena (a handful of allocations, whatever the size), and referenced by node, so that
//! `$input.path` results and their members are shared without copying.

mod parse;

use super::ast::Name;
use super::value::Value;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn pack(self) -> u64 {
        (self.start as u64) | ((self.len as u64) << 32)
    }

    fn unpack(packed: u64) -> Span {
        Span { start: packed as u32, len: (packed >> 32) as u32 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Span),
    /// Children are `items[start..start + len]`.
    Array {
        start: u32,
        len: u32,
    },
    /// Members are `members[start..start + len]`; `distinct` when no two have the same key
    /// (known of small objects only), so that a member found has no later duplicate.
    Object {
        start: u32,
        len: u32,
        distinct: bool,
    },
}

/// An object member. `word` holds the key's first eight bytes, so that most key
/// comparisons are one integer comparison instead of a byte-by-byte one.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Member {
    key: Span,
    word: u64,
    value: u32,
}

/// The first eight bytes of a key, zero-padded: with the length, the whole key when it is
/// no longer than eight bytes.
pub(crate) fn key_word(key: &[u8]) -> u64 {
    // Built in a register: bytes stored one way and read back another would stall.
    if let Some(first) = key.first_chunk::<8>() {
        return u64::from_le_bytes(*first);
    }
    key.iter().enumerate().fold(0, |w, (i, &b)| w | (b as u64) << (8 * i))
}

/// A parsed document: every node, array item and object member in flat vectors, every
/// string (unescaped) in one buffer, which ends with padding ([`parse`]).
#[derive(Debug, Default)]
pub struct Doc {
    nodes: Vec<Node>,
    items: Vec<u32>,
    members: Vec<Member>,
    text: String,
    /// Containers a template changed (`put`, `add`, `#set` of a member), by node: the list
    /// or map that stands for the node from then on, so that every value referring to the
    /// node (another variable bound to it, an ancestor printed) sees the change, as the
    /// shared Java collections of API Gateway's templates do. Emptied when the render ends
    /// ([`ChangesKept`]): the values refer back to the document.
    changes: RefCell<Vec<(u32, Value)>>,
    changed: Cell<bool>,
}

impl Drop for Doc {
    fn drop(&mut self) {
        parse::Buffers {
            nodes: std::mem::take(&mut self.nodes),
            items: std::mem::take(&mut self.items),
            members: std::mem::take(&mut self.members),
            text: std::mem::take(&mut self.text),
        }
        .give_back();
    }
}

/// What a container node holds, for iterating by position.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Children {
    Items { start: u32, len: u32 },
    Members { start: u32, len: u32 },
}

impl Children {
    pub(crate) fn len(self) -> usize {
        match self {
            Children::Items { len, .. } | Children::Members { len, .. } => len as usize,
        }
    }
}

impl Doc {
    /// Whether a template changed any container of this document: until then every node
    /// reads as parsed, and the fast paths read nodes where they are.
    #[inline]
    pub(crate) fn has_changes(&self) -> bool {
        self.changed.get()
    }

    /// The list or map a template made of container `id`, if it changed it.
    pub(crate) fn changed(&self, id: u32) -> Option<Value> {
        if !self.changed.get() {
            return None;
        }
        self.changes.borrow().iter().find(|(n, _)| *n == id).map(|(_, v)| v.clone())
    }

    /// Records `value` as what container `id` is from now on.
    pub(crate) fn record_change(self: &Rc<Doc>, id: u32, value: Value) {
        if !self.changed.replace(true) {
            CHANGED_DOCS.with(|d| d.borrow_mut().push(self.clone()));
        }
        self.changes.borrow_mut().push((id, value));
    }

    /// A span's text. The range is checked, not the character boundaries: a span is a whole
    /// string of the text ([`Self::write_str`]).
    #[inline(always)]
    fn str(&self, s: Span) -> &str {
        let bytes = self.text.as_bytes().get(s.start as usize..s.start as usize + s.len as usize).unwrap_or_default();
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: the bytes of a span are a whole string of the text, so UTF-8 (see above).
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Appends a string's text to `out`. The text ends with padding, so a short one is one
    /// fixed-size copy.
    #[inline(always)]
    fn write_str(&self, s: Span, out: &mut String) {
        let (start, len) = (s.start as usize, s.len as usize);
        if len <= super::swar::SHORT && start + super::swar::SHORT <= self.text.len() {
            debug_assert!(self.text.is_char_boundary(start) && self.text.is_char_boundary(start + len));
            // SAFETY: `SHORT` bytes are readable from `start` (checked), and a span of the
            // document is a whole string of its text, cut where the parser or `span_of` cut
            // it: at a quote, or around a `&str` appended whole, so on character boundaries.
            unsafe { super::swar::append_short(out, self.text.as_ptr().add(start), len) }
        } else {
            out.push_str(self.str(s));
        }
    }

    /// Appends the text of a string node (nothing for anything else) to `out`.
    #[inline(always)]
    pub(crate) fn write_text_of(&self, id: u32, out: &mut String) {
        if let Node::Str(s) = self.nodes[id as usize] {
            self.write_str(s, out);
        }
    }

    /// The text of a string node (empty for anything else).
    pub(crate) fn text_of(&self, id: u32) -> &str {
        self.string(id).unwrap_or_default()
    }

    /// The text of a node that is a string.
    #[inline(always)]
    pub(crate) fn string(&self, id: u32) -> Option<&str> {
        match self.nodes[id as usize] {
            Node::Str(s) => Some(self.str(s)),
            _ => None,
        }
    }

    /// An object member's node, without building a handle. A later duplicate wins, as a map
    /// insertion would.
    pub(crate) fn member(&self, id: u32, key: &str) -> Option<u32> {
        let (members, at) = self.member_at(id, key, key_word(key.as_bytes()))?;
        Some(members[at].value)
    }

    /// An object member's node, by a property name of a template: tried first where the
    /// name last found one, which holds for every object of an array whose objects have
    /// their members in one order. Inlined into every reference that reads a member.
    #[inline(always)]
    pub(crate) fn member_named(&self, id: u32, name: &Name) -> Option<u32> {
        let Node::Object { start, len, distinct } = self.nodes[id as usize] else {
            return None;
        };
        let place = name.place.load(Relaxed);
        if distinct && place < len {
            if let Some(m) = self.members.get((start + place) as usize) {
                if self.key_is(m, name, name.word) {
                    return Some(m.value);
                }
            }
        }
        self.member_placed(id, name)
    }

    /// [`Self::member_named`] where the place missed: looked up, and the place kept.
    #[inline(never)]
    fn member_placed(&self, id: u32, name: &Name) -> Option<u32> {
        let (members, at) = self.member_at(id, name, name.word)?;
        if name.place.load(Relaxed) != at as u32 {
            name.place.store(at as u32, Relaxed);
        }
        Some(members[at].value)
    }

    /// An object's members and the position among them of the last one named `key` (whose
    /// [`key_word`] is `word`).
    fn member_at(&self, id: u32, key: &str, word: u64) -> Option<(&[Member], usize)> {
        let Node::Object { start, len, .. } = self.nodes[id as usize] else {
            return None;
        };
        let members = self.members.get(start as usize..(start + len) as usize)?;
        let at = members.iter().rposition(|m| self.key_is(m, key, word))?;
        Some((members, at))
    }

    /// Whether member `m` is named `key`: by first bytes and length, and by the rest of the
    /// bytes only for keys longer than eight.
    #[inline(always)]
    fn key_is(&self, m: &Member, key: &str, word: u64) -> bool {
        m.word == word
            && m.key.len as usize == key.len()
            && (key.len() <= 8
                || self.text.as_bytes().get(m.key.start as usize..(m.key.start + m.key.len) as usize)
                    == Some(key.as_bytes()))
    }

    /// A scalar node's kind (the text of a string is not looked up); `None` for arrays and
    /// objects.
    pub(crate) fn scalar(&self, id: u32) -> Option<Kind<'static>> {
        Some(match self.nodes[id as usize] {
            Node::Null => Kind::Null,
            Node::Bool(b) => Kind::Bool(b),
            Node::Int(i) => Kind::Int(i),
            Node::Float(f) => Kind::Float(f),
            Node::Str(_) => Kind::Str(""),
            Node::Array { .. } | Node::Object { .. } => return None,
        })
    }

    #[inline]
    pub(crate) fn is_string(&self, id: u32) -> bool {
        matches!(self.nodes.get(id as usize), Some(Node::Str(_)))
    }

    #[inline]
    pub(crate) fn is_container(&self, id: u32) -> bool {
        matches!(self.nodes.get(id as usize), Some(Node::Array { .. } | Node::Object { .. }))
    }

    /// `#if` truthiness of a node: only null and false are false.
    pub(crate) fn is_truthy(&self, id: u32) -> bool {
        !matches!(self.nodes[id as usize], Node::Null | Node::Bool(false))
    }

    /// A number node's value.
    pub(crate) fn number(&self, id: u32) -> Option<super::value::Number> {
        match self.nodes[id as usize] {
            Node::Int(i) => Some(super::value::Number::Int(i)),
            Node::Float(f) => Some(super::value::Number::Float(f)),
            _ => None,
        }
    }

    /// The children of an array or object node.
    pub(crate) fn children(&self, id: u32) -> Option<Children> {
        match self.nodes[id as usize] {
            Node::Array { start, len } => Some(Children::Items { start, len }),
            Node::Object { start, len, .. } => Some(Children::Members { start, len }),
            _ => None,
        }
    }

    /// The node of the `i`th child (array item or member value).
    pub(crate) fn child(&self, c: Children, i: usize) -> u32 {
        match c {
            Children::Items { start, .. } => self.items[start as usize + i],
            Children::Members { start, .. } => self.members[start as usize + i].value,
        }
    }

    /// Writes a scalar node as it prints in a template (strings as text, null as nothing);
    /// false for arrays and objects, which print through [`super::value::Value`].
    #[inline(always)]
    pub(crate) fn write_scalar(&self, id: u32, out: &mut String) -> bool {
        match self.nodes[id as usize] {
            Node::Str(s) => self.write_str(s, out),
            Node::Int(i) => super::value::write_int(i, out),
            node => return self.write_other_scalar(node, out),
        }
        true
    }

    /// [`Self::write_scalar`] past strings and integers, out of line.
    #[inline(never)]
    fn write_other_scalar(&self, node: Node, out: &mut String) -> bool {
        match node {
            Node::Str(s) => self.write_str(s, out),
            Node::Int(i) => super::value::write_int(i, out),
            Node::Null => {}
            Node::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Node::Float(f) => super::value::write_java_double(f, out),
            Node::Array { .. } | Node::Object { .. } => return false,
        }
        true
    }
}

/// A node of a document; clones share the document.
#[derive(Clone)]
pub struct Json {
    pub(crate) doc: Rc<Doc>,
    pub(crate) id: u32,
}

/// What a node is, borrowed from its document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Array(usize),
    Object(usize),
}

impl std::fmt::Debug for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json_string())
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Self) -> bool {
        self.to_json_string() == other.to_json_string()
    }
}

impl Json {
    fn node(&self) -> Node {
        self.doc.nodes[self.id as usize]
    }

    fn at(&self, id: u32) -> Json {
        Json { doc: self.doc.clone(), id }
    }

    pub fn kind(&self) -> Kind<'_> {
        match self.node() {
            Node::Null => Kind::Null,
            Node::Bool(b) => Kind::Bool(b),
            Node::Int(i) => Kind::Int(i),
            Node::Float(f) => Kind::Float(f),
            Node::Str(s) => Kind::Str(self.doc.str(s)),
            Node::Array { len, .. } => Kind::Array(len as usize),
            Node::Object { len, .. } => Kind::Object(len as usize),
        }
    }

    pub fn is_array(&self) -> bool {
        matches!(self.node(), Node::Array { .. })
    }

    pub fn is_object(&self) -> bool {
        matches!(self.node(), Node::Object { .. })
    }

    /// The text of a string node.
    pub fn as_str(&self) -> Option<&str> {
        match self.node() {
            Node::Str(s) => Some(self.doc.str(s)),
            _ => None,
        }
    }

    /// An object member; a later duplicate wins, as a map insertion would.
    pub fn get(&self, key: &str) -> Option<Json> {
        self.doc.member(self.id, key).map(|id| self.at(id))
    }

    /// An array item; a negative index counts from the end.
    pub fn index(&self, i: i64) -> Option<Json> {
        let Node::Array { start, len } = self.node() else {
            return None;
        };
        let i = if i < 0 { len as i64 + i } else { i };
        if i < 0 || i >= len as i64 {
            return None;
        }
        Some(self.at(self.doc.items[start as usize + i as usize]))
    }

    pub fn len(&self) -> usize {
        match self.node() {
            Node::Array { len, .. } | Node::Object { len, .. } => len as usize,
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items of an array (nothing for anything else).
    pub fn items(&self) -> impl Iterator<Item = Json> + '_ {
        let ids: &[u32] = match self.node() {
            Node::Array { start, len } => &self.doc.items[start as usize..(start + len) as usize],
            _ => &[],
        };
        ids.iter().map(|id| self.at(*id))
    }

    /// The members of an object, in document order (nothing for anything else).
    pub fn members(&self) -> impl Iterator<Item = (&str, Json)> + '_ {
        let members: &[Member] = match self.node() {
            Node::Object { start, len, .. } => &self.doc.members[start as usize..(start + len) as usize],
            _ => &[],
        };
        members.iter().map(|m| (self.doc.str(m.key), self.at(m.value)))
    }

    /// Compact JSON text, as `$input.json` and printed JSON lists give it.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        self.doc.write_node(self.id, out);
    }

    /// Parses a payload. Numbers without a fraction or exponent that fit a `long` are
    /// integers; the rest are doubles.
    pub fn parse(bytes: &[u8]) -> Result<Json, String> {
        parse::parse(bytes)
    }

    pub fn from_serde(v: &serde_json::Value) -> Json {
        let mut doc = Doc::default();
        let id = doc.add_serde(v);
        doc.text.push_str(parse::ZEROS);
        Json { doc: Rc::new(doc), id }
    }

    pub fn to_serde(&self) -> serde_json::Value {
        match self.kind() {
            Kind::Null => serde_json::Value::Null,
            Kind::Bool(b) => b.into(),
            Kind::Int(i) => i.into(),
            Kind::Float(f) => serde_json::Number::from_f64(f).map(serde_json::Value::Number).unwrap_or_default(),
            Kind::Str(s) => s.into(),
            Kind::Array(_) => serde_json::Value::Array(self.items().map(|j| j.to_serde()).collect()),
            Kind::Object(_) => {
                serde_json::Value::Object(self.members().map(|(k, v)| (k.to_string(), v.to_serde())).collect())
            }
        }
    }
}

impl Doc {
    fn span_of(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span { start, len: s.len() as u32 }
    }

    fn add_serde(&mut self, v: &serde_json::Value) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node::Null);
        let node = match v {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Node::Int(i),
                None => Node::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Node::Str(self.span_of(s)),
            serde_json::Value::Array(a) => {
                let ids: Vec<u32> = a.iter().map(|x| self.add_serde(x)).collect();
                let start = self.items.len() as u32;
                self.items.extend(ids);
                Node::Array { start, len: a.len() as u32 }
            }
            serde_json::Value::Object(o) => {
                let members: Vec<Member> = o
                    .iter()
                    .map(|(k, x)| Member {
                        key: self.span_of(k),
                        word: key_word(k.as_bytes()),
                        value: self.add_serde(x),
                    })
                    .collect();
                let start = self.members.len() as u32;
                self.members.extend(members);
                // A map's keys are distinct.
                Node::Object { start, len: o.len() as u32, distinct: true }
            }
        };
        self.nodes[id as usize] = node;
        id
    }

    /// Node `id` as JSON text, as parsed.
    pub(crate) fn write_json_of(&self, id: u32, out: &mut String) {
        self.write_node(id, out);
    }

    fn write_node(&self, id: u32, out: &mut String) {
        match self.nodes[id as usize] {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Node::Int(i) => super::value::write_int(i, out),
            Node::Float(f) => super::value::write_java_double(f, out),
            Node::Str(s) => write_json_string(self.str(s), out),
            Node::Array { start, len } => {
                out.push('[');
                for (n, item) in self.items[start as usize..(start + len) as usize].iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    self.write_node(*item, out);
                }
                out.push(']');
            }
            Node::Object { start, len, .. } => {
                out.push('{');
                for (n, m) in self.members[start as usize..(start + len) as usize].iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write_json_string(self.str(m.key), out);
                    out.push(':');
                    self.write_node(m.value, out);
                }
                out.push('}');
            }
        }
    }
}

pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escape);
        }
        plain = i + c.len_utf8();
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

thread_local! {
    /// Documents with changes recorded during the renders running on this thread.
    static CHANGED_DOCS: RefCell<Vec<Rc<Doc>>> = const { RefCell::new(Vec::new()) };
    static CHANGES_KEPT: Cell<usize> = const { Cell::new(0) };
}

/// Held for a render (and by a host for as long as it reads what a render left, such as
/// overrides): when the outermost one ends, the changes recorded on documents meanwhile are
/// let go of, which frees the documents (a changed list refers back to its document).
pub struct ChangesKept(());

impl ChangesKept {
    #[allow(clippy::new_without_default)]
    pub fn new() -> ChangesKept {
        CHANGES_KEPT.set(CHANGES_KEPT.get() + 1);
        ChangesKept(())
    }
}

/// Whether a render runs on this thread (a [`ChangesKept`] is held).
pub(crate) fn rendering() -> bool {
    CHANGES_KEPT.get() > 0
}

impl Drop for ChangesKept {
    fn drop(&mut self) {
        let depth = CHANGES_KEPT.get() - 1;
        CHANGES_KEPT.set(depth);
        if depth > 0 {
            return;
        }
        let docs: Vec<Rc<Doc>> = CHANGED_DOCS.with(|d| std::mem::take(&mut *d.borrow_mut()));
        for doc in docs {
            // Taken out first: dropping the values may drop other documents.
            let changes = std::mem::take(&mut *doc.changes.borrow_mut());
            doc.changed.set(false);
            drop(changes);
        }
        super::value::let_go_of_made();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parse::MAX_DEPTH;

    mod round_trip {
        use super::super::Json;
        use proptest::prelude::*;

        /// JSON values with the strings that stress the scanner: quotes, backslashes, control
        /// characters, non-ASCII, and lengths around the eight-byte steps.
        fn value() -> impl Strategy<Value = serde_json::Value> {
            let text = proptest::collection::vec(
                proptest::sample::select(vec!['a', '"', '\\', '\n', '\u{1}', 'é', '😀', '/', ' ', '7']),
                0..20,
            )
            .prop_map(|c| c.into_iter().collect::<String>());
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                (-1e9f64..1e9).prop_map(serde_json::Value::from),
                text.clone().prop_map(serde_json::Value::from),
            ];
            leaf.prop_recursive(4, 48, 6, move |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                    proptest::collection::vec((text.clone(), inner), 0..6)
                        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

            /// What serde_json writes, compact or pretty, parses back to the same value.
            #[test]
            fn serde_json_output_parses_back(v in value()) {
                for text in [serde_json::to_string(&v).unwrap(), serde_json::to_string_pretty(&v).unwrap()] {
                    let parsed = Json::parse(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
                    prop_assert_eq!(parsed.to_serde(), v.clone(), "{}", text);
                }
            }

            /// Every prefix of a document, and the document with any one byte replaced by one
            /// the parser stops at (a zero byte like its padding's among them), parses or fails
            /// without a panic (in debug builds, without a read past the padding); what parses
            /// prints as JSON that parses back to the same.
            #[test]
            fn cut_and_changed_documents_fail_cleanly(v in value(), with in proptest::sample::select(
                vec![0u8, b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'u', b'1', b' ', 0xff]
            )) {
                let text = serde_json::to_string(&v).unwrap().into_bytes();
                let mut tried: Vec<Vec<u8>> = (0..text.len()).map(|cut| text[..cut].to_vec()).collect();
                for at in 0..text.len() {
                    let mut changed = text.clone();
                    changed[at] = with;
                    tried.push(changed);
                }
                for bytes in tried {
                    if let Ok(parsed) = Json::parse(&bytes) {
                        let printed = parsed.to_json_string();
                        // A changed digit may make a number too large for a double: it prints
                        // as Java prints one, which JSON has no word for.
                        if printed.contains("Infinity") {
                            continue;
                        }
                        let again = Json::parse(printed.as_bytes()).map_err(TestCaseError::fail)?;
                        prop_assert_eq!(again.to_json_string(), printed);
                    }
                }
            }
        }
    }

    #[test]
    fn key_words_agree_however_read() {
        let text = b"abcdefghijklmnop";
        for start in 0..text.len() {
            for len in 0..=text.len() - start {
                let key = &text[start..start + len];
                let mut padded = [0u8; 8];
                padded[..len.min(8)].copy_from_slice(&key[..len.min(8)]);
                assert_eq!(key_word(key), u64::from_le_bytes(padded), "{start}+{len}");
            }
        }
        // Keys as the parser reads them: from the payload wherever they lie (up to its last
        // byte), or unescaped; each is found by its name.
        for len in 0..=16 {
            let key: String = "abcdefghijklmnop"[..len].into();
            for json in [format!("{{\"{key}\":{len}}}"), format!("{{\"\\u0041{key}\":{len}}}")] {
                let doc = Json::parse(json.as_bytes()).unwrap();
                let name = if json.contains("\\u") { format!("A{key}") } else { key.clone() };
                assert_eq!(doc.get(&name).map(|v| v.to_json_string()), Some(len.to_string()), "{json}");
            }
        }
    }

    /// A document's buffers serve the next parse once it is let go of: what a parse gives is
    /// the same whether the buffers are fresh, left by a larger document, by a failed parse,
    /// or taken while another document still holds its own.
    #[test]
    fn kept_buffers_leave_nothing_behind() {
        let parsed = |text: &str| Json::parse(text.as_bytes()).map(|j| j.to_serde());
        let small = r#"{"a": ["x\ny", 2]}"#;
        let expected = parsed(small).unwrap();
        drop(Json::parse(r#"{"long": ["a fairly long string\t", {"deep": [1, 2, 3]}], "more": "text"}"#.as_bytes()));
        assert_eq!(parsed(small).unwrap(), expected);
        assert!(parsed(r#"{"a": [1, 2"#).is_err());
        assert_eq!(parsed(small).unwrap(), expected);
        let held = Json::parse(b"[\"held\"]").unwrap();
        assert_eq!(parsed(small).unwrap(), expected);
        assert_eq!(held.to_serde(), serde_json::json!(["held"]));
    }

    #[test]
    fn errors_name_the_problem_and_the_byte() {
        let err = |text: &str| Json::parse(text.as_bytes()).err().unwrap_or_default();
        assert_eq!(err("{\"a\":1,}"), "expected a string key at byte 7");
        assert_eq!(err("{\"a\" 1}"), "expected ':' at byte 5");
        assert_eq!(err("[1 2]"), "expected ',' or ']' at byte 3");
        assert_eq!(err("{\"a\":1]"), "expected ',' or '}' at byte 6");
        assert_eq!(err("[tru]"), "expected a JSON value at byte 1");
        assert_eq!(err("\"abc"), "unterminated string at byte 4");
        assert_eq!(err("[1] x"), "unexpected text after the JSON value at byte 4");
        assert_eq!(err(r#""a\x""#), "invalid escape at byte 4");
        assert_eq!(err(r#""a\u12""#), "truncated \\u escape at byte 4");
        assert_eq!(err(r#""a\uzzzz""#), "invalid \\u escape at byte 4");
        assert_eq!(err("\"ab\n\""), "control character in string at byte 3");
        assert_eq!(err("\"a\\n\u{1}\""), "control character in string at byte 4");
        assert_eq!(err(r#""a\"#), "unterminated string at byte 3");
        assert_eq!(err(r#""a\"bcdéfghijklmn"#), "unterminated string at byte 18");
        // Past ASCII anywhere, in the blocks told at once or the few bytes after them.
        for at in [1, 63, 64, 69, 130] {
            let mut bytes = format!("\"{}\"", "a".repeat(140)).into_bytes();
            bytes[at] = 0xff;
            let message = Json::parse(&bytes).err().unwrap_or_default();
            assert_eq!(message, format!("invalid UTF-8 at byte {at}"));
            bytes[at..at + 2].copy_from_slice("é".as_bytes());
            assert_eq!(Json::parse(&bytes).unwrap().as_str().map(|s| s.chars().count()), Some(139));
        }
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(Json::parse(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(err(&deep(MAX_DEPTH + 1)), format!("nesting too deep at byte {MAX_DEPTH}"));
        // Deeper than any machine stack would allow recursion: refused, not a crash.
        assert!(err(&deep(1_000_000)).starts_with("nesting too deep"));
    }

    /// Escaped strings are copied eight bytes at a time and cut back at each special byte:
    /// every length and position of an escape, around multi-byte characters.
    #[test]
    fn escaped_strings_unescape_at_every_offset() {
        for len in 0..24 {
            for at in 0..=len {
                for plain in ["a", "é", "😀"] {
                    let mut text: String = plain.repeat(len);
                    let cut = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                    text.insert_str(cut, "\"\n§/🎉");
                    let json = serde_json::to_string(&text)
                        .unwrap()
                        .replace('/', "\\/")
                        .replace('§', "\\u00a7")
                        .replace('🎉', "\\ud83c\\udf89");
                    let parsed = Json::parse(json.as_bytes()).unwrap();
                    assert_eq!(parsed.as_str(), Some(text.as_str()), "{json}");
                }
            }
        }
    }

    /// A name's member is found where the last object had it, or looked for when it is not
    /// there; a later duplicate wins either way, in small objects and large.
    #[test]
    fn members_found_by_name_in_any_order() {
        let j = Json::parse(
            br#"[{"a":1,"b":2},{"b":3,"a":4},{"a":5,"a":6},{"b":0},
                 {"a":7,"b":8,"c":9,"d":1,"e":2,"f":3,"g":4,"h":5,"a":10},{"a":11,"b":12}]"#,
        )
        .unwrap();
        let name = Name::new("a".into());
        let found: Vec<String> = j
            .items()
            .map(|o| o.doc.member_named(o.id, &name).map_or("-".into(), |m| o.at(m).to_json_string()))
            .collect();
        assert_eq!(found, ["1", "4", "6", "-", "10", "11"]);
    }

    #[test]
    fn containers_nest_in_document_order() {
        let j = Json::parse(br#"{"a": {"b": [1, {"c": []}, {}]}, "d": [[], [2]], "e": {}}"#).unwrap();
        assert_eq!(j.to_json_string(), r#"{"a":{"b":[1,{"c":[]},{}]},"d":[[],[2]],"e":{}}"#);
        assert_eq!(j.get("d").unwrap().index(1).unwrap().index(0).unwrap().to_json_string(), "2");
    }

    #[test]
    fn parse_and_print() {
        let j = Json::parse(
            br#" {"a": [1, 2.5, "x\"y\u00e9"], "b": {"c": null, "d": true}, "e": "caf\u00e9 \ud83d\ude00"} "#,
        )
        .unwrap();
        assert_eq!(j.to_json_string(), "{\"a\":[1,2.5,\"x\\\"yé\"],\"b\":{\"c\":null,\"d\":true},\"e\":\"café 😀\"}");
        assert_eq!(j.get("a").unwrap().index(-1).unwrap().as_str(), Some("x\"yé"));
        assert_eq!(j.get("b").unwrap().members().map(|(k, _)| k.to_string()).collect::<Vec<_>>(), ["c", "d"]);
        assert!(Json::parse(b"{\"a\":1,}").is_err());
        assert!(Json::parse(b"[1] x").is_err());
        assert!(Json::parse(b"[\"\xff\"]").is_err());
        let round = Json::from_serde(&j.to_serde());
        assert_eq!(round.to_json_string(), j.to_json_string());
    }
}
