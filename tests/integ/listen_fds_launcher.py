#!/usr/bin/env python3
"""listen_fds_launcher.py FD[,FD...] [--pid other] -- COMMAND ARGS...

What systemd does for socket activation, and nothing more: move the given
inherited fds to 3, 4, ... (SD_LISTEN_FDS_START), set LISTEN_FDS to their
count and LISTEN_PID to this process's pid, then exec COMMAND, which keeps
the pid. With --pid other, LISTEN_PID names another process (the variables
are then not meant for COMMAND)."""
import fcntl
import os
import sys

sys.dont_write_bytecode = True


def main(argv):
    sep = argv.index("--")
    opts, cmd = argv[1:sep], argv[sep + 1:]
    fds = [int(x) for x in opts[0].split(",")]
    other_pid = "--pid" in opts
    # Move them above the target range first, so that placing fd i at 3 + i
    # cannot overwrite a source not yet placed.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]
    for fd in fds:
        os.close(fd)
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
        os.close(fd)
    os.environ["LISTEN_FDS"] = str(len(fds))
    os.environ["LISTEN_PID"] = str(os.getppid() if other_pid else os.getpid())
    os.environ["LISTEN_FDNAMES"] = ":".join("http" for _ in fds)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv)
