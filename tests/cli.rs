//! The real binary: exit codes, stdout/stderr, `-o DIR`, `--check`, no partial output.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

fn natc() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("natc"))
}

fn example(name: &str) -> std::path::PathBuf {
    common::root().join("examples").join(name)
}

#[test]
fn build_prints_the_rules_file_to_stdout() {
    natc()
        .args(["build", "--target", "nftables"])
        .arg(example("seed-003-lab.toml"))
        .assert()
        .success()
        .stdout(predicate::str::starts_with("#!/usr/sbin/nft -f\n"))
        .stdout(predicate::str::contains("dnat to 192.168.200.3 comment \"vm02 dnat/to-vm03\""))
        .stderr(predicate::str::contains("vm02/nftables-setup.sh"));
}

#[test]
fn several_gateways_on_stdout_are_separated_and_selectable() {
    natc()
        .args(["build", "-t", "iptables"])
        .arg(example("seed-002-overlap.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("# ===== natc: utm-a/iptables.rules ====="))
        .stdout(predicate::str::contains("# ===== natc: utm-b/iptables.rules ====="));
    natc()
        .args(["build", "-t", "iptables", "-g", "utm-b"])
        .arg(example("seed-002-overlap.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("utm-b netmap/vpc-b").and(predicate::str::contains("utm-a").not()));
}

#[test]
fn unknown_gateway_or_target_is_a_usage_error() {
    natc()
        .args(["build", "-t", "iptables", "-g", "nope"])
        .arg(example("seed-002-overlap.toml"))
        .assert()
        .code(2)
        .stdout("");
    natc()
        .args(["build", "-t", "nftable"])
        .arg(example("seed-003-lab.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `nftables`"));
    natc().args(["build", "/nonexistent/intent.toml", "-t", "nftables"]).assert().code(2);
}

#[test]
fn output_dir_gets_every_file_and_check_finds_staleness() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let keep = out.join("natgw/unrelated.txt");
    std::fs::create_dir_all(keep.parent().expect("parent")).expect("mkdir");
    std::fs::write(&keep, "mine").expect("write");
    let intent = example("seed-000-powervs.toml");
    natc().args(["build", "-t", "iptables", "-t", "nftables", "-o"]).arg(&out).arg(&intent).assert().success();
    for f in ["natgw/iptables.rules", "natgw/iptables-setup.sh", "natgw/nftables.nft", "natgw/nftables-setup.sh"] {
        assert!(out.join(f).is_file(), "{f} not written");
    }
    assert_eq!(std::fs::read_to_string(&keep).expect("kept"), "mine", "a file natc did not write was touched");
    natc()
        .args(["build", "-t", "iptables", "-t", "nftables", "--check", "-o"])
        .arg(&out)
        .arg(&intent)
        .assert()
        .success();
    std::fs::write(out.join("natgw/nftables.nft"), "edited by hand\n").expect("write");
    natc()
        .args(["build", "-t", "iptables", "-t", "nftables", "--check", "-o"])
        .arg(&out)
        .arg(&intent)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nftables.nft (differs)"));
    assert_eq!(
        std::fs::read_to_string(out.join("natgw/nftables.nft")).expect("read"),
        "edited by hand\n",
        "--check wrote"
    );
}

#[test]
fn an_invalid_intent_writes_nothing_anywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let intent = dir.path().join("bad.toml");
    std::fs::write(&intent, "natc = 1\nname = \"x\"\n[[gateway]]\nname = \"g\"\n[[gateway.dnat]]\nname = \"a\"\ndestination = \"10.0.0.0/24\"\nto = \"10.1.0.0/25\"\n").expect("write");
    let out = dir.path().join("out");
    natc()
        .args(["build", "-t", "nftables", "-o"])
        .arg(&out)
        .arg(&intent)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("N107").and(predicate::str::contains("bad.toml:8:")));
    assert!(!out.exists(), "output directory created for an invalid intent");
}

#[test]
fn a_target_error_in_one_gateway_writes_no_other_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    natc()
        .args(["build", "-t", "nftables", "-o"])
        .arg(&out)
        .arg(example("seed-004-vyos-rtx.toml"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("N301"));
    assert!(!out.exists(), "office-rtx was written although vyos-project-a failed");
}

#[test]
fn check_reports_valid_and_invalid() {
    natc()
        .arg("check")
        .arg(example("seed-004-vyos-rtx.toml"))
        .assert()
        .success()
        .stderr(predicate::str::contains("is valid"));
    let dir = tempfile::tempdir().expect("tempdir");
    let intent = dir.path().join("typo.toml");
    std::fs::write(&intent, "natc = 1\nname = \"x\"\n[[gateway]]\nname = \"g\"\ntarget = [\"nftables\"]\n")
        .expect("write");
    natc()
        .arg("check")
        .arg(&intent)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("N002").and(predicate::str::contains("did you mean `targets`")));
}

