#!/usr/bin/env python3
"""QMP against a running guest program (tests/guest/qmpguest.c): pmemsave
returns what the guest wrote, and inject-nmi reaches the guest's NMI handler.

usage: qmp_guest.py EMULATOR ACCEL GUEST_BUILDDIR
  e.g. qmp_guest.py build/kvmpc kvm build/tests/guest            (in the lab)
       qmp_guest.py qemu-system-x86_64 tcg build/tests/guest     (the oracle)
Prints "PASS: ..." and exits 0, or "FAIL: reason" and exits 1.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient, read_text  # noqa: E402

PATTERN_ADDR, PATTERN_SIZE = 0x200000, 4096


def fail(msg, log=""):
    print(log)
    print("FAIL: qmp_guest: " + msg)
    sys.exit(1)


def main():
    emu, accel, guestdir = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="kvmpc-qmpguest-")
    atexit.register(shutil.rmtree, tmp, True)
    sock, log = os.path.join(tmp, "qmp.sock"), os.path.join(tmp, "serial.log")
    proc = subprocess.Popen([emu, "-accel", accel, "-machine", "pc", "-m", "128", "-nodefaults",
                             "-display", "none", "-serial", "file:" + log,
                             "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                             "-qmp", "unix:%s,server=on,wait=off" % sock,
                             "-kernel", os.path.join(guestdir, "qmpguest.elf")],
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def serial():
        return read_text(log)

    def wait_for(pred, secs, what):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if pred():
                return
            if proc.poll() is not None:
                fail("emulator exited (%d) waiting for %s" % (proc.returncode, what), serial())
            time.sleep(0.1)
        fail("timed out waiting for " + what, serial())

    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        q = QMPClient.unix(sock, timeout=30)
        q.negotiate()
        wait_for(lambda: "READY" in serial(), 120, "the guest's READY line")
        # pmemsave: exactly the bytes the guest wrote
        dump = os.path.join(tmp, "mem.bin")
        q.cmd("pmemsave", val=PATTERN_ADDR, size=PATTERN_SIZE, filename=dump)
        with open(dump, "rb") as f:
            data = f.read()
        want = bytes((i * 31 + 7) & 0xff for i in range(PATTERN_SIZE))
        if data != want:
            bad = next((i for i in range(min(len(data), len(want))) if data[i] != want[i]),
                       min(len(data), len(want)))
            fail("pmemsave of 0x%x: %d bytes, first difference at +0x%x" %
                 (PATTERN_ADDR, len(data), bad), serial())
        # inject-nmi: the guest's handler runs, then it passes and exits 1
        q.cmd("inject-nmi")
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            fail("the guest did not finish after inject-nmi", serial())
        out = serial()
        if "NMI received" not in out or "PASS: qmpguest" not in out or rc != 1:
            fail("after inject-nmi: exit status %d" % rc, out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(serial())
    print("PASS: qmp_guest: pmemsave matches the guest's pattern, inject-nmi reached its handler"
          " (%s -accel %s)" % (os.path.basename(emu), accel))


if __name__ == "__main__":
    main()
