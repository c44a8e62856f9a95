#!/usr/bin/env python3
"""tcg-lite against Debian's QEMU TCG, runs interleaved, medians.

  python3 bench/tcg_bench.py [--runs 5] [--kvmpc build/kvmpc] [--qemu qemu-system-x86_64]

Both emulators get the same Debian kernel and busybox initramfs
(tests/images/*.sh, under build/images), -m 512, one vCPU, their own
software CPU (-accel tcg) and their default CPU model (qemu64), direct
-kernel boot.  The initramfs runs a script given on the kernel command
line; the harness reads the serial console on a pipe and timestamps
marker lines as they arrive (host monotonic clock):

  init      process start -> "kvmpc-initramfs: booted" (the initramfs runs)
  poweroff  process start -> process exit after the script's poweroff
  md5       md5sum of 64 MiB from /dev/zero (between two marker lines)
  gzip      gzip -6 of 32 MiB from /dev/zero
  loop      a busybox ash loop of LOOP_N iterations; "guest Minsn/s" is the
            loop's instruction count (counted natively on this host by
            valgrind --tool=callgrind running the same busybox binary the
            initramfs holds, when valgrind is installed) over its time
  idle      host CPU time the emulator's threads run (/proc/PID/task/*/
            schedstat, ns) over IDLE_S seconds while the guest sleeps, as %
            of one core

Each run boots each emulator once per workload group, alternating kvmpc and
QEMU.  Prints a table and a Markdown block for docs/benchmarks.md.
"""
import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOP_N = 200000
IDLE_S = 10


def cmdline_for(script):
    return subprocess.check_output([os.path.join(TOP, "tests/images/busybox-initramfs.sh"),
                                    "--cmdline", script], text=True).strip()


def run(argv, script, timeout=900):
    """Boot, return ({marker: seconds since start}, exit seconds, pid samples)."""
    append = "console=ttyS0 panic=-1 " + cmdline_for(script)
    t0 = time.monotonic()
    p = subprocess.Popen(argv + ["-append", append], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    marks, buf, idle = {}, b"", None
    deadline = t0 + timeout
    while True:
        if time.monotonic() > deadline:
            p.kill()
            raise RuntimeError("%s: timed out" % argv[0])
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if not r:
            if p.poll() is not None:
                break
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        now = time.monotonic() - t0
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace").strip()
            if "kvmpc-initramfs: booted" in text:
                marks.setdefault("init", now)
            m = re.match(r"^MARK-(\w+)$", text)
            if m:
                marks[m.group(1)] = now
                if m.group(1) == "idle0":
                    idle = run_seconds(p.pid)
                if m.group(1) == "idle1" and idle is not None:
                    marks["idle_cpu"] = run_seconds(p.pid) - idle
    p.wait()
    marks["poweroff"] = time.monotonic() - t0
    if p.returncode != 0 or "init" not in marks:
        raise RuntimeError("%s: exit status %s, markers %s" % (argv[0], p.returncode, marks))
    return marks


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_seconds(pid):
    """CPU time of all the process's threads in ns resolution (schedstat),
    for the idle window, where clock ticks (10 ms) are too coarse."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass                # the thread exited meanwhile
    return total / 1e9


SCRIPTS = {
    "boot": "true",
    "work": ("echo MARK-md5a; dd if=/dev/zero bs=1M count=64 2>/dev/null | md5sum; echo MARK-md5b; "
             "echo MARK-gza; dd if=/dev/zero bs=1M count=32 2>/dev/null | gzip -6 | wc -c; echo MARK-gzb; "
             "echo MARK-loopa; i=0; while [ $i -lt %d ]; do i=$((i+1)); done; echo MARK-loopb" % LOOP_N),
    "idle": "echo MARK-idle0; sleep %d; echo MARK-idle1" % IDLE_S,
}


def loop_instructions():
    """Instructions of the ash loop, counted natively with callgrind."""
    bb = shutil.which("busybox")
    vg = shutil.which("valgrind")
    if not bb or not vg:
        return None
    script = "i=0; while [ $i -lt %d ]; do i=$((i+1)); done" % LOOP_N
    out = subprocess.run([vg, "--tool=callgrind", "--callgrind-out-file=/dev/null", bb, "sh",
                          "-c", script], capture_output=True, text=True).stderr
    m = re.search(r"Collected : (\d+)", out)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kvmpc", default=os.path.join(TOP, "build/kvmpc"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    a = ap.parse_args()
    img = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build")) + "/images"
    common = ["-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
              "-kernel", img + "/linux/vmlinuz", "-initrd", img + "/initramfs.cpio.gz"]
    emus = {"kvmpc": [a.kvmpc] + common, "qemu": [a.qemu] + common}
    res = {e: {} for e in emus}

    def add(e, k, v):
        res[e].setdefault(k, []).append(v)

    for r in range(a.runs):
        for group in ("boot", "work", "idle"):
            order = ["kvmpc", "qemu"] if r % 2 == 0 else ["qemu", "kvmpc"]
            for e in order:
                m = run(emus[e], SCRIPTS[group])
                if group == "boot":
                    add(e, "init", m["init"])
                    add(e, "poweroff", m["poweroff"])
                elif group == "work":
                    add(e, "md5", m["md5b"] - m["md5a"])
                    add(e, "gzip", m["gzb"] - m["gza"])
                    add(e, "loop", m["loopb"] - m["loopa"])
                else:
                    add(e, "idle", 100.0 * m["idle_cpu"] / (m["idle1"] - m["idle0"]))
        print("run %d/%d done" % (r + 1, a.runs), file=sys.stderr)
    insns = loop_instructions()
    rows = [("init (s)", "init"), ("poweroff (s)", "poweroff"), ("md5sum 64 MiB (s)", "md5"),
            ("gzip -6 32 MiB (s)", "gzip"), ("ash loop (s)", "loop"),
            ("idle host CPU (% of a core)", "idle")]
    print("| measure | kvmpc tcg-lite | QEMU 7.2 TCG | ratio |")
    print("|---|---|---|---|")
    for label, k in rows:
        kv, qv = statistics.median(res["kvmpc"][k]), statistics.median(res["qemu"][k])
        ratio = kv / qv if qv else float("inf")
        print("| %s | %.2f | %.2f | %.2f |" % (label, kv, qv, ratio))
    if insns:
        kv, qv = statistics.median(res["kvmpc"]["loop"]), statistics.median(res["qemu"]["loop"])
        print("| guest Minsn/s (ash loop, %.0f M instructions) | %.0f | %.0f | %.2f |"
              % (insns / 1e6, insns / kv / 1e6, insns / qv / 1e6, qv / kv))
    print("\n%d runs each, interleaved; medians; ratio = kvmpc / QEMU (lower is better, "
          "except Minsn/s where it is QEMU's time / kvmpc's)." % a.runs)


if __name__ == "__main__":
    main()
