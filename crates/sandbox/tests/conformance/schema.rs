//! A validator of JSON bodies against the schema language of Google's discovery documents
//! (`schemas` of `contracts/*.json`), strict the way Google's own client libraries are
//! entitled to be: every member must be declared (`properties`, or `additionalProperties`
//! for maps), every value must have the JSON type the schema's `type` and `format` say
//! (64-bit integers, timestamps, durations and bytes as JSON strings), and strings of a
//! property with an `enum` must be one of its values. Every violation is collected with the
//! JSON path where it is (`$.lineItems[0].offerDetails.basePlanId`).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// One place where a body does not follow its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path of the offending value, from `$` (the body).
    pub path: String,
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// `$ref` chains longer than this are a cycle in the document, not a schema.
const MAX_REF_CHAIN: usize = 32;

/// Validates values against the schemas of one discovery document.
pub struct Validator<'d> {
    doc: &'d Value,
}

impl<'d> Validator<'d> {
    pub fn new(doc: &'d Value) -> Self {
        Self { doc }
    }

    /// Every violation of `value` against the document's schema named `name`.
    pub fn check_ref(&self, name: &str, value: &Value) -> Vec<Violation> {
        self.check(&json!({ "$ref": name }), value)
    }

    /// Every violation of `value` against `schema` (a schema in the document's language,
    /// whose `$ref`s name the document's schemas).
    pub fn check(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.walk(schema, value, "$", "(body)", &mut out);
        out
    }

    fn walk(&self, schema: &Value, value: &Value, at: &str, owner: &str, out: &mut Vec<Violation>) {
        let here = |problem: String| Violation {
            path: at.to_owned(),
            problem,
        };
        // Resolve `$ref` (and chains of them) first.
        let mut schema = schema;
        let mut owner = owner.to_owned();
        let mut hops = 0;
        while let Some(name) = schema.get("$ref").and_then(Value::as_str) {
            hops += 1;
            match self.doc["schemas"].get(name) {
                Some(s) if hops <= MAX_REF_CHAIN => {
                    schema = s;
                    owner = name.to_owned();
                }
                Some(_) => return out.push(here(format!("$ref cycle through schema {name}"))),
                None => return out.push(here(format!("the contract has no schema named {name}"))),
            }
        }
        let Some(ty) = schema.get("type").and_then(Value::as_str) else {
            return out.push(here(format!("schema of {owner} has neither type nor $ref")));
        };
        let format = schema.get("format").and_then(Value::as_str);
        let expected = || match format {
            Some(f) => format!("{ty} ({f})"),
            None => ty.to_owned(),
        };
        match (ty, value) {
            ("any", _) => {}
            ("string", Value::String(s)) => {
                if let Some(f) = format
                    && let Err(why) = check_string_format(f, s)
                {
                    out.push(here(format!("{} is not a valid {f}: {why}", short(value))));
                }
                if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
                    && !allowed.iter().any(|a| a.as_str() == Some(s))
                {
                    let allowed: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    out.push(here(format!(
                        "{} is not one of the enum values {allowed:?}",
                        short(value)
                    )));
                }
            }
            ("integer", Value::Number(n)) => {
                let fits = match format {
                    Some("int32") => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
                    Some("uint32") => n.as_u64().is_some_and(|v| u32::try_from(v).is_ok()),
                    _ => n.is_i64() || n.is_u64(),
                };
                if !fits {
                    out.push(here(format!("{n} is not an {}", expected())));
                }
            }
            ("number", Value::Number(_)) => {}
            // proto3 JSON writes the special doubles as strings.
            ("number", Value::String(s)) if ["NaN", "Infinity", "-Infinity"].contains(&&**s) => {}
            ("boolean", Value::Bool(_)) => {}
            ("array", Value::Array(items)) => {
                let Some(item_schema) = schema.get("items") else {
                    return out.push(here(format!("array schema of {owner} has no items")));
                };
                for (i, item) in items.iter().enumerate() {
                    self.walk(item_schema, item, &format!("{at}[{i}]"), &owner, out);
                }
            }
            ("object", Value::Object(members)) => {
                let props = schema.get("properties").and_then(Value::as_object);
                let extra = schema.get("additionalProperties");
                for (k, v) in members {
                    let member = member_path(at, k);
                    match (props.and_then(|p| p.get(k)), extra) {
                        (Some(p), _) => self.walk(p, v, &member, &owner, out),
                        (None, Some(e)) => self.walk(e, v, &member, &owner, out),
                        (None, None) => out.push(Violation {
                            path: member,
                            problem: format!("{k:?} is not a property of {owner}"),
                        }),
                    }
                }
            }
            ("string" | "integer" | "number" | "boolean" | "array" | "object", _) => {
                out.push(here(format!(
                    "expected {}, got {} {}",
                    expected(),
                    kind(value),
                    short(value)
                )))
            }
            (other, _) => out.push(here(format!(
                "schema of {owner} has unknown type {other:?}"
            ))),
        }
    }
}

