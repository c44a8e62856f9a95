#!/usr/bin/env python3
"""IDE and virtio-blk disk I/O and a SeaBIOS disk boot: kvmpc against
Debian's QEMU, both on the same accelerator (tcg: kvmpc's tcg-lite against
QEMU's TCG; kvm: both -accel kvm, in the KVM lab), runs interleaved, medians.

  python3 bench/disk_bench.py [--runs 5] [--accel tcg|kvm] [--kvmpc build/kvmpc]
      [--qemu qemu-system-x86_64] [--drive-opts ,aio=io_uring] [--no-fwboot]

  flock /work/wt/lab.lock tests/lab/lab-run --smp 1 --mem 4096 --timeout 1800 -- \
      /usr/bin/python3 bench/disk_bench.py --accel kvm --runs 3

  python3 bench/disk_bench.py --runs 7 --no-fwboot --image-dir /dev/shm --randwrite-only

Both emulators get the same Debian kernel, the busybox initramfs plus
ata_piix, sd_mod, virtio_pci, virtio_blk and bench/blkbench.c built
static (tests/images/lib.sh), two raw images of random data (320 MiB, and
576 MiB for virtio-blk since session 25), one
on the PIIX3 IDE (-drive file=...,format=raw,if=ide,cache=writeback) and
one on virtio-blk-pci (-drive if=none + -device virtio-blk-pci), -m 512,
one vCPU, -accel tcg (or -accel kvm with --accel kvm: everything else is
identical), direct -kernel boot.  With --accel kvm the script refuses to
run without a usable /dev/kvm and fails a run whose guest kernel did not
see KVM ("Hypervisor detected: KVM" on its console): no silent fallback
to a software CPU.  --drive-opts is appended to
both -drive options on both emulators.  The images are read once before
the runs, so that every run finds them in the host's page cache.  The
guest times itself (guest time, which both emulators keep at host speed):

  ide read      dd if=/dev/sda of=/dev/null bs=1M count=256 iflag=direct
  ide write     dd if=/dev/zero of=/dev/sda bs=1M count=64 seek=256
                oflag=direct conv=fsync
  ide rand4k    blkbench /dev/sda randread 2000 256
  vda read      blkbench /dev/vda seqread 256     (1 MiB O_DIRECT preads)
  vda write     blkbench /dev/vda seqwrite 256 0  (1 MiB O_DIRECT + fdatasync;
                64 MiB at 256 MiB until session 21: 70 ms, too short a
                phase to tell 10% apart on a noisy host)
  vda write4    the same four more times, summed (1 GiB: the write path
                warm, as a longer fio run would see it; the single pass
                comes right after the read phase, with the write path's
                guest code partly not compiled yet)
  vda rand4k    blkbench /dev/vda randread 2000 256 (4 KiB O_DIRECT, QD 1)
  vda randw4k   blkbench /dev/vda randwrite 2000 256 320 (4 KiB O_DIRECT,
                QD 1, then fdatasync: at 320 MiB, past everything the
                other rows read; the virtio-blk image is 576 MiB)
  vdb randw4k   blkbench /dev/vdb randwrite 2000 256: the same on a third
                drive, a 256 MiB qcow2 image (64 KiB clusters,
                preallocation off, no backing file) created afresh with
                qemu-img before every run of either emulator, so the
                writes allocate clusters (~1550 of its 4096); --no-qcow2
                leaves it out
  boot          process start -> the initramfs banner (host clock), for scale

and, separately, SeaBIOS booting a disk's MBR (tests/functional/ide-boot.S)
that reads a sector with int 13h and exits: process start -> exit.
Also the emulator's CPU time (user + system) for the whole Linux run.
--randwrite-only runs only the two random-write rows (same VM, same
drives, a script that skips the other phases).

Prints a table for docs/benchmarks.md.
"""
import argparse
import atexit
import os
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import kvmstats

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.environ.get("KVMPC_BUILD", os.path.join(TOP, "build"))

