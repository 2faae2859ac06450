#!/usr/bin/python3
"""zcopy broker SIGKILLed while a producer has messages in flight, for
acks=all and acks=1, with --append write and --append mmap: after a restart on
the same directory (64 KiB segments, so the kill often lands near a roll)
every message whose delivery report said success is at
exactly its reported offset, and `zcopy log verify` finds the log clean.
ZC_KILL_ITERATIONS repeats each case (default 1, to stay seconds in make test)."""
import os
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import Broker, consume_partition, make_dir  # noqa: E402
from serve_util import done, eq, ok, skip_all, zcopy  # noqa: E402

try:
    from confluent_kafka import Producer
except ImportError:
    skip_all("python3-confluent-kafka is not installed")


def produce_until_killed(b, acks, tag):
    """Produce continuously; SIGKILL the broker once enough are acknowledged
    and more are still in flight. Returns {offset: value} of the successes."""
    acked, lock = {}, threading.Lock()
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": acks, "linger.ms": 1,
                  "message.timeout.ms": 3000, "retries": 0,
                  "enable.idempotence": False, "log_level": 3})

    def on_delivery(err, msg):
        if err is None:
            with lock:
                acked[msg.offset()] = msg.value()

    # Generous: 2000 acknowledgements take well under a second on a quiet
    # machine, but the ASan build on a loaded one may need many.
    deadline, i, killed = time.monotonic() + 30, 0, False
    while time.monotonic() < deadline:
        try:
            p.produce("k", value=b"%s-%d-" % (tag, i) + b"x" * (i % 300),
                      on_delivery=on_delivery)
            i += 1
        except BufferError:
            p.poll(0.01)
        p.poll(0)
        if not killed and len(acked) >= 2000 and len(p) > 0:
            b.kill()                    # SIGKILL with messages in flight
            killed = True
            break
    p.flush(5)                          # the rest fail: broker is gone
    return acked, killed, i


def one_case(append, acks, it):
    d = make_dir()
    tag = ("%s/%s/%d" % (append, acks, it)).encode()
    b = Broker(d, "--append", append, "--segment-bytes", "64k").start()
    acked, killed, sent = produce_until_killed(b, acks, tag)
    ok(killed, "%s: broker killed with messages in flight (%d acked of %d sent)"
       % (tag.decode(), len(acked), sent))
    b = Broker(d, "--append", append, "--segment-bytes", "64k").start()
    got = dict(consume_partition(b, "k"))
    missing = [o for o, v in acked.items() if got.get(o) != v]
    eq(missing[:5], [], "%s: every acknowledged message at its offset (%d acked, %d read)"
       % (tag.decode(), len(acked), len(got)))
    eq(sorted(got), list(range(len(got))), "%s: offsets dense from 0" % tag.decode())
    eq(b.stop(), 0, "%s: SIGTERM exit 0" % tag.decode())
    r = subprocess.run([zcopy(), "log", "verify", d], capture_output=True, timeout=30)
    eq(r.returncode, 0, "%s: zcopy log verify clean %r" % (tag.decode(), r.stdout[-300:] + r.stderr[-300:]))


def main():
    iterations = int(os.environ.get("ZC_KILL_ITERATIONS", "1"))
    for it in range(iterations):
        for append in ("write", "mmap"):
            for acks in ("all", "1"):
                one_case(append, acks, it)
    done()


main()
