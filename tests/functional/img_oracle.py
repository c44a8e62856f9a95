"""What test_qcow2_img.py and test_qcow2_img2.py share: Debian's qemu-img
and qemu-io (qemu-utils) as the oracle (None where not installed), run()
of a tool, and ImgCase, a test case with a scratch directory and the
checks both make.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

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


class ImgCase(unittest.TestCase):
    tmp_prefix = 'kvmpc-qcow2-'

    def setUp(self):
        # tmpfs where there is one: the tools flush after every allocation
        self.tmp = tempfile.mkdtemp(prefix=self.tmp_prefix,
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
        """tool info --output=json, without actual-size."""
        d = json.loads(run(tool, 'info', '--output=json', path).stdout)
        d.pop('actual-size', None)
        return d

    def as_raw(self, path, name):
        """The content of image path (qemu-img convert to raw file name)."""
        out = self.p(name)
        run(QEMU_IMG, 'convert', '-O', 'raw', path, out)
        return slurp(out)
