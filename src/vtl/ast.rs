//! The syntax tree of a template. Variables are resolved to slots at parse time, so a render
//! indexes a vector instead of hashing names.

use super::swar;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// A byte offset into the template source; turned into line and column only for messages.
pub type Offset = u32;

/// An index into the template's variable table.
pub type Slot = u32;

#[derive(Debug, Clone)]
pub enum Node {
    Text(Text),
    /// A reference rendered into the output.
    Ref(Ref),
    /// A reference that changes a list or map ([`Ref::mutates`]), rendered into the output.
    MutatingRef(Ref),
    /// A reference with the texts around it, made at load from a `Ref` node and the texts
    /// beside it ([`fuse`]).
    Print(Box<Print>),
    /// `\$ref`: prints as written (`source`), after a backslash when its value is null.
    EscapedRef {
        r: Ref,
        source: Box<str>,
    },
    Set {
        target: Ref,
        value: Expr,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Foreach {
        var: Slot,
        iterable: Expr,
        body: Vec<Node>,
        at: Offset,
    },
    Break,
    Stop,
    /// `#name(args)`; `source` is what to print if no macro of that name exists.
    MacroCall {
        name: Box<str>,
        args: Vec<Expr>,
        source: Box<str>,
        at: Offset,
    },
    /// `#define($x) ... #end`: the block (in the symbol table) renders each time `$x` is
    /// referenced.
    Define {
        slot: Slot,
        block: u32,
    },
}

/// A reference printed with the texts before and after it (`"sku": "$item.sku",`): most
/// references of a mapping template sit between two texts, and as one node the three cost
/// one step of the walk instead of three.
#[derive(Debug, Clone)]
pub struct Print {
    pub before: Option<Text>,
    pub r: Ref,
    pub after: Option<Text>,
}

/// Turns each `Ref` node of `nodes`, and of the blocks inside them, into a [`Print`] with
/// the texts beside it. A text between two references goes with the first: it is printed
/// after that one's value, as before the next.
pub fn fuse(nodes: &mut Vec<Node>) {
    let mut fused = Vec::with_capacity(nodes.len());
    let mut rest = std::mem::take(nodes).into_iter().peekable();
    while let Some(mut node) = rest.next() {
        match &mut node {
            Node::If { branches, otherwise } => {
                branches.iter_mut().for_each(|(_, body)| fuse(body));
                otherwise.iter_mut().for_each(fuse);
            }
            Node::Foreach { body, .. } => fuse(body),
            _ => {}
        }
        let Node::Ref(r) = node else {
            fused.push(node);
            continue;
        };
        let before = match fused.last() {
            Some(Node::Text(_)) => match fused.pop() {
                Some(Node::Text(t)) => Some(t),
                _ => None,
            },
            _ => None,
        };
        let after = match rest.peek() {
            Some(Node::Text(_)) => match rest.next() {
                Some(Node::Text(t)) => Some(t),
                _ => None,
            },
            _ => None,
        };
        fused.push(Node::Print(Box::new(Print { before, r, after })));
    }
    *nodes = fused;
}

/// Literal text of a template, kept with [`swar::SHORT`] bytes of padding after it so that a
/// short one (most are) is written as one fixed-size copy ([`swar::append_short`]).
#[derive(Debug, Clone)]
pub struct Text {
    padded: Box<str>,
    len: u32,
}

impl Text {
    pub fn new(text: &str) -> Text {
        let mut padded = String::with_capacity(text.len() + swar::SHORT);
        padded.push_str(text);
        padded.extend(std::iter::repeat_n('\0', swar::SHORT));
        Text { padded: padded.into_boxed_str(), len: text.len() as u32 }
    }

    /// The text is written from its start and its padding follows it: no check of where a
    /// part starts or ends is needed.
    #[inline(always)]
    pub fn write_to(&self, out: &mut String) {
        let len = self.len as usize;
        if len > swar::SHORT {
            out.push_str(&self.padded[..len]);
            return;
        }
        // SAFETY: `padded` holds the text and `SHORT` bytes after it, so `SHORT` bytes are
        // readable from its start; `len` ends the text, a character boundary.
        unsafe { swar::append_short(out, self.padded.as_ptr(), len) }
    }
}

#[derive(Debug, Clone)]
pub struct Ref {
    pub root: Slot,
    pub path: Vec<Access>,
    pub at: Offset,
}

/// The methods of Java's lists and maps that change them.
const MUTATORS: [&str; 8] = ["put", "putAll", "putIfAbsent", "remove", "clear", "add", "addAll", "set"];

impl Ref {
    /// The reference ends in a call that changes a list or map (`$m.put(..)`). Such references
    /// are nodes and expressions of their own, found at parse, so that no other reference
    /// pays for looking.
    pub fn mutates(&self) -> bool {
        matches!(self.path.last(), Some(Access::Method(name, _)) if MUTATORS.contains(&&**name))
    }
}

#[derive(Debug, Clone)]
pub enum Access {
    Property(Name),
    Method(Box<str>, Vec<Expr>),
    Index(Expr),
}

/// A property name, with its first bytes as a number so that JSON members are matched by
/// one integer comparison (see [`super::json::key_word`]), and where a member of that name
/// was last found in an object: the objects of one array mostly have their members in one
/// order, so that place is tried first ([`super::json::Doc::member_named`]). The place is
/// shared by every render of the template, and changes only when it misses.
#[derive(Debug)]
pub struct Name {
    pub text: Box<str>,
    pub word: u64,
    pub place: AtomicU32,
}

impl Name {
    pub fn new(text: Box<str>) -> Name {
        let word = super::json::key_word(text.as_bytes());
        Name { text, word, place: AtomicU32::new(0) }
    }
}

impl Clone for Name {
    fn clone(&self) -> Name {
        Name { text: self.text.clone(), word: self.word, place: AtomicU32::new(self.place.load(Relaxed)) }
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(std::sync::Arc<str>),
    /// A double-quoted string with references or directives inside.
    Interpolated(Vec<Node>),
    Ref(Ref),
    /// A reference that changes a list or map ([`Ref::mutates`]).
    MutatingRef(Ref),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Range(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
pub struct Macro {
    pub params: Vec<Slot>,
    pub body: Vec<Node>,
}
