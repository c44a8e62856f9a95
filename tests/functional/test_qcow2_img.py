#!/usr/bin/env python3
"""kvmpc-img and the qcow2 driver against Debian's qemu-img (qemu-utils) as
the oracle (docs/qcow2.md, docs/kvmpc-img.md): images written by one tool
are checked clean and read identically by the other, for cluster sizes
512/64k/2M, refcount widths 1/16/64, zlib and zstd compression, compat
0.10 and 1.1 and backing chains; info --output=json agrees field by field;
kill -9 in the middle of a write leaves at worst leaked clusters.

usage: test_qcow2_img.py KVMPC-IMG
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from img_oracle import QEMU_IMG, QEMU_IO, ImgCase, run, slurp  # noqa: E402

IMG = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else 'build/tools/kvmpc-img'

CONFIGS = [
    # (qcow2 create options, compressed-convert too)
    ('cluster_size=512,refcount_bits=1', True),
    ('cluster_size=65536,refcount_bits=16,compression_type=zstd', True),
    ('cluster_size=2097152,refcount_bits=64', True),
    ('compat=0.10,cluster_size=65536', True),
    ('cluster_size=4096,refcount_bits=64,compression_type=zstd,lazy_refcounts=on', True),
    ('cluster_size=65536,refcount_bits=2', False),
]


def make_pattern(path, size, seed):
    """Data at odd offsets and lengths, zero stretches, a partly zero cluster."""
    rnd = random.Random(seed)
    with open(path, 'wb') as f:
        f.truncate(size)
        for _ in range(40):
            off = rnd.randrange(0, size - 70000)
            n = rnd.randrange(1, 70000)
            f.seek(off)
            if rnd.random() < 0.5:
                f.write(bytes([rnd.randrange(256)]) * n)       # compressible
            else:
                f.write(rnd.randbytes(n))


@unittest.skipUnless(QEMU_IMG, 'qemu-img (qemu-utils) is not installed')
class Qcow2Interop(ImgCase):
    def setUp(self):
        super().setUp()
        self.raw = self.p('src.raw')
        make_pattern(self.raw, 8 << 20, 1)

    def kvmpc_check_clean(self, path):
        p = run(IMG, 'check', path, check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        self.assertIn('No errors were found on the image.', p.stdout.decode())

    def test_kvmpc_written_qemu_reads(self):
        for opts, comp in CONFIGS:
            with self.subTest(opts=opts):
                for c in ([False, True] if comp else [False]):
                    out = self.p('k.qcow2')
                    run(IMG, 'convert', '-O', 'qcow2', '-o', opts, *(['-c'] if c else []),
                        self.raw, out)
                    self.qemu_check_clean(out)
                    run(QEMU_IMG, 'compare', '-f', 'raw', '-F', 'qcow2', self.raw, out)
                    back = self.p('back.raw')
                    run(QEMU_IMG, 'convert', '-O', 'raw', out, back)
                    run('cmp', self.raw, back)
                    self.assertEqual(self.info(IMG, out), self.info(QEMU_IMG, out))
                    if c:
                        m = json.loads(run(QEMU_IMG, 'check', '--output=json', out).stdout)
                        self.assertGreater(m.get('compressed-clusters', 0), 0, opts)

    def test_convert_compressed_parallel(self):
        """convert -c compresses on worker threads (-m N of them, 4 by
        default) and writes in guest order: over several 8 MiB pieces and a
        partial last cluster the image is clean for qemu-img check, reads
        back as the source, and is the same file whatever the number of
        threads (the layout and refcounts one thread makes)."""
        src = self.p('big.raw')
        size = (24 << 20) + 3 * 4096 + 512
        rnd = random.Random(7)
        with open(src, 'wb') as f:
            f.truncate(size)
            for mib in range(0, 24, 2):         # data across the piece boundaries
                f.seek((mib << 20) + rnd.randrange(0, 4096) * 16)
                f.write(bytes(rnd.choice(b'abc \n') for _ in range(4096)) * 200)
                f.write(rnd.randbytes(300000))
            f.seek(size - 5000)
            f.write(b'tail' * 1250)
        for opts in ('cluster_size=65536', 'cluster_size=4096,compression_type=zstd',
                     'cluster_size=2097152'):
            with self.subTest(opts=opts):
                outs = []
                for m in ([], ['-m', '1'], ['-m', '16']):
                    out = self.p('c%d.qcow2' % len(outs))
                    run(IMG, 'convert', '-c', '-O', 'qcow2', '-o', opts, *m, src, out)
                    self.qemu_check_clean(out)
                    self.kvmpc_check_clean(out)
                    run(QEMU_IMG, 'compare', '-f', 'raw', '-F', 'qcow2', src, out)
                    c = json.loads(run(QEMU_IMG, 'check', '--output=json', out).stdout)
                    self.assertGreater(c.get('compressed-clusters', 0), 0, opts)
                    outs.append(slurp(out))
                self.assertEqual(outs[0], outs[1], opts + ': 4 threads vs 1')
                self.assertEqual(outs[1], outs[2], opts + ': 16 threads vs 1')
        p = run(IMG, 'convert', '-c', '-m', '0', '-O', 'qcow2', src, self.p('x.qcow2'),
                check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('Invalid number of coroutines', p.stderr.decode())

    def test_qemu_written_kvmpc_reads(self):
        for opts, comp in CONFIGS:
            with self.subTest(opts=opts):
                for c in ([False, True] if comp else [False]):
                    out = self.p('q.qcow2')
                    run(QEMU_IMG, 'convert', '-O', 'qcow2', '-o', opts, *(['-c'] if c else []),
                        self.raw, out)
                    self.kvmpc_check_clean(out)
                    p = run(IMG, 'compare', self.raw, out, check=False)
                    self.assertEqual(p.returncode, 0, p.stdout)
                    back = self.p('back.raw')
                    run(IMG, 'convert', '-O', 'raw', out, back)
                    run('cmp', self.raw, back)
                    self.assertEqual(self.info(IMG, out), self.info(QEMU_IMG, out))
                    # and the map agrees on what is data
                    km = json.loads(run(IMG, 'map', '--output=json', out).stdout)
                    qm = json.loads(run(QEMU_IMG, 'map', '--output=json', out).stdout)
                    self.assertEqual(sum(e['length'] for e in km if e['data']),
                                     sum(e['length'] for e in qm if e['data']), opts)

    def test_convert_sparse(self):
        """Holes in the source (SEEK_DATA) and clusters of written zeroes
        are neither written nor allocated, as qemu-img convert does: the
        qcow2 output has exactly the clusters with data (same as qemu-img's
        output) and the raw output is as sparse."""
        src = self.p('sparse.raw')
        with open(src, 'wb') as f:
            f.truncate(16 << 20)
            f.seek(1 << 20)
            f.write(random.Random(5).randbytes(2 << 20))        # 2 MiB of data
            f.seek(5 << 20)
            f.write(bytes(2 << 20))                             # written zeroes
            f.seek((10 << 20) + 4096)
            f.write(b'\x5a' * 5000)                             # part of one cluster
        for tool, name in ((IMG, 'k'), (QEMU_IMG, 'q')):
            out = self.p('sparse-%s.qcow2' % name)
            run(tool, 'convert', '-O', 'qcow2', src, out)
            self.qemu_check_clean(out)
            run(QEMU_IMG, 'compare', '-f', 'raw', '-F', 'qcow2', src, out)
            m = json.loads(run(QEMU_IMG, 'map', '--output=json', out).stdout)
            data = sorted((e['start'], e['length']) for e in m if e['data'])
            self.assertEqual(data, [(1 << 20, 2 << 20), (10 << 20, 65536)], tool)
        back = self.p('sparse-back.raw')
        run(IMG, 'convert', '-O', 'raw', self.p('sparse-k.qcow2'), back)
        run('cmp', src, back)
        self.assertLessEqual(os.stat(back).st_blocks * 512, (2 << 20) + 65536)

    def test_compare_differs(self):
        out = self.p('k.qcow2')
        run(IMG, 'convert', '-O', 'qcow2', self.raw, out)
        other = self.p('other.raw')
        shutil.copy(self.raw, other)
        with open(other, 'r+b') as f:
            f.seek(3 << 20)
            f.write(b'\x01')
        p = run(IMG, 'compare', other, out, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('Content mismatch at offset %d!' % (3 << 20), p.stdout.decode())

    @unittest.skipUnless(QEMU_IO, 'qemu-io is not installed')
    def test_backing_chain(self):
        # raw base <- mid.qcow2 (qemu-img) <- top.qcow2 (kvmpc-img)
        base = self.raw
        mid, top = self.p('mid.qcow2'), self.p('top.qcow2')
        run(QEMU_IMG, 'create', '-f', 'qcow2', '-b', base, '-F', 'raw', mid)
        run(QEMU_IO, '-c', 'write -P 0x33 100000 200000', mid)
        out = run(IMG, 'create', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', 'mid.qcow2',
                  '-F', 'qcow2', top).stdout.decode()
        # the size, taken from the backing file, is the one announced
        self.assertIn(' size=%d backing_file=mid.qcow2 ' % (8 << 20), out)
        i = self.info(IMG, top)
        self.assertEqual(i, self.info(QEMU_IMG, top))
        self.assertEqual(i['backing-filename'], 'mid.qcow2')
        self.assertEqual(i['full-backing-filename'], mid)
        self.assertEqual(i['virtual-size'], 8 << 20)
        # partial-cluster writes into top through qemu-io: COW keeps the rest
        run(QEMU_IO, '-c', 'write -P 0x44 150001 3000', '-c', 'write -z 1048576 65536', top)
        self.qemu_check_clean(top)
        self.kvmpc_check_clean(top)
        a, b = self.p('a.raw'), self.p('b.raw')
        run(IMG, 'convert', '-O', 'raw', top, a)
        run(QEMU_IMG, 'convert', '-O', 'raw', top, b)
        run('cmp', a, b)
        run(IMG, 'compare', top, b)
        # commit top into mid; mid then reads as top did, base is untouched
        before = slurp(base)
        run(IMG, 'commit', top)
        self.qemu_check_clean(mid)
        self.qemu_check_clean(top)
        run(QEMU_IMG, 'compare', mid, b)
        self.assertEqual(slurp(base), before)

    @unittest.skipUnless(QEMU_IO, 'qemu-io is not installed')
    def test_rebase(self):
        base, mid, top = self.raw, self.p('mid.qcow2'), self.p('top.qcow2')
        run(QEMU_IMG, 'create', '-f', 'qcow2', '-b', base, '-F', 'raw', mid)
        run(QEMU_IO, '-c', 'write -P 0x21 70000 300000', mid)
        run(IMG, 'create', '-q', '-f', 'qcow2', '-b', mid, '-F', 'qcow2', top)
        run(QEMU_IO, '-c', 'write -P 0x22 200000 1000', top)
        flat = self.p('flat.raw')
        run(QEMU_IMG, 'convert', '-O', 'raw', top, flat)
        # safe rebase onto the raw base: mid's data moves into top
        run(IMG, 'rebase', '-b', base, '-F', 'raw', top)
        self.qemu_check_clean(top)
        i = self.info(QEMU_IMG, top)
        self.assertEqual(i['backing-filename'], base)
        self.assertEqual(i['backing-filename-format'], 'raw')
        self.assertEqual(self.info(IMG, top), i)
        run(QEMU_IMG, 'compare', top, flat)
        # unsafe: only the name changes; removing the backing file
        run(IMG, 'rebase', '-u', '-b', 'nosuch.img', '-F', 'raw', top)
        self.assertEqual(self.info(QEMU_IMG, top)['backing-filename'], 'nosuch.img')
        run(IMG, 'rebase', '-u', '-b', '', top)
        self.assertNotIn('backing-filename', self.info(QEMU_IMG, top))
        self.qemu_check_clean(top)

    def test_measure(self):
        q = self.p('m.qcow2')
        run(QEMU_IMG, 'convert', '-O', 'qcow2', self.raw, q)
        cases = [['--size', '1G'], ['--size', '100M'],
                 ['-o', 'cluster_size=512,refcount_bits=64', '--size', '100M'],
                 ['-o', 'cluster_size=2M,refcount_bits=1', '--size', '10G'],
                 ['-o', 'extended_l2=on', '--size', '5G'], [q],
                 ['-o', 'cluster_size=4096', q]]
        for args in cases:
            with self.subTest(args=args):
                mine = run(IMG, 'measure', '-O', 'qcow2', *args).stdout.decode()
                theirs = run(QEMU_IMG, 'measure', '-O', 'qcow2', *args).stdout.decode()
                self.assertEqual(mine, theirs)
        self.assertEqual(run(IMG, 'measure', '-O', 'raw', '--size', '3M').stdout,
                         run(QEMU_IMG, 'measure', '-O', 'raw', '--size', '3M').stdout)

    def test_amend(self):
        q = self.p('a.qcow2')
        run(IMG, 'create', '-q', '-f', 'qcow2', q, '1M')
        run(IMG, 'amend', '-o', 'lazy_refcounts=on', q)
        d = self.info(QEMU_IMG, q)['format-specific']['data']
        self.assertTrue(d['lazy-refcounts'])
        self.qemu_check_clean(q)
        run(IMG, 'amend', '-o', 'lazy_refcounts=off', q)
        self.assertFalse(self.info(QEMU_IMG, q)['format-specific']['data']['lazy-refcounts'])
        # compat= and refcount_bits=: test_qcow2_img2.py (Amend)
        run(IMG, 'amend', '-o', 'refcount_bits=64', q)
        self.assertEqual(self.info(QEMU_IMG, q)['format-specific']['data']['refcount-bits'], 64)
        self.qemu_check_clean(q)
        v2 = self.p('v2.qcow2')
        run(IMG, 'create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', v2, '1M')
        p = run(IMG, 'amend', '-o', 'lazy_refcounts=on', v2, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('compatibility level 1.1', p.stderr.decode())

    def test_create_options(self):
        for opts in ['preallocation=metadata', 'preallocation=falloc', 'preallocation=full',
                     'extended_l2=on,cluster_size=65536', 'lazy_refcounts=on']:
            with self.subTest(opts=opts):
                out = self.p('c.qcow2')
                run(IMG, 'create', '-q', '-f', 'qcow2', '-o', opts, out, '3M')
                self.qemu_check_clean(out)
                self.assertEqual(self.info(IMG, out), self.info(QEMU_IMG, out))
                run(QEMU_IMG, 'compare', out, self.p('z.raw') if os.path.exists(
                    self.p('z.raw')) else (run(IMG, 'create', '-q', '-f', 'raw',
                                               self.p('z.raw'), '3M') and self.p('z.raw')))

    def test_check_leaks_and_repair(self):
        out = self.p('k.qcow2')
        run(IMG, 'convert', '-O', 'qcow2', self.raw, out)
        # a leaked cluster: bump the refcount of a data cluster's neighbour
        # past the end by appending a cluster and giving it a refcount
        run(QEMU_IMG, 'check', out)
        size = os.path.getsize(out)
        with open(out, 'r+b') as f:
            f.seek(48)
            rt = int.from_bytes(f.read(8), 'big')
            f.seek(rt)
            rb = int.from_bytes(f.read(8), 'big')
            leak = size // 65536
            f.seek(rb + 2 * leak)
            f.write((1).to_bytes(2, 'big'))
            f.seek(size)
            f.write(bytes(65536))
        p = run(IMG, 'check', out, check=False)
        self.assertEqual(p.returncode, 3, p.stdout)
        self.assertIn('1 leaked clusters were found on the image.', p.stdout.decode())
        self.assertEqual(run(QEMU_IMG, 'check', out, check=False).returncode, 3)
        p = run(IMG, 'check', '-r', 'leaks', out, check=False)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.qemu_check_clean(out)
        # a corruption: drop the refcount of an L2 table's cluster to 0
        with open(out, 'r+b') as f:
            f.seek(40)
            l1 = int.from_bytes(f.read(8), 'big')
            f.seek(l1)
            l2 = int.from_bytes(f.read(8), 'big') & 0x00fffffffffffe00
            f.seek(rb + 2 * (l2 // 65536))
            f.write((0).to_bytes(2, 'big'))
        p = run(IMG, 'check', '--output=json', out, check=False)
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertEqual(json.loads(p.stdout)['corruptions'], 1)
        self.assertEqual(run(QEMU_IMG, 'check', out, check=False).returncode, 2)
        p = run(IMG, 'check', '-r', 'all', out, check=False)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.qemu_check_clean(out)
        run(QEMU_IMG, 'compare', self.raw, out)

    def test_resize(self):
        out = self.p('k.qcow2')
        run(IMG, 'convert', '-O', 'qcow2', '-o', 'cluster_size=512', self.raw, out)
        run(IMG, 'resize', out, '+1G')
        self.qemu_check_clean(out)
        self.assertEqual(self.info(QEMU_IMG, out)['virtual-size'], (8 << 20) + (1 << 30))
        p = run(IMG, 'resize', out, '4M', check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('--shrink', p.stderr.decode())
        run(IMG, 'resize', '--shrink', out, '4M')
        self.qemu_check_clean(out)
        a = self.p('a.raw')
        run(QEMU_IMG, 'convert', '-O', 'raw', out, a)
        self.assertEqual(slurp(a), slurp(self.raw)[:4 << 20])

    def test_kill_mid_write(self):
        # kill -9 of kvmpc-img convert (a 64 MiB random source through
        # 512-byte clusters: many allocations, refcount table growth) while
        # it is still writing: qemu-img check may report leaked clusters
        # (exit 3) but never corruption (exit 2), kvmpc-img check says the
        # same, and repairs the leaks.  Guest writes under kill -9 are
        # test_qcow2_crash.py's.
        src = self.p('big.raw')
        with open(src, 'wb') as f:
            f.write(random.Random(7).randbytes(64 << 20))
        rnd = random.Random(3)

        def convert(out, bits):
            return subprocess.Popen([IMG, 'convert', '-O', 'qcow2', '-o',
                                     'cluster_size=512,refcount_bits=%d' % bits, src, out],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # how long a whole convert takes here: the kills land well before
        t0 = time.monotonic()
        self.assertEqual(convert(self.p('full.qcow2'), 16).wait(), 0)
        whole = time.monotonic() - t0
        full_size = os.path.getsize(self.p('full.qcow2'))
        leaks = missed = 0
        for i in range(12):
            out = self.p('kill.qcow2')
            proc = convert(out, rnd.choice([1, 16, 64]))
            time.sleep(whole * rnd.uniform(0.05, 0.4))
            if proc.poll() is not None:
                # a loaded machine's timing: this one finished first
                self.assertEqual(proc.returncode, 0)
                missed += 1
                continue
            proc.send_signal(signal.SIGKILL)
            self.assertEqual(proc.wait(), -signal.SIGKILL)
            self.assertLess(os.path.getsize(out), full_size)    # cut short
            p = run(QEMU_IMG, 'check', out, check=False)
            self.assertIn(p.returncode, (0, 3), p.stdout.decode() + p.stderr.decode())
            leaks += p.returncode == 3
            k = run(IMG, 'check', out, check=False)
            self.assertEqual(k.returncode, p.returncode, k.stdout.decode() + k.stderr.decode())
            p = run(IMG, 'check', '-r', 'leaks', out, check=False)
            self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
            self.qemu_check_clean(out)
        print('%d kills mid-convert, %d left leaked clusters' % (12 - missed, leaks))
        self.assertLessEqual(missed, 4, 'most converts ended before their kill')

if __name__ == '__main__':
    unittest.main()
