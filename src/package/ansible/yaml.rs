//! Text that reaches the generated YAML and the Jinja that Ansible evaluates in it.
//! Every user string goes through one of these: a YAML value is always a double-quoted
//! scalar (the one YAML style that can carry any text) and a comment is one printable line
//! (both shared with cloud-init, in `target::quote`), and literal text that Ansible will
//! template has its `{` written as a Jinja expression.

pub use crate::backend::quote::{yaml_comment as comment, yaml_string as quote};

/// Literal text inside a string Ansible templates: every `{` becomes the Jinja expression
/// `{{ '{' }}`, so no `{{`, `{%` or `{#` in the text can start a Jinja construct, and the
/// text renders back exactly as it was.
pub fn jinja_literal(text: &str) -> String {
    text.replace('{', "{{ '{' }}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jinja_literal_disarms_every_delimiter() {
        assert_eq!(jinja_literal("set a 'b'"), "set a 'b'");
        assert_eq!(jinja_literal("{{ x }} {% y %} {# z #}"), "{{ '{' }}{{ '{' }} x }} {{ '{' }}% y %} {{ '{' }}# z #}");
    }
}
