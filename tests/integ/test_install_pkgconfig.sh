#!/bin/sh
# `make install` layout and pkg-config: install into a DESTDIR, build the example
# program against the installed header and library (shared and static), and
# check it moves files byte-exact to a pipe and to a regular file.
set -eu
: "${ZC_SOURCE_DIR:?}" "${ZC_BUILD_DIR:?}"
command -v pkg-config >/dev/null || { echo "1..0 # SKIP no pkg-config"; exit 77; }
command -v cc >/dev/null || { echo "1..0 # SKIP no cc"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/zctest
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }

# The sanitized build links the ASan runtime; the installed library must work
# without it, so install from a plain configuration of our own.
cmake -S "$ZC_SOURCE_DIR" -B "$tmp/b" -DZC_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$prefix \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/b" -j 2 >/dev/null
DESTDIR="$tmp/root" cmake --install "$tmp/b" >/dev/null
root="$tmp/root$prefix"
check "header installed" "[ -f '$root/include/zcopy.h' ]"
check "shared library installed" "ls '$root'/lib*/libzcopy.so.0 >/dev/null 2>&1"
check "static library installed" "ls '$root'/lib*/libzcopy.a >/dev/null 2>&1"
check "program installed" "[ -x '$root/bin/zcopy' ]"
pcdir=$(dirname "$(ls "$root"/lib*/pkgconfig/zcopy.pc)")
check "zcopy.pc installed" "[ -f '$pcdir/zcopy.pc' ]"
bad=$(nm -D --defined-only "$(ls "$root"/lib*/libzcopy.so.0)" | awk '$2 ~ /[TDB]/ && $3 !~ /^zc_/ {print $3}' | grep -v '^ZCOPY_0$' || true)
check "only zc_* symbols exported (got: ${bad:-none})" "[ -z '$bad' ]"
check "man page zcopy(3) installed" "ls '$root'/share/man/man3/zcopy.3 >/dev/null 2>&1"

# Point pkg-config at the staged tree.
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
cflags=$(pkg-config --cflags zcopy)
libs=$(pkg-config --libs zcopy)
check "pkg-config knows the version" "[ \"\$(pkg-config --modversion zcopy)\" = 0.1.0 ]"
cc -Wall -Werror $cflags "$ZC_SOURCE_DIR/examples/zc_cat.c" $libs -o "$tmp/zc_cat_shared"
cc -Wall -Werror $cflags "$ZC_SOURCE_DIR/examples/zc_cat.c" \
    $(pkg-config --static --libs zcopy | sed 's/-lzcopy/-l:libzcopy.a/') -o "$tmp/zc_cat_static"
ok "example builds against the installed library (shared and static)"

head -c 3000001 /dev/urandom > "$tmp/src"
want=$(cksum < "$tmp/src")
libdir=$(dirname "$(ls "$root"/lib*/libzcopy.so.0)")
got=$(LD_LIBRARY_PATH="$libdir" "$tmp/zc_cat_shared" "$tmp/src" | cksum)
check "shared: file -> pipe byte-exact" "[ \"$got\" = \"$want\" ]"
"$tmp/zc_cat_static" "$tmp/src" "$tmp/src" > "$tmp/out"
cat "$tmp/src" "$tmp/src" > "$tmp/want2"
check "static: two files -> regular file byte-exact" "cmp -s '$tmp/out' '$tmp/want2'"
check "missing file reported, exit 1" "! '$tmp/zc_cat_static' '$tmp/nope' >/dev/null 2>&1"

echo "1..$n"
exit $fail
