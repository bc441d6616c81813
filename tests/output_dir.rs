//! `-o DIR` writes the output set as one unit (docs/deploy.md, "Writing -o DIR"): every
//! file is staged and checked before the first one is replaced, an interrupted run is
//! completed or discarded by the next one, natc never writes through a symbolic link in
//! DIR, and a file that holds inlined keys is mode 0600 whatever the umask. Each test here
//! failed before: kill -9 left a mix of old and new files and temp files behind, a
//! directory in a file's place stopped the build after earlier files were replaced, a
//! symlinked gateway directory was followed, and key files were 0644 under umask 077.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn natc_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin!("natc").to_path_buf()
}

/// `natc ARGS` under `umask`, with the seed-004 keys set: (exit code, stderr).
fn natc(umask: &str, args: &[&str]) -> (Option<i32>, String) {
    let mut script = format!("umask {umask}; exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${i}\""));
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(natc_bin())
        .args(args)
        .env("VPC_TUNNEL1_PSK", "key-one")
        .env("VPC_TUNNEL2_PSK", "key-two")
        .output()
        .expect("natc runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into())
}

/// Every entry under `dir` (files by contents, directories and links marked), by path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut found = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let path = entry.expect("entry").path();
            let relative = path.strip_prefix(dir).expect("under dir").to_path_buf();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.file_type().is_symlink() {
                found.insert(relative, "<link>".into());
            } else if meta.is_dir() {
                found.insert(relative, "<dir>".into());
                todo.push(path);
            } else {
                found.insert(relative, std::fs::read_to_string(&path).expect("a whole UTF-8 file"));
            }
        }
    }
    found
}

fn files_only(tree: BTreeMap<PathBuf, String>) -> BTreeMap<PathBuf, String> {
    tree.into_iter().filter(|(_, v)| v != "<dir>").collect()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn seed_004() -> String {
    common::root().join("examples/seed-004-vyos-rtx.toml").to_str().expect("utf-8").to_string()
}

#[test]
fn files_holding_inlined_keys_are_0600_whatever_the_umask() {
    for umask in ["077", "022", "000"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let out = out.to_str().expect("utf-8");
        let (code, stderr) = natc(umask, &["build", &seed_004(), "-o", out, "--secrets", "inline"]);
        assert_eq!(code, Some(0), "{stderr}");
        let keyed = Path::new(out).join("vyos-project-a/commands.vyos");
        assert_eq!(mode(&keyed), 0o600, "umask {umask}");
        let text = std::fs::read_to_string(&keyed).expect("read");
        assert!(text.contains("key-one") && text.contains("natc writes it mode 0600"), "{text}");
        // The RTX of seed-004 has no tunnel: no key, the usual mode.
        assert_eq!(mode(&Path::new(out).join("office-rtx/rtx.conf")), 0o644, "umask {umask}");
        // Placeholders only: nothing to hide.
        let (code, stderr) = natc(umask, &["build", &seed_004(), "-o", out]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(mode(&keyed), 0o644, "umask {umask}");
    }
}

#[test]
fn check_reports_a_key_file_that_others_may_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out = out.to_str().expect("utf-8");
    let inline = ["build", &seed_004(), "-o", out, "--secrets", "inline"];
    assert_eq!(natc("022", &inline).0, Some(0));
    let check: Vec<&str> = inline.iter().copied().chain(["--check"]).collect();
    let (code, stderr) = natc("022", &check);
    assert_eq!(code, Some(0), "{stderr}");
    let keyed = Path::new(out).join("vyos-project-a/commands.vyos");
    for loose in [0o644, 0o640, 0o604] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keyed, std::fs::Permissions::from_mode(loose)).expect("chmod");
        let (code, stderr) = natc("022", &check);
        assert_eq!(code, Some(1), "mode {loose:o}: {stderr}");
        assert!(stderr.contains("holds pre-shared keys but is mode") && stderr.contains("0600"), "{stderr}");
    }
}

