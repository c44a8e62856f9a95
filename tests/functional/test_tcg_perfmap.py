#!/usr/bin/env python3
"""KVMPC_TCGL_PERFMAP=1: tcg-lite writes perf's JIT map, and it names the
guest's code (docs/tcg-lite.md, "Profiling the guest").

usage: test_tcg_perfmap.py KVMPC BUILDDIR

Boots tests/guest/iospin.elf (noio=1: the CPU spins on a counter) under
-accel tcg with KVMPC_TCGL_PERFMAP=1 and reads /tmp/perf-PID.map while
it runs.  Asserted: every line is "HOSTADDR SIZE tcgl_guest_GUESTADDR"
(hex, size > 0), host ranges do not overlap, at least 10 blocks were
compiled, and every guest address lies in an executable PT_LOAD segment
of the ELF (a Multiboot kernel runs nothing else); the same boot without
the variable writes no map.  SKIPs where the JIT is not available (only
x86-64 hosts have it).
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

LINE = re.compile(r"^([0-9a-f]+) ([0-9a-f]+) tcgl_guest_([0-9a-f]+)$")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def exec_segments(elf):
    with open(elf, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        fail("%s: not a 32-bit ELF" % elf)
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    segs = []
    for k in range(phnum):
        p_type, _off, vaddr, _paddr, _filesz, memsz, flags, _align = \
            struct.unpack_from("<IIIIIIII", data, phoff + k * phentsize)
        if p_type == 1 and flags & 1:           # PT_LOAD, PF_X
            segs.append((vaddr, vaddr + memsz))
    return segs


def boot(kvmpc, elf, env, log):
    return subprocess.Popen([kvmpc, "-accel", "tcg", "-machine", "pc", "-m", "64", "-smp", "1",
                             "-nodefaults", "-display", "none", "-serial", "file:" + log,
                             "-kernel", elf, "-append", "noio=1"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)


def wait_spins(log, proc):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            fail("kvmpc exited (%d): %s" % (proc.returncode, proc.stderr.read().decode()[-500:]))
        try:
            if "spins " in open(log, errors="replace").read():
                return
        except OSError:
            pass
        time.sleep(0.1)
    fail("the guest never printed its count")


def main():
    kvmpc, builddir = sys.argv[1], sys.argv[2]
    elf = os.path.join(builddir, "tests", "guest", "iospin.elf")
    if not os.path.exists(elf):
        fail("no " + elf)
    if os.uname().machine != "x86_64":
        print("SKIP: the tcg-lite JIT exists on x86-64 hosts only")
        sys.exit(77)
    segs = exec_segments(elf)
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, "serial.log")

    # without the variable: no map
    env = {k: v for k, v in os.environ.items() if k != "KVMPC_TCGL_PERFMAP"}
    proc = boot(kvmpc, elf, env, log)
    wait_spins(log, proc)
    path = "/tmp/perf-%d.map" % proc.pid
    exists = os.path.exists(path)
    proc.kill()
    proc.wait()
    if exists:
        os.unlink(path)
        fail("%s written without KVMPC_TCGL_PERFMAP" % path)

    os.unlink(log)
    env["KVMPC_TCGL_PERFMAP"] = "1"
    proc = boot(kvmpc, elf, env, log)
    path = "/tmp/perf-%d.map" % proc.pid
    try:
        wait_spins(log, proc)
        time.sleep(0.5)
        try:
            lines = open(path).read().splitlines()
        except OSError as e:
            fail("no map: %s" % e)
    finally:
        proc.kill()
        proc.wait()
        if os.path.exists(path):
            os.unlink(path)
    ranges, outside = [], []
    for line in lines:
        m = LINE.match(line)
        if not m:
            fail("malformed map line %r" % line)
        host, size, guest = (int(g, 16) for g in m.groups())
        if size == 0:
            fail("a block of size 0: %r" % line)
        ranges.append((host, host + size))
        if not any(lo <= guest < hi for lo, hi in segs):
            outside.append(guest)
    if len(ranges) < 10:
        fail("only %d blocks in the map" % len(ranges))
    ranges.sort()
    for (a0, a1), (b0, _b1) in zip(ranges, ranges[1:]):
        if b0 < a1:
            fail("host code ranges overlap: %x-%x and %x" % (a0, a1, b0))
    if outside:
        fail("%d of %d blocks outside the ELF's code %s: %s" %
             (len(outside), len(ranges), ["%x-%x" % s for s in segs],
              " ".join("%x" % g for g in outside[:8])))
    print("%d blocks in the map, all in the ELF's code %s" % (len(ranges),
          ", ".join("%x-%x" % s for s in segs)))
    print("PASS")


if __name__ == "__main__":
    main()
