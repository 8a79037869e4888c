//! Checks traffic the fake Discord recorded against Discord's OpenAPI description (a vendored
//! subset, see `tests/spec/SOURCE.md`): the route and method exist, Steward's request body has
//! the declared shape, and the fake answered a declared status with a body of the declared shape.
//!
//! The validator knows the JSON Schema keywords the subset uses; a keyword it does not know
//! panics, so a new route cannot pass unchecked.

use serde_json::Value;

use crate::fake_discord::Recorded;

/// The vendored subset of Discord's OpenAPI description.
pub struct Spec(Value);

impl Spec {
    /// Loads `tests/spec/discord-openapi.subset.json`.
    pub fn discord() -> Self {
        Self(serde_json::from_str(include_str!("../spec/discord-openapi.subset.json")).unwrap())
    }

    /// Every way `exchange` departs from the description (empty when it agrees).
    pub fn check(&self, exchange: &Recorded) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(operation) = self.operation(exchange.method.as_str(), &exchange.path) else {
            return vec![format!("{} {}: no such operation in the description", exchange.method, exchange.path)];
        };
        let request = &operation["requestBody"];
        if request.is_null() {
            if !exchange.body.is_null() {
                errors.push("a request body where none is described".to_owned());
            }
        } else if exchange.body.is_null() {
            if request["required"] == true {
                errors.push("no request body, and one is required".to_owned());
            }
        } else {
            self.validate(&request["content"]["application/json"]["schema"], &exchange.body, "request", &mut errors);
        }
        let status = exchange.status.as_str();
        let family = format!("{}XX", &status[..1]);
        let responses = &operation["responses"];
        match [status, family.as_str(), "default"].iter().map(|key| &responses[*key]).find(|r| !r.is_null()) {
            None => errors.push(format!("status {status} is not described")),
            Some(response) => {
                let response = self.resolve(response);
                let schema = &response["content"]["application/json"]["schema"];
                match (&exchange.response, schema.is_null()) {
                    (None, true) => {}
                    (None, false) => errors.push(format!("status {status} must carry a JSON body")),
                    (Some(_), true) => errors.push(format!("status {status} must have no body")),
                    (Some(body), false) => self.validate(schema, body, "response", &mut errors),
                }
            }
        }
        errors.into_iter().map(|e| format!("{} {}: {e}", exchange.method, exchange.path)).collect()
    }

    /// The operation for `method` on a concrete `/api/v10/...` path; literal segments beat
    /// `{parameters}` (`/members/@me` before `/members/{user_id}`).
    fn operation(&self, method: &str, path: &str) -> Option<&Value> {
        let segments: Vec<&str> = path.trim_start_matches("/api/v10").split('/').collect();
        let paths = self.0["paths"].as_object()?;
        paths
            .iter()
            .filter_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()));
                let literal = parts.iter().filter(|p| !p.starts_with('{')).count();
                fits.then_some((literal, item.get(method.to_ascii_lowercase())?))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, operation)| operation)
    }

    /// Follows `$ref`s to what they name.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        while let Some(reference) = value["$ref"].as_str() {
            let pointer = reference.strip_prefix('#').unwrap();
            value = self.0.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"));
        }
        value
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let Some(keywords) = schema.as_object() else { return };
        let mut failures = Vec::new();
        let mut fail = |what: String| failures.push(format!("{at}: {what} (got {value})"));
        for (keyword, rule) in keywords {
            match keyword.as_str() {
                "type" => {
                    let types: Vec<&str> = match rule {
                        Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
                        other => other.as_str().into_iter().collect(),
                    };
                    if !types.iter().any(|t| is_type(value, t)) {
                        fail(format!("not of type {types:?}"));
                    }
                }
                "const" => {
                    if value != rule {
                        fail(format!("not {rule}"));
                    }
                }
                "enum" => {
                    if !rule.as_array().unwrap().contains(value) {
                        fail(format!("not one of {rule}"));
                    }
                }
                "pattern" => {
                    // The one pattern the subset uses: a snowflake.
                    assert_eq!(rule, "^(0|[1-9][0-9]*)$", "unsupported pattern at {at}");
                    if let Some(text) = value.as_str() {
                        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
                        if !digits || (text.len() > 1 && text.starts_with('0')) {
                            fail("not a snowflake".to_owned());
                        }
                    }
                }
                "minimum" | "maximum" | "minLength" | "maxLength" | "minItems" | "maxItems" | "maxProperties" => {
                    let size = match keyword.as_str() {
                        "minimum" | "maximum" => value.as_f64(),
                        "minLength" | "maxLength" => value.as_str().map(|text| text.chars().count() as f64),
                        "minItems" | "maxItems" => value.as_array().map(|items| items.len() as f64),
                        _ => value.as_object().map(|fields| fields.len() as f64),
                    };
                    let limit = rule.as_f64().unwrap();
                    if let Some(size) = size
                        && (if keyword.starts_with("min") { size < limit } else { size > limit })
                    {
                        fail(format!("{keyword} {limit}"));
                    }
                }
                "uniqueItems" => {
                    if let Some(items) = value.as_array()
                        && rule == true
                        && items.iter().enumerate().any(|(i, item)| items[..i].contains(item))
                    {
                        fail("items repeat".to_owned());
                    }
                }
                "required" => {
                    if let Some(object) = value.as_object() {
                        for name in rule.as_array().unwrap().iter().filter_map(Value::as_str) {
                            if !object.contains_key(name) {
                                fail(format!("missing required `{name}`"));
                            }
                        }
                    }
                }
                "items" => {
                    for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                        self.validate(rule, item, &format!("{at}[{i}]"), errors);
                    }
                }
                "properties" | "additionalProperties" | "allOf" | "oneOf" | "anyOf" => {}
                "$ref" | "description" | "title" | "format" | "default" | "deprecated" | "x-discord-union" => {}
                other => panic!("{at}: unsupported JSON Schema keyword `{other}`"),
            }
        }
        errors.append(&mut failures);
        self.validate_rest(schema, value, at, errors);
    }

    /// The keywords that recurse: properties, additional properties and the combinators.
    fn validate_rest(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        if let Some(object) = value.as_object() {
            let properties = schema["properties"].as_object();
            for (name, field) in object {
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => self.validate(property, field, &format!("{at}.{name}"), errors),
                    None => match &schema["additionalProperties"] {
                        Value::Bool(false) => errors.push(format!("{at}: unexpected field `{name}`")),
                        extra @ Value::Object(_) => self.validate(extra, field, &format!("{at}.{name}"), errors),
                        _ => {}
                    },
                }
            }
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.validate(part, value, at, errors);
        }
        for combinator in ["oneOf", "anyOf"] {
            if let Some(alternatives) = schema[combinator].as_array() {
                // At least one alternative (see SOURCE.md: unions are checked as `anyOf`).
                let fits = alternatives.iter().any(|alternative| {
                    let mut inner = Vec::new();
                    self.validate(alternative, value, at, &mut inner);
                    inner.is_empty()
                });
                if !fits {
                    errors.push(format!("{at}: matches none of the {combinator} alternatives (got {value})"));
                }
            }
        }
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unsupported JSON Schema type `{other}`"),
    }
}
