#!/usr/bin/env python3
"""zcopy serve: edge cases found by an adversarial review - absolute-form
targets without a path, Range on an empty file, future or fresh validators,
unopenable device nodes, a half-closed client, pipelined 304/HEAD framing,
a removed root, SIGHUP storms, concurrent PUT/GET, SIGTERM during an upload,
--user with a root-owned upload directory, and a short randomized
garbage-plus-valid-requests run (the sanitized build's stderr is checked by
Server.kill)."""
import email.utils
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, exchange, listening, make_root,  # noqa: E402
                        ok, parse_responses, recv_until_close, request, stop,
                        wait_for, wait_server_read, write)

root = make_root()
os.chmod(root, 0o755)                   # --user nobody must be able to search it
write(root, "index.html", b"<p>home</p>\n")
write(root, "a.txt", b"hello\n")
write(root, "empty", b"")
write(root, "big.bin", bytes(range(256)) * 400)
write(root, "%2e%2e", b"literal\n")
os.symlink("/proc/self/root", os.path.join(root, "procroot"))
os.symlink("/nonexistent-zc", os.path.join(root, "dangling"))
os.symlink("sub-real", os.path.join(root, "sub-link"))
write(root, "sub-real/in.txt", b"in\n")


def test_paths(srv):
    cases = [("/procroot/etc/passwd", 403, None), ("/procroot/", 403, None),
             ("/dangling", 403, None),          # absolute target: leaves the root
             ("/sub-link/in.txt", 200, b"in\n"),  # a symlink to inside is fine
             ("/%252e%252e", 200, b"literal\n"),  # decoded once: a literal name
             ("/%c0%ae%c0%ae/etc/passwd", 404, None),  # overlong UTF-8 is bytes
             ("/sub-real%5cin.txt", 400, None), ("/sub-real/%2e%2e/a.txt", 400, None)]
    for target, want, body in cases:
        r = request(srv, "GET", target)
        eq(r.status if r else None, want, "%s: %d" % (target, want))
        if body is not None:
            eq(r.body if r else None, body, "%s: body" % target)
        ok(r is None or b"root:" not in r.body, "%s: nothing from outside" % target)


def test_absolute_form_without_path(srv):
    # RFC 9112 3.2.2: "http://host" has an empty path, which means "/".
    resps, _, _ = exchange(srv, b"GET http://t HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    eq((resps[0].status, resps[0].body) if resps else None, (200, b"<p>home</p>\n"),
       "absolute-form without a path serves /")
    resps, _, _ = exchange(srv, b"GET http://t?q=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    eq((resps[0].status, resps[0].body) if resps else None, (200, b"<p>home</p>\n"),
       "absolute-form with only a query serves /")


def test_empty_file_ranges(srv):
    # RFC 9110 14.1.1: on an empty representation a suffix range with a
    # non-zero length is satisfiable (but has no bytes to name): 200 whole.
    r = request(srv, "GET", "/empty", headers=[("Range", "bytes=-1")])
    eq((r.status, r.get("content-length"), r.body) if r else None, (200, "0", b""),
       "bytes=-1 on an empty file: 200, empty")
    r = request(srv, "GET", "/empty", headers=[("Range", "bytes=0-")])
    eq((r.status, r.get("content-range")) if r else None, (416, "bytes */0"),
       "bytes=0- on an empty file: 416 bytes */0")


def test_validators(srv):
    # A client clock ahead of ours must not pin its copy: a date in the
    # future is not a valid If-Modified-Since (the file may change before it).
    future = email.utils.formatdate(time.time() + 86400 * 365, usegmt=True)
    r = request(srv, "GET", "/a.txt", headers=[("If-Modified-Since", future)])
    eq((r.status, r.body) if r else None, (200, b"hello\n"), "If-Modified-Since in the future: 200")
    r = request(srv, "GET", "/a.txt", headers=[("If-Modified-Since", "not a date")])
    eq(r.status if r else None, 200, "malformed If-Modified-Since: ignored")

    # RFC 9110 8.8.2.2: a Last-Modified not at least a second older than
    # now is weak, and If-Range never matches a weak validator.
    path = write(root, "fresh.txt", b"0123456789")
    t = time.time() + 3600
    os.utime(path, (t, t))
    r = request(srv, "GET", "/fresh.txt")
    lm = r.get("last-modified") if r else None
    r = request(srv, "GET", "/fresh.txt", headers=[("Range", "bytes=0-1"), ("If-Range", lm)])
    eq((r.status, r.body) if r else None, (200, b"0123456789"),
       "If-Range with a date that is not yet a second old: 200 whole")
    path = write(root, "old.txt", b"0123456789")
    os.utime(path, (t - 7200, t - 7200))
    r = request(srv, "GET", "/old.txt")
    lm = r.get("last-modified") if r else None
    r = request(srv, "GET", "/old.txt", headers=[("Range", "bytes=0-1"), ("If-Range", lm)])
    eq((r.status, r.body) if r else None, (206, b"01"), "If-Range with an old date: 206")


