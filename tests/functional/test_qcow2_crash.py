#!/usr/bin/env python3
"""Crash consistency of the qcow2 driver under guest writes (issue 13):
kvmpc runs under -accel qtest with a qcow2 image on virtio-blk-pci and
this test plays the guest, keeping up to QDEPTH requests in flight
(writes at random offsets and lengths, write-zeroes, discards, flushes),
then SIGKILLs kvmpc at a random moment, many times, cumulatively on the
same image and on fresh ones.  After every kill:

  * kvmpc was still running when killed (its exit status is -SIGKILL);
  * `qemu-img check` (Debian's qemu-utils, the oracle) exits 0 (clean) or
    3 (leaked clusters only), never 2 (corruption) or anything else, and
    `kvmpc-img check` says the same, leak count included;
  * a copy repaired by `kvmpc-img check -r leaks` (`-r all` when the
    lazy-refcounts dirty bit is set) is clean for `qemu-img check`;
  * the data, read by `qemu-img convert -O raw` (and identically by
    `kvmpc-img convert`), is what a guest may expect: every sector holds
    the value of the last write (or write-zeroes) the guest saw complete
    before a flush that also completed, or of a later request that was
    submitted (even if never acknowledged); a discarded sector may hold
    anything; sectors nobody wrote are untouched.

Then the next round goes on writing to the killed (unrepaired) image.
The totals (kills, clean vs leaks-only, kills where an unacknowledged
write had reached the image) are printed and asserted.  This is
test_qtest_guest (36 kills, about 40 s).  test_qtest_guest_stop: 40 writes
to fresh clusters leave a copy of the image with leaked clusters (their L2
entries wait in kvmpc's cache for a flush); after QMP 'stop' a copy is
clean and holds every write (vm_stop flushes every image, as QEMU's).

test_linux_guest does the same checks after 7 kills of a Linux guest
under tcg-lite (Debian's kernel, the busybox initramfs of tests/images/)
writing random blocks with dd conv=fsync and blkdiscard to a qcow2 disk
on virtio-blk (and IDE), killed while one of its writes runs; the guest
logs each request, before and after, to a second (raw) disk, from which
the model is built.  Slower and coarser (one request at a time) but a
real driver and page cache.

usage: test_qcow2_crash.py KVMPC KVMPC-IMG [-k qtest_guest|linux_guest]
Environment: QCOW2_CRASH_SEED=N repeats a run's choices (not its timing).
"""
import base64
import hashlib
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtest_peer import QTest  # noqa: E402
from qmp_client import QMPClient  # noqa: E402

KVMPC = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.abspath('build/kvmpc')
IMG = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.abspath(
    'build/tools/kvmpc-img')
QEMU_IMG = shutil.which('qemu-img')

SECTOR = 512
DISK = 32 << 20
NSECT = DISK // SECTOR
QDEPTH = 16                     # requests in flight at most
MAXBYTES = 256 << 10            # largest request
IO = 0xc000                     # the legacy virtio-pci I/O BAR
SLOT = 4
RING = 0x100000                 # split ring (legacy layout)
HDRS = 0x180000                 # 16-byte request headers, one per slot
STATUS = 0x181000               # status bytes, one per slot
DATA = 0x200000                 # slot i's buffer: DATA + i * MAXBYTES

T_OUT, T_FLUSH, T_DISCARD, T_WZ = 1, 4, 11, 13
F_FLUSH, F_DISCARD, F_WZ = 1 << 9, 1 << 13, 1 << 14
ZERO = bytes(SECTOR)

# Series of rounds: (name, tool that creates the image, create options,
# backing file (None, 'raw' or 'qcow2'), -drive cache mode, rounds).  Each
# series' image is created once and killed `rounds` times; every round
# reopens the image the previous kill left.  cache=unsafe drops the
# flushes: a SIGKILL loses nothing the process already wrote, so even
# then every request that completed must be there and the image must be
# consistent (a host crash would be another matter: not tested here).
SERIES = [
    ('64k-rc16', 'qemu-img', 'cluster_size=65536,refcount_bits=16', None, 'writeback', 6),
    ('4k-rc1-rawbacking', 'qemu-img', 'cluster_size=4096,refcount_bits=1', 'raw',
     'writeback', 6),
    ('512-rc64', 'kvmpc-img', 'cluster_size=512,refcount_bits=64', None, 'writeback', 5),
    ('4k-lazy-qcow2backing', 'qemu-img', 'cluster_size=4096,refcount_bits=16,lazy_refcounts=on',
     'qcow2', 'writeback', 5),
    ('v2-64k-rawbacking-unsafe', 'qemu-img', 'compat=0.10,cluster_size=65536', 'raw',
     'unsafe', 4),
    ('2k-rc8-unsafe', 'kvmpc-img', 'cluster_size=2048,refcount_bits=8', None, 'unsafe', 4),
]
# Fresh images, killed once each: (creating tool, options, backing).
# The last one: kvmpc-img must leave out the optional feature name table
# to fit a 512-byte header cluster with a backing file name.
FRESH = [
    ('qemu-img', 'cluster_size=4096,refcount_bits=16', None),
    ('kvmpc-img', 'cluster_size=65536,refcount_bits=64', 'raw'),
    ('qemu-img', 'cluster_size=1024,refcount_bits=2', None),
    ('kvmpc-img', 'cluster_size=16384,refcount_bits=4,lazy_refcounts=on', 'raw'),
    ('qemu-img', 'cluster_size=8192,refcount_bits=32', 'qcow2'),
    ('kvmpc-img', 'cluster_size=512,refcount_bits=16', 'raw'),
]


