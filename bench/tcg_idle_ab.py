#!/usr/bin/env python3
"""Host CPU of an idle guest, several emulator configurations against
each other, interleaved, medians.

  python3 bench/tcg_idle_ab.py RUNS NAME=BINARY[:VAR=VALUE,...] ...

BINARY is a kvmpc binary or the word "qemu" (Debian's qemu-system-x86_64);
VAR=VALUE pairs are put in that run's environment (KVMPC_TCGL_JIT=0,
KVMPC_TCGL_JIT_IDLE_PCT=0, ...).  Each run boots tcg_bench.py's guest
under -accel tcg with its idle script (busybox `sleep 10`) and takes the
CPU time of all the emulator's threads over those 10 s (schedstat, ns);
the order of the configurations flips every run.  Prints each run and
the medians in ms per 10 s.

  python3 bench/tcg_idle_ab.py 6 new=build/kvmpc: \\
      kept=build/kvmpc:KVMPC_TCGL_JIT_IDLE_PCT=0 qemu=qemu
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcg_bench as tb  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    img = os.environ.get("KVMPC_BUILD", os.path.join(tb.TOP, "build")) + "/images"
    common = ["-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
              "-kernel", img + "/linux/vmlinuz", "-initrd", img + "/initramfs.cpio.gz"]
    cfgs = []
    for a in sys.argv[2:]:
        name, _, rest = a.partition("=")
        binary, _, envs = rest.partition(":")
        if not name or not binary:
            sys.exit("bad configuration %r: expected NAME=BINARY[:VAR=VALUE,...]" % a)
        env = dict(e.split("=", 1) for e in envs.split(",") if e)
        argv0 = "qemu-system-x86_64" if binary == "qemu" else binary
        cfgs.append((name, argv0, env))
    res = {c[0]: [] for c in cfgs}
    base = dict(os.environ)
    for r in range(runs):
        for name, argv0, env in (cfgs if r % 2 == 0 else cfgs[::-1]):
            os.environ.clear()
            os.environ.update(base)
            os.environ.update(env)
            m = tb.run([argv0] + common, tb.SCRIPTS["idle"])
            res[name].append(1000 * m["idle_cpu"])
            print("run %d %-12s %.1f ms" % (r + 1, name, res[name][-1]), flush=True)
    os.environ.clear()
    os.environ.update(base)
    for name, v in res.items():
        print("%-12s median %.1f ms per %d s  (%s)" % (name, statistics.median(v), tb.IDLE_S,
                                                      " ".join("%.1f" % x for x in v)))


if __name__ == "__main__":
    main()
