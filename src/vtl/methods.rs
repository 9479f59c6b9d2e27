//! The Java methods templates call on strings, lists, maps and numbers, with Java's
//! semantics; an unknown method or a call Java would reject gives null (rendered empty).

use super::json::Json;
use super::value::{Number, Object, Value};
use regex::Regex;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// Regular expressions written as literals in a template, compiled when it was parsed.
pub type Regexes = HashMap<Arc<str>, Regex>;

/// `$v.name`: a map key, a JSON member, a host object's property, or a Java getter.
pub fn property(v: &Value, name: &str) -> Value {
    if let Some(changed) = v.changed() {
        return property(&changed, name);
    }
    match v {
        Value::Map(m) => m.borrow().get(name).cloned().unwrap_or_default(),
        Value::Json { .. } => match v.json_member(name) {
            Some(found) => found,
            None if name == "empty" => Value::Bool(v.json().is_some_and(|j| j.is_empty())),
            None => Value::Null,
        },
        Value::Object(o) => o.property(name),
        Value::Foreach(f) => f.property(name),
        Value::Str(_) | Value::Short(_) | Value::JsonStr { .. } if name == "empty" => {
            Value::Bool(v.as_str().is_some_and(str::is_empty))
        }
        Value::List(l) | Value::JsonList(l) if name == "empty" => Value::Bool(l.borrow().is_empty()),
        _ => Value::Null,
    }
}

/// `$v[key]`: a list or JSON array element, a map key.
pub fn index(v: &Value, key: &Value) -> Value {
    if let Some(changed) = v.changed() {
        return index(&changed, key);
    }
    match (v, key) {
        (Value::List(l) | Value::JsonList(l), Value::Int(i)) => list_get(&l.borrow(), *i),
        (Value::Json { .. }, Value::Int(i)) if v.json().is_some_and(|j| j.is_array()) => {
            if *i < 0 {
                return Value::Null;
            }
            v.json().and_then(|j| j.index(*i)).map(Value::from).unwrap_or_default()
        }
        (Value::Map(_) | Value::Json { .. } | Value::Object(_), k) => property(v, &k.to_display()),
        _ => Value::Null,
    }
}

fn list_get(l: &[Value], i: i64) -> Value {
    usize::try_from(i).ok().and_then(|i| l.get(i)).cloned().unwrap_or_default()
}

