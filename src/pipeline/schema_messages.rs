//! Request body validation errors worded as API Gateway words them: its validator is Java's
//! json-schema-validator (draft 4), whose messages `$context.error.validationErrorString`
//! carries (`[object has missing required properties (["name"])]`). Kinds it has no wording for
//! keep the validator's own message.

use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
use jsonschema::ValidationError;
use serde_json::Value;

/// `string`, `integer`, ... as the Java validator names an instance's type.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON array of strings, compact (`["a","b"]`).
fn names<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    Value::Array(items.into_iter().map(|s| Value::String(s.to_string())).collect()).to_string()
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// One error's message.
fn message(e: &ValidationError) -> String {
    let instance: &Value = e.instance();
    match e.kind() {
        Kind::Type { kind } => {
            let mut allowed: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![t.as_str()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.as_str()).collect(),
            };
            allowed.sort_unstable();
            format!(
                "instance type ({}) does not match any allowed primitive type (allowed: {})",
                type_name(instance),
                names(allowed)
            )
        }
        Kind::Enum { options } => {
            format!("instance value ({instance}) not found in enum (possible values: {options})")
        }
        Kind::Minimum { limit } => {
            format!("numeric instance is lower than the required minimum (minimum: {limit}, found: {instance})")
        }
        Kind::Maximum { limit } => {
            format!("numeric instance is greater than the required maximum (maximum: {limit}, found: {instance})")
        }
        Kind::ExclusiveMinimum { limit } => {
            format!("numeric instance is not strictly greater than the required minimum {limit}")
        }
        Kind::ExclusiveMaximum { limit } => {
            format!("numeric instance is not strictly lower than the required maximum {limit}")
        }
        Kind::MinLength { limit } => {
            format!("string {instance} is too short (length: {}, required minimum: {limit})", chars(instance))
        }
        Kind::MaxLength { limit } => {
            format!("string {instance} is too long (length: {}, maximum allowed: {limit})", chars(instance))
        }
        Kind::Pattern { pattern } => {
            format!("ECMA 262 regex \"{pattern}\" does not match input string \"{}\"", instance.as_str().unwrap_or(""))
        }
        Kind::AdditionalProperties { unexpected } => format!(
            "object instance has properties which are not allowed by the schema: {}",
            names(unexpected.iter().map(String::as_str))
        ),
        Kind::MinItems { limit } => format!(
            "array is too short: must have at least {limit} elements but instance has {} elements",
            len(instance)
        ),
        Kind::MaxItems { limit } => {
            format!("array is too long: must have at most {limit} elements but instance has {} elements", len(instance))
        }
        Kind::UniqueItems => "array must not contain duplicate elements".to_string(),
        _ => e.to_string(),
    }
}

/// Every error's message, with the missing required properties of one object reported
/// together, as the Java validator reports them.
pub fn messages<'a>(errors: impl Iterator<Item = ValidationError<'a>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut missing: Vec<(String, Vec<String>, usize)> = Vec::new();
    for e in errors {
        if let Kind::Required { property } = e.kind() {
            let at = e.instance_path().to_string();
            let name = property.as_str().map(str::to_string).unwrap_or_else(|| property.to_string());
            match missing.iter_mut().find(|(path, ..)| *path == at) {
                Some((_, names, _)) => names.push(name),
                None => {
                    missing.push((at, vec![name], out.len()));
                    out.push(String::new());
                }
            }
            continue;
        }
        out.push(message(&e));
    }
    for (_, props, slot) in missing {
        out[slot] = format!("object has missing required properties ({})", names(props.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validate(schema: Value, instance: Value) -> Vec<String> {
        let validator = jsonschema::draft4::new(&schema).unwrap();
        messages(validator.iter_errors(&instance))
    }

    #[test]
    fn worded_as_api_gateway() {
        let schema = json!({
            "type": "object",
            "required": ["name", "price", "tags"],
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "minLength": 3, "maxLength": 5, "pattern": "^[a-z]+$"},
                "type": {"enum": ["dog", "cat"]},
                "price": {"type": ["number", "null"], "minimum": 25, "maximum": 500},
                "age": {"type": "integer"},
                "tags": {"type": "array", "minItems": 2},
            }
        });
        assert_eq!(
            validate(schema.clone(), json!({"type": "fish"})),
            [
                r#"object has missing required properties (["name","price","tags"])"#,
                r#"instance value ("fish") not found in enum (possible values: ["dog","cat"])"#,
            ]
        );
        let errors = validate(
            schema,
            json!({"name": "AB", "price": 10, "age": "old", "tags": ["a"], "color": 1, "type": "dog"}),
        );
        for expected in [
            r#"string "AB" is too short (length: 2, required minimum: 3)"#,
            r#"ECMA 262 regex "^[a-z]+$" does not match input string "AB""#,
            "numeric instance is lower than the required minimum (minimum: 25, found: 10)",
            r#"instance type (string) does not match any allowed primitive type (allowed: ["integer"])"#,
            "array is too short: must have at least 2 elements but instance has 1 elements",
            r#"object instance has properties which are not allowed by the schema: ["color"]"#,
        ] {
            assert!(errors.iter().any(|e| e == expected), "{expected:?} not in {errors:#?}");
        }
        assert_eq!(
            validate(json!({"type": ["number", "null"]}), json!("x")),
            [r#"instance type (string) does not match any allowed primitive type (allowed: ["null","number"])"#]
        );
    }
}
