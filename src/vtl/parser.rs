//! A hand-written recursive-descent parser for Velocity 1.7 as API Gateway runs it, working
//! on the source text directly (text mode and code mode differ too much for one token set).
//!
//! Whitespace follows Velocity 1.7: spaces and tabs before `#set` are dropped; a newline
//! right after a directive's closing `)` (or after `#else` / `#end`), with only spaces or tabs
//! between, is dropped; a `##` comment takes its newline with it.

use super::ast::*;
use super::error::{at, Error, ErrorKind};
use std::collections::HashMap;
use std::sync::Arc;

const MAX_DEPTH: usize = 100;

/// Names of variables and macros, shared by a template and the strings inside it.
#[derive(Debug, Default)]
pub struct Symbols {
    pub names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, Slot>,
    pub macros: HashMap<Box<str>, Macro>,
    /// Bodies of `#define` blocks.
    pub blocks: Vec<Vec<Node>>,
}

impl Symbols {
    pub fn slot(&mut self, name: &str) -> Slot {
        if let Some(s) = self.index.get(name) {
            return *s;
        }
        let s = self.names.len() as Slot;
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.index.insert(name, s);
        s
    }

    /// A variable's slot. Templates name few variables, where a scan beats hashing the name.
    pub fn find(&self, name: &str) -> Option<Slot> {
        if self.names.len() <= 16 {
            return self.names.iter().position(|n| &**n == name).map(|i| i as Slot);
        }
        self.index.get(name).copied()
    }
}

/// How a block of nodes ended.
enum BlockEnd {
    Eof,
    End(usize),
    Else(usize),
    ElseIf(Expr, usize),
}

pub struct Parser<'s, 'y> {
    src: &'s str,
    b: &'s [u8],
    i: usize,
    end: usize,
    depth: usize,
    syms: &'y mut Symbols,
}

/// Velocity 1.7's directives: a backslash before one of them (or before a macro) escapes it.
const DIRECTIVES: [&str; 14] = [
    "if", "else", "elseif", "end", "set", "stop", "foreach", "include", "parse", "macro", "literal", "evaluate",
    "break", "define",
];

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

pub fn parse(src: &str, syms: &mut Symbols) -> Result<Vec<Node>, Error> {
    let mut p = Parser { src, b: src.as_bytes(), i: 0, end: src.len(), depth: 0, syms };
    let (nodes, end) = p.block()?;
    match end {
        BlockEnd::Eof => Ok(nodes),
        BlockEnd::End(o) => Err(p.err_at(o, "#end without a matching #if, #foreach, #macro or #define")),
        BlockEnd::Else(o) => Err(p.err_at(o, "#else without a matching #if")),
        BlockEnd::ElseIf(_, o) => Err(p.err_at(o, "#elseif without a matching #if")),
    }
}

