#!/usr/bin/env python3
"""Accelerator choice (system/vl.c select_accel) and how QMP/HMP report it.

usage: test_accel.py KVMPC

Works on any host: whether KVM is usable here is first found out by asking
kvmpc for it alone (-accel kvm), and every expectation follows from that
answer (on the build machines: no /dev/kvm, so kvm is skipped; in the lab:
kvm is chosen).
"""
import itertools
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qmp_client import QMPClient  # noqa: E402

KVMPC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ["KVMPC"])
BASE = ["-display", "none", "-nodefaults", "-S"]
TMP = tempfile.mkdtemp()
atexit.register(shutil.rmtree, TMP, True)
results = []


def case(name):
    def deco(fn):
        try:
            fn()
            results.append((name, None))
        except Exception as e:  # noqa: BLE001 - any exception is this case's failure
            results.append((name, "%s: %s" % (type(e).__name__, e)))
        print("%s %s%s" % ("FAIL" if results[-1][1] else "PASS", name,
                           ": " + results[-1][1] if results[-1][1] else ""), flush=True)
        return fn
    return deco


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def tiny_kernel():
    """A Multiboot kernel for the KVM runs (kvmpc has no firmware boot yet);
    with -S it never runs."""
    out = os.path.join(TMP, "tf.elf")
    subprocess.run(["gcc", "-m32", "-DTF_DELAY", "-nostdlib", "-static", "-Wl,-N",
                    "-Wl,--build-id=none", "-Wl,-Ttext=0x100000", "-o", out,
                    os.path.join(HERE, "triple-fault.S")],
                   check=True, stderr=subprocess.DEVNULL)
    return out


KERNEL = tiny_kernel()
SOCKETS = itertools.count()


