"""Shared by test_get.py, test_put.py and test_cp.py: TAP output, running the
zcopy program with a timeout, HTTP servers from Python's standard library on
a loopback port 0 (always stopped), deterministic content, and running a
command under a pseudo-terminal."""
import hashlib
import os
import pty
import random
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer

ZCOPY = os.environ.get("ZCOPY")
RUN_TIMEOUT = 60            # seconds for one zcopy run


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.count += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.count, name))
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines()[-15:]:
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got %r, want %r" % (got, want))

    def diag(self, msg):
        print("# " + msg)
        sys.stdout.flush()

    def skip(self, name, why):
        self.count += 1
        print("ok %d - %s # SKIP %s" % (self.count, name, why))

    def done(self):
        print("1..%d" % self.count)
        return 1 if self.failed else 0


def require_zcopy():
    if not ZCOPY or not os.access(ZCOPY, os.X_OK):
        print("1..0 # SKIP ZCOPY not set to the built program")
        sys.exit(77)


def content(size, seed):
    """size deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def run(args, timeout=RUN_TIMEOUT, **kw):
    """Run zcopy with args; returns CompletedProcess (stdout/stderr bytes)."""
    return subprocess.run([ZCOPY] + args, capture_output=True, timeout=timeout, **kw)


class Server:
    """A ThreadingHTTPServer on a loopback port 0 in a thread."""

    def __init__(self, handler, family=socket.AF_INET):
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"

        class Srv(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass                    # a client that hung up on purpose
        self.httpd = Srv((host, 0), handler)
        self.port = self.httpd.server_address[1]
        self.host = "[::1]" if family == socket.AF_INET6 else "127.0.0.1"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


class ZcopyServe:
    """`zcopy serve ROOT --listen 127.0.0.1:0`; the port is read back from the
    URL it prints. Always stopped by stop()."""

    def __init__(self, root, *extra):
        self.proc = subprocess.Popen([ZCOPY, "serve", root, "--listen", "127.0.0.1:0",
                                      "--threads", "1"] + list(extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.base = None
        buf = b""
        deadline = time.monotonic() + 10
        fd = self.proc.stdout.fileno()
        while self.base is None and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                if self.proc.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            m = re.search(rb"(http://127\.0\.0\.1:\d+)/", buf)
            if m:
                self.base = m.group(1).decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


_held_ports = []


def free_port():
    """A loopback port nothing listens on: bound and kept bound (not
    listening, so a connection to it is refused) until the test exits.
    Released at once, a server of a test running beside this one could get
    it and answer."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    _held_ports.append(s)
    return s.getsockname()[1]


def run_in_pty(argv, timeout=RUN_TIMEOUT, cwd=None):
    """Run argv with stdin/stdout/stderr on a new pseudo-terminal (80 columns).
    Returns (exit status, bytes the terminal received)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            if cwd:
                os.chdir(cwd)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if fd in r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break               # EIO: the child closed the terminal
                if not chunk:
                    break
                out += chunk
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def tmpdir():
    d = tempfile.mkdtemp(prefix="zcclient.")
    return d


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)


def wait_for(cond, timeout):
    """Poll cond() every 10 ms up to timeout seconds; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    return cond()


class RawServer:
    """A hostile HTTP server on a loopback port 0: each connection is handed
    to fn(conn, stop) in its own thread, where stop is an Event set by
    stop(), so a handler that stalls or floods ends with the test."""

    def __init__(self, fn):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop_event = threading.Event()
        self.fn = fn
        self.threads = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _accept(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            th = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            th.start()
            self.threads.append(th)

    def _serve(self, conn):
        try:
            self.fn(conn, self.stop_event)
        except OSError:
            pass                        # the client hung up, as it may
        finally:
            conn.close()

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=10)
        for th in self.threads:
            th.join(timeout=10)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def read_request_head(conn):
    """Read up to the end of a request head; returns the bytes read."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def run_bounded(t, args, name, timeout=30):
    """run(), with a hang reported as a failed check rather than raised;
    returns None then."""
    try:
        return run(args, timeout=timeout)
    except subprocess.TimeoutExpired:
        t.ok(False, "%s: zcopy did not finish within %d s" % (name, timeout))
        return None


def fifo_reader(path):
    """Start a thread that opens the FIFO at path and reads it to the end;
    returns (thread, list that receives the bytes)."""
    got = []

    def reader():
        with open(path, "rb") as f:
            got.append(f.read())
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    return th, got


def zcopy_on_private_dev(t, name, args_list):
    """Run each zcopy argument list (which may name /dev/null and /dev/zero)
    as root inside a private mount namespace whose /dev is a fresh tmpfs
    holding just those two nodes, so a zcopy that replaced them could not
    harm the machine. Returns [(exit status, file type of the node named
    last in the args)], or None after reporting a skip."""
    if os.geteuid() != 0:
        t.skip(name, "needs root for unshare -m and mknod")
        return None
    script = "mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && " \
             "mknod -m 666 /dev/zero c 1 5"
    for args in args_list:
        script += " && { %s >/dev/null 2>&1; echo $?; } && stat -c %%F %s" % (
            " ".join(shlex.quote(a) for a in [ZCOPY] + args), shlex.quote(args[-1]))
    try:
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                           capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        t.skip(name, "unshare failed: %s" % e)
        return None
    lines = r.stdout.decode().splitlines()
    if len(lines) != 2 * len(args_list):
        t.skip(name, "no private mount namespace: %r" % r.stderr[-200:])
        return None
    return [(int(lines[i]), lines[i + 1]) for i in range(0, len(lines), 2)]
