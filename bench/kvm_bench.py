#!/usr/bin/env python3
"""KVM-path benchmarks, kvmpc beside Debian's QEMU, runs interleaved.

Run inside the KVM lab (a real KVM):
  tests/lab/lab-run --timeout 1800 -- python3 bench/kvm_bench.py --runs 5

Measures, per emulator:
  boot     process start -> the initramfs banner on the serial console
           (Debian 6.1 kernel + busybox initramfs, -m 512, -cpu host)
  start    process start -> first guest instruction (a Multiboot kernel
           whose first instruction writes isa-debug-exit): whole-process time
  rss      process RSS minus guest RAM touched, read from /proc/PID/smaps
           while the booted guest sleeps (guest RAM = the anonymous mapping
           at least as large as -m)
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


def common_args(binary):
    args = [binary, "-accel", "kvm", "-cpu", "host", "-nographic", "-nodefaults",
            "-serial", "stdio", "-no-reboot"]
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


def time_start(binary, elf):
    args = common_args(binary) + ["-m", "128", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                                  "-kernel", elf]
    t0 = time.monotonic()
    p = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    dt = time.monotonic() - t0
    if p.returncode != 1:
        raise RuntimeError("%s: first-insn kernel exited %d (expected 1)" % (binary, p.returncode))
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvmpc", default=os.path.join(TOP, "build", "kvmpc"))
    ap.add_argument("--qemu", default="/usr/bin/qemu-system-x86_64")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--vmlinux", action="store_true",
                    help="boot the uncompressed vmlinux inside the bzImage (PVH entry, both emulators)")
    a = ap.parse_args()
    build = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build"))
    kernel = os.path.join(build, "images", "linux", "vmlinuz")
    initrd = os.path.join(build, "images", "initramfs.cpio.gz")
    script = subprocess.run([os.path.join(TOP, "tests", "images", "busybox-initramfs.sh"),
                             "--cmdline", "echo BENCH-SLEEPING; sleep 3"],
                            capture_output=True, text=True, check=True).stdout.strip()
    append = "console=ttyS0 quiet " + script
    tmp = tempfile.mkdtemp()
    elf = build_first_insn(tmp)
    if a.vmlinux:
        kernel = extract_vmlinux(kernel, os.path.join(tmp, "vmlinux"))
    emus = [("kvmpc", a.kvmpc), ("qemu", a.qemu)]
    res = {n: {"boot": [], "start": [], "rss": []} for n, _ in emus}
    for i in range(a.runs):
        for name, binary in (emus if i % 2 == 0 else emus[::-1]):
            res[name]["start"].append(time_start(binary, elf))
            boot, rss = time_boot(binary, kernel, initrd, append, a.mem, True)
            res[name]["boot"].append(boot)
            if rss is not None:
                res[name]["rss"].append(rss)
            print("run %d %-6s start %.3fs boot %.2fs rss-overhead %s KiB" %
                  (i, name, res[name]["start"][-1], boot, rss), flush=True)
    med = {n: {k: statistics.median(v) if v else float("nan") for k, v in d.items()}
           for n, d in res.items()}
    goals = {"boot": 0.7, "start": 0.25, "rss": 0.25}
    print()
    print("| metric | kvmpc | QEMU | ratio | goal |")
    print("|---|---|---|---|---|")
    for k, unit, fmt in (("boot", "s", "%.2f"), ("start", "s", "%.3f"), ("rss", "MiB", "%.1f")):
        kv, qv = med["kvmpc"][k], med["qemu"][k]
        if k == "rss":
            kv, qv = kv / 1024, qv / 1024
        ratio = kv / qv if qv else float("nan")
        print("| %s | %s %s | %s %s | %.2f | <= %.2f |" % (k, fmt % kv, unit, fmt % qv, unit,
                                                           ratio, goals[k]))
    print("\n(medians of %d interleaved runs each; kernel: %s)" %
          (a.runs, "uncompressed vmlinux, PVH entry" if a.vmlinux else "bzImage"))


if __name__ == "__main__":
    main()
