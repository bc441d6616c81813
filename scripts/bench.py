#!/usr/bin/env python3
"""Scale benchmark: generate intents with 1k, 10k and 100k mappings, build each with the
release binary for every target (RTX up to its device limit, and its refusal beyond it),
run `natc check` and `natc diff`, and report wall time, peak RSS and the load average.
Results go into BENCHMARKS.md by hand.

Peak RSS is the child's own: each run goes through `/usr/bin/time -f %M`, a small C
program whose fork carries ~2 MiB into the child, not this interpreter's memory (Linux
keeps a process's peak RSS across exec, so a child forked from Python reports at least
Python's size: the old figures of 14-29 MiB for 1k-10k were the harness).

The machine is shared, so sizes are run interleaved: each round runs every size once, and
a ratio (100k / 10k) is taken within one round; the table gives the median over rounds.
Seven rounds by default: with three, one slow round moved a 100k/10k ratio by a whole
point (session 24 measured 11.6x for iptables; seven-round runs of the same binary on a
quiet machine gave 9.6x to 10.5x, BENCHMARKS.md session 25).

Usage: cargo build --release && python3 scripts/bench.py [--sizes 1000,10000,100000]
       [--runs 7] [--only build,rtx,check,diff]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# NATC=/path/to/natc measures another build (e.g. main's, for a before/after).
BINARY = os.environ.get("NATC", os.path.join(ROOT, "target", "release", "natc"))
TIME = "/usr/bin/time"
LINUX_TARGETS = ("iptables", "nftables", "firewalld", "vyos")
# natc's NAT descriptor entries on RTX are numbered 1-9999 (src/backend/rtx/mod.rs, ENTRY_IDS).
RTX_LIMIT = 9999
# What `natc check` says of an intent without findings. With its opening parenthesis: a bare
# "0 warning(s)" also matched "25000 warning(s)", so the check benchmark measured, unnoticed,
# the rendering of 25,000 warnings (its port forwards went to hosts no allow let through).
CLEAN = " gateway(s), 0 warning(s))"


def host(i: int, base_hi: int) -> str:
    """The i-th address of a run of /32s from `base_hi`.0.0.0 upwards, skipping .0."""
    v = (base_hi << 24) + (100 << 16) + i + 1
    return f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


def intent(n: int, changed: int = -1) -> str:
    """n 1:1 host DNATs of one shape (100.64.x.y -> 10.x.y.z), a masquerade, and filters.
    `changed`: the index of a mapping whose inner address differs (for `natc diff`)."""
    lines = [
        "natc = 1",
        f'name = "bench-{n}"',
        "[[gateway]]",
        'name = "gw"',
        "[[gateway.interface]]",
        'name = "eth0"',
        'address = "198.18.0.1/15"',
        "[[gateway.interface]]",
        'name = "eth1"',
        'address = "10.0.0.1/8"',
        "[gateway.policy]",
        'forward = "drop"',
        "[[gateway.snat]]",
        'name = "masq"',
        'out_interface = "eth1"',
        'to = "masquerade"',
        "[[gateway.allow]]",
        'name = "web"',
        'to = "10.0.0.0/8"',
        'protocol = "tcp"',
        "port = [80, 443]",
    ]
    for i in range(n):
        hi, lo = divmod(i, 256)
        lines += [
            "[[gateway.dnat]]",
            f'name = "m{i}"',
            f'destination = "100.64.{hi % 256}.{lo}"' if hi < 256 else f'destination = "100.{65 + hi // 256}.{hi % 256}.{lo}"',
            f'to = "10.{hi // 256}.{hi % 256}.{lo if i != changed else (lo + 1) % 256}"',
            'in_interface = "eth0"',
        ]
    return "\n".join(lines) + "\n"


def rtx_intent(n: int) -> str:
    """n 1:1 static NATs on lan2 (a dnat and its reverse snat each: RTX's static entry is
    two-way), and a masquerade of the outside clients on lan1 so that replies come back
    (without it every mapping is an N204 warning, and rendering 10k warnings is the cost)."""
    lines = [
        "natc = 1",
        f'name = "bench-rtx-{n}"',
        "[[gateway]]",
        'name = "rtx"',
        'targets = ["rtx"]',
        "[[gateway.interface]]",
        'name = "lan1"',
        'address = "10.0.0.1/8"',
        "[[gateway.interface]]",
        'name = "lan2"',
        'address = "198.18.0.1/15"',
        "[[gateway.snat]]",
        'name = "clients"',
        'source = "198.18.0.0/15"',
        'out_interface = "lan1"',
        'to = "masquerade"',
    ]
    for i in range(n):
        outer, inner = host(i, 100), host(i, 10)
        lines += [
            "[[gateway.dnat]]",
            f'name = "m{i:06}"',
            f'destination = "{outer}"',
            f'to = "{inner}"',
            'in_interface = "lan2"',
            "[[gateway.snat]]",
            f'name = "m{i:06}-out"',
            f'source = "{inner}"',
            f'to = "{outer}"',
            'out_interface = "lan2"',
        ]
    return "\n".join(lines) + "\n"


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run(args, must_say=None, status=0):
    """Wall time (s) and peak RSS (MiB) of one run, measured by /usr/bin/time; exits when
    the exit status is not `status` (or stderr lacks `must_say`)."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        proc = subprocess.run([TIME, "-o", rss.name, "-f", "%M", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        stderr = proc.stderr.decode(errors="replace")
        if proc.returncode != status or (must_say and must_say not in stderr):
            sys.exit(f"failed (exit {proc.returncode}): {' '.join(args)}\n{stderr[-3000:]}")
        kib = int(rss.read().split()[-1])
    return elapsed, kib / 1024


