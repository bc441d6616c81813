//! The template engine: every template embedded in the binary, HTML escaping off, and one
//! quoting filter per output language.

use super::quote;
use crate::diag::{Code, Diagnostic};
use std::sync::OnceLock;
use tera::{Context, Kwargs, State, Tera};

static TEMPLATES: &[(&str, &str)] = &[
    ("common/header.tera", include_str!("../../templates/common/header.tera")),
    ("iptables/rules.tera", include_str!("../../templates/iptables/rules.tera")),
    ("nftables/ruleset.tera", include_str!("../../templates/nftables/ruleset.tera")),
    ("linux/setup.sh.tera", include_str!("../../templates/linux/setup.sh.tera")),
    ("linux/window-functions.tera", include_str!("../../templates/linux/window-functions.tera")),
    ("linux/window-args.tera", include_str!("../../templates/linux/window-args.tera")),
    ("linux/window-state.tera", include_str!("../../templates/linux/window-state.tera")),
    ("linux/window-timer.tera", include_str!("../../templates/linux/window-timer.tera")),
    ("firewalld/script.tera", include_str!("../../templates/firewalld/script.tera")),
    ("firewalld/guard.tera", include_str!("../../templates/firewalld/guard.tera")),
    ("firewalld/backend.tera", include_str!("../../templates/firewalld/backend.tera")),
    ("firewalld/apply.tera", include_str!("../../templates/firewalld/apply.tera")),
    ("firewalld/window.tera", include_str!("../../templates/firewalld/window.tera")),
    ("firewalld/direct.py", include_str!("../../templates/firewalld/direct.py")),
    ("vyos/commands.tera", include_str!("../../templates/vyos/commands.tera")),
    ("rtx/config.tera", include_str!("../../templates/rtx/config.tera")),
    ("strongswan/swanctl.conf.tera", include_str!("../../templates/strongswan/swanctl.conf.tera")),
    ("cloud-init/cloud-config.tera", include_str!("../../templates/cloud-init/cloud-config.tera")),
    ("cloud-init/unit.service.tera", include_str!("../../templates/cloud-init/unit.service.tera")),
    ("cloud-init/sysctl.conf.tera", include_str!("../../templates/cloud-init/sysctl.conf.tera")),
    ("ansible/header.tera", include_str!("../../templates/ansible/header.tera")),
    ("ansible/inventory.yml.tera", include_str!("../../templates/ansible/inventory.yml.tera")),
    ("ansible/site.yml.tera", include_str!("../../templates/ansible/site.yml.tera")),
    ("ansible/requirements.yml.tera", include_str!("../../templates/ansible/requirements.yml.tera")),
    ("ansible/natc_secrets.example.yml.tera", include_str!("../../templates/ansible/natc_secrets.example.yml.tera")),
    ("ansible/linux.yml.tera", include_str!("../../templates/ansible/linux.yml.tera")),
    ("ansible/linux-tasks.yml.tera", include_str!("../../templates/ansible/linux-tasks.yml.tera")),
    ("ansible/stop.yml.tera", include_str!("../../templates/ansible/stop.yml.tera")),
    ("ansible/sysctl.conf.tera", include_str!("../../templates/ansible/sysctl.conf.tera")),
    ("ansible/vyos.yml.tera", include_str!("../../templates/ansible/vyos.yml.tera")),
    ("ansible/rtx.yml.tera", include_str!("../../templates/ansible/rtx.yml.tera")),
    ("ansible/rtx.conf.j2.tera", include_str!("../../templates/ansible/rtx.conf.j2.tera")),
];

fn build() -> Tera {
    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    tera.register_filter("shell_quote", |s: &str, _: Kwargs, _: &State| quote::shell_quote(s));
    tera.register_filter("nft_string", |s: &str, _: Kwargs, _: &State| quote::nft_string(s));
    tera.register_filter("iptables_comment", |s: &str, _: Kwargs, _: &State| quote::iptables_comment(s));
    tera.register_filter("vyos_quote", |s: &str, _: Kwargs, _: &State| quote::vyos_quote(s));
    tera.register_filter("rtx_escape", |s: &str, _: Kwargs, _: &State| quote::rtx_escape(s));
    tera.register_filter("yaml_string", |s: &str, _: Kwargs, _: &State| quote::yaml_string(s));
    tera.register_filter("yaml_comment", |s: &str, _: Kwargs, _: &State| quote::yaml_comment(s));
    // The templates are part of the binary; a broken one is a bug caught by every test.
    tera.add_raw_templates(TEMPLATES.iter().copied()).expect("embedded templates are valid");
    tera
}

