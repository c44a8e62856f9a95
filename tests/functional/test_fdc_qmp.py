#!/usr/bin/env python3
"""QMP eject and blockdev-change-medium on floppy drive A, seen by the guest.

usage: test_fdc_qmp.py [KVMPC]        (or KVMPC=path in the environment)

kvmpc runs under -accel qtest; this script is its QMP client and its qtest
peer (as tests/functional/test_ide_qmp.py), so it plays the guest through
the FDC ports (docs/floppy.md).  After a QMP eject the guest sees DSKCHG in
DIR and a READ ID fails; after blockdev-change-medium with a 2.88 MB image
DSKCHG stays until a seek, DUMPREG shows 36 sectors per track, and a
non-DMA READ DATA gives the new image's bytes.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtest_peer import QTestQMPCase, main  # noqa: E402

MSR, FIFO, DIR, DOR = 0x3f4, 0x3f5, 0x3f7, 0x3f2


class FDC:
    def __init__(self, qt):
        self.qt = qt

    def wait(self, dio):
        for _ in range(20000):
            msr = self.qt.inb(MSR)
            if msr & 0xc0 == 0x80 | dio:
                return
        raise AssertionError('FDC MSR stays 0x%02x' % msr)

    def cmd(self, *b):
        for v in b:
            self.wait(0)
            self.qt.outb(FIFO, v)

    def result(self, n):
        out = []
        for _ in range(n):
            self.wait(0x40)
            out.append(self.qt.inb(FIFO))
        return out

    def reset(self):
        self.qt.outb(DOR, 0x00)
        self.qt.outb(DOR, 0x1c)
        for i in range(4):
            self.cmd(0x08)
            st0, _ = self.result(2)
            assert st0 == 0xc0 | i, hex(st0)


class FdcQmpTest(QTestQMPCase):
    def setUp(self):
        self.make_tmp('kvmpc-fdcqmp-')
        self.one = os.path.join(self.tmp, 'one.img')
        self.two = os.path.join(self.tmp, 'two.img')
        for path, size in ((self.one, 1474560), (self.two, 2949120)):
            with open(path, 'wb') as f:
                f.write(os.urandom(size))
        self.start('-drive', 'file=%s,format=raw,if=floppy,index=0' % self.one)
        self.fdc = FDC(self.qt)

    def seek(self, track):
        self.fdc.cmd(0x0f, 0x00, track)
        self.fdc.cmd(0x08)
        self.assertEqual(self.fdc.result(2), [0x20, track])

    def test_eject_and_change(self):
        fdc = self.fdc
        blocks = self.block_info()
        name = [n for n, b in blocks.items() if b.get('inserted', {}).get('file') == self.one]
        self.assertEqual(len(name), 1, blocks)
        name = name[0]
        self.assertTrue(blocks[name]['removable'])
        fdc.reset()
        self.seek(1)
        self.seek(0)
        self.assertEqual(self.qt.inb(DIR) & 0x80, 0)

        self.qmp.cmd('eject', device=name)
        self.assertNotIn('inserted', self.block_info()[name])
        self.assertEqual(self.qt.inb(DIR) & 0x80, 0x80)
        fdc.cmd(0x4a, 0x00)                     # READ ID: no medium
        self.assertEqual(fdc.result(7)[0] & 0xc0, 0x40)

        self.qmp.cmd('blockdev-change-medium', device=name, filename=self.two, format='raw')
        self.assertEqual(self.block_info()[name]['inserted']['file'], self.two)
        self.assertEqual(self.qt.inb(DIR) & 0x80, 0x80)
        self.seek(2)
        self.assertEqual(self.qt.inb(DIR) & 0x80, 0)
        fdc.cmd(0x0e)
        self.assertEqual(fdc.result(10)[6], 36)
        # non-DMA READ DATA of cylinder 2 head 1 sector 30
        fdc.cmd(0x03, 0xaf, 0x03)
        fdc.cmd(0x46, 0x04, 2, 1, 30, 2, 30, 0x1b, 0xff)
        data = bytes(fdc.result(512))
        with open(self.two, 'rb') as f:
            f.seek(((2 * 2 + 1) * 36 + 29) * 512)
            self.assertEqual(data, f.read(512))
        res = fdc.result(7)
        self.assertEqual(res[0], 0x04)


if __name__ == '__main__':
    main()
