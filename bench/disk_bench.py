#!/usr/bin/env python3
"""IDE disk I/O and SeaBIOS disk boot: kvmpc (tcg-lite) against Debian's
QEMU (TCG), runs interleaved, medians.

  python3 bench/disk_bench.py [--runs 5] [--kvmpc build/kvmpc] [--qemu qemu-system-x86_64]

Both emulators get the same Debian kernel, the busybox initramfs plus the
ata_piix/sd_mod modules (tests/images/lib.sh), a 320 MiB raw image on the
PIIX3 IDE (-drive file=...,format=raw,if=ide,cache=writeback), -m 512,
one vCPU, -accel tcg, direct -kernel boot.  The image holds random data
and is read once before the runs, so that every run finds it in the
host's page cache.  The guest script times itself
with /proc/uptime (guest time, which both emulators keep at host speed):

  read      dd if=/dev/sda of=/dev/null bs=1M count=256 iflag=direct
  write     dd if=/dev/zero of=/dev/sda bs=1M count=64 seek=256 oflag=direct
            conv=fsync
  boot      process start -> the initramfs banner (host clock), for scale

and, separately, SeaBIOS booting a disk's MBR (tests/functional/ide-boot.S)
that reads a sector with int 13h and exits: process start -> exit.

Prints a table and a Markdown block for docs/benchmarks.md.
"""
import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build"))

SCRIPT = r'''for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m; done
sleep 1
t0=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/sda of=/dev/null bs=1M count=256 iflag=direct 2>/dev/null
t1=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/zero of=/dev/sda bs=1M count=64 seek=256 oflag=direct conv=fsync 2>/dev/null
t2=$(cut -d" " -f1 /proc/uptime)
echo "BENCH read=$(echo "$t1 $t0" | awk '{print $1-$2}') write=$(echo "$t2 $t1" | awk '{print $1-$2}')"'''


def initrd(tmp):
    """The test initramfs plus ata_piix, sd_mod and what they need."""
    out = os.path.join(tmp, "initrd.gz")
    sh = r'''set -e
. "$1/tests/images/lib.sh"
mkdir -p "$2/root/lib/modules"
add_modules "$2/root" "$3/images/linux/modules" ata_piix sd_mod
pack_initramfs "$2/root" "$2/extra.cpio.gz"
cat "$3/images/initramfs.cpio.gz" "$2/extra.cpio.gz" > "$2/initrd.gz"'''
    subprocess.run(["bash", "-c", sh, "sh", TOP, tmp, B], check=True)
    return out


def cmdline_for(script):
    return subprocess.check_output([os.path.join(TOP, "tests/images/busybox-initramfs.sh"),
                                    "--cmdline", script], text=True).strip()


def linux_run(emu, disk, rd, timeout=1200):
    argv = [emu, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
            "-kernel", os.path.join(B, "images/linux/vmlinuz"), "-initrd", rd,
            "-drive", "file=%s,format=raw,if=ide,cache=writeback%s" % (
                disk, os.environ.get("DISK_BENCH_DRIVE_OPTS", "") if emu != "qemu-system-x86_64" else ""),
            "-append", "console=ttyS0 panic=-1 " + cmdline_for(SCRIPT)]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    buf, boot = b"", None
    while True:
        if time.monotonic() - t0 > timeout:
            p.kill()
            raise RuntimeError("%s: timed out" % emu)
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            d = os.read(p.stdout.fileno(), 65536)
            if not d:
                break
            buf += d
            if boot is None and b"kvmpc-initramfs: booted" in buf:
                boot = time.monotonic() - t0
    p.wait()
    m = re.search(rb"BENCH read=([0-9.]+) write=([0-9.]+)", buf)
    if not m:
        raise RuntimeError("%s: no BENCH line:\n%s" % (emu, buf[-2000:].decode("latin-1")))
    return {"read": float(m.group(1)), "write": float(m.group(2)), "boot": boot}


def mbr_disk(tmp):
    o, b = os.path.join(tmp, "b.o"), os.path.join(tmp, "b.bin")
    src = os.path.join(TOP, "tests/functional")
    subprocess.run(["as", "--32", "-I", src, "--defsym", "SECTOR_SIZE=512", "--defsym",
                    "READ_LBA=1", "-o", o, os.path.join(src, "ide-boot.S")], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext", "0x7c00", "--oformat", "binary", "-o", b,
                    o], check=True)
    disk = os.path.join(tmp, "mbr.img")
    with open(b, "rb") as f, open(disk, "wb") as out:
        out.write(f.read() + bytes((4 << 20) - 512))
    return disk


def firmware_run(emu, disk):
    argv = [emu, "-accel", "tcg", "-m", "128", "-nographic", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-hda", disk, "-boot", "c"]
    t0 = time.monotonic()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    t = time.monotonic() - t0
    if r.returncode != 3 or b"IDEBOOT" not in r.stdout:
        raise RuntimeError("%s: the boot sector did not run (exit %d)" % (emu, r.returncode))
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kvmpc", default=os.path.join(B, "kvmpc"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    a = ap.parse_args()
    if not shutil.which(a.qemu):
        sys.exit("no %s (Debian's qemu-system-x86)" % a.qemu)
    tmp = tempfile.mkdtemp(prefix="kvmpc-diskbench-")
    try:
        rd = initrd(tmp)
        mbr = mbr_disk(tmp)
        # Real data, not a sparse file, read once so that both emulators
        # find it in the host's page cache (the first reader of a hole pays
        # for zeroing the cache pages).
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            for _ in range(320):
                f.write(os.urandom(1 << 20))
        with open(disk, "rb") as f:
            while f.read(8 << 20):
                pass
        emus = {"kvmpc": a.kvmpc, "qemu": a.qemu}
        res = {k: {"read": [], "write": [], "boot": [], "fwboot": []} for k in emus}
        for i in range(a.runs):
            order = ["kvmpc", "qemu"] if i % 2 == 0 else ["qemu", "kvmpc"]
            for k in order:
                r = linux_run(emus[k], disk, rd)
                for m in ("read", "write", "boot"):
                    res[k][m].append(r[m])
                res[k]["fwboot"].append(firmware_run(emus[k], mbr))
                print("run %d %-5s read %.2fs write %.2fs boot %.2fs fw-boot %.2fs" % (
                    i + 1, k, r["read"], r["write"], r["boot"], res[k]["fwboot"][-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| metric | kvmpc (median) | QEMU TCG (median) | kvmpc / QEMU |")
    print("|---|---|---|---|")
    names = {"read": "dd read 256 MiB (guest s)", "write": "dd write 64 MiB + fsync (guest s)",
             "boot": "boot to initramfs (s)", "fwboot": "SeaBIOS disk boot to exit (s)"}
    for m in ("read", "write", "boot", "fwboot"):
        k, q = statistics.median(res["kvmpc"][m]), statistics.median(res["qemu"][m])
        print("| %s | %.2f | %.2f | %.2fx |" % (names[m], k, q, k / q))


if __name__ == "__main__":
    main()