fn int_arg(args: &[Value], i: usize) -> Option<i64> {
    match args.get(i)? {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

fn str_arg(args: &[Value], i: usize) -> Option<String> {
    match args.get(i)? {
        Value::Null => None,
        v => Some(v.to_display()),
    }
}

/// `$v.name(args)`.
pub fn call(v: &Value, name: &str, args: &[Value], regexes: &Regexes) -> Value {
    if let Some(changed) = v.changed() {
        return call(&changed, name, args, regexes);
    }
    let common = match (name, args.len()) {
        ("toString", 0) => return Value::from(v.to_display()),
        ("equals", 1) => return Value::Bool(v.loose_eq(&args[0]) && v.type_name() == args[0].type_name()),
        ("hashCode", 0) => {
            return Value::Int(
                v.to_display().bytes().fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(b as i32)) as i64
            )
        }
        ("getClass", 0) => return Value::from(format!("class java.lang.{}", v.type_name())),
        _ => None::<Value>,
    };
    if let Some(c) = common {
        return c;
    }
    let result = (|| match v {
        Value::Str(_) | Value::Short(_) | Value::JsonStr { .. } => {
            string_method(v.as_str().unwrap_or_default(), name, args, regexes)
        }
        Value::List(l) | Value::JsonList(l) => list_method(l, name, args),
        Value::Map(m) => map_method(m, name, args),
        Value::Json { .. } => {
            let j = v.json()?;
            if j.is_array() {
                json_array_method(&j, name, args)
            } else {
                json_object_method(&j, name, args)
            }
        }
        Value::Object(o) => o.call(name, args),
        Value::Foreach(f) => f.call(name, args),
        Value::Int(_) | Value::Float(_) => number_method(v, name, args),
        Value::Bool(b) => match name {
            "booleanValue" => Some(Value::Bool(*b)),
            _ => None,
        },
        _ => None,
    })();
    match result {
        Some(r) => r,
        // A getter called as a method: `$m.getFoo()` is `$m.foo`, `$m.get("k")` a lookup.
        None => getter(v, name, args),
    }
}

fn getter(v: &Value, name: &str, args: &[Value]) -> Value {
    if !args.is_empty() {
        return Value::Null;
    }
    let prop = name.strip_prefix("get").or_else(|| name.strip_prefix("is")).filter(|p| !p.is_empty());
    match prop {
        Some(p) => {
            let mut chars = p.chars();
            let first = chars.next().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
            property(v, &format!("{first}{}", chars.as_str()))
        }
        None => Value::Null,
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A char index (Java's UTF-16 index) to a byte offset, if in range.
fn byte_at(s: &str, idx: i64) -> Option<usize> {
    let idx = usize::try_from(idx).ok()?;
    let mut units = 0;
    for (b, c) in s.char_indices() {
        if units == idx {
            return Some(b);
        }
        units += c.len_utf16();
    }
    (units == idx).then_some(s.len())
}

fn utf16_index(s: &str, byte: usize) -> i64 {
    s[..byte].encode_utf16().count() as i64
}

fn regex<'r>(pattern: &str, regexes: &'r Regexes, local: &'r mut Option<Regex>) -> Option<&'r Regex> {
    if let Some(r) = regexes.get(pattern) {
        return Some(r);
    }
    *local = Regex::new(pattern).ok();
    local.as_ref()
}

/// A Java replacement string (`$1`, `\$`) in the `regex` crate's syntax (`${1}`, `$$`).
pub fn java_replacement(r: &str) -> String {
    let mut out = String::with_capacity(r.len() + 4);
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(n) => out.push(n),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str("${");
                    out.push_str(&digits);
                    out.push('}');
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn string_method(s: &str, name: &str, args: &[Value], regexes: &Regexes) -> Option<Value> {
    let mut local = None;
    Some(match (name, args.len()) {
        ("length", 0) => Value::Int(utf16_len(s) as i64),
        ("isEmpty", 0) => Value::Bool(s.is_empty()),
        ("contains", 1) => Value::Bool(s.contains(str_arg(args, 0)?.as_str())),
        ("startsWith", 1) => Value::Bool(s.starts_with(str_arg(args, 0)?.as_str())),
        ("startsWith", 2) => {
            Value::Bool(s.get(byte_at(s, int_arg(args, 1)?)?..)?.starts_with(str_arg(args, 0)?.as_str()))
        }
        ("endsWith", 1) => Value::Bool(s.ends_with(str_arg(args, 0)?.as_str())),
        ("indexOf", 1) => Value::Int(s.find(str_arg(args, 0)?.as_str()).map_or(-1, |b| utf16_index(s, b))),
        ("indexOf", 2) => {
            let from = byte_at(s, int_arg(args, 1)?.max(0)).unwrap_or(s.len());
            Value::Int(s[from..].find(str_arg(args, 0)?.as_str()).map_or(-1, |b| utf16_index(s, from + b)))
        }
        ("lastIndexOf", 1) => Value::Int(s.rfind(str_arg(args, 0)?.as_str()).map_or(-1, |b| utf16_index(s, b))),
        ("substring", 1) => Value::from(s.get(byte_at(s, int_arg(args, 0)?)?..)?),
        ("substring", 2) => {
            let (a, b) = (byte_at(s, int_arg(args, 0)?)?, byte_at(s, int_arg(args, 1)?)?);
            Value::from(s.get(a..b)?)
        }
        ("charAt", 1) => {
            let b = byte_at(s, int_arg(args, 0)?)?;
            Value::from(s[b..].chars().next()?.to_string())
        }
        ("replace", 2) => Value::from(s.replace(str_arg(args, 0)?.as_str(), &str_arg(args, 1)?)),
        ("replaceAll", 2) => {
            let re = regex(&str_arg(args, 0)?, regexes, &mut local)?;
            Value::from(re.replace_all(s, java_replacement(&str_arg(args, 1)?).as_str()).into_owned())
        }
        ("replaceFirst", 2) => {
            let re = regex(&str_arg(args, 0)?, regexes, &mut local)?;
            Value::from(re.replace(s, java_replacement(&str_arg(args, 1)?).as_str()).into_owned())
        }
        ("matches", 1) => {
            let re = regex(&anchored(&str_arg(args, 0)?), regexes, &mut local)?;
            Value::Bool(re.is_match(s))
        }
        ("split", 1 | 2) => {
            let re = regex(&str_arg(args, 0)?, regexes, &mut local)?;
            let limit = if args.len() == 2 { int_arg(args, 1)? } else { 0 };
            Value::new_list(java_split(re, s, limit).into_iter().map(Value::from).collect())
        }
        ("toLowerCase", 0) => Value::from(s.to_lowercase()),
        ("toUpperCase", 0) => Value::from(s.to_uppercase()),
        ("trim", 0) => Value::from(s.trim_matches(|c: char| c <= ' ')),
        ("equalsIgnoreCase", 1) => Value::Bool(args[0].as_str().is_some_and(|o| o.to_lowercase() == s.to_lowercase())),
        ("concat", 1) => Value::from(format!("{s}{}", str_arg(args, 0)?)),
        ("compareTo", 1) => {
            let o = str_arg(args, 0)?;
            let (a, b): (Vec<u16>, Vec<u16>) = (s.encode_utf16().collect(), o.encode_utf16().collect());
            let diff = a.iter().zip(&b).find(|(x, y)| x != y).map(|(x, y)| *x as i64 - *y as i64);
            Value::Int(diff.unwrap_or(a.len() as i64 - b.len() as i64))
        }
        _ => return None,
    })
}

/// `String.matches` matches the whole string.
pub fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// `String.split` with Java's rules: trailing empty strings dropped when `limit` is 0, a
/// leading empty string dropped for a zero-width match at the start.
fn java_split(re: &Regex, s: &str, limit: i64) -> Vec<String> {
    if s.is_empty() {
        return vec![String::new()];
    }
    let mut parts = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if limit > 0 && parts.len() as i64 == limit - 1 {
            break;
        }
        if m.end() == 0 {
            continue;
        }
        if m.start() == m.end() && m.start() >= s.len() {
            break;
        }
        parts.push(s[last..m.start()].to_string());
        last = m.end();
    }
    parts.push(s[last..].to_string());
    if limit == 0 {
        while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
            parts.pop();
        }
        if parts.len() == 1 && parts[0].is_empty() && !s.is_empty() {
            parts.clear();
        }
    }
    parts
}

fn list_method(l: &super::value::List, name: &str, args: &[Value]) -> Option<Value> {
    Some(match (name, args.len()) {
        ("size", 0) => Value::Int(l.borrow().len() as i64),
        ("isEmpty", 0) => Value::Bool(l.borrow().is_empty()),
        ("get", 1) => list_get(&l.borrow(), int_arg(args, 0)?),
        ("add", 1) => {
            l.borrow_mut().push(args[0].clone());
            Value::Bool(true)
        }
        ("add", 2) => {
            let i = usize::try_from(int_arg(args, 0)?).ok()?;
            let mut l = l.borrow_mut();
            if i > l.len() {
                return Some(Value::Null);
            }
            l.insert(i, args[1].clone());
            Value::Null
        }
        ("addAll", 1) => {
            let items = args[0].iter_items()?;
            l.borrow_mut().extend(items);
            Value::Bool(true)
        }
        ("set", 2) => {
            let i = usize::try_from(int_arg(args, 0)?).ok()?;
            let mut l = l.borrow_mut();
            let slot = l.get_mut(i)?;
            std::mem::replace(slot, args[1].clone())
        }
        ("remove", 1) => match &args[0] {
            Value::Int(i) => {
                let mut l = l.borrow_mut();
                let i = usize::try_from(*i).ok().filter(|i| *i < l.len())?;
                l.remove(i)
            }
            // Found before the list is borrowed to change: comparing prints the argument,
            // which may be the list itself.
            v => {
                let found = l.borrow().iter().position(|x| x.loose_eq(v));
                match found {
                    Some(i) => {
                        l.borrow_mut().remove(i);
                        Value::Bool(true)
                    }
                    None => Value::Bool(false),
                }
            }
        },
        ("contains", 1) => Value::Bool(l.borrow().iter().any(|x| x.loose_eq(&args[0]))),
        ("indexOf", 1) => Value::Int(l.borrow().iter().position(|x| x.loose_eq(&args[0])).map_or(-1, |i| i as i64)),
        ("lastIndexOf", 1) => {
            Value::Int(l.borrow().iter().rposition(|x| x.loose_eq(&args[0])).map_or(-1, |i| i as i64))
        }
        ("subList", 2) => {
            let l = l.borrow();
            let (a, b) = (usize::try_from(int_arg(args, 0)?).ok()?, usize::try_from(int_arg(args, 1)?).ok()?);
            Value::new_list(l.get(a..b)?.to_vec())
        }
        ("clear", 0) => {
            l.borrow_mut().clear();
            Value::Null
        }
        _ => return None,
    })
}

fn json_array_method(a: &Json, name: &str, args: &[Value]) -> Option<Value> {
    Some(match (name, args.len()) {
        ("size", 0) => Value::Int(a.len() as i64),
        ("isEmpty", 0) => Value::Bool(a.is_empty()),
        ("get", 1) => {
            let i = int_arg(args, 0)?;
            if i < 0 {
                return Some(Value::Null);
            }
            a.index(i).map(Value::from).unwrap_or_default()
        }
        ("contains", 1) => Value::Bool(a.items().any(|x| Value::from(x).loose_eq(&args[0]))),
        ("indexOf", 1) => {
            Value::Int(a.items().position(|x| Value::from(x).loose_eq(&args[0])).map_or(-1, |i| i as i64))
        }
        ("lastIndexOf", 1) => {
            let last = a.items().enumerate().filter_map(|(i, x)| Value::from(x).loose_eq(&args[0]).then_some(i)).last();
            Value::Int(last.map_or(-1, |i| i as i64))
        }
        ("subList", 2) => {
            let (x, y) = (usize::try_from(int_arg(args, 0)?).ok()?, usize::try_from(int_arg(args, 1)?).ok()?);
            if x > y || y > a.len() {
                return Some(Value::Null);
            }
            Value::new_list(a.items().skip(x).take(y - x).map(Value::from).collect())
        }
        _ => return None,
    })
}

/// A map entry from `entrySet()`: `key`, `value`, and `k=v` when printed.
struct Entry {
    key: Value,
    value: Value,
}

impl Object for Entry {
    fn property(&self, name: &str) -> Value {
        match name {
            "key" => self.key.clone(),
            "value" => self.value.clone(),
            _ => Value::Null,
        }
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Value> {
        match (name, args.len()) {
            ("getKey", 0) => Some(self.key.clone()),
            ("getValue", 0) => Some(self.value.clone()),
            _ => None,
        }
    }

    fn render(&self, out: &mut String) {
        self.key.write_display(out);
        out.push('=');
        self.value.write_display(out);
    }
}

fn entries(pairs: impl Iterator<Item = (Value, Value)>) -> Value {
    Value::new_list(pairs.map(|(key, value)| Value::object(Entry { key, value })).collect())
}

fn map_method(m: &super::value::Map, name: &str, args: &[Value]) -> Option<Value> {
    Some(match (name, args.len()) {
        ("size", 0) => Value::Int(m.borrow().len() as i64),
        ("isEmpty", 0) => Value::Bool(m.borrow().is_empty()),
        ("get", 1) => m.borrow().get(args[0].to_display().as_str()).cloned().unwrap_or_default(),
        // Keys are printed before the map is borrowed to change: the key may be the map itself.
        ("put", 2) => {
            let key = args[0].to_display();
            m.borrow_mut().insert(key.into(), args[1].clone()).unwrap_or_default()
        }
        ("putAll", 1) => {
            // Read before the map is borrowed to change: `$m.putAll($m)` reads the map itself.
            let from = args[0].changed().unwrap_or_else(|| args[0].clone());
            let entries: Vec<(Rc<str>, Value)> = match &from {
                Value::Map(o) => o.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                Value::Json { .. } => from
                    .json()
                    .map(|o| o.members().map(|(k, v)| (Rc::<str>::from(k), Value::from(v))).collect())
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            m.borrow_mut().extend(entries);
            Value::Null
        }
        ("remove", 1) => {
            let key = args[0].to_display();
            m.borrow_mut().shift_remove(key.as_str()).unwrap_or_default()
        }
        ("containsKey", 1) => Value::Bool(m.borrow().contains_key(args[0].to_display().as_str())),
        ("containsValue", 1) => Value::Bool(m.borrow().values().any(|v| v.loose_eq(&args[0]))),
        ("keySet", 0) => Value::new_list(m.borrow().keys().map(|k| Value::from(&**k)).collect()),
        ("values", 0) => Value::new_list(m.borrow().values().cloned().collect()),
        ("entrySet", 0) => entries(m.borrow().iter().map(|(k, v)| (Value::from(&**k), v.clone()))),
        _ => return None,
    })
}

fn json_object_method(o: &Json, name: &str, args: &[Value]) -> Option<Value> {
    Some(match (name, args.len()) {
        ("size", 0) => Value::Int(o.len() as i64),
        ("isEmpty", 0) => Value::Bool(o.is_empty()),
        ("get", 1) => o.get(&args[0].to_display()).map(Value::from).unwrap_or_default(),
        ("containsKey", 1) => Value::Bool(o.get(&args[0].to_display()).is_some()),
        ("containsValue", 1) => Value::Bool(o.members().any(|(_, v)| Value::from(v).loose_eq(&args[0]))),
        ("keySet", 0) => Value::new_list(o.members().map(|(k, _)| Value::from(k)).collect()),
        ("values", 0) => Value::new_list(o.members().map(|(_, v)| Value::from(v)).collect()),
        ("entrySet", 0) => entries(o.members().map(|(k, v)| (Value::from(k), Value::from(v)))),
        _ => return None,
    })
}

fn number_method(v: &Value, name: &str, args: &[Value]) -> Option<Value> {
    let n = v.as_number()?;
    Some(match (name, args.len()) {
        ("intValue" | "longValue", 0) => Value::Int(match n {
            Number::Int(i) => i,
            Number::Float(f) => f as i64,
        }),
        ("doubleValue" | "floatValue", 0) => Value::Float(n.as_f64()),
        ("compareTo", 1) => {
            let o = args[0].as_number()?.as_f64();
            Value::Int((n.as_f64() > o) as i64 - (n.as_f64() < o) as i64)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_split_rules() {
        let re = Regex::new(",").unwrap();
        assert_eq!(java_split(&re, "a,b,,", 0), vec!["a", "b"]);
        assert_eq!(java_split(&re, ",a", 0), vec!["", "a"]);
        assert_eq!(java_split(&re, "a,b,c", 2), vec!["a", "b,c"]);
        assert_eq!(java_split(&re, "a,b,,", -1), vec!["a", "b", "", ""]);
        let empty = Regex::new("").unwrap();
        assert_eq!(java_split(&empty, "abc", 0), vec!["a", "b", "c"]);
    }

    #[test]
    fn replacement_syntax() {
        assert_eq!(java_replacement("$1-x"), "${1}-x");
        assert_eq!(java_replacement("\\$5"), "$$5");
        assert_eq!(java_replacement("a$"), "a$$");
    }
}
