//! Validates REST request bodies against Discord's published OpenAPI description (the part the
//! tests use, kept in `tests/fixtures/discord-api-spec/`, MIT): the operation is found from the
//! method and the concrete path, and the body is checked against that operation's JSON request
//! schema. A payload Discord would reject is a test failure.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;

pub struct Spec {
    doc: Value,
    /// (method, path template) → compiled validator (None: operation has no JSON body schema).
    validators: Mutex<HashMap<(String, String), Option<std::sync::Arc<jsonschema::Validator>>>>,
}

pub fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/discord-api-spec/openapi.json")
}

impl Spec {
    pub fn load() -> Spec {
        let path = spec_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (the Discord OpenAPI subset ships in tests/fixtures)", path.display()));
        let doc: Value = serde_json::from_str(&text).expect("openapi.json is JSON");
        Spec { doc, validators: Mutex::new(HashMap::new()) }
    }

    /// The path template of the operation `method path` (path without `/api/v10`), if the spec
    /// has one. Literal segments beat parameters (`…/messages/pins` over `…/messages/{id}`).
    pub fn operation(&self, method: &str, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        let mut best: Option<(usize, &String)> = None;
        for (template, item) in paths {
            if item.get(method.to_lowercase()).is_none() {
                continue;
            }
            let t: Vec<&str> = template.trim_matches('/').split('/').collect();
            if t.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let matches = t.iter().zip(&segs).all(|(a, b)| {
                if a.starts_with('{') {
                    true
                } else if a == b {
                    literal += 1;
                    true
                } else {
                    false
                }
            });
            if matches && best.is_none_or(|(l, _)| literal > l) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    /// Checks `body` against the request schema of `method template`. Errors are readable
    /// strings naming the failing location.
    pub fn validate(&self, method: &str, template: &str, body: &Value) -> Result<(), Vec<String>> {
        let key = (method.to_lowercase(), template.to_owned());
        if self.doc["paths"][template][&key.0]["x-isnad-omitted"] == Value::Bool(true) {
            return Err(vec![format!(
                "{method} {template} is in Discord's API but not in the test subset of the spec \
                 (add it to tests/fixtures/discord-api-spec/subset.py and regenerate)"
            )]);
        }
        let validator = {
            let mut cache = self.validators.lock().unwrap();
            cache.entry(key.clone()).or_insert_with(|| self.compile(&key.0, template).map(std::sync::Arc::new)).clone()
        };
        let Some(v) = validator else {
            return if body.is_null() { Ok(()) } else { Err(vec![format!("{method} {template} takes no JSON body")]) };
        };
        let body = &tolerate_documented_deviations(body.clone());
        let errors: Vec<String> = v.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    #[allow(clippy::needless_pass_by_value)]
    fn compile(&self, method: &str, template: &str) -> Option<jsonschema::Validator> {
        let schema = self.doc["paths"][template][method]["requestBody"]["content"]["application/json"]["schema"].clone();
        if schema.is_null() {
            return None;
        }
        // the whole document is the root, so `#/components/schemas/…` references resolve
        let mut root = self.doc.clone();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema".into();
        root["allOf"] = Value::Array(vec![schema]);
        Some(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema of {method} {template} does not compile: {e}")),
        )
    }
}

/// The one place where the spec and Discord's own reference disagree and Discord follows its
/// reference: `default_member_permissions` is typed `integer` in openapi.json but documented as
/// a string bitfield ("Application Commands" → "Application Command Object"), which serenity
/// sends and Discord accepts. A string of digits is read as the integer it spells; anything
/// else is left as is (and fails).
fn tolerate_documented_deviations(mut body: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if k == "default_member_permissions" {
                        if let Some(n) = child.as_str().and_then(|s| s.parse::<u64>().ok()) {
                            *child = Value::from(n);
                        }
                    }
                    walk(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut body);
    body
}
