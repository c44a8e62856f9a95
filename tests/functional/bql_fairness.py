#!/usr/bin/env python3
"""QMP stays responsive while every vCPU spins on port I/O (fair BQL).

usage: bql_fairness.py [--accel kvm|tcg] [--noio] KVMPC GUEST_BUILDDIR [SMP]

Runs tests/guest/iospin.c (every CPU writes port 0x80 in a tight loop,
so each vCPU thread takes the big lock for exit after exit) with -smp 2
under KVM (or tcg-lite with --accel tcg; --noio: the CPUs spin on a
counter with no I/O at all, which only matters to tcg-lite: it holds the
lock while it runs guest code, and its slices must end when the main
loop asks; with one vCPU it runs guest code without the lock), then times query-status round trips over QMP: first with the
guest stopped (the baseline: what the host and the lab cost), then while
it spins.  Asserted:

 - the BQL: kvmpc (KVMPC_BQL_STATS=1) reports at exit how many times the
   main loop found the lock taken and how many acquisitions by other
   threads happened while it waited; that must be at most one per vCPU
   (it is 0: the main loop goes next; glibc's mutex let hundreds by);
 - while spinning, the median round trip is within 20 ms of the
   baseline's, and 90% of them take under 100 ms.  The lab is a nested VM
   on a shared 2-CPU host: when it is so loaded that even the baseline's
   90th percentile exceeds 20 ms, the 100 ms bound cannot be judged (its
   misses are the lab's CPU starvation, not the lock's) and is only
   reported.

Also checks that the guest keeps spinning (its per-second write count
keeps coming) and that quit works.

In the KVM lab (KVMPC_IN_LAB=1) a run whose *guest* goes wrong (it
resets, reports a fault, or stops counting) runs again, up to three runs
in all, and the test passes only if a later run passes; each earlier
run's fault is printed as "(after a guest fault in the first run: ...)",
which tests/run-all turns into a note.

A reset is a triple fault, and the lab kernel's kvm_exit tracepoint says
where it happened (lab_shutdowns.py; kvmpc itself cannot: KVM on AMD
re-initialises the vCPU before it returns the SHUTDOWN exit).  A shutdown
at an address of the lab kernel's own text (`__svm_vcpu_run+0x9c
[kvm_amd]`, the instruction after VMRUN) is the lab's nested SVM, not
the guest's nor kvmpc's doing: such a run is named "the lab's fault",
does not count toward the three, and up to six runs are made in all; if
every run that went wrong went wrong that way, the test SKIPs (exit 77)
with that evidence.  Otherwise, when all counted runs fault, the same
guest runs the same way under Debian's QEMU with -accel kvm in the same
lab, up to three times, as a control: if QEMU's guest goes wrong too,
the lab's nested SVM cannot run this guest now and the test SKIPs (exit
77) naming both faults; if QEMU's guest passes every time, the test
fails.  A reset with its shutdown at a guest address is never excused
by the lab's signature (docs/testing-lab.md, "Known flakes").
Everything else (the lock's fairness, the round trips, kvmpc's exit)
fails at once, and outside the lab nothing is retried.
"""
import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qmp_client import QMPClient, test_fail, wait_until  # noqa: E402
from lab_shutdowns import ShutdownWatch  # noqa: E402

ROUND_TRIPS = 100
P90_MS = 100.0
MEDIAN_EXTRA_MS = 20.0
QUIET_BASELINE_P90_MS = 20.0
LOG = None
ACCEL, NOIO, COUNT = "kvm", False, "writes "
LAB_ATTEMPTS = 3
LAB_MAX_RUNS = 6            # with runs proven the lab's fault (see above)
ORDINAL = ("first", "second", "third", "fourth", "fifth", "sixth")
WATCH = None                # the lab kernel's record of shutdown exits
QEMU = "qemu-system-x86_64"