impl<'s> Parser<'s, '_> {
    fn err_at(&self, offset: usize, message: impl Into<String>) -> Error {
        at(self.src, offset, ErrorKind::Syntax, message)
    }

    fn err(&self, message: impl Into<String>) -> Error {
        self.err_at(self.i, message)
    }

    fn peek(&self) -> Option<u8> {
        (self.i < self.end).then(|| self.b[self.i])
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        (self.i + k < self.end).then(|| self.b[self.i + k])
    }

    fn starts_with(&self, s: &str) -> bool {
        self.src[self.i..self.end].starts_with(s)
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("nesting is deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// Text mode until `#end`, `#else`, `#elseif` or the end of input.
    fn block(&mut self) -> Result<(Vec<Node>, BlockEnd), Error> {
        self.enter()?;
        let mut nodes: Vec<Node> = Vec::new();
        let mut text = String::new();
        let end = loop {
            let Some(c) = self.peek() else { break BlockEnd::Eof };
            match c {
                b'\\' => self.escape(&mut text, &mut nodes)?,
                b'$' => match self.reference()? {
                    Some(r) => {
                        flush(&mut text, &mut nodes);
                        nodes.push(ref_node(r));
                    }
                    None => {
                        text.push('$');
                        self.i += 1;
                    }
                },
                b'#' => {
                    if let Some(end) = self.hash(&mut text, &mut nodes)? {
                        break end;
                    }
                }
                _ => {
                    let start = self.i;
                    while self.i < self.end && !matches!(self.b[self.i], b'\\' | b'$' | b'#') {
                        self.i += 1;
                    }
                    text.push_str(&self.src[start..self.i]);
                }
            }
        };
        flush(&mut text, &mut nodes);
        self.depth -= 1;
        Ok((nodes, end))
    }

    /// Backslashes before `$` or `#`, as Velocity 1.7 reads them. Before a reference they pair
    /// up, each pair printing one backslash, and an odd one escapes the reference: it prints
    /// as written, with its backslash too when its value is null (`\$a` is `$a` once `$a` is
    /// set, `\$a` before). Before a directive (or a macro defined above) they pair up the
    /// same way and an odd one prints the directive as written. Before anything else they are
    /// text, every one of them (`\$5`, `\# x`, `\#nodirective`).
    fn escape(&mut self, text: &mut String, nodes: &mut Vec<Node>) -> Result<(), Error> {
        let start = self.i;
        while self.peek() == Some(b'\\') {
            self.i += 1;
        }
        let n = self.i - start;
        match self.peek() {
            Some(b'$') => {
                let from = self.i;
                let Some(r) = self.reference()? else {
                    text.push_str(&self.src[start..self.i]);
                    return Ok(());
                };
                text.extend(std::iter::repeat_n('\\', n / 2));
                flush(text, nodes);
                if n % 2 == 1 {
                    nodes.push(Node::EscapedRef { r, source: self.src[from..self.i].into() });
                } else {
                    nodes.push(ref_node(r));
                }
            }
            Some(b'#') => {
                let known = self
                    .directive_name_at(self.i)
                    .filter(|(name, _)| DIRECTIVES.contains(name) || self.syms.macros.contains_key(*name));
                let Some((_, after)) = known else {
                    // Text, backslashes and all; the `#` is read on its own (a comment may follow).
                    text.push_str(&self.src[start..self.i]);
                    return Ok(());
                };
                text.extend(std::iter::repeat_n('\\', n / 2));
                if n % 2 == 1 {
                    text.push_str(&self.src[self.i..after]);
                    self.i = after;
                }
            }
            _ => text.push_str(&self.src[start..self.i]),
        }
        Ok(())
    }

    /// The directive or macro name after the `#` at `at` (`#name` or `#{name}`), and where
    /// the directive's name ends (after the `}`).
    fn directive_name_at(&self, at: usize) -> Option<(&'s str, usize)> {
        let braced = at + 1 < self.end && self.b[at + 1] == b'{';
        let name_start = at + 1 + braced as usize;
        let mut j = name_start;
        if j < self.end && self.b[j].is_ascii_alphabetic() {
            while j < self.end && is_ident_char(self.b[j]) {
                j += 1;
            }
        }
        if j == name_start || (braced && (j >= self.end || self.b[j] != b'}')) {
            return None;
        }
        Some((&self.src[name_start..j], j + braced as usize))
    }

    /// At `#`: a comment, an unparsed block, a directive, a macro call, or plain text.
    fn hash(&mut self, text: &mut String, nodes: &mut Vec<Node>) -> Result<Option<BlockEnd>, Error> {
        let start = self.i;
        match self.peek_at(1) {
            Some(b'#') => {
                while self.i < self.end && self.b[self.i] != b'\n' {
                    self.i += 1;
                }
                if self.i < self.end {
                    self.i += 1;
                }
                return Ok(None);
            }
            Some(b'*') => {
                let close = self.src[self.i + 2..self.end]
                    .find("*#")
                    .ok_or_else(|| self.err("unclosed comment: #* without *#"))?;
                self.i += 2 + close + 2;
                return Ok(None);
            }
            Some(b'[') if self.peek_at(2) == Some(b'[') => {
                let close =
                    self.src[self.i + 3..self.end].find("]]#").ok_or_else(|| self.err("unclosed #[[ without ]]#"))?;
                text.push_str(&self.src[self.i + 3..self.i + 3 + close]);
                self.i += 3 + close + 3;
                return Ok(None);
            }
            _ => {}
        }
        let Some((name, after)) = self.directive_name_at(start) else {
            text.push('#');
            self.i += 1;
            return Ok(None);
        };
        match name {
            "end" | "else" | "elseif" => {
                self.i = after;
                if name == "elseif" {
                    let cond = self.paren_expr("#elseif")?;
                    return Ok(Some(BlockEnd::ElseIf(cond, start)));
                }
                self.gobble_newline();
                return Ok(Some(if name == "end" { BlockEnd::End(start) } else { BlockEnd::Else(start) }));
            }
            "set" => {
                let trimmed = text.trim_end_matches([' ', '\t']).len();
                text.truncate(trimmed);
                flush(text, nodes);
                self.i = after;
                let node = self.set()?;
                nodes.push(node);
            }
            "if" => {
                flush(text, nodes);
                self.i = after;
                let node = self.if_(start)?;
                nodes.push(node);
            }
            "foreach" => {
                flush(text, nodes);
                self.i = after;
                let node = self.foreach(start)?;
                nodes.push(node);
            }
            "macro" => {
                flush(text, nodes);
                self.i = after;
                self.macro_(start)?;
            }
            "define" => {
                flush(text, nodes);
                self.i = after;
                let node = self.define(start)?;
                nodes.push(node);
            }
            "break" | "stop" => {
                flush(text, nodes);
                self.i = after;
                nodes.push(if name == "break" { Node::Break } else { Node::Stop });
            }
            _ => {
                self.i = after;
                self.skip_ws_inline();
                if self.peek() == Some(b'(') {
                    flush(text, nodes);
                    let node = self.macro_call(name, start)?;
                    nodes.push(node);
                } else {
                    // Not a directive: the text stays as written.
                    self.i = after;
                    text.push_str(&self.src[start..after]);
                }
            }
        }
        Ok(None)
    }

    fn gobble_newline(&mut self) {
        let mut j = self.i;
        while j < self.end && matches!(self.b[j], b' ' | b'\t') {
            j += 1;
        }
        if j < self.end && self.b[j] == b'\n' {
            self.i = j + 1;
        } else if j < self.end && self.b[j] == b'\r' {
            self.i = if j + 1 < self.end && self.b[j + 1] == b'\n' { j + 2 } else { j + 1 };
        }
    }

    fn skip_ws_inline(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), Error> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what.to_string()))
        }
    }

    /// `( expr )` after a directive name, and the newline after it.
    fn paren_expr(&mut self, directive: &str) -> Result<Expr, Error> {
        self.skip_ws_inline();
        self.expect(b'(', &format!("expected '(' after {directive}"))?;
        let e = self.expr()?;
        self.expect(b')', &format!("expected ')' to close {directive}"))?;
        self.gobble_newline();
        Ok(e)
    }

    fn set(&mut self) -> Result<Node, Error> {
        self.skip_ws_inline();
        self.expect(b'(', "expected '(' after #set")?;
        self.skip_ws();
        if self.peek() != Some(b'$') {
            return Err(self.err("expected a reference ($name) as the target of #set"));
        }
        let target = self.reference()?.ok_or_else(|| self.err("expected a reference ($name) as the target of #set"))?;
        if matches!(target.path.last(), Some(Access::Method(..))) {
            return Err(self.err_at(target.at as usize, "cannot assign to a method call"));
        }
        self.expect(b'=', "expected '=' in #set")?;
        let value = self.expr()?;
        self.expect(b')', "expected ')' to close #set")?;
        self.gobble_newline();
        Ok(Node::Set { target, value })
    }

    fn if_(&mut self, start: usize) -> Result<Node, Error> {
        let mut cond = self.paren_expr("#if")?;
        let mut branches = Vec::new();
        loop {
            let (body, end) = self.block()?;
            branches.push((cond, body));
            match end {
                BlockEnd::End(_) => return Ok(Node::If { branches, otherwise: None }),
                BlockEnd::ElseIf(c, _) => cond = c,
                BlockEnd::Else(_) => {
                    let (body, end) = self.block()?;
                    return match end {
                        BlockEnd::End(_) => Ok(Node::If { branches, otherwise: Some(body) }),
                        BlockEnd::Eof => Err(self.err_at(start, "unclosed #if: #end expected")),
                        BlockEnd::Else(o) => Err(self.err_at(o, "#else after #else")),
                        BlockEnd::ElseIf(_, o) => Err(self.err_at(o, "#elseif after #else")),
                    };
                }
                BlockEnd::Eof => return Err(self.err_at(start, "unclosed #if: #end expected")),
            }
        }
    }

    fn body_until_end(&mut self, start: usize, directive: &str) -> Result<Vec<Node>, Error> {
        let (body, end) = self.block()?;
        match end {
            BlockEnd::End(_) => Ok(body),
            BlockEnd::Eof => Err(self.err_at(start, format!("unclosed {directive}: #end expected"))),
            BlockEnd::Else(o) | BlockEnd::ElseIf(_, o) => Err(self.err_at(o, format!("#else inside {directive}"))),
        }
    }

    fn variable(&mut self, what: &str) -> Result<Slot, Error> {
        self.skip_ws();
        let bad = || format!("expected a variable ($name) {what}");
        if self.peek() != Some(b'$') {
            return Err(self.err(bad()));
        }
        self.i += 1;
        let braced = self.peek() == Some(b'{');
        if braced {
            self.i += 1;
        }
        let Some(name) = self.identifier() else {
            return Err(self.err(bad()));
        };
        if braced {
            self.expect(b'}', "expected '}'")?;
        }
        Ok(self.syms.slot(name))
    }

    fn foreach(&mut self, start: usize) -> Result<Node, Error> {
        self.skip_ws_inline();
        self.expect(b'(', "expected '(' after #foreach")?;
        let var = self.variable("in #foreach")?;
        self.skip_ws();
        let keyword_in = self.starts_with("in") && !self.peek_at(2).is_some_and(is_ident_char);
        if !keyword_in {
            return Err(self.err("expected 'in' in #foreach"));
        }
        self.i += 2;
        let iterable = self.expr()?;
        self.expect(b')', "expected ')' to close #foreach")?;
        self.gobble_newline();
        let body = self.body_until_end(start, "#foreach")?;
        Ok(Node::Foreach { var, iterable, body, at: start as Offset })
    }

    fn macro_(&mut self, start: usize) -> Result<(), Error> {
        self.skip_ws_inline();
        self.expect(b'(', "expected '(' after #macro")?;
        self.skip_ws();
        let Some(name) = self.identifier() else {
            return Err(self.err("expected a macro name"));
        };
        let mut params = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b')') => {
                    self.i += 1;
                    break;
                }
                Some(b',') => self.i += 1,
                Some(b'$') => params.push(self.variable("as a macro parameter")?),
                _ => return Err(self.err("expected a parameter ($name) or ')' in #macro")),
            }
        }
        self.gobble_newline();
        let body = self.body_until_end(start, "#macro")?;
        self.syms.macros.insert(name.into(), Macro { params, body });
        Ok(())
    }

    fn define(&mut self, start: usize) -> Result<Node, Error> {
        self.skip_ws_inline();
        self.expect(b'(', "expected '(' after #define")?;
        let slot = self.variable("in #define")?;
        self.expect(b')', "expected ')' to close #define")?;
        self.gobble_newline();
        let body = self.body_until_end(start, "#define")?;
        self.syms.blocks.push(body);
        Ok(Node::Define { slot, block: self.syms.blocks.len() as u32 - 1 })
    }

    fn macro_call(&mut self, name: &str, start: usize) -> Result<Node, Error> {
        self.i += 1; // '('
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b')') => {
                    self.i += 1;
                    break;
                }
                Some(b',') => self.i += 1,
                None => return Err(self.err_at(start, format!("unclosed call of #{name}: ')' expected"))),
                _ => args.push(self.expr()?),
            }
        }
        let source = self.src[start..self.i].into();
        self.gobble_newline();
        Ok(Node::MacroCall { name: name.into(), args, source, at: start as Offset })
    }

    fn identifier(&mut self) -> Option<&'s str> {
        let src: &'s str = self.src;
        let start = self.i;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        while self.peek().is_some_and(is_ident_char) {
            self.i += 1;
        }
        Some(&src[start..self.i])
    }

    /// At `$`: a reference, or `None` (and nothing consumed) when the `$` is plain text.
    fn reference(&mut self) -> Result<Option<Ref>, Error> {
        let start = self.i;
        self.i += 1;
        if self.peek() == Some(b'!') {
            self.i += 1;
        }
        let formal = self.peek() == Some(b'{');
        if formal {
            self.i += 1;
        }
        let Some(name) = self.identifier() else {
            self.i = start;
            return Ok(None);
        };
        let root = self.syms.slot(name);
        let mut path = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    self.i += 1;
                    let name: Box<str> = self.identifier().unwrap_or_default().into();
                    if self.peek() == Some(b'(') {
                        self.enter()?;
                        let open = self.i;
                        self.i += 1;
                        let args = self.args(b')', open, "method call")?;
                        self.depth -= 1;
                        path.push(Access::Method(name, args));
                    } else {
                        path.push(Access::Property(Name::new(name)));
                    }
                }
                Some(b'[') => {
                    self.enter()?;
                    let open = self.i;
                    self.i += 1;
                    let index = self.expr()?;
                    self.skip_ws();
                    if self.peek() != Some(b']') {
                        return Err(self.err_at(open, "unclosed index: ']' expected"));
                    }
                    self.i += 1;
                    self.depth -= 1;
                    path.push(Access::Index(index));
                }
                _ => break,
            }
        }
        if formal {
            if self.peek() != Some(b'}') {
                return Err(self.err_at(start, format!("expected '}}' to close ${{{name}")));
            }
            self.i += 1;
        }
        Ok(Some(Ref { root, path, at: start as Offset }))
    }

    fn args(&mut self, close: u8, open: usize, what: &str) -> Result<Vec<Expr>, Error> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(args);
                }
                None => return Err(self.err_at(open, format!("unclosed {what}: '{}' expected", close as char))),
                _ => return Err(self.err(format!("expected ',' or '{}' in {what}", close as char))),
            }
        }
    }

    fn word(&mut self, w: &str) -> bool {
        if self.starts_with(w) && !self.peek_at(w.len()).is_some_and(is_ident_char) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    fn op(&mut self, symbols: &[(&str, BinOp)], words: &[(&str, BinOp)]) -> Option<BinOp> {
        self.skip_ws();
        for (s, op) in symbols {
            if self.starts_with(s) {
                self.i += s.len();
                return Some(*op);
            }
        }
        for (w, op) in words {
            if self.word(w) {
                return Some(*op);
            }
        }
        None
    }

    pub fn expr(&mut self) -> Result<Expr, Error> {
        self.enter()?;
        let e = self.or();
        self.depth -= 1;
        e
    }

    fn or(&mut self) -> Result<Expr, Error> {
        let mut left = self.and()?;
        while let Some(op) = self.op(&[("||", BinOp::Or)], &[("or", BinOp::Or)]) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, Error> {
        let mut left = self.equality()?;
        while let Some(op) = self.op(&[("&&", BinOp::And)], &[("and", BinOp::And)]) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.equality()?));
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, Error> {
        let mut left = self.relation()?;
        while let Some(op) = self.op(&[("==", BinOp::Eq), ("!=", BinOp::Ne)], &[("eq", BinOp::Eq), ("ne", BinOp::Ne)]) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.relation()?));
        }
        Ok(left)
    }

    fn relation(&mut self) -> Result<Expr, Error> {
        let mut left = self.additive()?;
        while let Some(op) = self.op(
            &[("<=", BinOp::Le), (">=", BinOp::Ge), ("<", BinOp::Lt), (">", BinOp::Gt)],
            &[("lt", BinOp::Lt), ("le", BinOp::Le), ("gt", BinOp::Gt), ("ge", BinOp::Ge)],
        ) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.additive()?));
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, Error> {
        let mut left = self.multiplicative()?;
        while let Some(op) = self.op(&[("+", BinOp::Add), ("-", BinOp::Sub)], &[]) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.multiplicative()?));
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Expr, Error> {
        let mut left = self.unary()?;
        while let Some(op) = self.op(&[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)], &[]) {
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=') {
            self.i += 1;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.word("not") {
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.peek() == Some(b'-') && !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        self.skip_ws();
        let start = self.i;
        match self.peek() {
            Some(b'$') => match self.reference()? {
                Some(r) if r.mutates() => Ok(Expr::MutatingRef(r)),
                Some(r) => Ok(Expr::Ref(r)),
                None => Err(self.err("expected an expression")),
            },
            Some(b'\'') => {
                let close =
                    self.src[self.i + 1..self.end].find('\'').ok_or_else(|| self.err("unterminated string literal"))?;
                let s = &self.src[self.i + 1..self.i + 1 + close];
                self.i += close + 2;
                Ok(Expr::Str(s.into()))
            }
            Some(b'"') => self.double_quoted(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'.') if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => self.number(),
            Some(b'[') => {
                self.i += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expr()?;
                self.skip_ws();
                if self.starts_with("..") {
                    self.i += 2;
                    let last = self.expr()?;
                    self.expect(b']', "expected ']' to close the range")?;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            items.push(self.expr()?);
                        }
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Expr::List(items));
                        }
                        None => return Err(self.err_at(start, "unclosed list: ']' expected")),
                        _ => return Err(self.err("expected ',' or ']' in the list")),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let k = self.expr()?;
                    self.expect(b':', "expected ':' after the key in the map")?;
                    let v = self.expr()?;
                    entries.push((k, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Expr::Map(entries));
                        }
                        None => return Err(self.err_at(start, "unclosed map: '}' expected")),
                        _ => return Err(self.err("expected ',' or '}' in the map")),
                    }
                }
            }
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                self.expect(b')', "expected ')'")?;
                Ok(e)
            }
            _ => {
                if self.word("true") {
                    Ok(Expr::Bool(true))
                } else if self.word("false") {
                    Ok(Expr::Bool(false))
                } else if self.word("null") {
                    Ok(Expr::Null)
                } else {
                    Err(self.err("expected an expression"))
                }
            }
        }
    }

    /// A number literal, as Velocity 1.7 lexes one: an integer (`-5`), or a double with a
    /// fraction, an exponent or both (`1.5`, `1.`, `.5`, `2.5e-3`, `1E6`); `1..` is the
    /// integer that starts a range.
    fn number(&mut self) -> Result<Expr, Error> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = self.digits();
        let mut float = false;
        if self.peek() == Some(b'.') {
            let next = self.peek_at(1);
            if next.is_some_and(|c| c.is_ascii_digit()) || (digits > 0 && next != Some(b'.')) {
                float = true;
                self.i += 1;
                self.digits();
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) && (digits > 0 || float) {
            let sign = usize::from(matches!(self.peek_at(1), Some(b'+' | b'-')));
            if self.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                float = true;
                self.i += 1 + sign;
                self.digits();
            }
        }
        let text = &self.src[start..self.i];
        if !float && digits == 0 {
            self.i = start;
            return Err(self.err("expected an expression"));
        }
        if float {
            text.parse().map(Expr::Float).map_err(|_| self.err_at(start, "malformed number"))
        } else {
            match text.parse::<i64>() {
                Ok(i) => Ok(Expr::Int(i)),
                Err(_) => text.parse().map(Expr::Float).map_err(|_| self.err_at(start, "malformed number")),
            }
        }
    }

    /// Skips a run of digits; how many there were.
    fn digits(&mut self) -> usize {
        let from = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - from
    }

    /// A double-quoted string: interpolated when it holds `$` or `#`.
    fn double_quoted(&mut self) -> Result<Expr, Error> {
        let open = self.i;
        let mut j = self.i + 1;
        while j < self.end && self.b[j] != b'"' {
            j += 1;
        }
        if j >= self.end {
            return Err(self.err_at(open, "unterminated string literal"));
        }
        let content = &self.src[open + 1..j];
        self.i = j + 1;
        if !content.contains(['$', '#']) {
            return Ok(Expr::Str(content.into()));
        }
        let mut inner =
            Parser { src: self.src, b: self.b, i: open + 1, end: j, depth: self.depth, syms: &mut *self.syms };
        let (nodes, end) = inner.block()?;
        match end {
            BlockEnd::Eof => Ok(Expr::Interpolated(nodes)),
            BlockEnd::End(o) => Err(inner.err_at(o, "#end without a matching #if, #foreach, #macro or #define")),
            BlockEnd::Else(o) | BlockEnd::ElseIf(_, o) => Err(inner.err_at(o, "#else without a matching #if")),
        }
    }
}

/// A reference as a node to render.
fn ref_node(r: Ref) -> Node {
    if r.mutates() {
        Node::MutatingRef(r)
    } else {
        Node::Ref(r)
    }
}

fn flush(text: &mut String, nodes: &mut Vec<Node>) {
    if !text.is_empty() {
        nodes.push(Node::Text(Text::new(text)));
        text.clear();
    }
}
