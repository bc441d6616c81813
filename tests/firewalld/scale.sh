#!/bin/bash
# A firewalld.sh against a real firewalld 1.3 on the given backend, in a network namespace
# with a private system bus: apply, `firewall-cmd --reload`, then a restart of the daemon
# (SIGTERM, as systemctl stop sends, and a new start). After each step the kernel's view of
# natc's rules goes to WORK/kernel-STEP (nft's table listing and iptables-save's nat table).
# With PROBE=ADDRESS:TARGET (a mapping's public address and where it leads), after the
# restart ROUNDS rounds (default 3) of FLOWS new UDP flows (default 200) go from a client
# namespace through the gateway to a server namespace holding TARGET: "delivered" is what the
# server counted, "flows per second" each round's rate (raw packets, one new source port or
# address each: every packet is a new conntrack entry and takes the NAT lookup). With
# BASELINE=ADDRESS:TARGET too (the first mapping), each round sends to it first ("baseline
# flows per second"): the two alternate, so a busy machine slows both alike.
# Usage: scale.sh BACKEND SCRIPT WORK. Prints "key: value" facts; exits non-zero only when
# the lab itself cannot be built. Used by tests/firewalld_scale.rs and scripts/bench_firewalld.py.
set -euo pipefail
backend=$1 script=$2 work=$3
ns="natcs$$" client="natcc$$" server="natcv$$"
mkdir -p "$work/etc" "$work/sysctl.d"
cleanup() {
    for n in "$ns" "$client" "$server"; do
        for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$n" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM
for n in "$ns" "$client" "$server"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add eth0 netns "$client" type veth peer name eth0 netns "$ns"
ip link add eth1 netns "$ns" type veth peer name eth0 netns "$server"
ip -n "$client" link set eth0 up; ip -n "$ns" link set eth0 up; ip -n "$ns" link set eth1 up; ip -n "$server" link set eth0 up
sed "s/^FirewallBackend=.*/FirewallBackend=$backend/" /etc/firewalld/firewalld.conf > "$work/etc/firewalld.conf"
cat > "$work/bus.conf" <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$work/bus.sock</listen><auth>EXTERNAL</auth>
 <policy context="default"><allow user="*"/><allow own="*"/>
  <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
  <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
 </policy></busconfig>
EOB
ip netns exec "$ns" dbus-daemon --config-file="$work/bus.conf" --fork --print-pid > "$work/dbus.pid"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus.sock NATC_SYSCTL_DIR=$work/sysctl.d

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
fwd_pid=
start() {
    ip netns exec "$ns" unshare -m --propagation private sh -c \
        "mount -t tmpfs tmpfs /run && exec firewalld --nofork --nopid --system-config $work/etc --log-target file --log-file $work/firewalld.log" \
        </dev/null >/dev/null 2>&1 &
    fwd_pid=$!
    # firewalld answers --state "running" only once its configuration is applied.
    for _ in $(seq 1200); do [ "$(firewall-cmd --state 2>/dev/null)" = running ] && return 0; sleep 0.1; done
    return 1
}
kernel() {
    { ip netns exec "$ns" nft list ruleset | sed -n '/^table ip natc_/,/^}/p'
      ip netns exec "$ns" iptables-save -t nat | sed '/^#/d'; } > "$work/kernel-$1"
}
t=$(now); start && echo "firewalld: running" || echo "firewalld: failed"
echo "start seconds: $(since "$t")"
t=$(now)
if ip netns exec "$ns" sh "$script" > "$work/apply.log" 2>&1; then echo "apply: ok"; else echo "apply: failed $?"; fi
echo "apply seconds: $(since "$t")"
kernel apply
t=$(now)
if firewall-cmd --reload > "$work/reload.log" 2>&1; then echo "reload: ok"; else echo "reload: failed $?"; fi
echo "reload seconds: $(since "$t")"
kernel reload
kill "$fwd_pid"
for _ in $(seq 600); do kill -0 "$fwd_pid" 2>/dev/null || break; sleep 0.1; done
t=$(now); start && echo "restart: ok" || echo "restart: failed"
echo "restart seconds: $(since "$t")"
kernel restart
echo "firewalld after: $(firewall-cmd --state 2>&1)"
[ -n "${PROBE:-}" ] || exit 0

# The flows: client 198.18.0.2/15 on the gateway's eth0 side; the server holds the target.
address=${PROBE%%:*} target=${PROBE#*:}
ip -n "$client" addr add 198.18.0.2/15 dev eth0
ip -n "$client" route add default via 198.18.0.1
ip -n "$server" addr add "$target/32" dev eth0
[ -z "${BASELINE:-}" ] || ip -n "$server" addr replace "${BASELINE#*:}/32" dev eth0
ip -n "$server" route add 10.0.0.0/8 dev eth0
ip -n "$server" route add default dev eth0
ip netns exec "$server" nft -f - <<'NFT'
table ip count {
    chain in {
        type filter hook prerouting priority 0; policy accept;
        udp dport 9 counter drop
    }
}
NFT
# The gateway answers ARP for nothing else: put its own addresses on its ports.
ip -n "$ns" addr add 198.18.0.1/15 dev eth0 2>/dev/null || true
ip -n "$ns" addr add 10.0.0.1/8 dev eth1 2>/dev/null || true
delivered() { ip netns exec "$server" nft list chain ip count in | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
send() {   # send ADDRESS FLOWS ROUND: prints the rate
    ip netns exec "$client" python3 - "$@" <<'PY'
import socket, struct, sys, time
address, flows, round_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def packet(i):
    # A source of its own per flow and round: 198.18.<round>.<x>, ports from 1024.
    src = socket.inet_aton("198.18.%d.%d" % (round_ * 8 + i // 60000, 2 + (i // 60000) % 250))
    return struct.pack("!BBHHHBBH4s4sHHHH", 0x45, 0, 28, 0, 0, 64, 17, 0, src,
                       socket.inet_aton(address), 1024 + i % 60000, 9, 8, 0)
packets = [packet(i) for i in range(flows)]
start = time.perf_counter()
for p in packets:
    s.sendto(p, (address, 0))
print("%.0f" % (flows / (time.perf_counter() - start)))
PY
}
for round in $(seq "${ROUNDS:-3}"); do
    if [ -n "${BASELINE:-}" ]; then
        echo "baseline flows per second $round: $(send "${BASELINE%%:*}" "${FLOWS:-200}" $((2 * round)))"
        sleep 0.2
    fi
    echo "flows per second $round: $(send "$address" "${FLOWS:-200}" $((2 * round + 1)))"
    sleep 0.2
done
echo "delivered: $(delivered)"
