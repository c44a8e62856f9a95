#!/usr/bin/env python3
"""QMP eject and blockdev-change-medium on the IDE CD-ROM, seen by the guest.

usage: test_ide_qmp.py [KVMPC]        (or KVMPC=path in the environment)

kvmpc runs under -accel qtest; this script is both its QMP client and its
qtest peer (it listens on the qtest socket and speaks the text protocol),
so it can play the guest: ATAPI packets through the legacy ports of the
secondary channel.  After a QMP eject the guest sees UNIT ATTENTION, then
NOT READY; after blockdev-change-medium, UNIT ATTENTION, a "new media"
event and the new capacity; a medium the guest locked cannot be ejected
without force.  query-block follows (inserted, tray_open, locked).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPError  # noqa: E402
from qtest_peer import QTest, QTestQMPCase, main  # noqa: E402

P1 = 0x170


class IdeQTest(QTest):
    """The guest's side of the secondary channel's ATAPI drive."""

    def wait_ready(self):
        for _ in range(20000):
            st = self.inb(P1 + 7)
            if not st & 0x80:
                return st
        raise AssertionError('drive stays busy')

    def packet(self, cdb, bcl=0xfffe):
        """Sends a 12-byte packet; returns (status, error register, data)."""
        cdb = bytes(cdb) + bytes(12 - len(cdb))
        self.outb(P1 + 6, 0xa0)
        self.outb(P1 + 1, 0)
        self.outb(P1 + 4, bcl & 0xff)
        self.outb(P1 + 5, bcl >> 8)
        self.outb(P1 + 7, 0xa0)
        assert self.wait_ready() & 0x08
        for i in range(0, 12, 2):
            self.outw(P1, cdb[i] | cdb[i + 1] << 8)
        data = b''
        while True:
            st = self.wait_ready()
            if not st & 0x08:
                break
            n = self.inb(P1 + 4) | self.inb(P1 + 5) << 8
            for _ in range(0, n, 2):
                w = self.inw(P1)
                data += bytes([w & 0xff, w >> 8])
        return st, self.inb(P1 + 1), data


class IdeQmpTest(QTestQMPCase):
    qtest_class = IdeQTest

    def setUp(self):
        self.make_tmp('kvmpc-ideqmp-')
        self.iso1 = os.path.join(self.tmp, 'one.iso')
        self.iso2 = os.path.join(self.tmp, 'two.iso')
        self.disk = os.path.join(self.tmp, 'disk.img')
        for path, size in ((self.iso1, 32 * 2048), (self.iso2, 50 * 2048), (self.disk, 1 << 20)):
            with open(path, 'wb') as f:
                f.write(os.urandom(size))
        self.start('-drive', 'file=%s,format=raw,if=ide,index=0' % self.disk, '-cdrom', self.iso1)

    def cd_info(self):
        return self.block_info()['ide1-cd0']

    def capacity(self):
        st, _, d = self.qt.packet([0x25])
        self.assertEqual(st & 0x01, 0)
        return int.from_bytes(d[0:4], 'big') + 1

    def sense(self):
        st, _, d = self.qt.packet([0x03, 0, 0, 0, 18])
        self.assertEqual(st & 0x01, 0)
        return d[2] & 0x0f, d[12]

    def test_eject_and_change(self):
        self.assertEqual(self.capacity(), 32)
        info = self.cd_info()
        self.assertTrue(info['removable'])
        self.assertFalse(info['tray_open'])
        self.assertEqual(info['inserted']['file'], self.iso1)

        self.qmp.cmd('eject', device='ide1-cd0')
        info = self.cd_info()
        self.assertNotIn('inserted', info)
        self.assertTrue(info['tray_open'])
        # the guest: unit attention first, then not ready / no medium
        st, err, _ = self.qt.packet([0x00])
        self.assertEqual((st & 1, err >> 4), (1, 0x06))
        self.assertEqual(self.sense(), (0x06, 0x28))
        st, err, _ = self.qt.packet([0x00])
        self.assertEqual((st & 1, err >> 4), (1, 0x02))
        self.assertEqual(self.sense(), (0x02, 0x3a))

        self.qmp.cmd('blockdev-change-medium', device='ide1-cd0', filename=self.iso2,
                     format='raw')
        info = self.cd_info()
        self.assertEqual(info['inserted']['file'], self.iso2)
        self.assertTrue(info['inserted']['ro'])
        self.assertFalse(info['tray_open'])
        # GET EVENT STATUS NOTIFICATION (polled, media class): new media
        st, _, d = self.qt.packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8])
        self.assertEqual(st & 1, 0)
        self.assertEqual((d[2], d[4], d[5]), (0x04, 0x02, 0x02))
        st, err, _ = self.qt.packet([0x00])
        self.assertEqual((st & 1, err >> 4), (1, 0x06))
        self.assertEqual(self.sense(), (0x06, 0x28))
        st, _, _ = self.qt.packet([0x00])
        self.assertEqual(st & 1, 0)
        self.assertEqual(self.capacity(), 50)
        # READ(10) of sector 7 gives the new image's bytes
        st, _, d = self.qt.packet([0x28, 0, 0, 0, 0, 7, 0, 0, 1], bcl=2048)
        with open(self.iso2, 'rb') as f:
            f.seek(7 * 2048)
            self.assertEqual(d, f.read(2048))

    def test_locked(self):
        # PREVENT MEDIUM REMOVAL: a plain eject is refused, force works
        st, _, _ = self.qt.packet([0x1e, 0, 0, 0, 1])
        self.assertEqual(st & 1, 0)
        self.assertTrue(self.cd_info()['locked'])
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('eject', device='ide1-cd0')
        self.assertIn('is locked', e.exception.desc)
        self.assertIn('inserted', self.cd_info())
        # the guest got an eject request event
        st, _, d = self.qt.packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8])
        self.assertEqual(d[4], 0x01)
        # the guest itself cannot open the tray while locked
        st, err, _ = self.qt.packet([0x1b, 0, 0, 0, 0x02])
        self.assertEqual((st & 1, err >> 4), (1, 0x02))
        self.assertEqual(self.sense(), (0x02, 0x53))
        self.qmp.cmd('eject', device='ide1-cd0', force=True)
        self.assertNotIn('inserted', self.cd_info())
        self.assertFalse(self.cd_info()['locked'])

    def test_hmp(self):
        self.assertEqual(self.qmp.hmp('eject ide1-cd0').strip(), '')
        self.assertNotIn('inserted', self.cd_info())
        self.assertEqual(self.qmp.hmp('change ide1-cd0 %s raw' % self.iso2).strip(), '')
        self.assertEqual(self.cd_info()['inserted']['file'], self.iso2)
        self.assertIn('not removable', self.qmp.hmp('eject -f ide0-hd0'))
        self.assertIn('ide1-cd0: %s (raw, read-only)' % self.iso2, self.qmp.hmp('info block'))

    def test_errors(self):
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('eject', device='ide0-hd0')
        self.assertIn('not removable', e.exception.desc)
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('eject', device='nosuch')
        self.assertIn("Device 'nosuch' not found", e.exception.desc)
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('blockdev-change-medium', device='ide1-cd0',
                         filename=os.path.join(self.tmp, 'missing.iso'))
        self.assertIn('missing.iso', e.exception.desc)
        with self.assertRaises(QMPError):
            self.qmp.cmd('blockdev-change-medium', device='ide1-cd0', filename=self.iso2,
                         format='qcow2')


if __name__ == '__main__':
    main()
