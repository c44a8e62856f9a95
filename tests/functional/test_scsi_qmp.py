#!/usr/bin/env python3
"""QMP eject and blockdev-change-medium on a scsi-cd, seen by the guest.

usage: test_scsi_qmp.py [KVMPC]        (or KVMPC=path in the environment)

kvmpc runs under -accel qtest; this script is its QMP client and its qtest
peer, and plays a minimal virtio-scsi driver (legacy interface, request
queue 2, polled): SCSI commands to a scsi-cd on virtio-scsi-pci
(docs/scsi.md).  After a QMP eject the guest sees UNIT ATTENTION, then
NOT READY; after blockdev-change-medium, UNIT ATTENTION (medium may have
changed), a "new media" event and the new capacity; a medium the guest
locked cannot be ejected without force.
"""
import os
import struct
import time
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPError  # noqa: E402
from qtest_peer import QTest, QTestQMPCase, main  # noqa: E402

SLOT = 4
IO = 0xc000
RING = 0x100000         # queue 2's ring (legacy layout, 4 KiB aligned)
BUF = 0x200000          # request, response and data
REQ, RESP, DATA = BUF, BUF + 0x100, BUF + 0x1000
RESP_SIZE = 12 + 96


class VirtioScsiQTest(QTest):
    """The guest's side: PCI setup and one polled request queue."""

    def outl(self, port, v):
        self.cmd('outl 0x%x 0x%x' % (port, v))

    def inl(self, port):
        return int(self.cmd('inl 0x%x' % port).split()[1], 16)

    def memwrite(self, addr, data):
        self.cmd('write 0x%x 0x%x 0x%s' % (addr, len(data), data.hex()))

    def memread(self, addr, n):
        return bytes.fromhex(self.cmd('read 0x%x 0x%x' % (addr, n)).split()[1][2:])

    def pci_writel(self, reg, v):
        self.outl(0xcf8, 0x80000000 | SLOT << 11 | reg)
        self.outl(0xcfc, v)

    def setup(self):
        self.pci_writel(0x10, IO)                   # BAR0
        self.pci_writel(0x04, 0x5)                  # I/O, bus master
        self.outb(IO + 0x12, 0)                     # reset
        self.outb(IO + 0x12, 0x3)                   # ACKNOWLEDGE, DRIVER
        self.outl(IO + 0x04, 0)                     # no features
        self.outw(IO + 0x0e, 2)                     # queue 2
        self.qsize = self.inw(IO + 0x0c)
        self.memwrite(RING, bytes(0x10000))
        self.outl(IO + 0x08, RING >> 12)
        self.avail = RING + 16 * self.qsize
        self.used = (self.avail + 6 + 2 * self.qsize + 4095) & ~4095
        self.idx = 0
        self.outb(IO + 0x12, 0x7)                   # DRIVER_OK

    def command(self, cdb, data_in=0):
        """Runs cdb on target 0 LUN 0: (response, status, sense key, asc, data)."""
        req = bytes([1, 0, 0, 0, 0, 0, 0, 0]) + struct.pack('<Q', self.idx) + bytes(3)
        req += bytes(cdb) + bytes(32 - len(cdb))
        self.memwrite(REQ, req)
        self.memwrite(RESP, b'\xee' * RESP_SIZE)
        descs = [(REQ, len(req), 1), (RESP, RESP_SIZE, 2 | (1 if data_in else 0))]
        if data_in:
            descs.append((DATA, data_in, 2))
        table = b''
        for i, (addr, n, flags) in enumerate(descs):
            table += struct.pack('<QIHH', addr, n, flags, i + 1 if flags & 1 else 0)
        self.memwrite(RING, table)
        self.memwrite(self.avail + 4 + 2 * (self.idx % self.qsize), struct.pack('<H', 0))
        self.idx += 1
        self.memwrite(self.avail + 2, struct.pack('<H', self.idx & 0xffff))
        self.outw(IO + 0x10, 2)
        # the block layer completes in its thread pool: wait in wall time,
        # a loaded host can take a while (2000 quick polls were not enough)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if struct.unpack('<H', self.memread(self.used + 2, 2))[0] == self.idx & 0xffff:
                break
            self.clock_step(100000)
            time.sleep(0.001)
        else:
            raise AssertionError('no used entry for %r' % cdb)
        r = self.memread(RESP, RESP_SIZE)
        data = self.memread(DATA, data_in) if data_in else b''
        return r[11], r[10], r[14] & 0x0f, r[24], data


