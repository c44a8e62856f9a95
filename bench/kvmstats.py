"""KVM's own per-VM statistics (debugfs, /sys/kernel/debug/kvm/PID-FD/) of
an emulator process, for the --kvm-stats option of bench/disk_bench.py and
bench/net_bench.py: how often the guest left the CPU and why, the same
counters for kvmpc and QEMU, read between two points of a run.

Also the two checks both scripts make under --accel kvm: check_kvm()
before the runs, guest_saw_kvm() on each guest's console.

Needs root and a kernel with debugfs (the lab's: CONFIG_DEBUG_FS=y);
debugfs is mounted on /sys/kernel/debug if it is not yet.
"""
import glob
import os
import subprocess
import sys

DEBUGFS = "/sys/kernel/debug"


def check_kvm(accel):
    """--accel kvm needs a /dev/kvm we can open (the lab's, not this
    host's, which docs/testing-lab.md says cannot boot an OS)."""
    if accel != "kvm":
        return
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        sys.exit("--accel kvm: cannot open /dev/kvm (%s); run this in the KVM lab "
                 "(tests/lab/lab-run, docs/testing-lab.md)" % e.strerror)
    if os.environ.get("KVMPC_IN_LAB") != "1":
        print("warning: --accel kvm outside the KVM lab: this host's /dev/kvm may not "
              "boot an OS (docs/testing-lab.md)", file=sys.stderr)


def guest_saw_kvm(accel, console):
    """With -accel kvm the guest kernel must have found KVM's CPUID leaves
    (its console bytes say so); always true otherwise."""
    return accel != "kvm" or b"Hypervisor detected: KVM" in console
# exits: all VM exits; io_exits / mmio_exits: the ones that went to
# userspace for port / MMIO access; halt_exits: HLT; irq_exits: host
# interrupts; irq_injections: interrupts put into the guest;
# halt_wakeup: a halted vCPU woken; signal_exits: KVM_RUN ended by a signal.
FIELDS = ["exits", "io_exits", "mmio_exits", "halt_exits", "halt_wakeup", "irq_exits",
          "irq_injections", "signal_exits", "request_irq_exits"]


def ensure_debugfs():
    """Mount debugfs if needed; return an error string or None."""
    if os.path.isdir(os.path.join(DEBUGFS, "kvm")):
        return None
    r = subprocess.run(["mount", "-t", "debugfs", "debugfs", DEBUGFS], capture_output=True,
                       text=True)
    if not os.path.isdir(os.path.join(DEBUGFS, "kvm")):
        return "no %s/kvm (mount: %s)" % (DEBUGFS, (r.stderr or "ok").strip())
    return None


def snapshot(pid):
    """The counters of the VM of process pid (the one with the most exits,
    should it have more than one, e.g. a probe VM), or {}."""
    best = {}
    for d in glob.glob(os.path.join(DEBUGFS, "kvm", "%d-*" % pid)):
        out = {}
        for f in FIELDS:
            try:
                with open(os.path.join(d, f)) as fh:
                    out[f] = int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        if out.get("exits", -1) > best.get("exits", -1):
            best = out
    return best


def delta(a, b):
    return {f: b[f] - a[f] for f in FIELDS if f in a and f in b}
