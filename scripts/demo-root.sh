#!/bin/sh
# demo-root.sh DIR - create a demo document root for `make run` (if absent):
# an index.html describing zcopy, files of a few sizes and types, a subdirectory.
set -eu
dir=${1:?usage: demo-root.sh DIR}
[ -e "$dir/index.html" ] && exit 0
mkdir -p "$dir/docs" "$dir/data"

cat > "$dir/index.html" <<'HTML'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>zcopy serve</title>
<link rel="stylesheet" href="style.css"></head>
<body>
<h1>zcopy serve</h1>
<p>This page comes from <code>zcopy serve</code>, an HTTP/1.1 static file server
built on libzcopy: one epoll loop per core, bodies sent with sendfile and
friends (no copy through user space), small files sent with their headers in a
single write, paths confined to the document root by the kernel
(<code>openat2</code> with <code>RESOLVE_BENEATH</code>).</p>
<ul>
<li><a href="docs/">docs/</a> - a directory with its own index</li>
<li><a href="data/small.txt">data/small.txt</a> - 4 KiB of text</li>
<li><a href="data/medium.bin">data/medium.bin</a> - 64 KiB</li>
<li><a href="data/large.bin">data/large.bin</a> - 1 MiB</li>
<li><a href="data/notes.json">data/notes.json</a> - JSON</li>
</ul>
<p>Try: <code>curl -r 0-99 http://127.0.0.1:8080/data/large.bin | wc -c</code></p>
</body></html>
HTML

cat > "$dir/style.css" <<'CSS'
body { font-family: sans-serif; max-width: 44em; margin: 2em auto; line-height: 1.4; }
code { background: #eee; padding: 0 .2em; }
CSS

cat > "$dir/docs/index.html" <<'HTML'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>docs</title></head>
<body><h1>docs</h1><p>Directory URLs without a trailing slash get a 301 to this one.</p>
<p><a href="../">back</a></p></body></html>
HTML

printf '{ "name": "zcopy", "kind": "demo", "sizes": [4096, 65536, 1048576] }\n' \
    > "$dir/data/notes.json"
# Deterministic contents: the same bytes on every machine.
yes 'zcopy serves this line from the page cache.' | head -c 4096 > "$dir/data/small.txt"
head -c 65536 /dev/zero | tr '\0' 'm' > "$dir/data/medium.bin"
head -c 1048576 /dev/zero | tr '\0' 'L' > "$dir/data/large.bin"
echo "demo-root.sh: created $dir"
