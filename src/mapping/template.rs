//! Mapping templates: VTL with API Gateway's variables (`$input`, `$util`, `$context`,
//! `$stageVariables`), compiled once, and the overrides (`$context.requestOverride`,
//! `$context.responseOverride`) a render leaves behind.

use super::context::RequestContext;
use super::jsonpath::JsonPath;
use crate::vtl::json::Json;
use crate::vtl::swar;
use crate::vtl::{self, Limits, Object, Template, Value, Variable};
use base64::Engine;
use http::{HeaderName, HeaderValue};
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

/// A compiled mapping template.
#[derive(Debug)]
pub struct MappingTemplate {
    template: Template,
    /// JSONPaths written as literals in `$input.path(...)` / `$input.json(...)`.
    paths: Arc<HashMap<Arc<str>, Arc<JsonPath>>>,
    /// Where `$input`, `$util`, `$stageVariables` and `$context` go, for those the template uses.
    hosts: Hosts,
}

#[derive(Debug)]
struct Hosts {
    input: Option<Variable>,
    util: Option<Variable>,
    stage_variables: Option<Variable>,
    context: Option<Variable>,
}

/// The request as templates see it, shared by the request and response templates.
#[derive(Debug, Default)]
pub struct Params {
    pub path: Vec<(String, String)>,
    /// Single-value view: the last value of each name, in first-seen order.
    pub querystring: Vec<(String, String)>,
    /// The same view of the headers, their values shared with the request rather than copied.
    pub header: Vec<(HeaderName, HeaderValue)>,
}

/// A header value as templates read it: bytes that are not UTF-8 become U+FFFD.
fn header_text(value: &HeaderValue) -> Cow<'_, str> {
    String::from_utf8_lossy(value.as_bytes())
}

impl Params {
    fn find<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
        list.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn find_header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.header.iter().rev().find(|(k, _)| k.as_str().eq_ignore_ascii_case(name)).map(|(_, v)| header_text(v))
    }

    /// `$input.params(name)`: path, then query string, then header.
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        Self::find(&self.path, name)
            .or_else(|| Self::find(&self.querystring, name))
            .map(Cow::Borrowed)
            .or_else(|| self.find_header(name))
    }
}

/// What a render may read.
pub struct TemplateInput<'a> {
    pub body: &'a bytes::Bytes,
    pub params: &'a Arc<Params>,
    pub stage_variables: &'a Arc<BTreeMap<String, String>>,
    pub context: &'a Arc<RequestContext>,
    pub overrides: &'a Overrides,
}

/// `$context.requestOverride` and `$context.responseOverride` as JSON objects, carried from
/// the request template to the response template and into the pipeline.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub request: serde_json::Value,
    pub response: serde_json::Value,
}

impl Overrides {
    fn section(root: &serde_json::Value, name: &str) -> Vec<(String, String)> {
        match root.get(name) {
            Some(serde_json::Value::Object(o)) => o
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.to_string(), to_mutable(v).to_display()))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn request_headers(&self) -> Vec<(String, String)> {
        Self::section(&self.request, "header")
    }

    pub fn request_querystring(&self) -> Vec<(String, String)> {
        Self::section(&self.request, "querystring")
    }

    pub fn request_path(&self) -> Vec<(String, String)> {
        Self::section(&self.request, "path")
    }

    pub fn response_headers(&self) -> Vec<(String, String)> {
        Self::section(&self.response, "header")
    }

    /// `$context.responseOverride.status`, when it is a valid status (100..599).
    pub fn response_status(&self) -> Option<u16> {
        let status = match self.response.get("status")? {
            serde_json::Value::Number(n) => {
                n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))?
            }
            serde_json::Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        (100..=599).contains(&status).then_some(status as u16)
    }
}

/// What a render produced.
pub struct Rendered {
    pub body: String,
    pub overrides: Overrides,
}