def measure(args, runs, must_say=None, status=0):
    """The median wall time and the peak RSS over `runs` runs."""
    samples = [run(args, must_say, status) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def interleaved(cases, runs):
    """`cases`: {key: (args, must_say, status)}. Runs every case once per round, `runs`
    rounds; returns {key: [(time, rss, load), ...]} in round order."""
    out = {k: [] for k in cases}
    for _ in range(runs):
        for k, (args, must_say, status) in cases.items():
            before = os.getloadavg()[0]
            t, rss = run(args, must_say, status)
            out[k].append((t, rss, before))
    return out


def summary(samples):
    """Median time, max RSS, the load averages seen (min-max of the 1-minute figure)."""
    loads = [s[2] for s in samples]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples), f"{min(loads):.1f}-{max(loads):.1f}"


def ratio(samples, big, small):
    """The median over rounds of big/small, each ratio within one round."""
    return statistics.median(b[0] / s[0] for b, s in zip(samples[big], samples[small]))


def options(default_sizes):
    """The command line every benchmark takes: (--runs, the --sizes list, --only); the
    release build must exist."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=default_sizes)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="build,rtx,check,diff")
    opts = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build first: cargo build --release")
    if not os.path.exists(TIME):
        sys.exit(f"{TIME} is needed for peak RSS (Debian: apt-get install time)")
    return opts.runs, [int(s) for s in opts.sizes.split(",")], opts.only.split(",")


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def bench_builds(tmp, sizes, runs):
    print("\n### Builds\n")
    print("| mappings | target | median time (s) | peak RSS (MiB) | intent (MiB) | load avg (1 min) |")
    print("|---:|---|---:|---:|---:|---|")
    paths = {n: write(tmp, f"bench-{n}.toml", intent(n)) for n in sizes}
    for target in LINUX_TARGETS:
        cases = {
            n: ([BINARY, "build", paths[n], "-t", target, "-o", os.path.join(tmp, f"out-{n}-{target}")], None, 0)
            for n in sizes
        }
        samples = interleaved(cases, runs)
        for n in sizes:
            t, rss, ld = summary(samples[n])
            size = os.path.getsize(paths[n]) / 2**20
            print(f"| {n} | {target} | {t:.3f} | {rss:.1f} | {size:.1f} | {ld} |", flush=True)
        if len(sizes) >= 2:
            a, b = sizes[-2], sizes[-1]
            print(f"| {b}/{a} | {target} | **{ratio(samples, b, a):.1f}x** (per round) | | | |", flush=True)


def bench_rtx(tmp, runs, refuse_at):
    print("\n### RTX (static NAT entries; the device limit is 9,999 per descriptor)\n")
    print("| mappings | outcome | median time (s) | peak RSS (MiB) | load avg (1 min) |")
    print("|---:|---|---:|---:|---|")
    sizes = [1000, RTX_LIMIT]
    paths = {n: write(tmp, f"rtx-{n}.toml", rtx_intent(n)) for n in sizes + [refuse_at]}
    cases = {n: ([BINARY, "build", paths[n], "-o", os.path.join(tmp, f"rtx-out-{n}")], None, 0) for n in sizes}
    # Beyond the limit: refused (exit 1), naming the first mapping that does not fit.
    first_out = f"m{RTX_LIMIT:06}"
    cases[refuse_at] = ([BINARY, "build", paths[refuse_at], "-o", os.path.join(tmp, "rtx-out-refused")], first_out, 1)
    samples = interleaved(cases, runs)
    for n in sizes + [refuse_at]:
        t, rss, ld = summary(samples[n])
        outcome = f"refused, names {first_out}" if n == refuse_at else "built"
        print(f"| {n} | {outcome} | {t:.3f} | {rss:.1f} | {ld} |", flush=True)
    print(f"| {RTX_LIMIT}/1000 | | **{ratio(samples, RTX_LIMIT, 1000):.1f}x** (per round) | | |")
    print(f"| {refuse_at} refused / {RTX_LIMIT} built | | **{ratio(samples, refuse_at, RTX_LIMIT):.1f}x** | | |")


def bench_check(tmp, sizes, runs):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import importlib

    checks = importlib.import_module("bench-checks")
    print("\n### natc check (scripts/bench-checks.py's intent: every kind the checks index)\n")
    print("| mappings | median time (s) | peak RSS (MiB) | load avg (1 min) |")
    print("|---:|---:|---:|---|")
    sizes = [n for n in sizes if n >= 10000] or sizes
    paths = {n: write(tmp, f"checks-{n}.toml", checks.intent(n)) for n in sizes}
    samples = interleaved({n: ([BINARY, "check", paths[n]], CLEAN, 0) for n in sizes}, runs)
    for n in sizes:
        t, rss, ld = summary(samples[n])
        print(f"| {n} | {t:.3f} | {rss:.1f} | {ld} |", flush=True)
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        print(f"| {b}/{a} | **{ratio(samples, b, a):.1f}x** (per round) | | |")


def bench_diff(tmp, n, runs):
    print(f"\n### natc diff: two {n}-mapping intents that differ in one mapping, four targets\n")
    print("| run | median time (s) | peak RSS (MiB) | load avg (1 min) |")
    print("|---|---:|---:|---|")
    old = write(tmp, f"diff-old-{n}.toml", intent(n))
    new = write(tmp, f"diff-new-{n}.toml", intent(n, changed=n // 2))
    targets = [x for t in LINUX_TARGETS for x in ("-t", t)]
    cases = {
        "build (one side, 4 targets)": ([BINARY, "build", old, *targets, "-o", os.path.join(tmp, "diff-build")], None, 0),
        "diff (4 targets)": ([BINARY, "diff", old, new, *targets], None, 0),
        "diff -t vyos": ([BINARY, "diff", old, new, "-t", "vyos"], None, 0),
    }
    samples = interleaved(cases, runs)
    for k in cases:
        t, rss, ld = summary(samples[k])
        print(f"| {k} | {t:.3f} | {rss:.1f} | {ld} |", flush=True)
    print(f"| diff / build | **{ratio(samples, 'diff (4 targets)', 'build (one side, 4 targets)'):.2f}x** (per round) | | |")


def main():
    runs, sizes, only = options("1000,10000,100000")
    print(f"natc {subprocess.run([BINARY, '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"{os.cpu_count()} CPUs, load average at start {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        if "build" in only:
            bench_builds(tmp, sizes, runs)
        if "rtx" in only:
            bench_rtx(tmp, runs, max(sizes[-1], RTX_LIMIT + 1))
        if "check" in only:
            bench_check(tmp, sizes, runs)
        if "diff" in only:
            bench_diff(tmp, sizes[-1], runs)
    print(f"\nload average at the end {load()}")


if __name__ == "__main__":
    main()
