#!/usr/bin/env python3
"""-netdev tap with fds the caller opened, as libvirt passes them
(docs/net.md, "-netdev tap"), against kvmpc under -accel qtest.

The test moves itself into a network namespace of its own (unshare), opens
/dev/net/tun there with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (and IFF_MULTI_QUEUE
for two queues) and hands the fds to kvmpc either by inheritance
(fd=N, fds=N:M) or over the QMP socket with SCM_RIGHTS and `getfd`
(netdev_add fd=NAME / fds=A:B).  It plays the guest's virtio-net driver
(legacy virtio-pci over qtest) and the host side of the tap (a packet
socket on the interface), and checks that frames cross both ways on every
queue pair: a frame the guest sends on transmit queue i reaches the
interface, and the reply the kernel steers back to the tap queue that flow
came from (tun's automatic flow steering) arrives on receive queue i and on
no other.  Also: info network, the errors (unknown fd name, an fd that is
no tap, fds count against queues=, vhost=on, vnet_hdr=on on a tap without
IFF_VNET_HDR) and that kvmpc survives them.  Nothing leaves the namespace.

SKIPs without /dev/net/tun or when a network namespace cannot be created
(no CAP_SYS_ADMIN).

usage: test_net_tap_fd.py [KVMPC]        (or KVMPC=path in the environment)
"""
import ctypes
import fcntl
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPError  # noqa: E402
from nic_peer import (F_CTRL_VQ, F_MAC, F_MQ, E1000Driver, VirtioNetDriver,  # noqa: E402
                      udp_frame)
from qtest_peer import QTestQMPCase, main  # noqa: E402

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE = 0x2, 0x1000, 0x4000, 0x100
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

GUEST_MAC = bytes.fromhex('525400123456')
HOST_MAC = bytes.fromhex('02000000ab01')
MARK = b'KVMPC-TAPFD '

_libc = ctypes.CDLL(None, use_errno=True)
_orig_ns = None
_skip = None


def setUpModule():
    """Every test runs in one network namespace of the test's own."""
    global _orig_ns, _skip
    if not os.path.exists('/dev/net/tun'):
        _skip = 'no /dev/net/tun'
        return
    _orig_ns = os.open('/proc/self/ns/net', os.O_RDONLY)
    if _libc.unshare(CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        os.close(_orig_ns)
        _orig_ns = None
        _skip = 'cannot create a network namespace (unshare: %s)' % os.strerror(e)
        return
    # nothing of the kernel's own (IPv6 autoconfiguration) on the taps
    try:
        with open('/proc/sys/net/ipv6/conf/default/disable_ipv6', 'w') as f:
            f.write('1')
    except OSError:
        pass


def tearDownModule():
    if _orig_ns is not None:
        _libc.setns(_orig_ns, CLONE_NEWNET)    # the namespace goes with its last user
        os.close(_orig_ns)


def tap_open(name, mq=False, vnet_hdr=True):
    """An fd on tap interface name (created by the first open)."""
    fd = os.open('/dev/net/tun', os.O_RDWR)
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if vnet_hdr else 0) | (IFF_MULTI_QUEUE if mq else 0)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH22x', name.encode(), flags))
    except OSError:
        os.close(fd)
        raise
    return fd


def link_up(name):
    subprocess.run(['ip', 'link', 'set', name, 'address', HOST_MAC.hex(':'), 'up'], check=True)


def if_exists(name):
    try:
        socket.if_nametoindex(name)
        return True
    except OSError:
        return False


