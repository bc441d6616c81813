//! Limits of the intent format, shared by the reader (model/), the JSON Schema (schema/)
//! and the targets that must fit names into their own fields.

/// The intent file format version this natc reads (`natc = 1`).
pub const SCHEMA_VERSION: i64 = 1;

/// Names are `[a-z0-9-]+`, at most 40 characters, so that `gateway kind/name` fits in a
/// 128-byte nft comment.
pub const MAX_NAME: usize = 40;

/// Linux IFNAMSIZ less the terminating NUL; VyOS and RTX names are shorter still.
pub const MAX_INTERFACE: usize = 15;