def test_device_nodes(srv):
    # A character device without a driver fails to open with ENXIO; like
    # any non-regular file it is 403, not a server error.
    path = os.path.join(root, "nodev")
    try:
        os.mknod(path, 0o644 | 0o020000, os.makedev(240, 77))
    except (PermissionError, OSError):
        print("# cannot mknod: device node case skipped")
        return
    r = request(srv, "GET", "/nodev")
    eq(r.status if r else None, 403, "device node without a driver: 403")
    os.unlink(path)


def test_half_closed_client(srv):
    # Request and FIN arrive together (the server is stopped while both are
    # sent): after answering, the server must notice the FIN and close, not
    # keep the connection for the whole keep-alive timeout. Whether the FIN
    # shares the data's wakeup is up to the kernel: three tries.
    for attempt in range(3):
        s = srv.connect()
        time.sleep(0.1)                 # accepted, first read saw nothing
        os.kill(srv.pid, signal.SIGSTOP)
        try:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            time.sleep(0.05)
        finally:
            os.kill(srv.pid, signal.SIGCONT)
        # Well under the 30 s keep-alive timeout that a server which missed
        # the FIN would wait for, and generous for ASan on a loaded machine.
        data, closed = recv_until_close(s, timeout=15)
        s.close()
        r = parse_responses(data)
        eq(r[0].body if r else None, b"hello\n", "half-closed client answered (%d)" % attempt)
        ok(closed, "half-closed client's connection closed after the response (%d)" % attempt)