/// An intent with `gateways` nftables gateways; `version` changes every file, each
/// gateway has `rules` allow rules more (bigger files).
fn fleet(gateways: usize, version: &str, rules: usize) -> String {
    let mut text = format!("natc = 1\nname = \"fleet\"\ndescription = \"fleet version {version}\"\n");
    for i in 0..gateways {
        text.push_str(&format!(
            "\n[[gateway]]\nname = \"gw{i:03}\"\ntargets = [\"nftables\"]\n\
             [[gateway.interface]]\nname = \"eth0\"\naddress = \"198.51.100.{}/24\"\n\
             [[gateway.interface]]\nname = \"eth1\"\naddress = \"10.{}.{}.1/24\"\n\
             [[gateway.snat]]\nname = \"lan-out\"\nsource = \"10.{}.{}.0/24\"\nout_interface = \"eth0\"\nto = \"masquerade\"\n",
            i % 250 + 1,
            i / 250,
            i % 250,
            i / 250,
            i % 250
        ));
        for r in 0..rules {
            text.push_str(&format!(
                "[[gateway.allow]]\nname = \"allow-{r}\"\nfrom = \"10.200.{r}.0/24\"\nprotocol = \"tcp\"\nport = {}\nchain = \"forward\"\n",
                1000 + r
            ));
        }
    }
    text
}

/// `dir` with `fleet-1.toml` and `fleet-2.toml`, and the sets each builds (by path).
struct Fleet {
    dir: tempfile::TempDir,
    sets: [BTreeMap<PathBuf, String>; 2],
}

impl Fleet {
    fn new(gateways: usize) -> Fleet {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut sets = [BTreeMap::new(), BTreeMap::new()];
        for (v, set) in sets.iter_mut().enumerate() {
            std::fs::write(dir.path().join(format!("fleet-{}.toml", v + 1)), fleet(gateways, &(v + 1).to_string(), 0))
                .expect("intent");
            let reference = dir.path().join(format!("reference-{}", v + 1));
            assert_eq!(self_build(dir.path(), v, &reference), Some(0));
            *set = files_only(tree(&reference));
        }
        assert!(sets[0].keys().eq(sets[1].keys()) && sets[0].values().zip(sets[1].values()).all(|(a, b)| a != b));
        Fleet { dir, sets }
    }

    fn intent(&self, version: usize) -> PathBuf {
        self.dir.path().join(format!("fleet-{}.toml", version + 1))
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn build(&self, version: usize) -> (Option<i32>, String) {
        let out = Command::new(natc_bin())
            .arg("build")
            .arg(self.intent(version))
            .arg("-o")
            .arg(self.out())
            .output()
            .expect("natc runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into())
    }
}

fn self_build(dir: &Path, version: usize, out: &Path) -> Option<i32> {
    let intent = dir.join(format!("fleet-{}.toml", version + 1));
    let out = Command::new(natc_bin()).arg("build").arg(intent).arg("-o").arg(out).output().expect("natc runs");
    out.status.code()
}

#[test]
fn a_directory_in_a_files_place_stops_the_build_before_anything_is_replaced() {
    let fleet = Fleet::new(6);
    assert_eq!(fleet.build(0).0, Some(0));
    // The last gateway's rules file is now a directory: the old writer had replaced the
    // other gateways' files by the time it got there.
    let blocker = fleet.out().join("gw005/nftables.nft");
    std::fs::remove_file(&blocker).expect("rm");
    std::fs::create_dir(&blocker).expect("mkdir");
    let before = tree(&fleet.out());
    let (code, stderr) = fleet.build(1);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is a directory where natc writes a file") && stderr.contains("nothing was written"));
    assert_eq!(tree(&fleet.out()), before, "natc changed the output directory");
}

#[test]
fn a_symlinked_gateway_directory_is_refused_and_nothing_is_written_through_it() {
    let fleet = Fleet::new(3);
    assert_eq!(fleet.build(0).0, Some(0));
    let elsewhere = fleet.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let link = fleet.out().join("gw001");
    std::fs::remove_dir_all(&link).expect("rm");
    std::os::unix::fs::symlink(&elsewhere, &link).expect("symlink");
    let before = tree(&fleet.out());
    let (code, stderr) = fleet.build(1);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("gw001 is a symbolic link"), "{stderr}");
    assert!(tree(&elsewhere).is_empty(), "natc wrote through the link");
    assert_eq!(tree(&fleet.out()), before, "natc changed the output directory");
    // A link in a file's place is not written through either: it is replaced by the file.
    std::fs::remove_file(&link).expect("rm");
    let target = elsewhere.join("kept");
    std::fs::write(&target, "kept").expect("write");
    std::fs::create_dir(&link).expect("mkdir");
    std::os::unix::fs::symlink(&target, link.join("nftables.nft")).expect("symlink");
    assert_eq!(fleet.build(1).0, Some(0));
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "kept");
    assert_eq!(files_only(tree(&fleet.out())), fleet.sets[1]);
}