impl MappingTemplate {
    pub fn compile(source: &str) -> Result<Self, vtl::Error> {
        let template = Template::parse(source)?;
        let mut paths = HashMap::new();
        for p in template.literal_arguments("input", &["path", "json"]) {
            if let Ok(compiled) = JsonPath::compile(&p) {
                paths.insert(p, Arc::new(compiled));
            }
        }
        let hosts = Hosts {
            input: template.variable("input"),
            util: template.variable("util"),
            stage_variables: template.variable("stageVariables"),
            context: template.variable("context"),
        };
        Ok(Self { template, paths: Arc::new(paths), hosts })
    }

    pub fn source(&self) -> &str {
        self.template.source()
    }

    pub fn render(&self, input: &TemplateInput, limits: Limits) -> Result<Rendered, vtl::Error> {
        // The overrides are read after the render, with what it changed still in place.
        let _changes = vtl::json::ChangesKept::new();
        let t = &self.template;
        let mut vars = t.vars();
        if let Some(at) = self.hosts.input {
            let object = InputObject {
                body: input.body.clone(),
                parsed: RefCell::new(None),
                params: input.params.clone(),
                paths: self.paths.clone(),
            };
            vars.set_at(at, Value::object(object));
        }
        if let Some(at) = self.hosts.util {
            vars.set_at(at, UTIL.with(Value::clone));
        }
        if let Some(at) = self.hosts.stage_variables {
            vars.set_at(at, Value::object(StageVariables(input.stage_variables.clone())));
        }
        let context = self.hosts.context.map(|at| {
            let c = Rc::new(ContextObject {
                context: input.context.clone(),
                overrides: input.overrides.clone(),
                request_override: OnceCell::new(),
                response_override: OnceCell::new(),
            });
            vars.set_at(at, Value::object(c.clone()));
            c
        });
        let body = t.render(vars, limits)?;
        let overrides = match context {
            // Only an override the template looked at can have changed.
            Some(c) => Overrides {
                request: c.request_override.get().map_or_else(|| input.overrides.request.clone(), to_serde),
                response: c.response_override.get().map_or_else(|| input.overrides.response.clone(), to_serde),
            },
            None => input.overrides.clone(),
        };
        Ok(Rendered { body, overrides })
    }
}

/// An override object with its sections present (empty) even before anything was set.
fn override_map(j: &serde_json::Value, sections: &[&str]) -> Value {
    let value = to_mutable(j);
    if let Value::Map(m) = &value {
        let mut m = m.borrow_mut();
        for s in sections {
            if !m.contains_key(*s) {
                m.insert((*s).into(), Value::new_map(Default::default()));
            }
        }
    }
    value
}

/// A JSON value as mutable VTL lists and maps (for overrides a template may change).
fn to_mutable(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Object(o) => {
            Value::new_map(o.iter().map(|(k, v)| (Rc::<str>::from(k.as_str()), to_mutable(v))).collect())
        }
        serde_json::Value::Array(a) => Value::new_list(a.iter().map(to_mutable).collect()),
        serde_json::Value::Null => Value::new_map(Default::default()),
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
    }
}

fn to_serde(v: &Value) -> serde_json::Value {
    to_serde_at(v, 0)
}

/// [`to_serde`] `depth` collections down; past [`vtl::value::MAX_NESTING`] levels (a template's
/// list holding itself) the rest is null.
fn to_serde_at(v: &Value, depth: usize) -> serde_json::Value {
    if depth > vtl::value::MAX_NESTING {
        return serde_json::Value::Null;
    }
    let to_serde = |v: &Value| to_serde_at(v, depth + 1);
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f).map(serde_json::Value::Number).unwrap_or_default(),
        Value::Str(_) | Value::Short(_) | Value::JsonStr { .. } => v.as_str().unwrap_or_default().into(),
        // Something in it may have changed: turned through values, which see it.
        Value::Json { doc, .. } if doc.has_changes() => {
            v.changed().or_else(|| v.collection_copy()).map(|now| to_serde_at(&now, depth)).unwrap_or_default()
        }
        Value::Json { .. } => v.json().map(|j| j.to_serde()).unwrap_or_default(),
        Value::List(l) | Value::JsonList(l) => serde_json::Value::Array(l.borrow().iter().map(to_serde).collect()),
        Value::Map(m) => {
            serde_json::Value::Object(m.borrow().iter().map(|(k, v)| (k.to_string(), to_serde(v))).collect())
        }
        Value::Object(_) | Value::Foreach(_) | Value::Block(_) => v.to_display().into(),
    }
}

