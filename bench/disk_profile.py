#!/usr/bin/env python3
"""Profile kvmpc during one guest disk workload only (not the boot).

  python3 bench/disk_profile.py [--kvmpc build/kvmpc] [--drive-opts ,aio=io_uring]
      [--perf-out /tmp/kvmpc-disk.perf] 'GUEST COMMAND'

Boots the disk_bench.py guest (same kernel, initramfs with the disk
drivers and blkbench, an IDE disk /dev/sda and a virtio-blk /dev/vda of
320 MiB), then runs GUEST COMMAND (e.g. '/bin/blkbench /dev/vda seqread
256') between two marker lines; `perf record -e cpu-clock -g` is attached
to kvmpc from the first marker to the second, and `strace -c -f` instead
with --strace.  Prints the guest's output and `perf report --no-children`
top entries, and with KVMPC_BLOCK_LATENCY=1 in the environment the
block layer's per-request latency (docs/block.md).  For a figure to
compare, use disk_bench.py.
"""
import argparse
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import disk_bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvmpc", default=os.path.join(disk_bench.B, "kvmpc"))
    ap.add_argument("--drive-opts", default="")
    ap.add_argument("--perf-out", default="/tmp/kvmpc-disk.perf")
    ap.add_argument("--strace", action="store_true", help="strace -c -f instead of perf")
    ap.add_argument("command")
    a = ap.parse_args()
    script = r'''for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m; done
i=0; while [ ! -b /dev/vda ] || [ ! -b /dev/sda ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
sleep 1
echo PROFILE-START; sleep 1
%s
echo PROFILE-END; sleep 1''' % a.command
    tmp = tempfile.mkdtemp(prefix="kvmpc-diskprof-")
    try:
        rd = disk_bench.initrd(tmp)
        disks = []
        for name in ("disk.img", "vdisk.img"):
            d = os.path.join(tmp, name)
            with open(d, "wb") as f:
                for _ in range(320):
                    f.write(os.urandom(1 << 20))
            disks.append(d)
        argv = [a.kvmpc, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
                "-kernel", os.path.join(disk_bench.B, "images/linux/vmlinuz"), "-initrd", rd,
                "-drive", "file=%s,format=raw,if=ide,cache=writeback%s" % (disks[0], a.drive_opts),
                "-drive", "file=%s,format=raw,if=none,id=vd0,cache=writeback%s" % (
                    disks[1], a.drive_opts),
                "-device", "virtio-blk-pci,drive=vd0",
                "-append", "console=ttyS0 panic=-1 " + disk_bench.cmdline_for(script)]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        buf, prof, t0 = b"", None, time.monotonic()
        while time.monotonic() - t0 < 1200:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if not r:
                continue
            d = os.read(p.stdout.fileno(), 65536)
            if not d:
                break
            buf += d
            if prof is None and b"PROFILE-START" in buf:
                if a.strace:
                    prof = subprocess.Popen(["strace", "-c", "-f", "-p", str(p.pid), "-o",
                                             a.perf_out + ".strace"])
                else:
                    prof = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-g",
                                             "-o", a.perf_out, "-p", str(p.pid)])
            if prof is not None and prof.returncode is None and b"PROFILE-END" in buf:
                prof.send_signal(signal.SIGINT)
                prof.wait()
                prof.returncode = 0
        p.wait()
        out = buf.decode("latin-1")
        print(out[out.find("PROFILE-START"):out.find("PROFILE-END") + 11])
        # KVMPC_BLOCK_LATENCY=1 in the environment: kvmpc's own figures
        print("\n".join(l for l in out.splitlines() if "block latency" in l))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.strace:
        print(open(a.perf_out + ".strace").read())
    else:
        subprocess.run("perf report -i %s --no-children --sort symbol --stdio 2>/dev/null "
                       "| grep -v '^#' | grep '%%' | head -40" % a.perf_out, shell=True)


if __name__ == "__main__":
    main()
