#!/bin/sh
# deps.sh GROUP... - install the Debian packages a make target needs.
# Groups: build (compile + test; kcat and python3-confluent-kafka are the
# broker tests' Kafka clients), bench (peers and plots), fuzz (clang, libFuzzer).
# Installs with apt-get when run as root; otherwise prints the one command to run.
set -eu

pkgs=""
for group in "$@"; do
    case "$group" in
    build) pkgs="$pkgs gcc make cmake pkg-config liburing-dev curl python3 iproute2 util-linux procps media-types gnuplot-nox kcat python3-confluent-kafka zstd strace" ;;
    bench) pkgs="$pkgs nginx-light lighttpd wrk gnuplot-nox linux-perf strace wget xfsprogs" ;;
    fuzz)  pkgs="$pkgs clang libclang-rt-14-dev" ;;
    *) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
    esac
done

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "zcopy needs these Debian packages:$missing" >&2
    echo "run:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $missing >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1
    apt-get install -y -q $missing >/dev/null
}