/// `$input`.
struct InputObject {
    body: bytes::Bytes,
    parsed: RefCell<Option<Option<Json>>>,
    params: Arc<Params>,
    paths: Arc<HashMap<Arc<str>, Arc<JsonPath>>>,
}

impl InputObject {
    /// The payload as JSON: `{}` when empty, `None` when it is not JSON. Parsed once and
    /// shared by every `$input.path` until the template changes what one gave
    /// (`$input.path('$').put(..)`): API Gateway reads the payload anew for each call, so the
    /// next call gets a fresh parse without the change.
    fn json(&self) -> Option<Json> {
        let mut parsed = self.parsed.borrow_mut();
        if let Some(Some(j)) = &*parsed {
            if j.doc.has_changes() {
                *parsed = None;
            }
        }
        parsed
            .get_or_insert_with(|| {
                if self.body.iter().all(u8::is_ascii_whitespace) {
                    Json::parse(b"{}").ok()
                } else {
                    Json::parse(&self.body).ok()
                }
            })
            .clone()
    }

    fn eval(&self, path: &str) -> Option<Json> {
        let root = self.json()?;
        match self.paths.get(path) {
            Some(p) => p.eval(&root),
            None => JsonPath::compile(path).ok()?.eval(&root),
        }
    }

    fn params_map(&self) -> Value {
        let section = |list: &[(String, String)]| {
            Value::new_map(list.iter().map(|(k, v)| (Rc::<str>::from(k.as_str()), Value::from(v.as_str()))).collect())
        };
        let mut m = indexmap::IndexMap::new();
        m.insert(Rc::from("path"), section(&self.params.path));
        m.insert(Rc::from("querystring"), section(&self.params.querystring));
        let header =
            self.params.header.iter().map(|(k, v)| (Rc::<str>::from(k.as_str()), Value::from(&*header_text(v))));
        m.insert(Rc::from("header"), Value::new_map(header.collect()));
        Value::new_map(m)
    }
}

impl Object for InputObject {
    fn property(&self, name: &str) -> Value {
        match name {
            "body" => {
                if self.body.is_empty() {
                    Value::from("{}")
                } else {
                    Value::from(String::from_utf8_lossy(&self.body).into_owned())
                }
            }
            _ => Value::Null,
        }
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Value> {
        Some(match (name, args) {
            ("path", [p]) => self.eval(&p.display()).map(Value::from).unwrap_or_default(),
            ("json", [p]) => match self.eval(&p.to_display()) {
                Some(j) => Value::from(j.to_json_string()),
                None => Value::from("\"\""),
            },
            ("params", []) => self.params_map(),
            ("params", [n]) => Value::from(self.params.get(&n.display()).as_deref().unwrap_or("")),
            ("getBody", []) => self.property("body"),
            _ => return None,
        })
    }
}

/// `$util`: exactly API Gateway's six functions.
struct UtilObject;

thread_local! {
    /// `$util` holds nothing, so every render on a thread shares one.
    static UTIL: Value = Value::object(UtilObject);
}

impl Object for UtilObject {
    fn write_call(&self, name: &str, args: &[Value], out: &mut String) -> bool {
        match (name, args) {
            ("escapeJavaScript", [arg]) if !arg.is_null() => {
                escape_javascript_into(&arg.display(), out);
                true
            }
            _ => false,
        }
    }