SCRIPT = r'''ds() { echo "DSTAT $1 $(cat /sys/block/sda/stat) | $(cat /sys/block/vda/stat) | $(cat /sys/block/vdb/stat 2>/dev/null)"; }
for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m; done
i=0; while [ ! -b /dev/vda ] || [ ! -b /dev/sda ] || [ ! -b /dev/VDB ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
sleep 1
RANDWRITE_ONLY
echo "QLIM sda $(cat /sys/block/sda/queue/max_sectors_kb /sys/block/sda/queue/max_segments /sys/block/sda/queue/max_segment_size | tr '\n' ' ')"
echo "PHASE read"
ds read
t0=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/sda of=/dev/null bs=1M count=256 iflag=direct 2>/dev/null
ds write
t1=$(cut -d" " -f1 /proc/uptime)
echo "PHASE write"
dd if=/dev/zero of=/dev/sda bs=1M count=64 seek=256 oflag=direct conv=fsync 2>/dev/null
ds ide_rand
t2=$(cut -d" " -f1 /proc/uptime)
echo "PHASE ide_rand"
echo "BENCH read=$(echo "$t1 $t0" | awk '{print $1-$2}') write=$(echo "$t2 $t1" | awk '{print $1-$2}')"
r=$(/bin/blkbench /dev/sda randread 2000 256)
echo "PHASE vda_read"
ds vda_read
echo "IDE $r"
r=$(/bin/blkbench /dev/vda seqread 256)
echo "PHASE vda_write"
ds vda_write
echo "VDA $r"
r=$(/bin/blkbench /dev/vda seqwrite 256 0)
echo "PHASE vda_write4"
ds vda_write4
echo "VDA $r"
for i in 1 2 3 4; do echo "VDA4 $(/bin/blkbench /dev/vda seqwrite 256 0)"; done
echo "PHASE vda_rand"
ds vda_rand
r=$(/bin/blkbench /dev/vda randread 2000 256)
echo "VDA $r"
RANDWRITE
echo "PHASE end"
ds end'''
# The random-write rows: the raw one past the 320 MiB the other rows
# touch, the qcow2 one on its fresh image.
RANDWRITE = r'''echo "PHASE vda_randw"
ds vda_randw
echo "VDA $(/bin/blkbench /dev/vda randwrite 2000 256 320)"'''
RANDWRITE_QCOW2 = r'''echo "PHASE vdb_randw"
ds vdb_randw
echo "VDB $(/bin/blkbench /dev/vdb randwrite 2000 256)"'''


def script_for(randwrite_only, qcow2):
    rw = RANDWRITE + ("\n" + RANDWRITE_QCOW2 if qcow2 else "")
    s = SCRIPT.replace("VDB", "vdb" if qcow2 else "vda")
    if randwrite_only:
        return s[:s.index("RANDWRITE_ONLY")] + rw + '\necho "PHASE end"\nds end'
    return s.replace("RANDWRITE_ONLY\n", "").replace("RANDWRITE", rw)


def phases_for(randwrite_only, qcow2):
    rw = ["vda_randw"] + (["vdb_randw"] if qcow2 else [])
    return rw if randwrite_only else PHASES + rw

METRICS = [
    ("read", "IDE dd read 256 MiB (guest s)"),
    ("write", "IDE dd write 64 MiB + fsync (guest s)"),
    ("ide_rand", "IDE 2000 random 4 KiB reads (guest s)"),
    ("vda_read", "virtio-blk read 256 MiB, 1 MiB O_DIRECT (guest s)"),
    ("vda_write", "virtio-blk write 256 MiB + fdatasync (guest s)"),
    ("vda_write4", "virtio-blk write 4 x (256 MiB + fdatasync), summed (guest s)"),
    ("vda_rand", "virtio-blk 2000 random 4 KiB reads (guest s)"),
    ("vda_randw", "virtio-blk 2000 random 4 KiB writes + fdatasync, raw (guest s)"),
    ("vdb_randw", "virtio-blk 2000 random 4 KiB writes + fdatasync, fresh qcow2 (guest s)"),
    ("boot", "boot to initramfs (s)"),
    ("cpu", "emulator CPU time, whole Linux run (s)"),
]
# The emulator's CPU time during each phase (host /proc, between the
# guest's PHASE lines): less sensitive to a loaded host than guest time.
PHASES = ["read", "write", "ide_rand", "vda_read", "vda_write", "vda_write4", "vda_rand"]


