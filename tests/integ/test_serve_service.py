#!/usr/bin/env python3
"""docs/zcopy-serve.service and .socket: systemd-analyze verify accepts them
(ExecStart pointed at the built binary), every syscall zcopy serve makes
while serving (traced with strace) is one the unit's SystemCallFilter lines
allow, and when a filter refuses the transfer syscalls (EPERM, as the unit's
SystemCallErrorNumber makes it) a precompressed variant still arrives whole
by the fallback path."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, make_root, ok, pattern, request,  # noqa: E402
                        skip_all, stop, write, zcopy)

SRC = os.environ.get("ZC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = os.path.join(SRC, "docs", "zcopy-serve.service")
SOCKET = os.path.join(SRC, "docs", "zcopy-serve.socket")
DENY = os.environ.get("ZC_DENY_SYSCALLS")

if not shutil.which("systemd-analyze"):
    skip_all("systemd-analyze not installed")

root = make_root()
big = pattern(300000, seed=2)
old = time.time() - 3600
for rel, data in (("page.html", b"<p>x</p>\n" * 3000), ("page.html.gz", big),
                  ("small.txt", b"small\n"), ("d/index.html", b"<p>i</p>\n")):
    p = write(root, rel, data)
    os.utime(p, (old, old))


def unit_filter():
    """(allowed, denied) syscall sets from the unit's SystemCallFilter lines:
    the first line is an allow list, '~' lines take syscalls away."""
    allowed, denied = set(), set()

    def expand(names):
        out = set()
        for n in names:
            if n.startswith("@"):
                text = subprocess.run(["systemd-analyze", "syscall-filter", n],
                                      capture_output=True, text=True, timeout=30).stdout
                for line in text.splitlines()[1:]:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        out |= expand([line]) if line.startswith("@") else {line}
            else:
                out.add(n)
        return out

    for line in open(UNIT):
        m = re.match(r"SystemCallFilter=(~?)(.*)$", line.strip())
        if m:
            (denied if m.group(1) else allowed).update(expand(m.group(2).split()))
    return allowed - denied, denied


def test_verify():
    tmp = tempfile.mkdtemp(prefix="zc-unit-")
    try:
        with open(UNIT) as f:
            text = f.read().replace("/usr/local/bin/zcopy", zcopy())
        # man:zcopy-serve(1) is only found once installed.
        text = re.sub(r"^Documentation=.*\n", "", text, flags=re.M)
        with open(os.path.join(tmp, "zcopy-serve.service"), "w") as f:
            f.write(text)
        shutil.copy(SOCKET, tmp)
        p = subprocess.run(["systemd-analyze", "verify",
                            os.path.join(tmp, "zcopy-serve.socket"),
                            os.path.join(tmp, "zcopy-serve.service")],
                           capture_output=True, text=True, timeout=60)
        ok(p.returncode == 0 and not p.stderr.strip(),
           "systemd-analyze verify: %s" % (p.stderr.strip() or "clean"))
    finally:
        shutil.rmtree(tmp, True)
    text = open(UNIT).read()
    for key in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                "SystemCallErrorNumber=EPERM"):
        ok(key in text, "the unit sets %s" % key)


def traced_syscalls(method):
    """Names of the syscalls zcopy serve makes for a typical mix of requests."""
    log = tempfile.mktemp(prefix="zc-strace-")
    args = ["--threads", "2", "--precompressed", "br,zstd,gzip", "--max-age", "60",
            "--listing", "--access-log", "-", "--method", method]
    # LeakSanitizer cannot run under ptrace: the sanitized build checks
    # leaks in every other test.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    try:
        with Server(root, *args, env=env,
                    wrapper=["strace", "-f", "-qq", "-o", log]) as srv:
            for path, hdrs in (("/page.html", [("Accept-Encoding", "gzip")]),
                               ("/page.html", []), ("/small.txt", []), ("/d/", []),
                               ("/page.html", [("Range", "bytes=0-9,20-29")]),
                               ("/nope", [])):
                r = request(srv, "GET", path, headers=hdrs)
                ok(r is not None and r.status in (200, 206, 404),
                   "%s: %s under strace" % (method, path))
            # Signals go to zcopy itself, strace's child (strace keeps the pid
            # it was started with as its own).
            with open("/proc/%d/task/%d/children" % (srv.pid, srv.pid)) as f:
                child = int(f.read().split()[0])
            os.kill(child, signal.SIGHUP)
            time.sleep(0.2)
            os.kill(child, signal.SIGTERM)
            try:
                code = srv.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                code = None
            eq(code, 0, "%s: exits 0 on SIGTERM under strace" % method)
        names = set()
        with open(log) as f:
            for line in f:
                m = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
                if m and m.group(1) not in ("exited", "killed", "resumed"):
                    names.add(m.group(1))
        return names
    finally:
        if os.path.exists(log):
            os.unlink(log)


def test_filter_allows():
    if not shutil.which("strace"):
        ok(True, "# SKIP strace not installed: the filter check needs it")
        return
    allowed, denied = unit_filter()
    ok("sendfile" in allowed and "splice" in allowed and "io_uring_setup" in allowed,
       "the filter keeps sendfile, splice and io_uring")
    for method in ("auto", "splice", "uring", "mmap"):
        used = traced_syscalls(method)
        # execve is the launch (strace's child) before the filter would apply.
        missing = sorted(used - allowed - {"execve"})
        ok(len(used) > 10 and not missing,
           "--method %s: every syscall used is allowed by the unit%s" %
           (method, "" if not missing else " (not: %s)" % ", ".join(missing)))


def test_fallback():
    if not DENY or not os.access(DENY, os.X_OK):
        ok(True, "# SKIP ZC_DENY_SYSCALLS not set")
        return
    if subprocess.run([DENY, "splice", "true"]).returncode == 77:
        ok(True, "# SKIP seccomp filters unavailable")
        return
    deny = "sendfile,splice,io_uring_setup,io_uring_enter,io_uring_register"
    with Server(root, "--precompressed", "gzip", wrapper=[DENY, deny]) as srv:
        for i in range(2):
            r = request(srv, "GET", "/page.html", headers=[("Accept-Encoding", "gzip")])
            ok(r is not None and r.status == 200 and r.get("content-encoding") == "gzip" and
               r.body == big, "transfer syscalls refused (EPERM): variant whole (%d)" % i)
        stop(srv)
    ok("refused" in srv.stderr_text, "the server says the method was refused")


test_verify()
test_filter_allows()
test_fallback()
done()