    fn write_call_on_text(&self, name: &str, text: &str, out: &mut String) -> bool {
        if name != "escapeJavaScript" {
            return false;
        }
        escape_javascript_into(text, out);
        true
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Value> {
        let [arg] = args else {
            return Some(Value::Null);
        };
        if arg.is_null() {
            return Some(Value::Null);
        }
        let s = arg.display();
        Some(match name {
            "escapeJavaScript" => Value::from(escape_javascript(&s)),
            "parseJson" => Json::parse(s.as_bytes()).map(Value::from).unwrap_or_default(),
            "urlEncode" => {
                let mut out = String::with_capacity(s.len());
                super::params::form_encode(&s, &mut out);
                Value::from(out)
            }
            "urlDecode" => url_decode(&s).map(Value::from).unwrap_or_default(),
            "base64Encode" => Value::from(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
            "base64Decode" => base64::engine::general_purpose::STANDARD
                .decode(s.trim().as_bytes())
                .map(|b| Value::from(String::from_utf8_lossy(&b).into_owned()))
                .unwrap_or_default(),
            _ => Value::Null,
        })
    }
}

/// Apache Commons Lang 2 `escapeJavaScript`: quotes, backslash and `/` escaped, control
/// characters as `\b \t \n \f \r` or `\u00XX`, everything past ASCII as `\uXXXX`.
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_javascript_into(s, &mut out);
    out
}

/// What `escapeJavaScript` writes for an ASCII byte: 0 for the byte itself, the letter of
/// a two-character escape (`\n`), or `u` for `\uXXXX`.
const JS_ESCAPE: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\'' as usize] = b'\'';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t
};

/// [`escape_javascript`], appended to `out`, in pieces of at most [`PIECE`] bytes: the
/// room a piece can take is reserved once, and then written without a check per write.
pub fn escape_javascript_into(s: &str, out: &mut String) {
    const PIECE: usize = 4096;
    let mut rest = s;
    while rest.len() > PIECE {
        let mut cut = PIECE;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        // SAFETY: only ASCII and whole characters of `piece` are appended (see
        // `escape_piece`).
        escape_piece(piece.as_bytes(), unsafe { out.as_mut_vec() });
        rest = tail;
    }
    // SAFETY: as above.
    escape_piece(rest.as_bytes(), unsafe { out.as_mut_vec() });
}

/// One piece of [`escape_javascript_into`]: the bytes from which sixteen are left, then the
/// last few from a copy padded with plain bytes, so that every step reads sixteen. No byte
/// becomes more than six, so six times the piece and the sixteen a whole write may pass its
/// end are all the room it takes.
fn escape_piece(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(6 * bytes.len() + 16);
    let mut w = out.len();
    let mut i = escape_run(bytes, bytes.len().saturating_sub(15), out, &mut w);
    if i < bytes.len() {
        let mut tail = [b'a'; 32];
        copy_short(&bytes[i..], &mut tail);
        i += escape_run(&tail, bytes.len() - i, out, &mut w);
    }
    debug_assert_eq!(i, bytes.len());
    // SAFETY: everything up to `w` was written by `escape_run`, ASCII and escapes only.
    unsafe { out.set_len(w) };
}

