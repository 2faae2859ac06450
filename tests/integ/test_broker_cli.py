#!/usr/bin/env python3
"""zcopy broker's command line: --help, refused options, --advertise,
--no-auto-create, --partitions, --append mmap with --fetch-method readwrite,
a busy port, MaxBytes across partitions, and SIGTERM answering a parked
fetch before exiting 0."""
import os
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import (Broker, Reader, connect, fetch_body_v11, make_dir,  # noqa: E402
                         metadata_body_v4, parse_fetch_v11, parse_produce_v7, kstr,
                         produce_body, record_batch, recv_response, request)
from serve_util import done, eq, ok, wait_server_read, zcopy  # noqa: E402

METADATA, PRODUCE, FETCH = 3, 0, 1


def run(*args):
    p = subprocess.run([zcopy(), "broker"] + list(args), capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def metadata(s, corr, topics, allow=True):
    """(brokers [(id, host, port)], topics [(error, name, partitions)])."""
    s.sendall(request(METADATA, 4, corr, metadata_body_v4(topics, allow)))
    r = Reader(recv_response(s)[1])
    r.i32()
    brokers = [(r.i32(), r.string(), r.i32(), r.string())[:3] for _ in range(r.i32())]
    r.string()
    r.i32()
    out = []
    for _ in range(r.i32()):
        err, name = r.i16(), r.string()
        r.i8()
        n = r.i32()
        for _ in range(n):
            r.i16(), r.i32(), r.i32()
            for _ in range(r.i32()):
                r.i32()
            for _ in range(r.i32()):
                r.i32()
        out.append((err, name, n))
    return brokers, out


def fetch_two(s, corr, topic, max_bytes, part_max):
    body = (struct.pack(">iiiibii", -1, 0, 1, max_bytes, 0, 0, -1) + struct.pack(">i", 1) +
            kstr(topic) + struct.pack(">i", 2) +
            struct.pack(">iiqqi", 0, -1, 0, -1, part_max) +
            struct.pack(">iiqqi", 1, -1, 0, -1, part_max) + struct.pack(">i", 0) + kstr(""))
    s.sendall(request(FETCH, 11, corr, body))
    return parse_fetch_v11(recv_response(s)[1])[1]


def main():
    rc, out, _ = run("--help")
    ok(rc == 0 and "usage: zcopy broker DIR" in out and "--fetch-method" in out and
       "--retention-ms" in out, "--help")
    for args, name in ((["--advertise", "localhost:9092"], "--advertise localhost"),
                       (["--advertise", "0.0.0.0:9092"], "--advertise 0.0.0.0"),
                       (["--append", "splice"], "--append splice"),
                       (["--fetch-method", "teleport"], "--fetch-method teleport"),
                       (["--flush", "sometimes"], "--flush sometimes"),
                       (["--segment-bytes", "12q"], "--segment-bytes 12q"),
                       (["--partitions", "0"], "--partitions 0"),
                       (["--loop", "kqueue"], "--loop kqueue"),
                       ([], "no DIR")):
        d = [] if name == "no DIR" else [make_dir()]
        rc, _, err = run(*(d + args + ["--listen", "127.0.0.1:0"]))
        ok(rc == 2 and "zcopy broker:" in err, "refused: %s (%s)" % (name, err.strip()[:60]))

    d = make_dir()
    with Broker(d, "--advertise", "10.1.2.3:9999", "--no-auto-create",
                "--append", "mmap", "--fetch-method", "readwrite") as b:
        ok("append mmap, fetch readwrite, loop " in b.start_line, "start line names the modes")
        rc, _, err = run(make_dir(), "--listen", "127.0.0.1:%d" % b.port)
        ok(rc == 1 and "cannot listen" in err, "a second broker on the same port: exit 1")
        s = connect(b)
        brokers, topics = metadata(s, 1, ["newt"])
        eq(brokers, [(0, "10.1.2.3", 9999)], "Metadata advertises --advertise")
        eq(topics, [(3, "newt", 0)], "--no-auto-create: UNKNOWN_TOPIC_OR_PARTITION")
        s.close()
        eq(b.stop(), 0, "exit 0")

    with Broker(make_dir(), "--partitions", "2", "--append", "mmap") as b:
        s = connect(b)
        _, topics = metadata(s, 1, ["two"])
        eq(topics, [(0, "two", 2)], "--partitions 2 for auto-created topics")
        batch = record_batch([b"x" * 300])
        for part in (0, 1):
            s.sendall(request(PRODUCE, 7, 2, produce_body("two", part, batch)))
            eq(parse_produce_v7(recv_response(s)[1])[0][2], 0, "produce to partition %d" % part)
        parts = fetch_two(s, 3, "two", 10, 10)
        eq([len(p[6]) for p in parts], [len(batch), 0],
           "MaxBytes 10: the first batch whole (KIP-74), then nothing more")
        parts = fetch_two(s, 4, "two", 1 << 20, 1 << 20)
        eq([p[6] for p in parts], [parts[0][6], parts[0][6]],
           "room for both: each partition's batch (mmap append, same bytes)")
        eq(len(parts[1][6]), len(batch), "...whole")

        # A client that shuts its side while its fetch is parked is gone:
        # the broker closes at once instead of answering after 30 s.
        c = connect(b)
        c.sendall(request(FETCH, 11, 9, fetch_body_v11("two", 0, 1, max_wait=30000)))
        ok(wait_server_read(c), "the fetch was read (and parked)")
        c.shutdown(socket.SHUT_WR)
        c.settimeout(10)
        try:
            got = c.recv(1)
        except socket.timeout:
            got = None
        eq(got, b"", "peer shut down while parked: connection closed, no 30 s wait")
        c.close()

        # SIGTERM with a fetch parked for 30 s: answered at once, exit 0.
        s.sendall(request(FETCH, 11, 5, fetch_body_v11("two", 0, 1, max_wait=30000)))
        # A stopping broker finishes the requests it has read and closes the
        # rest: SIGTERM only once this one is read, not after a sleep.
        ok(wait_server_read(s), "the fetch was read (and parked) before SIGTERM")
        t0 = time.monotonic()
        b.proc.send_signal(15)
        corr, body = recv_response(s)
        ok(corr == 5 and parse_fetch_v11(body)[1][0][6] == b"",
           "parked fetch answered (empty) on SIGTERM")
        rc = b.proc.wait(20)
        ok(rc == 0 and time.monotonic() - t0 < 20, "then exit 0 without waiting MaxWaitMs")
        s.close()
    done()


main()
