#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs what the tests need when it is
# missing (Debian packages, Taplo from npm; needs root), then runs every test. The kernel,
# schema, cloud-init and Ansible tests never skip: without root or the tools they fail and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v iptables-restore >/dev/null 2>&1 || missing+=(iptables)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v sysctl >/dev/null 2>&1 || missing+=(procps)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus-daemon)
command -v firewalld >/dev/null 2>&1 || missing+=(firewalld)
command -v conntrack >/dev/null 2>&1 || missing+=(conntrack)
# natc verify with tunnels (tests/verify.rs, tests/verify_charon.rs): strongSwan's charon,
# swanctl, and userspace ESP (kernel-libipsec, in libcharon-extra-plugins: this kernel has no ESP).
[ -x /usr/lib/ipsec/charon ] || missing+=(strongswan-charon)
command -v swanctl >/dev/null 2>&1 || missing+=(strongswan-swanctl)
[ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] || missing+=(libcharon-extra-plugins)
# tests/ansible.rs: ansible-core plus the community collections (vyos.vyos, ansible.netcommon).
command -v ansible-community >/dev/null 2>&1 || missing+=(ansible)
command -v git >/dev/null 2>&1 || missing+=(git)
python3 -c 'import yaml' >/dev/null 2>&1 || missing+=(python3-yaml)
# cloud-init schema and its YAML loader judge --package cloud-init (it brings python3-yaml).
command -v cloud-init >/dev/null 2>&1 || missing+=(cloud-init)
# tests/schema.rs checks intents with Taplo, the validator inside the Even Better TOML editor
# extension: npm's @taplo/cli (JavaScript and WebAssembly, nothing fetched at install time),
# pinned because the test reads its log.
taplo=false
if ! command -v taplo >/dev/null 2>&1; then
    taplo=true
    command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
needed=("${missing[@]}")
if $taplo; then needed+=(taplo); fi
if [ "${#needed[@]}" -gt 0 ] && [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: the tests need ${needed[*]}; run as root so they can be installed" >&2
    exit 1
fi
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if $taplo; then
    npm install --global --no-audit --no-fund @taplo/cli@0.7.0
fi

cargo test --all-targets