def proc_cpu(pid):
    """User + system CPU seconds of a live process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def initrd(tmp, modules=("ata_piix", "sd_mod", "virtio_pci", "virtio_blk")):
    """The test initramfs plus the disk drivers (or `modules`), what they
    need, and blkbench."""
    out = os.path.join(tmp, "initrd.gz")
    sh = r'''set -e
. "$1/tests/images/lib.sh"
mkdir -p "$2/root/lib/modules" "$2/root/bin"
add_modules "$2/root" "$3/images/linux/modules" $4
gcc -static -O2 -o "$2/root/bin/blkbench" "$1/bench/blkbench.c"
pack_initramfs "$2/root" "$2/extra.cpio.gz"
cat "$3/images/initramfs.cpio.gz" "$2/extra.cpio.gz" > "$2/initrd.gz"'''
    subprocess.run(["bash", "-c", sh, "sh", TOP, tmp, B, " ".join(modules)], check=True)
    return out


def cmdline_for(script):
    return subprocess.check_output([os.path.join(TOP, "tests/images/busybox-initramfs.sh"),
                                    "--cmdline", script], text=True).strip()


def fresh_qcow2(path):
    """A new, empty 256 MiB qcow2 (64 KiB clusters, no preallocation), the
    same for both emulators: made by Debian's qemu-img before every run."""
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    "cluster_size=65536,preallocation=off", path, "256M"], check=True)


def linux_run(emu, disk, vdisk, rd, opts, accel="tcg", kstats=False, timeout=1200, append="",
              qdisk=None, randwrite_only=False):
    phases = phases_for(randwrite_only, qdisk is not None)
    qdrive = []
    if qdisk:
        fresh_qcow2(qdisk)
        qdrive = ["-drive", "file=%s,format=qcow2,if=none,id=vd1,cache=writeback%s" % (qdisk, opts),
                  "-device", "virtio-blk-pci,drive=vd1"]
    argv = [emu, "-accel", accel, "-m", "512", "-nographic", "-no-reboot",
            "-kernel", os.path.join(B, "images/linux/vmlinuz"), "-initrd", rd,
            "-drive", "file=%s,format=raw,if=ide,cache=writeback%s" % (disk, opts),
            "-drive", "file=%s,format=raw,if=none,id=vd0,cache=writeback%s" % (vdisk, opts),
            "-device", "virtio-blk-pci,drive=vd0"] + qdrive + [
            "-append", "console=ttyS0 panic=-1 " + (append + " " if append else "") +
            cmdline_for(script_for(randwrite_only, qdisk is not None))]
    t0 = time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    buf, boot, marks, kmarks, seen = b"", None, {}, {}, 0
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
            nl = buf.rfind(b"\n")
            if nl >= seen:          # complete lines only
                for ph in re.findall(rb"PHASE (\w+)", buf[seen:nl]):
                    try:
                        marks.setdefault(ph.decode(), proc_cpu(p.pid))
                    except OSError:
                        pass
                    if kstats:
                        kmarks.setdefault(ph.decode(), kvmstats.snapshot(p.pid))
                seen = nl + 1
    p.wait()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(rb"BENCH read=([0-9.]+) write=([0-9.]+)", buf)
    bb = {(d.decode(), k.decode()): float(t) for d, k, t in
          re.findall(rb"(IDE|VDA|VDB) BLKBENCH (\w+) ([0-9.]+)", buf)}
    want = [("VDA", "randwrite")] + ([("VDB", "randwrite")] if qdisk else [])
    if not randwrite_only:
        want += [("IDE", "randread"), ("VDA", "seqread"), ("VDA", "seqwrite"), ("VDA", "randread")]
    w4 = [float(t) for t in re.findall(rb"VDA4 BLKBENCH seqwrite ([0-9.]+)", buf)]
    if (not randwrite_only and (not m or len(w4) != 4)) or any(w not in bb for w in want):
        raise RuntimeError("%s: no BENCH lines:\n%s" % (emu, buf[-2000:].decode("latin-1")))
    if not kvmstats.guest_saw_kvm(accel, buf):
        raise RuntimeError("%s: -accel kvm, but the guest did not see KVM (no 'Hypervisor "
                           "detected: KVM' on its console)" % emu)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    order = phases + ["end"]
    phase_cpu = {ph: marks[order[i + 1]] - marks[ph] for i, ph in enumerate(phases)
                 if ph in marks and order[i + 1] in marks}
    phase_kvm = {ph: kvmstats.delta(kmarks[ph], kmarks[order[i + 1]])
                 for i, ph in enumerate(phases) if ph in kmarks and order[i + 1] in kmarks}
    ql = re.search(rb"QLIM sda ([0-9]+) ([0-9]+) ([0-9]+)", buf)
    r = {"qlim": ql.group(0).decode() if ql else "QLIM ?",
         "phase_cpu": phase_cpu, "phase_kvm": phase_kvm, "phase_req": guest_requests(buf, phases),
         "boot": boot, "cpu": cpu, "vda_randw": bb[("VDA", "randwrite")]}
    if qdisk:
        r["vdb_randw"] = bb[("VDB", "randwrite")]
    if not randwrite_only:
        r.update({"read": float(m.group(1)), "write": float(m.group(2)),
                  "ide_rand": bb[("IDE", "randread")], "vda_read": bb[("VDA", "seqread")],
                  "vda_write": bb[("VDA", "seqwrite")], "vda_write4": sum(w4),
                  "vda_rand": bb[("VDA", "randread")]})
    return r


