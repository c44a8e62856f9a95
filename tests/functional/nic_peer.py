"""Guest-side NIC drivers for functional tests that play the guest over
qtest (test_net_tap_fd, test_net_qmp): a legacy virtio-net-pci driver with
multiqueue and the control queue, a minimal e1000 one, a UDP/IPv4 frame
builder.  The tests run kvmpc with qtest_peer.Kvmpc (one under -accel
qtest with its qtest and QMP connections; a test may run several).
"""
import base64
import socket
import struct
import time


def ip_csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def udp_frame(dst, src, sip, dip, sport, dport, payload):
    """An Ethernet frame: IPv4 (header checksum set), UDP (no checksum)."""
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(sip), socket.inet_aton(dip))
    ip = ip[:10] + struct.pack('!H', ip_csum(ip)) + ip[12:]
    return dst + src + b'\x08\x00' + ip + udp


def _val(reply):
    return int(reply.split()[1], 16)


def pci_find(qt, vendor_device):
    """The slot on bus 0 whose ID dword is vendor_device."""
    for slot in range(32):
        qt.cmd('outl 0xcf8 0x%x' % (0x80000000 | slot << 11))
        if _val(qt.cmd('inl 0xcfc')) == vendor_device:
            return slot
    raise AssertionError('no PCI function %08x on bus 0' % vendor_device)


class Allocator:
    def __init__(self, base):
        self.next = base

    def __call__(self, size):
        a = self.next
        self.next = (self.next + size + 4095) & ~4095
        return a