def test_pipelined_bodyless(srv):
    r = request(srv, "GET", "/a.txt")
    etag = r.get("etag")
    raw = (b"GET /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: W/" + etag.encode() + b"\r\n\r\n"
           b"HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
           b"GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=99-\r\n\r\n"
           b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    resps, data, closed = exchange(srv, raw, head_only=(1,))
    eq([x.status for x in resps], [304, 200, 416, 200], "304, HEAD, 416, GET pipelined")
    ok(closed and resps and resps[-1].body == b"hello\n" and data.endswith(b"\r\n\r\nhello\n"),
       "bodyless responses carry no bytes: the last body ends the stream")


def test_removed_root():
    scratch = make_root()
    write(scratch, "x.txt", b"x\n")
    with Server(scratch, "--threads", "1") as srv:
        eq(request(srv, "GET", "/x.txt").body, b"x\n", "served before the root is removed")
        shutil.rmtree(scratch)
        # The cached entry may be served until it is revalidated; after that
        # the file is gone. Either way the server keeps answering.
        st = wait_for(lambda: (request(srv, "GET", "/x.txt") or None) and
                      request(srv, "GET", "/x.txt").status == 404)
        ok(st, "removed root: 404")
        st = request(srv, "GET", "/").status
        ok(st in (403, 404), "removed root: / is %d (no index, no listing)" % st)
        ok(srv.alive(), "server alive with its root removed")


def test_sighup_storm():
    log = os.path.join(make_root(), "access.log")
    with Server(root, "--threads", "2", "--access-log", log) as srv:
        for _ in range(200):
            os.kill(srv.pid, signal.SIGHUP)
        statuses = [(request(srv, "GET", "/a.txt") or None) for _ in range(20)]
        for _ in range(200):
            os.kill(srv.pid, signal.SIGHUP)
        ok(all(r is not None and r.status == 200 for r in statuses),
           "requests served during a SIGHUP storm")
        eq(stop(srv), 0, "SIGTERM after a SIGHUP storm: exit 0")
        with open(log) as f:
            eq(len(f.read().splitlines()), 20, "every request logged once")


def test_concurrent_put_get():
    scratch = make_root()
    # One version sent by zc_transfer, the other small enough for the
    # open-file cache's in-memory body: both paths must switch whole.
    a, b = b"A" * 300000, b"B" * 1000
    write(scratch, "f.bin", a)
    with Server(scratch, "--threads", "2", "--upload", "--cache-valid", "0") as srv:
        stop_at = time.monotonic() + 1.0
        bad, seen, puts = [], set(), [0]

        def writer():
            i = 0
            # A few of each version even when the machine is too slow to
            # start this thread within the second.
            while i < 4 or time.monotonic() < stop_at:
                body = b if i % 2 else a
                raw = (b"PUT /f.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body)) + body
                resps, _, _ = exchange(srv, raw)
                if resps and resps[0].status == 204:
                    puts[0] += 1
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        gets = 0
        # GETs for as long as PUTs go on, so the two always overlap.
        while t.is_alive() or gets == 0:
            gets += 1
            r = request(srv, "GET", "/f.bin")
            if r is None or r.status != 200 or r.body not in (a, b):
                bad.append(r.status if r else None)
            else:
                seen.add(r.body[:1])
        t.join(timeout=10)
        ok(puts[0] > 0, "concurrent PUTs succeeded (%d)" % puts[0])
        ok(not bad, "every GET during PUTs saw one whole version (bad: %r)" % bad[:5])


def test_sigterm_during_upload():
    scratch = make_root()
    body = bytes(random.Random(5).getrandbits(8) for _ in range(200000))
    with Server(scratch, "--threads", "1", "--upload", "--drain-timeout", "5") as srv:
        s = srv.connect()
        s.sendall(b"PUT /up.bin HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body)
                  + body[:1000])
        # Not a sleep: a server that has not read the head yet at SIGTERM
        # closes the connection as idle, and one that has not taken the
        # signal yet when the rest arrives answers as if not stopping.
        ok(wait_server_read(s), "upload in flight: the server read its head")
        os.kill(srv.pid, signal.SIGTERM)
        ok(wait_for(lambda: not listening(srv.port)),
           "SIGTERM taken: the worker closed its listener")
        s.sendall(body[1000:])
        data, closed = recv_until_close(s)
        s.close()
        r = parse_responses(data)
        eq(r[0].status if r else None, 201, "upload in flight at SIGTERM completes: 201")
        eq(r[0].get("connection") if r else None, "close", "and says Connection: close")
        ok(closed, "then the connection closes")
        with open(os.path.join(scratch, "up.bin"), "rb") as f:
            ok(f.read() == body, "uploaded bytes exact")
        eq(srv.proc.wait(timeout=10), 0, "exit 0 after the drained upload")

    with Server(scratch, "--threads", "1", "--upload", "--drain-timeout", "1") as srv:
        s = srv.connect()
        s.sendall(b"PUT /cut.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nabc")
        ok(wait_server_read(s), "unfinished upload in flight: the server read its head")
        os.kill(srv.pid, signal.SIGTERM)
        data, closed = recv_until_close(s, timeout=30)
        s.close()
        ok(closed, "unfinished upload closed at the drain deadline")
        eq(srv.proc.wait(timeout=10), 0, "exit 0 after the drain deadline")
        eq(sorted(os.listdir(scratch)), ["up.bin"], "the cut upload left no file")


def test_user_root_owned_upload_dir():
    if os.geteuid() != 0:
        print("# not root: --user upload case skipped")
        return
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        print("# no user nobody: --user upload case skipped")
        return
    scratch = make_root()
    os.chmod(scratch, 0o755)
    with Server(scratch, "--threads", "1", "--upload", "--user", "nobody") as srv:
        resps, _, _ = exchange(srv, b"PUT /x.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                    b"Content-Length: 3\r\n\r\nabc")
        eq(resps[0].status if resps else None, 403, "--user nobody, root-owned directory: PUT 403")
        eq(os.listdir(scratch), [], "nothing created")


def test_upload_enospc_and_abort():
    """A body larger than the filesystem is 507 and leaves the old file and
    no temporary; an upload cut mid-body leaves the old file intact."""
    scratch = make_root()
    write(scratch, "keep.txt", b"old\n")
    mounted = False
    if os.geteuid() == 0:
        tiny = os.path.join(scratch, "tiny")
        os.mkdir(tiny)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", tiny],
                                 stderr=subprocess.DEVNULL).returncode == 0
    try:
        with Server(scratch, "--threads", "1", "--upload") as srv:
            if mounted:
                write(scratch, "tiny/keep.txt", b"old\n")
                body = b"z" * 200000
                for target in ("/tiny/new.bin", "/tiny/keep.txt"):
                    resps, _, closed = exchange(
                        srv, b"PUT %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                        % (target.encode(), len(body)) + body)
                    eq(resps[0].status if resps else None, 507, "PUT %s on a full disk: 507" % target)
                eq(sorted(os.listdir(tiny)), ["keep.txt"], "full disk: no partial, no temporary")
                with open(os.path.join(tiny, "keep.txt"), "rb") as f:
                    eq(f.read(), b"old\n", "full disk: the old file is intact")
            else:
                print("# not root or no tmpfs: ENOSPC case skipped")
            with srv.connect() as s:
                s.sendall(b"PUT /keep.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"
                          + b"n" * 500)
                # Cut only once the server holds the first bytes (in its
                # temporary): else the check below passes before it starts.
                ok(wait_server_read(s), "upload to be cut: the server read its first bytes")
            ok(wait_for(lambda: sorted(os.listdir(scratch)) ==
                        (["keep.txt", "tiny"] if mounted else ["keep.txt"]) and
                        open(os.path.join(scratch, "keep.txt"), "rb").read() == b"old\n"),
               "upload cut mid-body over an existing file: old bytes, no temporary")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", tiny])


def test_upload_preconditions():
    """RFC 9110 13.1: If-Match / If-Unmodified-Since guard a PUT against lost
    updates (412, nothing written); 100-continue is never sent to 1.0."""
    scratch = make_root()
    path = write(scratch, "doc.txt", b"v1\n")
    os.utime(path, (time.time() - 3600, time.time() - 3600))

    def put(target, body, extra=b"", version=b"1.1"):
        resps, _, _ = exchange(srv, b"PUT " + target + b" HTTP/" + version +
                               b"\r\nHost: t\r\nConnection: close\r\nContent-Length: %d\r\n"
                               % len(body) + extra + b"\r\n" + body)
        return resps[0].status if resps else None

    def content(rel):
        try:
            with open(os.path.join(scratch, rel), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    with Server(scratch, "--threads", "1", "--upload") as srv:
        etag = request(srv, "GET", "/doc.txt").get("etag").encode()
        eq(put(b"/doc.txt", b"v2\n", b"If-Match: \"stale\"\r\n"), 412, "PUT If-Match other tag: 412")
        eq(content("doc.txt"), b"v1\n", "412: file unchanged")
        eq(put(b"/doc.txt", b"v2\n", b"If-Match: W/" + etag + b"\r\n"), 412,
           "PUT If-Match weak tag: 412 (strong comparison)")
        eq(put(b"/doc.txt", b"v2\n", b"If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n"),
           412, "PUT If-Unmodified-Since before the mtime: 412")
        eq(content("doc.txt"), b"v1\n", "412s: file unchanged")
        eq(put(b"/new.txt", b"x", b"If-Match: *\r\n"), 412, "PUT If-Match: * on a missing file: 412")
        eq(content("new.txt"), None, "nothing created")
        eq(put(b"/doc.txt", b"v2\n", b"If-Match: \"x\", " + etag + b"\r\n"), 204,
           "PUT If-Match current tag: 204")
        eq(content("doc.txt"), b"v2\n", "replaced")
        eq(put(b"/doc.txt", b"v3\n", b"If-Match: *\r\n"), 204, "PUT If-Match: * on an existing file: 204")

        with srv.connect() as s:
            s.sendall(b"PUT /old.bin HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            time.sleep(0.3)
            s.sendall(b"abc")
            data, _ = recv_until_close(s)
        ok(b"100 Continue" not in data and data.startswith(b"HTTP/1.1 201"),
           "HTTP/1.0 Expect: 100-continue ignored, 201")
        eq(content("old.bin"), b"abc", "HTTP/1.0 upload exact")

        # GET treats "//x" as "/x"; PUT must name the same file.
        eq(put(b"//slashes.txt", b"s"), 201, "PUT //name: 201")
        eq(content("slashes.txt"), b"s", "PUT //name wrote /name")
        eq(request(srv, "GET", "//slashes.txt").body, b"s", "GET //name reads it")


def test_garbage_mix():
    """About 1.5 s of mutated and valid requests; every valid request on a
    fresh connection afterwards is still served."""
    rnd = random.Random(1234)
    valid = [b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
             b"HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n",
             b"GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-10,20-30,-5\r\n\r\n",
             b"GET /big.bin HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"x\", W/\"y\"\r\n"
             b"If-Range: \"z\"\r\nRange: bytes=5-\r\n\r\n",
             b"PUT /up/g HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
             b"GET http://t/a.txt?x HTTP/1.0\r\n\r\n", b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n"]
    toks = [b" ", b"\r\n", b"\n", b"\r", b"\x00", b"HTTP/1.1", b"Host:", b"Content-Length: ",
            b"Transfer-Encoding: chunked", b"Range: bytes=", b"-", b",", b"%", b"%2f", b"/..",
            b"\t", b":", b"\"", b"W/", b"99999999999999999999999", b"Expect: 100-continue",
            b"[", b"]", b"*"]

    def mutate(m):
        m = bytearray(m)
        for _ in range(rnd.randint(1, 4)):
            op, i = rnd.randint(0, 4), rnd.randint(0, len(m))
            if op == 0 and m:
                m[min(i, len(m) - 1)] = rnd.randint(0, 255)
            elif op == 1:
                m[i:i] = rnd.choice(toks)
            elif op == 2:
                del m[i:i + rnd.randint(1, 8)]
            elif op == 3:
                m[i:i] = bytes(rnd.randint(0, 255) for _ in range(rnd.randint(1, 16)))
            else:
                m[i:i] = m[i:i + rnd.randint(1, 40)] * rnd.randint(1, 50)
        return bytes(m)

    scratch = make_root()
    write(scratch, "a.txt", b"hello\n")
    write(scratch, "big.bin", bytes(range(256)) * 400)
    os.makedirs(os.path.join(scratch, "up"))
    with Server(scratch, "--threads", "2", "--upload", "--header-timeout", "1") as srv:
        end = time.monotonic() + 1.5
        n = 0
        while time.monotonic() < end and n < 2000:
            n += 1
            msg = b"".join(mutate(rnd.choice(valid)) if rnd.random() < 0.6 else rnd.choice(valid)
                           for _ in range(rnd.randint(1, 5)))
            if rnd.random() < 0.3:
                msg = msg[:rnd.randint(0, len(msg))]
            try:
                with srv.connect(timeout=1) as s:
                    s.sendall(msg)
                    if rnd.random() < 0.3:
                        s.shutdown(socket.SHUT_WR)
                    s.settimeout(0.1)
                    try:
                        while s.recv(65536):
                            pass
                    except (socket.timeout, ConnectionResetError):
                        pass
            except OSError:
                pass
        r = request(srv, "GET", "/a.txt")
        eq(r.body if r else None, b"hello\n", "served after %d garbage connections" % n)
        ok(srv.alive(), "server alive after the garbage mix")


with Server(root, "--threads", "2", "--keepalive-timeout", "30") as main_srv:
    test_paths(main_srv)
    test_absolute_form_without_path(main_srv)
    test_empty_file_ranges(main_srv)
    test_validators(main_srv)
    test_device_nodes(main_srv)
    test_half_closed_client(main_srv)
    test_pipelined_bodyless(main_srv)
    ok(main_srv.alive(), "server still running")
test_removed_root()
test_sighup_storm()
test_concurrent_put_get()
test_sigterm_during_upload()
test_user_root_owned_upload_dir()
test_upload_enospc_and_abort()
test_upload_preconditions()
test_garbage_mix()
done()
