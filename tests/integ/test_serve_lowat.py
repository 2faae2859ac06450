#!/usr/bin/env python3
"""zcopy serve --notsent-lowat: how many unsent bytes a client socket holds
while the client does not read. Read from the server's side of the
connection with `ss -tni` (tcpi_notsent_bytes, printed as "notsent:N"):
64 KiB by default, so a stalled client pins little; 0 leaves it to the
send buffer (megabytes on loopback); a bad value is refused."""
import os
import re
import shutil
import socket
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (SETTLE_TIMEOUT, Server, done, make_root, ok,  # noqa: E402
                        refuses_option, skip_all, wait_for)

if not shutil.which("ss"):
    skip_all("ss (iproute2) not installed")

root = make_root()
BODY = 64 << 20
with open(os.path.join(root, "big"), "wb") as f:
    f.truncate(BODY)                    # sparse: the page cache fills on demand


def notsent(port):
    """The server side's unsent bytes on its one established connection."""
    out = subprocess.run(["ss", "-tniH", "state", "established",
                          "( sport = :%d )" % port],
                         capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"\bnotsent:(\d+)", out)
    # ss omits a zero notsent field.
    return int(m.group(1)) if m else (0 if out.strip() else None)


def stalled_notsent(*args):
    """Request the 64 MiB body, never read it; the server's notsent bytes
    once they stop growing."""
    with Server(root, "--threads", "1", *args) as srv:
        s = socket.create_connection((srv.host, srv.port), 5)
        try:
            s.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            seen = []

            # Settled: the same non-zero count three times over half a
            # second. Zero is the count before the server has started
            # sending (a loaded machine may take a while); one repeat could
            # be a pause of the server between two writes.
            def settled():
                seen.append(notsent(srv.port))
                last = seen[-3:]
                return len(last) == 3 and bool(last[0]) and last.count(last[0]) == 3
            wait_for(settled, timeout=SETTLE_TIMEOUT, step=0.25)
            return seen[-1]
        finally:
            s.close()


default = stalled_notsent()
ok(default is not None, "default: connection seen by ss")
# The low-water mark is checked before each queued chunk: at most one
# chunk (64 KiB of pages) past it.
ok(default is not None and default <= 192 << 10,
   "default: at most ~64 KiB unsent (%s)" % default)

off = stalled_notsent("--notsent-lowat", "0")
ok(off is not None and off > 512 << 10,
   "--notsent-lowat 0: the send buffer holds more (%s)" % off)

one_m = stalled_notsent("--notsent-lowat", "1M")
ok(one_m is not None and (256 << 10) < one_m <= (1 << 20) + (128 << 10),
   "--notsent-lowat 1M: about 1 MiB unsent (%s)" % one_m)

refuses_option(root, "--notsent-lowat", ("-1", "2G", "x", "1Q"))
done()
