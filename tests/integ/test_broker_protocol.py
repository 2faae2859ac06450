#!/usr/bin/env python3
"""zcopy broker, raw wire protocol: ApiVersions v0-v3 (and a newer version
answered with UNSUPPORTED_VERSION), Metadata auto-creation, Produce and Fetch
bytes, acks=0, corrupt and multi-batch produce refused with nothing stored,
pipelined requests answered in order, long-poll wake-up and timeout, and bad
input (garbage, truncation, 2 GiB size, HTTP, unknown API) closing only that
connection."""
import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import (Broker, Reader, closed_by_peer, connect, fetch_body_v11,  # noqa: E402
                         make_dir, metadata_body_v4, parse_fetch_v11, parse_produce_v7,
                         produce_body, record_batch, recv_response, request)
from serve_util import done, eq, ok, wait_server_read  # noqa: E402

API_VERSIONS, METADATA, PRODUCE, FETCH, LIST_OFFSETS = 18, 3, 0, 1, 2


def api_versions_v0(body):
    r = Reader(body)
    err = r.i16()
    apis = {}
    for _ in range(r.i32()):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        apis[k] = (lo, hi)
    return err, apis


def roundtrip(s, key, version, corr, body):
    s.sendall(request(key, version, corr, body))
    got_corr, resp = recv_response(s)
    eq(got_corr, corr, "api %d v%d: correlation id echoed" % (key, version))
    return resp


def latest_offset(s, topic, corr):
    body = struct.pack(">ib", -1, 0) + struct.pack(">i", 1) + struct.pack(">h", len(topic)) + \
        topic.encode() + struct.pack(">i", 1) + struct.pack(">iq", 0, -1)
    r = Reader(roundtrip(s, LIST_OFFSETS, 2, corr, body))
    r.i32()
    r.i32()
    r.string()
    r.i32()
    r.i32()
    err = r.i16()
    r.i64()
    return err, r.i64()


