#!/usr/bin/env python3
"""Write husk's guest initramfs: a newc cpio archive (uncompressed) holding
the agent as /init and the directories it mounts on.

    mkcpio.py OUTPUT AGENT

Deterministic: fixed inode numbers, owners (root) and mtimes, so the same
agent binary always gives the same bytes. Standard library only.
"""

import os
import stat
import sys

MTIME = 0  # 1970-01-01: nothing in the guest reads it

# (name, mode, rdev (major, minor) for a device node)
DIRS = ["dev", "proc", "sys", "run", "tmp"]
# /dev/console: the kernel opens it as init's 0, 1 and 2 before devtmpfs
# is mounted over /dev.
CONSOLE = ("dev/console", stat.S_IFCHR | 0o600, (5, 1))


def header(ino, mode, nlink, size, name, rdev=(0, 0)):
    namez = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, MTIME, size, 0, 0, rdev[0], rdev[1], len(namez), 0]
    head = b"070701" + b"".join(b"%08x" % f for f in fields) + namez
    return head + pad(len(head))


def pad(n):
    return b"\0" * (-n % 4)


def archive(agent):
    out = []
    ino = 0

    def entry(name, mode, nlink, data=b"", rdev=(0, 0)):
        nonlocal ino
        ino += 1
        out.append(header(ino, mode, nlink, len(data), name, rdev))
        out.append(data + pad(len(data)))

    for d in DIRS:
        entry(d, stat.S_IFDIR | 0o755, 2)
    name, mode, rdev = CONSOLE
    entry(name, mode, 1, rdev=rdev)
    with open(agent, "rb") as f:
        entry("init", stat.S_IFREG | 0o755, 1, f.read())
    ino = 0  # the trailer's fields are all zero
    out.append(header(0, 0, 1, 0, "TRAILER!!!"))
    return b"".join(out)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    data = archive(argv[2])
    tmp = argv[1] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
