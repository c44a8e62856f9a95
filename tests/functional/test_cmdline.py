#!/usr/bin/env python3
"""Command-line behaviour of the kvmpc binary (system/vl.c).

Usage: test_cmdline.py [KVMPC]   (or KVMPC=path in the environment)
Prints one line per case and a summary; exits nonzero if any case fails.
Python 3 standard library only.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

KVMPC = os.environ.get("KVMPC") or (sys.argv[1] if len(sys.argv) > 1 else None)
if not KVMPC:
    sys.exit("usage: test_cmdline.py KVMPC (or set KVMPC)")
KVMPC = os.path.abspath(KVMPC)

# A machine that needs neither KVM nor a kernel.
QTEST = ["-accel", "qtest", "-display", "none", "-nodefaults"]
CRASH_WORDS = ("Segmentation", "Abort", "abort", "assert", "Assertion", "core dumped",
               "AddressSanitizer", "runtime error", "GLib-CRITICAL", "CRITICAL **")
TIMEOUT = 5

results = []


class Fail(Exception):
    pass


def case(name):
    def deco(fn):
        try:
            fn()
        except Fail as e:
            results.append((name, False, str(e)))
        except subprocess.TimeoutExpired as e:
            results.append((name, False, "timed out: %s" % (e.cmd,)))
        except Exception as e:  # a bug in the test itself still counts as a failure
            results.append((name, False, "%s: %s" % (type(e).__name__, e)))
        else:
            results.append((name, True, ""))
        ok, msg = results[-1][1], results[-1][2]
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, "" if ok else ": " + msg),
              flush=True)
        return fn
    return deco


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(args, timeout=TIMEOUT):
    return subprocess.run([KVMPC] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True, errors="replace")


def no_crash(text):
    for w in CRASH_WORDS:
        check(w not in text, "crash text %r in output: %r" % (w, text[-300:]))


def first_line(s):
    return s.splitlines()[0] if s else ""


def wait_gone(pid, timeout):
    """Wait until a process that is not our child is gone (or a zombie)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path) as f:
                s = f.read()
            if s.endswith("\n"):
                return s
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return None


