pub mod diag;
pub mod intent;
pub mod model;
pub mod target;
