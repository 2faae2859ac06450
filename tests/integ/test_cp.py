#!/usr/bin/env python3
"""zcopy cp: byte-exact copies of regular files, sparse files that stay
sparse (one over 4 GiB), mode and -p timestamps, copying into a directory,
--reflink, refusals that leave DST untouched and no temp file behind, and the
progress bar under a pseudo-terminal."""
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client_helpers import (Tap, content, fifo_reader, require_zcopy,  # noqa: E402
                            rmtree, run, run_in_pty, sha, sha_file, tmpdir,
                            zcopy_on_private_dev, ZCOPY)

MiB = 1024 * 1024


def write(path, data, mode=None):
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


def data_extents(path):
    """[(start, end)] of the file's data, by SEEK_DATA/SEEK_HOLE."""
    out = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        off = 0
        while off < size:
            try:
                start = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break                   # ENXIO: only a hole is left
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            off = end
    finally:
        os.close(fd)
    return out


def same_sparse(a, b):
    """Equal contents without reading the holes: equal sizes, and the bytes of
    the union of both files' data extents equal (holes read as zeros)."""
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    ranges = sorted(data_extents(a) + data_extents(b))
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for start, end in ranges:
            fa.seek(start)
            fb.seek(start)
            left = end - start
            while left > 0:
                n = min(left, 4 * MiB)
                if fa.read(n) != fb.read(n):
                    return False
                left -= n
    return True


def no_temp_files(d):
    return [n for n in os.listdir(d) if ".zcopy-" in n] == []


def test_regular(t, d):
    for size in (0, 1, 4097, 5 * MiB + 3):
        data = content(size, "cp%d" % size)
        src, dst = os.path.join(d, "r%d" % size), os.path.join(d, "r%d.copy" % size)
        write(src, data, 0o640)
        r = run(["cp", src, dst])
        t.eq(r.returncode, 0, "cp %d bytes: exit 0" % size)
        t.ok(os.path.exists(dst) and sha_file(dst) == sha(data),
             "cp %d bytes: byte-exact" % size, r.stderr)
        t.eq(stat.S_IMODE(os.stat(dst).st_mode), 0o640, "cp %d bytes: mode kept" % size)
        t.eq(r.stderr, b"", "cp %d bytes: nothing on a non-terminal stderr" % size)
    src = os.path.join(d, "exec")
    write(src, b"#!/bin/sh\n", 0o4751)
    r = run(["cp", src, os.path.join(d, "exec.copy")])
    t.eq(stat.S_IMODE(os.stat(os.path.join(d, "exec.copy")).st_mode), 0o4751,
         "mode with setuid bit kept")
    dst = os.path.join(d, "over")
    write(dst, b"x" * 100000)
    r = run(["cp", os.path.join(d, "r1"), dst])
    t.ok(r.returncode == 0 and open(dst, "rb").read() == content(1, "cp1"),
         "cp over a longer existing file replaces it", r.stderr)
    t.ok(no_temp_files(d), "no temp file left behind")


def test_times_and_dir(t, d):
    src = os.path.join(d, "timed")
    write(src, content(10000, "timed"))
    os.utime(src, ns=(1_000_000_123_456_789, 1_200_000_987_654_321))
    r = run(["cp", "-p", src, os.path.join(d, "timed.p")])
    st = os.stat(os.path.join(d, "timed.p"))
    t.ok(r.returncode == 0 and st.st_mtime_ns == 1_200_000_987_654_321 and
         st.st_atime_ns == 1_000_000_123_456_789,
         "-p keeps access and modification times to the nanosecond",
         (st.st_atime_ns, st.st_mtime_ns))
    r = run(["cp", src, os.path.join(d, "timed.nop")])
    t.ok(os.stat(os.path.join(d, "timed.nop")).st_mtime_ns != 1_200_000_987_654_321,
         "without -p the copy gets the current time")
    sub = os.path.join(d, "into")
    os.mkdir(sub)
    r = run(["cp", src, sub])
    t.ok(r.returncode == 0 and sha_file(os.path.join(sub, "timed")) == sha_file(src),
         "DST a directory: copied into it under SRC's name", r.stderr)
    r = run(["cp", src, sub + "/"])
    t.eq(r.returncode, 0, "DST a directory with a trailing slash")
    os.mkdir(os.path.join(sub, "blocker"))
    blocker = os.path.join(d, "blocker")
    write(blocker, b"x")
    r = run(["cp", blocker, sub + "/"])
    t.ok(r.returncode == 4 and (sub + "/blocker").encode() in r.stderr and
         b"//" not in r.stderr, "error message names DST/NAME without a double slash",
         r.stderr)