def stays_up(args, secs=1.0):
    """Start kvmpc; return (Popen, None) if it is still running after secs,
    else (None, CompletedProcess-like tuple (rc, out, err))."""
    p = subprocess.Popen([KVMPC] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace")
    try:
        out, err = p.communicate(timeout=secs)
        return None, (p.returncode, out, err)
    except subprocess.TimeoutExpired:
        return p, None


def stop(p, sig=signal.SIGTERM):
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise Fail("did not exit within %ds of signal %d" % (TIMEOUT, sig))
    return p.returncode, out, err


# ---- information options -----------------------------------------------------

VERSION_RE = re.compile(r"^kvmpc emulator version \d+\.\d+\.\d+ \(")


@case("--version")
def _():
    r = run(["--version"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(VERSION_RE.match(first_line(r.stdout)), "first line %r" % first_line(r.stdout))


@case("-version")
def _():
    r = run(["-version"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(VERSION_RE.match(first_line(r.stdout)), "first line %r" % first_line(r.stdout))


@case("-h")
def _():
    r = run(["-h"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(VERSION_RE.match(first_line(r.stdout)), "first line %r" % first_line(r.stdout))


@case("--help")
def _():
    r = run(["--help"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(VERSION_RE.match(first_line(r.stdout)), "first line %r" % first_line(r.stdout))
    check("QEMU" in r.stdout, "no 'QEMU' in --help")
    check("-device" in r.stdout and "-machine" in r.stdout, "options missing from --help")


@case("-device help")
def _():
    r = run(["-device", "help"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(re.search(r'^name "pc-testdev", bus ISA', r.stdout, re.M),
          'no `name "pc-testdev", bus ISA` line')
    check(re.search(r'^name "isa-debug-exit", bus ISA', r.stdout, re.M),
          'no isa-debug-exit line')


@case("-device ?")
def _():
    r = run(["-device", "?"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check('name "pc-testdev", bus ISA' in r.stdout, "no device list")


@case("-device isa-debug-exit,help")
def _():
    r = run(["-device", "isa-debug-exit,help"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(re.search(r"^\s+iobase=<uint32>", r.stdout, re.M), "no iobase in %r" % r.stdout)


for opt in (["-machine", "help"], ["-M", "help"], ["-machine", "?"], ["-accel", "help"],
            ["-cpu", "help"], ["-cpu", "?"], ["-d", "help"], ["-display", "help"]):
    @case(" ".join(opt))
    def _(opt=opt):
        r = run(opt)
        check(r.returncode == 0, "exit %d, stderr %r" % (r.returncode, r.stderr))
        check(r.stdout.strip() != "", "no output")
        no_crash(r.stdout + r.stderr)


@case("-cpu help lists the models and the flags")
def _():
    r = run(["-cpu", "help"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    for model in ("qemu64", "max", "host", "Skylake-Client", "EPYC"):
        check(re.search(r"^x86 %s\s+\S" % re.escape(model), r.stdout, re.M),
              "no model %s in %r" % (model, r.stdout[:300]))
    check(re.search(r"^Recognized CPUID flags:", r.stdout, re.M), "no flags section")
    for flag in ("x2apic", "sse4.1", "kvmclock", "kvm-pv-eoi", "tsc-deadline"):
        check(re.search(r"\s%s(\s|$)" % re.escape(flag), r.stdout), "no flag %s" % flag)


@case("-machine help lists pc")
def _():
    r = run(["-machine", "help"])
    check(re.search(r"^pc\b", r.stdout, re.M), "no pc machine in %r" % r.stdout)


@case("-accel help lists qtest")
def _():
    r = run(["-accel", "help"])
    check(re.search(r"^qtest$", r.stdout, re.M), "no qtest in %r" % r.stdout)


# ---- bad options: status 1, one line on stderr naming the option -------------

BAD = [
    # (description, args, words the message must contain)
    ("unknown option", ["-nosuchopt"], ["-nosuchopt"]),
    ("unknown --option", ["--nosuchopt"], ["nosuchopt"]),
    ("stray argument (an image, as -hda)", QTEST + ["disk.img"], ["-hda disk.img", "disk.img"]),
    ("missing argument", QTEST + ["-m"], ["-m"]),
    ("missing argument -device", QTEST + ["-device"], ["-device"]),
    ("-m foo", QTEST + ["-m", "foo"], ["-m"]),
    ("-m 0", QTEST + ["-m", "0"], ["-m"]),
    ("-m 5T", QTEST + ["-m", "5T"], ["-m"]),
    ("-m size=1G,slots=2", QTEST + ["-m", "size=1G,slots=2"], ["-m"]),
    ("-smp 0", QTEST + ["-smp", "0"], ["-smp"]),
    ("-smp 2,sockets=3", QTEST + ["-smp", "2,sockets=3"], ["-smp"]),
    ("-smp foo", QTEST + ["-smp", "foo"], ["-smp"]),
    ("-smp 99999", QTEST + ["-smp", "99999"], ["-smp"]),
    ("-machine nosuch", QTEST + ["-machine", "nosuch"], ["-machine", "nosuch"]),
    ("-machine pc,foo=bar", QTEST + ["-machine", "pc,foo=bar"], ["-machine", "foo"]),
    ("-machine pc,", QTEST + ["-machine", "pc,"], ["-machine"]),
    ("-cpu nosuch", QTEST + ["-cpu", "nosuch"], ["-cpu", "nosuch"]),
    ("-device nosuch", QTEST + ["-device", "nosuch"], ["-device", "nosuch"]),
    ("-device isa-serial,nosuch=1", QTEST + ["-device", "isa-serial,nosuch=1"],
     ["-device", "nosuch"]),
    ("-device nosuch,help", QTEST + ["-device", "nosuch,help"], ["-device", "nosuch"]),
    ("-device isa-debug-exit,iobase=x", QTEST + ["-device", "isa-debug-exit,iobase=x"],
     ["-device", "iobase"]),
    ("-global nosuch.x=1", QTEST + ["-global", "nosuch.x=1"], ["-global", "nosuch"]),
    ("-global isa-serial.nosuch=1", QTEST + ["-global", "isa-serial.nosuch=1"],
     ["-global", "nosuch"]),
    ("-global garbage", QTEST + ["-global", "garbage"], ["-global"]),
    ("-chardev bogus,id=x", QTEST + ["-chardev", "bogus,id=x"], ["-chardev", "bogus"]),
    ("-serial nosuch:", QTEST + ["-serial", "nosuch:"], ["-serial"]),
    ("-display sdl", QTEST + ["-display", "sdl"], ["-display", "sdl"]),
    ("-vga cirrus", QTEST + ["-vga", "cirrus"], ["-vga", "cirrus"]),
    ("-drive file=x", QTEST + ["-drive", "file=x"], ["-drive"]),
    ("-netdev nosuch,id=n", QTEST + ["-netdev", "nosuch,id=n"], ["-netdev", "nosuch"]),
    ("-netdev user (no id)", QTEST + ["-netdev", "user"], ["-netdev", "'id'"]),
    ("-netdev tap,vhost=on", QTEST + ["-netdev", "tap,id=t,vhost=on"],
     ["-netdev", "vhost is not supported"]),
    ("-nic user,model=nosuch", QTEST + ["-nic", "user,model=nosuch"], ["-nic", "nosuch"]),
    ("-device e1000,netdev=nosuch", QTEST + ["-device", "e1000,netdev=nosuch"],
     ["e1000", "netdev", "nosuch"]),
    ("-accel nosuch", ["-accel", "nosuch", "-display", "none", "-nodefaults"],
     ["-accel", "nosuch"]),
    ("-machine accel=nosuch", ["-machine", "accel=nosuch", "-display", "none", "-nodefaults"],
     ["nosuch"]),
    ("-accel qtest,foo=bar", ["-accel", "qtest,foo=bar", "-display", "none", "-nodefaults"],
     ["-accel", "foo"]),
    ("-nographic -daemonize", ["-accel", "qtest", "-nographic", "-daemonize"],
     ["-nographic", "-daemonize"]),
    ("-serial stdio -daemonize", QTEST + ["-serial", "stdio", "-daemonize"],
     ["stdio", "-daemonize"]),
    ("-chardev stdio,id=s -daemonize", QTEST + ["-chardev", "stdio,id=s", "-daemonize"],
     ["stdio", "-daemonize"]),
    ("-initrd x without -kernel", QTEST + ["-initrd", "x"], ["-initrd"]),
    ("-append x without -kernel", QTEST + ["-append", "x"], ["-append"]),
    ("-d nosuch", QTEST + ["-d", "nosuch"], ["-d", "nosuch"]),
    ("-uuid bad", QTEST + ["-uuid", "bad"], ["-uuid"]),
    ("-name a,nosuch=1", QTEST + ["-name", "a,nosuch=1"], ["-name"]),
    # -cpu (target/i386/cpu-model.c): the message names the bad word.
    ("-cpu qemu64,+foo", QTEST + ["-cpu", "qemu64,+foo"],
     ["-cpu qemu64,+foo: unknown CPU feature 'foo'"]),
    ("-cpu qemu64,-bar", QTEST + ["-cpu", "qemu64,-bar"], ["unknown CPU feature 'bar'"]),
    ("-cpu qemu64,foo=on", QTEST + ["-cpu", "qemu64,foo=on"], ["unknown CPU property 'foo'"]),
    ("-cpu qemu64,vendor=Intel", QTEST + ["-cpu", "qemu64,vendor=Intel"], ["'vendor'"]),
    ("-cpu qemu64,family=999", QTEST + ["-cpu", "qemu64,family=999"], ["'999'", "'family'"]),
    ("-cpu qemu64,x2apic=maybe", QTEST + ["-cpu", "qemu64,x2apic=maybe"],
     ["'maybe'", "'x2apic'"]),
    ("-cpu qemu64,hv-relaxed", QTEST + ["-cpu", "qemu64,hv-relaxed"], ["hv-relaxed"]),
    ("-cpu host without KVM", QTEST + ["-cpu", "host,kvmclock=off"], ["host", "requires KVM"]),
]

for desc, args, words in BAD:
    @case("bad: " + desc)
    def _(args=args, words=words):
        t0 = time.monotonic()
        r = run(args)
        dt = time.monotonic() - t0
        no_crash(r.stdout + r.stderr)
        check(r.returncode == 1, "exit %d (want 1), stderr %r" % (r.returncode, r.stderr))
        lines = [l for l in r.stderr.splitlines()]
        check(len(lines) == 1, "%d lines on stderr: %r" % (len(lines), r.stderr))
        for w in words:
            check(w in lines[0], "message %r does not name %r" % (lines[0], w))
        check(dt < TIMEOUT, "took %.1fs" % dt)


# ---- spellings the parser accepts --------------------------------------------

def accepted(args, option_words):
    """The option parses; either the VM comes up, or it fails for a reason that
    is not the option (no KVM, no kernel)."""
    p, res = stays_up(args)
    if p:
        rc, out, err = stop(p)
        no_crash(out + err)
        return
    rc, out, err = res
    no_crash(out + err)
    if rc == 0:
        return
    check(re.search(r"KVM|kvm|kernel|accelerator", err), "unexpected error %r" % err)
    for w in option_words:
        check(w not in err, "error %r is about the option %r" % (err, w))


@case("accept: -global kvm-pit.lost_tick_policy=discard")
def _():
    accepted(QTEST + ["-S", "-global", "kvm-pit.lost_tick_policy=discard"],
             ["-global", "lost_tick_policy"])


for spec in ("qemu64,+x2apic,-x2apic,+tsc-deadline", "max,host-phys-bits",
             "qemu64,vendor=GenuineIntel", "qemu64,kvm=off", "qemu64,sse4_1,tsc_deadline=on",
             "Skylake-Client,-hle,-rtm", "EPYC,phys-bits=43,pmu=off", "kvm64,model-id=A B"):
    @case("accept: -cpu " + spec)
    def _(spec=spec):
        accepted(QTEST + ["-S", "-cpu", spec], ["-cpu"])


@case("accept: --no-reboot")
def _():
    accepted(QTEST + ["-S", "--no-reboot"], ["no-reboot"])


@case("accept: -no-reboot -no-shutdown -no-hpet")
def _():
    accepted(QTEST + ["-S", "-no-reboot", "-no-shutdown", "-no-hpet"], ["no-"])


for smp in ("4,sockets=2", "4,cores=2", "8,sockets=2,cores=2", "4,threads=2",
            "sockets=2,cores=2", "maxcpus=2"):
    @case("accept: -smp " + smp)
    def _(smp=smp):
        accepted(QTEST + ["-S", "-smp", smp], ["-smp"])


@case("bad: -device isa-debug-exit,id=a/b")
def _():
    r = run(QTEST + ["-device", "isa-debug-exit,id=a/b"])
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(len(r.stderr.splitlines()) == 1 and "id" in r.stderr, "stderr %r" % r.stderr)


@case("accept: -machine accel=kvm")
def _():
    accepted(["-machine", "accel=kvm", "-display", "none", "-nodefaults", "-S"],
             ["-machine", "accel="])


@case("accept: -machine pc,accel=kvm:tcg")
def _():
    accepted(["-machine", "pc,accel=kvm:tcg", "-display", "none", "-nodefaults", "-S"],
             ["-machine"])


@case("accept: -M pc -enable-kvm -m 256 -smp 2 -cpu host")
def _():
    accepted(["-M", "pc", "-enable-kvm", "-m", "256", "-smp", "2", "-cpu", "host",
              "-display", "none", "-nodefaults", "-S"], ["-M", "-m ", "-smp", "-cpu"])


@case("accept: qtest with -m 1G -smp cpus=2,sockets=2 -name g -uuid")
def _():
    accepted(QTEST + ["-S", "-m", "1G", "-smp", "cpus=2,sockets=2", "-name", "guest=g",
                      "-uuid", "12345678-1234-1234-1234-123456789abc",
                      "-device", "isa-debug-exit,iobase=0xf4,iosize=4"], ["-"])


# ---- process life cycle ------------------------------------------------------

@case("qtest -S stays up until SIGTERM")
def _():
    p, res = stays_up(QTEST + ["-S"], secs=1.5)
    check(p is not None, "exited early: %r" % (res,))
    t0 = time.monotonic()
    rc, out, err = stop(p, signal.SIGTERM)
    no_crash(out + err)
    check(rc == 0, "exit %d after SIGTERM, stderr %r" % (rc, err))
    check(time.monotonic() - t0 < TIMEOUT, "slow to exit")


@case("qtest (running) exits on SIGINT")
def _():
    p, res = stays_up(QTEST, secs=1.0)
    check(p is not None, "exited early: %r" % (res,))
    rc, out, err = stop(p, signal.SIGINT)
    no_crash(out + err)
    check(rc == 0, "exit %d after SIGINT" % rc)


@case("-pidfile")
def _():
    with tempfile.TemporaryDirectory() as d:
        pf = os.path.join(d, "kvmpc.pid")
        p, res = stays_up(QTEST + ["-S", "-pidfile", pf], secs=0.5)
        check(p is not None, "exited early: %r" % (res,))
        try:
            s = wait_file(pf, TIMEOUT)
            check(s is not None, "pidfile not written")
            check(s.strip() == str(p.pid), "pidfile says %r, pid is %d" % (s, p.pid))
            # a second instance with the same pidfile fails, naming it
            r = run(QTEST + ["-S", "-pidfile", pf])
            no_crash(r.stderr)
            check(r.returncode == 1, "second instance: exit %d" % r.returncode)
            lines = r.stderr.splitlines()
            check(len(lines) == 1 and "-pidfile" in lines[0],
                  "second instance stderr %r" % r.stderr)
            # ... and does not clobber the first one's file
            with open(pf) as f:
                check(f.read().strip() == str(p.pid), "pidfile clobbered")
        finally:
            rc, out, err = stop(p)
        check(rc == 0, "exit %d" % rc)
        check(not os.path.exists(pf), "pidfile left behind after exit")


@case("-pidfile in a missing directory")
def _():
    r = run(QTEST + ["-S", "-pidfile", "/nonexistent/dir/x.pid"])
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(len(r.stderr.splitlines()) == 1 and "-pidfile" in r.stderr, "stderr %r" % r.stderr)


@case("-daemonize -pidfile")
def _():
    with tempfile.TemporaryDirectory() as d:
        pf = os.path.join(d, "daemon.pid")
        t0 = time.monotonic()
        # run() waits for EOF on stdout/stderr too: the daemon must let go of them
        r = run(["-daemonize", "-pidfile", pf] + QTEST)
        dt = time.monotonic() - t0
        no_crash(r.stdout + r.stderr)
        check(r.returncode == 0, "exit %d, stderr %r" % (r.returncode, r.stderr))
        check(dt < TIMEOUT, "took %.1fs" % dt)
        s = wait_file(pf, TIMEOUT)
        check(s is not None, "pidfile not written")
        pid = int(s.strip())
        try:
            os.kill(pid, 0)
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                check(b"-daemonize" in f.read(), "pid %d is not the daemon" % pid)
            # a second daemon on the same pidfile fails in the parent with status 1
            r2 = run(["-daemonize", "-pidfile", pf] + QTEST)
            check(r2.returncode == 1, "second daemon: exit %d" % r2.returncode)
            check("-pidfile" in r2.stderr, "second daemon stderr %r" % r2.stderr)
        finally:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        check(wait_gone(pid, TIMEOUT), "daemon %d did not exit on SIGTERM" % pid)
        end = time.monotonic() + TIMEOUT
        while os.path.exists(pf) and time.monotonic() < end:
            time.sleep(0.05)
        check(not os.path.exists(pf), "daemon left its pidfile behind")


@case("-daemonize with a bad option fails in the parent")
def _():
    r = run(["-daemonize"] + QTEST + ["-device", "nosuch"])
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(len(r.stderr.splitlines()) == 1 and "nosuch" in r.stderr, "stderr %r" % r.stderr)


# ---- what kvm-unit-tests passes (QEMU compatibility) --------------------------

@case("accept: -vnc none; refuse -vnc :0 naming the option")
def _():
    accepted(QTEST + ["-S", "-vnc", "none"], ["-vnc"])
    r = run(QTEST + ["-vnc", ":0"])
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(len(r.stderr.splitlines()) == 1 and "-vnc" in r.stderr, "stderr %r" % r.stderr)


@case("accept: -machine pit=off and pit=on; refuse pit=maybe")
def _():
    accepted(QTEST + ["-S", "-machine", "pc,pit=off"], ["pit"])
    accepted(QTEST + ["-S", "-machine", "pc", "-machine", "pit=on"], ["pit"])
    accepted(QTEST + ["-S", "-machine", "pc,pit=auto"], ["pit"])
    r = run(QTEST + ["-machine", "pit=maybe"])
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(len(r.stderr.splitlines()) == 1 and "pit" in r.stderr, "stderr %r" % r.stderr)


@case("kernel-irqchip=on|split|off accepted (-machine and -accel kvm); other values refused naming it")
def _():
    for mode in ("on", "split", "off"):
        accepted(QTEST + ["-S", "-machine", "pc,kernel-irqchip=" + mode], ["irqchip"])
        accepted(QTEST + ["-S", "-machine", "pc", "-machine", "kernel-irqchip=" + mode],
                 ["irqchip"])
    r = run(QTEST + ["-machine", "kernel-irqchip=maybe"])
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(len(r.stderr.splitlines()) == 1 and "kernel-irqchip=maybe" in r.stderr,
          "stderr %r" % r.stderr)
    r = run(["-accel", "kvm,kernel-irqchip=maybe", "-display", "none", "-S"])
    check(r.returncode == 1, "exit %d" % r.returncode)
    check(len(r.stderr.splitlines()) == 1 and "kernel-irqchip=maybe" in r.stderr,
          "stderr %r" % r.stderr)


# ---- bad -kernel / -initrd: the loaders run at reset, under qtest too ----------

def bad_boot(files, args, words):
    """kvmpc fails with status 1 and one stderr line naming what was wrong."""
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for name, data in files.items():
            paths[name] = os.path.join(d, name)
            with open(paths[name], "wb") as f:
                f.write(data)
        argv = [a.format(**paths, dir=d) for a in args]
        r = run(QTEST + argv)
        no_crash(r.stdout + r.stderr)
        check(r.returncode == 1, "exit %d, stderr %r" % (r.returncode, r.stderr))
        lines = r.stderr.splitlines()
        check(len(lines) == 1, "%d lines on stderr: %r" % (len(lines), r.stderr))
        for w in words:
            w = w.format(**paths, dir=d)
            check(w in lines[0], "message %r does not name %r" % (lines[0], w))


def multiboot_elf(load_end_cut=None):
    """A 32-bit multiboot ELF (one segment at 1 MiB), optionally truncated."""
    import struct
    seg_off, seg_size = 0x1000, 0x100
    eh = struct.pack("<4sBBBB8sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, b"\0" * 8, 2, 3, 1,
                     0x100000, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    ph = struct.pack("<IIIIIIII", 1, seg_off, 0x100000, 0x100000, seg_size, seg_size, 5, 0x1000)
    body = bytearray(seg_off + seg_size)
    body[:len(eh)] = eh
    body[52:52 + len(ph)] = ph
    mb = struct.pack("<III", 0x1BADB002, 0, (-0x1BADB002) & 0xffffffff)
    body[seg_off:seg_off + 12] = mb
    return bytes(body if load_end_cut is None else body[:load_end_cut])


for label, files, args, words in [
    ("missing -kernel", {}, ["-kernel", "{dir}/nope"], ["{dir}/nope"]),
    ("empty -kernel", {"k": b""}, ["-kernel", "{k}"], ["{k}"]),
    ("garbage -kernel", {"k": bytes(range(256)) * 64}, ["-kernel", "{k}"], ["{k}", "multiboot"]),
    ("truncated multiboot -kernel", {"k": multiboot_elf(0x1010)}, ["-kernel", "{k}"],
     ["{k}", "end of the file"]),
    ("missing -initrd module", {"k": multiboot_elf()},
     ["-kernel", "{k}", "-initrd", "{dir}/nomod"], ["{dir}/nomod"]),
]:
    @case("bad boot: " + label)
    def _(files=files, args=args, words=words):
        bad_boot(files, args, words)


@case("good boot under qtest: a multiboot kernel with a module loads")
def _():
    with tempfile.TemporaryDirectory() as d:
        k, m = os.path.join(d, "k"), os.path.join(d, "m")
        with open(k, "wb") as f:
            f.write(multiboot_elf())
        with open(m, "wb") as f:
            f.write(b"module")
        accepted(QTEST + ["-S", "-kernel", k, "-initrd", m + " a=1"], ["-kernel", "-initrd"])


# ---- summary -------------------------------------------------------------------

failed = [n for n, ok, _ in results if not ok]
print("%d passed, %d failed%s" % (len(results) - len(failed), len(failed),
                                  (": " + ", ".join(failed)) if failed else ""))
sys.exit(1 if failed else 0)
