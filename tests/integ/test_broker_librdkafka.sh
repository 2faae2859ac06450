#!/bin/sh
# test_broker_librdkafka.sh - librdkafka 2.0.2's own integration tests, the
# compatibility gate other Kafka-compatible brokers (Redpanda, Tansu) run,
# against zcopy broker. The tests come from Debian's librdkafka source package,
# fetched and built on first use into a cache directory outside the tree
# (never committed): $ZC_LIBRDKAFKA_CACHE, default ~/.cache/zcopy. Which tests
# run, and why each other one is left out: librdkafka_tests.txt beside this.
#
# Skips (77) when the source cannot be fetched or built (no network to
# Debian's archive, not root for apt-get, no compiler).
set -u

here=$(cd "$(dirname "$0")" && pwd)
list="$here/librdkafka_tests.txt"
version=2.0.2
cache=${ZC_LIBRDKAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcopy}
src="$cache/librdkafka-$version"
runner="$src/tests/test-runner"

skip() { echo "1..0 # SKIP $*"; exit 77; }
[ -x "${ZCOPY:-}" ] || skip "ZCOPY not set (run through ctest)"

# Fetch and build once (about 80 s on two cores), under a lock so a plain
# and a sanitizer run never build into the same tree at once.
build() {
    [ -x "$runner" ] && return 0
    [ "$(id -u)" -eq 0 ] || { echo "# not root: cannot apt-get source" >&2; return 1; }
    work="$cache/fetch"
    rm -rf "$work" && mkdir -p "$work/lists/partial" || return 1
    # Debian's default sources list binaries only: a throwaway deb-src list.
    echo "deb-src http://deb.debian.org/debian bookworm main" > "$work/sources.list"
    apt_opts="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$work/lists"
    (cd "$work" && apt-get -q $apt_opts update && apt-get -q $apt_opts source --download-only "librdkafka=$version-1") \
        > "$work/fetch.log" 2>&1 || { tail -5 "$work/fetch.log" >&2; return 1; }
    tar -xzf "$work/librdkafka_$version.orig.tar.gz" -C "$cache" || return 1
    (cd "$src" && ./configure --disable-ssl --disable-gssapi --disable-zstd --disable-lz4-ext &&
        make -j2 libs && make -j2 -C tests build) > "$cache/build.log" 2>&1 ||
        { tail -20 "$cache/build.log" >&2; return 1; }
    rm -rf "$work"
    [ -x "$runner" ]
}

mkdir -p "$cache" || skip "cannot create $cache"
exec 9> "$cache/.lock"
flock 9
build || skip "librdkafka $version tests could not be fetched or built (see above)"
flock -u 9

tests=$(awk '$2 == "run" { printf "%s ", $1 }' "$list")
[ -n "$tests" ] || { echo "1..0 # no tests listed in $list"; exit 1; }

tmp=$(mktemp -d) || exit 1
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The suite assumes Kafka's defaults with topic auto-creation; Redpanda runs
# it with 4 partitions per auto-created topic, as here.
# ZC_BROKER_LOOP=uring runs it on the io_uring event loop.
"$ZCOPY" broker "$tmp/data" --listen 127.0.0.1:0 --threads 2 --partitions 4 \
    ${ZC_BROKER_LOOP:+--loop "$ZC_BROKER_LOOP"} \
    > "$tmp/broker.out" 2> "$tmp/broker.err" &
pid=$!
i=0
while ! grep -q "kafka://" "$tmp/broker.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 300 ] && { echo "not ok 1 - broker did not start"; cat "$tmp/broker.err"; exit 1; }
    sleep 0.1
done
addr=$(sed -n 's|.*kafka://\([^ ]*\) .*|\1|p' "$tmp/broker.out")
echo "# $(cat "$tmp/broker.out")"

cat > "$tmp/test.conf" <<EOF
bootstrap.servers=$addr
test.timeout.multiplier=2
EOF

# One runner per test: the runner kills itself when a test times out, which
# would take the rest of the list with it. -E: no sockem (socket fault
# injection) tests; -Q: quick mode, fewer messages. CI=true always, as the
# project's CI sets it: the suite then reports its wall-clock assertions
# (0001's "instance under 999 ms", 0053's stats interval +-25%) as warnings,
# allows longer timeouts, and 0055 (latency) skips itself. Without it a
# local run applied them strictly (under ASan on a loaded machine it could
# fail on time alone) and ran otherwise than CI.
echo "# librdkafka $version tests against $addr"
n=0
failed=0
: > "$tmp/run.log"
for t in $tests; do
    n=$((n + 1))
    (cd "$src/tests" && LD_LIBRARY_PATH="$src/src:$src/src-cpp" \
        RDKAFKA_TEST_CONF="$tmp/test.conf" TESTS="$t" TEST_KAFKA_VERSION=2.4.0 CI=true \
        timeout 300 ./test-runner -p1 -E -Q) > "$tmp/one.log" 2>&1
    rc=$?
    cat "$tmp/one.log" >> "$tmp/run.log"
    # The runner's summary table has one row per test it ran. A test may skip
    # itself (0055 does when the CI variable is set: latency is not reliable
    # there); that is reported as a TAP skip with the test's own reason.
    row=$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/one.log" | grep -E "^\| ${t}_[^ ]* +\| " | head -1)
    status=$(printf '%s\n' "$row" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
    if [ $rc -eq 0 ] && [ "$status" = PASSED ]; then
        echo "ok $n - librdkafka test $t"
    elif [ $rc -eq 0 ] && [ "$status" = SKIPPED ]; then
        reason=$(printf '%s\n' "$row" | awk -F'|' '{sub(/^ +/, "", $5); sub(/ +$/, "", $5); print $5}')
        echo "ok $n - librdkafka test $t # SKIP ${reason:-skipped by the test itself}"
    else
        failed=1
        echo "not ok $n - librdkafka test $t (runner exit $rc)"
        sed 's/\x1b\[[0-9;]*m//g' "$tmp/one.log" | grep -v "| *DNS *|" | tail -25 | sed 's/^/# /'
    fi
done
# Kept for a look after a failure (the temporary directory goes at exit).
log="${ZC_BUILD_DIR:-$cache}/librdkafka-tests.log"
cp "$tmp/run.log" "$log" 2>/dev/null && echo "# full log: $log"
kill -TERM "$pid"
wait "$pid"
brc=$?
pid=
n=$((n + 1))
if [ $brc -eq 0 ]; then echo "ok $n - broker exit 0 on SIGTERM"; else echo "not ok $n - broker exit $brc"; failed=1; sed 's/^/# /' "$tmp/broker.err"; fi
echo "1..$n"
exit $failed