def test_sparse(t, d):
    src = os.path.join(d, "sparse")
    with open(src, "wb") as f:
        f.truncate(64 * MiB)
        for off in (0, 20 * MiB + 5, 64 * MiB - 3):
            f.seek(off)
            f.write(content(3, "s%d" % off))
    dst = os.path.join(d, "sparse.copy")
    r = run(["cp", src, dst, "--stats"])
    t.eq(r.returncode, 0, "sparse 64 MiB: exit 0")
    t.ok(same_sparse(src, dst), "sparse 64 MiB: same contents")
    src_blocks, dst_blocks = os.stat(src).st_blocks, os.stat(dst).st_blocks
    t.ok(dst_blocks <= src_blocks + 64, "sparse 64 MiB: holes stay holes",
         "st_blocks %d (source %d)" % (dst_blocks, src_blocks))
    t.ok(re.search(rb"in 3 extents", r.stderr) is not None,
         "--stats counts the 3 data extents", r.stderr)

    hole = os.path.join(d, "allhole")
    with open(hole, "wb") as f:
        f.truncate(10 * MiB)
    r = run(["cp", hole, hole + ".copy"])
    st = os.stat(hole + ".copy")
    t.ok(r.returncode == 0 and st.st_size == 10 * MiB and st.st_blocks == 0,
         "a file that is all hole: size kept, no block allocated", st)


def test_huge_sparse(t, d):
    src = os.path.join(d, "huge")
    size = 5 * 1024 * MiB + 12345
    data = content(1 * MiB + 7, "huge")
    with open(src, "wb") as f:
        f.truncate(size)
        f.seek(4 * 1024 * MiB + 4096 * 3 + 1)       # straddles nothing, past 4 GiB
        f.write(data)
        f.seek(size - 5)
        f.write(b"tail!")
    dst = os.path.join(d, "huge.copy")
    r = run(["cp", src, dst])
    t.eq(r.returncode, 0, "sparse %d bytes (> 4 GiB): exit 0" % size)
    t.eq(os.path.getsize(dst), size, "> 4 GiB: size kept")
    t.ok(same_sparse(src, dst), "> 4 GiB: same contents past the 4 GiB mark")
    t.ok(os.stat(dst).st_blocks <= os.stat(src).st_blocks + 64,
         "> 4 GiB: holes stay holes", os.stat(dst).st_blocks)
    with open(dst, "rb") as f:
        f.seek(4 * 1024 * MiB + 4096 * 3 + 1)
        t.ok(f.read(len(data)) == data, "> 4 GiB: the data beyond 4 GiB is exact")
    os.unlink(src)
    os.unlink(dst)


def test_refusals(t, d):
    src = os.path.join(d, "r4097")
    dst = os.path.join(d, "keep")
    write(dst, b"keep me")
    r = run(["cp", "--reflink=always", src, dst])
    if r.returncode == 0:
        t.ok(sha_file(dst) == sha_file(src), "--reflink=always cloned (filesystem can)")
    else:
        t.eq(r.returncode, 4, "--reflink=always where FICLONE fails: exit 4")
        t.eq(open(dst, "rb").read(), b"keep me", "--reflink=always failed: DST untouched")
    r = run(["cp", "--reflink=auto", src, dst])
    t.ok(r.returncode == 0 and sha_file(dst) == sha_file(src),
         "--reflink=auto falls back to copying", r.stderr)
    r = run(["cp", src, src])
    t.eq(r.returncode, 4, "SRC and DST the same file: exit 4")
    t.eq(sha_file(src), sha(content(4097, "cp4097")), "the same file: SRC intact")
    r = run(["cp", os.path.join(d, "missing"), dst])
    t.eq(r.returncode, 4, "missing SRC: exit 4")
    r = run(["cp", d, dst])
    t.eq(r.returncode, 4, "SRC a directory: exit 4")
    r = run(["cp", src, os.path.join(d, "nodir", "x")])
    t.eq(r.returncode, 4, "DST in a missing directory: exit 4")
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    r = run(["cp", fifo, dst], timeout=10)
    t.eq(r.returncode, 4, "SRC a FIFO: refused at once with exit 4")
    os.unlink(fifo)
    r = run(["cp", src])
    t.eq(r.returncode, 1, "missing DST: exit 1")
    r = run(["cp", "--reflink=sometimes", src, dst])
    t.eq(r.returncode, 1, "bad --reflink value: exit 1")
    t.ok(no_temp_files(d), "no temp file left behind after refusals")


