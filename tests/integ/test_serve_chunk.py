#!/usr/bin/env python3
"""zcopy serve --send-chunk: a long body goes out in turns of at most SIZE
file bytes (after a first turn of up to 2 MiB), the worker serving its other
connections between turns. Checked from the outside: every body of several
concurrent downloads on one worker arrives whole and in order, and strace
shows the sendfile calls the server made, none asking for more than its
turn allows; 0 lifts the bound; bad values are refused."""
import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (IO_TIMEOUT, Server, done, eq, make_root, ok,  # noqa: E402
                        pattern, refuses_option, skip_all, write)

if not shutil.which("strace"):
    skip_all("strace not installed")

FIRST_TURN = 2 << 20
BODY = 6 << 20
root = make_root()
body = pattern(BODY, seed=3)
write(root, "big", body)
want = hashlib.sha256(body).hexdigest()


def fetch(url):
    with urllib.request.urlopen(url, timeout=IO_TIMEOUT) as r:
        return hashlib.sha256(r.read()).hexdigest()


def sendfile_counts(*args, clients=4):
    """Run the server with ARGS, strace attached to it, download /big with
    CLIENTS at once; return (digests, the count argument of every sendfile
    call as (file offset, count)). strace is attached and detached around the downloads (not run as
    a wrapper: killed, a wrapper leaves the server running)."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        with Server(root, "--threads", "1", *args) as srv:
            st = subprocess.Popen(["strace", "-f", "-e", "trace=sendfile",
                                   "-e", "signal=none", "-o", trace,
                                   "-p", str(srv.pid)],
                                  stderr=subprocess.PIPE, text=True)
            try:
                # "Process N attached with 2 threads": tracing from here on.
                while "attached" not in (st.stderr.readline() or "attached"):
                    pass
                url = srv.urls[0] + "big"
                with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                    digests = list(pool.map(fetch, [url] * clients))
            finally:
                st.terminate()
                st.communicate(timeout=IO_TIMEOUT)
        with open(trace) as f:
            # 123 sendfile(7, 9, [0] => [524288], 524288) = 524288
            counts = [(int(m.group(1)), int(m.group(2))) for m in
                      re.finditer(r"sendfile\(\d+, \d+, \[(\d+)\][^,]*, (\d+)\)", f.read())]
    return digests, counts


digests, counts = sendfile_counts("--send-chunk", "64k")
eq(digests, [want] * 4, "--send-chunk 64k: 4 concurrent 6 MiB bodies arrive whole")
ok(len(counts) >= 4 * (BODY - FIRST_TURN) // (64 << 10),
   "64 KiB turns after the first: at least %d sendfile calls (%d)"
   % (4 * (BODY - FIRST_TURN) // (64 << 10), len(counts)))
largest = max((c for _, c in counts), default=None)
ok(largest is not None and largest <= FIRST_TURN,
   "no call asks for more than the first turn's 2 MiB (largest %s)" % largest)
# The first turn may take several calls (the socket fills, the flush goes
# on); every call past a body's first 2 MiB asks for 64 KiB at most.
late = [(o, c) for o, c in counts if c > 64 << 10 and o + c > FIRST_TURN]
ok(not late, "calls over 64 KiB only inside the first 2 MiB (%s)" % late[:3])

digests, counts = sendfile_counts("--send-chunk", "0", clients=1)
eq(digests, [want], "--send-chunk 0: the body arrives whole")
largest = max((c for _, c in counts), default=None)
ok(largest is not None and largest >= BODY - FIRST_TURN,
   "--send-chunk 0: a call may ask for the whole rest (largest %s)" % largest)

refuses_option(root, "--send-chunk", ("-1", "x", "1Q"))
done()
