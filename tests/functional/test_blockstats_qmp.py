#!/usr/bin/env python3
"""QMP query-blockstats and HMP info blockstats count what the guest did.

usage: test_blockstats_qmp.py [KVMPC]        (or KVMPC=path in the environment)

kvmpc runs under -accel qtest with two IDE disks: a -drive (ide0-hd0) on
the primary channel and a -blockdev raw node on the secondary one (an
anonymous backend: device "", qdev "disk2", node-name "r1").  This script
is the guest: ATA READ SECTORS / WRITE SECTORS / FLUSH CACHE through the
legacy ports, one sector per command, so every command is one backend
request.  The counters must match exactly (operations, bytes,
wr_highest_offset, failed/invalid/merged zero), the times must be there,
idle_time_ns must appear with the first I/O and grow, the HMP line must
carry the same numbers, query-nodes lists the named nodes, and the replies
conform to query-qmp-schema.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtest_peer import QTest, QTestQMPCase, main  # noqa: E402
from test_qmp import validate  # noqa: E402

P0, P1 = 0x1f0, 0x170
SECTORS = 2048                  # 1 MiB images


class AtaQTest(QTest):
    """The guest's side of an ATA disk, master of a channel (base port)."""

    def wait_ready(self, base):
        for _ in range(20000):
            st = self.inb(base + 7)
            if not st & 0x80:
                return st
        raise AssertionError('drive stays busy')

    def command(self, base, cmd, lba, count=1):
        self.outb(base + 6, 0xe0 | (lba >> 24 & 0x0f))
        self.outb(base + 2, count)
        self.outb(base + 3, lba & 0xff)
        self.outb(base + 4, lba >> 8 & 0xff)
        self.outb(base + 5, lba >> 16 & 0xff)
        self.outb(base + 7, cmd)

    def read_sector(self, base, lba):
        """READ SECTORS of one sector: the 512 bytes, or None (error)."""
        self.command(base, 0x20, lba)
        st = self.wait_ready(base)
        if st & 0x01:
            return None
        assert st & 0x08, 'no DRQ after READ SECTORS: %#x' % st
        data = bytearray()
        for _ in range(256):
            w = self.inw(base)
            data += bytes([w & 0xff, w >> 8])
        self.wait_ready(base)
        return bytes(data)

    def write_sector(self, base, lba, data):
        self.command(base, 0x30, lba)
        st = self.wait_ready(base)
        assert st & 0x08 and not st & 0x01, 'no DRQ after WRITE SECTORS: %#x' % st
        for i in range(0, 512, 2):
            self.outw(base, data[i] | data[i + 1] << 8)
        st = self.wait_ready(base)
        assert not st & 0x01, 'WRITE SECTORS failed: %#x' % st

    def flush(self, base):
        self.outb(base + 6, 0xe0)
        self.outb(base + 7, 0xe7)
        st = self.wait_ready(base)
        assert not st & 0x01, 'FLUSH CACHE failed: %#x' % st


ZERO_COUNTERS = [
    'rd_bytes', 'wr_bytes', 'unmap_bytes', 'rd_operations', 'wr_operations',
    'flush_operations', 'unmap_operations', 'rd_total_time_ns', 'wr_total_time_ns',
    'flush_total_time_ns', 'unmap_total_time_ns', 'wr_highest_offset', 'rd_merged',
    'wr_merged', 'unmap_merged', 'failed_rd_operations', 'failed_wr_operations',
    'failed_flush_operations', 'failed_unmap_operations', 'invalid_rd_operations',
    'invalid_wr_operations', 'invalid_flush_operations', 'invalid_unmap_operations',
]

HMP_RE = re.compile(
    r'^(\S*): rd_bytes=(\d+) wr_bytes=(\d+) rd_operations=(\d+) wr_operations=(\d+) '
    r'flush_operations=(\d+) wr_total_time_ns=(\d+) rd_total_time_ns=(\d+) '
    r'flush_total_time_ns=(\d+) rd_merged=(\d+) wr_merged=(\d+) idle_time_ns=(\d+)$')
HMP_KEYS = ['rd_bytes', 'wr_bytes', 'rd_operations', 'wr_operations', 'flush_operations',
            'wr_total_time_ns', 'rd_total_time_ns', 'flush_total_time_ns', 'rd_merged',
            'wr_merged', 'idle_time_ns']


