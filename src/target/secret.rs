//! Secrets in generated files. An intent holds only references (`psk = { env = "X" }`);
//! a file meant for review gets a placeholder that a deployment tool replaces, never the
//! value itself (INTENT.md §2.6).

use crate::model::SecretRef;

/// The placeholder for a secret reference: `@@natc-secret:env:VPC_TUNNEL1_PSK@@`,
/// `@@natc-secret:file:/etc/natc/psk1@@`. One fixed shape in every target, so one
/// `sed`/Ansible `replace` finds them all; targets quote it like any other value.
pub fn placeholder(secret: &SecretRef) -> String {
    match secret {
        SecretRef::Env(name) => format!("@@natc-secret:env:{name}@@"),
        SecretRef::File(path) => format!("@@natc-secret:file:{path}@@"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_name_their_reference() {
        assert_eq!(placeholder(&SecretRef::Env("PSK1".into())), "@@natc-secret:env:PSK1@@");
        assert_eq!(placeholder(&SecretRef::File("/etc/psk".into())), "@@natc-secret:file:/etc/psk@@");
    }
}
