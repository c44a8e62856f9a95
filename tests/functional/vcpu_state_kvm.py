#!/usr/bin/env python3
"""vCPU state and run control against a real KVM (run it in the lab).

usage: vcpu_state_kvm.py KVMPC [PART...]     PART: accel state tf-shutdown tf-race
       ($KVMPC_BUILD, default <repo>/build, holds tests/guest/vcpustate.elf)

accel:       query-kvm is {"enabled": true, "present": true}, HMP `info kvm`
             says "kvm support: enabled".
state:       tests/guest/vcpustate.c sets DR0-3/DR7, MTRRs, MISC_ENABLE, x87,
             MXCSR, XMM (YMM and XCR0 with AVX); we stop the VM, check them
             in `info registers` (the get), cont (the write-back) and inject
             an NMI; the guest checks every value and passes.
tf-shutdown: -no-reboot -no-shutdown, a guest that triple-faults: the VM
             stops in "shutdown"; cont is refused, stop+cont changes nothing;
             only system_reset lets the guest run again.
tf-race:     a guest that triple-faults every few tenths of a second while
             we flood stop/cont: each triple fault leads to exactly one
             reset and the faulted vCPU never runs before it (on AMD, KVM
             puts a triple-faulted vCPU at the reset vector, where nothing
             is mapped without firmware: running it would end kvmpc with an
             emulation error).
"""
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from qmp_client import QMPClient, QMPError, serial_tail  # noqa: E402

TMP = tempfile.mkdtemp()
atexit.register(shutil.rmtree, TMP, True)


