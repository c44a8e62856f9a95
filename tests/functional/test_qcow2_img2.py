#!/usr/bin/env python3
"""More of kvmpc-img against Debian's qemu-img 7.2 (qemu-utils) as the
oracle (docs/kvmpc-img.md): create with a backing file (-b/-F and -o
backing_file=/backing_fmt=, the size taken from the backing file, the
refusal of a backing file without its format), amend of compat= and
refcount_bits= (the image stays clean and reads the same), info's human
output line by line, and convert -p's progress lines.

usage: test_qcow2_img2.py KVMPC KVMPC-IMG
"""
import json
import os
import random
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from img_oracle import QEMU_IMG, QEMU_IO, ImgCase, run, slurp  # noqa: E402

IMG = os.path.abspath(sys.argv.pop(2)) if len(sys.argv) > 2 else 'build/tools/kvmpc-img'
if len(sys.argv) > 1:
    sys.argv.pop(1)         # KVMPC: not needed here


class Base(ImgCase):
    tmp_prefix = 'kvmpc-qcow2b-'


@unittest.skipUnless(QEMU_IMG, 'qemu-img (qemu-utils) is the oracle and is not installed')
class CreateBacking(Base):
    """create -b/-F and -o backing_file=,backing_fmt=: same exit code, same
    output and the same image as qemu-img 7.2, in two directories that
    hold the same backing files."""

    CASES = [
        ['-b', 'b.raw', 'x.qcow2'],                                 # no format: refused
        ['-o', 'backing_file=b.qcow2', 'x.qcow2'],
        ['-b', 'b.raw', '-F', 'raw', 'x.qcow2'],                    # size from the backing
        ['-o', 'backing_file=b.qcow2,backing_fmt=qcow2', 'x.qcow2'],
        ['-b', 'b.qcow2', '-F', 'qcow2', '-o', 'cluster_size=4096', 'x.qcow2', '3M'],
        ['-b', 'b.raw', '-F', 'raw', 'x.qcow2', '8M'],              # larger than the backing
        ['-b', 'nonexist', 'x.qcow2'],
        ['-b', 'nonexist', '-F', 'raw', 'x.qcow2', '1M'],           # opened even with a size
        ['-u', '-b', 'nonexist', '-F', 'raw', 'x.qcow2', '1M'],     # -u: not opened
        ['-u', '-b', 'b.raw', 'x.qcow2', '1M'],
        ['-u', '-b', 'b.raw', '-F', 'raw', 'x.qcow2'],              # -u needs a size
        ['-b', 'b.raw', '-F', 'qcow2', 'x.qcow2'],                  # wrong format
        ['-F', 'raw', 'x.qcow2', '1M'],
        ['-b', 'b.raw', '-F', 'raw', '-o', 'backing_file=b.qcow2', 'x.qcow2'],   # -b wins
        ['-o', 'backing_file=b.qcow2,backing_fmt=qcow2', '-b', 'b.raw', 'x.qcow2'],
        ['-b', 'sub/../b.qcow2', '-F', 'qcow2', 'x.qcow2'],
        ['-o', 'compat=0.10', '-b', 'b.raw', '-F', 'raw', 'x.qcow2'],
        ['-o', 'compat=1.1,lazy_refcounts=on,refcount_bits=8', '-b', 'b.qcow2', '-F',
         'qcow2', 'x.qcow2'],
    ]

    def make_dir(self, name):
        d = self.p(name)
        os.makedirs(os.path.join(d, 'sub'))
        with open(os.path.join(d, 'b.raw'), 'wb') as f:
            f.truncate(5 << 20)
        run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', os.path.join(d, 'b.qcow2'), '6M')
        return d

    def test_create_backing_like_qemu_img(self):
        dq, dk = self.make_dir('q'), self.make_dir('k')
        for args in self.CASES:
            with self.subTest(args=args):
                for d in (dq, dk):
                    if os.path.exists(os.path.join(d, 'x.qcow2')):
                        os.unlink(os.path.join(d, 'x.qcow2'))
                pq = run(QEMU_IMG, 'create', '-f', 'qcow2', *args, check=False, cwd=dq)
                pk = run(IMG, 'create', '-f', 'qcow2', *args, check=False, cwd=dk)
                self.assertEqual(pk.returncode, pq.returncode,
                                 pk.stderr.decode() + ' / qemu-img: ' + pq.stderr.decode())
                self.assertEqual(pk.stdout.decode(), pq.stdout.decode())
                # the messages: qemu-img's lines, in order (kvmpc may name the file
                # after one of them)
                eq = pq.stderr.decode().replace('qemu-img:', 'kvmpc-img:').strip().split('\n')
                ek = pk.stderr.decode().strip().split('\n')
                self.assertEqual(len(ek), len(eq), (ek, eq))
                for lk, lq in zip(ek, eq):
                    self.assertTrue(lk.startswith(lq), (lk, lq))
                xq, xk = os.path.join(dq, 'x.qcow2'), os.path.join(dk, 'x.qcow2')
                self.assertEqual(os.path.exists(xk), os.path.exists(xq))
                if pq.returncode or '-u' in args:
                    continue
                ik, iq = self.info(QEMU_IMG, xk), self.info(QEMU_IMG, xq)
                for i in (ik, iq):
                    i.pop('filename')
                    i.pop('full-backing-filename', None)
                self.assertEqual(ik, iq)
                self.qemu_check_clean(xk)
                # the human form names the backing file and its format
                h = run(QEMU_IMG, 'info', xk, cwd=dk).stdout.decode()
                self.assertRegex(h, r'\nbacking file: %s( \(actual path: [^)]*\))?\n' %
                                 re.escape(iq['backing-filename']))
                self.assertIn('backing file format: %s\n' % iq['backing-filename-format'], h)
                self.assertEqual(self.as_raw(xk, 'k.raw'), self.as_raw(xq, 'q.raw'))


