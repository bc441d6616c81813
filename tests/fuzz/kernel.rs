//! The kernel sample: Linux files of valid intents loaded in one fresh network namespace
//! (`unshare --net`, gone when its shell exits), in a single batch so it stays cheap.
//! Rules files are loaded for real with `iptables-restore` and nft scripts with `nft -f`:
//! the namespace is thrown away, and a real load also refuses what `--test` and `nft -c`
//! let through (a jump to a chain that does not exist). The setup and firewalld scripts
//! get `sh -n` (a quote in a description must not break them), and the packagings' YAML
//! (cloud-init, Ansible) is read by PyYAML, as Ansible and cloud-init read it.
//!
//! VyOS and RTX outputs are judged only when FUZZ_DEVICE_CHECKERS names a folder with the
//! external `vyos-check` and `rtx-check` grammar checkers: the repository's tests never
//! need them.

use super::oracle::SampleFile;
use std::process::Command;

/// One file the kernel or the shell refused, with what it said.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub index: usize,
    pub message: String,
}

pub fn require_tools() {
    let uid = Command::new("id").arg("-u").output().expect("id runs");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "the kernel sample needs root (run scripts/test.sh as root)"
    );
    for tool in ["unshare", "iptables-restore", "nft", "sh", "python3"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).status().expect("sh runs");
        assert!(found.success(), "`{tool}` is missing: scripts/test.sh installs it when run as root");
    }
}

/// The folder of `vyos-check` and `rtx-check`, when FUZZ_DEVICE_CHECKERS names one.
pub fn device_checkers() -> Option<String> {
    std::env::var("FUZZ_DEVICE_CHECKERS").ok().filter(|d| !d.is_empty())
}

/// The checker command for a VyOS or RTX file, when FUZZ_DEVICE_CHECKERS is set.
fn device_checker(f: &SampleFile) -> Option<Vec<String>> {
    use natc::backend::TargetKind;
    let dir = device_checkers();
    let tool = |name: &str| dir.as_ref().map(|d| format!("{d}/{name}"));
    match f.kind {
        Some(TargetKind::Vyos) => {
            // Not --strict: that also refuses what cannot be checked offline (whether an
            // interface named in a route exists on the router), which is no fault of the file.
            let schema = if f.profile.as_deref() == Some("1.4") { "1.4" } else { "current" };
            Some(vec![tool("vyos-check")?, "--schema".into(), schema.into()])
        }
        Some(TargetKind::Rtx) => {
            Some(vec![tool("rtx-check")?, "--model".into(), f.profile.clone().unwrap_or_else(|| "RTX1210".into())])
        }
        _ => None,
    }
}

fn is_yaml(f: &SampleFile) -> bool {
    f.name.ends_with(".yml") || f.name.ends_with(".yaml")
}

/// Reads each file named on the command line as YAML documents, as Ansible and cloud-init do.
const YAML_JUDGE: &str = "import sys, yaml
for name in sys.argv[1:]:
    try:
        list(yaml.safe_load_all(open(name, encoding='utf-8')))
    except Exception as e:
        print('FAIL', name, ' '.join(str(e).split())[:300])
";

/// The command that judges one file.
fn judge(f: &SampleFile) -> &'static str {
    if f.name.ends_with(".rules") {
        "iptables-restore <"
    } else if f.name.ends_with(".nft") {
        "nft -f"
    } else {
        "sh -n"
    }
}

/// Load every file in one namespace; the files it refused, by index.
pub fn load(files: &[SampleFile]) -> Vec<Refusal> {
    if files.is_empty() {
        return Vec::new();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut script = String::from("cd \"$1\"\n");
    let mut yaml = Vec::new();
    let mut devices: std::collections::BTreeMap<Vec<String>, Vec<String>> = Default::default();
    for (i, f) in files.iter().enumerate() {
        std::fs::write(dir.path().join(i.to_string()), &f.contents).expect("write a sample file");
        if is_yaml(f) {
            yaml.push(i.to_string());
            continue;
        }
        if let Some(checker) = device_checker(f) {
            devices.entry(checker).or_default().push(i.to_string());
            continue;
        }
        script.push_str(&format!(
            "{} {i} >/dev/null 2>err || {{ echo \"FAIL {i} $(head -c 300 err | tr '\\n' ' ')\"; }}\n",
            judge(f)
        ));
    }
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c", &script, "sh"])
        .arg(dir.path())
        .output()
        .expect("unshare runs");
    assert!(out.status.success(), "the kernel sample did not run: {}", String::from_utf8_lossy(&out.stderr));
    let mut report = String::from_utf8_lossy(&out.stdout).to_string();
    if !yaml.is_empty() {
        // One interpreter for all the YAML files: starting Python per file costs more than the rest.
        let out = Command::new("python3")
            .args(["-c", YAML_JUDGE])
            .args(&yaml)
            .current_dir(dir.path())
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "the YAML judge did not run: {}", String::from_utf8_lossy(&out.stderr));
        report.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    for (command, names) in devices {
        // The checkers report `<file>:<line>: <problem>`, one line per problem.
        let out = Command::new(&command[0])
            .args(&command[1..])
            .args(&names)
            .current_dir(dir.path())
            .output()
            .expect("a checker runs");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{} failed: {}",
            command[0],
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((file, problem)) = line.split_once(':') {
                report.push_str(&format!("FAIL {file} {}\n", problem.chars().take(300).collect::<String>()));
            }
        }
    }
    report
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("FAIL ")?;
            let (index, message) = rest.split_once(' ').unwrap_or((rest, ""));
            Some(Refusal { index: index.parse().ok()?, message: message.trim().to_string() })
        })
        .collect()
}
