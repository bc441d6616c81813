//! The firewalld target under a real firewalld 1.3 (nftables backend) in network
//! namespaces: seed 003's vm01 reaches vm03 through the phantom 192.168.100.3 and vm03
//! sees 192.168.200.2. Needs root, firewalld and dbus-daemon (scripts/test.sh installs
//! them); fails, never skips, without them.

mod common;

use std::collections::HashMap;
use std::process::Command;

fn seed_003() -> String {
    std::fs::read_to_string(common::root().join("examples/seed-003-lab.toml")).expect("seed-003 exists")
}

fn script_for(intent: &str) -> String {
    let artifacts = common::build_text(intent, "firewalld").unwrap_or_else(|e| panic!("builds for firewalld:\n{e}"));
    common::primary(&artifacts[0]).to_string()
}

/// Runs `tests/firewalld/lab.sh` and returns its `key: value` facts.
fn lab(script: &str) -> HashMap<String, String> {
    lab_with(script, &[])
}

/// lab.sh with its `NATC_LAB_*` settings (the firewalld backend, a version for the guard).
fn lab_with(script: &str, env: &[(&str, &str)]) -> HashMap<String, String> {
    let work = tempfile::tempdir().expect("temp dir");
    let path = work.path().join("firewalld.sh");
    std::fs::write(&path, script).expect("script written");
    let out = Command::new(common::root().join("tests/firewalld/lab.sh"))
        .arg(&path)
        .arg(work.path())
        .envs(env.iter().copied())
        .output()
        .expect("lab.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let logs = ["run1.log", "firewalld.log"]
        .iter()
        .map(|f| format!("--- {f}\n{}", std::fs::read_to_string(work.path().join(f)).unwrap_or_default()))
        .collect::<String>();
    assert!(out.status.success(), "the lab failed:\n{stdout}\n{}\n{logs}", String::from_utf8_lossy(&out.stderr));
    stdout
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("logs".to_string(), logs)])
        .chain([("state".to_string(), std::fs::read_to_string(work.path().join("state1")).unwrap_or_default())])
        .collect()
}

#[test]
fn seed_003_works_under_a_real_firewalld() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let facts = lab(&script_for(&seed_003()));
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("before"), "unreachable", "negative control: the phantom answered before the rules\n{context}");
    assert_eq!(fact("firewalld"), "running", "{context}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("run2"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "a second run changed the state\n{context}");
    assert_eq!(fact("firewalld after"), "running", "{context}");
    assert_eq!(fact("after"), "192.168.200.2", "vm03 must see vm02's eth1 address\n{context}");
    assert_eq!(fact("after 8081"), "192.168.200.2", "forward = accept lets every port through\n{context}");
    assert_eq!(fact("masquerade only"), "192.168.200.2", "firewalld rejected a routed, masqueraded flow\n{context}");
    assert_eq!(fact("sysctl file"), "1", "{context}");
    assert_eq!(fact("mss"), "1460", "nothing clamps without tcp_mss\n{context}");
}

/// `tcp_mss` on the gateway's eth1 under a real firewalld: the direct rule in mangle's
/// natc-mss chain is accepted at --reload, survives a second run, and clamps vm01's SYN.
#[test]
fn tcp_mss_clamps_under_a_real_firewalld() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let intent = seed_003().replace("description = \"segment B\"\n", "description = \"segment B\"\ntcp_mss = 1300\n");
    let script = script_for(&intent);
    assert!(script.contains("rule mangle natc-mss 0 -o eth1"), "the variant must clamp:\n{script}");
    let facts = lab(&script);
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "{context}");
    assert_eq!(fact("firewalld after"), "running", "{context}");
    assert_eq!(fact("mss"), "1300", "{context}");
}

