#!/usr/bin/env python3
"""kvmpc-img's output is byte for byte qemu-img's (Debian's qemu-utils
7.2, the oracle), for the commands whose output scripts parse: info, check
and measure with --output=json (QEMU's JSON layout: "key": value, four
spaces, \\uXXXX for everything outside printable ASCII), map in both
forms (raw files report their holes, through a backing chain too; the
human form names each extent's file), measure's human lines (the bitmaps
line only for a qcow2 source into qcow2).  Images and names are made to
hit each of those: a raw file with data, a hole and an allocated byte
further on, a qcow2 overlay of it with one written cluster, a name with
a space, an accent and a character above U+FFFF.

usage: test_img_output.py KVMPC KVMPC-IMG
"""
import os
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


def run(*args, cwd=None):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       cwd=cwd)
    return p.returncode, p.stdout


@unittest.skipUnless(QEMU_IMG and QEMU_IO, 'qemu-img/qemu-io (qemu-utils) are not installed: '
                     'they are the oracle')
class ImgOutput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # a real file system for SEEK_HOLE (tmpfs has it too)
        cls.tmp = tempfile.mkdtemp(prefix='kvmpc-img-out-')
        d = cls.tmp
        raw = os.path.join(d, 'base é \U0001F600.raw')
        with open(raw, 'wb') as f:
            f.write(os.urandom(300000))
            f.truncate(2 << 20)
            f.seek(1500000)
            f.write(b'x')
        subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-b', raw, '-F', 'raw',
                        'top.qcow2'], cwd=d, check=True)
        subprocess.run([QEMU_IO, '-c', 'write -P 7 1M 64k', 'top.qcow2'], cwd=d, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-o',
                        'cluster_size=4096,lazy_refcounts=on', 'plain.qcow2', '64M'], cwd=d,
                       check=True)
        cls.raw = os.path.basename(raw)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def same(self, *args):
        q = run(QEMU_IMG, *args, cwd=self.tmp)
        k = run(IMG, *args, cwd=self.tmp)
        self.assertEqual(q[0], k[0], 'exit status of %s' % ' '.join(args))
        self.assertEqual(k[1].decode(errors='replace'), q[1].decode(errors='replace'),
                         'output of %s' % ' '.join(args))
        return q[1]

    def test_info_json(self):
        for f in ('plain.qcow2', 'top.qcow2', self.raw):
            out = self.same('info', '--output=json', f)
            self.assertIn(b'": ', out)
        out = self.same('info', '--output=json', '--backing-chain', 'top.qcow2')
        self.assertIn(b'\\u00E9 \\uD83D\\uDE00', out)     # the name, escaped as QEMU does

    def test_check_json(self):
        self.same('check', '--output=json', 'top.qcow2')
        self.same('check', '--output=json', 'plain.qcow2')

    def test_map(self):
        for f in ('top.qcow2', self.raw):
            out = self.same('map', '--output=json', f)
            self.assertIn(b'"data": false', out)             # the raw file's hole
            self.same('map', f)
        self.assertIn(b'top.qcow2', self.same('map', 'top.qcow2'))

    def test_measure(self):
        for args in (['-O', 'qcow2', '--size', '1G'], ['-O', 'raw', '--size', '1M'],
                     ['-O', 'qcow2', 'top.qcow2'], ['-O', 'raw', 'top.qcow2'],
                     ['-O', 'qcow2', '-f', 'raw', self.raw],
                     ['-O', 'qcow2', '-o', 'cluster_size=4096', 'top.qcow2']):
            self.same('measure', *args)
            self.same('measure', '--output=json', *args)
        self.assertIn(b'bitmaps size: 0', self.same('measure', '-O', 'qcow2', 'top.qcow2'))


if __name__ == '__main__':
    unittest.main(verbosity=2)