class ScsiQmpTest(QTestQMPCase):
    qtest_class = VirtioScsiQTest

    def setUp(self):
        self.make_tmp('kvmpc-scsiqmp-')
        self.iso1 = os.path.join(self.tmp, 'one.iso')
        self.iso2 = os.path.join(self.tmp, 'two.iso')
        for path, size in ((self.iso1, 32 * 2048), (self.iso2, 50 * 2048)):
            with open(path, 'wb') as f:
                f.write(os.urandom(size))
        self.start('-device', 'virtio-scsi-pci,id=scsi0,addr=%x,disable-modern=on,vectors=0' % SLOT,
                   '-drive', 'file=%s,format=raw,if=none,id=cd0,media=cdrom' % self.iso1,
                   '-device', 'scsi-cd,drive=cd0,bus=scsi0.0')
        self.qt.setup()
        # the power-on unit attention
        self.assertEqual(self.qt.command([0x00])[1:4], (2, 0x06, 0x29))

    def cd_info(self):
        return self.block_info()['cd0']

    def capacity(self):
        resp, status, _, _, d = self.qt.command([0x25] + [0] * 9, 8)
        self.assertEqual((resp, status), (0, 0))
        return int.from_bytes(d[0:4], 'big') + 1

    def test_eject_and_change(self):
        self.assertEqual(self.capacity(), 32)
        self.assertTrue(self.cd_info()['removable'])
        self.qmp.cmd('eject', device='cd0')
        info = self.cd_info()
        self.assertNotIn('inserted', info)
        self.assertTrue(info['tray_open'])
        # unit attention (no medium) first, then not ready / no medium
        self.assertEqual(self.qt.command([0x00])[:4], (0, 2, 0x06, 0x3a))
        self.assertEqual(self.qt.command([0x00])[:4], (0, 2, 0x02, 0x3a))

        self.qmp.cmd('blockdev-change-medium', device='cd0', filename=self.iso2, format='raw')
        info = self.cd_info()
        self.assertEqual(info['inserted']['file'], self.iso2)
        self.assertFalse(info['tray_open'])
        # GET EVENT STATUS NOTIFICATION (polled, media class): new media, present
        d = self.qt.command([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0], 8)[4]
        self.assertEqual((d[2], d[4], d[5]), (0x04, 0x02, 0x02))
        self.assertEqual(self.qt.command([0x00])[:4], (0, 2, 0x06, 0x28))
        self.assertEqual(self.qt.command([0x00])[:2], (0, 0))
        self.assertEqual(self.capacity(), 50)
        resp, status, _, _, d = self.qt.command([0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0], 2048)
        self.assertEqual((resp, status), (0, 0))
        with open(self.iso2, 'rb') as f:
            f.seek(7 * 2048)
            self.assertEqual(d, f.read(2048))

    def test_locked(self):
        self.assertEqual(self.qt.command([0x1e, 0, 0, 0, 1, 0])[:2], (0, 0))
        self.assertTrue(self.cd_info()['locked'])
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('eject', device='cd0')
        self.assertIn('is locked', e.exception.desc)
        self.assertIn('inserted', self.cd_info())
        # the guest got an eject request event
        d = self.qt.command([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0], 8)[4]
        self.assertEqual(d[4], 0x01)
        # the guest cannot open the tray while locked
        self.assertEqual(self.qt.command([0x1b, 0, 0, 0, 0x02, 0])[:4], (0, 2, 0x05, 0x53))
        self.qmp.cmd('eject', device='cd0', force=True)
        self.assertNotIn('inserted', self.cd_info())
        self.assertFalse(self.cd_info()['locked'])


if __name__ == '__main__':
    main()
