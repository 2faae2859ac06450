#!/usr/bin/env python3
"""zcopy serve: file truncated mid-send, client gone mid-body, EMFILE,
SIGTERM drain, SIGHUP log reopen with the combined format, --user."""
import hashlib
import os
import pwd
import re
import resource
import select
import signal
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (SETTLE_TIMEOUT, Server, done, eq, make_root, ok,  # noqa: E402
                        parse_responses, pattern, recv_until_close, request, stop,
                        wait_for, wait_server_closed, write)

root = make_root()
os.chmod(root, 0o755)
write(root, "a.txt", b"inside\n")
BIG = 64 << 20
big_data = pattern(BIG, seed=9)


def read_head(s):
    """Read until the end of the response head; returns (head, extra body)."""
    data = b""
    for _ in range(1000):
        if b"\r\n\r\n" in data:
            break
        b = s.recv(65536)
        if not b:
            break
        data += b
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def content_length(head):
    m = re.search(rb"\r\nContent-Length: (\d+)", head)
    return int(m.group(1)) if m else None


def test_truncated_mid_send():
    path = write(root, "trunc.bin", big_data)
    with Server(root, "--threads", "1") as srv:
        s = srv.connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /trunc.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        head, rest = read_head(s)
        eq(content_length(head), BIG, "announced the full length")
        got = len(rest)
        while got < (1 << 20):
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
        os.truncate(path, 0)
        more, closed = recv_until_close(s, limit=2 * BIG, timeout=10)
        got += len(more)
        s.close()
        ok(closed, "connection closed after the file shrank")
        ok(got < BIG, "short body (%d of %d bytes)" % (got, BIG))
        ok(srv.alive(), "server survived the truncation")
        r = request(srv, "GET", "/a.txt")
        eq(r.body if r else None, b"inside\n", "next request served")
        r = request(srv, "GET", "/trunc.bin")
        eq((r.status, r.get("content-length")) if r else None, (200, "0"),
           "truncated file now served with its new length")
    os.unlink(path)


def test_client_gone():
    write(root, "big.bin", big_data)
    with Server(root, "--threads", "1") as srv:
        for how in ("close", "reset"):
            s = srv.connect()
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            read_head(s)
            s.recv(65536)
            if how == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            r = request(srv, "GET", "/a.txt")
            eq(r.body if r else None, b"inside\n", "served after a client %s mid-body" % how)
        # The whole body still arrives intact for a patient client.
        with srv.connect(timeout=20) as s:
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            head, rest = read_head(s)
            more, closed = recv_until_close(s, limit=2 * BIG, timeout=20)
            body = rest + more
        eq(hashlib.sha256(body).hexdigest(), hashlib.sha256(big_data).hexdigest(),
           "64 MiB body byte-exact")
        ok(srv.alive(), "server alive")


def test_send_timeout():
    write(root, "big.bin", big_data)
    with Server(root, "--threads", "1", "--send-timeout", "1") as srv:
        s = srv.connect(timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        # Read nothing until the server has dropped the stalled reader. Its
        # FIN waits behind the unsent bytes, so the kernel's view of the
        # server's end says when; reading any earlier (a fixed sleep on a
        # slow machine) would let the transfer go on.
        ok(wait_server_closed(s), "server closed its end while the reader stalled")
        data, closed = recv_until_close(s, limit=2 * BIG, timeout=10)
        s.close()
        ok(closed and len(data) < BIG, "stalled reader dropped (%d bytes)" % len(data))
        r = request(srv, "GET", "/a.txt")
        eq(r.body if r else None, b"inside\n", "served after dropping a stalled reader")


def garbage_problems(raw, data, closed, random_bytes):
    """What is wrong with the server's answer to one garbage connection
    (the client sent raw, then FIN): a list of strings, empty when fine."""
    problems = []
    resps = parse_responses(data)
    framed = sum(len(r.raw_head) + 4 + len(r.body) for r in resps)
    if not closed:
        problems.append("connection left open after the client's FIN")
    if framed != len(data):
        problems.append("%d bytes outside well-framed responses" % (len(data) - framed))
    for i, r in enumerate(resps):
        last = i == len(resps) - 1
        if not 200 <= r.status <= 599 or r.reason != zc_reason(r.status):
            problems.append("status line %r" % r.raw_head.split("\r\n")[0])
        if r.get("connection") == "close" and not last:
            problems.append("%d said close, yet another response followed" % r.status)
        # Only the parser answers these: the head could not be read, so the
        # connection cannot go on (400 may also be a bad path: it can).
        if r.status in (408, 414, 417, 431, 505) and r.get("connection") != "close":
            problems.append("%d without Connection: close" % r.status)
        # Random bytes never form a request head: only the parser answers
        # them, and a head it could not read leaves no way to go on.
        if random_bytes and (r.status not in (400, 414, 431, 505) or
                             r.get("connection") != "close"):
            problems.append("%d (Connection: %s) for random bytes"
                            % (r.status, r.get("connection")))
        if r.get("content-length") != str(len(r.body)):
            problems.append("%d: Content-Length %r for a %d-byte body"
                            % (r.status, r.get("content-length"), len(r.body)))
    if raw == GARBAGE_BASE and [(r.status, r.body) for r in resps] != [(206, b"insi")]:
        problems.append("the unmutated request was not served: %r" % data[:80])
    return problems


GARBAGE_BASE = b"GET /a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-3\r\n\r\n"
REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently",
           400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 411: "Length Required",
           412: "Precondition Failed", 414: "URI Too Long", 416: "Range Not Satisfiable",
           417: "Expectation Failed", 431: "Request Header Fields Too Large",
           501: "Not Implemented", 505: "HTTP Version Not Supported"}


