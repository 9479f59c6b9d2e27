//! Parsing a payload into a [`Doc`], in one pass over a copy of it followed by zero bytes.
//!
//! The zero bytes are why the parser reads without bounds checks: no byte of the grammar is
//! zero, so every scan stops at the padding at the latest, and a position moves past a byte
//! only once that byte was seen to be one the grammar expects. The position therefore never
//! passes the payload's end, and no read reaches further than [`PAD`] bytes past it. That
//! is the invariant behind every `unsafe` read here (checked in debug builds).

use super::{key_word, Doc, Json, Member, Node, Span};
use crate::vtl::swar;

/// Zero bytes after the payload in the buffer the parser reads: the widest read (sixteen
/// bytes of a string) fits in them from any position up to the payload's end. The text ends
/// with as many, so that a string of the document is printed as one fixed-size copy
/// ([`swar::append_short`]).
const PAD: usize = swar::SHORT;
pub(super) const ZEROS: &str = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
const _: () = assert!(ZEROS.len() == PAD, "the padding is PAD zero bytes");

pub(super) const MAX_DEPTH: usize = 512;

/// Parses a payload. Numbers without a fraction or exponent that fit a `long` are integers;
/// the rest are doubles.
pub(super) fn parse(bytes: &[u8]) -> Result<Json, String> {
    let payload = utf8(bytes)?;
    let n = bytes.len();
    // The document's text: the payload (strings without escapes are spans of it), the
    // padding, then the strings that had escapes, unescaped.
    let Buffers { mut nodes, mut items, mut members, mut text } = BUFFERS.take();
    text.reserve(n + PAD + n / 4 + PAD);
    text.push_str(payload);
    text.push_str(ZEROS);
    nodes.reserve(n / 8 + 1);
    items.reserve(n / 16);
    members.reserve(n / 16);
    let mut scratch = SCRATCH.take();
    let mut p = Parser { b: text.as_bytes(), n, nodes, items, members, scratch: &mut scratch, failure: ("", 0) };
    let root = p.document();
    let Parser { nodes, items, members, failure, .. } = p;
    let result = match root {
        Ok(root) => {
            // SAFETY: the unescaped strings are runs of the payload, which is UTF-8, cut only
            // before ASCII bytes, and whole characters ([`unescape`]); a string that failed
            // was cut back to where it started, and this one parse succeeded.
            unsafe { text.as_mut_vec() }.extend_from_slice(&scratch.escaped);
            text.push_str(ZEROS);
            let doc = Doc { nodes, items, members, text, changes: Default::default(), changed: Default::default() };
            Ok(Json { doc: std::rc::Rc::new(doc), id: root })
        }
        Err(Failed) => {
            Buffers { nodes, items, members, text }.give_back();
            Err(format!("{} at byte {}", failure.0, failure.1))
        }
    };
    scratch.give_back();
    result
}

/// The payload as text. Most are ASCII, which sixty-four bytes at a time (four vector
/// compares) tells faster than a full UTF-8 check, run only when a byte is past ASCII.
fn utf8(bytes: &[u8]) -> Result<&str, String> {
    let mut chunks = bytes.chunks_exact(64);
    let ascii = chunks.all(|c| {
        let mut high = 0;
        for q in c.chunks_exact(16) {
            high |= swar::flags16(q.try_into().unwrap_or(&[0; 16]), [], false, true);
        }
        high == 0
    }) && chunks.remainder().is_ascii();
    if ascii {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))
}

/// The parser's working stacks: children waiting for their container to close, the
/// containers open, and the strings with escapes. Kept by the thread between parses, so that
/// a parse allocates only the document.
#[derive(Default)]
struct Scratch {
    items: Vec<u32>,
    members: Vec<Member>,
    open: Vec<Open>,
    escaped: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::default();
}

/// A document's buffers, kept by the thread when the document is let go of ([`Doc`]'s
/// `Drop`) for the next parse: a fresh allocation of each for every request body takes the
/// allocator's slow path, as the one before was just freed.
#[derive(Default)]
pub(super) struct Buffers {
    pub(super) nodes: Vec<Node>,
    pub(super) items: Vec<u32>,
    pub(super) members: Vec<Member>,
    pub(super) text: String,
}

thread_local! {
    static BUFFERS: std::cell::Cell<Buffers> = std::cell::Cell::default();
}