/// The staging areas of `-o` (DIR/.natc-staging-<pid>) and what is in them.
trait Staging {
    fn starts_with_staging(&self) -> bool;
}

impl Staging for PathBuf {
    fn starts_with_staging(&self) -> bool {
        self.components().next().is_some_and(|c| c.as_os_str().to_string_lossy().starts_with(".natc-staging-"))
    }
}

const ROUNDS: usize = 60;

/// A small deterministic generator (no rand dependency): the same moments on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

#[test]
fn kill_9_at_any_moment_leaves_whole_old_or_new_files_and_the_next_run_completes_the_set() {
    let fleet = Fleet::new(12);
    assert_eq!(fleet.build(0).0, Some(0));
    // How long one build takes here, to spread the kills over it (not asserted on).
    let start = Instant::now();
    assert_eq!(fleet.build(1).0, Some(0));
    let span = start.elapsed().as_micros() as u64 + 1;
    let mut random = Lcg(12);
    let (mut staging_seen, mut marked) = (0, 0);
    for round in 0..ROUNDS {
        let version = round % 2;
        let mut child = Command::new(natc_bin())
            .arg("build")
            .arg(fleet.intent(version))
            .arg("-o")
            .arg(fleet.out())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("natc starts");
        std::thread::sleep(Duration::from_micros(random.next(span * 5 / 4)));
        let _ = child.kill();
        let _ = child.wait();
        let now = tree(&fleet.out());
        let staging: Vec<&PathBuf> = now.keys().filter(|p| p.starts_with_staging()).collect();
        staging_seen += staging.iter().filter(|p| p.components().count() == 1).count();
        marked += staging.iter().filter(|p| p.ends_with("COMMITTED")).count();
        for (path, contents) in &now {
            let name = path.to_string_lossy();
            if path.starts_with_staging() {
                continue;
            }
            if contents == "<dir>" {
                continue;
            }
            let known = fleet.sets.iter().any(|set| set.get(path) == Some(contents));
            assert!(known, "round {round}: {name} is neither version's file (torn or foreign):\n{contents}");
        }
        for path in fleet.sets[0].keys() {
            assert!(now.contains_key(path), "round {round}: {} is gone", path.display());
        }
    }
    eprintln!("one build: {span} µs; of {ROUNDS} kills, {staging_seen} left a staging area, {marked} of them marked");
    let (code, stderr) = fleet.build(1);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(files_only(tree(&fleet.out())), fleet.sets[1], "after one more run the set is the new one");
    assert!(!tree(&fleet.out()).keys().any(|p| p.to_string_lossy().starts_with(".natc-staging")));
}

