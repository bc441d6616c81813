//! How each device takes a change back when it locks its operator out: the words the
//! headers and change scripts use (docs/deploy.md, "Apply with automatic rollback"). The
//! Linux scripts' own window is in templates/linux/setup.sh.tera.

/// VyOS: `commit-confirm N` commits for N minutes; without `confirm` in that time VyOS 1.4
/// reboots into the saved configuration (1.5 can reload it instead), so the saved
/// configuration must still be the known-good one: `save` only after `confirm`.
pub const VYOS_MINUTES: u32 = 10;

pub fn vyos_apply(paste: &str) -> String {
    format!("configure, {paste}, `compare`, `commit-confirm {VYOS_MINUTES}`, check your access, `confirm`, then `save`")
}

pub const VYOS_NOTES: [&str; 2] = [
    "Rollback: without `confirm` within the minutes of commit-confirm, VyOS 1.4 reboots into the saved config",
    "(1.5: `set system config-management commit-confirm action reload` reloads it instead); so `save` only after `confirm`.",
];

/// Yamaha RTX: no commit-confirm and no timer natc relies on. A line takes effect when it
/// is entered and is lost at restart unless saved: the saved configuration is the fallback.
pub const RTX_NOTES: [&str; 2] = [
    "Rollback: the RTX has no commit-confirm; each line acts when entered, and `restart` boots the saved config again.",
    "So `save` only after checking (show config, traffic, your own access); if a line cuts you off, restart from the console.",
];
