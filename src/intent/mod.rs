//! Loading: TOML text → [`IntentFile`], with every serde error turned into a located diagnostic.

mod lab_types;
mod load;
mod pieces;
mod plain;
pub mod read;
mod reserved;
mod shift;
mod split;
mod types;

pub use load::{parse, parse_whole};
pub use read::{ReadError, Source, read_intent};
pub use reserved::{PLACEHOLDER_PREFIX, placeholder_text};
pub use types::*;

/// `natc schema`: the JSON Schema of the intent file, derived from these serde types.
pub fn schema_json() -> String {
    crate::schema::schema_json::<IntentFile>()
}
