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
import subprocess
import sys
import tempfile
import unittest

IMG = os.path.abspath(sys.argv.pop(2)) if len(sys.argv) > 2 else 'build/tools/kvmpc-img'
if len(sys.argv) > 1:
    sys.argv.pop(1)         # KVMPC: not needed here
QEMU_IMG = shutil.which('qemu-img')
QEMU_IO = shutil.which('qemu-io')


def run(*args, check=True, cwd=None):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                       cwd=cwd)
    if check and p.returncode != 0:
        raise AssertionError('%s failed (%d): %s %s' % (' '.join(args), p.returncode,
                                                         p.stdout.decode(), p.stderr.decode()))
    return p


def slurp(path):
    with open(path, 'rb') as f:
        return f.read()


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='kvmpc-qcow2b-',
                                    dir='/dev/shm' if os.path.isdir('/dev/shm') else None)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def p(self, name):
        return os.path.join(self.tmp, name)

    def qemu_check_clean(self, path):
        p = run(QEMU_IMG, 'check', path, check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        self.assertIn('No errors were found on the image.', p.stdout.decode())

    def info(self, tool, path):
        d = json.loads(run(tool, 'info', '--output=json', path).stdout)
        d.pop('actual-size', None)
        return d

    def as_raw(self, path, name):
        out = self.p(name)
        run(QEMU_IMG, 'convert', '-O', 'raw', path, out)
        return slurp(out)


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


if __name__ == '__main__':
    unittest.main()