def run(*args, ok=(0,)):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if ok is not None and p.returncode not in ok:
        raise AssertionError('%s: exit %d\n%s%s' % (' '.join(args), p.returncode,
                                                      p.stdout.decode(), p.stderr.decode()))
    return p


_fill = {}


def pattern(wid, lba):
    """Sector lba as write wid writes it: a header naming both, then bytes
    that depend on wid."""
    f = _fill.get(wid)
    if f is None:
        f = _fill[wid] = (hashlib.sha256(b'%d' % wid).digest() * 16)[:SECTOR - 24]
        if len(_fill) > 4096:
            _fill.clear()
    return struct.pack('<8sQQ', b'KVMPC-W!', wid, lba) + f


def base_sector(lba):
    """The backing file's sector lba."""
    return struct.pack('<8sQ', b'BACKING!', lba) + bytes([lba & 0xff]) * (SECTOR - 16)


def describe(sector):
    if sector == ZERO:
        return 'zeroes'
    magic, a, b = struct.unpack('<8sQQ', sector[:24])
    if magic == b'KVMPC-W!':
        return 'write %d lba %d%s' % (a, b, '' if sector == pattern(a, b) else ' (damaged)')
    if magic[:8] == b'BACKING!':
        return 'backing lba %d' % a
    return 'unknown %r...' % sector[:24]


class Op:
    """One guest request.  kind: 'write', 'zero', 'discard', 'flush'."""
    __slots__ = ('kind', 'id', 'lba', 'n', 'flags', 'slot', 'done', 'cover', 'gen')

    def __init__(self, kind, wid, lba=0, n=0, flags=0, gen=None):
        self.kind, self.id, self.lba, self.n, self.flags = kind, wid, lba, n, flags
        self.done = False
        self.cover = ()         # flush: the requests it makes durable
        self.gen = gen          # write: sector lba's bytes (default: pattern())


