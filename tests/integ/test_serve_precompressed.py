#!/usr/bin/env python3
"""zcopy serve --precompressed: FILE.br / FILE.zst / FILE.gz chosen by
Accept-Encoding (q-values, q=0, *, identity per RFC 9110 12.5.3), with
Content-Encoding, the original's Content-Type, Vary on every answer that
could differ, a per-variant ETag, conditionals and Range on the variant,
HEAD = GET, stale variants ignored; curl --compressed as a real client."""
import gzip
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import Server, done, eq, exchange, make_root, ok, request, write  # noqa: E402

root = make_root()
html = b"".join(b"<p>line %d of a page that compresses well</p>\n" % i
                for i in range(2500))           # about 100 KiB
gz = gzip.compress(html, 9, mtime=0)
fake_br = b"BR:" + gz[:1000]                    # the server never looks inside
fake_zst = b"ZST:" + gz[:2000]
old = time.time() - 3600


def put(rel, data, mtime=old):
    p = write(root, rel, data)
    os.utime(p, (mtime, mtime))


put("page.html", html)
put("page.html.gz", gz)
put("page.html.br", fake_br)
put("page.html.zst", fake_zst)
put("gzonly.html", html)
put("gzonly.html.gz", gz)
put("small.txt", b"hello hello hello hello\n" * 20)
put("small.txt.gz", gzip.compress(b"hello hello hello hello\n" * 20, mtime=0))
put("plain.css", b"body{}\n")                   # no variant at all
put("stale.html", html, mtime=old + 60)         # edited after compressing
put("stale.html.gz", gz, mtime=old)
put("dir/index.html", html)
put("dir/index.html.gz", gz)


def get(srv, path, ae=None, method="GET", extra=()):
    hdrs = list(extra)
    if ae is not None:
        hdrs.append(("Accept-Encoding", ae))
    return request(srv, method, path, headers=hdrs)


def test_negotiation(srv):
    cases = [
        # Accept-Encoding, expected Content-Encoding (None: identity) or 406
        (None, None),
        ("", None),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),        # the server's order
        ("gzip, zstd", "zstd"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0.5, gzip;q=0.8", "gzip"),
        ("br;q=0, zstd;q=0, gzip;q=0", None),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "zstd"),
        ("gzip;q=0.5, identity", None),           # identity listed higher
        ("identity;q=0, gzip", "gzip"),
        ("deflate, identity;q=0", 406),
        ("*;q=0", 406),
        ("*;q=0, identity", None),
        ("gzip;q=1.5", None),                     # malformed: ignored
    ]
    bodies = {None: html, "gzip": gz, "br": fake_br, "zstd": fake_zst}
    for ae, want in cases:
        r = get(srv, "/page.html", ae)
        name = "Accept-Encoding %r" % ae
        if want == 406:
            eq(r.status, 406, name + ": 406")
            eq(r.get("vary"), "Accept-Encoding", name + ": 406 has Vary")
            continue
        eq((r.status, r.get("content-encoding")), (200, want), name)
        ok(r.body == bodies[want], name + ": the variant's bytes")
        eq(r.get("content-length"), str(len(bodies[want])), name + ": its length")
        eq(r.get("content-type"), "text/html; charset=utf-8", name + ": the original's type")
        eq(r.get("vary"), "Accept-Encoding", name + ": Vary")
    r = request(srv, "GET", "/page.html", headers=[("Accept-Encoding", "gzip"),
                                                   ("Accept-Encoding", "br")])
    eq((r.status, r.get("content-encoding")), (200, None), "two Accept-Encoding lines: identity")


def test_variants_elsewhere(srv):
    r = get(srv, "/plain.css", "gzip, br")
    eq((r.status, r.get("content-encoding"), r.get("vary")), (200, None, None),
       "no variant: no coding, no Vary")
    r = get(srv, "/plain.css", "identity;q=0")
    eq(r.status, 200, "no variant: identity;q=0 does not make a 406 (nothing to vary)")
    r = get(srv, "/stale.html", "gzip")
    eq((r.get("content-encoding"), r.get("vary")), (None, None),
       "a variant older than its file is ignored")
    ok(r.body == html, "stale: the original's bytes")
    r = get(srv, "/dir/", "gzip")
    eq(r.get("content-encoding"), "gzip", "directory index: its variant")
    ok(r.body == gz, "directory index: variant bytes")
    small_gz = open(os.path.join(root, "small.txt.gz"), "rb").read()
    r = get(srv, "/small.txt", "gzip")
    ok(r.get("content-encoding") == "gzip" and r.body == small_gz, "small variant (pread path)")
    r = get(srv, "/page.html.gz", "gzip")
    eq((r.get("content-encoding"), r.get("content-type")), (None, "application/gzip"),
       "the .gz itself by its own name: plain gzip file")