class BlockstatsTest(QTestQMPCase):
    qtest_class = AtaQTest

    def setUp(self):
        self.make_tmp('kvmpc-blockstats-')
        self.disk = os.path.join(self.tmp, 'disk.img')
        self.disk2 = os.path.join(self.tmp, 'disk2.img')
        for path in (self.disk, self.disk2):
            with open(path, 'wb') as f:
                f.write(os.urandom(SECTORS * 512))
        self.start('-drive', 'file=%s,format=raw,if=ide,index=0' % self.disk,
                   '-blockdev', 'driver=file,node-name=f1,filename=%s' % self.disk2,
                   '-blockdev', 'driver=raw,node-name=r1,file=f1',
                   '-device', 'ide-hd,drive=r1,bus=ide.1,unit=0,id=disk2')

    def stats(self, **args):
        reply = self.qmp.cmd('query-blockstats', **args)
        schema = self.qmp.cmd('query-qmp-schema')
        by_name = {e['name']: e for e in schema}
        validate(self, reply, by_name, schema, by_name['query-blockstats']['ret-type'],
                 'query-blockstats')
        return reply

    def by_device(self):
        return {e['device'] or e['qdev']: e for e in self.stats()}

    def hmp_lines(self):
        out = {}
        for line in self.qmp.hmp('info blockstats').splitlines():
            m = HMP_RE.match(line.rstrip('\r'))
            self.assertIsNotNone(m, line)
            out[m.group(1)] = dict(zip(HMP_KEYS, map(int, m.groups()[1:])))
        return out

    def sector(self, path, lba):
        with open(path, 'rb') as f:
            f.seek(lba * 512)
            return f.read(512)

    def test_idle_before_io(self):
        entries = self.stats()
        self.assertEqual(len(entries), 2)
        hd, anon = entries
        self.assertEqual(hd['device'], 'ide0-hd0')
        qdev = {b['device']: b.get('qdev') for b in self.qmp.cmd('query-block')}
        self.assertEqual(hd.get('qdev'), qdev['ide0-hd0'])
        self.assertNotIn('node-name', hd)
        self.assertEqual((anon['device'], anon['qdev'], anon['node-name']), ('', 'disk2', 'r1'))
        for e in entries:
            s = e['stats']
            self.assertNotIn('parent', e)
            for k in ZERO_COUNTERS:
                self.assertEqual(s[k], 0, k)
            # the IDE geometry probe (a synchronous read at realize) is not counted
            self.assertNotIn('idle_time_ns', s)
            self.assertTrue(s['account_invalid'])
            self.assertTrue(s['account_failed'])
            self.assertEqual(s['timed_stats'], [])
        # HMP: idle_time_ns=0 until the first I/O, as QEMU
        lines = self.hmp_lines()
        self.assertEqual(set(lines), {'ide0-hd0', 'disk2'})
        for v in lines.values():
            self.assertEqual(set(v.values()), {0})

    def test_guest_io(self):
        n_reads, writes = 6, [(100, os.urandom(512)), (7, os.urandom(512))]
        for lba in range(n_reads):
            self.assertEqual(self.qt.read_sector(P0, lba * 3), self.sector(self.disk, lba * 3))
        for lba, data in writes:
            self.qt.write_sector(P0, lba, data)
        self.qt.flush(P0)
        for lba, data in writes:
            self.assertEqual(self.sector(self.disk, lba), data)

        s = self.by_device()['ide0-hd0']['stats']
        expect = {
            'rd_operations': n_reads, 'rd_bytes': n_reads * 512,
            'wr_operations': len(writes), 'wr_bytes': len(writes) * 512,
            'flush_operations': 1, 'wr_highest_offset': 101 * 512,
        }
        for k in ZERO_COUNTERS:
            if not k.endswith('_time_ns'):
                self.assertEqual(s[k], expect.get(k, 0), k)
        for k in ('rd_total_time_ns', 'wr_total_time_ns', 'flush_total_time_ns'):
            self.assertGreater(s[k], 0, k)
        self.assertEqual(s['unmap_total_time_ns'], 0)
        self.assertIn('idle_time_ns', s)
        # the other disk saw nothing
        anon = self.by_device()['disk2']['stats']
        for k in ZERO_COUNTERS:
            self.assertEqual(anon[k], 0, k)

        # idle time grows while nothing happens
        time.sleep(0.1)
        s2 = self.by_device()['ide0-hd0']['stats']
        self.assertGreaterEqual(s2['idle_time_ns'] - s['idle_time_ns'], 100 * 1000 * 1000)
        for k in ZERO_COUNTERS:
            self.assertEqual(s2[k], s[k], k)

        # HMP carries the same numbers
        h = self.hmp_lines()['ide0-hd0']
        for k in HMP_KEYS:
            if k != 'idle_time_ns':
                self.assertEqual(h[k], s2[k], k)
        self.assertGreaterEqual(h['idle_time_ns'], s2['idle_time_ns'])

        # a READ beyond the disk: IDE refuses it (IDNF) before any request
        self.assertIsNone(self.qt.read_sector(P0, SECTORS))
        s3 = self.by_device()['ide0-hd0']['stats']
        for k in ZERO_COUNTERS:
            self.assertEqual(s3[k], s[k], k)

        # the secondary disk: its own counters, and its node's wr_highest_offset
        self.assertEqual(self.qt.read_sector(P1, 5), self.sector(self.disk2, 5))
        self.qt.write_sector(P1, 9, bytes(512))
        anon = self.by_device()['disk2']
        self.assertEqual(anon['node-name'], 'r1')
        a = anon['stats']
        self.assertEqual((a['rd_operations'], a['rd_bytes'], a['wr_operations'], a['wr_bytes'],
                          a['flush_operations'], a['wr_highest_offset']),
                         (1, 512, 1, 512, 0, 10 * 512))
        h = self.hmp_lines()['disk2']
        self.assertEqual((h['rd_operations'], h['rd_bytes'], h['wr_operations']), (1, 512, 1))

        # query-nodes: the named nodes, counters zero, wr_highest_offset of the root
        nodes = {e['node-name']: e for e in self.stats(query_nodes=True)}
        self.assertEqual(set(nodes), {'f1', 'r1'})
        for name, e in nodes.items():
            self.assertNotIn('device', e)
            st = e['stats']
            self.assertEqual(st['wr_highest_offset'], 10 * 512 if name == 'r1' else 0)
            self.assertEqual(st['rd_operations'], 0)
            self.assertFalse(st['account_failed'])
        self.assertEqual([e['device'] for e in self.stats(query_nodes=False)],
                         ['ide0-hd0', ''])


if __name__ == '__main__':
    main()