def zc_reason(status):
    return REASONS.get(status)


def test_garbage():
    """200 connections of random bytes or mutated requests, each followed by
    FIN: every answer is well framed with a correct status line, a
    Connection: close is honoured, random bytes never get a success, every
    connection is closed after the client's FIN, and the server goes on."""
    import random
    rng = random.Random(1234)
    with Server(root, "--threads", "2", "--header-timeout", "2") as srv:
        statuses, problems = {}, []
        for i in range(200):
            n = rng.randrange(1, 400)
            random_bytes = bool(i % 2)
            if random_bytes:
                raw = bytes(rng.randrange(256) for _ in range(n))
            else:   # mutated valid requests reach deeper into the parser
                raw = bytearray(GARBAGE_BASE)
                for _ in range(rng.randrange(1, 6)):
                    raw[rng.randrange(len(raw))] = rng.randrange(256)
                raw = bytes(raw)
            if i == 0:
                raw = GARBAGE_BASE      # the oracle: unmutated, it is served
            with srv.connect() as s:
                s.sendall(raw)
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                # A few KiB is a full answer: a server looping on the same
                # bad bytes fails fast instead of filling memory.
                data, closed = recv_until_close(s, limit=1 << 20, timeout=15)
            for r in parse_responses(data):
                statuses[r.status] = statuses.get(r.status, 0) + 1
            problems += ["#%d %r: %s" % (i, raw[:40], p)
                         for p in garbage_problems(raw, data, closed, random_bytes)]
        print("# statuses: %s" % sorted(statuses.items()))
        if not ok(not problems, "200 garbage connections answered correctly"):
            print("#   " + "\n#   ".join(problems[:10]))
        ok(statuses.get(400, 0) >= 50 and statuses.get(206, 0) >= 1,
           "the inputs reached both refusal and success (%s)" % sorted(statuses))
        ok(srv.alive(), "alive after 200 garbage requests")
        r = request(srv, "GET", "/a.txt")
        eq(r.body if r else None, b"inside\n", "still serving after garbage")


def limit_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))