def test_validators_and_ranges(srv):
    ident = get(srv, "/page.html")
    gzr = get(srv, "/page.html", "gzip")
    br = get(srv, "/page.html", "br")
    etags = {ident.get("etag"), gzr.get("etag"), br.get("etag")}
    eq(len(etags), 3, "an ETag per variant")
    r = get(srv, "/page.html", "gzip", extra=[("If-None-Match", gzr.get("etag"))])
    eq(r.status, 304, "If-None-Match with the gzip ETag: 304")
    eq((r.get("etag"), r.get("vary")), (gzr.get("etag"), "Accept-Encoding"),
       "304 carries the variant's ETag and Vary")
    r = get(srv, "/page.html", "gzip", extra=[("If-None-Match", ident.get("etag"))])
    eq((r.status, r.get("content-encoding")), (200, "gzip"),
       "the identity ETag does not validate the gzip variant")
    r = get(srv, "/page.html", None, extra=[("If-None-Match", gzr.get("etag"))])
    eq(r.status, 200, "nor the gzip ETag the identity response")
    r = get(srv, "/page.html", "gzip", extra=[("Range", "bytes=10-109")])
    eq((r.status, r.get("content-encoding")), (206, "gzip"), "Range on the variant: 206")
    eq(r.get("content-range"), "bytes 10-109/%d" % len(gz), "Content-Range of the variant")
    ok(r.body == gz[10:110], "the variant's bytes 10-109")
    r = get(srv, "/page.html", "gzip", extra=[("Range", "bytes=0-0,-1")])
    ok(r.status == 206 and gz[:1] in r.body and gz[-1:] in r.body and
       r.get("content-encoding") == "gzip", "multipart ranges of the variant")
    r = get(srv, "/page.html", "gzip", extra=[("Range", "bytes=%d-" % len(gz))])
    eq(r.status, 416, "Range past the variant's end: 416 (the original is longer)")
    r = get(srv, "/page.html", "gzip", extra=[("Range", "bytes=0-9"),
                                              ("If-Range", gzr.get("etag"))])
    eq(r.status, 206, "If-Range with the variant's ETag")
    r = get(srv, "/page.html", "gzip", extra=[("Range", "bytes=0-9"),
                                              ("If-Range", ident.get("etag"))])
    eq(r.status, 200, "If-Range with the identity ETag: whole variant")
    for ae in (None, "gzip", "br"):
        g = get(srv, "/page.html", ae)
        h = get(srv, "/page.html", ae, method="HEAD")
        strip = lambda r: [(k, v) for k, v in r.headers if k != "date"]  # noqa: E731
        eq(strip(h), strip(g), "HEAD = GET headers for %r" % ae)
        eq(h.body, b"", "HEAD has no body (%r)" % ae)


def test_change_under_server(srv):
    """--cache-valid 0: each request revalidates, variants included."""
    put("live.html", html)
    r = get(srv, "/live.html", "gzip")
    eq(r.get("content-encoding"), None, "no variant yet")
    put("live.html.gz", gz)
    r = get(srv, "/live.html", "gzip")
    eq(r.get("content-encoding"), "gzip", "a variant that appears is used")
    put("live.html", html + b"<!-- edited -->\n", mtime=old + 120)
    r = get(srv, "/live.html", "gzip")
    eq(r.get("content-encoding"), None, "the file edited after the variant: stale, ignored")
    ok(r.body.endswith(b"<!-- edited -->\n"), "the edited original is served")
    put("live.html.gz", gzip.compress(html + b"<!-- edited -->\n", mtime=0), mtime=old + 180)
    r = get(srv, "/live.html", "gzip")
    eq(r.get("content-encoding"), "gzip", "recompressed: used again")
    os.unlink(os.path.join(root, "live.html.gz"))
    r = get(srv, "/live.html", "gzip")
    eq((r.status, r.get("content-encoding")), (200, None), "variant deleted: identity")


def test_curl(srv):
    url = "http://127.0.0.1:%d/gzonly.html" % srv.port
    p = subprocess.run(["curl", "-sS", "--compressed", "-o", "-", "-w", "\n%{size_download}",
                        url], capture_output=True, timeout=20)
    body, _, size = p.stdout.rpartition(b"\n")
    ok(p.returncode == 0 and body == html, "curl --compressed: decoded body equals the file")
    eq(int(size or 0), len(gz), "curl --compressed: downloaded the gzip size")
    if shutil.which("zstd"):
        put("z.html", html)
        zst = subprocess.run(["zstd", "-q", "-19", "-c", os.path.join(root, "z.html")],
                             capture_output=True, timeout=60).stdout
        put("z.html.zst", zst)
        p = subprocess.run(["curl", "-sS", "-H", "Accept-Encoding: zstd", "--compressed",
                            "-D", "-", "-o", "/dev/null",
                            "http://127.0.0.1:%d/z.html" % srv.port],
                           capture_output=True, timeout=20)
        ok(b"Content-Encoding: zstd" in p.stdout, "curl, zstd asked: zstd variant")
        p = subprocess.run(["curl", "-sS", "--compressed", "-H", "Accept-Encoding: zstd",
                            "http://127.0.0.1:%d/z.html" % srv.port],
                           capture_output=True, timeout=20)
        ok(p.returncode == 0 and p.stdout == html, "curl decodes the zstd variant")
    p = subprocess.run(["curl", "-sS", "-o", "-", url], capture_output=True, timeout=20)
    ok(p.returncode == 0 and p.stdout == html, "curl without --compressed: identity")


def test_off():
    with Server(root) as srv:
        r = get(srv, "/page.html", "gzip, br")
        eq((r.get("content-encoding"), r.get("vary")), (None, None),
           "without --precompressed: no variant, no Vary (default off, as nginx)")
        ok(r.body == html, "without --precompressed: the file")
    with Server(root, "--precompressed", "gzip") as srv:
        r = get(srv, "/page.html", "br, zstd")
        eq((r.get("content-encoding"), r.get("vary")), (None, "Accept-Encoding"),
           "--precompressed gzip: br and zstd files are not looked at")
    for bad in ("deflate", "gzip,gzip", "gzip,"):
        p = subprocess.run([os.environ["ZCOPY"], "serve", root, "--precompressed", bad],
                           capture_output=True, timeout=10)
        eq(p.returncode, 2, "--precompressed %r refused" % bad)


with Server(root, "--precompressed", "br,zstd,gzip", "--cache-valid", "0") as srv:
    test_negotiation(srv)
    test_variants_elsewhere(srv)
    test_validators_and_ranges(srv)
    test_change_under_server(srv)
    test_curl(srv)
test_off()
done()
