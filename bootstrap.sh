#!/usr/bin/env bash
# bootstrap.sh: the README's two set-up commands, for a fresh Debian 12 machine, as root.
#   ./bootstrap.sh         install what is missing, build, and run a 10-second system-wide report
#   ./bootstrap.sh test    install what is missing (test packages too), build, run every test
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PACKAGES=(make gcc libc6-dev clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	libjansson-dev libdw-dev linux-libc-dev)
# podman, runc and busybox-static run the container tests; redis and chromium the stack tests;
# redis, sqlite3 and postgresql the findings tests; linux-perf the playbook's perf command.
# util-linux gives losetup, unshare and setpriv; mount and e2fsprogs the journaled loop fs.
TEST_PACKAGES=(libcmocka-dev python3 python3-pytest e2fsprogs mount util-linux
	procps bpftrace podman runc busybox-static redis-server redis-tools chromium python3-pil
	sqlite3 postgresql linux-perf)

usage() {
	echo "usage: $0 [report|test]" >&2
	exit 2
}

missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			echo "$p"
	done
}

install_packages() {
	local need
	need=$(missing_packages "$@")
	[ -z "$need" ] && return 0
	echo "bootstrap: installing" $need >&2
	apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
}

what=${1:-report}
case "$what" in
report | test) ;;
*) usage ;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "bootstrap: run as root (sudo $0 $what): it installs packages and loads BPF programs" >&2
	exit 1
fi

install_packages "${BUILD_PACKAGES[@]}"
if [ "$what" = report ]; then
	make -j"$(nproc)" writeamp
	exec ./writeamp report -d 10
fi
install_packages "${TEST_PACKAGES[@]}"
make -j"$(nproc)"
exec make test
