#!/bin/bash
# The seed-003 lab under a real firewalld 1.3 (nftables backend) in a network namespace,
# after linux-kernel-testing.md §1c: vm01 – vm02 (gateway, runs firewalld) – vm03.
# Usage: lab.sh SCRIPT WORKDIR. Prints "key: value" facts for the Rust test to assert;
# exits non-zero only when the lab itself cannot be built. NATC_LAB_BACKEND=iptables runs
# firewalld with FirewallBackend=iptables; NATC_LAB_VERSION=0.6.3 puts a firewall-cmd first
# on the script's PATH that says that version and hands every other call to the real one
# (lab-only: it lets an @0.6 script past its guard to a real 1.3.3 daemon).
set -euo pipefail
script=$1
work=$2
p="natc$$"                      # unique namespace prefix: tests run in parallel
a=$p-vm01 g=$p-vm02 b=$p-vm03

cleanup() {
    for ns in $a $g $b; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

for ns in $a $g $b; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add eth0 netns $a type veth peer name eth0 netns $g
ip link add eth1 netns $g type veth peer name eth0 netns $b
ip -n $a link set eth0 up; ip -n $g link set eth0 up; ip -n $g link set eth1 up; ip -n $b link set eth0 up
ip -n $a addr add 192.168.100.1/24 dev eth0
ip -n $g addr add 192.168.100.2/24 dev eth0
ip -n $g addr add 192.168.200.2/24 dev eth1
ip -n $b addr add 192.168.200.3/24 dev eth0
ip -n $a route add 192.168.100.3/32 via 192.168.100.2     # claim = "routed": vm01's host route (seed 003)

# vm03 tells every TCP client on ports 8080 and 8081 the source address it sees.
ip netns exec $b python3 -c '
import socket, threading
def serve(port):
    s = socket.create_server(("", port))
    while True:
        c, a = s.accept(); c.sendall(a[0].encode() + b"\n"); c.close()
threading.Thread(target=serve, args=(8081,), daemon=True).start()
serve(8080)' &
sleep 0.3
# Masquerade without DNAT: firewalld's own table rejects such routed flows unless told not to.
ip -n $a route add 192.168.200.0/24 via 192.168.100.2
probe() {
    ip netns exec $a timeout 3 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); print(s.recv(64).decode().strip())
except OSError as e:
    print("unreachable")' "$1" "${2:-8080}"
}
echo "before: $(probe 192.168.100.3)"     # negative control: nothing answers before the script ran

# A private system bus and a private /run for firewalld, config in the work dir.
mkdir -p "$work/etc" "$work/sysctl.d"
cp /etc/firewalld/firewalld.conf "$work/etc/"
if [ -n "${NATC_LAB_BACKEND:-}" ]; then
    sed -i "s/^FirewallBackend=.*/FirewallBackend=$NATC_LAB_BACKEND/" "$work/etc/firewalld.conf"
fi
mkdir -p "$work/bin"
if [ -n "${NATC_LAB_VERSION:-}" ]; then
    real=$(command -v firewall-cmd)
    # In python, with the real one's interpreter line: the script runs firewalld's client
    # with the interpreter it finds in firewall-cmd's first line.
    { head -n 1 "$real"
      printf 'import os, sys\nif sys.argv[1:] == ["--version"]:\n    print("%s")\n    sys.exit(0)\n' "$NATC_LAB_VERSION"
      printf 'os.execv("%s", ["%s"] + sys.argv[1:])\n' "$real" "$real"
    } > "$work/bin/firewall-cmd"
    chmod +x "$work/bin/firewall-cmd"
fi
cat > "$work/bus.conf" <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$work/bus.sock</listen><auth>EXTERNAL</auth>
 <policy context="default"><allow user="*"/><allow own="*"/>
  <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
  <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
 </policy></busconfig>
EOB
ip netns exec $g dbus-daemon --config-file="$work/bus.conf" --fork --print-pid > "$work/dbus.pid"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus.sock
ip netns exec $g unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /run && exec firewalld --nofork --nopid --system-config $work/etc --log-target file --log-file $work/firewalld.log" &
for _ in $(seq 100); do [ "$(firewall-cmd --state 2>/dev/null)" = running ] && break; sleep 0.1; done
echo "firewalld: $(firewall-cmd --state 2>&1)"

state() {
    firewall-cmd --permanent --direct --get-all-rules
    firewall-cmd --permanent --info-policy natc-forward 2>&1 || true     # none on the 0.6 shape
    firewall-cmd --permanent --direct --get-all-passthroughs
    # natc's rules: direct rules (iptables backend) or natc's own table (nftables backend)
    ip netns exec $g iptables-save | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//'
    ip netns exec $g nft list ruleset | sed -n '/^table ip natc_/,/^}/p'
    ip netns exec $g sysctl -n net.ipv4.ip_forward
}
export NATC_SYSCTL_DIR=$work/sysctl.d
ip netns exec $g env PATH="$work/bin:$PATH" sh "$script" > "$work/run1.log" 2>&1 && echo "run1: ok" || echo "run1: failed $?"
state > "$work/state1"
ip netns exec $g env PATH="$work/bin:$PATH" sh "$script" > "$work/run2.log" 2>&1 && echo "run2: ok" || echo "run2: failed $?"
state > "$work/state2"
cmp -s "$work/state1" "$work/state2" && echo "idempotent: yes" || echo "idempotent: no"
echo "firewalld after: $(firewall-cmd --state 2>&1)"
echo "backend chains: $(ip netns exec $g iptables -w -n -t filter -L FORWARD_direct >/dev/null 2>&1 && echo iptables || echo none)"
echo "after: $(probe 192.168.100.3)"
echo "after 8081: $(probe 192.168.100.3 8081)"
echo "masquerade only: $(probe 192.168.200.3)"
echo "sysctl file: $(cat "$work"/sysctl.d/*.conf | grep -c ip_forward)"
# The MSS vm03 reads on a SYN from vm01 (masqueraded, through eth1): 1460 from the 1500-byte
# veth, unless the intent clamps it (tcp_mss).
ip netns exec $b python3 "$(dirname "$0")/read_mss.py" "$work/mss-ready" > "$work/mss" &
reader=$!
for _ in $(seq 100); do [ -e "$work/mss-ready" ] && break; sleep 0.05; done
ip netns exec $a python3 -c 'import socket; s = socket.socket(); s.settimeout(1); s.connect_ex(("192.168.200.3", 5001))'
wait $reader || true
echo "mss: $(cat "$work/mss")"