class TapFdTest(QTestQMPCase):
    def setUp(self):
        if _skip:
            self.skipTest(_skip)
        self.make_tmp('kvmpc-tapfd-')
        self.fds = []
        self.proc = None

    def tearDown(self):
        if self.proc is not None:
            super().tearDown()
        for fd in self.fds:
            os.close(fd)

    def getfd(self, name, fd):
        r = self.qmp.request('getfd', {'fdname': name}, fds=[fd])
        self.assertNotIn('error', r, r)

    def packet_socket(self, ifname):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((ifname, 0))
        s.settimeout(0.2)
        self.addCleanup(s.close)
        return s

    def host_wait(self, ps, payload, timeout=5.0):
        """A frame the tap interface received (from kvmpc) that carries payload."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                data, addr = ps.recvfrom(65536)
            except socket.timeout:
                continue
            if addr[2] != PACKET_OUTGOING and payload in data:
                return data
        self.fail('the interface never got %r' % payload)

    def flow_check(self, drv, ps, pair, tag):
        """Guest -> interface on transmit queue `pair`, then the reply of the
        same flow (steered by tun to the tap queue the flow came from) on
        receive queue `pair` only."""
        out = MARK + b'g2h %s %d' % (tag, pair)
        back = MARK + b'h2g %s %d' % (tag, pair)
        sport, dport = 40000 + pair * 7 + len(tag), 50000 + pair * 11
        drv.send(udp_frame(HOST_MAC, GUEST_MAC, '10.9.0.2', '10.9.0.1', sport, dport, out), pair)
        got = self.host_wait(ps, out)
        self.assertEqual(got[:6], HOST_MAC)
        ps.send(udp_frame(GUEST_MAC, HOST_MAC, '10.9.0.1', '10.9.0.2', dport, sport, back))
        frames = drv.received(pair, 5.0)
        self.assertTrue(any(back in f for f in frames),
                        'receive queue %d never got the reply (%d other frames)' %
                        (pair, len(frames)))
        for other in range(drv.pairs()):
            if other != pair:
                stray = [f for f in drv.received(other, 0.2) if back in f]
                self.assertFalse(stray, 'the reply of pair %d arrived on queue %d' % (pair, other))

    def mq_traffic(self, ifname, tag):
        drv = VirtioNetDriver(self.qt, 4)
        f = drv.start(F_MAC | F_CTRL_VQ | F_MQ)
        self.assertTrue(f & F_MQ, 'MQ not offered')
        self.assertEqual(drv.pairs(), 2)
        self.assertEqual(drv.set_pairs(2), 0)      # VIRTIO_NET_OK
        ps = self.packet_socket(ifname)
        for pair in (0, 1):
            drv.post_rx(pair, 16)
        for pair in (1, 0):
            self.flow_check(drv, ps, pair, tag)

    def test_fds_inherited_two_queues(self):
        """fds=N:M: a two-queue tap the caller opened, virtio-net mq=on."""
        a = tap_open('kvtfd0', mq=True)
        b = tap_open('kvtfd0', mq=True)
        self.fds += [a, b]
        link_up('kvtfd0')
        self.start('-netdev', 'tap,id=n1,fds=%d:%d,vhost=off' % (a, b),
                   '-device', 'virtio-net-pci,netdev=n1,mq=on,vectors=6,addr=4',
                   pass_fds=(a, b))
        info = self.hmp('info network')
        self.assertIn('n1: index=0,type=tap,fd=%d,ifname=kvtfd0' % a, info)
        self.assertIn('n1: index=1,type=tap,fd=%d,ifname=kvtfd0' % b, info)
        self.mq_traffic('kvtfd0', b'fds')

    def test_queues_ifname(self):
        """ifname=,queues=2: kvmpc opens the tap twice with IFF_MULTI_QUEUE."""
        self.start('-netdev', 'tap,id=n1,ifname=kvtq0,queues=2,script=no,downscript=no',
                   '-device', 'virtio-net-pci,netdev=n1,mq=on,vectors=6,addr=4')
        info = self.hmp('info network')
        self.assertIn('n1: index=1,type=tap,ifname=kvtq0', info)
        link_up('kvtq0')
        self.mq_traffic('kvtq0', b'ifname')

    def test_e1000_on_two_queues(self):
        """A single-queue NIC on a two-queue tap has queue 0: the other is
        detached, so every flow the host sends reaches it (none is steered
        to a queue nobody reads)."""
        a = tap_open('kvtfd2', mq=True)
        b = tap_open('kvtfd2', mq=True)
        self.fds += [a, b]
        link_up('kvtfd2')
        self.start('-netdev', 'tap,id=n1,fds=%d:%d' % (a, b), '-device', 'e1000,netdev=n1',
                   pass_fds=(a, b))
        nic = E1000Driver(self.qt)
        ps = self.packet_socket('kvtfd2')
        sent = []
        for i in range(8):
            f = udp_frame(GUEST_MAC, HOST_MAC, '10.9.0.1', '10.9.0.2', 7000 + i, 8000 + 3 * i,
                          MARK + b'e1000 flow %d' % i + b'.' * 16)
            ps.send(f)
            sent.append(f)
        got = []
        while len(got) < len(sent):
            frames = nic.received(5.0)
            if not frames:
                break
            got += [f for f in frames if MARK in f]
        self.assertEqual(sorted(got), sorted(sent))

    def test_fd_inherited_one_queue(self):
        """fd=N: one queue, virtio-net without mq."""
        a = tap_open('kvtfd1')
        self.fds.append(a)
        link_up('kvtfd1')
        self.start('-netdev', 'tap,id=n1,fd=%d' % a,
                   '-device', 'virtio-net-pci,netdev=n1,addr=4', pass_fds=(a,))
        self.assertIn('n1: index=0,type=tap,fd=%d,ifname=kvtfd1' % a, self.hmp('info network'))
        drv = VirtioNetDriver(self.qt, 4)
        drv.start(F_MAC)
        drv.post_rx(0, 8)
        self.flow_check(drv, self.packet_socket('kvtfd1'), 0, b'fd')

    def test_getfd_netdev_add(self):
        """getfd over the QMP socket, then netdev_add fd=NAME (libvirt's
        hotplug path), joined to the NIC's hub with hubport netdev=;
        then fds=A:B for two queues, and netdev_del closes them."""
        self.start('-netdev', 'hubport,id=hp0,hubid=1',
                   '-device', 'virtio-net-pci,netdev=hp0,addr=4')
        a = tap_open('kvtgf0')
        link_up('kvtgf0')
        self.getfd('tapA', a)
        os.close(a)                 # kvmpc's copy is the only one now
        self.qmp.cmd('netdev_add', type='tap', id='t1', fd='tapA', vhost=False)
        with self.assertRaises(QMPError) as e:     # taken from the table
            self.qmp.cmd('closefd', fdname='tapA')
        self.assertIn("'tapA' not found", e.exception.desc)
        self.qmp.cmd('netdev_add', type='hubport', id='hp1', hubid=1, netdev='t1')
        info = self.hmp('info network')
        self.assertIn('ifname=kvtgf0', info)
        self.assertIn('hp1: index=0,type=hubport,hub=1', info)
        drv = VirtioNetDriver(self.qt, 4)
        drv.start(F_MAC)
        drv.post_rx(0, 8)
        self.flow_check(drv, self.packet_socket('kvtgf0'), 0, b'getfd')

        # two queues by name; kvmpc holds the interface until netdev_del
        b0, b1 = tap_open('kvtgf1', mq=True), tap_open('kvtgf1', mq=True)
        self.getfd('q0', b0)
        self.getfd('q1', b1)
        os.close(b0)
        os.close(b1)
        self.qmp.cmd('netdev_add', type='tap', id='t2', fds='q0:q1')
        info = self.hmp('info network')
        self.assertIn('t2: index=0,type=tap,', info)
        self.assertIn('t2: index=1,type=tap,', info)
        self.assertTrue(if_exists('kvtgf1'))
        self.qmp.cmd('netdev_del', id='t2')
        self.assertNotIn('t2:', self.hmp('info network'))
        self.assertFalse(if_exists('kvtgf1'), 'the queues were not closed')

    def test_errors(self):
        self.start('-netdev', 'hubport,id=hp0,hubid=1')

        def refused(args, text, fds=None):
            for name, fd in (fds or {}).items():
                self.getfd(name, fd)
            r = self.qmp.request('netdev_add', args)   # (keys as they are: vnet_hdr)
            self.assertIn('error', r, args)
            self.assertIn(text, r['error']['desc'])

        refused(dict(type='tap', id='e1', fd='nosuch'), "File descriptor named 'nosuch' not found")
        r, w = os.pipe()
        self.fds += [r, w]
        refused(dict(type='tap', id='e2', fd='pipe'), 'is not a TAP device', {'pipe': r})
        c0, c1 = tap_open('kvterr0', mq=True), tap_open('kvterr0', mq=True)
        self.fds += [c0, c1]
        refused(dict(type='tap', id='e3', fds='c0:c1', queues=3), 'must match the queues',
                {'c0': c0, 'c1': c1})
        # c0 is still there (refused before the names were looked at); now
        # it is taken, and kvmpc closes it as the netdev fails
        refused(dict(type='tap', id='e4', fds='c0:nosuch'), "'nosuch' not found")
        refused(dict(type='tap', id='e4', fd='c0'), "'c0' not found")
        refused(dict(type='tap', id='e5', fds='d0:d1'), 'all must be queues of one interface',
                {'d0': self.own(tap_open('kvterr1')), 'd1': self.own(tap_open('kvterr2'))})
        one = self.own(tap_open('kvterr4'))
        refused(dict(type='tap', id='e5', fds='s0:s1'), 'not opened with IFF_MULTI_QUEUE',
                {'s0': one, 's1': one})
        refused(dict(type='tap', id='e6', fd='v', vhost=True), 'vhost is not supported',
                {'v': c0})
        nohdr = self.own(tap_open('kvterr3', vnet_hdr=False))
        refused(dict(type='tap', id='e7', fd='h', vnet_hdr=True), 'no IFF_VNET_HDR', {'h': nohdr})
        self.assertEqual(self.qmp.cmd('query-status')['status'], 'running')
        self.assertNotIn('e', [line[0] for line in self.hmp('info network').splitlines()])

    def own(self, fd):
        self.fds.append(fd)
        return fd

    def test_cmdline_errors(self):
        """The same from the command line: kvmpc exits with the error."""
        plain = self.own(tap_open('kvtcl0', vnet_hdr=False))
        m0, m1 = self.own(tap_open('kvtcl1', mq=True)), self.own(tap_open('kvtcl1', mq=True))
        r, w = os.pipe()
        self.fds += [r, w]
        cases = [
            ('tap,id=n,fd=%d,vnet_hdr=on' % plain, (plain,), 'no IFF_VNET_HDR'),
            ('tap,id=n,fds=%d:%d,queues=1' % (m0, m1), (m0, m1), 'must match the queues'),
            ('tap,id=n,fd=%d' % r, (r,), 'is not a TAP device'),
            ('tap,id=n,fd=tapname', (), 'only known to a monitor command'),
            ('tap,id=n,ifname=kvtcl2,vhost=on', (), 'vhost is not supported'),
        ]
        for spec, fds, text in cases:
            p = subprocess.run([self.kvmpc, '-accel', 'qtest', '-qtest', 'null', '-display',
                                'none', '-nodefaults', '-netdev', spec], pass_fds=fds,
                               capture_output=True, timeout=20)
            self.assertEqual(p.returncode, 1, spec)
            self.assertIn(text, p.stderr.decode(), spec)
        # vhost=off is accepted
        p = subprocess.run([self.kvmpc, '-accel', 'qtest', '-qtest', 'null', '-display', 'none',
                            '-nodefaults', '-netdev', 'tap,id=n,fd=%d,vhost=off' % plain,
                            '-S', '-monitor', 'none', '-qmp', 'stdio'],
                           pass_fds=(plain,), input=b'{"execute":"qmp_capabilities"}\n'
                           b'{"execute":"quit"}\n', capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr.decode())


if __name__ == '__main__':
    main()