#[test]
fn a_full_disk_stops_the_build_before_anything_is_replaced() {
    common::require_root_and(&["unshare", "mount", "dd", "truncate", "cp"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let small = dir.path().join("small.toml");
    let big = dir.path().join("big.toml");
    std::fs::write(&small, fleet(6, "1", 0)).expect("intent");
    std::fs::write(&big, fleet(6, "2", 120)).expect("intent");
    let (disk, after) = (dir.path().join("disk"), dir.path().join("after"));
    std::fs::create_dir(&disk).expect("mkdir");
    // In a private mount namespace: a 1 MiB tmpfs holding the small set, filled up but for
    // 16 KiB, then the big set (every rules file grows by pages): the old writer replaced files
    // until the disk was full. The state is copied out before the namespace goes away.
    let script = r#"set -e
mount -t tmpfs -o size=1m natc-test "$DISK"
"$NATC" build "$SMALL" -o "$DISK/out" 2>/dev/null
dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null || true
truncate -s -16k "$DISK/filler"
set +e
"$NATC" build "$BIG" -o "$DISK/out"
echo "exit $?" >&2
set -e
cp -a "$DISK/out" "$AFTER"
"#;
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", script])
        .env("DISK", &disk)
        .env("AFTER", &after)
        .env("NATC", natc_bin())
        .env("SMALL", &small)
        .env("BIG", &big)
        .output()
        .expect("unshare runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let small_set = {
        let r = dir.path().join("small-reference");
        let built = Command::new(natc_bin()).arg("build").arg(&small).arg("-o").arg(&r).output().expect("natc");
        assert!(built.status.success());
        files_only(tree(&r))
    };
    let replaced = files_only(tree(&after)).into_iter().filter(|(p, text)| small_set.get(p) != Some(text)).count();
    assert_eq!(replaced, 0, "natc replaced or left {replaced} file(s) on a full disk:\n{stderr}");
    assert_eq!(files_only(tree(&after)), small_set);
    assert!(stderr.contains("exit 2") && stderr.contains("nothing in it was replaced"), "{stderr}");
}

#[test]
fn the_ansible_rtx_play_renders_its_keys_into_a_private_file_and_natc_writes_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("ansible");
    let intent = common::root().join("tests/rtx/rtx-vpn.toml");
    let (code, stderr) = natc(
        "022",
        &["build", intent.to_str().expect("utf-8"), "--format", "ansible", "-o", out.to_str().expect("utf-8")],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let play = std::fs::read_to_string(out.join("gateway-hq-rtx.yml")).expect("playbook");
    let task = play.split("- name: ").find(|t| t.contains("ansible.builtin.template:")).expect("the template task");
    assert!(task.contains("mode: \"0600\"") && task.contains("no_log: true"), "{task}");
    // natc's own files there hold variables, not keys: none of them is private.
    for (path, _) in files_only(tree(&out)) {
        assert_eq!(mode(&out.join(&path)) & 0o044, 0o044, "{}", path.display());
    }
}

/// `--check` names the files natc wrote for a gateway the intent no longer has, or for a
/// target a gateway no longer declares, and exits 1; a foreign file, another intent's
/// output and the current files do not count, and natc deletes none of them. Before,
/// `--check` exited 0 with every leftover in place.
#[test]
fn check_names_the_files_of_a_removed_gateway_or_target_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_s = out.to_str().expect("utf-8");
    let intent = dir.path().join("fleet.toml");
    let intent_s = intent.to_str().expect("utf-8");
    std::fs::write(&intent, fleet(2, "1", 0)).expect("write intent");
    assert_eq!(natc("022", &["build", intent_s, "-o", out_s]).0, Some(0));
    // Foreign files beside natc's: no header, another intent's header, a header for
    // another gateway than the directory's, and a file at DIR's top.
    std::fs::write(out.join("gw001/notes.txt"), "# Generated by hand\n").expect("write");
    let other = "# Generated by natc 0.1.0 from intent \"other\" for gateway \"gw001\" (nftables).\n";
    std::fs::write(out.join("gw001/other.nft"), other).expect("write");
    let moved = "# Generated by natc 0.1.0 from intent \"fleet\" for gateway \"gw009\" (nftables).\n";
    std::fs::write(out.join("gw001/moved.nft"), moved).expect("write");
    std::fs::write(out.join("README"), "# Generated by natc 0.1.0 from intent \"fleet\"\n").expect("write");
    // A directory natc never names a gateway (its name would reach the terminal as it is).
    let odd = out.join("Gw\u{1b}[31m");
    std::fs::create_dir(&odd).expect("mkdir");
    let odd_header = "# Generated by natc 0.1.0 from intent \"fleet\" for gateway \"Gw\u{1b}[31m\" (nftables).\n";
    std::fs::write(odd.join("nftables.nft"), odd_header).expect("write");
    let check = ["build", intent_s, "-o", out_s, "--check"];
    let (code, stderr) = natc("022", &check);
    assert_eq!(code, Some(0), "the current output is stale: {stderr}");

    // gw001 is removed from the intent.
    std::fs::write(&intent, fleet(1, "1", 0)).expect("write intent");
    let before = tree(&out);
    let (code, stderr) = natc("022", &check);
    assert_eq!(code, Some(1), "{stderr}");
    let leftover = out.join("gw001/nftables.nft");
    let line = format!(
        "stale: {} (written by natc for gateway \"gw001\", which the intent no longer has)",
        leftover.display()
    );
    assert!(stderr.contains(&line), "{stderr}");
    for foreign in ["notes.txt", "other.nft", "moved.nft", "README", "\u{1b}"] {
        assert!(!stderr.contains(foreign), "{foreign} counted: {stderr}");
    }
    assert!(!stderr.contains("gw000"), "{stderr}");
    // The rules and their setup script.
    assert!(stderr.contains(&format!("stale: {} (", out.join("gw001/nftables-setup.sh").display())), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("stale: ")).count(), 2, "{stderr}");
    // Neither --check nor a build deletes anything.
    assert_eq!(tree(&out), before);
    assert_eq!(natc("022", &["build", intent_s, "-o", out_s]).0, Some(0));
    assert!(leftover.is_file());

    // gw000 now declares iptables only: its nftables file is a leftover too.
    std::fs::write(&intent, fleet(1, "1", 0).replace("[\"nftables\"]", "[\"iptables\"]")).expect("write intent");
    assert_eq!(natc("022", &["build", intent_s, "-o", out_s]).0, Some(0));
    let (code, stderr) = natc("022", &check);
    assert_eq!(code, Some(1), "{stderr}");
    let line = format!(
        "stale: {} (written by natc for target nftables, which gateway \"gw000\" no longer declares)",
        out.join("gw000/nftables.nft").display()
    );
    assert!(stderr.contains(&line), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("stale: ")).count(), 4, "{stderr}");
}