def wait_for(fn, timeout):
    """fn() until it returns something true, or timeout: its last value."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(0.01)


class VirtQueue:
    """A legacy split ring in guest RAM."""

    def __init__(self, drv, index, size, base):
        self.drv, self.index, self.size = drv, index, size
        self.desc = base
        self.avail = base + 16 * size
        self.used = (self.avail + 6 + 2 * size + 4095) & ~4095
        self.end = self.used + 6 + 8 * size
        self.next_desc = 0
        self.avail_idx = 0
        self.last_used = 0

    def add(self, bufs):
        """bufs: [(addr, len, device_writable)]; returns the head."""
        qt = self.drv.qt
        head = self.next_desc
        for i, (addr, length, write) in enumerate(bufs):
            d = (head + i) % self.size
            last = i == len(bufs) - 1
            flags = (0 if last else 1) | (2 if write else 0)
            raw = struct.pack('<QIHH', addr, length, flags, (d + 1) % self.size)
            qt.cmd('write 0x%x 16 0x%s' % (self.desc + 16 * d, raw.hex()))
        self.next_desc = (head + len(bufs)) % self.size
        qt.cmd('writew 0x%x 0x%x' % (self.avail + 4 + 2 * (self.avail_idx % self.size), head))
        self.avail_idx = (self.avail_idx + 1) & 0xffff
        qt.cmd('writew 0x%x 0x%x' % (self.avail + 2, self.avail_idx))
        return head

    def kick(self):
        self.drv.qt.outw(self.drv.io + 0x10, self.index)

    def pop_used(self):
        """[(head, len)] the device used since the last call."""
        qt = self.drv.qt
        idx = _val(qt.cmd('readw 0x%x' % (self.used + 2)))
        out = []
        while self.last_used != idx:
            e = self.used + 4 + 8 * (self.last_used % self.size)
            out.append((_val(qt.cmd('readl 0x%x' % e)), _val(qt.cmd('readl 0x%x' % (e + 4)))))
            self.last_used = (self.last_used + 1) & 0xffff
        return out


F_MAC, F_CTRL_VQ, F_MQ = 1 << 5, 1 << 17, 1 << 22


class VirtioNetDriver:
    """virtio-net-pci through its legacy I/O BAR (programmed at io): no
    MRG_RXBUF, so every buffer starts with a 10-byte header.  Queues:
    rx0, tx0, rx1, tx1, ..., ctrl (as many as the device has)."""
    HDR = 10
    BUF = 2048

    def __init__(self, qt, slot=None, io=0xc000, mem=0x400000):
        self.qt = qt
        self.io = io
        slot = pci_find(qt, 0x10001af4) if slot is None else slot
        self.cfg = 0x80000000 | slot << 11
        qt.cmd('outl 0xcf8 0x%x' % self.cfg)
        assert _val(qt.cmd('inl 0xcfc')) == 0x10001af4, 'no virtio-net at the slot'
        qt.cmd('outl 0xcf8 0x%x' % (self.cfg | 0x10))
        qt.cmd('outl 0xcfc 0x%x' % io)
        qt.cmd('outl 0xcf8 0x%x' % (self.cfg | 0x04))
        qt.cmd('outw 0xcfc 0x7')                   # I/O, memory, bus master
        self.alloc = Allocator(mem)
        self.rx_bufs = {}                          # (queue, head) -> addr

    def start(self, want=F_MAC):
        """Negotiates want & offered, sets up every queue, DRIVER_OK."""
        qt, io = self.qt, self.io
        qt.outb(io + 0x12, 0)
        qt.outb(io + 0x12, 1 | 2)
        self.features = _val(qt.cmd('inl 0x%x' % io)) & want
        qt.cmd('outl 0x%x 0x%x' % (io + 4, self.features))
        self.vqs = []
        for q in range(64):
            qt.outw(io + 0xe, q)
            size = qt.inw(io + 0xc)
            if not size:
                break
            base = self.alloc(0)
            vq = VirtQueue(self, q, size, base)
            self.alloc(vq.end - base)
            qt.cmd('outl 0x%x 0x%x' % (io + 8, base >> 12))
            self.vqs.append(vq)
        qt.outb(io + 0x12, 1 | 2 | 4)
        return self.features

    def pairs(self):
        return len(self.vqs) // 2

    def set_pairs(self, n):
        """VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET: the device's ack (0: OK)."""
        ctrl = self.vqs[-1]
        a = self.alloc(16)
        self.qt.cmd('write 0x%x 4 0x%s' % (a, struct.pack('<BBH', 4, 0, n).hex()))
        self.qt.cmd('writeb 0x%x 0xff' % (a + 8))
        head = ctrl.add([(a, 2, False), (a + 2, 2, False), (a + 8, 1, True)])
        ctrl.kick()
        used = wait_for(ctrl.pop_used, 5.0)
        assert used and used[0][0] == head, used
        return _val(self.qt.cmd('readb 0x%x' % (a + 8)))

    def post_rx(self, pair, count):
        vq = self.vqs[2 * pair]
        for _ in range(count):
            a = self.alloc(self.BUF)
            head = vq.add([(a, self.BUF, True)])
            self.rx_bufs[(vq.index, head)] = a
        vq.kick()

    def received(self, pair=0, timeout=5.0):
        """The frames that arrived on receive queue `pair` (waits up to
        timeout for the first)."""
        vq = self.vqs[2 * pair]
        frames = []
        for head, length in wait_for(vq.pop_used, timeout):
            a = self.rx_bufs.pop((vq.index, head))
            data = base64.b64decode(self.qt.cmd('b64read 0x%x %d' % (a, length)).split()[1])
            frames.append(data[self.HDR:])
        return frames

    def send(self, frame, pair=0):
        vq = self.vqs[2 * pair + 1]
        a = self.alloc(self.HDR + len(frame))
        self.qt.cmd('b64write 0x%x %d %s' % (a, self.HDR + len(frame),
                                            base64.b64encode(bytes(self.HDR) + frame).decode()))
        head = vq.add([(a, self.HDR + len(frame), False)])
        vq.kick()
        used = wait_for(vq.pop_used, 5.0)
        assert used and used[0][0] == head, 'transmit queue %d: chain not used' % pair


