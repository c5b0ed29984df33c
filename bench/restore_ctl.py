#!/usr/bin/env python3
"""The control-socket side of bench/restore.sh: take one snapshot of a running
VM and print how long it took, in milliseconds, on stdout.

  restore_ctl.py qemu QMP_SOCKET FILE   stop, migrate "exec:cat > FILE", quit
  restore_ctl.py vmm API_SOCKET FILE    {"cmd":"snapshot","path":FILE,"then":"exit"}

The time runs from sending the first command that stops the guest to the
moment the file is complete (vmm: the snapshot command's reply, which comes
after vmm's fsync and rename). QEMU prints two times: when query-migrate says
completed, and when its exec command (`cat > FILE && sync FILE`) has synced
the file, which is what vmm promises. QEMU waits for the exec command to end
before it reports completed, so the two agree; the second checks it. On failure: a message on stderr, exit status 1;
exit status 2 when vmm says this build cannot take snapshots.
"""
import json
import os
import shlex
import socket
import sys
import time


def connect(path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError as e:
            s.close()
            if time.monotonic() > deadline:
                sys.exit(f"restore_ctl: cannot connect to {path}: {e}")
            time.sleep(0.01)


class Lines:
    def __init__(self, sock):
        self.f = sock.makefile("rwb", buffering=0)

    def send(self, obj):
        self.f.write((json.dumps(obj) + "\n").encode())

    def recv(self):
        line = self.f.readline()
        if not line:
            sys.exit("restore_ctl: the socket closed before a reply")
        return json.loads(line)

    def reply(self):
        """The next line that is not an asynchronous event."""
        while True:
            msg = self.recv()
            if "event" not in msg:
                return msg


def qmp(lines, cmd, **args):
    lines.send({"execute": cmd, "arguments": args} if args else {"execute": cmd})
    r = lines.reply()
    if "error" in r:
        sys.exit(f"restore_ctl: QMP {cmd}: {r['error'].get('desc', r['error'])}")
    return r.get("return")


def qemu_save(sock_path, out):
    lines = Lines(connect(sock_path))
    lines.recv()  # greeting
    qmp(lines, "qmp_capabilities")
    # No bandwidth cap and a downtime limit that lets one pass finish: the
    # guest is stopped, so this is QEMU's fastest dump to a file.
    qmp(lines, "migrate-set-parameters", **{"max-bandwidth": 1 << 40, "downtime-limit": 2000000})
    synced = out + ".synced"
    if os.path.exists(synced):
        os.unlink(synced)
    q = shlex.quote
    t0 = time.monotonic()
    qmp(lines, "stop")
    qmp(lines, "migrate", uri=f"exec:cat > {q(out)} && sync {q(out)} && : > {q(synced)}")
    while True:
        st = qmp(lines, "query-migrate").get("status")
        if st == "completed":
            break
        if st in ("failed", "cancelled"):
            sys.exit(f"restore_ctl: QEMU migration {st}")
        time.sleep(0.001)
    ms = (time.monotonic() - t0) * 1e3
    deadline = time.monotonic() + 300
    while not os.path.exists(synced):
        if time.monotonic() > deadline:
            sys.exit(f"restore_ctl: {out} was never synced")
        time.sleep(0.001)
    ms_synced = (time.monotonic() - t0) * 1e3
    os.unlink(synced)
    qmp(lines, "quit")
    return f"{ms:.3f} {ms_synced:.3f}"


def vmm_save(sock_path, out):
    lines = Lines(connect(sock_path))
    t0 = time.monotonic()
    lines.send({"cmd": "snapshot", "path": out, "then": "exit"})
    r = lines.reply()
    ms = (time.monotonic() - t0) * 1e3
    if not r.get("ok"):
        err = str(r.get("error", r))
        print(f"restore_ctl: vmm snapshot: {err}", file=sys.stderr)
        sys.exit(2 if "not implemented" in err or "not supported" in err else 1)
    return f"{ms:.3f}"


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("qemu", "vmm"):
        sys.exit("usage: restore_ctl.py qemu|vmm SOCKET FILE")
    save = qemu_save if sys.argv[1] == "qemu" else vmm_save
    print(save(sys.argv[2], sys.argv[3]))


if __name__ == "__main__":
    main()