/// The same lab under `forward = "drop"` with one allow: natc's chain, not firewalld's
/// zones, decides what is forwarded, and replies of the allowed flow come back.
#[test]
fn a_drop_policy_under_a_real_firewalld_forwards_only_what_is_allowed() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let intent = seed_003()
        + "\n[gateway.policy]\nforward = \"drop\"\n\n[[gateway.allow]]\nname = \"web-to-vm03\"\n\
           to = \"192.168.200.3\"\nprotocol = \"tcp\"\nport = 8080\n";
    let script = script_for(&intent);
    assert!(script.contains("'vm02 policy/forward' -j DROP"), "the variant must drop:\n{script}");
    let facts = lab(&script);
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "{context}");
    assert_eq!(fact("after"), "192.168.200.2", "the allowed port must pass\n{context}");
    assert_eq!(fact("masquerade only"), "192.168.200.2", "the allow matches the real destination\n{context}");
    assert_eq!(fact("after 8081"), "unreachable", "a port nobody allowed was forwarded\n{context}");
}

/// The drop variant on firewalld's iptables backend, where 1.3.3 accepts DNATed flows
/// (`ctstate DNAT`) before FORWARD_direct: the 1.x script reaches natc-forward from the top
/// of FORWARD (a passthrough), so the DNATed port nobody allowed is still stopped. With the
/// jump in FORWARD_direct (the script before this change) 8081 arrived.
#[test]
fn a_drop_policy_holds_on_firewalld_1_3_3s_iptables_backend() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let intent = seed_003()
        + "\n[gateway.policy]\nforward = \"drop\"\n\n[[gateway.allow]]\nname = \"web-to-vm03\"\n\
           to = \"192.168.200.3\"\nprotocol = \"tcp\"\nport = 8080\n";
    let facts = lab_with(&script_for(&intent), &[("NATC_LAB_BACKEND", "iptables")]);
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("backend chains"), "iptables", "the lab must run the iptables backend\n{context}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "{context}");
    assert_eq!(fact("firewalld after"), "running", "{context}");
    assert_eq!(fact("after"), "192.168.200.2", "the allowed port must pass\n{context}");
    assert_eq!(fact("masquerade only"), "192.168.200.2", "{context}");
    assert_eq!(fact("after 8081"), "unreachable", "a DNATed port nobody allowed was forwarded\n{context}");
}

/// Seed 003 built for CentOS 7's firewalld (`@0.6`, no policy objects) under the real
/// 1.3.3 with the iptables backend, its guard told 0.6.3 by a lab-only firewall-cmd: the
/// flows that must pass do, the masqueraded one too (natc-forward's last ACCEPT comes
/// before the zones that would reject it), and a second run changes nothing.
#[test]
fn seed_003s_0_6_script_passes_under_firewalld_1_3_3s_iptables_backend() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let artifacts = common::build_text(&seed_003(), "firewalld@0.6").expect("builds for firewalld@0.6");
    let script = common::primary(&artifacts[0]).to_string();
    assert!(!script.contains("--policy"), "no policy objects on 0.6:\n{script}");
    let facts = lab_with(&script, &[("NATC_LAB_BACKEND", "iptables"), ("NATC_LAB_VERSION", "0.6.3")]);
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("before"), "unreachable", "{context}");
    assert_eq!(fact("backend chains"), "iptables", "{context}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("run2"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "{context}");
    assert_eq!(fact("firewalld after"), "running", "{context}");
    assert_eq!(fact("after"), "192.168.200.2", "{context}");
    assert_eq!(fact("after 8081"), "192.168.200.2", "{context}");
    assert_eq!(fact("masquerade only"), "192.168.200.2", "the zones rejected a masqueraded flow\n{context}");
}

/// The `--comment` values of iptables-save lines, as iptables-restore reads them: `"…"` with
/// `\` escaping the next character (iptables-save escapes `"`, `\` and `'`), or a word.
fn xt_comments(listing: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in listing.lines() {
        let Some((_, rest)) = line.split_once("--comment ") else { continue };
        let Some(quoted) = rest.strip_prefix('"') else {
            out.push(rest.split(' ').next().unwrap_or_default().to_string());
            continue;
        };
        let (mut value, mut chars) = (String::new(), quoted.chars());
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.extend(chars.next()),
                '"' => break,
                c => value.push(c),
            }
        }
        out.push(value);
    }
    out
}

