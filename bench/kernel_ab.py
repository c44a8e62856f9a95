#!/usr/bin/env python3
"""Two kvmpc binaries against each other on the guest's kernel code, at the
same time.

  python3 bench/kernel_ab.py [--rounds 6] [--passes 6] [--mib 512] [--two-cpus] BIN_A BIN_B

kernel_bench.py's null_blk workload (O_DIRECT 1 MiB writes that the
device completes at once: the guest kernel's block-layer code), with both
binaries running simultaneously on host CPU 0 (taskset), sharing it.  A
loaded host slows whatever runs at that moment: run one after the other,
two binaries see different hosts (the same binary measured that way
differed by up to 1.8x between runs on these machines); sharing one CPU
they see the same one, down to the scheduler's slices.  The measure is
each emulator's CPU time per MiB written (all its threads,
/proc/PID/task/*/schedstat, between the first and the last pass): the
same binary against itself came out within 3% in every round (session
21).  Each round also prints the guest's own median pass time (seconds
per 64 MiB; while both run, each gets about half the CPU); the end, the
median of the per-round ratios B/A.  --two-cpus runs them on CPUs 0 and 1
instead (swapped every round): noisier here (0.5x-1.5x rounds for A/A).

--vda writes to a virtio-blk disk instead (disk_bench.py's "vda write":
-drive if=none,format=raw,cache=writeback + -device virtio-blk-pci, each
emulator its own sparse MIB+64 MiB image under /dev/shm, --mib 256 by
default): the whole device path, guest kernel, virtqueue and the host
writes, where the CPU time counts every thread of the emulator (vCPU,
I/O workers, main loop).  A or B may be Debian's qemu-system-x86_64.
"""
import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernel_bench as kb  # noqa: E402
from disk_bench import initrd  # noqa: E402


def pinned(tmp, emu, cpu):
    """A wrapper that runs emu on one CPU (kernel_bench.run execs a path)."""
    w = os.path.join(tmp, "cpu%d-%s" % (cpu, os.path.basename(emu)))
    with open(w, "w") as f:
        f.write("#!/bin/sh\nexec taskset -c %d %s \"$@\"\n" % (cpu, shutil.which(emu) or os.path.abspath(emu)))
    os.chmod(w, 0o755)
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--passes", type=int, default=6)
    ap.add_argument("--mib", type=int, default=None, help="MiB per pass (512; 256 with --vda)")
    ap.add_argument("--vda", action="store_true",
                    help="write to a virtio-blk disk (raw image in /dev/shm) instead of null_blk")
    ap.add_argument("--drive-opts", default="", help="appended to -drive with --vda, e.g. ,aio=io_uring")
    ap.add_argument("--two-cpus", action="store_true",
                    help="A and B on CPUs 0 and 1 (swapped every round) instead of sharing CPU 0")
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args()
    if args.two_cpus and (os.cpu_count() or 1) < 2:
        sys.exit("kernel_ab.py: --two-cpus needs 2 host CPUs")
    if args.mib is None:
        args.mib = 256 if args.vda else 512
    tmp = tempfile.mkdtemp(prefix="kernel-ab-")
    rd = initrd(tmp, ("virtio_pci", "virtio_blk") if args.vda else ("null_blk",))
    imgs = {}
    if args.vda:
        shm = tempfile.mkdtemp(prefix="kernel-ab-", dir="/dev/shm")
        atexit.register(shutil.rmtree, shm, True)
        for key in ("a", "b"):
            imgs[key] = os.path.join(shm, key + ".img")
            with open(imgs[key], "wb") as f:
                f.truncate((args.mib + 64) << 20)

    def devargs(key):
        if not args.vda:
            return "nullb0", ()
        return "vda", ("-drive", "file=%s,format=raw,if=none,id=vd0,cache=writeback%s" %
                       (imgs[key], args.drive_opts), "-device", "virtio-blk-pci,drive=vd0")
    ratios, cratios, ma, mb = [], [], [], []
    for r in range(args.rounds):
        cpus = (0, 0) if not args.two_cpus else (0, 1) if r % 2 == 0 else (1, 0)
        res, errs = {}, []

        def go(key, emu, cpu):
            try:
                dev, extra = devargs(key)
                res[key] = kb.run(pinned(tmp, emu, cpu), rd, args.passes, args.mib,
                                  dev=dev, extra=extra)
            except Exception as e:  # reported after both finished
                errs.append(e)

        ts = [threading.Thread(target=go, args=("a", args.a, cpus[0])),
              threading.Thread(target=go, args=("b", args.b, cpus[1]))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errs:
            raise errs[0]
        a, b = statistics.median(res["a"][0]), statistics.median(res["b"][0])
        ua, ub = res["a"][1], res["b"][1]
        ma.append(a)
        mb.append(b)
        ratios.append(b / a)
        cratios.append(ub / ua)
        print("round %d  A %.4f  B %.4f  B/A %.3f   CPU us/MiB A %.0f  B %.0f  B/A %.3f" %
              (r + 1, a, b, b / a, ua, ub, ub / ua), flush=True)
    print("A median %.4f s, B median %.4f s per 64 MiB; B/A median of %d rounds %.3f "
          "(B faster in %d)" % (statistics.median(ma), statistics.median(mb), args.rounds,
                                statistics.median(ratios), sum(x < 1 for x in ratios)))
    print("CPU time per MiB: B/A median %.3f (B less in %d)" %
          (statistics.median(cratios), sum(x < 1 for x in cratios)))


if __name__ == "__main__":
    sys.exit(main())
