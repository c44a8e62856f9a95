#!/usr/bin/env python3
"""The guest kernel's own block-layer code, no device: tcg-lite against QEMU.

  python3 bench/kernel_bench.py [--runs 5] [--passes 20] [--mib 64] [--kvmpc build/kvmpc]
                                [--qemu qemu-system-x86_64] [--before BIN]

Both emulators boot the same Debian kernel and busybox initramfs (plus the
kernel's null_blk module and bench/blkbench), -m 512, one vCPU, -accel tcg.
The guest writes MIB (64) MiB to /dev/nullb0 with 1 MiB O_DIRECT writes,
PASSES times (blkbench seqwrite), timing each pass itself (reported per 64
MiB): null_blk completes a
request at once without touching its data, so the time is the guest
kernel's work per request (pinning the user pages, building the bio,
splitting it, blk-mq, the completion), i.e. how fast the emulator runs
ordinary kernel code.  It is what separated kvmpc from QEMU in the
virtio-blk sequential write (docs/benchmarks.md, session 20).

Reported per binary: the median of the passes' guest seconds per 64 MiB
over all runs, and the vCPU threads' host CPU microseconds per MiB
(/proc/PID/task/*/schedstat around the passes).  Runs alternate the
emulators (kvmpc, QEMU, [before]; then reversed).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disk_bench import B, cmdline_for, initrd  # noqa: E402
from tcg_bench import run_seconds  # noqa: E402

SCRIPT = r'''for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m; done
i=0; while [ ! -b /dev/DEV ]; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done
/bin/blkbench /dev/DEV seqwrite 64 0; echo KB-START
for i in $(seq PASSES); do /bin/blkbench /dev/DEV seqwrite MIB 0; done; echo KB-END'''


def run(emu, rd, passes, mib=64, timeout=900, dev="nullb0", extra=()):
    """Returns the passes' guest seconds, each scaled to 64 MiB, and the
    threads' CPU microseconds per MiB.  dev: the guest's block device
    written (extra: the emulator options that give it, if not null_blk)."""
    script = SCRIPT.replace("PASSES", str(passes)).replace("MIB", str(mib)).replace("DEV", dev)
    argv = [emu, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
            "-kernel", os.path.join(B, "images/linux/vmlinuz"), "-initrd", rd,
            "-append", "console=ttyS0 panic=-1 " + cmdline_for(script)] + list(extra)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    t0, buf, a, b = time.monotonic(), b"", None, None
    while True:
        if time.monotonic() - t0 > timeout:
            p.kill()
            raise RuntimeError("%s: timed out" % emu)
        c = p.stdout.read1(65536)
        if not c:
            break
        buf += c
        if a is None and b"KB-START" in buf:
            a = run_seconds(p.pid)
        if a is not None and b is None and b"KB-END" in buf:
            b = run_seconds(p.pid)
    p.wait()
    text = buf.decode(errors="replace")
    after = text[text.find("KB-START"):] if "KB-START" in text else ""
    secs = [float(l.split()[2]) * 64 / mib for l in after.splitlines()
            if l.startswith("BLKBENCH seqwrite")]
    if len(secs) != passes or a is None or b is None:
        raise RuntimeError("%s: %d of %d passes reported\n%s" % (emu, len(secs), passes, text[-2000:]))
    return secs, (b - a) * 1e6 / (passes * mib)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--passes", type=int, default=20)
    ap.add_argument("--mib", type=int, default=64,
                    help="MiB per pass (64: ~25 ms under tcg-lite, where a loaded host's "
                    "millisecond hiccups show; 512 evens them out)")
    ap.add_argument("--kvmpc", default=os.path.join(B, "kvmpc"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--before", help="a second kvmpc binary, run interleaved as its own column")
    args = ap.parse_args()
    emus = [("kvmpc", args.kvmpc), ("qemu", args.qemu)]
    if args.before:
        emus.append(("before", args.before))
    tmp = tempfile.mkdtemp(prefix="kernel-bench-")
    rd = initrd(tmp, ("null_blk",))
    res = {k: ([], []) for k, _ in emus}
    for r in range(args.runs):
        for k, emu in (emus if r % 2 == 0 else emus[::-1]):
            secs, us = run(emu, rd, args.passes, args.mib)
            res[k][0].extend(secs)
            res[k][1].append(us)
            print("run %d %-6s pass median %.4f s  vCPU+threads %.0f us/MiB" %
                  (r + 1, k, statistics.median(secs), us), flush=True)
    kv, qe = statistics.median(res["kvmpc"][0]), statistics.median(res["qemu"][0])
    print()
    print("| measure | %s | kvmpc / QEMU |" % " | ".join(k for k, _ in emus))
    print("|---|%s---|" % ("---|" * len(emus)))
    print("| guest s per 64 MiB to null_blk (median of %d passes) | %s | %.2fx |" %
          (args.runs * args.passes, " | ".join("%.4f" % statistics.median(res[k][0]) for k, _ in emus),
           kv / qe))
    ku, qu = statistics.median(res["kvmpc"][1]), statistics.median(res["qemu"][1])
    print("| emulator thread CPU us per MiB (median of %d runs) | %s | %.2fx |" %
          (args.runs, " | ".join("%.0f" % statistics.median(res[k][1]) for k, _ in emus), ku / qu))


if __name__ == "__main__":
    sys.exit(main())