/// An item's description reaches the kernel through a real firewalld exactly: the rule's
/// comment, after the origin, with the characters a shell, nft and iptables-restore each
/// treat specially (`'`, `$`, backticks, `#`, `;`, `*`, braces), as the kernel lists it after
/// `--reload` (nft's listing on the nftables backend, iptables-save's on iptables).
#[test]
fn a_description_reaches_the_kernel_through_a_real_firewalld() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let description = "vm03's web: $(reboot) `x` #1 ; * {a} 日本";
    let intent = seed_003().replace(
        "name = \"to-vm03\"\n",
        &format!("name = \"to-vm03\"\ndescription = \"{}\"\n", description.replace('\\', "\\\\")),
    );
    let facts = lab(&script_for(&intent));
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    assert_eq!(fact("run1"), "ok", "{facts:#?}");
    assert_eq!(fact("after"), "192.168.200.2", "the described rule still works\n{facts:#?}");
    // natc's own table on firewalld's nftables backend: `comment "…"` in nft's listing.
    let nft = fact("state")
        .lines()
        .filter_map(|l| l.split_once("comment \""))
        .map(|(_, rest)| rest.split('"').next().unwrap_or_default().to_string());
    let comments: Vec<String> = xt_comments(fact("state")).into_iter().chain(nft).collect();
    let expected = format!("vm02 dnat/to-vm03: {description}");
    assert!(comments.contains(&expected), "the kernel lists {comments:#?}, not {expected:?}");
}

/// A rule the box's iptables refuses must stop the script before anything changes: no
/// sysctl file, no `firewall-cmd` call, no direct configuration written (firewalld itself
/// would accept the rule and fail at --reload). The stand-in daemon runs the iptables backend.
#[test]
fn a_bad_rule_stops_the_script_before_firewalld_is_touched() {
    common::require_root_and(&["iptables-restore", "unshare", "python3"]);
    let script = script_for(&seed_003());
    assert!(script.contains("-j MASQUERADE"), "the seed-003 script masquerades");
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path().display().to_string();
    let calls = work.path().join("calls");
    std::fs::create_dir_all(work.path().join("py/firewall")).expect("fake module dir");
    // The guard's question is answered (1.3.3, the line the script is built for) and not
    // counted: it changes nothing.
    std::fs::write(
        work.path().join("firewall-cmd"),
        format!(
            "#!/usr/bin/python3\nimport sys\nif sys.argv[1:] == ['--version']:\n    print('1.3.3')\n    sys.exit(0)\n\
             open('{}', 'a').write(' '.join(sys.argv[1:]) + '\\n')\n",
            calls.display()
        ),
    )
    .expect("fake firewall-cmd");
    std::fs::write(work.path().join("py/firewall/__init__.py"), "").expect("fake module");
    std::fs::write(
        work.path().join("py/firewall/client.py"),
        format!(
            "class S(object):\n    settings = [[], [], []]\n\
             class D(object):\n    def getSettings(self): return S()\n    \
             def update(self, s): open('{calls}', 'a').write('direct update\\n')\n\
             class C(object):\n    def get_property(self, name): return 'iptables'\n    def direct(self): return D()\n\
             class FirewallClient(object):\n    def config(self): return C()\n",
            calls = calls.display()
        ),
    )
    .expect("fake client");
    let run = |script: &str| {
        std::fs::write(work.path().join("firewalld.sh"), script).expect("script");
        Command::new("unshare")
            .args(["--net", "sh", "-c"])
            .arg(format!(
                "chmod +x {dir}/firewall-cmd && PATH={dir}:$PATH PYTHONPATH={dir}/py NATC_SYSCTL_DIR={dir} sh {dir}/firewalld.sh"
            ))
            .output()
            .expect("unshare runs")
    };
    // Control: the unbroken script gets through the stand-ins and writes everything.
    let good = run(&script);
    assert!(good.status.success(), "the good script fails: {}", String::from_utf8_lossy(&good.stderr));
    let recorded = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(recorded.contains("direct update") && recorded.contains("--reload"), "{recorded}");
    std::fs::remove_file(&calls).expect("calls reset");
    std::fs::remove_file(work.path().join("90-natc-seed-003-lab.conf")).expect("the good run wrote its sysctl file");

    let broken = run(&script.replace("-j MASQUERADE", "-j MASQUERAD"));
    assert!(!broken.status.success(), "the broken script must fail");
    assert!(String::from_utf8_lossy(&broken.stderr).contains("iptables-restore"), "{broken:?}");
    assert!(!calls.exists(), "firewalld was touched: {}", std::fs::read_to_string(&calls).unwrap_or_default());
    assert!(!work.path().join("90-natc-seed-003-lab.conf").exists(), "sysctl was changed before the check");
}