/// Render an embedded template. A failure is natc's bug, never the intent's, but it is
/// still reported as a diagnostic rather than a panic.
pub fn render(template: &str, view: &impl serde::Serialize) -> Result<String, Diagnostic> {
    static ENGINE: OnceLock<Tera> = OnceLock::new();
    let tera = ENGINE.get_or_init(build);
    let context = Context::from_serialize(view).map_err(|e| render_failed(e.to_string()))?;
    tera.render(template, &context).map_err(|e| render_failed(format!("{e:?}")))
}

/// Text too large for Tera's context, written in Rust into the slot the template leaves
/// for it: through the context, a 100k-rule list was copied into Tera's values, its output
/// buffer, and freed again, a tenth of a large build. The template keeps the file's shape
/// (what comes before and after, and the slot's place); `write` appends the text.
pub struct Fill<'a> {
    /// What `write` appends, or a guess: the output is sized by it up front.
    pub size: usize,
    pub write: Box<dyn FnOnce(&mut String) + 'a>,
}

/// The marker a view shows where fill `index` goes. A NUL reaches no output (natc refuses
/// it in free text and names), so the marker cannot be mistaken for text.
pub fn slot(index: usize) -> String {
    format!("{SLOT_PREFIX}{index}\0")
}

const SLOT_PREFIX: &str = "\0natc-slot:";

/// [`render`], then each fill written into its slot ([`slot`]`(i)` for `fills[i]`, in
/// order in the template, each once). Slots are found from the end: after the last one the
/// template writes only natc's own text, so the slot found is the template's own.
pub fn render_spliced(template: &str, view: &impl serde::Serialize, fills: Vec<Fill>) -> Result<String, Diagnostic> {
    splice(template, &render(template, view)?, fills)
}

fn splice(template: &str, shape: &str, fills: Vec<Fill>) -> Result<String, Diagnostic> {
    let mut at = Vec::with_capacity(fills.len());
    let mut end = shape.len();
    for i in (0..fills.len()).rev() {
        let marker = slot(i);
        let Some(start) = shape[..end].rfind(&marker) else {
            return Err(render_failed(format!("{template} has no slot for fill {i}")));
        };
        at.push((start, start + marker.len()));
        end = start;
    }
    at.reverse();
    // A slot without its fill would leave a marker in the output.
    if shape.matches(SLOT_PREFIX).count() != fills.len() {
        return Err(render_failed(format!("{template} has a slot that no fill writes")));
    }
    let mut text = String::with_capacity(shape.len() + fills.iter().map(|f| f.size).sum::<usize>());
    let mut from = 0;
    for (fill, (start, end)) in fills.into_iter().zip(at) {
        text.push_str(&shape[from..start]);
        (fill.write)(&mut text);
        from = end;
    }
    text.push_str(&shape[from..]);
    Ok(text)
}

pub(crate) fn render_failed(message: String) -> Diagnostic {
    Diagnostic::error(Code::INTERNAL, format!("internal error while rendering: {message}"))
        .help("this is a bug in natc; please report it with the intent file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile() {
        super::build();
    }

    fn fill(text: &str) -> Fill<'_> {
        Fill { size: text.len(), write: Box::new(move |out: &mut String| out.push_str(text)) }
    }

    /// Each fill lands in its own slot; a slot without a fill, or a fill without a slot,
    /// is an error rather than a marker left in a file.
    #[test]
    fn fills_go_into_their_slots() {
        let shape = format!("a{}b{}c", slot(0), slot(1));
        assert_eq!(splice("t", &shape, vec![fill("X"), fill("Y")]).unwrap(), "aXbYc");
        assert!(splice("t", &shape, vec![fill("X")]).is_err(), "slot 1 without a fill");
        assert!(splice("t", &shape, vec![fill("X"), fill("Y"), fill("Z")]).is_err(), "fill 2 without a slot");
        let swapped = format!("a{}b{}c", slot(1), slot(0));
        assert!(splice("t", &swapped, vec![fill("X"), fill("Y")]).is_err(), "slots out of order");
    }
}
