#!/usr/bin/env python3
"""kvmpc-img convert against Debian's qemu-img convert on a 1 GiB image,
runs interleaved, medians of wall time (issue 13's goal: <= 1.0x).

  python3 bench/img_bench.py [--runs 5] [--size-mib 1024] [--img build/tools/kvmpc-img]
                             [--dir /var/tmp]

The source is a raw image of SIZE with 3/4 of it random data in 1 MiB
runs and 1/4 holes (a used disk), made once and read once so that every
run finds it in the page cache. Cases, each tool writing its own fresh
output file, which is removed after the run:

  raw->qcow2     convert -O qcow2 SRC OUT
  qcow2->raw     convert -O raw OUT.qcow2 OUT (the qcow2 made by qemu-img)
  raw->qcow2 -c  convert -c -O qcow2 (zlib; on 1/8 of the size, compression
                 is slow in both tools)

Each output is checked: `qemu-img compare` against the source must say
identical, so a fast wrong result cannot win. Prints a table and a
Markdown block for docs/benchmarks.md.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_source(path, size_mib, seed=1):
    rnd = random.Random(seed)
    with open(path, 'wb') as f:
        f.truncate(size_mib << 20)
        for mib in range(size_mib):
            if rnd.random() < 0.75:
                f.seek(mib << 20)
                f.write(os.urandom(1 << 20))
    with open(path, 'rb') as f:                 # into the page cache
        while f.read(16 << 20):
            pass


def timed(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--size-mib', type=int, default=1024)
    ap.add_argument('--img', default=os.path.join(TOP, 'build', 'tools', 'kvmpc-img'))
    ap.add_argument('--qemu-img', default='qemu-img')
    ap.add_argument('--dir', default=os.environ.get('TMPDIR', '/var/tmp'))
    a = ap.parse_args()
    if not shutil.which(a.qemu_img):
        sys.exit('qemu-img is not installed (Debian qemu-utils)')
    d = tempfile.mkdtemp(prefix='kvmpc-img-bench.', dir=a.dir)
    try:
        src = os.path.join(d, 'src.raw')
        small = os.path.join(d, 'small.raw')
        ref = os.path.join(d, 'ref.qcow2')
        out = os.path.join(d, 'out')
        make_source(src, a.size_mib)
        make_source(small, max(a.size_mib // 8, 1), seed=2)
        subprocess.run([a.qemu_img, 'convert', '-O', 'qcow2', src, ref], check=True)
        cases = [
            ('raw->qcow2', ['convert', '-O', 'qcow2', src, out], src),
            ('qcow2->raw', ['convert', '-O', 'raw', ref, out], src),
            ('raw->qcow2 -c (1/8 size)', ['convert', '-c', '-O', 'qcow2', small, out], small),
        ]
        tools = [('kvmpc-img', a.img), ('qemu-img', a.qemu_img)]
        times = {(c[0], t[0]): [] for c in cases for t in tools}
        for run in range(a.runs):
            for name, args, orig in cases:
                order = tools if run % 2 == 0 else tools[::-1]
                for tname, tool in order:
                    if os.path.exists(out):
                        os.unlink(out)
                    subprocess.run(['sync'])
                    times[(name, tname)].append(timed([tool] + args))
                    r = subprocess.run([a.qemu_img, 'compare', '-q', orig, out])
                    if r.returncode != 0:
                        sys.exit('%s %s: the output differs from the source' % (tname, name))
        print('| case | kvmpc-img (s) | qemu-img (s) | ratio |')
        print('|---|---|---|---|')
        for name, _, _ in cases:
            k = statistics.median(times[(name, 'kvmpc-img')])
            q = statistics.median(times[(name, 'qemu-img')])
            print('| %s | %.2f | %.2f | %.2f |' % (name, k, q, k / q))
        print('\n(%d runs each, interleaved, medians; %d MiB source, 3/4 data)' %
              (a.runs, a.size_mib))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main()
