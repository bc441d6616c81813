//! `natc schema`: the JSON Schema of the intent file, for editors (Taplo / Even Better TOML)
//! and validators. It is derived from the serde types in `intent/` (`intent::schema_json`
//! names the root type, so this module sits below `intent`), so it follows their keys; the
//! value forms those types name come from `schema/forms.rs`. Draft-07, the draft every TOML editor
//! plugin reads; its `$ref`s are wrapped in `allOf` so that a field's description survives.

pub mod forms;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};

/// The schema as pretty JSON with a trailing newline. Deterministic: the same natc prints
/// the same bytes (schema/natc-intent.schema.json is this text, checked by tests/schema.rs).
pub fn schema_json<Root: JsonSchema>() -> String {
    let mut settings = SchemaSettings::draft07();
    settings.transforms.push(Box::new(RecursiveTransform(without_null)));
    let schema = settings.into_generator().into_root_schema_for::<Root>();
    // A Schema is a JSON value, whose serialisation cannot fail; were it to, an empty schema
    // (which accepts everything) is the harmless answer.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// TOML has no null, so the `null` that schemars adds for every `Option` field only offers
/// editors a value that cannot be written. An optional key is one left out of `required`.
fn without_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else { return };
    if let Some(types) = object.get_mut("type").and_then(|t| t.as_array_mut()) {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(any_of) = object.get_mut("anyOf").and_then(|a| a.as_array_mut()) {
        any_of.retain(|s| s.get("type").is_none_or(|t| t != "null"));
        if any_of.len() == 1 {
            // One alternative left: `allOf` keeps it beside the field's description.
            let only = any_of.clone();
            object.remove("anyOf");
            object.insert("allOf".into(), only.into());
        }
    }
}
