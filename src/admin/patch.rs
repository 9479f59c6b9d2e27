//! Patch operations as API Gateway applies them (UpdateRestApi, UpdateIntegration, ...):
//! `add`, `remove`, `replace` and `copy` on JSON-pointer paths (`~1` for `/`, `~0` for `~`),
//! every value a string coerced to the field's type, and only the paths each entity allows.

use super::error::{bad_request, AdminResult};
use serde_json::{Map, Value};

#[derive(Debug, Clone, serde::Deserialize)]
pub struct PatchOperation {
    pub op: Option<String>,
    pub path: Option<String>,
    pub value: Option<String>,
    pub from: Option<String>,
}

/// What a patchable field holds, so that a patch value (always a string) takes its type.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    Str,
    Bool,
    Int,
    Float,
    /// A map of strings: `/requestTemplates/application~1json`.
    StrMap,
    /// A map of booleans: `/requestParameters/method.request.header.x`.
    BoolMap,
    /// A list of distinct strings named by the path: `/binaryMediaTypes/image~1png`.
    StrSet,
    /// An object with fields of its own: `/tlsConfig/insecureSkipVerification`.
    Object(Fields),
}

pub type Fields = &'static [(&'static str, Field)];

/// The patch operations of an update request (`patchOperations`), empty when absent.
pub fn operations(body: &Value) -> AdminResult<Vec<PatchOperation>> {
    match body.get("patchOperations") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(ops) => {
            serde_json::from_value(ops.clone()).map_err(|e| bad_request(format!("Invalid patch operations: {e}")))
        }
    }
}

/// Applies an update request's `patchOperations` to `target` and returns the result. On an
/// error `target` may be half patched: every change runs in `Admin::mutate`, which puts the
/// whole state back.
pub fn update(target: &mut Map<String, Value>, body: &Value, fields: Fields) -> AdminResult<Value> {
    apply(target, &operations(body)?, fields)?;
    Ok(Value::Object(target.clone()))
}

/// The segments of a JSON pointer, unescaped.
pub fn segments(path: &str) -> Vec<String> {
    path.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
}

enum Slot {
    Field(String, Field),
    Entry(String, String, Field),
    Item(String, String),
    Sub(String, String, Field),
}

fn invalid_path(path: &str, op: &str, fields: Fields) -> super::error::AdminError {
    let allowed: Vec<String> = fields
        .iter()
        .map(|(name, kind)| match kind {
            Field::StrMap | Field::BoolMap | Field::StrSet | Field::Object(_) => format!("/{name}/*"),
            _ => format!("/{name}"),
        })
        .collect();
    bad_request(format!(
        "Invalid patch path  '{path}' specified for op '{op}'. Must be one of: [{}]",
        allowed.join(", ")
    ))
}

fn resolve(path: &str, op: &str, fields: Fields) -> AdminResult<Slot> {
    if !path.starts_with('/') {
        return Err(invalid_path(path, op, fields));
    }
    let segs = segments(path);
    let Some((_, kind)) = fields.iter().find(|(name, _)| *name == segs[0]) else {
        return Err(invalid_path(path, op, fields));
    };
    let name = segs[0].clone();
    match (kind, segs.len()) {
        (Field::Str | Field::Bool | Field::Int | Field::Float, 1) => Ok(Slot::Field(name, *kind)),
        (Field::StrMap, 2) => Ok(Slot::Entry(name, segs[1].clone(), Field::Str)),
        (Field::BoolMap, 2) => Ok(Slot::Entry(name, segs[1].clone(), Field::Bool)),
        (Field::StrSet, 2) => Ok(Slot::Item(name, segs[1].clone())),
        (Field::Object(subs), 2) => match subs.iter().find(|(sub, _)| *sub == segs[1]) {
            Some((sub, kind)) => Ok(Slot::Sub(name, sub.to_string(), *kind)),
            None => Err(invalid_path(path, op, fields)),
        },
        _ => Err(invalid_path(path, op, fields)),
    }
}

/// A patch value as the field's type.
pub fn coerce(value: &str, kind: Field) -> AdminResult<Value> {
    match kind {
        Field::Bool => match value {
            "true" | "TRUE" | "True" => Ok(Value::Bool(true)),
            "false" | "FALSE" | "False" => Ok(Value::Bool(false)),
            _ => Err(bad_request(format!("Invalid boolean value: {value}"))),
        },
        Field::Int => value
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| bad_request(format!("Invalid Integer value: {value}"))),
        Field::Float => value
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| bad_request(format!("Invalid Double value: {value}"))),
        _ => Ok(Value::String(value.to_string())),
    }
}

fn child<'a>(target: &'a mut Map<String, Value>, name: &str, empty: Value) -> &'a mut Value {
    let slot = target.entry(name.to_string()).or_insert(empty.clone());
    if slot.is_null() {
        *slot = empty;
    }
    slot
}

fn get(target: &Map<String, Value>, slot: &Slot) -> Option<Value> {
    match slot {
        Slot::Field(name, _) => target.get(name).filter(|v| !v.is_null()).cloned(),
        Slot::Entry(name, key, _) | Slot::Sub(name, key, _) => target.get(name)?.get(key).cloned(),
        Slot::Item(name, item) => {
            target.get(name)?.as_array()?.iter().any(|v| v.as_str() == Some(item)).then(|| Value::String(item.clone()))
        }
    }
}

