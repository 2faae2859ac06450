#!/usr/bin/env python3
"""zcopy broker with kcat (librdkafka 2.0.2): produce lines, consume them
with -o beginning and -o -N, and list metadata with -L."""
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import Broker, make_dir  # noqa: E402
from serve_util import done, eq, ok, skip_all  # noqa: E402

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
if not KCAT:
    skip_all("kcat is not installed")


def kcat(b, *args, data=None):
    p = subprocess.run([KCAT, "-b", b.bootstrap] + list(args), input=data,
                       capture_output=True, timeout=60)
    if p.returncode:
        print("# kcat %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p.returncode, p.stdout


def main():
    with Broker(make_dir(), "--partitions", "2") as b:
        lines = [b"line %d" % i for i in range(100)]
        rc, _ = kcat(b, "-P", "-t", "lines", "-p", "0", data=b"\n".join(lines) + b"\n")
        eq(rc, 0, "kcat -P: 100 lines produced")
        rc, out = kcat(b, "-C", "-t", "lines", "-p", "0", "-o", "beginning", "-e", "-q")
        eq((rc, out.split(b"\n")[:-1]), (0, lines), "kcat -C -o beginning -e: all 100, in order")
        rc, out = kcat(b, "-C", "-t", "lines", "-p", "0", "-o", "-3", "-e", "-q")
        eq(out.split(b"\n")[:-1], lines[-3:], "kcat -C -o -3: the last three")
        rc, out = kcat(b, "-C", "-t", "lines", "-p", "0", "-o", "50", "-c", "2", "-q",
                       "-f", "%o:%s\\n")
        eq(out, b"50:line 50\n51:line 51\n", "kcat -o 50 -c 2 with offsets")
        rc, out = kcat(b, "-P", "-t", "keyed", "-K", ":", data=b"a:1\nb:2\nc:3\n")
        rc, out = kcat(b, "-C", "-t", "keyed", "-o", "beginning", "-e", "-q", "-f", "%k=%s\\n")
        eq(sorted(out.split(b"\n")[:-1]), [b"a=1", b"b=2", b"c=3"],
           "keys round-trip (auto-created topic, 2 partitions)")
        rc, out = kcat(b, "-L")
        text = out.decode()
        ok(rc == 0 and 'topic "lines" with 2 partitions' in text and
           "broker 0 at 127.0.0.1:%d" % b.port in text, "kcat -L: topics and the broker")
        rc, out = kcat(b, "-L", "-t", "lines")
        ok("partition 1, leader 0, replicas: 0, isrs: 0" in out.decode(),
           "kcat -L -t: leader, replicas, ISR")
        eq(b.stop(), 0, "SIGTERM: exit 0")
    done()


main()