/// Escapes `src` from its start while the position is below `limit`, writing at `out[*w..]`
/// (the length is the caller's to set), and gives the position reached. Sixteen bytes must be
/// readable from every position below `limit`, and a character starting below it must be
/// whole in `src`. Plain runs are written sixteen bytes at a time (whole, with the room for
/// them reserved, then cut back to the first byte to escape among them); the bytes to escape
/// one by one, and everything outside ASCII becomes `\uXXXX`.
#[inline(always)]
fn escape_run(src: &[u8], limit: usize, out: &mut Vec<u8>, w: &mut usize) -> usize {
    let dst = out.as_mut_ptr();
    // SAFETY: the caller reserved six bytes of room for each byte of the piece and sixteen
    // more; `*w` is at most six bytes past the start for each byte escaped so far, so a
    // write (sixteen bytes at most) stays in it.
    // An escape is written as eight bytes (one store), of which `len` count.
    let write = |w: &mut usize, b: [u8; 8], len: usize| unsafe {
        std::ptr::copy_nonoverlapping(b.as_ptr(), dst.add(*w), 8);
        *w += len;
    };
    let mut i = 0;
    while i < limit {
        // The bytes to escape among the sixteen from `base`, found once: after each escape the
        // next is the next bit, and the plain run up to it is another sixteen-byte write.
        let base = i;
        let chunk: &[u8; 16] = src[base..base + 16].try_into().unwrap_or(&[0; 16]);
        let mut found = swar::flags16(chunk, [b'"', b'\'', b'\\', b'/'], true, true);
        loop {
            // SAFETY: as for `write`; sixteen bytes are readable from `i`, which is below `limit`.
            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr().add(i), dst.add(*w), 16) };
            let stop = if found == 0 { (base + 16).min(limit) } else { base + found.trailing_zeros() as usize };
            *w += stop - i;
            i = stop;
            if found == 0 || i >= limit {
                break;
            }
            let b = src[i];
            if b < 0x80 {
                i += 1;
                match JS_ESCAPE[b as usize] {
                    b'u' => write(w, unicode_escape(b as u16), 6),
                    letter => write(w, [b'\\', letter, 0, 0, 0, 0, 0, 0], 2),
                }
            } else {
                // A character starts here, whole in `src`.
                let width = match b {
                    0xF0.. => 4,
                    0xE0.. => 3,
                    _ => 2,
                };
                let c = std::str::from_utf8(&src[i..i + width]).ok().and_then(|c| c.chars().next()).unwrap_or_default();
                i += width;
                for &unit in c.encode_utf16(&mut [0u16; 2]).iter() {
                    write(w, unicode_escape(unit), 6);
                }
            }
            let done = i - base;
            if done >= 16 || i >= limit {
                break;
            }
            found &= !0 << done;
        }
    }
    i
}

/// `\uXXXX`, upper-case hex, as Java's `StringEscapeUtils` writes it (and two bytes more,
/// so that it is written as one word).
fn unicode_escape(unit: u16) -> [u8; 8] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let hex = |shift: u16| HEX[(unit >> shift) as usize & 0xF];
    [b'\\', b'u', hex(12), hex(8), hex(4), hex(0), 0, 0]
}

/// Copies fewer than sixteen bytes to the start of `to` as two (overlapping) words or
/// halves: cheaper than a call to copy memory.
#[inline(always)]
fn copy_short(from: &[u8], to: &mut [u8; 32]) {
    let n = from.len();
    debug_assert!(n < 16);
    if n >= 8 {
        to[..8].copy_from_slice(&from[..8]);
        to[n - 8..n].copy_from_slice(&from[n - 8..]);
    } else if n >= 4 {
        to[..4].copy_from_slice(&from[..4]);
        to[n - 4..n].copy_from_slice(&from[n - 4..]);
    } else {
        for (t, &f) in to.iter_mut().zip(from) {
            *t = f;
        }
    }
}

/// `URLDecoder.decode`: `+` is a space; a malformed escape is an error.
fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

struct StageVariables(Arc<BTreeMap<String, String>>);

impl Object for StageVariables {
    fn property(&self, name: &str) -> Value {
        self.0.get(name).map(|v| Value::from(v.as_str())).unwrap_or_default()
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Value> {
        match (name, args) {
            ("get", [k]) => Some(self.property(&k.to_display())),
            ("containsKey", [k]) => Some(Value::Bool(self.0.contains_key(&k.to_display()))),
            ("keySet", []) => Some(Value::new_list(self.0.keys().map(|k| Value::from(k.as_str())).collect())),
            ("size", []) => Some(Value::Int(self.0.len() as i64)),
            _ => None,
        }
    }

    fn render(&self, out: &mut String) {
        out.push('{');
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out.push('}');
    }
}

/// `$context`.
struct ContextObject {
    context: Arc<RequestContext>,
    overrides: Overrides,
    request_override: OnceCell<Value>,
    response_override: OnceCell<Value>,
}

/// `$context.identity`, `$context.error`, `$context.authorizer`: views into `$context`.
struct ContextSection {
    context: Arc<RequestContext>,
    prefix: &'static str,
}

impl Object for ContextSection {
    fn property(&self, name: &str) -> Value {
        self.context.get(&format!("{}.{name}", self.prefix)).map(Value::from).unwrap_or_default()
    }
}

impl Object for ContextObject {
    fn write_property(&self, name: &str, out: &mut String) -> bool {
        match self.context.text(name) {
            Some(text) => {
                out.push_str(text);
                true
            }
            None => false,
        }
    }