impl Buffers {
    /// Keeps the buffers for the next parse on this thread, emptied, unless a large document
    /// grew them. (A document let go of as the thread ends finds nowhere to keep them.)
    pub(super) fn give_back(mut self) {
        const KEEP: usize = 64 * 1024;
        if self.text.capacity() <= KEEP && self.nodes.capacity() <= KEEP / 8 {
            self.nodes.clear();
            self.items.clear();
            self.members.clear();
            self.text.clear();
            let _ = BUFFERS.try_with(|kept| kept.set(self));
        }
    }
}

impl Scratch {
    /// Keeps the stacks for the next parse on this thread, unless a large document grew them.
    fn give_back(&mut self) {
        const KEEP: usize = 4096;
        let mut kept = std::mem::take(self);
        if kept.items.capacity() <= KEEP
            && kept.members.capacity() <= KEEP
            && kept.open.capacity() <= KEEP
            && kept.escaped.capacity() <= 16 * KEEP
        {
            kept.items.clear();
            kept.members.clear();
            kept.open.clear();
            kept.escaped.clear();
            SCRATCH.set(kept);
        }
    }
}

/// A container being parsed: its node, and where its children start on the stack.
struct Open {
    id: u32,
    mark: u32,
    object: bool,
}

/// Parsing failed; the parser holds the reason. (A unit error keeps every result in a
/// register.)
struct Failed;

struct Parser<'a> {
    /// The payload and [`PAD`] zero bytes.
    b: &'a [u8],
    /// The payload's length.
    n: usize,
    nodes: Vec<Node>,
    items: Vec<u32>,
    members: Vec<Member>,
    scratch: &'a mut Scratch,
    failure: (&'static str, usize),
}

