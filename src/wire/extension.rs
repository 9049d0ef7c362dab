//! Unmodelled keys: captured as JSON object text on the way in, merged back on the way out.
//! Keys the output already has win, so an extension can never overwrite a server-set field.

use std::sync::Arc;

use serde_json::{Map, Value};

/// The extension text of a map of extra keys, or `None` if there are none.
pub fn extension_of(extra: &Map<String, Value>) -> Option<Arc<str>> {
    (!extra.is_empty()).then(|| Value::Object(extra.clone()).to_string().into())
}

/// Adds the keys of `extension` that `map` does not have.
pub fn merge_extension(map: &mut Map<String, Value>, extension: Option<&str>) {
    let Some(text) = extension else { return };
    if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(text) {
        for (k, v) in extra {
            map.entry(k).or_insert(v);
        }
    }
}
