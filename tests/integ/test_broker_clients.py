#!/usr/bin/python3
"""zcopy broker with python3-confluent-kafka (librdkafka 2.0.2): keys,
headers, empty and 900 KB values, the four codecs, offsets_for_times,
watermarks, long-poll wake-up, a too-large message refused, CreateTopics and
DeleteTopics through AdminClient. /usr/bin/python3 because Debian's
confluent_kafka is installed for the system interpreter only."""
import os
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import Broker, make_dir  # noqa: E402
from serve_util import done, eq, ok, skip_all  # noqa: E402

try:
    import confluent_kafka
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:
    skip_all("python3-confluent-kafka is not installed")

POLL_LIMIT = 20.0                        # seconds any consume may take


def producer(b, **conf):
    c = {"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5}
    c.update(conf)
    return Producer(c)


def consumer(b, **conf):
    c = {"bootstrap.servers": b.bootstrap, "group.id": "zc-test-unused",
         "enable.auto.commit": False, "enable.partition.eof": True,
         "fetch.wait.max.ms": 100}
    c.update(conf)
    return Consumer(c)


def produce_all(p, topic, items, **kw):
    """Produce (key, value, headers) items; return the delivery reports."""
    reports = []

    def on_delivery(err, msg):
        reports.append((err, msg.offset() if msg is not None else None))

    for key, value, headers in items:
        p.produce(topic, value=value, key=key, headers=headers, on_delivery=on_delivery, **kw)
    p.flush(POLL_LIMIT)
    return reports


def consume_from(b, topic, offset, count, partition=0):
    """Up to @count messages of one partition from @offset (assign, no group)."""
    c = consumer(b)
    c.assign([TopicPartition(topic, partition, offset)])
    out, deadline = [], time.monotonic() + POLL_LIMIT
    while len(out) < count and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                if len(out) >= count:
                    break
                continue
            print("# consume error: %s" % m.error())
            continue
        out.append(m)
    c.close()
    return out


def create_error(admin, topic):
    """The error code of creating @topic (1 partition), or None."""
    fs = admin.create_topics([NewTopic(topic, 1, 1)], request_timeout=10)
    try:
        fs[topic].result(10)
        return None
    except confluent_kafka.KafkaException as e:
        return e.args[0].code()


def stored_codecs(data_dir, topic):
    """Compression codec (attributes & 7) of every batch in partition 0's first segment."""
    path = os.path.join(data_dir, "%s-0" % topic, "%020d.log" % 0)
    codecs = set()
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 61 <= len(data):
        length = struct.unpack(">i", data[pos + 8:pos + 12])[0]
        if length <= 0:
            break
        codecs.add(struct.unpack(">h", data[pos + 21:pos + 23])[0] & 7)
        pos += 12 + length
    return codecs


def main():
    print("# confluent_kafka %s, librdkafka %s" % (confluent_kafka.version()[0],
                                                  confluent_kafka.libversion()[0]))
    data_dir = make_dir()
    with Broker(data_dir) as b:
        # Keys, headers, empty and 900 KB values.
        big = os.urandom(900 * 1024)
        items = [(b"k1", b"v1", [("h1", b"x"), ("h2", b"")]),
                 (None, b"", None),
                 (b"big", big, [("size", b"900k")])]
        reports = produce_all(producer(b), "basic", items)
        eq(reports, [(None, 0), (None, 1), (None, 2)], "three messages acknowledged at 0, 1, 2")
        got = consume_from(b, "basic", confluent_kafka.OFFSET_BEGINNING, 3)
        eq(len(got), 3, "three consumed")
        if len(got) == 3:
            eq((got[0].key(), got[0].value(), got[0].headers()),
               (b"k1", b"v1", [("h1", b"x"), ("h2", b"")]), "key, value and headers")
            eq((got[1].key(), got[1].value()), (None, b""), "null key, empty value")
            ok(got[2].value() == big and got[2].key() == b"big", "900 KB value intact")

        # Codecs: stored as the producer compressed them, consumed back.
        for codec, bits in (("gzip", 1), ("snappy", 2), ("lz4", 3), ("zstd", 4)):
            topic = "codec-" + codec
            values = [("%s message %d " % (codec, i)).encode() * 20 for i in range(200)]
            reports = produce_all(producer(b, **{"compression.type": codec}), topic,
                                  [(None, v, None) for v in values])
            ok(all(e is None for e, _ in reports), "%s: 200 acknowledged" % codec)
            got = consume_from(b, topic, confluent_kafka.OFFSET_BEGINNING, 200)
            ok([m.value() for m in got] == values, "%s: 200 consumed back in order" % codec)
            stored = stored_codecs(data_dir, topic)
            # lz4 too: librdkafka 2.0.2 compresses with it only when FindCoordinator
            # is advertised (KAFKA.md 1.3), which the group coordinator now does.
            eq(stored, {bits}, "%s: batches stored compressed (codec %d)" % (codec, bits))

        # Timestamps, offsets_for_times and watermarks.
        base = int(time.time() * 1000) - 60000
        p = producer(b, **{"linger.ms": 0})
        for i in range(5):
            produce_all(p, "times", [(None, b"t%d" % i, None)], timestamp=base + i * 1000)
        c = consumer(b)
        found = c.offsets_for_times([TopicPartition("times", 0, base + 2500)], 10)
        eq(found[0].offset, 3, "offsets_for_times: first message at or after the time")
        found = c.offsets_for_times([TopicPartition("times", 0, base + 99000)], 10)
        eq(found[0].offset, -1, "offsets_for_times after the last message: -1 (end)")
        eq(c.get_watermark_offsets(TopicPartition("times", 0), 10), (0, 5),
           "watermarks (0, 5)")
        c.close()
        got = consume_from(b, "times", 3, 2)
        eq([(m.value(), m.timestamp()[1]) for m in got],
           [(b"t3", base + 3000), (b"t4", base + 4000)], "from offset 3, timestamps kept")

        # Long poll: a consumer waiting at the end wakes up on an append,
        # well before its fetch.wait.max.ms.
        c = consumer(b, **{"fetch.wait.max.ms": 15000})
        c.assign([TopicPartition("times", 0, 5)])
        arrived = []

        def wait_one():
            deadline = time.monotonic() + POLL_LIMIT
            while time.monotonic() < deadline and not arrived:
                m = c.poll(0.2)
                if m is not None and not m.error():
                    arrived.append(time.monotonic())

        t = threading.Thread(target=wait_one)
        t.start()
        time.sleep(1.5)                        # the fetch is parked by now
        sent = time.monotonic()
        produce_all(p, "times", [(None, b"wake", None)])
        t.join()
        c.close()
        ok(arrived and arrived[0] - sent < 10,
           "parked fetch woken by the append (%.2f s after it, wait max 15 s)" %
           (arrived[0] - sent if arrived else -1))

        # Too large: the broker refuses a batch over max.message.bytes.
        reports = produce_all(producer(b, **{"message.max.bytes": 3000000}), "basic",
                              [(None, b"x" * 1500000, None)])
        eq(len(reports), 1, "too-large: one delivery report")
        if reports:
            err = reports[0][0]
            ok(err is not None and err.code() == KafkaError.MSG_SIZE_TOO_LARGE,
               "too-large: MSG_SIZE_TOO_LARGE (%s)" % err)

        # AdminClient: CreateTopics, DeleteTopics.
        a = AdminClient({"bootstrap.servers": b.bootstrap})
        fs = a.create_topics([NewTopic("admin-t", 3, 1)], request_timeout=10)
        ok(fs["admin-t"].result(10) is None, "create_topics admin-t (3 partitions)")
        md = a.list_topics(timeout=10)
        ok("admin-t" in md.topics and len(md.topics["admin-t"].partitions) == 3,
           "list_topics shows 3 partitions")
        eq(create_error(a, "admin-t"), KafkaError.TOPIC_ALREADY_EXISTS,
           "creating it again: TOPIC_ALREADY_EXISTS")
        eq(create_error(a, "bad/name"), KafkaError.TOPIC_EXCEPTION,
           "invalid name: INVALID_TOPIC_EXCEPTION")
        fs = a.delete_topics(["admin-t"], request_timeout=10)
        ok(fs["admin-t"].result(10) is None, "delete_topics admin-t")
        md = a.list_topics(timeout=10)
        ok("admin-t" not in md.topics, "admin-t gone from Metadata")
        ok(not os.path.exists(os.path.join(data_dir, "admin-t-0")), "and from the disk")
        eq(b.stop(), 0, "SIGTERM: exit 0")
    done()


main()
