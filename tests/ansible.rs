//! `natc build --package ansible` through the real binary and real Ansible: every example
//! and a 30-gateway fleet pass `ansible-playbook --syntax-check`, their inventories put
//! every gateway in its platform's group, the Linux playbook really runs (in a throwaway
//! network namespace) and is idempotent, and the pre-shared keys reach the device lines
//! exactly as natc quotes them, from Vault, without natc ever writing a value.
//!
//! These tests fail, never skip, when Ansible is missing: scripts/test.sh installs it.

mod common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

fn natc() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("natc"))
}

fn require_ansible() {
    for tool in ["ansible-playbook", "ansible-inventory", "ansible-vault"] {
        let found = Process::new("sh").args(["-c", &format!("command -v {tool}")]).output().expect("sh runs").status;
        assert!(found.success(), "`{tool}` is missing: scripts/test.sh installs Ansible (Debian's `ansible` package)");
    }
}

/// Run an Ansible tool; panics with its output unless it succeeds. Returns stdout.
fn ansible(tool: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
    let (ok, stdout, stderr) = ansible_run(tool, args, env);
    assert!(ok, "{tool} {} failed:\n--- stdout\n{stdout}\n--- stderr\n{stderr}", args.join(" "));
    stdout
}

/// Run an Ansible tool: whether it succeeded, its stdout and its stderr.
fn ansible_run(tool: &str, args: &[&str], env: &[(&str, &Path)]) -> (bool, String, String) {
    let mut cmd = Process::new(tool);
    cmd.args(args).env("ANSIBLE_NOCOLOR", "1").env("ANSIBLE_RETRY_FILES_ENABLED", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{tool} does not run: {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// Test doubles for the device modules, in a collections path of their own: Galaxy (where
/// yamaha_network.rtx lives) is out of reach here, and the VyOS module needs a router.
/// Each has the real module's options (names, types, choices and exclusions from its
/// documentation), so Ansible validates what the playbooks pass, and records the final,
/// templated arguments in `$NATC_STUB_OUT/<module>.json` instead of talking to a device.
/// The RTX stub's action plugin is ansible.netcommon's own network action, which reads
/// and templates `src` as the real one does. `shadow_vyos` replaces the real vyos.vyos.
fn stub_collections(dir: &Path, shadow_vyos: bool) -> PathBuf {
    let root = dir.join("collections");
    let record = r#"
import json, os
from ansible.module_utils.basic import AnsibleModule


def record(name, spec, **kwargs):
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
    out = os.environ.get("NATC_STUB_OUT")
    if out:
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(module.params, f)
    module.exit_json(changed=False)
"#;
    let rtx = r#"
DOCUMENTATION = "module: rtx_config\nshort_description: natc test double\n"
from ansible_collections.yamaha_network.rtx.plugins.module_utils.record import record
backup_spec = dict(filename=dict(), dir_path=dict(type="path"))
spec = dict(
    src=dict(type="path"), lines=dict(aliases=["commands"], type="list", elements="str"),
    parents=dict(type="list", elements="str"), before=dict(type="list", elements="str"),
    after=dict(type="list", elements="str"),
    match=dict(default="line", choices=["line", "strict", "exact", "none"]),
    replace=dict(default="line", choices=["line", "block"]),
    running_config=dict(aliases=["config"]), intended_config=dict(),
    backup=dict(type="bool", default=False), backup_options=dict(type="dict", options=backup_spec),
    save_when=dict(choices=["always", "never", "changed"], default="never"),
    diff_against=dict(choices=["intended", "running"]), diff_ignore_lines=dict(type="list", elements="str"),
)
if __name__ == "__main__":
    record("rtx_config", spec, mutually_exclusive=[("lines", "src"), ("parents", "src")])
"#;
    let rtx_action = r#"
from ansible_collections.ansible.netcommon.plugins.action.network import ActionModule as ActionNetworkModule


class ActionModule(ActionNetworkModule):
    def run(self, tmp=None, task_vars=None):
        self._config_module = True
        return super(ActionModule, self).run(task_vars=task_vars)
"#;
    let vyos = r#"
DOCUMENTATION = "module: vyos_config\nshort_description: natc test double\n"
from ansible_collections.vyos.vyos.plugins.module_utils.record import record
backup_spec = dict(filename=dict(), dir_path=dict(type="path"))
spec = dict(
    src=dict(type="path"), lines=dict(type="list", elements="str"),
    match=dict(default="line", choices=["line", "none"]), comment=dict(default="configured by vyos_config"),
    config=dict(), backup=dict(type="bool", default=False),
    backup_options=dict(type="dict", options=backup_spec), save=dict(type="bool", default=False),
)
if __name__ == "__main__":
    record("vyos_config", spec, mutually_exclusive=[("lines", "src")])
"#;
    let mut files = vec![
        ("yamaha_network/rtx/plugins/module_utils/record.py", record),
        ("yamaha_network/rtx/plugins/modules/rtx_config.py", rtx),
        ("yamaha_network/rtx/plugins/action/rtx_config.py", rtx_action),
    ];
    if shadow_vyos {
        files.push(("vyos/vyos/plugins/module_utils/record.py", record));
        files.push(("vyos/vyos/plugins/modules/vyos_config.py", vyos));
    }
    for (path, text) in files {
        let full = root.join("ansible_collections").join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write stub");
    }
    root
}

/// The inventory group natc puts a target's gateways in.
fn group_of(target: &str) -> &'static str {
    match target.split('@').next().unwrap_or(target) {
        "vyos" => "natc_vyos",
        "rtx" => "natc_rtx",
        _ => "natc_linux",
    }
}

/// Every check a generated tree must pass as a whole: syntax, the inventory's groups, the
/// hosts and tasks of site.yml. `expected` is each gateway with its group.
fn check_tree(dir: &Path, expected: &[(String, &str)], collections: &Path) {
    let env = [("ANSIBLE_COLLECTIONS_PATH", collections)];
    let inventory = dir.join("inventory.yml");
    let inventory = inventory.to_str().expect("utf-8 path");
    let site = dir.join("site.yml");
    let site = site.to_str().expect("utf-8 path");
    ansible("ansible-playbook", &["--syntax-check", "-i", inventory, site], &env);
    let listed: serde_json::Value =
        serde_json::from_str(&ansible("ansible-inventory", &["-i", inventory, "--list"], &env)).expect("json");
    for (gateway, group) in expected {
        let hosts = listed[group]["hosts"].as_array().unwrap_or_else(|| panic!("no group {group} in {listed}"));
        assert!(hosts.iter().any(|h| h == gateway.as_str()), "{gateway} is not in {group}: {hosts:?}");
        let vars = &listed["_meta"]["hostvars"][gateway];
        let connection = vars["ansible_connection"].as_str().unwrap_or_default();
        match *group {
            "natc_linux" => assert_eq!(connection, "ansible.builtin.ssh"),
            _ => assert_eq!(connection, "ansible.netcommon.network_cli", "{gateway}: {vars}"),
        }
        assert!(dir.join(format!("gateway-{gateway}.yml")).is_file(), "no playbook for {gateway}");
    }
    let hosts = ansible("ansible-playbook", &["--list-hosts", "-i", inventory, site], &env);
    let tasks = ansible("ansible-playbook", &["--list-tasks", "-i", inventory, site], &env);
    let site_text = std::fs::read_to_string(site).expect("site.yml");
    let mut linux_checked = false;
    for (gateway, group) in expected {
        assert!(hosts.lines().any(|l| l.trim() == gateway), "{gateway} is not listed by --list-hosts:\n{hosts}");
        if *group == "natc_linux" {
            // site.yml's rollout play runs the gateway's own task file (included per host,
            // so --list-tasks of site.yml shows the include); its playbook imports the same file.
            assert!(
                site_text.contains(&format!("\n      \"{gateway}\": \"natc-")),
                "{gateway} has no task file in the rollout play:\n{site_text}"
            );
            assert!(tasks.contains("natc: the gateway's tasks"), "no rollout play:\n{tasks}");
            if !linux_checked {
                linux_checked = true;
                let own = dir.join(format!("gateway-{gateway}.yml"));
                let own =
                    ansible("ansible-playbook", &["--list-tasks", "-i", inventory, own.to_str().expect("utf-8")], &env);
                for task in ["natc: configuration directory", "natc: apply with a confirmation window", "natc: confirm"]
                {
                    assert!(own.contains(task), "no `{task}` task for {gateway}:\n{own}");
                }
            }
            continue;
        }
        assert!(tasks.contains(&format!("({gateway}): natc ")), "no play for {gateway}:\n{tasks}");
        let task = match *group {
            "natc_vyos" => "natc: VyOS configuration",
            _ => "natc: RTX configuration",
        };
        assert!(tasks.contains(task), "no `{task}` task:\n{tasks}");
    }
}

/// The target names an example's gateways declare, in order of appearance.
fn declared_targets(intent: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(intent).expect("readable");
    let value: toml::Value = toml::from_str(&text).expect("toml");
    value["gateway"]
        .as_array()
        .expect("gateways")
        .iter()
        .map(|g| {
            g.get("targets")
                .and_then(|t| t.as_array())
                .map(|t| t.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        })
        .collect()
}

fn gateway_names(intent: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(intent).expect("readable");
    let value: toml::Value = toml::from_str(&text).expect("toml");
    value["gateway"].as_array().expect("gateways").iter().map(|g| g["name"].as_str().expect("name").into()).collect()
}

/// One example: for every target its gateways declare, the Ansible packaging succeeds
/// exactly when the native build does, and what it writes passes [`check_tree`]. Without
/// `--target`, it succeeds when each gateway declares one target, and otherwise says how
/// to choose.
fn check_example(intent: &Path, work: &Path, collections: &Path) {
    let name = common::stem(intent);
    let declared = declared_targets(intent);
    let gateways = gateway_names(intent);
    let mut targets: Vec<String> = declared.iter().flatten().cloned().collect();
    targets.sort();
    targets.dedup();
    for target in &targets {
        let native = natc().args(["build", "-t", target]).arg(intent).output().expect("natc runs");
        let out = work.join(format!("{name}-{target}"));
        let packaged = natc()
            .args(["build", "--package", "ansible", "-t", target, "-o"])
            .arg(&out)
            .arg(intent)
            .output()
            .expect("runs");
        if target == "strongswan" && native.status.success() {
            // Not packaged yet: refused with N304, nothing written (docs/tunnels.md).
            let stderr = String::from_utf8_lossy(&packaged.stderr);
            assert!(packaged.status.code() == Some(1) && stderr.contains("N304"), "{name}: {stderr}");
            assert!(!out.exists(), "{name} -t strongswan: a refused build wrote {}", out.display());
            continue;
        }
        assert_eq!(
            native.status.code(),
            packaged.status.code(),
            "{name} -t {target}: native and ansible builds disagree:\n{}",
            String::from_utf8_lossy(&packaged.stderr)
        );
        if packaged.status.success() {
            let expected: Vec<(String, &str)> = gateways.iter().map(|g| (g.clone(), group_of(target))).collect();
            check_tree(&out, &expected, collections);
        } else {
            assert!(!out.exists(), "{name} -t {target}: a failed build wrote {}", out.display());
        }
    }
    let out = work.join(format!("{name}-declared"));
    let packaged = natc().args(["build", "--package", "ansible", "-o"]).arg(&out).arg(intent).output().expect("runs");
    if declared.iter().all(|t| t.len() == 1) {
        assert!(packaged.status.success(), "{name}: {}", String::from_utf8_lossy(&packaged.stderr));
        let expected: Vec<(String, &str)> =
            gateways.iter().zip(&declared).map(|(g, t)| (g.clone(), group_of(&t[0]))).collect();
        check_tree(&out, &expected, collections);
    } else {
        assert_eq!(packaged.status.code(), Some(1), "{name}: several targets per gateway must be refused");
        let stderr = String::from_utf8_lossy(&packaged.stderr);
        assert!(stderr.contains("deploys one target per gateway"), "{name}: {stderr}");
        assert!(!out.exists(), "{name}: a refused build wrote files");
    }
}

#[test]
fn every_example_packages_into_playbooks_ansible_accepts() {
    require_ansible();
    let work = tempfile::tempdir().expect("tempdir");
    let collections = stub_collections(work.path(), false);
    std::thread::scope(|scope| {
        for intent in common::examples() {
            let (work, collections) = (work.path(), &collections);
            scope.spawn(move || check_example(&intent, work, collections));
        }
    });
}

/// 30 gateways, a third each on Linux (nftables, iptables, firewalld in turn), VyOS and
/// RTX; every fifth network device has an IPsec tunnel with a key from the environment.
fn fleet_intent() -> (String, Vec<(String, &'static str)>) {
    let mut text = String::from(
        "natc = 1\nname = \"fleet\"\ndescription = \"30 gateways: \\\"quoted\\\" # not a comment {{ not jinja }}\"\n",
    );
    let mut expected = Vec::new();
    for i in 0..30u32 {
        let name = format!("gw-{i:02}");
        let (target, lan, wan) = match i % 3 {
            0 => (["nftables", "iptables", "firewalld"][(i / 3 % 3) as usize], "eth1", "eth0"),
            1 => ("vyos", "eth1", "eth0"),
            _ => ("rtx", "lan1", "lan2"),
        };
        text.push_str(&format!(
            "\n[[gateway]]\nname = \"{name}\"\ntargets = [\"{target}\"]\ndescription = \"site {i}: it's {{% raw %}} & \\t ok\"\n\
             [[gateway.interface]]\nname = \"{lan}\"\naddress = \"10.{i}.0.1/24\"\n\
             [[gateway.interface]]\nname = \"{wan}\"\naddress = \"198.18.{i}.2/24\"\n\
             [[gateway.snat]]\nname = \"masquerade\"\nsource = \"10.{i}.0.0/24\"\nout_interface = \"{wan}\"\nto = \"masquerade\"\n\
             [[gateway.route]]\nto = \"0.0.0.0/0\"\nvia = \"198.18.{i}.1\"\n"
        ));
        if (i % 5 == 1 || i % 5 == 2) && i % 3 != 0 {
            let vti = if target == "rtx" { "tunnel1" } else { "vti0" };
            text.push_str(&format!(
                "[[gateway.tunnel]]\nname = \"vpc\"\nremote = \"203.0.113.{i}\"\nlocal_address = \"198.18.{i}.2\"\n\
                 psk = {{ env = \"FLEET_PSK_{i}\" }}\n\
                 ike = {{ version = 2, encryption = \"aes256\", hash = \"sha256\", dh_group = 14, lifetime = 28800 }}\n\
                 esp = {{ encryption = \"aes256\", hash = \"sha256\", pfs = true, lifetime = 3600 }}\n\
                 vti = {{ name = \"{vti}\", address = \"169.254.{i}.2/30\" }}\n"
            ));
        }
        expected.push((name, group_of(target)));
    }
    (text, expected)
}

#[test]
fn a_fleet_of_thirty_gateways_is_one_inventory_and_one_site_playbook() {
    require_ansible();
    let work = tempfile::tempdir().expect("tempdir");
    let collections = stub_collections(work.path(), false);
    let (text, expected) = fleet_intent();
    let intent = work.path().join("fleet.toml");
    std::fs::write(&intent, &text).expect("write intent");
    let out = work.path().join("out");
    let built = natc().args(["build", "--package", "ansible", "-o"]).arg(&out).arg(&intent).output().expect("runs");
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    check_tree(&out, &expected, &collections);
    let site = std::fs::read_to_string(out.join("site.yml")).expect("site.yml");
    // The 10 Linux gateways in one rollout play (in intent order), the 20 others imported.
    let imports: Vec<&str> = site.lines().filter(|l| l.contains("import_playbook")).collect();
    assert_eq!(imports.len(), 20, "{site}");
    let linux: Vec<String> = (0..30).filter(|i| i % 3 == 0).map(|i| format!("    - \"gw-{i:02}\"")).collect();
    let listed: Vec<&str> = site.lines().filter(|l| l.starts_with("    - \"gw-")).collect();
    assert_eq!(listed, linux, "{site}");
    let example = std::fs::read_to_string(out.join("group_vars/all/natc_secrets.example.yml")).expect("example");
    for i in (0..30).filter(|i| (i % 5 == 1 || i % 5 == 2) && i % 3 != 0) {
        assert!(example.contains(&format!("# natc_secret_fleet_psk_{i}: ")), "{example}");
    }
    // Deterministic: a second build into another directory writes the same bytes.
    let again = work.path().join("again");
    natc().args(["build", "--package", "ansible", "-o"]).arg(&again).arg(&intent).assert().success();
    natc().args(["build", "--package", "ansible", "--check", "-o"]).arg(&out).arg(&intent).assert().success();
    for entry in walk(&out) {
        let relative = entry.strip_prefix(&out).expect("inside");
        assert_eq!(
            std::fs::read(&entry).expect("read"),
            std::fs::read(again.join(relative)).expect("same file in the second build"),
            "{} differs between two builds",
            relative.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files.sort();
    files
}

/// A value with everything that needs quoting on a device line and in Jinja.
const NASTY_KEY: &str = "it's a \"key\" #1 \\ |>? {{ not_a_var }} {% raw %}";

/// `natc build` with the given environment; panics unless it succeeds. Returns stdout.
fn build_with(args: &[&str], intent: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = natc();
    cmd.args(args).arg(intent);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("natc runs");
    assert!(out.status.success(), "natc {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn no_secret_value_reaches_the_ansible_files_and_inline_secrets_are_refused() {
    let work = tempfile::tempdir().expect("tempdir");
    let intent = common::root().join("examples/seed-004-vyos-rtx.toml");
    let env = [("VPC_TUNNEL1_PSK", "natc-test-VALUE-one"), ("VPC_TUNNEL2_PSK", "natc-test-VALUE-two")];
    let out = work.path().join("out");
    build_with(&["build", "--package", "ansible", "-o", out.to_str().expect("utf-8")], &intent, &env);
    let mut seen = 0;
    for file in walk(&out) {
        let text = std::fs::read_to_string(&file).expect("text");
        assert!(!text.contains("natc-test-VALUE"), "{} holds a secret value", file.display());
        assert!(!text.contains("@@natc-secret:env:"), "{} holds a placeholder", file.display());
        seen += text.matches("natc_secret_vpc_tunnel").count();
    }
    assert!(seen >= 4, "the keys should be referenced as variables");
    let example = std::fs::read_to_string(out.join("group_vars/all/natc_secrets.example.yml")).expect("example");
    assert!(example.contains("# env:VPC_TUNNEL1_PSK, used by vyos-project-a\n# natc_secret_vpc_tunnel1_psk: \"...\""));
    // --secrets inline would put the values into the playbooks: refused, nothing written.
    let refused = work.path().join("refused");
    let mut cmd = natc();
    cmd.args(["build", "--package", "ansible", "--secrets", "inline", "-o"]).arg(&refused).arg(&intent);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("natc runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("build without --secrets inline"), "{stderr}");
    assert!(!stderr.contains("natc-test-VALUE"), "{stderr}");
    assert!(!refused.exists(), "a refused build wrote files");
}

/// A vars file with the keys, encrypted with ansible-vault as docs/deploy.md says: the
/// values are `!unsafe` because they contain Jinja delimiters.
fn vault_vars(dir: &Path, vars: &[(&str, &str)]) -> (PathBuf, PathBuf) {
    let quoted = |v: &str| format!("'{}'", v.replace('\'', "''"));
    let text: String = vars.iter().map(|(k, v)| format!("{k}: !unsafe {}\n", quoted(v))).collect();
    let file = dir.join("secrets.yml");
    let password = dir.join("vault-password");
    std::fs::write(&file, text).expect("write vars");
    std::fs::write(&password, "natc-test-vault-password\n").expect("write password");
    ansible(
        "ansible-vault",
        &["encrypt", "--vault-password-file", password.to_str().expect("utf-8"), file.to_str().expect("utf-8")],
        &[],
    );
    assert!(std::fs::read_to_string(&file).expect("vault").starts_with("$ANSIBLE_VAULT;"));
    (file, password)
}

/// Run `playbook` against a local stand-in for `host` with the stub modules. Returns the
/// arguments the named module received, or the run's output when it failed.
fn run_against_stub(
    dir: &Path,
    playbook: &Path,
    host: &str,
    vars: &[(&str, &str)],
    module: &str,
) -> Result<serde_json::Value, String> {
    let collections = stub_collections(&dir.join("stubs"), true);
    let record = dir.join("record");
    let _ = std::fs::remove_dir_all(&record);
    std::fs::create_dir_all(&record).expect("mkdir");
    let inventory = dir.join("local.yml");
    std::fs::write(
        &inventory,
        format!(
            "all:\n  hosts:\n    {host}:\n      ansible_connection: local\n      ansible_host: 127.0.0.1\n      \
             ansible_python_interpreter: /usr/bin/python3\n"
        ),
    )
    .expect("write inventory");
    let (vars_file, password) = vault_vars(dir, vars);
    let (ok, stdout, stderr) = ansible_run(
        "ansible-playbook",
        &[
            "-i",
            inventory.to_str().expect("utf-8"),
            playbook.to_str().expect("utf-8"),
            "-e",
            &format!("@{}", vars_file.display()),
            "--vault-password-file",
            password.to_str().expect("utf-8"),
        ],
        &[("ANSIBLE_COLLECTIONS_PATH", &collections), ("NATC_STUB_OUT", &record)],
    );
    for (_, value) in vars {
        assert!(
            !stdout.contains(value) && !stderr.contains(value),
            "a key reached Ansible's output:\n{stdout}\n{stderr}"
        );
    }
    if !ok {
        return Err(format!("{stdout}\n{stderr}"));
    }
    let recorded = std::fs::read_to_string(record.join(format!("{module}.json")))
        .unwrap_or_else(|_| panic!("{module} was not called:\n{stdout}"));
    Ok(serde_json::from_str(&recorded).expect("json"))
}

#[test]
fn vyos_keys_from_vault_give_the_lines_natc_would_inline() {
    require_ansible();
    let work = tempfile::tempdir().expect("tempdir");
    // seed-004 with an interface description full of Jinja and quotes: literal text.
    let seed = std::fs::read_to_string(common::root().join("examples/seed-004-vyos-rtx.toml")).expect("seed");
    let text = seed.replace("office LAN (behind the RTX1200 NAT)", "office {{ lan }} {% x %} {# y #} it's");
    assert_ne!(seed, text);
    let intent = work.path().join("vyos.toml");
    std::fs::write(&intent, text).expect("write intent");
    let keys = [("VPC_TUNNEL1_PSK", NASTY_KEY), ("VPC_TUNNEL2_PSK", "plain-key-2")];
    let native = build_with(&["build", "-g", "vyos-project-a", "--secrets", "inline"], &intent, &keys);
    let expected: Vec<&str> = native.lines().filter(|l| l.starts_with("set ")).collect();
    assert!(expected.iter().any(|l| l.contains("it'\\''s a \"key\"")), "{native}");
    let out = work.path().join("out");
    build_with(&["build", "--package", "ansible", "-o", out.to_str().expect("utf-8")], &intent, &[]);
    let vars = [("natc_secret_vpc_tunnel1_psk", NASTY_KEY), ("natc_secret_vpc_tunnel2_psk", "plain-key-2")];
    let args = run_against_stub(work.path(), &out.join("site.yml"), "vyos-project-a", &vars, "vyos_config")
        .unwrap_or_else(|e| panic!("the VyOS playbook failed:\n{e}"));
    let lines: Vec<&str> = args["lines"].as_array().expect("lines").iter().map(|l| l.as_str().expect("str")).collect();
    assert_eq!(lines, expected, "the playbook's lines differ from natc's own");
    assert_eq!(args["save"], true);
    assert_eq!(args["match"], "line");
}

/// An RTX key with every character RTX escapes (no braces: see the second half).
const RTX_KEY: &str = "rtx #1 'k\"y' \\ |>? end";

#[test]
fn rtx_keys_from_vault_give_the_config_natc_would_inline() {
    require_ansible();
    let work = tempfile::tempdir().expect("tempdir");
    let intent = common::root().join("tests/rtx/rtx-vpn.toml");
    std::fs::write(work.path().join("psk"), format!("{RTX_KEY}\n")).expect("write key");
    // The intent names /etc/natc/cloud #1.psk; --secrets inline reads it relative to a copy.
    let text = std::fs::read_to_string(&intent).expect("intent").replace("/etc/natc/cloud #1.psk", "psk");
    let copy = work.path().join("rtx-vpn.toml");
    std::fs::write(&copy, text).expect("write intent");
    let native = build_with(&["build", "--secrets", "inline"], &copy, &[]);
    let config = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty() && *l != "tunnel select none")
            .map(str::to_string)
            .collect()
    };
    let expected = config(&native);
    assert!(expected.iter().any(|l| l.ends_with(r#"text rtx\ \#1\ \'k\"y\'\ \\\ \|\>\?\ end"#)), "{native}");
    let out = work.path().join("out");
    build_with(&["build", "--package", "ansible", "-o", out.to_str().expect("utf-8")], &copy, &[]);
    let playbook = out.join("gateway-hq-rtx.yml");
    let args = run_against_stub(work.path(), &playbook, "hq-rtx", &[("natc_secret_file_psk", RTX_KEY)], "rtx_config")
        .unwrap_or_else(|e| panic!("the RTX playbook failed:\n{e}"));
    // The module got the rendered file: natc's lines, the key filled in, no comment left.
    let src = args["src"].as_str().expect("src");
    assert!(!src.contains('#') || src.contains("\\#1"), "comments reached the device:\n{src}");
    assert_eq!(config(src), expected, "the rendered src differs from natc's own");
    assert_eq!(args["after"], serde_json::json!(["tunnel select none"]));
    assert_eq!(args["save_when"], "changed");
    // A key that a netcommon still templating `src` would read as Jinja is refused, by name.
    let refused =
        run_against_stub(work.path(), &playbook, "hq-rtx", &[("natc_secret_file_psk", "a {{ b }}")], "rtx_config");
    let output = refused.expect_err("a key with {{ must be refused");
    assert!(output.contains("natc_rtx_escape: the pre-shared key contains {{"), "{output}");
}

/// A gateway whose setup script has work to do: forwarding, an address it claims on `lo`,
/// a static route.
const EDGE: &str = r#"
natc = 1
name = "ansible-run"
description = "the Linux playbook, run for real"

[[gateway]]
name = "edge"
targets = ["nftables"]

[[gateway.interface]]
name = "eth0"
address = "198.51.100.2/24"

[[gateway.interface]]
name = "eth1"
address = "10.0.0.1/24"

[[gateway.dnat]]
name = "web"
in_interface = "eth0"
destination = "198.51.100.80"
claim = "loopback"
protocol = "tcp"
port = 80
to = "10.0.0.10"

[[gateway.snat]]
name = "lan-out"
source = "10.0.0.0/24"
out_interface = "eth0"
to = "masquerade"

[[gateway.route]]
to = "203.0.113.0/24"
via = "198.51.100.1"
"#;

/// The `changed=N` of the host's PLAY RECAP line in one run's output.
fn changed(run: &str) -> u32 {
    let recap = run
        .lines()
        .find(|l| l.starts_with("edge ") && l.contains("changed="))
        .unwrap_or_else(|| panic!("no recap:\n{run}"));
    let field = recap.split_whitespace().find_map(|w| w.strip_prefix("changed=")).expect("changed=");
    assert!(recap.contains("failed=0"), "{recap}");
    field.parse().expect("a number")
}

/// Run the generated site.yml twice (then once more after the deployed rules file was
/// edited) against a local host inside a new network namespace, where the handlers load
/// the rules into that namespace's kernel. Returns each run's output and the final state.
fn run_linux_playbook(target: &str, state: &str) -> (Vec<String>, String) {
    require_ansible();
    common::require_root_and(&["unshare", "ip", "nft", "iptables-restore", "sysctl"]);
    let work = tempfile::tempdir().expect("tempdir");
    let intent = work.path().join("edge.toml");
    std::fs::write(&intent, EDGE).expect("write intent");
    let out = work.path().join("out");
    build_with(&["build", "--package", "ansible", "-t", target, "-o", out.to_str().expect("utf-8")], &intent, &[]);
    let inventory = work.path().join("local.yml");
    std::fs::write(
        &inventory,
        "all:\n  hosts:\n    edge:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n",
    )
    .expect("write inventory");
    let rules = if target == "nftables" { "nftables.nft" } else { "iptables.rules" };
    let script = format!(
        r#"
ip link set lo up
ip link add eth0 type veth peer name natcpeer0
ip link add eth1 type veth peer name natcpeer1
for l in eth0 eth1 natcpeer0 natcpeer1; do ip link set "$l" up; done
ip address add 198.51.100.2/24 dev eth0
ip address add 10.0.0.1/24 dev eth1
run() {{
    ansible-playbook -i "$W/local.yml" "$W/out/site.yml" -e natc_config_dir="$W/etc" \
        -e natc_sysctl_dir="$W/sysctl.d" -e natc_enable_at_boot=false -e ansible_become=false \
        -e natc_state_dir="$W/state"
}}
echo "=== run"; run
echo "=== run"; run
echo '# edited on the box' >> "$W/etc/{rules}"
echo "=== run"; run
echo "=== state"
{state}
ip -4 address show dev lo
ip route show
sysctl net.ipv4.ip_forward
cat "$W/sysctl.d/90-natc-ansible-run.conf"
"#
    );
    let output = Process::new("unshare")
        .args(["--net", "sh", "-ec", &script])
        .env("W", work.path())
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", work.path().join("tmp"))
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "the playbook run failed:\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut parts: Vec<String> = stdout.split("=== ").map(str::to_string).collect();
    let final_state = parts.pop().expect("state");
    (parts.into_iter().filter(|p| p.starts_with("run")).collect(), final_state)
}

/// The result line of the task `name` in a run's output (the line after its header).
fn task<'a>(run: &'a str, name: &str) -> Option<&'a str> {
    let mut lines = run.lines().skip_while(|l| !l.starts_with(&format!("TASK [{name}]")));
    lines.next()?;
    lines.find(|l| !l.trim().is_empty())
}

fn assert_linux_runs(runs: &[String], state: &str, rules: &str, loaded: &str) {
    assert_eq!(runs.len(), 3);
    assert!(changed(&runs[0]) >= 4, "the first run deploys everything:\n{}", runs[0]);
    // The setup script applies the host state and the rules in a confirmation window, which
    // the play confirms after its probe (docs/deploy.md).
    let applied = |run: &str| {
        task(run, "natc: apply with a confirmation window") == Some("changed: [edge]")
            && task(run, "natc: confirm") == Some("ok: [edge]")
    };
    assert!(applied(&runs[0]), "the first run applies and confirms:\n{}", runs[0]);
    assert!(runs[0].contains(&format!("natc: {rules}")), "{}", runs[0]);
    assert_eq!(changed(&runs[1]), 0, "the second run must change nothing:\n{}", runs[1]);
    assert!(!applied(&runs[1]), "an apply ran without a change:\n{}", runs[1]);
    assert_eq!(changed(&runs[2]), 2, "an edited rules file is put back and reloaded:\n{}", runs[2]);
    assert!(applied(&runs[2]), "{}", runs[2]);
    assert!(state.contains(loaded), "the rules are not in the kernel:\n{state}");
    assert!(state.contains("inet 198.51.100.80/32"), "the claimed address is not on lo:\n{state}");
    assert!(state.contains("203.0.113.0/24 via 198.51.100.1"), "the route is missing:\n{state}");
    assert!(state.contains("net.ipv4.ip_forward = 1\n"), "forwarding is off:\n{state}");
    assert!(state.contains("\nnet.ipv4.ip_forward = 1\n# "), "the sysctl.d file is missing:\n{state}");
}

#[test]
fn the_nftables_playbook_loads_the_rules_once_and_then_changes_nothing() {
    let (runs, state) = run_linux_playbook("nftables", "nft list ruleset");
    assert_linux_runs(&runs, &state, "nftables.nft", "table ip natc_ansible_run {");
}

#[test]
fn the_iptables_playbook_loads_the_rules_once_and_then_changes_nothing() {
    let (runs, state) = run_linux_playbook("iptables", "iptables-save -t nat");
    assert_linux_runs(&runs, &state, "iptables.rules", "edge dnat/web");
}

/// Two gateways for the rollout: `edge` (the one the namespace plays) and `next`, which a
/// failed batch must never reach. `ALLOWED` is the input allow the probe needs; the second
/// intent replaces it with SSH only.
const ROLLOUT: &str = r#"
natc = 1
name = "ansible-rollout"

[[gateway]]
name = "edge"
targets = ["TARGET"]

[[gateway.interface]]
name = "eth0"
address = "198.51.100.1/24"

[gateway.policy]
input = "drop"

[[gateway.allow]]
name = "mgmt"
chain = "input"
protocol = "tcp"
port = PORT

[[gateway]]
name = "next"
targets = ["TARGET"]

[[gateway.interface]]
name = "eth0"
address = "198.51.100.9/24"
"#;

/// The site playbook with the health probe, run for real in named namespaces (a gateway
/// and a client on one veth; Ansible plays the gateway as a local host): an apply whose
/// rules pass the probe is confirmed and stays; one that cuts the probe path (TCP from the
/// client to port 2222; a refused connection is a reply, a drop times out) is rolled back
/// at once, fails its gateway, and the rollout stops before the next gateway; without the
/// probe the same apply is confirmed and stays.
#[test]
fn the_site_playbook_rolls_back_a_batch_whose_probe_fails_and_stops_the_rollout() {
    require_ansible();
    common::require_root_and(&["ip", "nft", "iptables-restore", "setsid", "python3"]);
    for target in ["nftables", "iptables"] {
        let work = tempfile::tempdir().expect("tempdir");
        let w = work.path().display().to_string();
        for (dir, port) in [("good", "2222"), ("cut", "22")] {
            let intent = work.path().join(format!("{dir}.toml"));
            std::fs::write(&intent, ROLLOUT.replace("TARGET", target).replace("PORT", port)).expect("write");
            build_with(&["build", "--package", "ansible", "-o", &format!("{w}/{dir}")], &intent, &[]);
        }
        let (gw, client) = (
            format!("natcansrb-{}-{target}-gw", std::process::id()),
            format!("natcansrb-{}-{target}-cl", std::process::id()),
        );
        std::fs::write(
            work.path().join("local.yml"),
            format!(
                "all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n    ansible_become: false\n    natc_enable_at_boot: false\n    natc_state_dir: {w}/state\n    natc_sysctl_dir: {w}/sysctl.d\n  hosts:\n    edge:\n      natc_config_dir: {w}/edge\n    next:\n      natc_config_dir: {w}/next\n"
            ),
        )
        .expect("inventory");
        let probe = serde_json::json!({"natc_health_check": ["ip", "netns", "exec", client, "python3", "-c",
            "import socket\ns = socket.socket()\ns.settimeout(2)\ntry:\n    s.connect(('198.51.100.1', 2222))\nexcept ConnectionRefusedError:\n    pass\n"]});
        std::fs::write(work.path().join("probe.json"), probe.to_string()).expect("probe vars");
        let listing = if target == "nftables" { "nft list ruleset" } else { "iptables-save -t filter | grep -- '^-A'" };
        let rules = if target == "nftables" { "nftables.nft" } else { "iptables.rules" };
        let script = format!(
            r#"
cleanup() {{ ip netns del {gw} 2>/dev/null; ip netns del {client} 2>/dev/null; }}
trap cleanup EXIT
ip netns add {gw}; ip netns add {client}
ip -n {gw} link set lo up; ip -n {client} link set lo up
ip link add eth0 netns {gw} type veth peer name eth0 netns {client}
ip -n {gw} address add 198.51.100.1/24 dev eth0; ip -n {client} address add 198.51.100.50/24 dev eth0
ip -n {gw} link set eth0 up; ip -n {client} link set eth0 up
play() {{ ip netns exec {gw} ansible-playbook -i "$W/local.yml" "$@"; }}
echo "=== good"; play "$W/good/site.yml" --limit edge -e @"$W/probe.json" || echo "exit $?"
echo "=== after-good"; ip netns exec {gw} {listing}; ls -A "$W/state" "$W/edge"
echo "=== cut"; play "$W/cut/site.yml" -e @"$W/probe.json" || echo "exit $?"
echo "=== after-cut"; ip netns exec {gw} {listing}; ls -A "$W/state"/*; test -e "$W/next" && echo "next deployed"
cmp "$W/edge/{rules}" "$W/good/edge/{rules}" && cmp "$W/edge/{target}-setup.sh" "$W/good/edge/{target}-setup.sh" && echo "files restored"
echo "=== unprobed"; play "$W/cut/site.yml" --limit edge || echo "exit $?"
echo "=== after-unprobed"; ip netns exec {gw} {listing}; ls -A "$W/state"
"#
        );
        let output = Process::new("sh")
            .args(["-c", &script])
            .env("W", work.path())
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", work.path().join("tmp"))
            .output()
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let part = |name: &str| {
            stdout
                .split("=== ")
                .find(|p| p.starts_with(&format!("{name}\n")))
                .unwrap_or_else(|| {
                    panic!("{target}: no {name} part:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr))
                })
                .to_string()
        };
        let (good, after_good) = (part("good"), part("after-good"));
        assert!(!good.contains("\nexit "), "{target}: the probed good apply passes:\n{good}");
        assert_eq!(task(&good, "natc: health probe: natc_health_check"), Some("ok: [edge]"), "{target}: {good}");
        assert_eq!(task(&good, "natc: confirm"), Some("ok: [edge]"), "{target}: {good}");
        assert!(after_good.contains("2222"), "{target}: the good rules stay:\n{after_good}");
        assert!(!after_good.contains("armed"), "{target}: the window is closed:\n{after_good}");
        assert!(!after_good.contains('~'), "{target}: no backup file stays:\n{after_good}");

        let (cut, after_cut) = (part("cut"), part("after-cut"));
        assert!(cut.contains("\nexit 2"), "{target}: the failed batch fails the run:\n{cut}");
        assert_eq!(task(&cut, "natc: roll back now"), Some("changed: [edge]"), "{target}: {cut}");
        assert!(cut.contains("the rollout stops here"), "{target}: {cut}");
        assert!(!cut.contains("gateway next"), "{target}: the rollout went on to the next gateway:\n{cut}");
        assert!(!after_cut.contains("next deployed"), "{target}: {after_cut}");
        assert_eq!(
            after_cut.lines().filter(|l| l.contains("mgmt")).collect::<Vec<_>>(),
            after_good.lines().filter(|l| l.contains("mgmt")).collect::<Vec<_>>(),
            "{target}: the rollback restored the good rules:\n{after_cut}"
        );
        assert!(after_cut.contains("rolled-back"), "{target}: {after_cut}");
        assert!(after_cut.contains("files restored"), "{target}: the good files are back on the box:\n{after_cut}");

        let (unprobed, after) = (part("unprobed"), part("after-unprobed"));
        assert!(!unprobed.contains("\nexit "), "{target}: without the probe the apply is confirmed:\n{unprobed}");
        assert!(
            after.contains("dport 22") || after.contains("--dport 22 "),
            "{target}: the confirmed rules stay:\n{after}"
        );
        assert!(!after.contains("2222"), "{target}: {after}");
    }
}

/// Four Linux gateways for the batched rollout, each its own box (namespace): `g1`
/// (firewalld) allows only SSH, so the probe to its port 2222 fails; `g2` and `g3`
/// (nftables) and `g4` (iptables) allow 2222.
const BATCHES: &str = r#"
natc = 1
name = "ansible-batches"

[[gateway]]
name = "g1"
targets = ["firewalld"]

[[gateway.interface]]
name = "eth0"
address = "198.51.101.1/24"

[gateway.policy]
input = "drop"

[[gateway.allow]]
name = "mgmt"
chain = "input"
protocol = "tcp"
port = 22

[[gateway]]
name = "g2"
targets = ["nftables"]

[[gateway.interface]]
name = "eth0"
address = "198.51.102.1/24"

[gateway.policy]
input = "drop"

[[gateway.allow]]
name = "mgmt"
chain = "input"
protocol = "tcp"
port = 2222

[[gateway]]
name = "g3"
targets = ["nftables"]

[[gateway.interface]]
name = "eth0"
address = "198.51.103.1/24"

[gateway.policy]
input = "drop"

[[gateway.allow]]
name = "mgmt"
chain = "input"
protocol = "tcp"
port = 2222

[[gateway]]
name = "g4"
targets = ["iptables"]

[[gateway.interface]]
name = "eth0"
address = "198.51.104.1/24"

[gateway.policy]
input = "drop"

[[gateway.allow]]
name = "mgmt"
chain = "input"
protocol = "tcp"
port = 2222
"#;

/// site.yml's rollout in batches (`-e natc_serial=3`), run for real: four gateways, each
/// a namespace of its own (Ansible runs each host's modules there through its Python
/// interpreter line), one client namespace wired to all four. g1 runs a real firewalld
/// (private D-Bus, permanent configuration in the work directory). Batch 1 is g1, g2, g3:
/// g1's probe fails and firewalld.sh rolls it back; g2 and g3 in the same batch (one task
/// file, so side by side) are applied, probed and confirmed all the same; then the play
/// fails g1 and the rollout stops: batch 2 (g4) is never touched.
#[test]
fn the_site_playbook_applies_natc_serial_gateways_at_a_time_and_stops_after_a_failed_batch() {
    require_ansible();
    common::require_root_and(&["ip", "nft", "iptables-restore", "setsid", "firewalld", "firewall-cmd", "dbus-daemon"]);
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path().display().to_string();
    let intent = work.path().join("batches.toml");
    std::fs::write(&intent, BATCHES).expect("write");
    build_with(&["build", "--package", "ansible", "-o", &format!("{w}/out")], &intent, &[]);
    let site = std::fs::read_to_string(work.path().join("out/site.yml")).expect("site.yml");
    assert!(
        site.contains("serial: \"{{ natc_serial | default(1) }}\"") && site.contains("max_fail_percentage: 0"),
        "{site}"
    );
    let prefix = format!("natcbatch-{}", std::process::id());
    let client = format!("{prefix}-cl");
    let ip = sh_out("command -v ip");
    let mut inventory = String::from(
        "all:\n  vars:\n    ansible_connection: local\n    ansible_become: false\n    natc_enable_at_boot: false\n    natc_probe_timeout: 10\n  hosts:\n",
    );
    for i in 1..=4 {
        let probe = serde_json::json!([
            "ip",
            "netns",
            "exec",
            client,
            "/usr/bin/python3",
            "-c",
            format!(
                "import socket\ns = socket.socket()\ns.settimeout(2)\ntry:\n    s.connect(('198.51.10{i}.1', 2222))\nexcept ConnectionRefusedError:\n    pass\n"
            )
        ]);
        inventory.push_str(&format!(
            "    g{i}:\n      ansible_python_interpreter: \"{ip} netns exec {prefix}-g{i} /usr/bin/python3\"\n      \
             natc_config_dir: {w}/g{i}\n      natc_state_dir: {w}/state-g{i}\n      natc_sysctl_dir: {w}/sysctl-g{i}\n      \
             natc_health_check: {probe}\n"
        ));
    }
    std::fs::write(work.path().join("local.yml"), inventory).expect("inventory");
    std::fs::write(
        work.path().join("bus.conf"),
        format!(
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
             \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
             <busconfig><type>system</type><listen>unix:path={w}/bus.sock</listen><auth>EXTERNAL</auth>\n\
             <policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>\n\
             <allow send_type=\"method_call\"/><allow send_type=\"signal\"/><allow send_type=\"method_return\"/><allow send_type=\"error\"/>\n\
             <allow receive_type=\"method_call\"/><allow receive_type=\"signal\"/><allow receive_type=\"method_return\"/><allow receive_type=\"error\"/>\n\
             </policy></busconfig>\n"
        ),
    )
    .expect("bus.conf");
    let script = format!(
        r#"
p={prefix}; c={client}
cleanup() {{
    for ns in $p-g1 $p-g2 $p-g3 $p-g4 $c; do
        for pid in $(ip netns pids $ns 2>/dev/null); do kill -9 $pid 2>/dev/null; done
        ip netns del $ns 2>/dev/null
    done
    kill $(cat "$W/dbus.pid") 2>/dev/null
}}
trap cleanup EXIT
ip netns add $c; ip -n $c link set lo up
for i in 1 2 3 4; do
    ip netns add $p-g$i; ip -n $p-g$i link set lo up
    ip link add eth0 netns $p-g$i type veth peer name c$i netns $c
    ip -n $p-g$i address add 198.51.10$i.1/24 dev eth0; ip -n $c address add 198.51.10$i.50/24 dev c$i
    ip -n $p-g$i link set eth0 up; ip -n $c link set c$i up
done
# g1's firewalld, on a bus of its own, its permanent configuration in $W/etc.
mkdir -p "$W/etc"; cp /etc/firewalld/firewalld.conf "$W/etc/"
ip netns exec $p-g1 dbus-daemon --config-file="$W/bus.conf" --fork --print-pid > "$W/dbus.pid"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$W/bus.sock
ip netns exec $p-g1 unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && exec firewalld --nofork --nopid --system-config $W/etc --log-target file --log-file $W/firewalld.log" </dev/null >/dev/null 2>&1 &
for _ in $(seq 150); do [ "$(firewall-cmd --state 2>/dev/null)" = running ] && break; sleep 0.1; done
echo "firewalld: $(firewall-cmd --state 2>&1)"
echo "=== rollout"
ansible-playbook -i "$W/local.yml" "$W/out/site.yml" -e natc_serial=3 -e natc_confirm_seconds=120 || echo "exit $?"
echo "=== after"
echo "g1 policies: $(firewall-cmd --permanent --get-policies)"
echo "g1 table: $(ip netns exec $p-g1 nft list table ip natc_ansible_batches >/dev/null 2>&1 && echo yes || echo none)"
echo "g2 table: $(ip netns exec $p-g2 nft list table ip natc_ansible_batches 2>/dev/null | grep -c 2222)"
echo "g3 table: $(ip netns exec $p-g3 nft list table ip natc_ansible_batches 2>/dev/null | grep -c 2222)"
echo "g4 rules: $(ip netns exec $p-g4 iptables-save | grep -c 2222)"
ls -A "$W/state-g1" "$W/state-g2" "$W/state-g3" 2>&1
ls -A "$W/g1" 2>&1 | sed 's/^/g1 file: /'
test -e "$W/g4" && echo "g4 deployed"
true
"#
    );
    let output = Process::new("sh")
        .args(["-c", &script])
        .env("W", work.path())
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", work.path().join("tmp"))
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let context = format!("{stdout}\n--- stderr\n{}", String::from_utf8_lossy(&output.stderr));
    let rollout = stdout.split("=== rollout").nth(1).and_then(|r| r.split("=== after").next()).unwrap_or_default();
    let after = stdout.split("=== after").nth(1).unwrap_or_default();
    assert!(stdout.contains("firewalld: running"), "{context}");
    // Batch 1: three gateways applied; g1 rolled back, g2 and g3 confirmed, side by side.
    let results = |task: &str| -> Vec<Vec<&str>> {
        rollout
            .split("TASK [")
            .filter(|t| t.starts_with(&format!("{task}]")))
            .map(|t| {
                // In the order the hosts finished: sorted.
                let mut hosts: Vec<&str> =
                    t.lines().skip(1).filter(|l| l.starts_with("ok: [") || l.starts_with("changed: [")).collect();
                hosts.sort_unstable();
                hosts
            })
            .collect()
    };
    // One task per task file: g1's (firewalld) and g2's and g3's (nftables) together. Which
    // file Ansible includes first follows which host's include finished first: not asserted.
    let mut applied = results("natc: apply with a confirmation window");
    applied.sort_unstable();
    assert_eq!(
        applied,
        [vec!["changed: [g1]"], vec!["changed: [g2]", "changed: [g3]"]],
        "batch 1 is g1 alone and g2 and g3 together:\n{context}"
    );
    assert_eq!(results("natc: roll back now"), [vec!["changed: [g1]"]], "{context}");
    assert_eq!(results("natc: confirm"), [vec!["ok: [g2]", "ok: [g3]"]], "only g2 and g3 are confirmed:\n{context}");
    assert!(rollout.contains("the rollout stops here"), "{context}");
    assert!(rollout.contains("\nexit 2"), "the failed batch fails the run:\n{context}");
    // Batch 2 never ran.
    assert!(!rollout.contains("[g4]"), "the rollout reached batch 2:\n{context}");
    assert!(!after.contains("g4 deployed") && after.contains("g4 rules: 0"), "{context}");
    // g1 is as before: firewalld without natc's policies or table, no window, no file.
    let policies = after.lines().find(|l| l.starts_with("g1 policies:")).unwrap_or_default();
    assert!(!policies.is_empty() && !policies.contains("natc-"), "{context}");
    assert!(after.contains("g1 table: none"), "{context}");
    assert!(!after.contains("g1 file: firewalld.sh"), "g1's new script was left on the box:\n{context}");
    // g2 keeps its confirmed rules, and its window is closed.
    assert!(after.contains("g2 table: 1") && after.contains("g3 table: 1"), "{context}");
    assert!(!after.contains("armed"), "{context}");
}

fn sh_out(script: &str) -> String {
    let out = Process::new("sh").args(["-c", script]).output().expect("sh runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// natc's YAML quoting against the YAML parser Ansible uses (PyYAML): every character up
/// to U+3000 and some beyond, alone and in hostile strings, reads back unchanged, and a
/// comment made from the same text stays one comment.
#[test]
fn yaml_quoting_reads_back_exactly_in_pyyaml() {
    use natc::package::ansible::yaml;
    let mut samples: Vec<String> = (0u32..0x3000).filter_map(char::from_u32).map(String::from).collect();
    samples.extend(
        [
            "",
            " lead",
            "trail ",
            "a: b",
            "- x",
            "#c",
            "'q'",
            "\"d\"",
            "\\n",
            "{{ x }}",
            "&a *b !t %y @z `w`",
            "yes",
            "null",
        ]
        .map(String::from),
    );
    samples.extend(["\u{feff}", "\u{fffe}\u{ffff}", "🦀\u{10ffff}", "a\r\nb\u{2028}c\u{85}d"].map(String::from));
    let mut doc = String::from("---\n");
    for s in &samples {
        doc.push_str(&format!("# {}\n- {}\n", yaml::comment(s), yaml::quote(s)));
    }
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("quoted.yml");
    std::fs::write(&file, doc).expect("write");
    let out = Process::new("/usr/bin/python3")
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "PyYAML refused the file: {}", String::from_utf8_lossy(&out.stderr));
    let read: Vec<String> = serde_json::from_slice(&out.stdout).expect("a list of strings");
    assert_eq!(read.len(), samples.len(), "a comment swallowed or added an item");
    for (want, got) in samples.iter().zip(&read) {
        assert_eq!(want, got, "{want:?} read back as {got:?}");
    }
}