def test_special_destinations(t, d):
    """A FIFO, socket or device at DST is written into (or refused), never
    replaced by a regular file; a symlink is followed as cp(1) does."""
    data = content(300001, "special")
    src = os.path.join(d, "special-src")
    write(src, data)

    fifo = os.path.join(d, "dst-fifo")
    os.mkfifo(fifo)
    th, got = fifo_reader(fifo)
    r = run(["cp", src, fifo], timeout=30)
    th.join(timeout=30)
    t.eq(r.returncode, 0, "DST a FIFO: exit 0")
    t.ok(stat.S_ISFIFO(os.lstat(fifo).st_mode), "DST a FIFO: still a FIFO (not renamed over)")
    t.ok(got and got[0] == data, "DST a FIFO: its reader got SRC's bytes",
         len(got[0]) if got else None)

    sock_path = os.path.join(d, "dst-sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sock_path)
    try:
        r = run(["cp", src, sock_path])
        t.eq(r.returncode, 4, "DST a socket: exit 4 (a socket cannot be opened)")
        t.ok(stat.S_ISSOCK(os.lstat(sock_path).st_mode), "DST a socket: still a socket")
    finally:
        s.close()

    target = os.path.join(d, "link-target")
    write(target, b"old")
    link = os.path.join(d, "dst-link")
    os.symlink("link-target", link)
    r = run(["cp", src, link])
    t.ok(r.returncode == 0 and os.path.islink(link) and os.readlink(link) == "link-target",
         "DST a symlink: the link stays a link", r.stderr)
    t.ok(sha_file(target) == sha(data), "DST a symlink: the file it points to got the copy")
    dangling = os.path.join(d, "dst-dangling")
    os.symlink("nowhere", dangling)
    r = run(["cp", src, dangling])
    t.eq(r.returncode, 4, "DST a dangling symlink: exit 4")
    t.ok(os.path.islink(dangling) and not os.path.exists(os.path.join(d, "nowhere")),
         "DST a dangling symlink: link kept, nothing created")
    loop = os.path.join(d, "dst-loop")
    os.symlink("dst-loop", loop)
    r = run(["cp", src, loop])
    t.ok(r.returncode == 4 and os.path.islink(loop), "DST a symlink loop: exit 4, link kept",
         r.stderr)

    # A link to a pipe (as /dev/stdout is when stdout is one) has no real
    # path: cp writes through it, as cp(1) does.
    to_stdout = os.path.join(d, "dst-stdout")
    os.symlink("/proc/self/fd/1", to_stdout)
    r = run(["cp", src, to_stdout])
    t.ok(r.returncode == 0 and r.stdout == data and os.path.islink(to_stdout),
         "DST a link to the stdout pipe: the bytes go down the pipe", r.stderr)
    os.unlink(to_stdout)

    # A regular DST is replaced by a new file: its other hard links keep the
    # old bytes (documented in --help and the man page).
    dst, other = os.path.join(d, "linked-dst"), os.path.join(d, "linked-other")
    write(dst, b"old bytes")
    os.link(dst, other)
    r = run(["cp", src, dst])
    t.ok(r.returncode == 0 and sha_file(dst) == sha(data) and
         open(other, "rb").read() == b"old bytes",
         "a regular DST is replaced: another hard link keeps the old bytes", r.stderr)
    for p in (fifo, sock_path, link, target, dangling, loop, dst, other):
        os.unlink(p)
    t.ok(no_temp_files(d), "special destinations: no temp file left")


def test_device_destination(t, d):
    """As root, `zcopy cp f /dev/null` (and /dev/zero) in a private /dev:
    the device node must stay a device."""
    src = os.path.join(d, "special-src2")
    write(src, content(100000, "dev"))
    got = zcopy_on_private_dev(t, "DST a device node",
                               [["cp", src, "/dev/null"], ["cp", src, "/dev/zero"]])
    if got is not None:
        t.eq(got, [(0, "character special file")] * 2,
             "DST /dev/null and /dev/zero: exit 0, still character devices")
    os.unlink(src)


def test_mode_bits(t, d):
    """Without -p the umask applies and setuid/setgid go when the owner is not
    kept; with -p (as root) they stay with the owner."""
    src = os.path.join(d, "mode-src")
    write(src, b"#!/bin/sh\n", 0o644)
    dst = os.path.join(d, "mode-077")
    r = run(["cp", src, dst], preexec_fn=lambda: os.umask(0o077))
    t.eq(stat.S_IMODE(os.stat(dst).st_mode), 0o600, "umask 077 without -p: 0644 copied as 0600")
    r = run(["cp", "-p", src, dst + ".p"], preexec_fn=lambda: os.umask(0o077))
    t.eq(stat.S_IMODE(os.stat(dst + ".p").st_mode), 0o644, "umask 077 with -p: mode kept")
    if os.geteuid() != 0:
        t.skip("setuid file of another owner", "needs root for chown")
        return
    suid = os.path.join(d, "suid-src")
    write(suid, b"#!/bin/sh\n")
    os.chown(suid, 1234, 1234)
    os.chmod(suid, 0o6755)
    r = run(["cp", suid, suid + ".copy"], preexec_fn=lambda: os.umask(0o022))
    st = os.stat(suid + ".copy")
    t.ok(r.returncode == 0 and stat.S_IMODE(st.st_mode) == 0o755 and st.st_uid == 0,
         "a 6755 file of uid 1234 copied by root: 0755 root-owned (setuid/setgid dropped)",
         "%o uid %d" % (stat.S_IMODE(st.st_mode), st.st_uid))
    r = run(["cp", "-p", suid, suid + ".p"])
    st = os.stat(suid + ".p")
    t.ok(r.returncode == 0 and stat.S_IMODE(st.st_mode) == 0o6755 and st.st_uid == 1234,
         "with -p the owner is kept, and with it the setuid/setgid bits",
         "%o uid %d" % (stat.S_IMODE(st.st_mode), st.st_uid))


def test_interrupt(t, d):
    """SIGINT at several points of a copy: DST is either the old file or the
    complete copy, never a partial one, and no temp file is left."""
    src = os.path.join(d, "int-src")
    block = content(MiB, "int")
    with open(src, "wb") as f:
        for i in range(192):
            f.write(block[i:] + block[:i])
    want = sha_file(src)
    dst = os.path.join(d, "int-dst")
    interrupted = 0
    for delay in (0.0, 0.01, 0.03, 0.06, 0.1):
        write(dst, b"old contents")
        p = subprocess.Popen([ZCOPY, "cp", "-q", "--method", "readwrite", src, dst],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        got = open(dst, "rb").read(12)
        # -SIGINT: the signal came before zcopy installed its handler.
        if p.returncode in (130, -signal.SIGINT):
            interrupted += 1
            t.eq(got, b"old contents", "SIGINT after %.2fs: DST untouched" % delay)
        else:
            t.ok(p.returncode == 0 and sha_file(dst) == want,
                 "SIGINT after %.2fs came too late: exit 0, DST complete" % delay,
                 p.returncode)
        t.ok(no_temp_files(d), "SIGINT after %.2fs: no temp file left" % delay)
    t.diag("%d of 5 copies were interrupted" % interrupted)


def test_progress(t, d):
    src = os.path.join(d, "r5242883")
    dst = os.path.join(d, "tty.copy")
    status, out = run_in_pty([ZCOPY, "cp", src, dst])
    text = out.decode("ascii", errors="replace")
    t.eq(status, 0, "cp under a terminal: exit 0")
    t.ok(re.search(r"\b100%", text) is not None and text.endswith("\n"),
         "cp: the bar shows a percentage and ends with a newline", repr(text))
    t.ok(all(c in "\r\n" or 32 <= ord(c) < 127 for c in text),
         "cp: only printable text, CR and LF", repr(text))
    t.ok(sha_file(dst) == sha_file(src), "cp under a terminal: byte-exact")


def main():
    require_zcopy()
    t = Tap()
    d = tmpdir()
    try:
        test_regular(t, d)
        test_times_and_dir(t, d)
        test_sparse(t, d)
        test_huge_sparse(t, d)
        test_refusals(t, d)
        test_special_destinations(t, d)
        test_device_destination(t, d)
        test_mode_bits(t, d)
        test_interrupt(t, d)
        test_progress(t, d)
    finally:
        rmtree(d)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
