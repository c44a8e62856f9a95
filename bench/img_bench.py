#!/usr/bin/env python3
"""kvmpc-img convert against Debian's qemu-img convert on a 1 GiB image,
runs interleaved, medians of wall time (issue 13's goal: <= 1.0x).

  python3 bench/img_bench.py [--runs 5] [--size-mib 1024] [--img build/tools/kvmpc-img]
                             [--dir /var/tmp] [--base OLD-KVMPC-IMG]

The source is a raw image of SIZE with 3/4 of it random data in 1 MiB
runs and 1/4 holes (a used disk), made once and read once so that every
run finds it in the page cache. Cases, each tool writing its own fresh
output file, which is removed after the run:

  raw->qcow2     convert -O qcow2 SRC OUT
  qcow2->raw     convert -O raw OUT.qcow2 OUT (the qcow2 made by qemu-img)
  raw->qcow2 -c  convert -c -O qcow2 (zlib; on 1/8 of the size, compression
                 is slow in both tools)
  raw->qcow2 -c text  the same on a source of that size whose data is
                 compressible (text-like runs; the random data above does
                 not shrink, so there both tools try and store it as it is)

--only SUBSTR runs only the cases whose name contains SUBSTR (e.g. '-c').

Each output is checked: `qemu-img compare` against the source must say
identical, so a fast wrong result cannot win. Besides wall time, each
run's CPU time (user + system of the tool, from getrusage) is recorded:
on a loaded host wall time mostly measures the neighbours and the page
cache writeback, CPU time what the tool itself costs. --base adds an older
kvmpc-img binary to the same interleaved runs (before/after). One warm-up
run of every tool and case comes first and is not counted; then the
order of the tools rotates every run, so each takes each position
equally often over a multiple of their number of runs; and each case's
turn in a run starts with one more untimed conversion. Without it the
first conversion of a case took 1.3-2.0 s against 0.3-0.4 s for the
next ones, in system time, whichever tool it was (qemu-img alone, one
after the other, shows it: docs/benchmarks.md): on this VM a large write
right after a large file was deleted is fast, the first one after other
work is not. Prints a Markdown
table for docs/benchmarks.md and each run's wall times.
"""
import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_source(path, size_mib, seed=1, text=False):
    rnd = random.Random(seed)
    words = [bytes(rnd.choice(b'etaoinshrdlu') for _ in range(rnd.randrange(2, 9)))
             for _ in range(500)]
    with open(path, 'wb') as f:
        f.truncate(size_mib << 20)
        for mib in range(size_mib):
            if rnd.random() < 0.75:
                f.seek(mib << 20)
                if text:
                    b = b' '.join(rnd.choice(words) for _ in range(200000))
                    f.write(b[:1 << 20].ljust(1 << 20, b'\n'))
                else:
                    f.write(os.urandom(1 << 20))
    with open(path, 'rb') as f:                 # into the page cache
        while f.read(16 << 20):
            pass


def timed(cmd):
    """(wall seconds, CPU seconds of the child: user + system)"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--size-mib', type=int, default=1024)
    ap.add_argument('--img', default=os.path.join(TOP, 'build', 'tools', 'kvmpc-img'))
    ap.add_argument('--qemu-img', default='qemu-img')
    ap.add_argument('--dir', default=os.environ.get('TMPDIR', '/var/tmp'))
    ap.add_argument('--base', help='an older kvmpc-img to compare in the same runs')
    ap.add_argument('--only', default='', help='only the cases whose name has this')
    a = ap.parse_args()
    if not shutil.which(a.qemu_img):
        sys.exit('qemu-img is not installed (Debian qemu-utils)')
    d = tempfile.mkdtemp(prefix='kvmpc-img-bench.', dir=a.dir)
    try:
        src = os.path.join(d, 'src.raw')
        small = os.path.join(d, 'small.raw')
        ref = os.path.join(d, 'ref.qcow2')
        out = os.path.join(d, 'out')
        text = os.path.join(d, 'text.raw')
        cases = [
            ('raw->qcow2', ['convert', '-O', 'qcow2', src, out], src),
            ('qcow2->raw', ['convert', '-O', 'raw', ref, out], src),
            ('raw->qcow2 -c (1/8 size)', ['convert', '-c', '-O', 'qcow2', small, out], small),
            ('raw->qcow2 -c text (1/8 size)', ['convert', '-c', '-O', 'qcow2', text, out], text),
        ]
        cases = [c for c in cases if a.only in c[0]]
        used = {c[2] for c in cases} | {c[1][-2] for c in cases}
        if src in used:
            make_source(src, a.size_mib)
        if ref in used:
            subprocess.run([a.qemu_img, 'convert', '-O', 'qcow2', src, ref], check=True)
        if small in used:
            make_source(small, max(a.size_mib // 8, 1), seed=2)
        if text in used:
            make_source(text, max(a.size_mib // 8, 1), seed=3, text=True)
        tools = [('kvmpc-img', a.img), ('qemu-img', a.qemu_img)]
        if a.base:
            tools.insert(1, ('base', a.base))
        subprocess.run(['sync'])        # the sources' writeback is not a run's
        times = {(c[0], t[0]): [] for c in cases for t in tools}
        # run -1 is a warm-up (each tool once per case, not counted); then
        # the order rotates so that every tool takes every position equally
        # often (a fixed or flipped order left a position artifact: the
        # first tool after a case's start was 7x slower on a quiet host)
        for run in range(-1, a.runs):
            for name, args, orig in cases:
                k = run % len(tools)
                order = tools[k:] + tools[:k]
                # an untimed run first: the first large write after other
                # work was 3-5x slower (system time) whichever tool made it
                for tname, tool in [(None, order[0][1])] + order:
                    if os.path.exists(out):
                        os.unlink(out)
                    subprocess.run(['sync'])
                    t = timed([tool] + args)
                    if run >= 0 and tname:
                        times[(name, tname)].append(t)
                    r = subprocess.run([a.qemu_img, 'compare', '-q', orig, out])
                    if r.returncode != 0:
                        sys.exit('%s %s: the output differs from the source' % (tname, name))
                    if '-c' in args and subprocess.run([a.qemu_img, 'check', '-q', out]).returncode:
                        sys.exit('%s %s: qemu-img check finds errors' % (tname, name))
        names = [t[0] for t in tools]
        print('| case | ' + ' | '.join('%s wall / CPU (s)' % n for n in names) +
              ' | ratio wall | ratio CPU |')
        print('|---' * (len(names) + 3) + '|')
        for name, _, _ in cases:
            med = {n: (statistics.median(w for w, _ in times[(name, n)]),
                       statistics.median(c for _, c in times[(name, n)])) for n in names}
            k, q = med['kvmpc-img'], med['qemu-img']
            print('| %s | %s | %.2f | %.2f |' % (
                name, ' | '.join('%.2f / %.2f' % med[n] for n in names),
                k[0] / q[0], k[1] / q[1]))
        print('\n(%d runs each after a warm-up run, order rotated every run, medians; '
              '%d MiB source, 3/4 data)' % (a.runs, a.size_mib))
        for name, _, _ in cases:
            print('%s: %s' % (name, '; '.join('%s %s' % (n, ' '.join(
                '%.2f' % w for w, _ in times[(name, n)])) for n in names)))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main()
