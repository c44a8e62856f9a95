#!/usr/bin/env python3
"""The host side of virtio-balloon-linux.sh: runs the emulator command
given after TMPDIR (its serial in TMPDIR/out, its QMP at TMPDIR/qmp.sock,
-no-shutdown)
and balloons the guest down to 256 MiB and back to 512 MiB with QMP,
checking query-balloon, BALLOON_CHANGE and HMP info balloon on the way,
and qom-get guest-stats.

usage: vballoon_host.py TMPDIR COMMAND...
Exits 0 when the emulator exited 0 after the guest's script, 1 otherwise.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient, read_text, test_fail, wait_until  # noqa: E402

MiB = 1 << 20


def main():
    tmp, cmd = sys.argv[1], sys.argv[2:]
    log = os.path.join(tmp, "out")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)

    def serial():
        return read_text(log)

    def fail(msg):
        proc.kill()
        proc.wait()
        test_fail(msg, log, 40)

    def wait_serial(text, secs):
        if not wait_until(lambda: text in serial() or proc.poll() is not None, secs):
            fail("timed out waiting for %r on the serial" % text)
        if text not in serial():
            fail("the emulator exited (%s) before %r" % (proc.returncode, text))

    qmp = QMPClient.unix(os.path.join(tmp, "qmp.sock"), timeout=30, retry=30)
    qmp.negotiate()
    if qmp.cmd("query-balloon")["actual"] != 512 * MiB:
        fail("query-balloon before the driver: %r" % qmp.cmd("query-balloon"))
    wait_serial("BALLOON-READY", 400)

    # Linux's statistics (STATS_VQ, guest-stats-polling-interval=1)
    def stats():
        r = qmp.request("qom-get", {"path": "/machine/peripheral/balloon0",
                                    "property": "guest-stats"})
        return r.get("return", {}).get("stats", {})
    if not wait_until(lambda: stats().get("stat-total-memory", -1) > 256 * MiB, 60, 0.5):
        fail("guest-stats: %r" % stats())
    print("guest-stats: total %d MiB, free %d MiB" %
          (stats()["stat-total-memory"] // MiB, stats()["stat-free-memory"] // MiB))

    def balloon_to(mib):
        t0 = time.time()
        qmp.events.clear()
        qmp.cmd("balloon", value=mib * MiB)
        if not wait_until(lambda: qmp.cmd("query-balloon")["actual"] == mib * MiB, 120, 0.5):
            fail("query-balloon stays at %d MiB, target %d MiB" %
                 (qmp.cmd("query-balloon")["actual"] // MiB, mib))
        # the last BALLOON_CHANGE the driver's updates caused says mib
        changes = [e["data"]["actual"] for e in qmp.events if e["event"] == "BALLOON_CHANGE"]
        if not changes or changes[-1] != mib * MiB:
            fail("BALLOON_CHANGE events: %r" % changes)
        info = qmp.hmp("info balloon")
        if "balloon: actual=%d" % mib not in info:
            fail("info balloon: %r" % info)
        print("balloon %d MiB: reached in %.1f s (%s)" % (mib, time.time() - t0, info.strip()))

    balloon_to(256)
    wait_serial("MEM1=", 400)
    balloon_to(512)
    wait_serial("KVMPC-TEST-EXIT", 400)
    # -no-shutdown: the powered-off VM waits for us
    if not wait_until(lambda: qmp.cmd("query-status")["status"] == "shutdown", 60, 0.5):
        fail("the guest did not power off: %r" % qmp.cmd("query-status"))
    qmp.request("quit")
    try:
        rc = proc.wait(60)
    except subprocess.TimeoutExpired:
        fail("the guest did not power off")
    qmp.close()
    print(serial()[-600:])
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