def fail(msg, log=None):
    if log and os.path.exists(log):
        print("--- serial (last 20 lines) ---\n" + serial_tail(log, 20))
    print("FAIL: " + msg)
    sys.exit(1)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_for(pred, timeout, what, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    fail("timed out waiting for " + what, log)


def build_elf(src, name, *defines):
    out = os.path.join(TMP, name)
    subprocess.run(["gcc", "-m32", *defines, "-nostdlib", "-static", "-Wl,-N", "-Wl,--build-id=none",
                    "-Wl,-Ttext=0x100000", "-o", out, os.path.join(HERE, src)],
                   check=True, stderr=subprocess.DEVNULL)
    return out


class VM:
    def __init__(self, kvmpc, name, kernel, *extra):
        self.sock = os.path.join(TMP, name + ".qmp")
        self.log = os.path.join(TMP, name + ".serial")
        self.err = os.path.join(TMP, name + ".err")
        self.proc = subprocess.Popen(
            [kvmpc, "-accel", "kvm", "-m", "64", "-nodefaults", "-display", "none",
             "-serial", "file:" + self.log, "-qmp", "unix:%s,server=on,wait=off" % self.sock,
             "-kernel", kernel] + list(extra),
            stdin=subprocess.DEVNULL, stderr=open(self.err, "w"))
        self.q = QMPClient.unix(self.sock, timeout=30)
        self.q.negotiate()

    def serial(self):
        return read(self.log)

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self, what):
        if not self.alive():
            fail("%s: kvmpc exited with %d: %s" % (what, self.proc.returncode,
                                                   read(self.err)[-2000:]), self.log)

    def quit(self):
        try:
            self.q.request("quit")
        except (OSError, EOFError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def part_accel(kvmpc):
    tf = build_elf("triple-fault.S", "tfl-accel.elf", "-DTF_DELAY")
    vm = VM(kvmpc, "accel", tf, "-S")
    kvm = vm.q.cmd("query-kvm")
    if kvm != {"enabled": True, "present": True}:
        fail("query-kvm under -accel kvm: %r" % kvm)
    info = vm.q.hmp("info kvm")
    if info.strip() != "kvm support: enabled":
        fail("info kvm: %r" % info)
    vm.quit()
    print("ok: query-kvm enabled+present, info kvm enabled")


def part_state(kvmpc):
    build = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build"))
    elf = os.path.join(build, "tests", "guest", "vcpustate.elf")
    vm = VM(kvmpc, "state", elf, "-cpu", "host", "-machine", "pc",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4")
    wait_for(lambda: "STATE-SET" in vm.serial() or not vm.alive(), 120, "STATE-SET", vm.log)
    vm.check_alive("before the round trip")
    avx = "XSAVE+AVX" in vm.serial()
    vm.q.cmd("stop")
    regs = vm.q.hmp("info registers")
    want = ["DR0=0000000000dea000 DR1=0000000000dea100 DR2=0000000000dea200 "
            "DR3=0000000000dea300", "DR7=00000000000d0409", "FCW=027f", "MXCSR=00007f80",
            "XMM00=4f4e4d4c4b4a49484746454443424140" if avx else
            "XMM00=8f8e8d8c8b8a89888786858483828180"]
    if avx:
        want.append("XCR0=0000000000000007")
    for w in want:
        if w not in regs:
            fail("info registers lacks %r:\n%s" % (w, regs))
    vm.q.cmd("cont")
    time.sleep(0.5)
    vm.q.cmd("inject-nmi")
    try:
        rc = vm.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        vm.quit()
        fail("the guest did not finish after the NMI", vm.log)
    out = vm.serial()
    if "PASS: vcpustate" not in out or rc != 1:
        fail("guest verdict (exit %d): %s" % (rc, out[-1500:]))
    print("ok: state round trip (%s): %s" % ("AVX" if avx else "SSE",
                                            out.splitlines()[0] if out else ""))


def part_tf_shutdown(kvmpc):
    tf = build_elf("triple-fault.S", "tf.elf")
    vm = VM(kvmpc, "tfs", tf, "-no-reboot", "-no-shutdown")
    wait_for(lambda: vm.q.cmd("query-status")["status"] == "shutdown", 30,
             "status shutdown after the triple fault", vm.log)
    for cmd in ("cont", "stop", "cont"):
        r = vm.q.request(cmd)
        if cmd == "cont" and "error" not in r:
            fail("cont after a triple fault was accepted: %r" % r)
    time.sleep(1)
    if vm.serial().count("TF") != 1:
        fail("the guest ran again before system_reset (%d runs)" % vm.serial().count("TF"))
    if vm.q.cmd("query-status")["status"] != "shutdown":
        fail("status changed without a reset: %r" % vm.q.cmd("query-status"))
    vm.q.cmd("system_reset")
    vm.q.wait_event("RESET", 10)
    st = vm.q.cmd("query-status")
    if st["status"] != "paused":
        fail("after system_reset: %r (want paused)" % st)
    time.sleep(0.5)
    if vm.serial().count("TF") != 1:
        fail("the guest ran after system_reset without cont")
    vm.q.cmd("cont")
    wait_for(lambda: vm.serial().count("TF") == 2, 30, "the guest after reset + cont", vm.log)
    wait_for(lambda: vm.q.cmd("query-status")["status"] == "shutdown", 30,
             "the second triple fault", vm.log)
    vm.check_alive("after the second triple fault")
    vm.quit()
    print("ok: triple fault with -no-reboot -no-shutdown: cont refused, system_reset + cont runs")


def part_tf_race(kvmpc, seconds=15):
    tf = build_elf("triple-fault.S", "tfl.elf", "-DTF_DELAY")
    vm = VM(kvmpc, "tfr", tf)
    wait_for(lambda: vm.serial().count("TF") >= 1, 30, "the first run", vm.log)
    q = vm.q
    # The pace without interference, for comparison.
    t0, r0 = time.time(), vm.serial().count("TF")
    time.sleep(3)
    quiet = (vm.serial().count("TF") - r0) / (time.time() - t0)
    start = vm.serial().count("TF")
    t0 = time.time()
    end = t0 + seconds
    pairs = 0
    while time.time() < end and vm.alive():
        # Pipelined: stop and cont arrive in one read, as a racing client's would.
        q.send_raw('{"execute":"stop"}\n{"execute":"cont"}\n' * 10)
        for _ in range(20):
            try:
                r = q.recv_response()
            except (OSError, EOFError):
                break
            if "error" in r:
                fail("stop/cont: %r" % r)
        pairs += 10
    flood = time.time() - t0
    vm.check_alive("during the stop/cont flood")
    # Stop the guest, then collect the events still queued (a loaded host
    # delivers them late) until none came for 2 s: the counts are final.
    q.cmd("stop")
    q.sock.settimeout(2.0)
    try:
        while True:
            q.events.append(q.recv_msg())
    except (socket.timeout, OSError, EOFError):
        pass
    q.sock.settimeout(10.0)
    resets = [e for e in q.events if e.get("event") == "RESET"]
    runs = vm.serial().count("TF")
    err = read(vm.err)
    if "error" in err.lower():
        fail("kvmpc reported: %s" % err[-2000:])
    if len(resets) < 3 or not all(e["data"].get("guest") for e in resets):
        fail("%d guest RESET events in %ds (%d runs): %r" % (len(resets), seconds, runs,
                                                           resets[:3]))
    # One run per reset (plus the first one, and at most one started at the end).
    if not len(resets) <= runs <= len(resets) + 1:
        fail("%d RESET events but %d runs of the guest" % (len(resets), runs))
    q.cmd("cont")
    st = q.cmd("query-status")
    if st["status"] != "running":
        fail("status after the flood: %r" % st)
    vm.quit()
    print("ok: %d triple faults, %d resets, %d stop/cont pairs; no vCPU ran before its reset"
          % (runs - 1, len(resets), pairs))
    print("   runs per second: %.1f alone, %.1f during %.1f s of stop/cont"
          % (quiet, (runs - start) / flood, flood))


def main():
    kvmpc = sys.argv[1]
    parts = sys.argv[2:] or ["accel", "state", "tf-shutdown", "tf-race"]
    table = {"accel": part_accel, "state": part_state, "tf-shutdown": part_tf_shutdown,
             "tf-race": part_tf_race}
    for p in parts:
        try:
            table[p](kvmpc)
        except SystemExit:
            raise
        except (QMPError, OSError, EOFError, TimeoutError, AssertionError) as e:
            fail("%s: %s: %s" % (p, type(e).__name__, e))
    print("PASS: vcpu_state_kvm " + " ".join(parts))


if __name__ == "__main__":
    main()
