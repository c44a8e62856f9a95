#!/usr/bin/env python3
"""Two (or more) kvmpc binaries against each other under -accel tcg.

  python3 bench/tcg_ab.py RUNS BIN_A BIN_B [BIN_C...]

Boots each binary with tcg_bench.py's "work" script, RUNS times,
interleaved (A B, B A, ...), and prints the medians of the emulator's CPU
time (user + system, /proc/PID/stat) up to the initramfs banner and in
each guest phase (md5, gzip, loop), and B/A.  CPU time rather than wall
time, so that a loaded host disturbs the comparison less.
"""
import os, re, statistics, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcg_bench as tb
runs = int(sys.argv[1]); bins = sys.argv[2:]
img = os.environ.get("KVMPC_BUILD", os.path.join(tb.TOP, "build")) + "/images"
common = ["-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
          "-kernel", img + "/linux/vmlinuz", "-initrd", img + "/initramfs.cpio.gz"]
def run(argv):
    append = "console=ttyS0 panic=-1 " + tb.cmdline_for(tb.SCRIPTS["work"])
    p = subprocess.Popen(argv + ["-append", append], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    marks, buf = {}, b""
    while True:
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk: break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            t = line.decode(errors="replace").strip()
            if "kvmpc-initramfs: booted" in t: marks["init"] = tb.cpu_seconds(p.pid)
            m = re.match(r"^MARK-(\w+)$", t)
            if m: marks[m.group(1)] = tb.cpu_seconds(p.pid)
    p.wait()
    return marks
res = {b: {} for b in bins}
for r in range(runs):
    for b in (bins if r % 2 == 0 else bins[::-1]):
        m = run([b] + common)
        for k, a, z in (("md5", "md5a", "md5b"), ("gzip", "gza", "gzb"), ("loop", "loopa", "loopb")):
            res[b].setdefault(k, []).append(m[z] - m[a])
        res[b].setdefault("init", []).append(m["init"])
for k in ("init", "md5", "gzip", "loop"):
    vals = [statistics.median(res[b][k]) for b in bins]
    print("%-5s " % k + "  ".join("%7.2f" % v for v in vals) + ("   B/A %.3f" % (vals[1] / vals[0]) if len(vals) > 1 else ""), flush=True)
