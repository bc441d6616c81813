//! Loading: TOML text → [`IntentFile`], with every serde error turned into a located diagnostic.

mod forms;
mod load;
mod types;

pub use load::parse;
pub use types::*;