class E1000Driver:
    """An 82540EM with legacy descriptors: 16 receive buffers of 2 KiB,
    promiscuous, broadcast, CRC stripped; one frame sent at a time."""
    N = 16

    def __init__(self, qt, mem=0x800000, mmio=0xe8000000):
        self.qt = qt
        slot = pci_find(qt, 0x100e8086)
        cfg = 0x80000000 | slot << 11
        qt.cmd('outl 0xcf8 0x%x' % (cfg | 0x10))
        qt.cmd('outl 0xcfc 0x%x' % mmio)
        qt.cmd('outl 0xcf8 0x%x' % (cfg | 0x04))
        qt.cmd('outw 0xcfc 0x7')
        self.mmio = mmio
        alloc = Allocator(mem)
        self.rx_ring, self.tx_ring = alloc(16 * self.N), alloc(16 * self.N)
        self.rx_buf = [alloc(2048) for _ in range(self.N)]
        self.tx_buf = alloc(2048)
        for i, b in enumerate(self.rx_buf):
            qt.cmd('writeq 0x%x 0x%x' % (self.rx_ring + 16 * i, b))
            qt.cmd('writeq 0x%x 0' % (self.rx_ring + 16 * i + 8))
        self.wr(0x2800, self.rx_ring)                  # RDBAL
        self.wr(0x2804, 0)
        self.wr(0x2808, 16 * self.N)                   # RDLEN
        self.wr(0x2810, 0)                             # RDH
        self.wr(0x2818, self.N - 1)                    # RDT
        self.wr(0x3800, self.tx_ring)                  # TDBAL
        self.wr(0x3804, 0)
        self.wr(0x3808, 16 * self.N)                   # TDLEN
        self.wr(0x3810, 0)
        self.wr(0x3818, 0)
        self.wr(0x100, 1 << 1 | 1 << 3 | 1 << 4 | 1 << 15 | 1 << 26)  # RCTL EN UPE MPE BAM SECRC
        self.wr(0x400, 1 << 1 | 1 << 3)                # TCTL EN PSP
        self.rx_next = 0
        self.tx_next = 0

    def wr(self, reg, v):
        self.qt.cmd('writel 0x%x 0x%x' % (self.mmio + reg, v))

    def send(self, frame):
        d = self.tx_ring + 16 * self.tx_next
        self.qt.cmd('b64write 0x%x %d %s' % (self.tx_buf, len(frame),
                                            base64.b64encode(frame).decode()))
        self.qt.cmd('writeq 0x%x 0x%x' % (d, self.tx_buf))
        # length, CSO 0, CMD EOP|IFCS|RS, status 0
        self.qt.cmd('writeq 0x%x 0x%x' % (d + 8, len(frame) | (0x01 | 0x02 | 0x08) << 24))
        self.tx_next = (self.tx_next + 1) % self.N
        self.wr(0x3818, self.tx_next)
        done = wait_for(lambda: _val(self.qt.cmd('readb 0x%x' % (d + 12))) & 1, 5.0)
        assert done, 'e1000: the transmit descriptor was not written back'

    def received(self, timeout=5.0):
        """The frames that arrived (waits up to timeout for the first)."""
        frames = []

        def ready():
            return _val(self.qt.cmd('readb 0x%x' % (self.rx_ring + 16 * self.rx_next + 12))) & 1

        if not wait_for(ready, timeout):
            return frames
        while ready():
            d = self.rx_ring + 16 * self.rx_next
            length = _val(self.qt.cmd('readw 0x%x' % (d + 8)))
            data = self.qt.cmd('b64read 0x%x %d' % (self.rx_buf[self.rx_next], length))
            frames.append(base64.b64decode(data.split()[1]))
            self.qt.cmd('writeq 0x%x 0' % (d + 8))
            self.wr(0x2818, self.rx_next)               # the buffer goes back
            self.rx_next = (self.rx_next + 1) % self.N
        return frames