def test_emfile():
    with Server(root, "--threads", "1", preexec_fn=limit_fds) as srv:
        socks = []
        for _ in range(40):
            s = socket.socket()
            s.settimeout(5)
            s.connect((srv.host, srv.port))
            socks.append(s)
        time.sleep(0.3)
        t0 = srv.cpu_ticks()
        time.sleep(1.0)
        used = srv.cpu_ticks() - t0
        hz = os.sysconf("SC_CLK_TCK")
        ok(used < hz // 4, "no spin while out of fds (%d ticks in 1 s)" % used)
        ok(srv.alive(), "server alive at EMFILE")
        for s in socks:
            s.close()
        ok(wait_for(lambda: (request(srv, "GET", "/a.txt") or None) and True),
           "serves again once fds are free")


def test_sigterm_drain():
    write(root, "big.bin", big_data)
    with Server(root, "--threads", "2", "--drain-timeout", "60") as srv:
        idle = srv.connect()
        idle.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        read_head(idle)
        s = srv.connect(timeout=20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        head, rest = read_head(s)
        os.kill(srv.pid, signal.SIGTERM)
        more, closed = recv_until_close(s, limit=2 * BIG, timeout=20)
        s.close()
        body = rest + more
        ok(len(body) == BIG and hashlib.sha256(body).digest() == hashlib.sha256(big_data).digest(),
           "response in flight at SIGTERM finished byte-exact")
        ok(closed, "connection closed after the drained response")
        data, closed = recv_until_close(idle, timeout=5)
        ok(closed, "idle keep-alive connection closed on SIGTERM")
        idle.close()
        try:
            code = srv.proc.wait(timeout=SETTLE_TIMEOUT)
        except Exception:
            code = None
        eq(code, 0, "exit status 0 after SIGTERM")
        refused = False
        try:
            socket.create_connection((srv.host, srv.port), timeout=2).close()
        except OSError:
            refused = True
        ok(refused, "no longer accepting")


LINE = re.compile(r'^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] '
                  r'"GET /a\.txt\?q=1 HTTP/1\.1" 200 7 "http://ref/" "zc-test/1\.0 \\x22q\\x22"$')


def stderr_says(srv, line, timeout=SETTLE_TIMEOUT):
    """Read the running server's stderr until @line appears (bounded)."""
    fd = srv.proc.stderr.fileno()
    seen = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if line in seen:
                return True
    return False


def test_access_log():
    logdir = make_root()
    log = os.path.join(logdir, "access.log")
    with Server(root, "--threads", "2", "--access-log", log) as srv:
        r = request(srv, "GET", "/a.txt?q=1",
                    headers=[("Referer", "http://ref/"), ("User-Agent", 'zc-test/1.0 "q"')])
        eq(r.status, 200, "request logged")

        def lines(p):
            try:
                with open(p) as f:
                    return f.read().splitlines()
            except FileNotFoundError:
                return []
        got = wait_for(lambda: lines(log))
        eq(len(got), 1, "one line written (buffered, flushed within a second)")
        ok(got and LINE.match(got[0]), "combined format: %r" % (got[0] if got else None))
        request(srv, "GET", "/missing")
        wait_for(lambda: len(lines(log)) >= 2)
        ok(len(lines(log)) == 2 and '"GET /missing HTTP/1.1" 404 ' in lines(log)[1],
           "404 logged")
        os.rename(log, log + ".1")
        os.kill(srv.pid, signal.SIGHUP)
        # Each of the 2 workers reopens on its own loop: the server says when
        # all of them did; before that a request may still land in the old file.
        ok(stderr_says(srv, b"zcopy serve: access log reopened\n"),
           "server reports every worker reopened the log")
        ok(os.path.exists(log), "SIGHUP reopened the log")
        request(srv, "GET", "/a.txt?q=1",
                headers=[("Referer", "http://ref/"), ("User-Agent", 'zc-test/1.0 "q"')])
        new = wait_for(lambda: lines(log))
        ok(len(new) == 1 and LINE.match(new[0]), "after SIGHUP lines go to the new file")
        eq(len(lines(log + ".1")), 2, "rotated file kept its lines")
        ok(srv.alive(), "server alive after SIGHUP")
        eq(stop(srv), 0, "SIGTERM exit 0")


def test_access_log_stdout():
    with Server(root, "--threads", "1", "--access-log", "-") as srv:
        request(srv, "GET", "/a.txt", headers=[("User-Agent", "stdout-test")])
        eq(stop(srv), 0, "SIGTERM exit 0 with the log on stdout")
        out = srv.proc.stdout.read().decode(errors="replace")
        ok('"GET /a.txt HTTP/1.1" 200 7 "-" "stdout-test"' in out,
           "--access-log -: line on stdout, flushed at exit")


def test_user():
    if os.geteuid() != 0:
        print("# not root: --user test skipped")
        return
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        print("# no user nobody: --user test skipped")
        return
    write(root, "public.txt", b"public\n", mode=0o644)
    write(root, "private.txt", b"private\n", mode=0o600)
    with Server(root, "--threads", "1", "--user", "nobody") as srv:
        with open("/proc/%d/status" % srv.pid) as f:
            uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", f.read(), re.M)
        eq([int(x) for x in uids.groups()], [nobody.pw_uid] * 4, "--user nobody: all uids dropped")
        eq(request(srv, "GET", "/public.txt").body, b"public\n", "--user: readable file served")
        eq(request(srv, "GET", "/private.txt").status, 403, "--user: root-only file 403")


test_truncated_mid_send()
test_client_gone()
test_send_timeout()
test_garbage()
test_emfile()
test_sigterm_drain()
test_access_log()
test_access_log_stdout()
test_user()
done()
