"""serve_util.py - shared helpers for the zcopy serve integration tests.

Each test starts `$ZCOPY serve ROOT --listen 127.0.0.1:0`, reads the URL the
server prints, and always stops the server by PID. Every socket operation has
a timeout; every loop is bounded. Output is TAP; exit 0 pass, 1 fail, 77 skip.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Per socket operation. No passing run waits it out (every exchange ends by
# the server's close), so it can allow a loaded machine's stalls.
IO_TIMEOUT = 15.0
# How long a test waits for something that must happen (an exit, a cleanup,
# a log line): generous for ASan on a loaded machine, since it only runs out
# when the product is broken.
SETTLE_TIMEOUT = 30.0

_count = 0
_failed = 0


def ok(cond, name):
    global _count, _failed
    _count += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (_count, name), flush=True)
    if not cond:
        _failed += 1
    return cond


def eq(got, want, name):
    if not ok(got == want, name):
        print("#   got:  %r\n#   want: %r" % (got, want), flush=True)


def done():
    print("1..%d" % _count, flush=True)
    sys.exit(1 if _failed else 0)


def skip_all(reason):
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(77)


def zcopy():
    path = os.environ.get("ZCOPY")
    if not path or not os.access(path, os.X_OK):
        skip_all("ZCOPY not set (run through ctest)")
    return path


def refuses_option(root, option, bad_values):
    """`zcopy serve ROOT OPTION VALUE` for each bad value: a usage error
    (exit 2) whose message names the option."""
    for bad in bad_values:
        p = subprocess.run([zcopy(), "serve", root, "--listen", "127.0.0.1:0", option, bad],
                           capture_output=True, text=True, timeout=30)
        eq(p.returncode, 2, "%s %s refused" % (option, bad))
        ok(option in p.stderr, "%s %s: says which option (%r)" % (option, bad, p.stderr[-200:]))


def make_root():
    """A temporary document root, removed at exit."""
    root = tempfile.mkdtemp(prefix="zc-serve-")
    import atexit
    atexit.register(shutil.rmtree, root, True)
    return root


def write(root, rel, data, mode=None):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def pattern(n, seed=0):
    """Deterministic bytes that differ at every offset modulo 251."""
    block = bytes((i * 7 + seed) % 251 for i in range(251))
    return (block * (n // 251 + 1))[:n]


class Server:
    """`zcopy serve ROOT ARGS...` on 127.0.0.1 port 0; use as a context
    manager so the process is always stopped."""

    def __init__(self, root, *args, listen="127.0.0.1:0", preexec_fn=None,
                 stdout_lines=1, wrapper=(), pass_fds=(), env=None):
        # wrapper: a command line the server runs under (e.g. deny_syscalls);
        # pass_fds: fds the wrapper inherits (socket activation's launcher).
        cmd = list(wrapper) + [zcopy(), "serve", root]
        if listen:
            cmd += ["--listen", listen]
        cmd += list(args)
        # ctest runs the serve tests a second time on the io_uring loop.
        loop = os.environ.get("ZC_SERVE_LOOP")
        if loop and "--loop" not in args:
            cmd += ["--loop", loop]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     preexec_fn=preexec_fn, pass_fds=pass_fds,
                                     env=env)
        self.lines = []
        self.urls = []
        self.stderr_text = ""           # what the server said, once stopped
        deadline = time.monotonic() + SETTLE_TIMEOUT
        fd = self.proc.stdout.fileno()
        buf = b""
        # os.read, not readline: a buffered reader would hide lines from select.
        while len(self.urls) < stdout_lines and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                if self.proc.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.decode(errors="replace")
                self.lines.append(line)
                m = re.search(r"(http://\S+/)", line)
                if m:
                    self.urls.append(m.group(1))
        if not self.urls:
            err = b""
            if self.proc.poll() is not None:
                err = self.proc.stderr.read()
            self.kill()
            raise RuntimeError("server did not start: %r %r" % (self.lines, err))
        m = re.match(r"http://(\[[^\]]+\]|[^:/]+):(\d+)/", self.urls[0])
        self.host = m.group(1).strip("[]")
        self.port = int(m.group(2))
        self.pid = self.proc.pid

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=SETTLE_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.stderr and not self.proc.stderr.closed:
            err = self.proc.stderr.read().decode(errors="replace")
            self.stderr_text = err
            bad = [l for l in err.splitlines()
                   if "runtime error:" in l or "Sanitizer" in l]
            if not ok(not bad, "server stderr has no sanitizer report"):
                print("#   " + "\n#   ".join(bad[:10]), flush=True)
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def alive(self):
        return self.proc.poll() is None

    def connect(self, timeout=IO_TIMEOUT):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return s

    def cpu_ticks(self):
        """utime + stime of all threads, in clock ticks."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])