/// `--prune` deletes exactly the files `--check` names as leftovers (natc's header, this
/// intent, a gateway or target no longer built), after the build; every other file stays.
/// It goes with -o and not with --check.
#[test]
fn prune_deletes_natcs_leftovers_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_s = out.to_str().expect("utf-8");
    let intent = dir.path().join("fleet.toml");
    let intent_s = intent.to_str().expect("utf-8");
    std::fs::write(&intent, fleet(2, "1", 0)).expect("write intent");
    assert_eq!(natc("022", &["build", intent_s, "-o", out_s]).0, Some(0));
    let foreign = [
        ("gw001/notes.txt", "# Generated by hand\n".to_string()),
        (
            "gw001/other.nft",
            "# Generated by natc 0.1.0 from intent \"other\" for gateway \"gw001\" (nftables).\n".into(),
        ),
        (
            "gw000/kept.nft",
            "# Generated by natc 0.1.0 from intent \"fleet\" for gateway \"gw000\" (nftables).\n".into(),
        ),
    ];
    for (path, text) in &foreign {
        std::fs::write(out.join(path), text).expect("write");
    }
    std::fs::write(&intent, fleet(1, "1", 0)).expect("write intent");
    for wrong in [&["build", intent_s, "-o", out_s, "--prune", "--check"][..], &["build", intent_s, "--prune"]] {
        let before = tree(&out);
        assert_eq!(natc("022", wrong).0, Some(2), "{wrong:?}");
        assert_eq!(tree(&out), before, "{wrong:?}");
    }
    let (code, stderr) = natc("022", &["build", intent_s, "-o", out_s, "--prune"]);
    assert_eq!(code, Some(0), "{stderr}");
    for gone in ["gw001/nftables.nft", "gw001/nftables-setup.sh"] {
        assert!(!out.join(gone).exists(), "{gone} is still there");
        let line = format!(
            "removed {} (written by natc for gateway \"gw001\", which the intent no longer has)",
            out.join(gone).display()
        );
        assert!(stderr.contains(&line), "{stderr}");
    }
    assert_eq!(stderr.lines().filter(|l| l.starts_with("removed ")).count(), 2, "{stderr}");
    for (path, text) in &foreign {
        assert_eq!(&std::fs::read_to_string(out.join(path)).expect("kept"), text);
    }
    assert!(out.join("gw000/nftables.nft").is_file());
    let (code, stderr) = natc("022", &["build", intent_s, "-o", out_s, "--check"]);
    assert_eq!(code, Some(0), "{stderr}");
}