def start(args, timeout=60):
    """kvmpc with a QMP socket: (Popen, QMPClient) once it listens, or
    ((exit status, stderr), None) if it exits first."""
    sock = os.path.join(TMP, "q%d.sock" % next(SOCKETS))
    p = subprocess.Popen([KVMPC] + args + BASE + ["-kernel", KERNEL,
                                                  "-qmp", "unix:%s,server=on,wait=off" % sock],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    while p.poll() is None and not os.path.exists(sock):
        if time.time() > deadline:
            p.kill()
            raise AssertionError("kvmpc %r neither listened nor exited" % (args,))
        time.sleep(0.05)
    if p.poll() is not None:
        return (p.returncode, p.stderr.read()), None
    q = QMPClient.unix(sock, timeout=30)
    q.negotiate()
    return p, q


def finish(p, q):
    q.request("quit")
    q.close()
    _, err = p.communicate(timeout=30)
    return err


def kvm_state(q):
    return q.cmd("query-kvm"), q.hmp("info kvm").strip()


# Is KVM usable on this host?  kvmpc alone decides (open, caps, self-test).
p, q = start(["-accel", "kvm"])
KVM_OK = q is not None
KVM_WHY = "" if KVM_OK else p[1].strip()
if KVM_OK:
    finish(p, q)
print("# KVM usable here: %s%s" % (KVM_OK, "" if KVM_OK else " (%s)" % KVM_WHY))


@case("kvm alone: works, or one line naming /dev/kvm or the self-test")
def _():
    if KVM_OK:
        return
    lines = KVM_WHY.splitlines()
    check(len(lines) == 1, "stderr %r" % KVM_WHY)
    check(lines[0].startswith("kvmpc: no usable accelerator: kvm: KVM is not usable: "),
          "message %r" % lines[0])


@case("-accel kvm -accel qtest: falls back when KVM is unusable, says why")
def _():
    p, q = start(["-accel", "kvm", "-accel", "qtest"])
    check(q, "did not start: %r" % (p,))
    kvm, info = kvm_state(q)
    err = finish(p, q)
    if KVM_OK:
        check(kvm == {"enabled": True, "present": True}, "query-kvm %r" % kvm)
        check(info == "kvm support: enabled", "info kvm %r" % info)
        check("skipped" not in err, "stderr %r" % err)
    else:
        check(kvm == {"enabled": False, "present": False}, "query-kvm %r" % kvm)
        check(info == "kvm support: disabled", "info kvm %r" % info)
        check(err.strip() == "kvmpc: warning: accelerator qtest chosen; skipped kvm: %s"
              % KVM_WHY.split("kvm: ", 1)[1], "stderr %r" % err)


@case("-accel qtest: query-kvm present = KVM usable here, enabled false")
def _():
    p, q = start(["-accel", "qtest"])
    kvm, info = kvm_state(q)
    err = finish(p, q)
    check(kvm == {"enabled": False, "present": KVM_OK}, "query-kvm %r" % kvm)
    check(info == "kvm support: disabled", "info kvm %r" % info)
    check(err == "", "stderr %r" % err)


@case("-machine accel=nosuch:qtest skips the unknown name with a message")
def _():
    p, q = start(["-machine", "accel=nosuch:qtest"])
    check(q, "did not start: %r" % (p,))
    err = finish(p, q)
    check("skipped nosuch: no such accelerator (use -accel help)" in err, "stderr %r" % err)


@case("-accel tcg -accel qtest: tcg-lite is used, nothing skipped")
def _():
    p, q = start(["-accel", "tcg", "-accel", "qtest"])
    check(q, "did not start: %r" % (p,))
    kvm, info = kvm_state(q)
    err = finish(p, q)
    check(kvm == {"enabled": False, "present": KVM_OK}, "query-kvm %r" % kvm)
    check(info == "kvm support: disabled", "info kvm %r" % info)
    check(err == "", "stderr %r" % err)


@case("-accel tcg alone: starts, no warning with the default CPU")
def _():
    p, q = start(["-accel", "tcg"])
    check(q, "did not start: %r" % (p,))
    err = finish(p, q)
    check(err == "", "stderr %r" % err)


@case("no accelerator named: kvm if usable, else tcg-lite with one line saying why")
def _():
    p, q = start([])
    check(q, "did not start: %r" % (p,))
    kvm, _ = kvm_state(q)
    err = finish(p, q)
    if KVM_OK:
        check(kvm == {"enabled": True, "present": True}, "query-kvm %r" % kvm)
        check(err == "", "stderr %r" % err)
        return
    check(kvm == {"enabled": False, "present": False}, "query-kvm %r" % kvm)
    check(err == "kvmpc: warning: accelerator tcg chosen; skipped kvm: %s\n"
          % KVM_WHY.split("kvm: ", 1)[1], "stderr %r" % err)


@case("-accel tcg,bogus=1: an unknown tcg option is an error")
def _():
    p, q = start(["-accel", "tcg,bogus=1"])
    check(q is None, "started")
    rc, err = p
    check(rc == 1 and err == "kvmpc: -accel tcg,bogus=1: -accel tcg: unknown option 'bogus'\n",
          "exit %d, stderr %r" % (rc, err))


@case("a bad option of an accelerator in the chain is an error, not a fallback")
def _():
    p, q = start(["-accel", "kvm,bogus=1", "-accel", "qtest"])
    check(q is None, "started")
    rc, err = p
    check(rc == 1 and err == "kvmpc: -accel kvm,bogus=1: -accel kvm: unknown option 'bogus'\n",
          "exit %d, stderr %r" % (rc, err))


@case("-accel kvm,self-test=off still needs a usable /dev/kvm")
def _():
    p, q = start(["-accel", "kvm,self-test=off", "-accel", "qtest"])
    check(q, "did not start: %r" % (p,))
    kvm, _ = kvm_state(q)
    err = finish(p, q)
    if os.path.exists("/dev/kvm"):
        check(kvm["enabled"] or "skipped kvm" in err, "query-kvm %r, stderr %r" % (kvm, err))
    else:
        check(not kvm["enabled"] and "/dev/kvm" in err, "query-kvm %r, stderr %r" % (kvm, err))


failed = [n for n, e in results if e]
print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
sys.exit(1 if failed else 0)