@unittest.skipUnless(QEMU_IMG and QEMU_IO, 'qemu-img and qemu-io (qemu-utils) are the oracle '
                     'and are not installed')
class Amend(Base):
    """amend -o compat= and refcount_bits=: the same result as qemu-img
    amend on a copy (exit code, message, info), and afterwards qemu-img
    check and kvmpc-img check are clean and the image reads as before."""

    def make(self, name, create_opts, backing=False, compressed=False, size='4M'):
        """An image with data, zero clusters (allocated and not), partial
        clusters, optionally compressed clusters and a raw backing file."""
        path = self.p(name)
        if compressed:
            src = self.p(name + '.src')
            rnd = random.Random(7)
            with open(src, 'wb') as f:
                f.write(b'\x11' * (1 << 20) + rnd.randbytes(1 << 20) + b'ab' * (1 << 20))
            run(QEMU_IMG, 'convert', '-c', '-O', 'qcow2', '-o', create_opts, src, path)
        elif backing:
            base = self.p(name + '.base')
            run(QEMU_IMG, 'create', '-q', '-f', 'raw', base, size)
            run(QEMU_IO, '-f', 'raw', '-c', 'write -P 0x5a 0 ' + size, base)
            run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-o', create_opts, '-b', base,
                '-F', 'raw', path)
        else:
            run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-o', create_opts, path, size)
        cmds = ['write -P 0x01 0 100k', 'write -P 0x02 150k 3k', 'write -z 1M 1k',
                'write -P 0x03 2M 64k']
        if 'compat=0.10' not in create_opts:
            # v3 zero clusters: unallocated ones, and one over allocated data
            cmds += ['write -z 256k 128k', 'write -z 2M 64k', 'write -z 3M 256k']
        for c in cmds:
            run(QEMU_IO, '-c', c, path)
        return path

    def amend_both(self, src, opts):
        q, k = self.p('q.qcow2'), self.p('k.qcow2')
        shutil.copy(src, q)
        shutil.copy(src, k)
        pq = run(QEMU_IMG, 'amend', '-o', opts, q, check=False)
        pk = run(IMG, 'amend', '-o', opts, k, check=False)
        self.assertEqual(pk.returncode, pq.returncode,
                         'kvmpc-img: %s / qemu-img: %s' % (pk.stderr.decode(),
                                                           pq.stderr.decode()))
        self.assertEqual(pk.stderr.decode().replace('kvmpc-img:', 'qemu-img:'),
                         pq.stderr.decode())
        return pk.returncode, q, k

    def check_same(self, src, q, k):
        self.qemu_check_clean(k)
        p = run(IMG, 'check', k, check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        self.assertEqual(self.as_raw(k, 'k.raw'), self.as_raw(src, 'src.raw'))
        ik, iq = self.info(QEMU_IMG, k), self.info(QEMU_IMG, q)
        ik.pop('filename')
        iq.pop('filename')
        self.assertEqual(ik, iq)

    def test_amend_like_qemu_img(self):
        images = {
            'v3-backing': self.make('v3b.qcow2', 'compat=1.1', backing=True),
            'v3-compressed': self.make('v3c.qcow2', 'compat=1.1,cluster_size=4096',
                                       compressed=True),
            'v3-512': self.make('v3s.qcow2', 'cluster_size=512', size='8M'),
            'v3-lazy': self.make('v3l.qcow2', 'lazy_refcounts=on'),
            'v3-rc8': self.make('v3r.qcow2', 'refcount_bits=8', backing=True),
            'v3-extl2': self.make('v3e.qcow2', 'extended_l2=on'),
            'v3-zstd': self.make('v3z.qcow2', 'compression_type=zstd'),
            'v3-zstd-compressed': self.make('v3zc.qcow2', 'compression_type=zstd',
                                            compressed=True),
            'v2-backing': self.make('v2b.qcow2', 'compat=0.10', backing=True),
            'v2-compressed': self.make('v2c.qcow2', 'compat=0.10,cluster_size=4096',
                                       compressed=True),
        }
        cases = [
            ('v3-backing', 'compat=0.10'), ('v3-compressed', 'compat=0.10'),
            ('v3-512', 'compat=0.10'), ('v3-lazy', 'compat=0.10'),
            ('v3-zstd', 'compat=0.10'),
            ('v2-backing', 'compat=1.1'), ('v2-compressed', 'compat=v3'),
            ('v2-backing', 'compat=1.1,refcount_bits=1'),
            ('v2-backing', 'compat=1.1,refcount_bits=64,lazy_refcounts=on'),
            ('v3-512', 'refcount_bits=1'), ('v3-512', 'refcount_bits=2'),
            ('v3-512', 'refcount_bits=64'), ('v3-backing', 'refcount_bits=8'),
            ('v3-compressed', 'refcount_bits=4'), ('v3-compressed', 'refcount_bits=32'),
            ('v3-rc8', 'compat=0.10,refcount_bits=16'), ('v3-rc8', 'refcount_bits=16'),
            # refusals
            ('v3-extl2', 'compat=0.10'), ('v3-rc8', 'compat=0.10'),
            ('v2-backing', 'refcount_bits=8'), ('v3-backing', 'refcount_bits=3'),
            ('v3-backing', 'refcount_bits=128'), ('v3-backing', 'compat=1.2'),
            ('v3-backing', 'compat=0.10,lazy_refcounts=on'),
            ('v3-zstd-compressed', 'compat=0.10'),
            ('v3-compressed', 'refcount_bits=1'),
            ('v3-backing', 'compat=0.10,refcount_bits=8'),
        ]
        for name, opts in cases:
            with self.subTest(image=name, opts=opts):
                rc, q, k = self.amend_both(images[name], opts)
                if rc == 0:
                    self.check_same(images[name], q, k)
                else:
                    self.assertEqual(slurp(k), slurp(images[name]))
        # one after another on the same image: v3 -> 1 bit -> v2 -> v3, 64 bits
        k = self.p('chain.qcow2')
        shutil.copy(images['v3-512'], k)
        for opts in ['refcount_bits=1', 'refcount_bits=16,compat=0.10',
                     'compat=1.1,refcount_bits=64']:
            run(IMG, 'amend', '-o', opts, k)
            self.qemu_check_clean(k)
        self.assertEqual(self.as_raw(k, 'k.raw'), self.as_raw(images['v3-512'], 's.raw'))
        d = self.info(QEMU_IMG, k)['format-specific']['data']
        self.assertEqual((d['compat'], d['refcount-bits']), ('1.1', 64))


@unittest.skipUnless(QEMU_IMG, 'qemu-img (qemu-utils) is the oracle and is not installed')
class InfoHuman(Base):
    """info's human output (and --backing-chain, human and JSON) is
    qemu-img's, line for line, for the same files."""

    def test_info_human_like_qemu_img(self):
        d = self.tmp
        rnd = random.Random(3)
        with open(self.p('odd.raw'), 'wb') as f:
            f.write(rnd.randbytes(1500000))          # not a multiple of 512
        setup = [
            ['create', '-q', '-f', 'raw', 'r.raw', '64M'],
            ['create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', 'v2.qcow2', '1G'],
            ['create', '-q', '-f', 'qcow2', 'v3.qcow2', '100M'],
            ['convert', '-c', '-O', 'qcow2', 'odd.raw', 'c.qcow2'],
            ['create', '-q', '-f', 'qcow2', '-b', 'r.raw', '-F', 'raw', 'b.qcow2'],
            ['create', '-q', '-f', 'qcow2', '-b', self.p('r.raw'), '-F', 'raw', 'babs.qcow2'],
            ['create', '-q', '-f', 'qcow2', '-b', 'b.qcow2', '-F', 'qcow2', 'top.qcow2', '70M'],
            ['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', 'l.qcow2', '3G'],
            ['create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on,compression_type=zstd,'
             'refcount_bits=64', 'e.qcow2', '1537k'],
            ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=full,cluster_size=4k',
             'p.qcow2', '5M'],
            ['create', '-q', '-f', 'qcow2', '-b', '../r.raw', '-F', 'raw', 'sub/rel.qcow2'],
        ]
        os.mkdir(self.p('sub'))
        for args in setup:
            run(QEMU_IMG, *args, cwd=d)
        images = ['r.raw', 'odd.raw', 'v2.qcow2', 'v3.qcow2', 'c.qcow2', 'b.qcow2',
                  'babs.qcow2', 'top.qcow2', 'l.qcow2', 'e.qcow2', 'p.qcow2', 'sub/rel.qcow2']
        for img in images:
            for opts in [[], ['--backing-chain']]:
                with self.subTest(image=img, opts=opts):
                    q = run(QEMU_IMG, 'info', *opts, img, cwd=d).stdout.decode().split('\n')
                    k = run(IMG, 'info', *opts, img, cwd=d).stdout.decode().split('\n')
                    for n, (lk, lq) in enumerate(zip(k, q)):
                        self.assertEqual(lk, lq, 'line %d' % (n + 1))
                    self.assertEqual(len(k), len(q))
            with self.subTest(image=img, opts='json --backing-chain'):
                q = json.loads(run(QEMU_IMG, 'info', '--output=json', '--backing-chain', img,
                                   cwd=d).stdout)
                k = json.loads(run(IMG, 'info', '--output=json', '--backing-chain', img,
                                   cwd=d).stdout)
                self.assertEqual(k, q)


