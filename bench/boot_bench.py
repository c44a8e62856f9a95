#!/usr/bin/env python3
"""Disk boot SeaBIOS -> GRUB -> Linux -> shell, then a guest dd read of
256 MiB from the IDE disk with O_DIRECT: kvmpc (tcg-lite) against Debian's
QEMU (TCG), runs interleaved, medians.

  python3 bench/boot_bench.py [--runs 3] [--kvmpc build/kvmpc]
      [--qemu qemu-system-x86_64] [--before OLD_KVMPC] [--only kvmpc|qemu]
      [--no-dd]

The disk is the one tests/functional/boot-loaders.sh (grub-disk) boots,
built by tests/images/grub-disk.sh: GRUB (grub-pc-bin) in the MBR and a
FAT partition with grub.cfg, Debian's kernel and the test initramfs plus
ata_piix and sd_mod, made 320 MiB with random data after the partition
and read once so that both emulators find it in the host's page cache.
Both emulators run it as `-accel tcg -m 512 -nographic -no-reboot -hda
DISK`, nothing else.  Host-clock timestamps from process start to:

  seabios   SeaBIOS's banner on the serial port ("SeaBIOS (version")
  grub      GRUB's first line (grub.cfg's echo, before it loads anything)
  grub_go   GRUB done loading kernel + initramfs through int 13h
  linux     the kernel's first console line ("Linux version")
  shell     "kvmpc-initramfs: booted" (the busybox /init is running)
  dd_start  the modules are loaded and /dev/sda exists
  exit      the process exited after the guest's power-off

and the guest's own time for `dd if=/dev/sda of=/dev/null bs=1M
count=256 iflag=direct` (dd_guest), plus the emulator's CPU time (user +
system, all threads) at each mark, which a loaded host disturbs less.
--no-dd leaves the dd out (the script only powers off).
Prints one line per run, then a Markdown table for docs/benchmarks.md.
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

DD_SCRIPT = r'''for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m; done
i=0; while [ ! -b /dev/sda ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "PHASE dd_start"
t0=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/sda of=/dev/null bs=1M count=256 iflag=direct 2>/dev/null
t1=$(cut -d" " -f1 /proc/uptime)
echo "DD guest=$(echo "$t1 $t0" | awk '{print $1-$2}')"'''
NODD_SCRIPT = 'echo "PHASE dd_start"'

# (key, pattern on the serial console, description)
MARKS = [
    ("seabios", rb"SeaBIOS \(version", "SeaBIOS banner"),
    ("grub", rb"kvmpc: GRUB loads the kernel", "GRUB running (grub.cfg's first echo)"),
    ("grub_go", rb"kvmpc: GRUB starts the kernel", "GRUB has read kernel + initrd (int 13h)"),
    ("linux", rb"Linux version", "kernel's first console line"),
    ("shell", rb"kvmpc-initramfs: booted", "initramfs shell (/init) running"),
    ("dd_start", rb"PHASE dd_start", "modules loaded, /dev/sda there"),
]


def proc_cpu(pid):
    """User + system CPU seconds of a live process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def initrd(tmp):
    """The test initramfs plus ata_piix and sd_mod (tests/images/lib.sh)."""
    out = os.path.join(tmp, "initrd.gz")
    sh = r'''set -e
. "$1/tests/images/lib.sh"
mkdir -p "$2/root/lib/modules"
add_modules "$2/root" "$3/images/linux/modules" ata_piix sd_mod
pack_initramfs "$2/root" "$2/extra.cpio.gz"
cat "$3/images/initramfs.cpio.gz" "$2/extra.cpio.gz" > "$2/initrd.gz"'''
    subprocess.run(["bash", "-c", sh, "sh", TOP, tmp, B], check=True)
    return out


def build_disk(tmp, script):
    rd = initrd(tmp)
    append = "console=ttyS0 panic=-1 " + subprocess.check_output(
        [os.path.join(TOP, "tests/images/busybox-initramfs.sh"), "--cmdline", script],
        text=True).strip()
    disk = os.path.join(tmp, "disk.img")
    subprocess.run([os.path.join(TOP, "tests/images/grub-disk.sh"), disk,
                    os.path.join(B, "images/linux/vmlinuz"), rd, append, "320"], check=True)
    with open(disk, "rb") as f:     # into the host's page cache
        while f.read(8 << 20):
            pass
    return disk


