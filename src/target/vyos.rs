//! The VyOS target (being written; `target_for` still answers N302).