def serial():
    try:
        with open(LOG, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


class GuestFault(Exception):
    """The guest went wrong (reset, fault, stopped counting): see the docstring."""
    lab = False


def explain(e):
    """Add the lab kernel's record of the run's shutdown exits to a fault;
    e.lab: every one of them was at the lab kernel's own RIP."""
    sd = WATCH.shutdowns() if WATCH else []
    if sd:
        e.lab = all(s.lab_fault() for s in sd)
        e.args = ("%s (%s%s)" % (e, "the lab's fault: " if e.lab else "",
                                 "; ".join(str(s) for s in sd)),)
    return e


def fail(msg):
    test_fail(msg, LOG, 10)


def guest_check():
    out = serial()
    if out.count("kvmpc guest test") > 1:
        raise GuestFault("the guest reset")
    if "FAIL" in out:
        line = [l for l in out.splitlines() if "FAIL" in l][0]
        raise GuestFault("the guest reported: " + line.strip())


def wait_for(pred, timeout, what):
    if not wait_until(lambda: pred() or guest_check(), timeout):
        guest_check()
        raise GuestFault("timed out waiting for " + what)


def round_trips(q, want):
    times = []
    for _ in range(ROUND_TRIPS):
        t0 = time.monotonic()
        st = q.cmd("query-status")
        times.append((time.monotonic() - t0) * 1000.0)
        if st["status"] != want:
            fail("query-status: %r, expected %s" % (st, want))
        time.sleep(0.01)
    return sorted(times)


def p90(times):
    return times[int(len(times) * 0.9)]


def report(what, times):
    print("query-status round trips, %s: min %.2f ms, median %.2f ms, 90%% %.2f ms, "
          "max %.2f ms" % (what, times[0], statistics.median(times), p90(times), times[-1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", default="kvm", choices=("kvm", "tcg"))
    ap.add_argument("--noio", action="store_true")
    ap.add_argument("kvmpc")
    ap.add_argument("guest_dir")
    ap.add_argument("smp", nargs="?", type=int, default=2)
    args = ap.parse_args()
    global ACCEL, NOIO, COUNT
    ACCEL, NOIO = args.accel, args.noio
    COUNT = "spins " if NOIO else "writes "
    kvmpc, guest_dir, smp = args.kvmpc, args.guest_dir, args.smp
    elf = os.path.join(guest_dir, "iospin.elf")
    if not os.path.exists(elf):
        fail("no %s (build the guest tests)" % elf)
    global WATCH
    in_lab = os.environ.get("KVMPC_IN_LAB") == "1"
    if in_lab:
        WATCH = ShutdownWatch.arm("bql-fairness")
        if WATCH:
            atexit.register(WATCH.close)
    faults, counted, passed = [], 0, False
    while counted < LAB_ATTEMPTS and len(faults) < LAB_MAX_RUNS:
        if WATCH:
            WATCH.clear()
        try:
            run(kvmpc, elf, smp)
            passed = True
            break
        except GuestFault as e:
            explain(e)
            if not in_lab:
                fail(str(e))
            faults.append(str(e))
            counted += 0 if e.lab else 1
            print("NOTE: run %d failed in the guest (%s); its serial output:" % (len(faults), e))
            for line in serial().splitlines()[-10:]:
                print("  | " + line)
    if not passed:
        if counted == 0:
            print("SKIP: the lab's nested SVM cannot run this guest now: in all %d runs the "
                  "guest's state was replaced by the lab kernel's inside VMRUN (%s) "
                  "(docs/testing-lab.md, \"Known flakes\")"
                  % (len(faults), "; ".join("run %d: %s" % (i + 1, f) for i, f in enumerate(faults))))
            sys.exit(77)
        lab_control(elf, smp, faults)
    for i, f in enumerate(faults):
        print("(after a guest fault in the %s run: %s)" % (ORDINAL[i], f))
    print("PASS: QMP answers while all vCPUs spin (%s, %s)" % (ACCEL, "no I/O" if NOIO else "port I/O"))


def lab_control(elf, smp, faults):
    """Every kvmpc run's guest went wrong in the lab: run the same guest
    the same way under Debian's QEMU-KVM (the control).  SKIP if its guest
    goes wrong too (the lab cannot run this guest now), else fail."""
    summary = "; ".join("run %d: %s" % (i + 1, f) for i, f in enumerate(faults))
    if not shutil.which(QEMU):
        fail("the guest went wrong in all %d runs (%s), and there is no %s for a control run"
             % (len(faults), summary, QEMU))
    for attempt in range(LAB_ATTEMPTS):
        if WATCH:
            WATCH.clear()
        try:
            run(QEMU, elf, smp, control=True)
        except GuestFault as e:
            explain(e)
            print("SKIP: the lab's nested SVM cannot run this guest now: under kvmpc its guest "
                  "went wrong in all %d runs (%s), and under Debian's QEMU -accel kvm, the "
                  "control, in its run %d: %s (docs/testing-lab.md, \"Known flakes\")"
                  % (len(faults), summary, attempt + 1, e))
            sys.exit(77)
        print("control: Debian's QEMU -accel kvm ran the same guest: run %d passed" % (attempt + 1))
    fail("the guest went wrong in all %d runs under kvmpc (%s), and in none of %d runs "
         "under Debian's QEMU -accel kvm in the same lab" % (len(faults), summary, LAB_ATTEMPTS))


def run(kvmpc, elf, smp, control=False):
    """One run of the guest under kvmpc (or under QEMU with control=True:
    the same guest and QMP sequence, without kvmpc's lock statistics and
    bounds)."""
    global LOG
    tmp = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, tmp, True)
    sock = os.path.join(tmp, "qmp.sock")
    LOG = os.path.join(tmp, "serial.log")
    errlog = open(os.path.join(tmp, "stderr.log"), "w+")
    env = dict(os.environ, KVMPC_BQL_STATS="1")
    proc = subprocess.Popen([kvmpc, "-accel", ACCEL, "-machine", "pc", "-m", "64",
                             "-smp", str(smp), "-nodefaults", "-display", "none",
                             "-serial", "file:" + LOG,
                             "-qmp", "unix:%s,server=on,wait=off" % sock,
                             "-kernel", elf] + (["-append", "noio=1"] if NOIO else []), stdin=subprocess.DEVNULL, stderr=errlog,
                            env=env)
    try:
        q = QMPClient.unix(sock, timeout=30, retry=60)
        q.negotiate()
        wait_for(lambda: "SPINNING on %d cpus" % smp in serial() or "FAIL" in serial(), 60,
                 "all CPUs to spin")
        guest_check()
        # let the spinning settle, and see the guest report progress
        wait_for(lambda: serial().count(COUNT) >= 1, 30, "the guest's count")
        q.cmd("stop")
        base = round_trips(q, "paused")
        q.cmd("cont")
        time.sleep(0.5)
        times = round_trips(q, "running")
        reports = serial().count(COUNT)
        wait_for(lambda: serial().count(COUNT) > reports, 30,
                 "the guest to keep spinning after the round trips")
        report("guest stopped (baseline)", base)
        report("%d vCPUs spinning on %s" % (smp, "a counter" if NOIO else "port I/O"), times)
        last = [l for l in serial().splitlines() if l.startswith(COUNT)][-1]
        print("guest: " + last + " (the BSP's loops, cumulative)")
        med, base_med = statistics.median(times), statistics.median(base)
        q.request("quit")
        rc = proc.wait(timeout=30)
        errlog.seek(0)
        err = errlog.read()
        if rc != 0:
            fail("%sexit status %d after quit; stderr: %s"
                 % ("the control (QEMU): " if control else "", rc, err[-500:]))
        if control:
            return
        stats = [l for l in err.splitlines() if l.startswith("bql-stats:")]
        if not stats:
            fail("no bql-stats line on stderr: %r" % err[-500:])
        print(stats[0])
        fields = stats[0].split()[1:]
        st = {fields[i]: int(fields[i + 1]) for i in range(0, len(fields) - 1, 2)}
        # One tcg-lite vCPU runs guest code without the BQL (docs/tcg-lite.md,
        # "Guest code without the big lock"): spinning on a counter it takes
        # the lock only at the ends of its slices, and the main loop may
        # never find it taken; the spin counts above show that it spun.
        unlocked = (ACCEL == "tcg" and smp == 1 and NOIO and
                    os.environ.get("KVMPC_TCGL_UNLOCKED") != "0")
        if st["main-waits"] == 0 and not unlocked:
            fail("the main loop never found the BQL taken: the guest did not spin?")
        if st["main-max-overtaken"] > smp:
            fail("while the main loop waited for the BQL, other threads took it %d times "
                 "(at most %d: one per vCPU)" % (st["main-max-overtaken"], smp))
        if med >= base_med + MEDIAN_EXTRA_MS:
            fail("median QMP round trip %.1f ms while spinning (limit: baseline %.1f + %.0f ms)"
                 % (med, base_med, MEDIAN_EXTRA_MS))
        if p90(base) < QUIET_BASELINE_P90_MS:
            if p90(times) >= P90_MS:
                fail("90%% of QMP round trips within %.1f ms while spinning (limit %.0f ms)"
                     % (p90(times), P90_MS))
        else:
            print("note: the lab is loaded (baseline 90%% %.1f ms >= %.0f ms): the %.0f ms bound "
                  "is reported, not judged" % (p90(base), QUIET_BASELINE_P90_MS, P90_MS))
    except (SystemExit, GuestFault):
        raise
    except Exception as e:  # noqa: BLE001 - any protocol failure fails the test
        fail("%s: %s" % (type(e).__name__, e))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
