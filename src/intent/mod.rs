//! Loading: TOML text → [`IntentFile`], with every serde error turned into a located diagnostic.

mod forms;
mod lab_types;
mod load;
mod types;

pub use load::parse;
pub use types::*;