fn set(target: &mut Map<String, Value>, slot: &Slot, value: Value) {
    match slot {
        Slot::Field(name, _) => {
            target.insert(name.clone(), value);
        }
        Slot::Entry(name, key, _) | Slot::Sub(name, key, _) => {
            if let Some(map) = child(target, name, Value::Object(Map::new())).as_object_mut() {
                map.insert(key.clone(), value);
            }
        }
        Slot::Item(name, item) => {
            if let Some(list) = child(target, name, Value::Array(Vec::new())).as_array_mut() {
                if !list.iter().any(|v| v.as_str() == Some(item)) {
                    list.push(Value::String(item.clone()));
                }
            }
        }
    }
}

fn remove(target: &mut Map<String, Value>, slot: &Slot) {
    match slot {
        Slot::Field(name, _) => {
            target.remove(name);
        }
        Slot::Entry(name, key, _) | Slot::Sub(name, key, _) => {
            if let Some(map) = target.get_mut(name).and_then(Value::as_object_mut) {
                map.remove(key);
            }
        }
        Slot::Item(name, item) => {
            if let Some(list) = target.get_mut(name).and_then(Value::as_array_mut) {
                list.retain(|v| v.as_str() != Some(item));
            }
        }
    }
}

fn kind_of(slot: &Slot) -> Field {
    match slot {
        Slot::Field(_, k) | Slot::Entry(_, _, k) | Slot::Sub(_, _, k) => *k,
        Slot::Item(..) => Field::Str,
    }
}

/// Applies `ops` in order to `target`; on an error nothing the caller keeps has changed only
/// if the caller patches a copy, which every update does.
pub fn apply(target: &mut Map<String, Value>, ops: &[PatchOperation], fields: Fields) -> AdminResult<()> {
    for operation in ops {
        let op = operation.op.as_deref().unwrap_or("");
        let path = operation.path.as_deref().unwrap_or("");
        match op {
            "add" | "replace" => {
                let slot = resolve(path, op, fields)?;
                match (&operation.value, &slot) {
                    (_, Slot::Item(..)) => set(target, &slot, Value::Null),
                    (Some(v), _) => set(target, &slot, coerce(v, kind_of(&slot))?),
                    (None, _) if op == "replace" => remove(target, &slot),
                    (None, _) => return Err(bad_request(format!("Invalid null value for op 'add' at path '{path}'"))),
                }
            }
            "remove" => {
                let slot = resolve(path, op, fields)?;
                remove(target, &slot);
            }
            "copy" => {
                let from = operation.from.as_deref().unwrap_or("");
                let source = resolve(from, op, fields)?;
                let slot = resolve(path, op, fields)?;
                let value = get(target, &source).ok_or_else(|| {
                    bad_request(format!("Invalid patch path  '{from}' specified for op 'copy': no value"))
                })?;
                set(target, &slot, value);
            }
            _ => {
                return Err(bad_request(format!(
                    "Invalid patch operation specified. Must be one of: [add, remove, replace, copy], got '{op}'"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: Fields = &[
        ("uri", Field::Str),
        ("timeoutInMillis", Field::Int),
        ("requestTemplates", Field::StrMap),
        ("binaryMediaTypes", Field::StrSet),
        ("tlsConfig", Field::Object(&[("insecureSkipVerification", Field::Bool)])),
    ];

    fn op(op: &str, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation { op: Some(op.into()), path: Some(path.into()), value: value.map(Into::into), from: None }
    }

    #[test]
    fn escaped_keys_types_and_sets() {
        let mut t = json!({"uri": "http://a"}).as_object().unwrap().clone();
        let ops = [
            op("add", "/requestTemplates/application~1json", Some("{}")),
            op("replace", "/timeoutInMillis", Some("5000")),
            op("add", "/binaryMediaTypes/image~1png", None),
            op("add", "/binaryMediaTypes/image~1png", None),
            op("replace", "/tlsConfig/insecureSkipVerification", Some("true")),
            PatchOperation {
                op: Some("copy".into()),
                path: Some("/requestTemplates/text~1plain".into()),
                value: None,
                from: Some("/requestTemplates/application~1json".into()),
            },
            op("remove", "/uri", None),
        ];
        apply(&mut t, &ops, FIELDS).unwrap();
        assert_eq!(
            Value::Object(t),
            json!({"requestTemplates": {"application/json": "{}", "text/plain": "{}"}, "timeoutInMillis": 5000,
                   "binaryMediaTypes": ["image/png"], "tlsConfig": {"insecureSkipVerification": true}})
        );
    }

    #[test]
    fn bad_paths_ops_and_values_are_refused() {
        let mut t = Map::new();
        let e = apply(&mut t, &[op("replace", "/nope", Some("x"))], FIELDS).unwrap_err();
        assert!(
            e.to_string().starts_with("Invalid patch path  '/nope' specified for op 'replace'. Must be one of: [/uri,"),
            "{e}"
        );
        assert!(apply(&mut t, &[op("move", "/uri", Some("x"))], FIELDS).is_err());
        assert_eq!(
            apply(&mut t, &[op("replace", "/timeoutInMillis", Some("soon"))], FIELDS).unwrap_err().to_string(),
            "Invalid Integer value: soon"
        );
        assert!(apply(&mut t, &[op("replace", "/requestTemplates", Some("x"))], FIELDS).is_err());
    }
}