impl Parser<'_> {
    /// The byte at `i`, which is at most [`PAD`] bytes past the payload (module docs).
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        debug_assert!(i < self.b.len());
        // SAFETY: `i < b.len()` by the module's invariant.
        unsafe { *self.b.get_unchecked(i) }
    }

    /// Eight bytes from `i` as a little-endian word.
    #[inline(always)]
    fn word_at(&self, i: usize) -> u64 {
        debug_assert!(i + 8 <= self.b.len());
        // SAFETY: `i + 8 <= b.len()` by the module's invariant.
        u64::from_le(unsafe { self.b.as_ptr().add(i).cast::<u64>().read_unaligned() })
    }

    /// Records why parsing stopped, and where; the message is built once, by [`parse`].
    #[cold]
    fn err(&mut self, m: &'static str, at: usize) -> Failed {
        self.failure = (m, at);
        Failed
    }

    /// The whole payload: one value, with whitespace around it.
    fn document(&mut self) -> Result<u32, Failed> {
        let mut i = 0;
        self.ws(&mut i);
        let mut open = std::mem::take(&mut self.scratch.open);
        let root = self.value(&mut open, &mut i);
        self.scratch.open = open;
        let root = root?;
        self.ws(&mut i);
        if i != self.n {
            return Err(self.err("unexpected text after the JSON value", i));
        }
        Ok(root)
    }

    /// Skips whitespace. Most tokens are followed by none or by one space (`": "`, `", "`):
    /// both are told by one comparison each before the loop.
    #[inline(always)]
    fn ws(&self, i: &mut usize) {
        let c = self.at(*i);
        if c > b' ' {
            return;
        }
        if c == b' ' && self.at(*i + 1) > b' ' {
            *i += 1;
            return;
        }
        while let b' ' | b'\n' | b'\r' | b'\t' = self.at(*i) {
            *i += 1;
        }
    }

    #[inline(always)]
    fn push(&mut self, n: Node) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(n);
        id
    }

    /// Parses one value from `*pos`, containers included, with an explicit stack of open
    /// containers instead of recursion (the nesting bound is ours, not the machine stack's).
    /// The position is a local of this loop (and of the helpers inlined into it), so that it
    /// stays in a register instead of going through memory at every byte.
    fn value(&mut self, open: &mut Vec<Open>, pos: &mut usize) -> Result<u32, Failed> {
        let mut i = *pos;
        let result = 'value: loop {
            // A value starts at `i`.
            let mut id = match self.at(i) {
                c @ (b'{' | b'[') => {
                    if open.len() >= MAX_DEPTH {
                        break Err(self.err("nesting too deep", i));
                    }
                    i += 1;
                    let id = self.push(Node::Null);
                    let object = c == b'{';
                    let mark = if object { self.scratch.members.len() } else { self.scratch.items.len() } as u32;
                    open.push(Open { id, mark, object });
                    self.ws(&mut i);
                    if self.at(i) == c + 2 {
                        // `}` and `]` are two past `{` and `[`.
                        i += 1;
                        self.close(open.pop().unwrap_or_else(|| unreachable!()))
                    } else {
                        if object {
                            if let Err(e) = self.key(&mut i) {
                                break Err(e);
                            }
                        }
                        continue 'value;
                    }
                }
                b'"' => match self.string(&mut i) {
                    Ok(s) => self.push(Node::Str(Span::unpack(s))),
                    Err(e) => break Err(e),
                },
                b't' => match self.word(&mut i, b"true", Node::Bool(true)) {
                    Ok(id) => id,
                    Err(e) => break Err(e),
                },
                b'f' => match self.word(&mut i, b"false", Node::Bool(false)) {
                    Ok(id) => id,
                    Err(e) => break Err(e),
                },
                b'n' => match self.word(&mut i, b"null", Node::Null) {
                    Ok(id) => id,
                    Err(e) => break Err(e),
                },
                b'-' | b'0'..=b'9' => match self.number(&mut i) {
                    Ok(id) => id,
                    Err(e) => break Err(e),
                },
                _ => break Err(self.err("expected a JSON value", i)),
            };
            // `id` is complete: it joins the innermost open container, which may then close.
            loop {
                let Some(top) = open.last() else { break 'value Ok(id) };
                let object = top.object;
                if object {
                    if let Some(m) = self.scratch.members.last_mut() {
                        m.value = id;
                    }
                } else {
                    self.scratch.items.push(id);
                }
                self.ws(&mut i);
                match self.at(i) {
                    b',' => {
                        i += 1;
                        self.ws(&mut i);
                        if object {
                            if let Err(e) = self.key(&mut i) {
                                break 'value Err(e);
                            }
                        }
                        continue 'value;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => {
                        let message = if object { "expected ',' or '}'" } else { "expected ',' or ']'" };
                        break 'value Err(self.err(message, i));
                    }
                }
                i += 1;
                id = self.close(open.pop().unwrap_or_else(|| unreachable!()));
            }
        };
        *pos = i;
        result
    }

    /// An object member's key and colon; the member waits on the stack for its value.
    #[inline(always)]
    fn key(&mut self, i: &mut usize) -> Result<(), Failed> {
        if self.at(*i) != b'"' {
            return Err(self.err("expected a string key", *i));
        }
        let key = Span::unpack(self.string(i)?);
        self.ws(i);
        if self.at(*i) != b':' {
            return Err(self.err("expected ':'", *i));
        }
        *i += 1;
        self.ws(i);
        let word = self.key_word(key);
        self.scratch.members.push(Member { key, word, value: 0 });
        Ok(())
    }

    /// [`key_word`] of a key just parsed: one load from the payload (the padding makes eight
    /// bytes readable wherever it starts), or from the unescaped strings.
    #[inline(always)]
    fn key_word(&self, key: Span) -> u64 {
        let (start, len) = (key.start as usize, key.len as usize);
        if start >= self.b.len() {
            let at = start - self.b.len();
            return key_word(&self.scratch.escaped[at..at + len]);
        }
        let word = self.word_at(start);
        if len < 8 {
            word & ((1u64 << (8 * len)) - 1)
        } else {
            word
        }
    }

    /// Moves a finished container's children from the stack into the document.
    fn close(&mut self, o: Open) -> u32 {
        let mark = o.mark as usize;
        let node = if o.object {
            let start = self.members.len() as u32;
            let len = move_tail(&mut self.scratch.members, mark, &mut self.members);
            let distinct = distinct_keys(&self.members[start as usize..]);
            Node::Object { start, len, distinct }
        } else {
            let start = self.items.len() as u32;
            Node::Array { start, len: move_tail(&mut self.scratch.items, mark, &mut self.items) }
        };
        self.nodes[o.id as usize] = node;
        o.id
    }

    fn word(&mut self, i: &mut usize, w: &[u8], n: Node) -> Result<u32, Failed> {
        // Within the padding wherever `i` is (no word is longer than five bytes).
        if &self.b[*i..*i + w.len()] == w {
            *i += w.len();
            Ok(self.push(n))
        } else {
            Err(self.err("expected a JSON value", *i))
        }
    }

    /// A number's node.
    #[inline(always)]
    fn number(&mut self, i: &mut usize) -> Result<u32, Failed> {
        let start = *i;
        // Fast path: a small non-negative integer.
        let mut n: i64 = 0;
        let mut digits = 0;
        loop {
            let c = self.at(*i);
            if !c.is_ascii_digit() {
                break;
            }
            n = n * 10 + (c - b'0') as i64;
            digits += 1;
            *i += 1;
            if digits > 17 {
                break;
            }
        }
        if digits > 0
            && digits <= 17
            && !matches!(self.at(*i), b'.' | b'e' | b'E' | b'0'..=b'9')
            && (digits == 1 || self.at(start) != b'0')
        {
            return Ok(self.push(Node::Int(n)));
        }
        self.number_in_full(i, start)
    }

    /// A number that is not a small non-negative integer: negative, long, a double, or
    /// malformed.
    #[inline(never)]
    fn number_in_full(&mut self, i: &mut usize, start: usize) -> Result<u32, Failed> {
        *i = start;
        let mut float = false;
        loop {
            match self.at(*i) {
                b'0'..=b'9' | b'-' | b'+' => {}
                b'.' | b'e' | b'E' => float = true,
                _ => break,
            }
            *i += 1;
        }
        // Only ASCII bytes were taken, so this is valid UTF-8.
        let text = std::str::from_utf8(&self.b[start..*i]).unwrap_or("");
        if !float {
            if let Ok(int) = text.parse::<i64>() {
                return Ok(self.push(Node::Int(int)));
            }
        }
        match text.parse::<f64>() {
            Ok(f) => Ok(self.push(Node::Float(f))),
            Err(_) => Err(self.err("malformed number", *i)),
        }
    }

    /// A string from its opening quote at `*i`: a span of the payload when it has no escapes,
    /// else copied unescaped after the padding. The span comes back packed ([`Span::pack`])
    /// so that the result travels in registers.
    #[inline(always)]
    fn string(&mut self, i: &mut usize) -> Result<u64, Failed> {
        let begin = *i + 1;
        let (at, quote) = special_from(self.b, begin);
        if quote {
            *i = at + 1;
            return Ok(Span { start: begin as u32, len: (at - begin) as u32 }.pack());
        }
        let (span, end) = self.string_escaped(begin)?;
        *i = end;
        Ok(span)
    }

    /// A string that has escapes, or no end, from its text's start: its span and the
    /// position after its closing quote.
    #[inline(never)]
    fn string_escaped(&mut self, begin: usize) -> Result<(u64, usize), Failed> {
        let escaped = &mut self.scratch.escaped;
        let start = escaped.len();
        match unescape(self.b, self.n, begin, escaped) {
            Ok(end) => {
                let span = Span { start: (self.b.len() + start) as u32, len: (escaped.len() - start) as u32 };
                Ok((span.pack(), end))
            }
            Err((message, at)) => {
                escaped.truncate(start);
                Err(self.err(message, at))
            }
        }
    }
}