    fn property(&self, name: &str) -> Value {
        match name {
            "requestOverride" => self
                .request_override
                .get_or_init(|| override_map(&self.overrides.request, &["header", "querystring", "path"]))
                .clone(),
            "responseOverride" => {
                self.response_override.get_or_init(|| override_map(&self.overrides.response, &["header"])).clone()
            }
            "identity" | "error" | "authorizer" => {
                let prefix = match name {
                    "identity" => "identity",
                    "error" => "error",
                    _ => "authorizer",
                };
                Value::object(ContextSection { context: self.context.clone(), prefix })
            }
            "requestTimeEpoch" => Value::Int(self.context.request_time_epoch as i64),
            _ => self.context.get(name).map(Value::from).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_javascript_like_commons_lang() {
        assert_eq!(
            escape_javascript("it's \"q\" a/b \\ \n é 😀"),
            "it\\'s \\\"q\\\" a\\/b \\\\ \\n \\u00E9 \\uD83D\\uDE00"
        );
    }

    /// Plain runs are copied sixteen bytes at a time and cut back at the first byte to escape:
    /// every character Commons Lang changes, at every offset of runs of every length, beside
    /// ASCII, two-, three- and four-byte characters, against the rule written per character.
    #[test]
    fn escape_javascript_at_every_offset() {
        fn by_character(s: &str) -> String {
            let mut out = String::new();
            for c in s.chars() {
                match c {
                    '"' | '\'' | '\\' | '/' => {
                        out.push('\\');
                        out.push(c);
                    }
                    '\u{8}' => out.push_str("\\b"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\u{c}' => out.push_str("\\f"),
                    '\r' => out.push_str("\\r"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                        for unit in c.encode_utf16(&mut [0; 2]) {
                            out.push_str(&format!("\\u{:04X}", unit));
                        }
                    }
                    c => out.push(c),
                }
            }
            out
        }
        let specials = ['"', '\'', '\\', '/', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'é', '€', '😀', ' ', '~'];
        for plain in ["a", "é", "€", "😀"] {
            for len in 0..20 {
                for at in 0..=len {
                    for special in specials {
                        let mut s = plain.repeat(len);
                        let cut = s.char_indices().nth(at).map_or(s.len(), |(i, _)| i);
                        s.insert(cut, special);
                        let mut out = String::from("x");
                        escape_javascript_into(&s, &mut out);
                        assert_eq!(out[1..], by_character(&s), "{s:?}");
                    }
                }
            }
        }
        // Longer than a piece, cut between pieces inside a character or not.
        for s in ["a".to_string() + &"€\"".repeat(3000), "é'".repeat(3000), "x".repeat(10_000)] {
            let mut out = String::new();
            escape_javascript_into(&s, &mut out);
            assert_eq!(out, by_character(&s));
        }
    }

    /// A JSON member passed where it lies (`write_call_on_text`) is escaped as the same
    /// member passed as a value, whatever the member is.
    #[test]
    fn escape_javascript_of_a_member_as_of_its_value() {
        let body = bytes::Bytes::from_static(br#"{"s": "it's \"q\" \u00e9 a/b", "n": 5, "l": ["x"], "o": {"k": 1}}"#);
        let request = super::super::cases::Standalone::new(Params::default());
        let input = request.input(&body);
        let render =
            |source: &str| MappingTemplate::compile(source).unwrap().render(&input, Limits::default()).unwrap().body;
        for member in ["s", "n", "l", "o", "o.k", "missing"] {
            let in_place = render(&format!("#set($j = $input.path('$'))[$util.escapeJavaScript($j.{member})]"));
            let as_value =
                render(&format!("#set($j = $input.path('$'))#set($v = $j.{member})[$util.escapeJavaScript($v)]"));
            assert_eq!(in_place, as_value, "{member}");
        }
        assert_eq!(render("#set($j = $input.path('$'))$util.escapeJavaScript($j.s)"), "it\\'s \\\"q\\\" \\u00E9 a\\/b");
    }
}
