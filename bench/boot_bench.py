#!/usr/bin/env python3
"""Disk boot SeaBIOS -> GRUB -> Linux -> shell, then a guest dd read of
256 MiB from the IDE disk with O_DIRECT: kvmpc against Debian's QEMU on
the same accelerator kind (tcg-lite vs QEMU TCG, or KVM vs QEMU-KVM),
runs interleaved, medians.

  python3 bench/boot_bench.py [--accel tcg|kvm] [--runs 3] [--kvmpc build/kvmpc]
      [--qemu qemu-system-x86_64] [--before OLD_KVMPC] [--only kvmpc|qemu]
      [--no-dd] [--disk IMG | --build-disk IMG]

The disk is the one tests/functional/boot-loaders.sh (grub-disk) boots,
built by tests/images/grub-disk.sh: GRUB (grub-pc-bin) in the MBR and a
FAT partition with grub.cfg, Debian's kernel and the test initramfs plus
ata_piix and sd_mod, made 320 MiB with random data after the partition
and read once so that both emulators find it in the page cache.
Both emulators run it as `-accel ACCEL -m 512 -nographic -no-reboot -hda
DISK`, nothing else (ACCEL: --accel, default tcg).

With --accel kvm the benchmark runs in the KVM lab (docs/testing-lab.md),
whose view of the host is read-only: build the disk on the host first
(--build-disk IMG builds it and exits), then pass it with --disk IMG; the
script copies it into its temporary directory (a tmpfs in the lab), so
both emulators open the same writable copy from the page cache:

  python3 bench/boot_bench.py --build-disk build/bench/boot-disk.img
  flock /work/wt/lab.lock tests/lab/lab-run --smp 1 --timeout 2400 -- \
      /usr/bin/python3 bench/boot_bench.py --accel kvm --runs 3 \
      --disk build/bench/boot-disk.img

Each run checks which accelerator the emulator really uses (its open
file descriptors, once SeaBIOS has printed: a KVM vCPU is an
anon_inode:kvm-vcpu descriptor) and fails if it is not the one asked for.

Host-clock timestamps from process start to:

  seabios   SeaBIOS's banner on the serial port ("SeaBIOS (version")
  grub      GRUB's first line (grub.cfg's echo, before it loads anything)
  grub_go   GRUB done loading kernel + initramfs through int 13h
  linux     the kernel's first console line ("Linux version")
  shell     "kvmpc-initramfs: booted" (the busybox /init is running)
  dd_start  the modules are loaded and /dev/sda exists
  exit      the process exited after the guest's power-off

and the guest's own time for `dd if=/dev/sda of=/dev/null bs=1M
count=256 iflag=direct` (dd_guest), then for the same 256 MiB with
bs=4M four times over (dd4m_guest: the mean of the four, so that
/proc/uptime's 10 ms steps weigh a quarter), with the read requests each
issued (from /sys/block/sda/stat; per pass for bs=4M: with bs=1M the
guest issues 1 MiB or 512 KiB requests depending on how contiguous dd's
buffer happens to be, which changes from boot to boot; bs=4M gives 1 MiB
requests), plus the emulator's CPU time (user + system, all threads) at
each mark, which a loaded host disturbs less.  (Since session 12 the run ends after the
second dd: "exit" and the whole run's CPU are not comparable with
tables from before.)
--no-dd leaves the dd out (the script only powers off; a disk built with
--no-dd must be run with --no-dd, and the other way round).
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
r0=$(awk '{print $1}' /sys/block/sda/stat)
t0=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/sda of=/dev/null bs=1M count=256 iflag=direct 2>/dev/null
t1=$(cut -d" " -f1 /proc/uptime)
r1=$(awk '{print $1}' /sys/block/sda/stat)
for p in 1 2 3 4; do dd if=/dev/sda of=/dev/null bs=4M count=64 iflag=direct 2>/dev/null; done
t2=$(cut -d" " -f1 /proc/uptime)
r2=$(awk '{print $1}' /sys/block/sda/stat)
echo "DD guest=$(echo "$t1 $t0" | awk '{print $1-$2}') reqs=$((r1-r0))"
echo "DD4M guest=$(echo "$t2 $t1" | awk '{print ($1-$2)/4}') reqs=$(((r2-r1)/4))"'''
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


def fmt(key, v):
    """A value as printed: request counts whole, the 4-pass mean of the
    bs=4M dd to the millisecond, the rest to 10 ms (the guest's
    /proc/uptime and the marks' resolution)."""
    if key.endswith("_reqs"):
        return "%.0f" % v
    return "%.3f" % v if key == "dd4m_guest" else "%.2f" % v


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


def kvm_vcpu_fds(pid):
    """The emulator's open KVM vCPU descriptors (anon_inode:kvm-vcpu:N)."""
    fds = []
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            link = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        if link.startswith("anon_inode:kvm-vcpu"):
            fds.append(link)
    return fds


def check_accel(emu, pid, accel):
    """Fail unless the live emulator runs its vCPU on ACCEL: under kvm it
    holds a KVM vCPU descriptor, under tcg none."""
    fds = kvm_vcpu_fds(pid)
    if accel == "kvm" and not fds:
        raise RuntimeError("%s: asked for -accel kvm, but the process has no KVM vCPU "
                           "(no anon_inode:kvm-vcpu descriptor): not running on KVM" % emu)
    if accel == "tcg" and fds:
        raise RuntimeError("%s: asked for -accel tcg, but the process holds %s" % (emu, fds))
    return ", ".join(sorted(fds)) if fds else "no KVM vCPU descriptor"


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


def use_disk(tmp, src):
    """A writable copy of a disk built before (--build-disk), in tmp (a
    tmpfs in the lab), read once into the page cache."""
    if not os.path.isfile(src):
        sys.exit("--disk %s: no such file (build it with --build-disk %s)" % (src, src))
    with open(src, "rb") as f:
        if f.read(512)[510:512] != b"\x55\xaa":
            sys.exit("--disk %s: not a disk built by --build-disk (no MBR signature)" % src)
    disk = os.path.join(tmp, "disk.img")
    shutil.copyfile(src, disk)
    with open(disk, "rb") as f:
        while f.read(8 << 20):
            pass
    return disk


def run(emu, disk, accel, want_dd, timeout=900):
    argv = [emu, "-accel", accel, "-m", "512", "-nographic", "-no-reboot", "-hda", disk]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    buf, res, cpu, accel_seen = b"", {}, {}, None
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
                    if key == "seabios":    # the vCPU runs: which accelerator?
                        accel_seen = check_accel(emu, p.pid, accel)
                except RuntimeError:
                    p.kill()
                    p.wait()
                    raise
                except OSError:
                    pass
    _, status, ru = os.wait4(p.pid, 0)
    res["exit"] = time.monotonic() - t0
    cpu["exit"] = ru.ru_utime + ru.ru_stime
    missing = [k for k, _, _ in MARKS if k not in res]
    if missing or os.waitstatus_to_exitcode(status) != 0 or b"KVMPC-TEST-EXIT: 0" not in buf:
        raise RuntimeError("%s: missing %s, exit %d:\n%s" % (
            emu, missing, os.waitstatus_to_exitcode(status), buf[-2000:].decode("latin-1")))
    if accel_seen is None:
        raise RuntimeError("%s: exited before its accelerator could be checked" % emu)
    res["accel_seen"] = accel_seen
    m = re.search(rb"DD guest=([0-9.]+)", buf)
    if m and not want_dd:
        raise RuntimeError("%s: the disk runs the dd (built without --no-dd): "
                           "run without --no-dd" % emu)
    if not m and want_dd:
        raise RuntimeError("%s: no 'DD guest=' line on the console (a disk built with "
                           "--no-dd? run with --no-dd):\n%s" % (emu, buf[-2000:].decode("latin-1")))
    if m:
        res["dd_guest"] = float(m.group(1))
    # (disks built before these lines print the first dd only)
    for key, pat in (("dd_reqs", rb"DD guest=[0-9.]+ reqs=([0-9]+)"),
                     ("dd4m_guest", rb"DD4M guest=([0-9.]+)"),
                     ("dd4m_reqs", rb"DD4M guest=[0-9.]+ reqs=([0-9]+)")):
        m = re.search(pat, buf)
        if m:
            res[key] = float(m.group(1))
    for k, v in cpu.items():
        res["cpu_" + k] = v
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", choices=["tcg", "kvm"], default="tcg",
                    help="accelerator for both emulators (kvm: run it in the KVM lab)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kvmpc", default=os.path.join(B, "kvmpc"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--only", choices=["kvmpc", "qemu"], help="run one emulator (profiling)")
    ap.add_argument("--before", help="a second kvmpc binary (the build before a change), "
                    "run interleaved with the others and shown as its own column")
    ap.add_argument("--no-dd", action="store_true", help="boot and power off, no dd read")
    ap.add_argument("--keep-disk", help="also copy the disk image here (for profiling runs)")
    ap.add_argument("--build-disk", metavar="IMG",
                    help="only build the disk into IMG and exit (for --disk in the lab)")
    ap.add_argument("--disk", metavar="IMG",
                    help="boot a copy of IMG (made by --build-disk) instead of building one")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    if a.disk and (a.build_disk or a.keep_disk):
        ap.error("--disk goes with neither --build-disk nor --keep-disk")
    if a.build_disk:
        tmp = tempfile.mkdtemp(prefix="kvmpc-bootbench-")
        try:
            disk = build_disk(tmp, NODD_SCRIPT if a.no_dd else DD_SCRIPT)
            os.makedirs(os.path.dirname(os.path.abspath(a.build_disk)), exist_ok=True)
            shutil.copyfile(disk, a.build_disk)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print("%s: built (%s)" % (a.build_disk, "no dd" if a.no_dd else "with the dd"))
        return
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
    keys += ([] if a.no_dd else ["dd_guest", "dd_reqs", "dd4m_guest", "dd4m_reqs"]) + \
        ["cpu_" + k for k in keys]
    try:
        if a.disk:
            disk = use_disk(tmp, a.disk)
        else:
            disk = build_disk(tmp, NODD_SCRIPT if a.no_dd else DD_SCRIPT)
        if a.keep_disk:
            shutil.copy(disk, a.keep_disk)
        res = {k: {m: [] for m in keys} for k in emus}
        for i in range(a.runs):
            # rotate the order, so that no emulator always runs first
            order = list(emus)[i % len(emus):] + list(emus)[:i % len(emus)]
            for k in order:
                r = run(emus[k], disk, a.accel, not a.no_dd)
                if i == 0:
                    print("# %s -accel %s: %s" % (k, a.accel, r["accel_seen"]), flush=True)
                for m in keys:
                    if m in r:
                        res[k][m].append(r[m])
                print("run %d %-6s " % (i + 1, k) +
                      " ".join("%s %s" % (m, fmt(m, r[m])) for m in keys if m in r), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    names = {k: "%s (s from start)" % d for k, _, d in MARKS}
    names["exit"] = "exit after power-off (s from start)"
    names["dd_guest"] = "IDE dd read 256 MiB O_DIRECT (guest s)"
    names["dd_reqs"] = "  its read requests (the guest's choice: dd's buffer contiguity)"
    names["dd4m_guest"] = "IDE dd read 256 MiB O_DIRECT, bs=4M (guest s, mean of 4)"
    names["dd4m_reqs"] = "  its read requests (per pass)"
    for k, _, d in MARKS:
        names["cpu_" + k] = "CPU s at: " + d
    names["cpu_exit"] = "CPU s, whole run"
    cols = [k for k in ("kvmpc", "before", "qemu") if k in emus]
    heads = {"kvmpc": "kvmpc", "before": "kvmpc before",
             "qemu": "QEMU KVM" if a.accel == "kvm" else "QEMU TCG"}
    print()
    print("| metric | " + " | ".join(heads[c] + " (median)" for c in cols) +
          (" | kvmpc / QEMU |" if "qemu" in cols and "kvmpc" in cols else " |"))
    print("|---|" + "---|" * (len(cols) + ("qemu" in cols and "kvmpc" in cols)))
    for m in keys:
        if any(not res[c][m] for c in cols):
            continue
        med = {c: statistics.median(res[c][m]) for c in cols}
        row = "| %s | " % names[m] + " | ".join(fmt(m, med[c]) for c in cols)
        if "qemu" in cols and "kvmpc" in cols:
            row += " | %.2fx" % (med["kvmpc"] / med["qemu"]) if med["qemu"] else " | -"
        print(row + " |")


if __name__ == "__main__":
    main()
