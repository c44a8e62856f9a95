#!/usr/bin/env python3
"""The block command line and query-block against the kvmpc binary.

usage: test_block.py [KVMPC]        (or KVMPC=path in the environment)

-drive/-hda/-cdrom/-fda/-blockdev/-snapshot errors exit 1 with a message
naming the option and the image; a second kvmpc cannot open an image
another one writes (QEMU's lock message); query-block and HMP info block
describe the drives.  Runs under -accel qtest: no guest is needed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient  # noqa: E402

KVMPC = None
BASE = ['-accel', 'qtest', '-display', 'none', '-nodefaults']


def find_kvmpc():
    if len(sys.argv) > 1 and not sys.argv[1].startswith('-'):
        return os.path.abspath(sys.argv.pop(1))
    if os.environ.get('KVMPC'):
        return os.environ['KVMPC']
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, '..', '..', 'build', 'kvmpc')


class VM:
    def __init__(self, tmp, *extra, env=None):
        self.sock = os.path.join(tmp, 'qmp-%d-%f.sock' % (os.getpid(), time.time()))
        args = [KVMPC] + BASE + ['-qmp', 'unix:%s,server=on,wait=off' % self.sock]
        self.proc = subprocess.Popen(args + list(extra), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        for _ in range(100):
            if os.path.exists(self.sock) or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.proc.poll() is not None:
            raise AssertionError('kvmpc exited: %s' % self.proc.stderr.read().decode())
        self.qmp = QMPClient.unix(self.sock)
        self.qmp.negotiate()

    def quit(self):
        self.qmp.cmd('quit')
        out, err = self.proc.communicate(timeout=10)
        self.qmp.close()
        return err.decode()


class BlockTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='kvmpc-block-')
        self.img = os.path.join(self.tmp, 'disk.img')
        with open(self.img, 'wb') as f:
            f.write(os.urandom(1 << 20))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_fail(self, *args, env=None):
        p = subprocess.run([KVMPC] + BASE + list(args), capture_output=True, timeout=30,
                           env=env)
        self.assertEqual(p.returncode, 1, p.stderr)
        return p.stderr.decode()

    def test_errors(self):
        missing = os.path.join(self.tmp, 'nosuch.img')
        cases = [
            (['-drive', 'file=%s,format=raw,if=none' % missing],
             ["-drive file=%s" % missing, "Could not open '%s'" % missing,
              'No such file or directory']),
            (['-drive', 'file=%s,format=qcow2,if=none' % self.img],
             ['-drive', "Image is not in qcow2 format ('%s')" % self.img]),
            (['-drive', 'file=%s,format=raw,if=none,size=2M' % self.img],
             ['-drive', 'actual size of the containing file (1048576)', self.img]),
            (['-drive', 'file=%s,format=raw,if=none,aio=native' % self.img],
             ['aio=native was specified, but it requires cache.direct=on']),
            (['-drive', 'file=%s,format=raw,if=none,cache=fast' % self.img],
             ["invalid cache option 'fast'"]),
            (['-drive', 'file=%s,format=raw,if=none,bogus=1' % self.img], ['bogus']),
            # the PIIX3 IDE has two buses: index 4 is bus 2
            (['-drive', 'file=%s,format=raw,if=ide,index=4' % self.img],
             ['machine type does not support if=ide,bus=2,unit=0']),
            # the floppy controller has two drives (-fda, -fdb)
            (['-drive', 'file=%s,format=raw,if=floppy,index=2' % self.img],
             ['machine type does not support if=floppy,bus=0,unit=2']),
            # if=virtio drives get a virtio-blk-pci each (docs/virtio.md)
            (['-device', 'virtio-blk-pci'], ['virtio-blk-pci: drive property not set']),
            (['-blockdev', 'driver=file,filename=%s' % self.img], ['-blockdev',
                                                                  'node-name']),
            (['-blockdev', 'driver=qcow2,node-name=q'], ["Parameter 'file' is missing"]),
            (['-blockdev', '{"driver": "raw", "node-name": "r", "file": "nosuch"}'],
             ['nosuch']),
            (['-drive'], ['-drive: requires an argument']),
            (['-hda', self.img, self.img], ['drive with bus=0, unit=0 (index=0) exists']),
            (['-drive', 'file=%s,format=raw,if=none' % self.tmp],
             ["Could not open '%s'" % self.tmp]),
        ]
        for args, needles in cases:
            err = self.run_fail(*args)
            for n in needles:
                self.assertIn(n, err, args)
        # A qcow2 image without format=: probed as qcow2, and its bad header named.
        q = os.path.join(self.tmp, 'x.qcow2')
        with open(q, 'wb') as f:
            f.write(b'QFI\xfb' + bytes(508))
        err = self.run_fail('-drive', 'file=%s,if=none' % q)
        self.assertIn("Unsupported qcow2 version 0 in '%s'" % q, err)

    def test_locking(self):
        vm = VM(self.tmp, '-drive', 'file=%s,format=raw,if=none,id=d0' % self.img)
        try:
            err = self.run_fail('-drive', 'file=%s,format=raw,if=none' % self.img)
            self.assertIn('Failed to get "write" lock', err)
            self.assertIn('Is another process using the image [%s]?' % self.img, err)
            err = self.run_fail('-drive', 'file=%s,format=raw,if=none,readonly=on' % self.img)
            self.assertIn('Failed to get shared "write" lock', err)
            err = self.run_fail('-blockdev', 'driver=file,node-name=f,filename=%s' % self.img)
            self.assertIn('Failed to get "write" lock', err)
            # file.locking=off: opened all the same
            vm2 = VM(self.tmp, '-drive',
                     'file=%s,format=raw,if=none,file.locking=off' % self.img)
            vm2.quit()
        finally:
            vm.quit()
        # the lock went with the process
        vm = VM(self.tmp, '-drive', 'file=%s,format=raw,if=none' % self.img)
        vm.quit()

    def test_query_block(self):
        env = dict(os.environ, KVMPC_ALLOW_ORPHAN_DRIVES='1')
        img2 = os.path.join(self.tmp, 'ro.img')
        shutil.copy(self.img, img2)
        vm = VM(self.tmp,
                '-drive', 'file=%s,format=raw,if=none,id=d0,cache=none' % self.img,
                '-drive', 'if=none,id=cd,media=cdrom',
                '-drive', 'file=%s,format=raw,if=ide,readonly=on,cache=unsafe' % img2,
                env=env)
        try:
            blocks = {b['device']: b for b in vm.qmp.cmd('query-block')}
            self.assertEqual(sorted(blocks), ['cd', 'd0', 'ide0-hd0'])
            d0 = blocks['d0']
            self.assertFalse(d0['removable'])
            self.assertFalse(d0['locked'])
            self.assertNotIn('qdev', d0)
            ins = d0['inserted']
            self.assertEqual(ins['file'], self.img)
            self.assertEqual(ins['drv'], 'raw')
            self.assertFalse(ins['ro'])
            self.assertEqual(ins['backing_file_depth'], 0)
            self.assertFalse(ins['encrypted'])
            self.assertEqual(ins['cache'], {'writeback': True, 'direct': True,
                                            'no-flush': False})
            self.assertEqual(ins['image']['virtual-size'], 1 << 20)
            self.assertEqual(ins['image']['format'], 'raw')
            self.assertEqual(ins['image']['filename'], self.img)
            cd = blocks['cd']
            self.assertTrue(cd['removable'])
            self.assertFalse(cd['tray_open'])
            self.assertNotIn('inserted', cd)
            hd = blocks['ide0-hd0']['inserted']
            self.assertEqual(hd['file'], img2)
            self.assertTrue(hd['ro'])
            self.assertEqual(hd['cache'], {'writeback': True, 'direct': False,
                                           'no-flush': True})
            info = vm.qmp.hmp('info block')
            self.assertIn('d0: %s (raw)' % self.img, info)
            self.assertIn('cd: [not inserted]', info)
            self.assertIn('Removable device: not locked, tray closed', info)
            self.assertIn('ide0-hd0: %s (raw, read-only)' % img2, info)
            self.assertIn('Cache mode:       writeback, direct', info)
        finally:
            err = vm.quit()
        # the PIIX3 IDE claims the if=ide drive (docs/ide.md)
        self.assertNotIn('unclaimed', err)

    def test_snapshot(self):
        with open(self.img, 'rb') as f:
            before = f.read()
        tmpdir = os.path.join(self.tmp, 'overlays')
        os.mkdir(tmpdir)
        env = dict(os.environ, TMPDIR=tmpdir)
        vm = VM(self.tmp, '-snapshot', '-drive', 'file=%s,format=raw,if=none,id=d0' % self.img,
                env=env)
        try:
            d0 = vm.qmp.cmd('query-block')[0]
            self.assertFalse(d0['inserted']['ro'])
            self.assertIn('snapshot', vm.qmp.hmp('info block'))
            # the overlay is unlinked at once: nothing is left to clean up
            self.assertEqual(os.listdir(tmpdir), [])
            # the image is only read: another -snapshot user may share it
            vm2 = VM(self.tmp, '-drive', 'file=%s,format=raw,if=none,snapshot=on' % self.img,
                     env=env)
            vm2.quit()
        finally:
            vm.quit()
        with open(self.img, 'rb') as f:
            self.assertEqual(f.read(), before)

    def test_blockdev(self):
        vm = VM(self.tmp, '-blockdev', 'driver=file,node-name=f0,filename=%s' % self.img,
                '-blockdev', '{"driver": "raw", "node-name": "r0", "file": "f0", '
                '"offset": 4096}')
        try:
            # nodes without a device are not drives: query-block lists none
            self.assertEqual(vm.qmp.cmd('query-block'), [])
            nodes = {n['node-name']: n for n in vm.qmp.cmd('query-named-block-nodes')}
            self.assertEqual(sorted(nodes), ['f0', 'r0'])
            self.assertEqual(nodes['f0']['drv'], 'file')
            self.assertEqual(nodes['f0']['image']['virtual-size'], 1 << 20)
            self.assertEqual(nodes['r0']['drv'], 'raw')
            self.assertEqual(nodes['r0']['file'], self.img)
            self.assertEqual(nodes['r0']['image']['virtual-size'], (1 << 20) - 4096)
            self.assertFalse(nodes['r0']['ro'])
        finally:
            vm.quit()


if __name__ == '__main__':
    KVMPC = find_kvmpc()
    unittest.main(verbosity=2)