def main():
    with Broker(make_dir(), "--max-message-bytes", "4096") as b:
        ok(b.start_line.startswith("zcopy broker: kafka://127.0.0.1:") and
           "append write, fetch auto" in b.start_line, "start line: " + b.start_line)
        s = connect(b)

        # ApiVersions: v0 lists our ranges, group APIs included; v3 (flexible body,
        # header v2 request) gets a compact array; v9 gets error 35 as v0.
        err, apis = api_versions_v0(roundtrip(s, API_VERSIONS, 0, 1, b""))
        eq(err, 0, "ApiVersions v0: no error")
        eq(apis.get(PRODUCE), (0, 7), "Produce 0-7 advertised")
        eq(apis.get(FETCH), (4, 11), "Fetch 4-11 advertised")
        eq(apis.get(10), (0, 2), "FindCoordinator 0-2 advertised (librdkafka needs v0)")
        eq(apis.get(11), (0, 5), "JoinGroup 0-5 advertised")
        probe = (struct.pack(">hhi", API_VERSIONS, 3, 2) + struct.pack(">h", 7) + b"rdkafka" +
                 b"\x00" + b"\x0blibrdkafka" + b"\x062.0.2" + b"\x00")
        s.sendall(struct.pack(">i", len(probe)) + probe)
        corr, body = recv_response(s)
        r = Reader(body)
        eq((corr, r.i16()), (2, 0), "ApiVersions v3 probe: header v0, no error")
        n = r.uvarint() - 1
        keys = []
        for _ in range(n):
            keys.append(r.i16())
            r.i16()
            r.i16()
            r.uvarint()
        r.i32()
        eq((r.uvarint(), r.left()), (0, 0), "v3 body: compact array, throttle, empty tags")
        ok(PRODUCE in keys and FETCH in keys, "v3 lists Produce and Fetch")
        # A future version comes with a flexible header (its tag byte counts as
        # header here, as in Kafka) and a body we do not read.
        newer = struct.pack(">hhi", API_VERSIONS, 9, 3) + struct.pack(">h", 1) + b"x\x00" + b"\x07future"
        s.sendall(struct.pack(">i", len(newer)) + newer)
        corr, body = recv_response(s)
        eq(corr, 3, "ApiVersions v9: correlation id echoed")
        err, apis = api_versions_v0(body)
        eq(err, 35, "ApiVersions v9: UNSUPPORTED_VERSION")
        ok(FETCH in apis, "...with our ranges in the v0 layout")

        # Metadata v4: auto-create when allowed, not when not.
        r = Reader(roundtrip(s, METADATA, 4, 4, metadata_body_v4(["t1"])))
        r.i32()
        eq(r.i32(), 1, "one broker")
        r.i32()
        eq((r.string(), r.i32()), ("127.0.0.1", b.port), "advertised = listen address")
        r.string()
        r.string()
        r.i32()
        eq(r.i32(), 1, "one topic")
        eq((r.i16(), r.string()), (0, "t1"), "t1 auto-created, no error")
        r.i8()
        eq(r.i32(), 1, "t1 has 1 partition")
        r = Reader(roundtrip(s, METADATA, 4, 5, metadata_body_v4(["nope"], False)))
        r.i32()
        r.i32()
        r.i32(), r.string(), r.i32(), r.string()
        r.string()
        r.i32()
        r.i32()
        eq(r.i16(), 3, "AllowAutoTopicCreation=false: UNKNOWN_TOPIC_OR_PARTITION")

        # Produce v7 then Fetch v11 returns the stored batch, offsets patched.
        batch = record_batch([b"one", b"two", b"three"])
        res = parse_produce_v7(roundtrip(s, PRODUCE, 7, 6, produce_body("t1", 0, batch)))
        eq(res, [("t1", 0, 0, 0)], "produce: base offset 0")
        res = parse_produce_v7(roundtrip(s, PRODUCE, 7, 7, produce_body("t1", 0, batch)))
        eq(res, [("t1", 0, 0, 3)], "second produce: base offset 3")
        top, parts = parse_fetch_v11(roundtrip(s, FETCH, 11, 8, fetch_body_v11("t1", 0, 0)))
        eq((top, parts[0][2], parts[0][3], parts[0][4]), (0, 0, 6, 6), "fetch: HWM 6, LSO = HWM")
        eq((parts[0][7], parts[0][8]), (0, -1), "no aborted transactions, PreferredReadReplica -1")
        recs = parts[0][6]
        eq(len(recs), 2 * len(batch), "fetch returns both batches")
        eq(struct.unpack(">q", recs[len(batch):len(batch) + 8])[0], 3,
           "second batch's base offset patched to 3")
        second = recs[len(batch):]
        ok(second[8:12] == batch[8:12] and second[16:] == batch[16:],
           "batch stored as sent but for baseOffset and leader epoch")
        top, parts = parse_fetch_v11(roundtrip(s, FETCH, 11, 9,
                                                fetch_body_v11("t1", 0, 4, part_max=10)))
        eq(parts[0][6], recs[len(batch):], "offset 4: its batch from the start, whole "
           "although over PartitionMaxBytes (KIP-74)")
        top, parts = parse_fetch_v11(roundtrip(s, FETCH, 11, 10, fetch_body_v11("t1", 0, 6)))
        eq(parts[0][6], b"", "at the end: records size 0, not null")
        top, parts = parse_fetch_v11(roundtrip(s, FETCH, 11, 11, fetch_body_v11("t1", 0, 99)))
        eq(parts[0][2], 1, "beyond the end: OFFSET_OUT_OF_RANGE")
        top, parts = parse_fetch_v11(roundtrip(s, FETCH, 11, 12, fetch_body_v11("zz", 0, 0)))
        eq(parts[0][2], 3, "unknown topic: UNKNOWN_TOPIC_OR_PARTITION")

        # Bad batches: error codes, nothing stored.
        res = parse_produce_v7(roundtrip(s, PRODUCE, 7, 13,
                                         produce_body("t1", 0, record_batch([b"x"], corrupt_crc=True))))
        eq(res[0][2], 2, "bad CRC: CORRUPT_MESSAGE")
        res = parse_produce_v7(roundtrip(s, PRODUCE, 7, 14, produce_body("t1", 0, batch + batch)))
        eq(res[0][2], 87, "two batches in one partition (v3+): INVALID_RECORD")
        res = parse_produce_v7(roundtrip(s, PRODUCE, 7, 15,
                                         produce_body("t1", 0, record_batch([b"y" * 5000]))))
        eq(res[0][2], 10, "batch over --max-message-bytes: MESSAGE_TOO_LARGE")
        res = parse_produce_v7(roundtrip(s, PRODUCE, 7, 16, produce_body("t1", 0, batch, acks=2)))
        eq(res[0][2], 21, "acks=2: INVALID_REQUIRED_ACKS")
        old = b"\xff\xff\x00\x00\x75\x30" + produce_body("t1", 0, batch)[8:]
        r = Reader(roundtrip(s, PRODUCE, 2, 170, old))
        r.i32(), r.string(), r.i32(), r.i32()
        eq(r.i16(), 43, "Produce v2: UNSUPPORTED_FOR_MESSAGE_FORMAT")
        eq(latest_offset(s, "t1", 17), (0, 6), "nothing stored by the refused produces")

        # ListOffsets by time finds the record inside a batch, not the batch.
        t0 = int(time.time() * 1000) - 100000
        timed = record_batch([b"a", b"b", b"c"], timestamp_ms=t0, deltas=[0, 1000, 2000])
        roundtrip(s, METADATA, 4, 170, metadata_body_v4(["tt"]))
        res = parse_produce_v7(roundtrip(s, PRODUCE, 7, 171, produce_body("tt", 0, timed)))
        for want_ts, want in ((t0 + 1500, (2, t0 + 2000)), (t0 - 5, (0, t0)),
                              (t0 + 1000, (1, t0 + 1000)), (t0 + 2001, (-1, -1))):
            body = (struct.pack(">i", -1) + struct.pack(">i", 1) + struct.pack(">h", 2) + b"tt" +
                    struct.pack(">i", 1) + struct.pack(">iq", 0, want_ts))
            r = Reader(roundtrip(s, LIST_OFFSETS, 1, 172, body))
            r.i32(), r.string(), r.i32(), r.i32()
            err, ts, off = r.i16(), r.i64(), r.i64()
            eq((err, off, ts), (0,) + want, "ListOffsets v1 at t0%+d: offset and timestamp of "
               "the record" % (want_ts - t0))

        # acks=0: no response; the next request's answer comes first.
        s.sendall(request(PRODUCE, 7, 18, produce_body("t1", 0, batch, acks=0)))
        eq(latest_offset(s, "t1", 19), (0, 9), "acks=0 stored, answered nothing")

        # Pipelined: three requests in one write, answers in order.
        s.sendall(request(API_VERSIONS, 0, 20, b"") +
                  request(PRODUCE, 7, 21, produce_body("t1", 0, batch)) +
                  request(API_VERSIONS, 1, 22, b""))
        eq([recv_response(s)[0] for _ in range(3)], [20, 21, 22], "pipelined: in order")

        # Long poll: parked until an append from another connection.
        s2 = connect(b)
        s.sendall(request(FETCH, 11, 23, fetch_body_v11("t1", 0, 12, max_wait=30000)))
        # Parked for sure (read and handled in one event), so the append
        # below is what wakes it; a sleep could leave it unread.
        ok(wait_server_read(s), "the fetch was read (and parked)")
        t0 = time.monotonic()
        s2.sendall(request(PRODUCE, 7, 1, produce_body("t1", 0, batch)))
        eq(parse_produce_v7(recv_response(s2)[1])[0][2], 0, "wake-up produce stored")
        corr, body = recv_response(s)
        waited = time.monotonic() - t0
        top, parts = parse_fetch_v11(body)
        ok(corr == 23 and len(parts[0][6]) == len(batch),
           "parked fetch answered with the appended batch")
        ok(waited < 15, "woken by the append, not by MaxWaitMs (%.2f s of 30)" % waited)
        t0 = time.monotonic()
        s.sendall(request(FETCH, 11, 24, fetch_body_v11("t1", 0, 15, max_wait=300)))
        corr, body = recv_response(s)
        ok(corr == 24 and parse_fetch_v11(body)[1][0][6] == b"" and
           time.monotonic() - t0 >= 0.25, "no data: answered empty after MaxWaitMs")
        s2.close()
        s.close()

        # Bad input: each closes its own connection; the broker goes on.
        bad = {
            "garbage": b"\x00\x00\x00\x0c" + os.urandom(12),
            "2 GiB size": struct.pack(">i", 0x7fffffff) + b"\0" * 16,
            "negative size": struct.pack(">i", -5) + b"\0" * 16,
            "HTTP": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "unknown API key": request(999, 0, 1, b""),
            "Fetch v3 (not advertised)": request(FETCH, 3, 1, b""),
            "truncated body": request(PRODUCE, 7, 1, produce_body("t1", 0, batch))[:-10],
        }
        for name, data in bad.items():
            c = connect(b)
            if name == "truncated body":
                # The size says more is coming: it is the count that lies.
                data = struct.pack(">i", len(data) - 4) + data[4:]
            c.sendall(data)
            ok(closed_by_peer(c), "%s: connection closed" % name)
            c.close()
        c = connect(b)
        c.sendall(request(PRODUCE, 7, 1, produce_body("t1", 0, batch))[:40])
        c.close()
        c = connect(b)
        err, apis = api_versions_v0(roundtrip(c, API_VERSIONS, 0, 99, b""))
        ok(err == 0 and b.alive(), "the broker still answers after all that")
        c.close()
        eq(b.stop(), 0, "SIGTERM: exit 0")
    done()


main()
