#!/usr/bin/python3
"""zcopy broker restarted on the same directory, after SIGTERM (clean
shutdown marker) and after kill -9: every acknowledged message is still
there and new offsets continue after them."""
import os
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import Broker, consume_partition, make_dir  # noqa: E402
from serve_util import done, eq, ok, skip_all  # noqa: E402

try:
    from confluent_kafka import Producer
except ImportError:
    skip_all("python3-confluent-kafka is not installed")


def produce(b, first, n):
    acked = []
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 2})

    def on_delivery(err, msg):
        if err is None:
            acked.append((msg.offset(), msg.value()))

    for i in range(first, first + n):
        p.produce("r", value=b"m%d" % i, on_delivery=on_delivery)
    p.flush(20)
    return acked


def main():
    d = make_dir()
    b = Broker(d).start()
    acked = produce(b, 0, 500)
    eq(len(acked), 500, "500 acknowledged")
    eq(b.stop(), 0, "SIGTERM: exit 0")
    ok(os.path.exists(os.path.join(d, ".kafka_cleanshutdown")) or
       any(f.startswith(".") and "clean" in f for f in os.listdir(d)),
       "clean-shutdown marker written")

    b = Broker(d).start()
    eq(consume_partition(b, "r"), acked, "after SIGTERM: all 500, same offsets")
    more = produce(b, 500, 100)
    eq([o for o, _ in more], list(range(500, 600)), "offsets continue at 500")
    acked += more
    b.kill()                                   # kill -9: no clean shutdown

    b = Broker(d).start()
    eq(consume_partition(b, "r"), acked, "after kill -9: all 600 acknowledged messages")
    more = produce(b, 600, 10)
    eq([o for o, _ in more], list(range(600, 610)), "offsets continue at 600")
    eq(b.stop(), 0, "SIGTERM: exit 0")
    done()


main()
