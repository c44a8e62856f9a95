#!/usr/bin/env python3
"""Name the guest code that a tcg-lite profile spent its time in.

usage: guest_profile.py PERF_DATA --kallsyms FILE [--top N]

Record with the JIT's symbol map on (docs/tcg-lite.md, "Profiling the
guest"):

    KVMPC_TCGL_PERFMAP=1 build/kvmpc -accel tcg ... &
    perf record -e cpu-clock -p $! -o perf.data -- sleep 5

kvmpc then writes /tmp/perf-PID.map, one line per compiled block
("tcgl_guest_<linear address of the block>"), and perf names samples in
generated code after the guest block they ran.  This script reads
`perf report` (self time per symbol), maps each block's address to the
guest kernel function that contains it through the guest's own
/proc/kallsyms (KASLR and modules included; Debian's System.map is a
stub: the real one is in the -dbg package), and prints the functions by
share of samples, beside the host's own symbols (the executor, handlers
called from generated code, the host kernel).  Get the file from the
guest with `grep -i " t " /proc/kallsyms` (as root); the lines may come
mixed with other console output: anything that is not "ADDR TYPE NAME
[MODULE]" is skipped.  Addresses beyond 1 MiB from the last symbol
(user space) are shown as "[guest user/unknown 0x...]" per 64 KiB.
"""
import argparse
import bisect
import collections
import re
import subprocess
import sys


def load_kallsyms(path):
    addrs, names = [], []
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.split()
            if (len(parts) >= 3 and len(parts[1]) == 1 and parts[1] in "tTwW" and
                    re.fullmatch(r"[0-9a-f]{16}", parts[0])):
                addrs.append(int(parts[0], 16))
                names.append(parts[2] + (" " + parts[3] if len(parts) > 3 else ""))
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def guest_name(addr, addrs, names):
    k = bisect.bisect_right(addrs, addr) - 1
    if k < 0 or addr - addrs[k] > 0x100000:
        return "[guest user/unknown 0x%x]" % (addr & ~0xffff)
    return names[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("perf_data")
    ap.add_argument("--kallsyms", required=True)
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()
    addrs, names = load_kallsyms(a.kallsyms)
    if not addrs:
        sys.exit("no symbols in " + a.kallsyms)
    out = subprocess.run(["perf", "report", "-i", a.perf_data, "--no-children", "--sort", "sym",
                          "--stdio", "-g", "none"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("perf report failed: " + out.stderr.strip()[-500:])
    share = collections.Counter()
    guest_total = host_total = 0.0
    pat = re.compile(r"^\s*([0-9.]+)%\s+\[(.)\]\s+(.*?)\s*$")
    for line in out.stdout.splitlines():
        m = pat.match(line)
        if not m:
            continue
        pct, sym = float(m.group(1)), m.group(3)
        g = re.match(r"tcgl_guest_([0-9a-f]+)$", sym)
        if g:
            share["guest: " + guest_name(int(g.group(1), 16), addrs, names)] += pct
            guest_total += pct
        else:
            share["host:  [%s] %s" % (m.group(2), sym)] += pct
            host_total += pct
    print("samples in generated code (guest blocks): %.1f%%, elsewhere (host): %.1f%%"
          % (guest_total, host_total))
    print("guest symbols: %d from %s" % (len(addrs), a.kallsyms))
    for name, pct in share.most_common(a.top):
        print("%6.2f%%  %s" % (pct, name))


if __name__ == "__main__":
    main()
