#!/usr/bin/env python3
"""Scale benchmark: generate intents with 1k, 10k and 100k mappings, build each for the
iptables and nftables targets with the release binary, and report wall time and peak
memory (from wait4's rusage). Results go into BENCHMARKS.md by hand.

Usage: cargo build --release && python3 scripts/bench.py [--sizes 1000,10000,100000] [--runs 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "natc")


def intent(n: int) -> str:
    """n 1:1 host DNATs of one shape (100.64.x.y -> 10.x.y.z), a masquerade, and filters."""
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
            f'to = "10.{hi // 256}.{hi % 256}.{lo}"',
            'in_interface = "eth0"',
        ]
    return "\n".join(lines) + "\n"


def run(args, must_say=None):
    """Wall time and peak RSS of one run; exits when it fails (or its stderr lacks `must_say`)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0 or (must_say and must_say not in stderr):
        sys.exit(f"failed: {' '.join(args)}\n{stderr[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def measure(args, runs, must_say=None):
    """The median wall time and the peak RSS over `runs` runs."""
    samples = [run(args, must_say) for _ in range(runs)]
    times = sorted(s[0] for s in samples)
    return times[len(times) // 2], max(s[1] for s in samples)


def options(default_sizes):
    """The command line both benchmarks take: (--runs, the --sizes list); the release build
    must exist."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=default_sizes)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build first: cargo build --release")
    return opts.runs, [int(s) for s in opts.sizes.split(",")]


def main():
    runs, sizes = options("1000,10000,100000")
    results = {}
    print("| mappings | target | median time (s) | peak RSS (MiB) | intent size (MiB) |")
    print("|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"bench-{n}.toml")
            with open(path, "w") as f:
                f.write(intent(n))
            size = os.path.getsize(path) / 2**20
            for target in ("iptables", "nftables"):
                out = os.path.join(tmp, f"out-{n}-{target}")
                median, rss = measure([BINARY, "build", path, "-t", target, "-o", out], runs)
                results[(n, target)] = median
                print(f"| {n} | {target} | {median:.3f} | {rss:.1f} | {size:.1f} |", flush=True)
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        for target in ("iptables", "nftables"):
            ratio = results[(b, target)] / results[(a, target)]
            print(f"\n{target}: {b} / {a} mappings = {ratio:.1f}x the time ({b // a}x the input)")


if __name__ == "__main__":
    main()