def recv_until_close(s, limit=64 << 20, timeout=IO_TIMEOUT):
    """Read until the peer closes (or limit/timeout); returns (data, closed)."""
    s.settimeout(timeout)
    chunks, total = [], 0
    try:
        while total < limit:
            b = s.recv(65536)
            if not b:
                return b"".join(chunks), True
            chunks.append(b)
            total += len(b)
    except (socket.timeout, TimeoutError):
        return b"".join(chunks), False
    except ConnectionResetError:
        return b"".join(chunks), True
    return b"".join(chunks), False


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name lower, value)
        self.body = body
        self.raw_head = raw_head

    def get(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def count(self, name):
        return sum(1 for k, _ in self.headers if k == name.lower())


def parse_responses(data, head_only=()):
    """Split a byte stream into responses framed by Content-Length.
    head_only: indexes of responses that carry no body (HEAD, 304)."""
    out = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = data[pos:end].decode("latin-1")
        lines = head.split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) (.*)$", lines[0])
        if not m:
            break
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        status = int(m.group(1))
        pos = end + 4
        clen = 0
        for k, v in headers:
            if k == "content-length":
                clen = int(v)
        if len(out) in head_only or status == 304:
            clen = 0
        body = data[pos:pos + clen]
        pos += clen
        out.append(Response(status, m.group(2), headers, body, head))
    return out


def exchange(srv, request, timeout=IO_TIMEOUT, head_only=()):
    """Send raw bytes on a new connection, read to close, parse."""
    with srv.connect(timeout) as s:
        s.sendall(request)
        data, closed = recv_until_close(s, timeout=timeout)
    return parse_responses(data, head_only), data, closed


def request(srv, method, path, headers=(), version="1.1", close=True):
    """One request on its own connection; returns the Response (or None)."""
    lines = ["%s %s HTTP/%s" % (method, path, version), "Host: test"]
    lines += ["%s: %s" % h for h in headers]
    if close:
        lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    resps, _, _ = exchange(srv, raw, head_only=(0,) if method == "HEAD" else ())
    return resps[0] if resps else None


def wait_for(pred, timeout=SETTLE_TIMEOUT, step=0.05):
    """Poll pred() until true or timeout (bounded); returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def stop(srv, sig=signal.SIGTERM, timeout=SETTLE_TIMEOUT):
    """Send sig, wait for exit; returns the exit code or None."""
    try:
        os.kill(srv.pid, sig)
        return srv.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


# --- the server's end of a connection, seen in /proc/net/tcp ---------------
# A sleep is no proof that a server read what was sent: on a loaded machine
# under ASan it may not have been scheduled yet. The kernel's socket table is.

TCP_ESTABLISHED, TCP_LISTEN = 1, 10


def _tcp_table():
    """(local port, remote port, state, bytes not yet read) of every TCP
    socket in this network namespace."""
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    rx = int(fields[4].split(":")[1], 16)
                    rows.append((int(fields[1].rsplit(":", 1)[1], 16),
                                 int(fields[2].rsplit(":", 1)[1], 16),
                                 int(fields[3], 16), rx))
        except FileNotFoundError:
            pass
    return rows


def server_end(s):
    """(state, unread bytes) of the server's socket for client socket s, or
    None once it is gone."""
    try:
        ours, theirs = s.getsockname()[1], s.getpeername()[1]
    except OSError:
        return None                     # reset: nothing is left of it
    for local, remote, state, rx in _tcp_table():
        if local == theirs and remote == ours:
            return state, rx
    return None


def wait_server_read(s, timeout=SETTLE_TIMEOUT):
    """Wait until the server has accepted s and read everything sent on it:
    what it read is then handled (the read and the handling are one event),
    not still on its way. Returns whether that happened."""
    def read_all():
        end = server_end(s)
        return end is not None and end[0] == TCP_ESTABLISHED and end[1] == 0
    return wait_for(read_all, timeout, step=0.01)


def wait_server_closed(s, timeout=SETTLE_TIMEOUT):
    """Wait until the server has closed its end of s (it left ESTABLISHED or
    is gone), even when unsent bytes keep its FIN from reaching s."""
    def closed():
        end = server_end(s)
        return end is None or end[0] != TCP_ESTABLISHED
    return wait_for(closed, timeout, step=0.05)


def listening(port):
    """Whether any socket listens on this port."""
    return any(local == port and state == TCP_LISTEN
               for local, _, state, _ in _tcp_table())