/// `$.a.b`, or `$.a["odd key"]` when the key is not an identifier.
fn member_path(at: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '$');
    if plain {
        format!("{at}.{key}")
    } else {
        format!("{at}[{}]", Value::String(key.to_owned()))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The value, cut short for messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// What a JSON string of the given discovery `format` must look like.
fn check_string_format(format: &str, s: &str) -> Result<(), String> {
    match format {
        "int64" => s.parse::<i64>().map(drop).map_err(|e| e.to_string()),
        "uint64" => s.parse::<u64>().map(drop).map_err(|e| e.to_string()),
        "int32" => s.parse::<i32>().map(drop).map_err(|e| e.to_string()),
        "uint32" => s.parse::<u32>().map(drop).map_err(|e| e.to_string()),
        "google-datetime" | "date-time" => {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "date" => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, &fmt)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "google-duration" => check_duration(s),
        "byte" => [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .any(|e| e.decode(s).is_ok())
            .then_some(())
            .ok_or_else(|| "not base64".to_owned()),
        // Field masks are comma-separated paths; any string is one syntactically.
        "google-fieldmask" => Ok(()),
        other => Err(format!("unknown string format {other:?}")),
    }
}

/// `google-duration`: seconds with up to nine fractional digits and an `s` (`"3.5s"`).
fn check_duration(s: &str) -> Result<(), String> {
    let bad = || format!("{s:?} is not seconds like \"3.5s\"");
    let body = s.strip_suffix('s').ok_or_else(bad)?;
    let body = body.strip_prefix('-').unwrap_or(body);
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return Err(bad());
    }
    if body.contains('.') && frac.is_empty() {
        return Err(bad());
    }
    Ok(())
}

/// Canonical status names of `google.rpc.Code`, as `error.status` spells them.
const CANONICAL_STATUSES: &[&str] = &[
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
];

/// Google's JSON error envelope, in the discovery schema language:
/// `{"error": {"code", "message", "status", "errors": [{"domain", "reason", "message"}]}}`.
pub fn error_envelope_doc() -> Value {
    json!({"schemas": {
        "ErrorEnvelope": {"id": "ErrorEnvelope", "type": "object", "properties": {
            "error": {"$ref": "ErrorBody"}
        }},
        "ErrorBody": {"id": "ErrorBody", "type": "object", "properties": {
            "code": {"type": "integer", "format": "int32"},
            "message": {"type": "string"},
            "status": {"type": "string", "enum": CANONICAL_STATUSES},
            "errors": {"type": "array", "items": {"$ref": "ErrorItem"}},
            "details": {"type": "array", "items": {
                "type": "object", "additionalProperties": {"type": "any"}
            }}
        }},
        "ErrorItem": {"id": "ErrorItem", "type": "object", "properties": {
            "domain": {"type": "string"},
            "reason": {"type": "string"},
            "message": {"type": "string"},
            "location": {"type": "string"},
            "locationType": {"type": "string"},
            "extendedHelp": {"type": "string"},
            "sendReport": {"type": "string"}
        }}
    }})
}

/// Violations of Google's error envelope by an error answer with HTTP status `code`:
/// the shape ([`error_envelope_doc`]), then the members that must be there — `error.code`
/// (equal to the HTTP status), `error.message`, `error.status` when `status_required`
/// (Cloud Storage's JSON API has none), and a non-empty `error.errors[]` whose items carry
/// `domain`, `reason` and `message`.
pub fn check_error_envelope(body: &Value, code: u16, status_required: bool) -> Vec<Violation> {
    let doc = error_envelope_doc();
    let mut out = Validator::new(&doc).check_ref("ErrorEnvelope", body);
    let mut missing = |path: &str, what: &str| {
        out.push(Violation {
            path: path.to_owned(),
            problem: what.to_owned(),
        })
    };
    let e = &body["error"];
    if !e.is_object() {
        missing("$.error", "missing");
        return out;
    }
    match e.get("code").and_then(Value::as_u64) {
        Some(c) if c == u64::from(code) => {}
        Some(c) => missing(
            "$.error.code",
            &format!("{c}, but the HTTP status is {code}"),
        ),
        None => missing("$.error.code", "missing"),
    }
    if e.get("message")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        missing("$.error.message", "missing or empty");
    }
    if status_required && e.get("status").is_none() {
        missing("$.error.status", "missing");
    }
    match e.get("errors").and_then(Value::as_array) {
        None => missing("$.error.errors", "missing"),
        Some(items) if items.is_empty() => missing("$.error.errors", "empty"),
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                for m in ["domain", "reason", "message"] {
                    if item
                        .get(m)
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        missing(&format!("$.error.errors[{i}].{m}"), "missing or empty");
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"schemas": {
            "Thing": {"id": "Thing", "type": "object", "properties": {
                "name": {"type": "string"},
                "count": {"type": "integer", "format": "int32"},
                "big": {"type": "string", "format": "int64"},
                "when": {"type": "string", "format": "google-datetime"},
                "took": {"type": "string", "format": "google-duration"},
                "raw": {"type": "string", "format": "byte"},
                "ratio": {"type": "number", "format": "double"},
                "on": {"type": "boolean"},
                "state": {"type": "string", "enum": ["STATE_UNSPECIFIED", "ON", "OFF"]},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "parts": {"type": "array", "items": {"$ref": "Part"}},
                "meta": {"type": "any"}
            }},
            "Part": {"id": "Part", "type": "object", "properties": {
                "id": {"type": "string"}
            }}
        }})
    }

    fn paths(v: &[Violation]) -> Vec<&str> {
        v.iter().map(|v| v.path.as_str()).collect()
    }

    #[test]
    fn a_conforming_body_has_no_violations() {
        let doc = doc();
        let body = json!({
            "name": "x", "count": 3, "big": "-9007199254740993",
            "when": "2026-10-01T12:00:00.123Z", "took": "604800.5s", "raw": "aGk=",
            "ratio": 0.5, "on": true, "state": "ON", "labels": {"a b": "c"},
            "parts": [{"id": "p"}], "meta": {"anything": [1, null]}
        });
        let v = Validator::new(&doc).check_ref("Thing", &body);
        assert!(v.is_empty(), "{v:#?}");
    }

    #[test]
    fn an_unknown_field_is_a_violation() {
        let doc = doc();
        let v = Validator::new(&doc).check_ref(
            "Thing",
            &json!({"name": "x", "parts": [{"id": "p", "bogus": 1}]}),
        );
        assert_eq!(paths(&v), ["$.parts[0].bogus"], "{v:#?}");
        assert!(v[0].problem.contains("Part"), "{v:#?}");
    }

    #[test]
    fn a_wrong_type_is_a_violation() {
        let doc = doc();
        let v = Validator::new(&doc).check_ref(
            "Thing",
            &json!({
                "name": 5, "count": "3", "big": 12, "on": "true", "parts": {},
                "labels": {"k": 1}, "when": "yesterday", "took": "7d", "raw": "*!",
                "ratio": null
            }),
        );
        let mut got = paths(&v);
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "$.big",
                "$.count",
                "$.labels.k",
                "$.name",
                "$.on",
                "$.parts",
                "$.ratio",
                "$.raw",
                "$.took",
                "$.when"
            ],
            "{v:#?}"
        );
        let v = Validator::new(&doc).check_ref("Thing", &json!({"count": 2_147_483_648_i64}));
        assert_eq!(paths(&v), ["$.count"], "int32 out of range: {v:#?}");
        let v = Validator::new(&doc).check_ref("Thing", &json!([]));
        assert_eq!(paths(&v), ["$"], "{v:#?}");
    }

    #[test]
    fn a_bad_enum_value_is_a_violation() {
        let doc = doc();
        let v = Validator::new(&doc).check_ref("Thing", &json!({"state": "on"}));
        assert_eq!(paths(&v), ["$.state"], "{v:#?}");
        assert!(v[0].problem.contains("enum"), "{v:#?}");
    }

    #[test]
    fn the_real_contract_is_understood() {
        let doc: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../contracts/androidpublisher.v3.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let v = Validator::new(&doc).check_ref(
            "SubscriptionPurchaseV2",
            &json!({
                "subscriptionState": "SUBSCRIPTION_STATE_ACTIVE",
                "startTime": "2026-10-01T00:00:00Z",
                "lineItems": [{"productId": "pro", "expiryTime": "2026-11-01T00:00:00Z"}],
                "testPurchase": {}
            }),
        );
        assert!(v.is_empty(), "{v:#?}");
        let v = Validator::new(&doc).check_ref(
            "SubscriptionPurchaseV2",
            &json!({
                "subscriptionState": "ACTIVE",
                "startTime": 1,
                "lineItems": [{"productId": "pro", "autoRenewingPlan": {"autoRenewEnabled": "yes"}}],
                "bogus": {}
            }),
        );
        let mut got = paths(&v);
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "$.bogus",
                "$.lineItems[0].autoRenewingPlan.autoRenewEnabled",
                "$.startTime",
                "$.subscriptionState"
            ],
            "{v:#?}"
        );
        let v = Validator::new(&doc).check_ref("NoSuchSchema", &json!({}));
        assert_eq!(paths(&v), ["$"], "{v:#?}");
    }

    #[test]
    fn error_envelopes_are_checked() {
        let good = json!({"error": {"code": 404, "message": "m", "status": "NOT_FOUND",
            "errors": [{"domain": "global", "reason": "notFound", "message": "m"}]}});
        assert!(check_error_envelope(&good, 404, true).is_empty());
        let v = check_error_envelope(&good, 400, true);
        assert_eq!(paths(&v), ["$.error.code"], "{v:#?}");
        let bad = json!({"error": {"code": "404", "status": "NOPE", "errors": [{"domain": 1}],
            "extra": true}});
        let mut got: Vec<String> = check_error_envelope(&bad, 404, true)
            .into_iter()
            .map(|v| v.path)
            .collect();
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "$.error.code",
                "$.error.code",
                "$.error.errors[0].domain",
                "$.error.errors[0].domain",
                "$.error.errors[0].message",
                "$.error.errors[0].reason",
                "$.error.extra",
                "$.error.message",
                "$.error.status"
            ]
        );
        let storage = json!({"error": {"code": 404, "message": "m",
            "errors": [{"domain": "global", "reason": "notFound", "message": "m"}]}});
        assert!(check_error_envelope(&storage, 404, false).is_empty());
        assert_eq!(check_error_envelope(&storage, 404, true).len(), 1);
    }
}