class Guest(QTest):
    """A virtio-blk driver over qtest (legacy virtio-pci interface through
    the I/O BAR, no MSI-X, polling the used ring)."""

    def cfg_addr(self, reg):
        return 0x80000000 | SLOT << 11 | reg

    def cfg_readl(self, reg):
        self.cmd('outl 0xcf8 0x%x' % self.cfg_addr(reg))
        return int(self.cmd('inl 0xcfc').split()[1], 16)

    def cfg_writel(self, reg, v):
        self.cmd('outl 0xcf8 0x%x' % self.cfg_addr(reg))
        self.cmd('outl 0xcfc 0x%x' % v)

    def mem_write(self, addr, data):
        self.cmd('b64write 0x%x 0x%x %s' % (addr, len(data), base64.b64encode(data).decode()))

    def mem_read(self, addr, n):
        return bytes.fromhex(self.cmd('read 0x%x 0x%x' % (addr, n)).split()[1][2:])

    def setup(self):
        if self.cfg_readl(0) != 0x10011af4:
            raise AssertionError('no legacy virtio-blk at slot %d: %x' % (SLOT, self.cfg_readl(0)))
        self.cfg_writel(0x10, IO | 1)
        self.cfg_writel(0x04, 0x5)                     # I/O space, bus master
        self.outb(IO + 18, 0)
        self.outb(IO + 18, 1)
        self.outb(IO + 18, 3)
        host = int(self.cmd('inl 0x%x' % IO).split()[1], 16)
        need = F_FLUSH | F_DISCARD | F_WZ
        if host & need != need:
            raise AssertionError('virtio-blk offers %x, the test needs %x' % (host, need))
        self.cmd('outl 0x%x 0x%x' % (IO + 4, need))
        self.outw(IO + 14, 0)
        self.qsize = self.inw(IO + 12)
        if self.qsize < 3 * QDEPTH:
            raise AssertionError('queue size %d' % self.qsize)
        self.avail = RING + 16 * self.qsize
        self.used = (self.avail + 6 + 2 * self.qsize + 4095) & ~4095
        self.cmd('outl 0x%x 0x%x' % (IO + 8, RING >> 12))
        self.outb(IO + 18, 7)
        cap = int(self.cmd('inl 0x%x' % (IO + 20)).split()[1], 16) | \
            int(self.cmd('inl 0x%x' % (IO + 24)).split()[1], 16) << 32
        if cap != NSECT:
            raise AssertionError('capacity %d sectors, expected %d' % (cap, NSECT))
        self.avail_idx = self.last_used = 0
        self.free = list(range(QDEPTH))
        self.slots = {}

    def submit(self, op):
        slot = op.slot = self.free.pop()
        head = 3 * slot
        hdr = struct.pack('<IIQ', {'write': T_OUT, 'zero': T_WZ, 'discard': T_DISCARD,
                                   'flush': T_FLUSH}[op.kind], 0, op.lba)
        buf = DATA + slot * MAXBYTES
        if op.kind == 'write':
            data = b''.join(pattern(op.id, op.lba + i) for i in range(op.n))
            mid = struct.pack('<QIHH', buf, len(data), 1, head + 2)
            self.mem_write(buf, data)
        elif op.kind in ('zero', 'discard'):
            mid = struct.pack('<QIHH', buf, 16, 1, head + 2)
            self.mem_write(buf, struct.pack('<QII', op.lba, op.n, op.flags))
        first = struct.pack('<QIHH', HDRS + 16 * slot, 16, 1, head + (2 if op.kind == 'flush'
                                                                     else 1))
        last = struct.pack('<QIHH', STATUS + slot, 1, 2, 0)
        self.mem_write(HDRS + 16 * slot, hdr)
        self.cmd('writeb 0x%x 0xff' % (STATUS + slot))
        descs = first + (mid if op.kind != 'flush' else first) + last
        self.mem_write(RING + 16 * head, descs)
        self.cmd('writew 0x%x 0x%x' % (self.avail + 4 + 2 * (self.avail_idx % self.qsize), head))
        self.avail_idx = (self.avail_idx + 1) & 0xffff
        self.cmd('writew 0x%x 0x%x' % (self.avail + 2, self.avail_idx))
        self.slots[slot] = op
        self.outw(IO + 16, 0)

    def poll(self):
        """The requests completed since the last call, in used-ring order."""
        idx = int(self.cmd('readw 0x%x' % (self.used + 2)).split()[1], 16)
        done = []
        while self.last_used != idx:
            e = self.used + 4 + 8 * (self.last_used % self.qsize)
            head = int(self.cmd('readl 0x%x' % e).split()[1], 16)
            self.last_used = (self.last_used + 1) & 0xffff
            slot = head // 3
            op = self.slots.pop(slot)
            st = int(self.cmd('readb 0x%x' % (STATUS + slot)).split()[1], 16)
            if st != 0:
                raise AssertionError('%s request at lba %d: status %d' % (op.kind, op.lba, st))
            self.free.append(slot)
            done.append(op)
        return done


class Model:
    """What each sector may hold after a crash.  cand[lba]: the requests
    (None: the round's base content) whose value the sector may show, the
    first being the durable one; sectors not in cand hold the base."""

    def __init__(self):
        self.cand = {}
        self.pending = []       # completed, not yet covered by a flush

    def submitted(self, op):
        if op.kind == 'flush':
            op.cover, self.pending = self.pending, []
            return
        for lba in range(op.lba, op.lba + op.n):
            self.cand.setdefault(lba, [None]).append(op)

    def completed(self, op):
        op.done = True
        if op.kind != 'flush':
            self.pending.append(op)
            return
        for w in op.cover:
            for lba in range(w.lba, w.lba + w.n):
                c = self.cand[lba]
                if w in c:
                    del c[:c.index(w)]

    def verify(self, actual, base):
        """Raises on a sector the model does not allow; returns (sectors
        checked against a durable guest write, unacknowledged writes seen)."""
        exp = bytearray(base)
        durable = 0
        seen = set()
        for lba, c in self.cand.items():
            a = actual[lba * SECTOR:(lba + 1) * SECTOR]
            for v in c:
                if v is None:
                    e = base[lba * SECTOR:(lba + 1) * SECTOR]
                elif v.kind == 'discard':
                    e = a       # advisory: anything
                elif v.kind == 'zero':
                    e = ZERO
                else:
                    e = v.gen(lba) if v.gen else pattern(v.id, lba)
                if a == e:
                    if v is not None and not v.done:
                        seen.add(v.id)
                    break
            else:
                raise AssertionError(
                    'sector %d holds %s; allowed: %s' % (
                        lba, describe(a), ', '.join(
                            'base (%s)' % describe(base[lba * SECTOR:(lba + 1) * SECTOR])
                            if v is None else '%s %d%s' % (v.kind, v.id,
                                                            '' if v.done else ' (in flight)')
                            for v in c)))
            if c[0] is not None and c[0].kind == 'write' and c[0].done:
                durable += 1
            exp[lba * SECTOR:(lba + 1) * SECTOR] = a
        if exp != actual:
            for lba in range(NSECT):
                s = slice(lba * SECTOR, (lba + 1) * SECTOR)
                if exp[s] != actual[s]:
                    raise AssertionError('sector %d, written by nobody, holds %s instead of %s'
                                         % (lba, describe(actual[s]), describe(exp[s])))
        return durable, len(seen)