@unittest.skipUnless(QEMU_IMG, 'qemu-img (qemu-utils) is the oracle and is not installed')
class ConvertProgress(Base):
    """convert -p: "    (xx.xx/100%)" redrawn with \r, from 0.00, rising,
    ending with 100.00 and a line end, as qemu-img prints it."""

    def progress(self, out):
        self.assertTrue(out.endswith(b'\r\n'), out[-40:])
        states = out[:-2].split(b'\r')
        values = []
        for st in states:
            m = re.fullmatch(rb'    \((\d{1,3}\.\d\d)/100%\)', st)
            self.assertIsNotNone(m, st)
            values.append(float(m.group(1)))
        self.assertEqual(values[0], 0.0)
        self.assertEqual(values[-2:], [100.0, 100.0])
        for a, b in zip(values, values[1:-1]):
            self.assertGreaterEqual(b - a, 1.0, values)     # at least 1% per redraw
        return values

    def test_convert_progress(self):
        rnd = random.Random(5)
        src = self.p('src.raw')
        with open(src, 'wb') as f:
            f.write(rnd.randbytes(20 << 20))
        for fmt, extra in [('qcow2', []), ('raw', []), ('qcow2', ['-c'])]:
            with self.subTest(fmt=fmt, extra=extra):
                k, q = self.p('k.' + fmt), self.p('q.' + fmt)
                pk = run(IMG, 'convert', '-p', *extra, '-O', fmt, src, k)
                values = self.progress(pk.stdout)
                self.assertGreater(len(values), 3)      # 0, some steps, 100, 100
                pq = run(QEMU_IMG, 'convert', '-p', *extra, '-O', fmt, src, q)
                if not extra:
                    # 2 MiB steps of 20 MiB: the same characters as qemu-img
                    self.assertEqual(pk.stdout, pq.stdout)
                run(QEMU_IMG, 'compare', k, src)
        # a sparse source: holes are skipped in bigger steps, still rising
        sparse = self.p('sparse.raw')
        with open(sparse, 'wb') as f:
            f.truncate(64 << 20)
            f.seek(40 << 20)
            f.write(rnd.randbytes(3 << 20))
        self.progress(run(IMG, 'convert', '-p', '-O', 'qcow2', sparse, self.p('s.qcow2')).stdout)
        # without -p nothing is printed
        self.assertEqual(run(IMG, 'convert', '-O', 'raw', src, self.p('n.raw')).stdout, b'')


if __name__ == '__main__':
    unittest.main()
