"""Drive vmm on a pseudo-terminal the way a person at a keyboard would."""
import os
import pty
import select
import sys
import termios
import time

vmm, guests = sys.argv[1], sys.argv[2]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(guest, keys, want, timeout=20):
    """Run a guest on a new pty; send keys once it is up; return (status, output, attrs)."""
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.dup2(slave, 0)
        os.dup2(slave, 1)
        os.dup2(slave, 2)
        os.execv(vmm, [vmm, "run", "--kernel", f"{guests}/{guest}.elf"])
    out = b""
    sent = False
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                out += os.read(master, 4096)
            except OSError:
                pass
        if not sent and want.encode() in out:
            time.sleep(0.2)
            for k in keys:
                os.write(master, k)
                time.sleep(0.05)
            sent = True
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        fail(f"{guest}: vmm did not exit; output: {out!r}")
    while True:  # what the guest wrote just before the end
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    return status, out.decode(errors="replace"), before, after


# Keys go through raw: Ctrl-C (0x03) reaches the guest instead of killing vmm.
st, out, before, after = run("echo", [b"a", b"b", b"\x03", b"c", b"\r", b"\n"], "echo ready")
if st != 0:
    fail(f"echo guest: vmm exited {st}: {out!r}")
if "AB\x03C" not in out:
    fail(f"keys did not reach the guest raw (Ctrl-C included): {out!r}")
if before != after:
    fail("terminal attributes not restored after exit")

# Ctrl-A x leaves vmm with 130 (as Ctrl-C would outside raw mode), terminal restored.
st, out, before, after = run("spin", [b"\x01", b"x"], "tick 1")
if st != 130:
    fail(f"Ctrl-A x: vmm exited {st}, expected 130: {out[-300:]!r}")
if before != after:
    fail("terminal attributes not restored after Ctrl-A x")
print("ok")