@unittest.skipUnless(QEMU_IMG, 'qemu-img (qemu-utils) is not installed: it is the oracle')
class Qcow2Crash(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='qcow2-crash-')
        self.addCleanup(shutil.rmtree, self.tmp)
        self.seed = int(os.environ.get('QCOW2_CRASH_SEED', random.randrange(1 << 30)))
        print('seed %d (QCOW2_CRASH_SEED)' % self.seed, flush=True)
        self.rnd = random.Random(self.seed)
        self.wid = 0
        self.stats = dict(kills=0, clean=0, leaks=0, inflight_seen=0, leaked_clusters=0,
                          durable_sectors=0, writes_done=0, dirty=0)
        raw = os.path.join(self.tmp, 'base.raw')
        with open(raw, 'wb') as f:
            f.write(b''.join(base_sector(lba) for lba in range(NSECT)))
        self.backing = {'raw': raw, 'qcow2': os.path.join(self.tmp, 'base.qcow2')}
        run(QEMU_IMG, 'convert', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=65536',
            raw, self.backing['qcow2'])

    def p(self, name):
        return os.path.join(self.tmp, name)

    def create(self, path, tool, opts, backing):
        args = [QEMU_IMG if tool == 'qemu-img' else IMG, 'create', '-f', 'qcow2', '-o', opts]
        if backing:
            args += ['-b', self.backing[backing], '-F', backing]
        run(*args + [path, str(DISK)])
        if backing:
            with open(self.backing['raw'], 'rb') as f:
                return f.read()
        return bytes(DISK)

    def start(self, img, cache, extra=()):
        qsock = self.p('qtest.sock')
        if os.path.exists(qsock):
            os.unlink(qsock)
        lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lst.bind(qsock)
        lst.listen(1)
        lst.settimeout(20)
        self.errlog = open(self.p('kvmpc.err'), 'wb')
        proc = subprocess.Popen(
            [KVMPC, '-accel', 'qtest', '-qtest', 'unix:%s' % qsock, '-display', 'none',
             '-nodefaults', '-m', '128',
             '-drive', 'file=%s,format=qcow2,if=none,id=d0,cache=%s,discard=unmap' % (img, cache),
             '-device', 'virtio-blk-pci,drive=d0,addr=%d,disable-modern=on' % SLOT] + list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errlog)
        try:
            qt = Guest(lst)
        except Exception:
            proc.kill()
            proc.wait()
            raise AssertionError('kvmpc did not connect: %s' % self.errors())
        finally:
            lst.close()
        return proc, qt

    def pick(self, inflight):
        """A request that overlaps none in flight (None: gave up)."""
        r = self.rnd
        x = r.random()
        kind = 'write' if x < 0.62 else 'flush' if x < 0.74 else 'zero' if x < 0.87 else 'discard'
        if kind == 'flush':
            self.wid += 1
            return Op('flush', self.wid)
        for _ in range(8):
            hot = r.random() < 0.4              # overwrites, COW of allocated clusters
            span = (2 << 20) // SECTOR if hot else NSECT
            if r.random() < 0.5:
                # cluster-ish aligned, up to MAXBYTES: whole-cluster runs
                unit = r.choice([8, 128])
                n = unit * r.randrange(1, MAXBYTES // SECTOR // unit + 1)
                lba = r.randrange(0, span // unit) * unit
            else:
                n = r.randrange(1, 65)
                lba = r.randrange(0, span - n)
            n = min(n, NSECT - lba)
            if all(lba + n <= o.lba or o.lba + o.n <= lba for o in inflight):
                break
        else:
            return None
        self.wid += 1
        flags = r.randrange(2) if kind == 'zero' else 0
        return Op(kind, self.wid, lba, n, flags)

    def round(self, img, cache, base, lazy):
        """One life of kvmpc on img, ended by SIGKILL; returns the image's
        content afterwards."""
        model = Model()
        size0 = os.path.getsize(img)
        proc, qt = self.start(img, cache)
        try:
            qt.setup()
            inflight = []
            run_for = self.rnd.uniform(0.15, 0.9)
            t_end = None
            done_writes = 0
            while True:
                while len(inflight) < QDEPTH:
                    op = self.pick(inflight)
                    if op is None:
                        break
                    model.submitted(op)
                    qt.submit(op)
                    inflight.append(op)
                # the clock starts at the first completed write (kvmpc is up)
                if t_end is not None and time.monotonic() >= t_end:
                    break
                done = qt.poll()
                for op in done:
                    inflight.remove(op)
                    model.completed(op)
                    if op.kind == 'write':
                        done_writes += 1
                        if t_end is None:
                            t_end = time.monotonic() + run_for
                if not done:
                    time.sleep(0.0002)
            # kill while requests are in flight, right after a batch or a
            # little later
            time.sleep(self.rnd.choice([0, 0, self.rnd.uniform(0, 0.004)]))
            self.assertIsNone(proc.poll(), 'kvmpc died before the kill')
            proc.kill()
            rc = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            qt.conn.close()
            self.errlog.close()
        self.assertEqual(rc, -9, 'kvmpc was not killed by the SIGKILL: exit %s, %s' % (
            rc, self.errors()))
        self.assertTrue(inflight, 'nothing in flight at the kill')
        self.assertGreater(done_writes, 0)
        return self.after_kill(img, model, base, lazy, done_writes, len(inflight), size0)

    def after_kill(self, img, model, base, lazy, done_writes, inflight, size0):
        """The checks after a kill; returns the image's content."""
        self.stats['kills'] += 1
        self.stats['writes_done'] += done_writes

        # consistency: both tools, same verdict
        dirty = self.dirty(img)
        self.assertEqual(dirty, lazy, 'dirty bit %s after a kill mid-write (lazy_refcounts=%s)'
                         % (dirty, lazy))
        self.stats['dirty'] += dirty
        q = run(QEMU_IMG, 'check', '--output=json', '-f', 'qcow2', img, ok=None)
        out = q.stdout.decode() + q.stderr.decode()
        self.assertIn(q.returncode, (0, 3), 'qemu-img check after kill %d: exit %d (2: '
                      'corruption)\n%s\n%s' % (self.stats['kills'], q.returncode, out,
                                              run(QEMU_IMG, 'check', img, ok=None).stdout
                                              .decode()))
        qj = json.loads(q.stdout)
        k = run(IMG, 'check', '--output=json', '-f', 'qcow2', img, ok=None)
        self.assertEqual(k.returncode, q.returncode, 'kvmpc-img check disagrees:\n%s%s\n'
                         'qemu-img:\n%s' % (k.stdout.decode(), k.stderr.decode(), out))
        kj = json.loads(k.stdout)
        self.assertEqual(kj.get('leaks', 0), qj.get('leaks', 0), (kj, qj))
        self.stats['leaks' if q.returncode == 3 else 'clean'] += 1
        self.stats['leaked_clusters'] += qj.get('leaks', 0)

        # a repaired copy is clean
        fixed = self.p('fixed.qcow2')
        shutil.copyfile(img, fixed)
        run(IMG, 'check', '-r', 'all' if dirty else 'leaks', fixed)
        run(QEMU_IMG, 'check', fixed)
        self.assertFalse(self.dirty(fixed), 'the dirty bit survived check -r')

        # the data
        raw = self.p('out.raw')
        run(QEMU_IMG, 'convert', '-f', 'qcow2', '-O', 'raw', img, raw)
        with open(raw, 'rb') as f:
            actual = f.read()
        raw2 = self.p('out2.raw')
        run(IMG, 'convert', '-f', 'qcow2', '-O', 'raw', img, raw2)
        with open(raw2, 'rb') as f:
            self.assertTrue(f.read() == actual, 'kvmpc-img convert reads the image differently')
        durable, seen = model.verify(actual, base)
        self.stats['durable_sectors'] += durable
        self.stats['inflight_seen'] += seen > 0
        print('  kill %2d: %4d writes done, %2d in flight, %s%s, %d durable sectors checked, '
              '%d unacknowledged writes on disk, image %d -> %d KiB' % (
                  self.stats['kills'], done_writes, inflight,
                  'clean' if q.returncode == 0 else 'leaks (%d)' % qj.get('leaks', 0),
                  ', dirty' if dirty else '', durable, seen, size0 >> 10,
                  os.path.getsize(img) >> 10), flush=True)
        return actual

    def errors(self):
        with open(self.p('kvmpc.err'), errors='replace') as f:
            return f.read()

    def dirty(self, img):
        with open(img, 'rb') as f:
            h = f.read(80)
        return struct.unpack('>I', h[4:8])[0] >= 3 and bool(struct.unpack('>Q', h[72:80])[0] & 1)

    def test_qtest_guest(self):
        t0 = time.monotonic()
        for name, tool, opts, backing, cache, rounds in SERIES:
            print('series %s: %s %s, backing %s, cache=%s' % (name, tool, opts, backing, cache),
                  flush=True)
            img = self.p('%s.qcow2' % name)
            base = self.create(img, tool, opts, backing)
            for _ in range(rounds):
                base = self.round(img, cache, base, 'lazy_refcounts=on' in opts)
            os.unlink(img)
        print('fresh images', flush=True)
        for i, (tool, opts, backing) in enumerate(FRESH):
            img = self.p('fresh%d.qcow2' % i)
            base = self.create(img, tool, opts, backing)
            self.round(img, self.rnd.choice(['writeback', 'unsafe']), base,
                       'lazy_refcounts=on' in opts)
            os.unlink(img)
        s = self.stats
        print('%d kills in %.0f s: %d clean, %d leaks only (%d leaked clusters), %d dirty '
              '(lazy refcounts); %d with an unacknowledged write on disk; %d guest writes '
              'completed, %d sectors of flushed writes verified' % (
                  s['kills'], time.monotonic() - t0, s['clean'], s['leaks'],
                  s['leaked_clusters'], s['dirty'], s['inflight_seen'], s['writes_done'],
                  s['durable_sectors']), flush=True)
        self.assertEqual(s['kills'], sum(x[-1] for x in SERIES) + len(FRESH))
        self.assertEqual(s['clean'] + s['leaks'], s['kills'])
        # the kills landed in the middle of the guest's writes: some of
        # them interrupted an allocation (leaks) or left a write that
        # the guest never saw complete on disk
        self.assertGreater(s['leaks'] + s['inflight_seen'], 0)
        self.assertGreater(s['durable_sectors'], 0)

    def test_qtest_guest_stop(self):
        """Writes to fresh clusters keep their L2 entries in kvmpc's cache
        until a flush: a copy of the image taken then is what a crash
        leaves (leaked clusters, the writes missing).  QMP 'stop' flushes
        every image, as QEMU's vm_stop: a copy taken after it is clean and
        has every write, while kvmpc still runs."""
        img = self.p('stop.qcow2')
        base = self.create(img, 'qemu-img', 'cluster_size=65536', None)
        qmp_path = self.p('qmp.sock')
        proc, qt = self.start(img, 'writeback',
                              ['-qmp', 'unix:%s,server=on,wait=off' % qmp_path])
        qmp = None
        try:
            qt.setup()
            ops = []
            lbas = self.rnd.sample(range(0, NSECT // 128), 40)
            for k in range(0, len(lbas), QDEPTH):
                batch = []
                for c in lbas[k:k + QDEPTH]:
                    self.wid += 1
                    op = Op('write', self.wid, c * 128 + 8, 8)
                    ops.append(op)
                    qt.submit(op)
                    batch.append(op)
                deadline = time.monotonic() + 20
                while batch and time.monotonic() < deadline:
                    for op in qt.poll():
                        batch.remove(op)
                self.assertFalse(batch, 'writes did not complete')
            copy = self.p('copy.qcow2')
            shutil.copyfile(img, copy)
            q = run(QEMU_IMG, 'check', '--output=json', '-f', 'qcow2', copy, ok=(3,))
            self.assertGreaterEqual(json.loads(q.stdout).get('leaks', 0), 40)

            qmp = QMPClient.unix(qmp_path)
            qmp.negotiate()
            qmp.cmd('stop')
            shutil.copyfile(img, copy)
            self.assertIsNone(proc.poll(), 'kvmpc exited at stop')
        finally:
            if qmp:
                qmp.close()
            proc.kill()
            proc.wait()
            qt.conn.close()
            self.errlog.close()
        run(QEMU_IMG, 'check', '-f', 'qcow2', copy)
        raw = self.p('out.raw')
        run(QEMU_IMG, 'convert', '-f', 'qcow2', '-O', 'raw', copy, raw)
        with open(raw, 'rb') as f:
            actual = f.read()
        expect = bytearray(base)
        for op in ops:
            for lba in range(op.lba, op.lba + op.n):
                expect[lba * SECTOR:(lba + 1) * SECTOR] = pattern(op.id, lba)
        if actual != expect:
            bad = next(i for i in range(NSECT) if actual[i * SECTOR:(i + 1) * SECTOR]
                       != expect[i * SECTOR:(i + 1) * SECTOR])
            raise AssertionError('after stop, sector %d holds %s' % (
                bad, describe(actual[bad * SECTOR:(bad + 1) * SECTOR])))
        print('stop: 40 writes to fresh clusters, copy before stop leaks, after stop clean',
              flush=True)

    # ---- a Linux guest ------------------------------------------------------

    def linux_initrd(self):
        """The test initramfs plus virtio_pci and virtio_blk (as
        linux-modules.inc.sh builds it); None if the guest images are not
        built (tests/images/)."""
        b = os.environ.get('KVMPC_BUILD', os.path.dirname(KVMPC))
        kernel = os.path.join(b, 'images', 'linux', 'vmlinuz')
        initramfs = os.path.join(b, 'images', 'initramfs.cpio.gz')
        mods = os.path.join(b, 'images', 'linux', 'modules')
        if not all(os.path.exists(x) for x in (kernel, initramfs,
                                               os.path.join(mods, 'modules.dep'))):
            return None
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        root, extra = self.p('modroot'), self.p('extra.cpio.gz')
        os.makedirs(os.path.join(root, 'lib', 'modules'))
        run('bash', '-c', '. "$1/tests/images/lib.sh" && add_modules "$2" "$3" virtio_pci '
            'virtio_blk ata_piix sd_mod && pack_initramfs "$2" "$4"', 'x', top, root, mods, extra)
        initrd = self.p('initrd.gz')
        with open(initrd, 'wb') as out:
            for x in (initramfs, extra):
                with open(x, 'rb') as f:
                    out.write(f.read())
        return kernel, initrd

    # The guest: random 4 KiB-block writes of 1..32 blocks with dd
    # conv=fsync (and, on virtio-blk, now and then a blkdiscard) to the
    # disk, one after the other.  Write i's bytes: "i\n" repeated.  Each
    # request is logged in sector i - first of a second (raw) disk: "W|X i
    # block count start" written and fsynced before it begins, rewritten
    # "... done" once it returned (dd's fsync: a FLUSH of the disk).  The
    # log survives the kill like everything kvmpc wrote; the console
    # cannot be trusted for that (the tty sends its output later).  "D i"
    # on the console only paces the host.
    GUEST = """for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
j=0; while [ ! -b /dev/%(a)s ] || [ ! -b /dev/%(b)s ]; do j=$((j+1)); [ $j -gt 600 ] && break; sleep 0.1; done
# the log disk is the 1 MiB one (IDE disks may come up in either order)
if [ "$(cat /sys/block/%(a)s/size)" = 2048 ]; then L=%(a)s D=%(b)s; else L=%(b)s D=%(a)s; fi
log() { echo "$*" | dd of=/dev/$L bs=512 seek=$((i - %(first)d - 1)) conv=sync,notrunc,fsync 2>/dev/null || echo "GUEST-FAILED log"; }
i=%(first)d
while :; do
  i=$((i+1)); o=$(( (RANDOM * 32768 + RANDOM) %% %(blocks)d )); n=$(( RANDOM %% 32 + 1 ))
  [ $((o + n)) -gt %(blocks)d ] && n=$((%(blocks)d - o))
  if [ $((RANDOM %% 8)) -lt %(discard)d ]; then
    log X $i $o $n start
    blkdiscard -o $((o * 4096)) -l $((n * 4096)) /dev/$D || echo "GUEST-FAILED discard"
    log X $i $o $n done
  else
    log W $i $o $n start
    yes $i | head -c $((n * 4096)) | dd of=/dev/$D bs=4096 seek=$o conv=notrunc,fsync 2>/dev/null || echo "GUEST-FAILED dd"
    log W $i $o $n done
  fi
  echo "D $i"
done"""

    @staticmethod
    def linux_op(kind, i, o, n):
        """The guest's request i: n 4 KiB blocks from block o."""
        if kind == 'X':
            return Op('discard', i, o * 8, n * 8)
        rep = b'%d\n' % i
        whole = rep * (2 * SECTOR // len(rep) + 2)
        return Op('write', i, o * 8, n * 8,
                  gen=lambda lba: whole[(lba - o * 8) * SECTOR % len(rep):][:SECTOR])

    def linux_round(self, img, kernel, initrd, base, first_id, ide, lazy):
        blocks = DISK // 4096
        script = self.GUEST % dict(first=first_id, blocks=blocks, a='sda' if ide else 'vda',
                                   b='sdb' if ide else 'vdb', discard=0 if ide else 1)
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        cmdline = run('bash', os.path.join(top, 'tests', 'images', 'busybox-initramfs.sh'),
                      '--cmdline', script).stdout.decode().strip()
        size0 = os.path.getsize(img)
        logdisk = self.p('log.raw')
        with open(logdisk, 'wb') as f:
            f.truncate(1 << 20)
        self.errlog = open(self.p('kvmpc.err'), 'wb')
        d = 'file=%s,format=qcow2,' % img
        ld = 'file=%s,format=raw,' % logdisk
        drives = (['-drive', d + 'if=ide,index=0', '-drive', ld + 'if=ide,index=1'] if ide else
                  ['-drive', d + 'if=none,id=d0,discard=unmap',
                   '-device', 'virtio-blk-pci,drive=d0',
                   '-drive', ld + 'if=none,id=d1', '-device', 'virtio-blk-pci,drive=d1'])
        proc = subprocess.Popen(
            [KVMPC, '-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot', '-kernel', kernel,
             '-initrd', initrd, '-append', 'console=ttyS0 panic=-1 ' + cmdline] + drives,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.errlog)
        out = []
        stop_after = self.rnd.randrange(10, 60)
        deadline = time.monotonic() + 240
        try:
            for raw in iter(proc.stdout.readline, b''):
                line = raw.decode(errors='replace').strip()
                out.append(line)
                if 'FAILED' in line or 'KVMPC-TEST-EXIT' in line:
                    raise AssertionError('the guest: %s' % '\n'.join(out[-30:]))
                if time.monotonic() > deadline:
                    raise AssertionError('the guest is too slow: %s' % '\n'.join(out[-30:]))
                w = line.split()
                if len(w) == 2 and w[0] == 'D' and w[1].isdigit() and \
                        int(w[1]) - first_id >= stop_after:
                    break
            else:
                raise AssertionError('kvmpc ended: %s\n%s' % ('\n'.join(out[-30:]),
                                                             self.errors()))
            # kill while a write runs: its "start" record is in the log
            # (which kvmpc wrote to the page cache) and its "done" not yet
            for _ in range(20000):
                with open(logdisk, 'rb') as f:
                    recs = f.read(1 << 20).rstrip(b'\0')
                rec = recs[recs.rfind(b'\0') + 1:].split()
                if rec and rec[0] == b'W' and rec[-1] == b'start':
                    break
                time.sleep(0.0005)
            time.sleep(self.rnd.uniform(0, 0.005))
            self.assertIsNone(proc.poll(), 'kvmpc died before the kill')
            proc.kill()
            rc = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            self.errlog.close()
        self.assertEqual(rc, -9, 'kvmpc was not killed by the SIGKILL: exit %s' % rc)
        # the model from the log: requests in order, each started, maybe done
        model = Model()
        done_writes = inflight = 0
        last = first_id
        with open(logdisk, 'rb') as f:
            log = f.read()
        for k in range(len(log) // SECTOR):
            rec = log[k * SECTOR:(k + 1) * SECTOR].rstrip(b'\0').split(b'\n')[0].split()
            if not rec:
                break
            self.assertEqual(len(rec), 5, (k, log[k * SECTOR:k * SECTOR + 64]))
            kind, i, o, n, state = rec[0].decode(), *map(int, rec[1:4]), rec[4]
            self.assertEqual(i, first_id + 1 + k, rec)
            op = self.linux_op(kind, i, o, n)
            model.submitted(op)
            last = i
            if state == b'done':
                model.completed(op)
                if op.kind == 'write':     # dd's fsync: a flush after it
                    f = Op('flush', -op.id)
                    model.submitted(f)
                    model.completed(f)
                    done_writes += 1
            else:
                inflight += 1
        self.assertGreaterEqual(last - first_id, stop_after)
        return self.after_kill(img, model, base, lazy, done_writes, inflight, size0), last

    # (name, create options, backing, IDE instead of virtio-blk, rounds)
    LINUX = [
        ('virtio-64k-rawbacking', 'cluster_size=65536', 'raw', False, 3),
        ('virtio-4k-lazy-qcow2backing', 'cluster_size=4096,lazy_refcounts=on', 'qcow2', False, 2),
        ('ide-16k-rc4', 'cluster_size=16384,refcount_bits=4', None, True, 2),
    ]

    def test_linux_guest(self):
        got = self.linux_initrd()
        if not got:
            self.skipTest('the guest images are not built (tests/images/debian-kernel.sh, '
                          'busybox-initramfs.sh)')
        kernel, initrd = got
        t0 = time.monotonic()
        last = 0
        for name, opts, backing, ide, rounds in self.LINUX:
            print('Linux series %s: %s, backing %s' % (name, opts, backing), flush=True)
            img = self.p(name + '.qcow2')
            base = self.create(img, 'qemu-img', opts, backing)
            for r in range(rounds):
                base, last = self.linux_round(img, kernel, initrd, base, last + 1000, ide,
                                              'lazy_refcounts=on' in opts)
            os.unlink(img)
        s = self.stats
        print('Linux: %d kills in %.0f s: %d clean, %d leaks only; %d with an unacknowledged '
              'write on disk; %d fsynced dd writes, %d sectors of them verified' % (
                  s['kills'], time.monotonic() - t0, s['clean'], s['leaks'], s['inflight_seen'],
                  s['writes_done'], s['durable_sectors']), flush=True)
        self.assertEqual(s['kills'], sum(x[-1] for x in self.LINUX))
        self.assertGreater(s['durable_sectors'], 0)

if __name__ == '__main__':
    unittest.main(verbosity=2)
