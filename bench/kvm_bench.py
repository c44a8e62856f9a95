#!/usr/bin/env python3
"""KVM-path benchmarks, kvmpc beside Debian's QEMU, runs interleaved.

Run inside the KVM lab (a real KVM):
  tests/lab/lab-run --timeout 1800 -- python3 bench/kvm_bench.py --runs 5

Measures, per emulator:
  boot     process start -> the initramfs banner on the serial console
           (Debian 6.1 kernel + busybox initramfs, -m 512, -cpu host)
  start    process start -> first guest instruction. The guest is a
           Multiboot kernel (bench/first-insn.S) whose first instructions
           write the marker bytes 01 02 03 to COM1 and then isa-debug-exit.
           The harness takes time.monotonic() right before Popen, reads the
           serial console (-serial stdio) on a pipe and stops the clock when
           the marker arrives; the process's own exit (VM teardown) is not
           timed, though the harness still waits for it (exit status 1) before
           going on. "start (raw)" is that figure; "start" is the raw
           figure minus the spawn baseline, and the start ratio (and its
           goal) uses the baseline-subtracted figures of both emulators.
  spawn baseline
           the harness's own cost on the same spawn + pipe-read path: a tiny
           static program (built at run time) that writes the same marker to
           stdout and exits. Measured right before each emulator's start
           measurement; the median of all these samples is subtracted from
           both emulators' median raw start figures.
  rss      process RSS minus guest RAM touched, read from /proc/PID/smaps
           while the booted guest sleeps (guest RAM = the anonymous mapping
           at least as large as -m)
Any failure (marker not seen within MARKER_TIMEOUT seconds, wrong exit
status, no banner) raises RuntimeError; no figure is reported for it.
Prints a table and a Markdown block for docs/benchmarks.md.
"""
import argparse
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Written by bench/first-insn.S to COM1 and by the spawn-baseline program to
# stdout; control bytes that never occur in firmware's serial text.
MARKER = b"\x01\x02\x03"
MARKER_TIMEOUT = 60.0   # seconds from spawn to the marker
EXIT_TIMEOUT = 60.0     # seconds from the marker to process exit

BASELINE_S = """\
/* Spawn baseline for bench/kvm_bench.py: write the marker to stdout, exit 0. */
    .text
    .globl _start
_start:
    movl $1, %%eax          /* write(1, marker, %d) */
    movl $1, %%edi
    leaq marker(%%rip), %%rsi
    movl $%d, %%edx
    syscall
    movl $60, %%eax         /* exit(0) */
    xorl %%edi, %%edi
    syscall
marker:
    .byte %s
""" % (len(MARKER), len(MARKER), ", ".join(str(b) for b in MARKER))


def extract_vmlinux(bzimage, out):
    """The uncompressed ELF inside a bzImage (payload_offset/length, xz or gzip)."""
    import gzip
    import lzma
    import struct
    data = open(bzimage, "rb").read()
    setup_sects = data[0x1f1] or 4
    poff, plen = struct.unpack_from("<II", data, 0x248)
    payload = data[(setup_sects + 1) * 512 + poff:][:plen]
    if payload[:2] == b"\x1f\x8b":
        elf = gzip.decompress(payload)
    else:
        elf = lzma.LZMADecompressor().decompress(payload)
    if elf[:4] != b"\x7fELF":
        raise RuntimeError("no ELF inside " + bzimage)
    with open(out, "wb") as f:
        f.write(elf)
    return out


def build_first_insn(out_dir):
    elf = os.path.join(out_dir, "first-insn.elf")
    subprocess.run(["gcc", "-m32", "-nostdlib", "-static", "-Wl,-N", "-Wl,--build-id=none",
                    "-Wl,-Ttext=0x100000", "-o", elf, os.path.join(TOP, "bench", "first-insn.S")],
                   check=True)
    return elf


def build_spawn_baseline(out_dir):
    src = os.path.join(out_dir, "spawn-baseline.S")
    exe = os.path.join(out_dir, "spawn-baseline")
    with open(src, "w") as f:
        f.write(BASELINE_S)
    subprocess.run(["gcc", "-static", "-nostdlib", "-Wl,--build-id=none", "-o", exe, src],
                   check=True)
    return exe


