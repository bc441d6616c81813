#!/usr/bin/env python3
"""Scale benchmark for the field checks (docs/checks.md): time `natc check` on intents with
10k and 100k mappings of every kind the checks index (host DNATs, port forwards on one
address, 1:1 SNAT prefix maps, netmaps, allows, routes), and report the ratio. The intent
is clean: every check runs to the end and finds nothing. Results go into BENCHMARKS.md by hand.

Usage: cargo build --release && python3 scripts/bench-checks.py [--sizes 10000,100000] [--runs 3]
(scripts/bench.py --only check runs the same intent interleaved, with the load average)
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BINARY, CLEAN, measure, options  # noqa: E402  (one way to time runs for both benchmarks)


def addr(base: str, offset: int) -> str:
    """The address `offset` places after `base`."""
    a, b, c, d = (int(x) for x in base.split("."))
    v = (a << 24 | b << 16 | c << 8 | d) + offset
    return f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


def intent(n: int) -> str:
    """n mappings, a quarter of each kind (port forwards up to 35000), plus one route and one
    netmap per 100 mappings."""
    lines = [
        "natc = 1",
        f'name = "bench-checks-{n}"',
        "[[gateway]]",
        'name = "gw"',
        'targets = ["nftables"]',
        "[[gateway.interface]]",
        'name = "eth0"',
        'address = "198.18.0.1/15"',
        "[[gateway.interface]]",
        'name = "eth1"',
        'address = "10.0.0.1/8"',
        "[[gateway.interface]]",
        'name = "eth2"',
        'address = "172.31.0.1/24"',
        "[gateway.policy]",
        'forward = "drop"',
        "[[gateway.snat]]",
        'name = "masq"',
        'out_interface = "eth1"',
        'to = "masquerade"',
    ]
    for k in range(n // 4):
        lines += [  # a host DNAT: 100.64.0.0/10 -> 10.0.0.0/8
            "[[gateway.dnat]]",
            f'name = "host-{k}"',
            f'destination = "{addr("100.64.0.0", k)}"',
            f'to = "{addr("10.0.1.0", k)}"',
            'in_interface = "eth0"',
        ]
        if k < 35000:
            lines += [  # a port forward on the gateway's own address: one address, many ports
                "[[gateway.dnat]]",
                f'name = "fwd-{k}"',
                'destination = "198.18.0.1"',
                'protocol = "tcp"',
                f"port = {30000 + k}",
                f'to = "{addr("10.0.1.0", k)}"',  # the host DNAT's host: the allow below lets both through
                "to_port = 443",
                'in_interface = "eth0"',
            ]
        lines += [  # a 1:1 /29 source map
            "[[gateway.snat]]",
            f'name = "map-{k}"',
            f'source = "{addr("172.16.0.0", 8 * k)}/29"',
            'out_interface = "eth0"',
            f'to = "{addr("100.96.0.0", 8 * k)}/29"',
        ]
        lines += [  # an allow for a real host (port 443: the port forward's to_port)
            "[[gateway.allow]]",
            f'name = "allow-{k}"',
            f'to = "{addr("10.0.1.0", k)}"',
            'protocol = "tcp"',
            "port = 443",
        ]
    for r in range(n // 100):
        lines += [
            "[[gateway.route]]",
            f'to = "{addr("192.168.0.0", r)}"',
            'via = "172.31.0.254"',
            "[[gateway.netmap]]",
            f'name = "site-{r}"',
            f'local = "{addr("172.20.0.0", 256 * r)}/24"',
            f'local_as = "{addr("20.0.0.0", 256 * r)}/24"',
            f'remote_as = "{addr("120.0.0.0", 256 * r)}/24"',
            'interface = "eth2"',
        ]
    return "\n".join(lines) + "\n"


def main():
    runs, sizes, _ = options("10000,100000")
    results = {}
    print("| mappings | median `natc check` (s) | peak RSS (MiB) | intent size (MiB) |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"bench-checks-{n}.toml")
            with open(path, "w") as f:
                f.write(intent(n))
            size = os.path.getsize(path) / 2**20
            median, rss = measure([BINARY, "check", path], runs, must_say=CLEAN)
            results[n] = median
            print(f"| {n} | {median:.3f} | {rss:.1f} | {size:.1f} |", flush=True)
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        print(f"\n{b} / {a} mappings = {results[b] / results[a]:.1f}x the time ({b // a}x the input)")


if __name__ == "__main__":
    main()