def guest_requests(buf, phases):
    """The guest's own count of requests each phase sent to its disk and
    their average size, from /sys/block/{sda,vda}/stat around the phase
    (fields: reads, read merges, read sectors, read ms, writes, write
    merges, write sectors, ...): {phase: (requests, KiB per request)}."""
    st = {}
    for ph, nums in re.findall(rb"DSTAT (\w+) ([0-9 |]+)", buf):
        st[ph.decode()] = [[int(x) for x in d.split()] for d in nums.split(b"|")]
    out = {}
    order = phases + ["end"]
    for i, ph in enumerate(phases):
        if ph not in st or order[i + 1] not in st:
            continue
        dev = 2 if ph.startswith("vdb") else 1 if ph.startswith("vda") else 0
        a, b = st[ph][dev], st[order[i + 1]][dev]
        n = (b[0] - a[0]) + (b[4] - a[4])
        sectors = (b[2] - a[2]) + (b[6] - a[6])
        out[ph] = (n, sectors / 2 / n if n else 0.0)
    return out


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


def firmware_run(emu, disk, accel="tcg"):
    # -accel kvm alone: both emulators exit with an error if KVM is
    # unusable (no fallback accelerator named).
    argv = [emu, "-accel", accel, "-m", "128", "-nographic", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-hda", disk, "-boot", "c"]
    t0 = time.monotonic()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    t = time.monotonic() - t0
    if r.returncode != 3 or b"IDEBOOT" not in r.stdout:
        raise RuntimeError("%s: the boot sector did not run (exit %d)" % (emu, r.returncode))
    return t


def firmware_kvm_stats(emu, disk):
    """KVM's counters for a whole SeaBIOS boot: a second, untimed run whose
    VM is read every 20 ms (its debugfs directory goes with the process)."""
    argv = [emu, "-accel", "kvm", "-m", "128", "-nographic", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-hda", disk, "-boot", "c"]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    last = {}
    while p.poll() is None:
        last = kvmstats.snapshot(p.pid) or last
        time.sleep(0.02)
    return last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--accel", choices=["tcg", "kvm"], default="tcg",
                    help="both emulators' accelerator (kvm: in the KVM lab)")
    ap.add_argument("--kvmpc", default=os.path.join(B, "kvmpc"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--drive-opts", default=os.environ.get("DISK_BENCH_DRIVE_OPTS", ""),
                    help="appended to both -drive options of both emulators, e.g. ,aio=io_uring")
    ap.add_argument("--no-fwboot", action="store_true", help="skip the SeaBIOS disk boot")
    ap.add_argument("--kvm-stats", action="store_true",
                    help="with --accel kvm: KVM's exit counters (debugfs) per phase")
    ap.add_argument("--only", choices=["kvmpc", "qemu"], help="run one emulator (profiling)")
    ap.add_argument("--append", default="",
                    help="more kernel command line for both emulators, e.g. nokaslr (kvmpc's "
                    "PVH fast path under tcg-lite puts the kernel at its link address; QEMU's "
                    "in-guest decompressor at a random one unless nokaslr)")
    ap.add_argument("--image-dir", default=None,
                    help="where the two images go (default: the temporary directory under "
                    "$TMPDIR); /dev/shm keeps the host's disk, and its writeback at the "
                    "guest's fdatasync, out of the measure")
    ap.add_argument("--before", help="a second kvmpc binary (the build before a change), "
                    "run interleaved with the others and shown as its own column")
    ap.add_argument("--randwrite-only", action="store_true",
                    help="only the random 4 KiB write rows (raw, and qcow2 unless --no-qcow2)")
    ap.add_argument("--no-qcow2", action="store_true",
                    help="no third drive (the fresh qcow2 image of the random-write row)")
    a = ap.parse_args()
    if not shutil.which(a.qemu):
        sys.exit("no %s (Debian's qemu-system-x86)" % a.qemu)
    kvmstats.check_kvm(a.accel)
    if a.kvm_stats:
        if a.accel != "kvm":
            sys.exit("--kvm-stats needs --accel kvm")
        err = kvmstats.ensure_debugfs()
        if err:
            sys.exit("--kvm-stats: " + err)
    tmp = tempfile.mkdtemp(prefix="kvmpc-diskbench-")
    try:
        rd = initrd(tmp)
        mbr = mbr_disk(tmp)
        # Real data, not a sparse file, read once so that both emulators
        # find it in the host's page cache (the first reader of a hole pays
        # for zeroing the cache pages).
        disks = []
        idir = tmp
        if a.image_dir:
            idir = tempfile.mkdtemp(prefix="kvmpc-diskbench-", dir=a.image_dir)
            atexit.register(shutil.rmtree, idir, True)
        print("disk_bench: writing the images in %s" % idir, file=sys.stderr, flush=True)
        for name, mib in (("disk.img", 320), ("vdisk.img", 576)):
            disk = os.path.join(idir, name)
            with open(disk, "wb") as f:
                for _ in range(mib):
                    f.write(os.urandom(1 << 20))
            with open(disk, "rb") as f:
                while f.read(8 << 20):
                    pass
            disks.append(disk)
        emus = {"kvmpc": a.kvmpc, "qemu": a.qemu}
        if a.before:
            emus["before"] = a.before
        if a.only:
            emus = {a.only: emus[a.only]}
        qdisk = None if a.no_qcow2 else os.path.join(idir, "vq.qcow2")
        phases = phases_for(a.randwrite_only, qdisk is not None)
        keys = [m for m, _ in METRICS] + ["cpu_" + ph for ph in phases] + ["fwboot"]
        res = {k: {m: [] for m in keys} for k in emus}
        kres = {k: {} for k in emus}      # (phase, counter) -> [values]
        for i in range(a.runs):
            # rotate the order, so that no emulator always runs first
            order = list(emus)[i % len(emus):] + list(emus)[:i % len(emus)]
            for k in order:
                print("disk_bench: run %d %s" % (i + 1, k), file=sys.stderr, flush=True)
                r = linux_run(emus[k], disks[0], disks[1], rd, a.drive_opts, a.accel,
                              a.kvm_stats, append=a.append, qdisk=qdisk,
                              randwrite_only=a.randwrite_only)
                for ph, d in r["phase_kvm"].items():
                    for f, v in d.items():
                        kres[k].setdefault((ph, f), []).append(v)
                    print("run %d %-5s kvm %-9s %s" % (i + 1, k, ph, " ".join(
                        "%s=%d" % fv for fv in d.items())), flush=True)
                for ph, (n, kib) in r["phase_req"].items():
                    kres[k].setdefault((ph, "guest_requests"), []).append(n)
                    kres[k].setdefault((ph, "guest_KiB_per_request"), []).append(kib)
                print("run %d %-5s guest requests %s (%s)" % (i + 1, k, " ".join(
                    "%s=%d/%.0fKiB" % (ph, n, kib) for ph, (n, kib) in r["phase_req"].items()),
                    r["qlim"]), flush=True)
                for m, _ in METRICS:
                    if m in r:
                        res[k][m].append(r[m])
                for ph in phases:
                    if ph in r["phase_cpu"]:
                        res[k]["cpu_" + ph].append(r["phase_cpu"][ph])
                if not a.no_fwboot:
                    res[k]["fwboot"].append(firmware_run(emus[k], mbr, a.accel))
                    if a.kvm_stats:
                        st = firmware_kvm_stats(emus[k], mbr)
                        for f, v in st.items():
                            kres[k].setdefault(("fwboot", f), []).append(v)
                        print("run %d %-5s kvm %-9s %s" % (i + 1, k, "fwboot", " ".join(
                            "%s=%d" % fv for fv in st.items())), flush=True)
                print("run %d %-5s " % (i + 1, k) +
                      " ".join("%s %.2f" % (m, res[k][m][-1]) for m in keys if res[k][m]),
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(emus) < 2:
        return
    print()
    b = "before" in res
    print("| metric |%s kvmpc (median) | QEMU %s (median) | kvmpc / QEMU | runs min-max: "
          "kvmpc; QEMU |" %
          (" kvmpc before (median) |" if b else "", a.accel.upper()))
    print("|---|---|---|---|" + ("---|" if b else "") + "---|")
    names = dict(METRICS, fwboot="SeaBIOS disk boot to exit (s)")
    for ph in phases:
        names["cpu_" + ph] = "emulator CPU s during: " + names[ph].replace(" (guest s)", "")
    for m in keys:
        if not res["kvmpc"][m] or not res["qemu"][m] or (b and not res["before"][m]):
            continue
        k, q = statistics.median(res["kvmpc"][m]), statistics.median(res["qemu"][m])
        before = " %.3f |" % statistics.median(res["before"][m]) if b else ""
        print("| %s |%s %.3f | %.3f | %.2fx | %.3f-%.3f; %.3f-%.3f |" % (
            names[m], before, k, q, k / q, min(res["kvmpc"][m]), max(res["kvmpc"][m]),
            min(res["qemu"][m]), max(res["qemu"][m])))
    print()
    print("The guest's requests per phase (its /sys/block/*/stat, medians): kvmpc / QEMU")
    print()
    print("| phase | requests | KiB per request |")
    print("|---|---|---|")
    for ph in phases:
        cells = []
        for f, fmt in (("guest_requests", "%d"), ("guest_KiB_per_request", "%.1f")):
            v = [kres[e].get((ph, f)) for e in ("kvmpc", "qemu")]
            cells.append(" / ".join(fmt % statistics.median(x) if x else "-" for x in v))
        print("| %s | %s |" % (names[ph].replace(" (guest s)", ""), " | ".join(cells)))
    if a.kvm_stats:
        print()
        print("KVM counters per phase (debugfs, medians): kvmpc / QEMU")
        print()
        print("| phase | " + " | ".join(kvmstats.FIELDS) + " |")
        print("|---|" + "---|" * len(kvmstats.FIELDS))
        names["fwboot"] = "SeaBIOS disk boot (untimed run, last reading before exit)"
        for ph in phases + ["fwboot"]:
            cells = []
            for f in kvmstats.FIELDS:
                v = [kres[e].get((ph, f)) for e in ("kvmpc", "qemu")]
                cells.append(" / ".join("%d" % statistics.median(x) if x else "-" for x in v))
            print("| %s | %s |" % (names[ph].replace(" (guest s)", ""), " | ".join(cells)))


if __name__ == "__main__":
    main()
