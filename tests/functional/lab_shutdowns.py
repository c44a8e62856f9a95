"""Where did a guest triple-fault?  The lab kernel's word on it.

KVM on AMD re-initialises a vCPU at its SHUTDOWN intercept, so by the time
kvmpc (or QEMU) sees KVM_EXIT_SHUTDOWN the registers of the fault are gone
(`-d cpu_reset` can only print the INIT state).  The lab kernel's
kvm:kvm_exit tracepoint still has them: it fires before the
re-initialisation, with the guest's RIP and the exception that could not
be delivered.  This module records those exits, and only those (a filter on
the exit reason, in a trace instance of its own, so the rest of the
tracing is untouched), while a test runs in the KVM lab:

    w = ShutdownWatch.arm("bql-fairness")     # None where it cannot trace
    ... run the guest ...
    for s in w.shutdowns(): print(s)          # Shutdown(vcpu, rip, ...)
    w.close()

and tells the lab's own fault apart (lab_fault()): a shutdown whose RIP is
an address of the lab kernel's text (e.g. `__svm_vcpu_run+0x9c [kvm_amd]`,
the instruction after VMRUN) did not come from the guest: the guest's
register state was replaced by the lab kernel's own inside one VMRUN, which
only the lab's nested SVM (QEMU's TCG emulation of it, one level further
down) can do: a VMM in the lab's user space (kvmpc, QEMU) has no way to
put a host kernel RIP into its guest between an entry and the next exit.
See docs/testing-lab.md, "Known flakes".

Needs root and tracefs in the lab (the lab runs tests as root); elsewhere
arm() returns None and the caller goes on without the evidence.

CLI (for shell tests):  lab_shutdowns.py arm NAME | show NAME | close NAME
"""
import os
import re
import sys

TRACEFS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
# kvm_exit's isa: 1 VMX, 2 SVM; SVM_EXIT_SHUTDOWN 0x7f, VMX triple fault 2
FILTER = "(isa == 2 && exit_reason == 127) || (isa == 1 && exit_reason == 2)"
LINE = re.compile(r"kvm_exit: vcpu (\d+) reason \S+ rip (0x[0-9a-f]+) .*?"
                  r"intr_info (0x[0-9a-f]+) error_code (0x[0-9a-f]+)")
KERNEL_HALF = 0xffff800000000000


def _tracefs():
    for t in TRACEFS:
        if os.path.isdir(os.path.join(t, "instances")):
            return t
    try:
        os.system("mount -t tracefs nodev %s 2>/dev/null" % TRACEFS[0])
    except OSError:
        pass
    return TRACEFS[0] if os.path.isdir(os.path.join(TRACEFS[0], "instances")) else None


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def kernel_symbol(addr):
    """'name+0xoff [module]' for a kernel text address, else None."""
    best = None
    try:
        with open("/proc/kallsyms") as f:
            for line in f:
                p = line.split()
                if len(p) < 3 or p[1] not in "tTwW":
                    continue
                a = int(p[0], 16)
                if a <= addr and a != 0 and (best is None or a > best[0]):
                    best = (a, p[2], p[3] if len(p) > 3 else "")
    except OSError:
        return None
    if best is None or addr - best[0] > 0x10000:
        return None
    return "%s+%#x%s" % (best[1], addr - best[0], " " + best[2] if best[2] else "")


class Shutdown:
    def __init__(self, vcpu, rip, intr_info, error_code):
        self.vcpu, self.rip, self.intr_info, self.error_code = vcpu, rip, intr_info, error_code
        self.symbol = kernel_symbol(rip) if rip >= KERNEL_HALF else None

    def lab_fault(self):
        """The guest 'faulted' at an address of the lab kernel's text."""
        return self.symbol is not None

    def __str__(self):
        ex = ""
        if self.intr_info & 0x80000000:
            ex = ", the exception it could not deliver: vector %d error code %#x" % (
                self.intr_info & 0xff, self.error_code)
        where = " = the lab kernel's %s" % self.symbol if self.symbol else ""
        return "shutdown exit of vCPU %d at RIP %#x%s%s" % (self.vcpu, self.rip, where, ex)


class ShutdownWatch:
    def __init__(self, inst):
        self.inst = inst

    @classmethod
    def arm(cls, name):
        """Start recording shutdown exits; None where that is not possible."""
        t = _tracefs()
        if t is None:
            return None
        inst = os.path.join(t, "instances", "kvmpc-" + name)
        try:
            if not os.path.isdir(inst):
                os.mkdir(inst)
            ev = os.path.join(inst, "events", "kvm", "kvm_exit")
            _write(os.path.join(ev, "filter"), FILTER)
            _write(os.path.join(ev, "enable"), "1")
            _write(os.path.join(inst, "trace"), "")
            _write(os.path.join(inst, "tracing_on"), "1")
        except OSError:
            return None
        return cls(inst)

    @classmethod
    def attach(cls, name):
        t = _tracefs()
        inst = os.path.join(t or TRACEFS[0], "instances", "kvmpc-" + name)
        return cls(inst) if os.path.isdir(inst) else None

    def clear(self):
        try:
            _write(os.path.join(self.inst, "trace"), "")
        except OSError:
            pass

    def shutdowns(self):
        try:
            with open(os.path.join(self.inst, "trace"), errors="replace") as f:
                text = f.read()
        except OSError:
            return []
        out = []
        for m in LINE.finditer(text):
            out.append(Shutdown(int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16),
                                int(m.group(4), 16)))
        return out

    def close(self):
        try:
            _write(os.path.join(self.inst, "events", "kvm", "kvm_exit", "enable"), "0")
            os.rmdir(self.inst)
        except OSError:
            pass


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("arm", "show", "close"):
        sys.exit("usage: lab_shutdowns.py arm|show|close NAME")
    cmd, name = sys.argv[1:]
    if cmd == "arm":
        sys.exit(0 if ShutdownWatch.arm(name) else 1)
    w = ShutdownWatch.attach(name)
    if w is None:
        sys.exit(1)
    if cmd == "show":
        for s in w.shutdowns():
            print(("LAB-FAULT " if s.lab_fault() else "") + str(s))
    else:
        w.close()


if __name__ == "__main__":
    main()