def run(emu, disk, timeout=900):
    argv = [emu, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot", "-hda", disk]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    buf, res, cpu = b"", {}, {}
    while True:
        if time.monotonic() - t0 > timeout:
            p.kill()
            raise RuntimeError("%s: timed out:\n%s" % (emu, buf[-2000:].decode("latin-1")))
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if not r:
            continue
        d = os.read(p.stdout.fileno(), 65536)
        if not d:
            break
        now = time.monotonic() - t0
        buf += d
        for key, pat, _ in MARKS:
            if key not in res and re.search(pat, buf):
                res[key] = now
                try:
                    cpu[key] = proc_cpu(p.pid)
                except OSError:
                    pass
    _, status, ru = os.wait4(p.pid, 0)
    res["exit"] = time.monotonic() - t0
    cpu["exit"] = ru.ru_utime + ru.ru_stime
    missing = [k for k, _, _ in MARKS if k not in res]
    if missing or os.waitstatus_to_exitcode(status) != 0 or b"KVMPC-TEST-EXIT: 0" not in buf:
        raise RuntimeError("%s: missing %s, exit %d:\n%s" % (
            emu, missing, os.waitstatus_to_exitcode(status), buf[-2000:].decode("latin-1")))
    m = re.search(rb"DD guest=([0-9.]+)", buf)
    if m:
        res["dd_guest"] = float(m.group(1))
    for k, v in cpu.items():
        res["cpu_" + k] = v
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kvmpc", default=os.path.join(B, "kvmpc"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--only", choices=["kvmpc", "qemu"], help="run one emulator (profiling)")
    ap.add_argument("--before", help="a second kvmpc binary (the build before a change), "
                    "run interleaved with the others and shown as its own column")
    ap.add_argument("--no-dd", action="store_true", help="boot and power off, no dd read")
    ap.add_argument("--keep-disk", help="also copy the disk image here (for profiling runs)")
    a = ap.parse_args()
    emus = {"kvmpc": a.kvmpc, "qemu": a.qemu}
    if a.before:
        emus["before"] = a.before
    if a.only:
        emus = {a.only: emus[a.only]}
    for k, e in emus.items():
        if not shutil.which(e):
            sys.exit("no %s (%s)" % (e, k))
    tmp = tempfile.mkdtemp(prefix="kvmpc-bootbench-")
    keys = [k for k, _, _ in MARKS] + ["exit"]
    keys += ([] if a.no_dd else ["dd_guest"]) + ["cpu_" + k for k in keys]
    try:
        disk = build_disk(tmp, NODD_SCRIPT if a.no_dd else DD_SCRIPT)
        if a.keep_disk:
            shutil.copy(disk, a.keep_disk)
        res = {k: {m: [] for m in keys} for k in emus}
        for i in range(a.runs):
            # rotate the order, so that no emulator always runs first
            order = list(emus)[i % len(emus):] + list(emus)[:i % len(emus)]
            for k in order:
                r = run(emus[k], disk)
                for m in keys:
                    if m in r:
                        res[k][m].append(r[m])
                print("run %d %-6s " % (i + 1, k) +
                      " ".join("%s %.2f" % (m, r[m]) for m in keys if m in r), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    names = {k: "%s (s from start)" % d for k, _, d in MARKS}
    names["exit"] = "exit after power-off (s from start)"
    names["dd_guest"] = "IDE dd read 256 MiB O_DIRECT (guest s)"
    for k, _, d in MARKS:
        names["cpu_" + k] = "CPU s at: " + d
    names["cpu_exit"] = "CPU s, whole run"
    cols = [k for k in ("kvmpc", "before", "qemu") if k in emus]
    heads = {"kvmpc": "kvmpc", "before": "kvmpc before", "qemu": "QEMU TCG"}
    print()
    print("| metric | " + " | ".join(heads[c] + " (median)" for c in cols) +
          (" | kvmpc / QEMU |" if "qemu" in cols and "kvmpc" in cols else " |"))
    print("|---|" + "---|" * (len(cols) + ("qemu" in cols and "kvmpc" in cols)))
    for m in keys:
        if any(not res[c][m] for c in cols):
            continue
        med = {c: statistics.median(res[c][m]) for c in cols}
        row = "| %s | " % names[m] + " | ".join("%.2f" % med[c] for c in cols)
        if "qemu" in cols and "kvmpc" in cols:
            row += " | %.2fx" % (med["kvmpc"] / med["qemu"]) if med["qemu"] else " | -"
        print(row + " |")


if __name__ == "__main__":
    main()