#[test]
fn check_also_asks_the_declared_targets() {
    // targets = ["nftables"] on a gateway with an IPsec tunnel and without strongswan:
    // valid TOML, unbuildable.
    natc()
        .arg("check")
        .arg(common::root().join("tests/invalid/56-tunnel-on-nftables-without-strongswan.toml"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("N115").and(predicate::str::contains("tunnel `vpc-tunnel-1`")));
}

#[test]
fn every_example_builds_for_its_own_targets_and_checks_clean() {
    // Without --target each gateway is built for its `targets`: all five kinds among them.
    let dir = tempfile::tempdir().expect("tempdir");
    for path in common::examples() {
        let out = dir.path().join(common::stem(&path));
        natc().arg("build").arg(&path).arg("-o").arg(&out).assert().code(0);
        natc().arg("check").arg(&path).assert().code(0).stderr(predicate::str::contains("is valid"));
    }
    let written = |gw: &str, file: &str| dir.path().join("seed-004-vyos-rtx").join(gw).join(file).is_file();
    assert!(written("office-rtx", "rtx.conf") && written("vyos-project-a", "commands.vyos"));
    assert!(dir.path().join("seed-000-powervs/natgw/firewalld.sh").is_file());
    assert!(dir.path().join("seed-003-lab/vm02/commands.vyos").is_file());
}

#[test]
fn a_warning_is_printed_and_the_build_still_succeeds() {
    natc()
        .arg("build")
        .arg(example("seed-003-lab.toml"))
        .args(["--target", "firewalld"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("rule nat natc-dnat 0 -i eth0"))
        .stderr(predicate::str::contains("N303"));
}

#[test]
fn json_diagnostics_are_one_object_per_line_with_the_position() {
    let out = natc()
        .args(["check", "--format", "json"])
        .arg(common::root().join("tests/invalid/11-unknown-network.toml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let records: Vec<serde_json::Value> =
        stderr.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(records.len(), 1, "{stderr}");
    assert_eq!(records[0]["code"], "N104");
    assert_eq!(records[0]["line"], 21);
    assert_eq!(records[0]["help"], "did you mean `@vm03`?");
    assert!(!stderr.contains('×'), "no human report in JSON mode:\n{stderr}");
}

#[test]
fn github_format_annotates_the_intent_line() {
    natc()
        .args(["build", "--format", "github", "-t", "nftables"])
        .arg(common::root().join("tests/invalid/11-unknown-network.toml"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("::error file=").and(predicate::str::contains(",line=21,col=7,")))
        .stderr(predicate::str::contains("title=N104::unknown network `@vm3`"));
    // Warnings become ::warning annotations and the build still succeeds.
    natc()
        .args(["build", "--format", "github", "-t", "firewalld"])
        .arg(example("seed-003-lab.toml"))
        .assert()
        .success()
        .stderr(predicate::str::contains("::warning file=").and(predicate::str::contains("title=N303::")));
}

#[test]
fn bash_completion_registers_and_offers_the_subcommands() {
    let script = natc().args(["completions", "bash"]).output().expect("runs");
    assert!(script.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("natc.bash");
    std::fs::write(&path, &script.stdout).expect("written");
    // Load it into a real bash and ask the completion function for `natc v<TAB>`.
    let probe = format!(
        "source {}; COMP_WORDS=(natc v); COMP_CWORD=1; COMP_LINE='natc v'; COMP_POINT=6; _natc natc v natc; \
         echo \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = std::process::Command::new("bash").args(["-c", &probe]).output().expect("bash runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verify", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn man_page_documents_every_subcommand() {
    let out = natc().arg("man").output().expect("runs");
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH natc 1"), "{page}");
    let subcommands = page.split(".SH SUBCOMMANDS").nth(1).expect("a SUBCOMMANDS section");
    for sub in ["build", "check", "verify", "init", "completions", "man"] {
        assert!(subcommands.contains(&format!("natc\\-{sub}(1)")), "man page lacks {sub}:\n{subcommands}");
    }
}

#[test]
fn diff_shows_a_one_line_intent_change_as_one_line_per_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = example("port-forward.toml");
    let new = dir.path().join("new.toml");
    let text = std::fs::read_to_string(&old).expect("example");
    std::fs::write(&new, text.replace("port = 8443", "port = 9443")).expect("written");
    let out = natc()
        .args(["diff", "-t", "nftables", "-t", "iptables", "-t", "vyos"])
        .arg(&old)
        .arg(&new)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let headers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("+++ ")).collect();
    assert_eq!(headers, ["+++ b/edge/commands.vyos", "+++ b/edge/iptables.rules", "+++ b/edge/nftables.nft"]);
    let removed = stdout.lines().filter(|l| l.starts_with('-') && !l.starts_with("---")).count();
    let added: Vec<&str> = stdout.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).collect();
    assert_eq!((removed, added.len()), (3, 3), "{stdout}");
    assert!(added.iter().all(|l| l.contains("9443")), "{stdout}");
    // --exit-code reports the difference; no difference means no output.
    natc().args(["diff", "--exit-code", "-t", "nftables"]).arg(&old).arg(&new).assert().code(1);
    natc().args(["diff", "--exit-code", "-t", "nftables"]).arg(&old).arg(&old).assert().success().stdout("");
}

#[test]
fn diff_with_an_invalid_side_names_that_file_and_prints_no_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let new = dir.path().join("broken.toml");
    let text = std::fs::read_to_string(example("port-forward.toml")).expect("example");
    std::fs::write(&new, text.replace("to = \"@web\"\nto_port", "to = \"@webb\"\nto_port")).expect("written");
    natc()
        .args(["diff", "-t", "nftables"])
        .arg(example("port-forward.toml"))
        .arg(&new)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("broken.toml").and(predicate::str::contains("N104")));
}

#[test]
fn diff_with_two_invalid_sides_reports_both() {
    natc()
        .args(["diff", "-t", "nftables"])
        .arg(common::root().join("tests/invalid/11-unknown-network.toml"))
        .arg(common::root().join("tests/invalid/01-dnat-prefix-length.toml"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("N104").and(predicate::str::contains("N107")));
}
