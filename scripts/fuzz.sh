#!/bin/sh
# fuzz.sh BUILD_DIR SECONDS [TARGET...] - run each libFuzzer target built in
# BUILD_DIR/fuzz (ZC_FUZZ=ON) for SECONDS, one after the other (default: all
# fuzz_* targets). Seeds come from fuzz/corpus/<name>/ (read only); new
# inputs go to BUILD_DIR/fuzz-corpus/<name>/, crashers to
# BUILD_DIR/fuzz-artifacts/<name>/. Exit 1 if any target found a crash.
# To keep a crasher: fix the bug, then copy the file to
# fuzz/regression/<name>/ with a name saying what it broke.
set -u

[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2; exit 2; }
build=$1
seconds=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)

if [ $# -eq 0 ]; then
    set -- $(cd "$build/fuzz" 2>/dev/null && ls fuzz_* 2>/dev/null | sed 's/^fuzz_//')
fi
[ $# -gt 0 ] || { echo "fuzz.sh: no fuzz targets in $build/fuzz (configure with CC=clang -DZC_FUZZ=ON)" >&2; exit 2; }

status=0
for name in "$@"; do
    bin=$build/fuzz/fuzz_$name
    work=$build/fuzz-corpus/$name
    art=$build/fuzz-artifacts/$name
    mkdir -p "$work" "$art"
    seeds=""
    for d in "$src/fuzz/corpus/$name" "$src/fuzz/regression/$name"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    dict=""
    [ -f "$src/fuzz/$name.dict" ] && dict="-dict=$src/fuzz/$name.dict"
    echo "== fuzz_$name for ${seconds}s"
    # -rss_limit_mb and -timeout catch runaway memory and hangs as failures.
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$art/" $dict \
            "$work" $seeds \
            >"$build/fuzz-$name.log" 2>&1; then
        echo "fuzz_$name: FAILED, see $build/fuzz-$name.log and $art/" >&2
        tail -n 30 "$build/fuzz-$name.log" >&2
        status=1
    fi
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov: ' "$build/fuzz-$name.log" | tail -n 3
done
exit $status
