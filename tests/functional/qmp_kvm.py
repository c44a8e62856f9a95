#!/usr/bin/env python3
"""QMP against a running KVM guest (Linux): run control with vCPU threads.

usage: qmp_kvm.py KVMPC     (images prepared under $KVMPC_BUILD/images)

Boots the Debian kernel + busybox initramfs with -smp 2 and a script that
prints a tick every second, then over QMP: query-status/kvm/cpus-fast,
stop (ticks stop, STOP event), cont (ticks resume, RESUME event), HMP
`info registers` and `info cpus`, pmemsave, system_reset (RESET event, the
guest boots again), quit (SHUTDOWN event, exit status 0).
"""
import atexit
import os
import shutil
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from qmp_client import QMPClient, read_text, test_fail, wait_until  # noqa: E402


SERIAL_LOG = None


def fail(msg):
    test_fail(msg, SERIAL_LOG, 20)


def wait_for(pred, timeout, what):
    if not wait_until(pred, timeout, 0.2):
        fail("timed out waiting for " + what)


def main():
    kvmpc = sys.argv[1]
    build = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build"))
    kernel = os.path.join(build, "images", "linux", "vmlinuz")
    initrd = os.path.join(build, "images", "initramfs.cpio.gz")
    script = 'echo READY; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'
    append = subprocess.run([os.path.join(TOP, "tests", "images", "busybox-initramfs.sh"),
                             "--cmdline", script], capture_output=True, text=True,
                            check=True).stdout.strip()
    tmp = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, tmp, True)
    sock = os.path.join(tmp, "qmp.sock")
    log = os.path.join(tmp, "serial.log")
    global SERIAL_LOG
    SERIAL_LOG = log
    proc = subprocess.Popen([kvmpc, "-accel", "kvm", "-m", "256", "-smp", "2", "-display", "none",
                             "-nodefaults", "-serial", "file:" + log,
                             "-qmp", "unix:%s,server=on,wait=off" % sock,
                             "-kernel", kernel, "-initrd", initrd,
                             "-append", "console=ttyS0 quiet " + append],
                            stdin=subprocess.DEVNULL)

    def serial():
        return read_text(log)

    try:
        q = QMPClient.unix(sock, timeout=30)
        q.negotiate()
        wait_for(lambda: "tick 2" in serial(), 240, "the guest's ticks")
        st = q.cmd("query-status")
        if st["status"] != "running" or not st["running"]:
            fail("query-status while running: %r" % st)
        kvm = q.cmd("query-kvm")
        if kvm != {"enabled": True, "present": True}:
            fail("query-kvm: %r" % kvm)
        cpus = q.cmd("query-cpus-fast")
        tids = {c["thread-id"] for c in cpus}
        if len(cpus) != 2 or len(tids) != 2 or proc.pid in tids:
            fail("query-cpus-fast: %r" % cpus)

        q.cmd("stop")
        q.wait_event("STOP", 10)
        st = q.cmd("query-status")
        if st["status"] != "paused" or st["running"]:
            fail("query-status after stop: %r" % st)
        before = serial().count("tick")
        time.sleep(3)
        if serial().count("tick") != before:
            fail("the guest kept running while stopped")
        regs = q.hmp("info registers")
        if "RIP=" not in regs or "CR0=" not in regs:
            fail("info registers: %r" % regs[:200])
        if "CPU #1" not in q.hmp("info cpus"):
            fail("info cpus lacks CPU #1")
        dump = os.path.join(tmp, "mem.bin")
        q.cmd("pmemsave", val=0x100000, size=4096, filename=dump)
        if os.path.getsize(dump) != 4096:
            fail("pmemsave wrote %d bytes" % os.path.getsize(dump))

        q.cmd("cont")
        q.wait_event("RESUME", 10)
        wait_for(lambda: serial().count("tick") > before + 1, 30, "ticks after cont")

        # The whole banner line (with its CPU count), not just its start:
        # the serial log may end in the middle of it.
        banner = re.compile(r"kvmpc-initramfs: booted \S+, \d+ cpu\(s\)")
        boots = len(banner.findall(serial()))
        q.cmd("system_reset")
        ev = q.wait_event("RESET", 10)
        if ev["data"].get("guest") is not False:
            fail("RESET event: %r" % ev)
        wait_for(lambda: len(banner.findall(serial())) > boots, 240,
                 "the guest to boot again after system_reset")
        # Both CPUs must come back (the AP's APIC ID survives the reset).
        if serial().count("2 cpu(s)") < 2:
            fail("after system_reset the guest does not see 2 CPUs")

        q.request("quit")
        ev = q.wait_event("SHUTDOWN", 10)
        if ev["data"] != {"guest": False, "reason": "host-qmp-quit"}:
            fail("SHUTDOWN event: %r" % ev)
        rc = proc.wait(timeout=30)
        if rc != 0:
            fail("exit status %d after quit" % rc)
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - report any protocol failure as a test failure
        fail("%s: %s" % (type(e).__name__, e))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print("PASS: QMP run control of a KVM guest (stop/cont/reset/quit, HMP, pmemsave)")


if __name__ == "__main__":
    main()