/// The drop policy's log with a prefix and a rate under a real firewalld, on both backends:
/// on iptables the LOG direct rule (priority 1, after the accepts) with its `limit` match is
/// accepted at --reload and listed by the kernel, the prefix whole after firewalld's own
/// quoting; on nftables natc's own table carries the nftables target's `limit … log`. The
/// drop still drops and the allow still forwards.
#[test]
fn a_logged_rate_limited_drop_policy_under_a_real_firewalld() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let intent = seed_003()
        + "\n[gateway.policy]\nforward = \"drop\"\nlog = true\nlog_prefix = \"natc drop: \"\n\
           log_rate = \"10/minute\"\n\n[[gateway.allow]]\nname = \"web-to-vm03\"\n\
           to = \"192.168.200.3\"\nprotocol = \"tcp\"\nport = 8080\n";
    let script = script_for(&intent);
    assert!(script.contains("-m limit --limit 10/minute --limit-burst 5"), "the variant must log:\n{script}");
    for backend in ["nftables", "iptables"] {
        let facts = lab_with(&script, &[("NATC_LAB_BACKEND", backend)]);
        let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
        let context = format!("{backend}: {facts:#?}");
        assert_eq!(fact("run1"), "ok", "{context}");
        assert_eq!(fact("idempotent"), "yes", "{context}");
        assert_eq!(fact("after"), "192.168.200.2", "the allowed port must pass\n{context}");
        assert_eq!(fact("after 8081"), "unreachable", "the logged drop must still drop\n{context}");
        let state = fact("state");
        if backend == "nftables" {
            // natc's own table as the kernel lists it.
            let expected = "limit rate 10/minute log prefix \"natc drop: \" comment \"vm02 policy/forward\"";
            assert!(state.lines().any(|l| l.trim() == expected), "no rate-limited log in natc's table:\n{state}");
            continue;
        }
        // The kernel's listing (`-A …`), not firewalld's own list of direct rules.
        let log = state
            .lines()
            .find(|l| l.starts_with("-A ") && l.contains("-j LOG"))
            .unwrap_or_else(|| panic!("no LOG rule in the kernel:\n{state}"));
        assert!(log.contains("-m limit --limit 10/min") && log.contains("--log-prefix \"natc drop: \""), "{log}");
        assert!(xt_comments(log).contains(&"vm02 policy/forward".to_string()), "{log}");
    }
}

/// Seed 003 with 63 more host DNATs after its own: natc-dnat reaches the threshold, so its
/// rules are a lookup tree of direct chains (nD-eth0-…), and under a real firewalld the
/// phantom still reaches vm03 through them, after a reload and a second run.
#[test]
fn a_lookup_tree_of_direct_chains_works_under_a_real_firewalld() {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "iptables-restore", "python3", "ip"]);
    let mut intent = seed_003();
    for n in 1..=63 {
        intent.push_str(&format!(
            "\n[[gateway.dnat]]\nname = \"extra-{n}\"\ndestination = \"192.168.150.{n}\"\nto = \"192.168.200.{}\"\n\
             in_interface = \"eth0\"\nclaim = \"routed\"\n",
            100 + n
        ));
    }
    let script = script_for(&intent);
    assert!(script.contains("-j nD-eth0-192.168.100.0/28"), "natc-dnat must be a tree:\n{script}");
    let facts = lab(&script);
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("run2"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "a second run changed the state\n{context}");
    assert_eq!(fact("firewalld after"), "running", "{context}");
    assert_eq!(fact("after"), "192.168.200.2", "the phantom must reach vm03 through the tree\n{context}");
}