IRQCHIP = None      # --irqchip: -machine kernel-irqchip= for both emulators
CPU = "host"        # --cpu


def common_args(binary):
    args = [binary, "-accel", "kvm", "-cpu", CPU, "-nographic", "-nodefaults",
            "-serial", "stdio", "-no-reboot"]
    if IRQCHIP:
        args += ["-machine", "kernel-irqchip=" + IRQCHIP]
    return args


def time_boot(binary, kernel, initrd, append, mem, measure_rss):
    """Seconds from spawn to the banner; RSS overhead in KiB (or None)."""
    args = common_args(binary) + ["-m", str(mem), "-kernel", kernel, "-initrd", initrd,
                                  "-append", append]
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    buf = b""
    t_banner = None
    rss = None
    deadline = t0 + 300
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if not r:
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            if t_banner is None and b"kvmpc-initramfs: booted" in buf:
                t_banner = time.monotonic() - t0
            if measure_rss and rss is None and b"BENCH-SLEEPING" in buf:
                time.sleep(1.0)
                rss = rss_overhead_kib(p.pid, mem)
            if b"KVMPC-TEST-EXIT" in buf and (rss is not None or not measure_rss):
                pass
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if t_banner is None:
        sys.stderr.write(buf.decode(errors="replace")[-2000:])
        raise RuntimeError("%s: no banner" % binary)
    return t_banner, rss


def rss_overhead_kib(pid, mem_mb):
    total = 0
    guest = 0
    size = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                size = hi - lo
            elif parts[0] == "Rss:":
                kib = int(parts[1])
                total += kib
                if size is not None and size >= mem_mb * 1024 * 1024:
                    guest += kib
    return total - guest


def time_to_marker(args, expect_rc):
    """Seconds from spawning args to MARKER arriving on its stdout (a pipe).

    The clock starts right before Popen and stops when the read that
    completes the marker returns; then the output is drained and the process
    waited for (not timed), and its exit status must be expect_rc.
    Raises RuntimeError on a missing marker, a hang or a wrong status."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    fd = p.stdout.fileno()
    buf = b""
    dt = None
    limit = t0 + MARKER_TIMEOUT
    try:
        while True:
            now = time.monotonic()
            if now >= limit:
                break
            r, _, _ = select.select([fd], [], [], min(1.0, limit - now))
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            if dt is None:
                if MARKER in buf:
                    dt = time.monotonic() - t0
                    limit = t0 + dt + EXIT_TIMEOUT
            else:
                buf = buf[-4096:]   # after the marker: drain, keep a tail for errors
        if dt is None:
            if time.monotonic() >= limit:
                what = "not within %.0f s" % MARKER_TIMEOUT
            else:
                try:
                    what = "output closed, exited %d" % p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    what = "output closed, still running"
            raise RuntimeError("%s: no start marker (%s)" % (args[0], what))
        try:
            rc = p.wait(timeout=max(0.1, limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise RuntimeError("%s: still running %.0f s after the start marker" %
                               (args[0], EXIT_TIMEOUT))
        if rc != expect_rc:
            raise RuntimeError("%s: exited %d after the start marker (expected %d)" %
                               (args[0], rc, expect_rc))
    except RuntimeError:
        sys.stderr.write(buf.decode(errors="replace")[-2000:] + "\n")
        raise
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
    return dt


def time_start(binary, elf):
    """Raw start: spawn -> first-insn.S's marker on the serial console."""
    args = common_args(binary) + ["-m", "128", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                                  "-kernel", elf]
    return time_to_marker(args, 1)


