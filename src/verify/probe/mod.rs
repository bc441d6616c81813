//! Real packets between lab namespaces: senders, listeners and raw-socket observers.