/// Whether no two of a small object's members have the same key (by first bytes and length,
/// so two long keys alike in both count as the same); false for larger objects, whose
/// lookups then take the long way.
#[inline(always)]
fn distinct_keys(members: &[Member]) -> bool {
    let n = members.len();
    if n > 8 {
        return false;
    }
    // Index loops: the iterator chains compile to several times the instructions here.
    let mut i = 1;
    while i < n {
        let (word, len) = (members[i].word, members[i].key.len);
        let mut j = 0;
        while j < i {
            if members[j].word == word && members[j].key.len == len {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Moves `from[mark..]` to the end of `to`, and gives how many moved. A few (the usual
/// object or array) are moved one by one: cheaper than a call to copy.
#[inline(always)]
fn move_tail<T: Copy>(from: &mut Vec<T>, mark: usize, to: &mut Vec<T>) -> u32 {
    let tail = &from[mark..];
    let len = tail.len();
    to.reserve(len);
    if len <= 4 {
        let at = to.len();
        // SAFETY: `to` has room for `len` more (reserved above), each written before the
        // length covers it; `tail` and `to` are different vectors.
        unsafe {
            let dst = to.as_mut_ptr().add(at);
            for (k, &x) in tail.iter().enumerate() {
                dst.add(k).write(x);
            }
            to.set_len(at + len);
        }
    } else {
        to.extend_from_slice(tail);
    }
    from.truncate(mark);
    len as u32
}

/// The first quote, backslash or control byte from `i` on, and whether it is a quote. The
/// padding's zero bytes are control bytes, so there is one by the payload's end.
#[inline(always)]
fn special_from(b: &[u8], mut i: usize) -> (usize, bool) {
    loop {
        let (special, quote) = special16(b, i);
        if special != 0 {
            let at = special.trailing_zeros();
            return (i + at as usize, (quote >> at) & 1 == 1);
        }
        i += 16;
    }
}

/// Sixteen bytes from `i`: a bit per special byte (quote, backslash, control), and the
/// quotes among them (exact up to the first special byte).
#[inline(always)]
fn special16(b: &[u8], i: usize) -> (u32, u32) {
    debug_assert!(i + 16 <= b.len());
    // SAFETY: `i + 16 <= b.len()` by the module's invariant (a scan moves on only past
    // sixteen bytes that are not special, so not padding).
    let chunk: &[u8; 16] = unsafe { &*b.as_ptr().add(i).cast() };
    (swar::flags16(chunk, [b'"', b'\\'], true, false), swar::flags16(chunk, [b'"'], false, false))
}

/// Appends the string whose text starts at `begin` to `out`, unescaped; the position after
/// its closing quote, or why and where it is malformed. `b` is the payload (`n` bytes) and
/// its padding. No escape is shorter than the text it stands for, so the string takes at
/// most what is left of the payload: that room is reserved once, and everything is written
/// into it without a check. Plain text is copied sixteen bytes at a time, written whole and
/// then cut back to the first special byte among them. On an error `out` is as it was.
fn unescape(b: &[u8], n: usize, begin: usize, out: &mut Vec<u8>) -> Result<usize, (&'static str, usize)> {
    debug_assert!(begin <= n);
    out.reserve(n - begin + 16);
    let dst = out.as_mut_ptr();
    let mut w = out.len();
    let mut i = begin;
    loop {
        // SAFETY (every write below): `w` is the string's start in `out` plus at most the
        // `i - begin` bytes read so far, `i` is at most `n` (a scan stops at the padding, a
        // special byte, at the latest), and `n - begin + 16` bytes of room were reserved.
        // Sixteen bytes are readable from `i` (module docs).
        loop {
            let (special, _) = special16(b, i);
            unsafe { std::ptr::copy_nonoverlapping(b.as_ptr().add(i), dst.add(w), 16) };
            let plain = if special == 0 { 16 } else { special.trailing_zeros() as usize };
            i += plain;
            w += plain;
            if special != 0 {
                break;
            }
        }
        if i >= n {
            return Err(("unterminated string", n));
        }
        let byte = match b[i] {
            b'"' => {
                // SAFETY: the bytes up to `w` were written: runs of the payload, which is
                // UTF-8, cut before ASCII bytes, and whole characters.
                unsafe { out.set_len(w) };
                return Ok(i + 1);
            }
            b'\\' => {
                if i + 1 >= n {
                    return Err(("unterminated string", n));
                }
                let e = b[i + 1];
                i += 2;
                match e {
                    b'u' => {
                        let ch = unicode_escape(b, n, &mut i).map_err(|message| (message, i))?;
                        let mut utf8 = [0; 4];
                        let encoded = ch.encode_utf8(&mut utf8).len();
                        // An escape of six bytes (or twelve, a pair) stands for at most four.
                        unsafe { std::ptr::copy_nonoverlapping(utf8.as_ptr(), dst.add(w), 4) };
                        w += encoded;
                        continue;
                    }
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    _ => return Err(("invalid escape", i)),
                }
            }
            _ => return Err(("control character in string", i)),
        };
        // An escape of two bytes stands for one.
        unsafe { dst.add(w).write(byte) };
        w += 1;
    }
}

/// The character of a `\u` escape (`i` just after the `u`, and after the escape when it
/// returns), a surrogate pair joined; an unpaired surrogate becomes U+FFFD.
fn unicode_escape(b: &[u8], n: usize, i: &mut usize) -> Result<char, &'static str> {
    let hi = hex4(b, n, i)?;
    let code = if (0xD800..0xDC00).contains(&hi) && b[*i..n].starts_with(b"\\u") {
        *i += 2;
        let lo = hex4(b, n, i)?;
        0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
    } else {
        hi
    };
    Ok(char::from_u32(code).unwrap_or('\u{FFFD}'))
}

fn hex4(b: &[u8], n: usize, i: &mut usize) -> Result<u32, &'static str> {
    let h = b[..n].get(*i..*i + 4).ok_or("truncated \\u escape")?;
    let v = std::str::from_utf8(h).ok().and_then(|s| u32::from_str_radix(s, 16).ok()).ok_or("invalid \\u escape")?;
    *i += 4;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every special byte is found wherever it lies in a string's sixteen-byte steps, and
    /// the padding ends a string that has none.
    #[test]
    fn special_bytes_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', b'\n', 0x01] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    bytes.extend_from_slice(ZEROS.as_bytes());
                    assert_eq!(special_from(&bytes, 0), (at, special == b'"'), "len {len} at {at}");
                }
            }
            let mut bytes = vec![0xC3; len];
            bytes.extend_from_slice(ZEROS.as_bytes());
            assert_eq!(special_from(&bytes, 0), (len, false));
        }
    }
}