def time_spawn_baseline(exe):
    """The harness's own spawn + pipe-read cost (a static program, marker, exit 0)."""
    return time_to_marker([exe], 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvmpc", default=os.path.join(TOP, "build", "kvmpc"))
    ap.add_argument("--qemu", default="/usr/bin/qemu-system-x86_64")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--vmlinux", action="store_true",
                    help="boot the uncompressed vmlinux inside the bzImage (PVH entry, both emulators)")
    ap.add_argument("--irqchip", choices=("on", "split", "off"),
                    help="-machine kernel-irqchip= on both emulators (default: theirs, on)")
    ap.add_argument("--cpu", default="host",
                    help="-cpu for both emulators (QEMU 7.2 aborts with kernel-irqchip=off and "
                         "-cpu host: use qemu64 there)")
    a = ap.parse_args()
    global IRQCHIP, CPU
    IRQCHIP = a.irqchip
    CPU = a.cpu
    build = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build"))
    kernel = os.path.join(build, "images", "linux", "vmlinuz")
    initrd = os.path.join(build, "images", "initramfs.cpio.gz")
    script = subprocess.run([os.path.join(TOP, "tests", "images", "busybox-initramfs.sh"),
                             "--cmdline", "echo BENCH-SLEEPING; sleep 3"],
                            capture_output=True, text=True, check=True).stdout.strip()
    append = "console=ttyS0 quiet " + script
    tmp = tempfile.mkdtemp()
    elf = build_first_insn(tmp)
    baseline_exe = build_spawn_baseline(tmp)
    if a.vmlinux:
        kernel = extract_vmlinux(kernel, os.path.join(tmp, "vmlinux"))
    emus = [("kvmpc", a.kvmpc), ("qemu", a.qemu)]
    res = {n: {"boot": [], "start_raw": [], "rss": []} for n, _ in emus}
    baseline = []
    # One untimed launch of each first: the first run of a binary in a fresh
    # lab pays for cold caches (~2x), which is not what "start" measures.
    for _, binary in emus:
        time_start(binary, elf)
        time_spawn_baseline(baseline_exe)
    for i in range(a.runs):
        for name, binary in (emus if i % 2 == 0 else emus[::-1]):
            baseline.append(time_spawn_baseline(baseline_exe))
            res[name]["start_raw"].append(time_start(binary, elf))
            boot, rss = time_boot(binary, kernel, initrd, append, a.mem, True)
            res[name]["boot"].append(boot)
            if rss is not None:
                res[name]["rss"].append(rss)
            print("run %d %-6s start %.3fs (spawn baseline %.3fs) boot %.2fs rss-overhead %s KiB" %
                  (i, name, res[name]["start_raw"][-1], baseline[-1], boot, rss), flush=True)
    med = {n: {k: statistics.median(v) if v else float("nan") for k, v in d.items()}
           for n, d in res.items()}
    base = statistics.median(baseline)
    for n in med:
        med[n]["start"] = med[n]["start_raw"] - base
        med[n]["baseline"] = base
    goals = {"boot": 0.7, "start": 0.25, "rss": 0.25}
    print()
    print("| metric | kvmpc | QEMU | ratio | goal |")
    print("|---|---|---|---|---|")
    rows = (("boot", "boot", "s", "%.2f"),
            ("start", "start", "s", "%.3f"),
            ("start_raw", "start (raw)", "s", "%.3f"),
            ("baseline", "spawn baseline", "s", "%.3f"),
            ("rss", "rss", "MiB", "%.1f"))
    for k, label, unit, fmt in rows:
        kv, qv = med["kvmpc"][k], med["qemu"][k]
        if k == "rss":
            kv, qv = kv / 1024, qv / 1024
        if k == "baseline":
            ratio, goal = "-", "-"
        else:
            ratio = "%.2f" % (kv / qv if qv else float("nan"))
            goal = "<= %.2f" % goals[k] if k in goals else "-"
        print("| %s | %s %s | %s %s | %s | %s |" % (label, fmt % kv, unit, fmt % qv, unit,
                                                  ratio, goal))
    print("\n(start = start (raw) minus the spawn baseline, the harness's own spawn + pipe-read\n"
          " cost: median of %d runs of a static program writing the marker, the same figure\n"
          " for both emulators; the start goal is judged on the baseline-subtracted figures)" %
          len(baseline))
    print("\n(medians of %d interleaved runs each; kernel: %s; kernel-irqchip=%s)" %
          (a.runs, "uncompressed vmlinux, PVH entry" if a.vmlinux else "bzImage",
           a.irqchip or "default"))


if __name__ == "__main__":
    main()
