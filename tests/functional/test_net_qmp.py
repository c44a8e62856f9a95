#!/usr/bin/env python3
"""The network layer's monitor commands (docs/net.md), against kvmpc under
-accel qtest: netdev_add/netdev_del for socket, user (with hostfwd) and
hubport backends, their errors, HMP info network and set_link, QMP
set_link and query-rx-filter on a -nic and a -net NIC.  Every socket is on
127.0.0.1.

usage: test_net_qmp.py [KVMPC]        (or KVMPC=path in the environment)
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_peers import free_port  # noqa: E402
from qmp_client import QMPError  # noqa: E402
from qtest_peer import Kvmpc, QTestQMPCase, main  # noqa: E402
from nic_peer import E1000Driver, udp_frame  # noqa: E402


def can_connect(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=2).close()
        return True
    except OSError:
        return False


class NetQmpTest(QTestQMPCase):
    def setUp(self):
        self.make_tmp('kvmpc-netqmp-')
        self.start('-nic', 'user,model=e1000,mac=52:54:00:12:34:99',
                   '-net', 'nic,model=e1000', '-net', 'user,restrict=on')

    def test_netdev_add_del(self):
        port = free_port()
        self.qmp.cmd('netdev_add', type='socket', id='s1', listen='127.0.0.1:%d' % port)
        self.assertTrue(can_connect(port))
        self.assertIn('s1: index=0,type=socket', self.hmp('info network'))
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('netdev_add', type='socket', id='s1', listen='127.0.0.1:%d' % port)
        self.assertIn("Duplicate ID 's1'", e.exception.desc)
        self.qmp.cmd('netdev_del', id='s1')
        self.assertNotIn('s1:', self.hmp('info network'))
        time.sleep(0.1)
        self.assertFalse(can_connect(port))
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('netdev_del', id='s1')
        self.assertIn("'s1' not found", e.exception.desc)

        hport = free_port()
        self.qmp.cmd('netdev_add', type='user', id='u1', restrict=True,
                     hostfwd=[{'str': 'tcp:127.0.0.1:%d-:22' % hport}])
        self.assertTrue(can_connect(hport))     # slirp listens for the guest
        self.qmp.cmd('netdev_del', id='u1')
        time.sleep(0.1)
        self.assertFalse(can_connect(hport))

        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('netdev_add', type='user', id='u2', hostfwd=[{'str': 'tcp:bogus'}])
        self.assertIn('hostfwd', e.exception.desc)
        self.assertNotIn('u2:', self.hmp('info network'))
        with self.assertRaises(QMPError):
            self.qmp.cmd('netdev_add', type='nosuch', id='x')
        with self.assertRaises(QMPError) as e:
            self.qmp.cmd('netdev_add', type='tap', id='t', vhost=True)
        self.assertIn('vhost is not supported', e.exception.desc)
        self.hmp('netdev_add hubport,id=hp,hub=3')
        self.assertIn('hub 3', self.hmp('info network'))
        self.hmp('netdev_del hp')
        self.assertNotIn('hub 3', self.hmp('info network'))

    def test_info_network_and_links(self):
        info = self.hmp('info network')
        self.assertIn('e1000.0: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:99', info)
        self.assertIn('type=user', info)
        self.assertIn('hub 0', info)
        # the -net NIC takes the first default MAC
        self.assertIn('e1000.1: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:56', info)

        filt = self.qmp.cmd('query-rx-filter')
        self.assertEqual([f['name'] for f in filt], ['e1000.0', 'e1000.1'])
        self.assertEqual(filt[0]['main-mac'], '52:54:00:12:34:99')
        self.assertFalse(filt[0]['promiscuous'])
        self.assertIn('error', self.qmp.request('query-rx-filter', {'name': 'nosuch'}))
        self.assertEqual(self.qmp.request('query-rx-filter', {'name': 'e1000.1'})['return'][0]
                         ['main-mac'], '52:54:00:12:34:56')

        self.assertEqual(self.qmp.request('set_link', {'name': 'e1000.0', 'up': False}),
                         {'return': {}})
        self.assertIn('52:54:00:12:34:99 (link down)', self.hmp('info network'))
        self.hmp('set_link e1000.0 on')
        self.assertNotIn('(link down)', self.hmp('info network'))
        self.assertIn('not found', self.hmp('set_link nosuch off'))


def listen_on(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen(1)
    s.settimeout(10)
    return s


class StreamReconnectTest(QTestQMPCase):
    """-netdev stream,server=off,reconnect=1 (QEMU 8.0's option) and the
    NETDEV_STREAM_CONNECTED / _DISCONNECTED events (QEMU 7.2's): the link is
    down while no server is there, the client keeps trying; a server=on
    netdev reports its clients the same way.  Frames across a restart:
    tests/qtest/e1000-test.c e1000/backend-stream-reconnect."""

    def setUp(self):
        self.make_tmp('kvmpc-stream-')
        self.port, self.sport, self.oport = free_port(), free_port(), free_port()
        self.start('-netdev', 'stream,id=s0,server=off,addr.type=inet,addr.host=127.0.0.1,'
                   'addr.port=%d,reconnect=1' % self.port,
                   '-device', 'e1000,netdev=s0,mac=52:54:00:12:34:77',
                   '-netdev', 'stream,id=srv,server=on,addr.type=inet,addr.host=127.0.0.1,'
                   'addr.port=%d' % self.sport,
                   '-netdev', 'stream,id=once,server=off,addr.type=inet,addr.host=127.0.0.1,'
                   'addr.port=%d' % self.oport)

    def s0_line(self):
        info = self.qmp.hmp('info network')
        line = [x for x in info.splitlines() if 's0: index=0,type=stream' in x]
        self.assertEqual(len(line), 1, info)
        return line[0]

    def connected(self, port):
        ev = self.qmp.wait_event('NETDEV_STREAM_CONNECTED', timeout=5)
        self.assertEqual(ev['data'], {'netdev-id': 's0', 'addr': {
            'type': 'inet', 'host': '127.0.0.1', 'port': str(port), 'ipv4': True}})

    def test_client_reconnects(self):
        # nobody listens yet: kvmpc runs, the link is down, it keeps trying
        time.sleep(1.3)
        self.assertIn('(link down)', self.s0_line())
        self.assertIn('reconnecting', self.s0_line())
        self.assertEqual(self.qmp.cmd('query-status')['status'], 'running')
        for _ in range(2):
            srv = listen_on(self.port)
            conn, _ = srv.accept()
            self.connected(self.port)
            self.assertNotIn('(link down)', self.s0_line())
            conn.close()                # the server dies
            srv.close()
            self.assertEqual(self.qmp.wait_event('NETDEV_STREAM_DISCONNECTED')['data'],
                             {'netdev-id': 's0'})
            self.assertIn('(link down)', self.s0_line())
            time.sleep(1.3)             # at least one refused attempt
        # the guest's link is the NIC's: QEMU does not take it down
        self.assertNotIn('52:54:00:12:34:77 (link down)', self.qmp.hmp('info network'))

    def test_server_events(self):
        self.assertIn('srv: index=0,type=stream', self.qmp.hmp('info network'))
        self.assertIn('(link down)', [x for x in self.qmp.hmp('info network').splitlines()
                                      if x.startswith('srv:')][0])
        c = socket.create_connection(('127.0.0.1', self.sport), timeout=5)
        ev = self.qmp.wait_event('NETDEV_STREAM_CONNECTED')
        self.assertEqual(ev['data']['netdev-id'], 'srv')
        self.assertEqual(ev['data']['addr']['port'], str(c.getsockname()[1]))
        c.close()
        self.assertEqual(self.qmp.wait_event('NETDEV_STREAM_DISCONNECTED')['data'],
                         {'netdev-id': 'srv'})

    def test_no_reconnect(self):
        # QEMU 7.2: a client whose server is not there does not stop the
        # VM; without reconnect= its link stays down and it does not retry
        for _ in range(50):             # the refusal is seen by the main loop
            line = [x for x in self.qmp.hmp('info network').splitlines()
                    if x.startswith('once:')][0]
            if 'not connected' in line:
                break
            time.sleep(0.1)
        self.assertIn('type=stream', line)
        self.assertIn('not connected', line)
        self.assertNotIn('reconnecting', line)
        self.assertIn('(link down)', line)
        srv = listen_on(self.oport)
        srv.settimeout(2.5)
        with self.assertRaises(socket.timeout):
            srv.accept()
        srv.close()
        self.assertEqual(self.qmp.cmd('query-status')['status'], 'running')

    def test_errors(self):
        r = self.qmp.request('human-monitor-command', {'command-line': 'info network'})
        self.assertIn('return', r)
        p = subprocess.run([self.kvmpc, '-accel', 'qtest', '-nodefaults', '-display', 'none',
                            '-netdev', 'stream,id=x,server=on,addr.type=inet,'
                            'addr.host=127.0.0.1,addr.port=1,reconnect=2'],
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("'reconnect' option is incompatible with socket in server mode", p.stderr)


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def arp_request(src_mac, sip, tip):
    return (b'\xff' * 6 + src_mac + b'\x08\x06' +
            struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, src_mac, socket.inet_aton(sip),
                        bytes(6), socket.inet_aton(tip)))


class NetHelpTest(unittest.TestCase):
    def test_netdev_help(self):
        p = subprocess.run([QTestQMPCase.kvmpc, '-netdev', 'help'], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], 'Available netdev backend types:')
        self.assertEqual(sorted(lines[1:]),
                         ['dgram', 'hubport', 'socket', 'stream', 'tap', 'user'])


class VmCase(unittest.TestCase):
    """Tests that run one or more kvmpc processes (nic_peer.Kvmpc)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='kvmpc-nethub-')
        self.addCleanup(shutil.rmtree, self.tmp)

    def vm(self, *args, name='vm'):
        v = Kvmpc(QTestQMPCase.kvmpc, self.tmp, args, name=name)
        self.addCleanup(v.close)
        return v

    def udp_peer(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', 0))
        s.settimeout(5)
        self.addCleanup(s.close)
        return s, s.getsockname()[1]

    def recv_marked(self, s, mark):
        while True:
            data = s.recv(65536)
            if mark in data:
                return data


MAC_A = bytes.fromhex('525400123456')
MAC_B = bytes.fromhex('52540000bb01')
PEER = bytes.fromhex('02000000cc01')
PAD = b'.' * 24      # frames over 60 bytes: the e1000 pads shorter ones


class HubForwardTest(VmCase):
    """The legacy hub: a frame goes from the NIC through the hub to the
    backend and back (-net nic -net user|socket, -netdev hubport)."""

    def test_net_nic_user(self):
        """-net nic,model=e1000 -net user: the e1000's ARP request for
        10.0.2.2 crosses hub 0 to libslirp, whose reply comes back."""
        v = self.vm('-net', 'nic,model=e1000', '-net', 'user,restrict=on')
        info = v.hmp('info network')
        self.assertIn('hub 0', info)
        self.assertRegex(info, r'hub0port\d+: index=0,type=hubport,hub=0\r?\n +\\ e1000\.0')
        nic = E1000Driver(v.qt)
        nic.send(arp_request(MAC_A, '10.0.2.15', '10.0.2.2'))
        replies = [f for f in nic.received() if f[12:14] == b'\x08\x06']
        self.assertTrue(replies, 'no ARP reply through the hub')
        op, sha, spa = struct.unpack('!6xH6s4s', replies[0][14:32])
        self.assertEqual((op, socket.inet_ntoa(spa)), (2, '10.0.2.2'))
        self.assertEqual(replies[0][:6], MAC_A)

    def test_net_nic_socket(self):
        """-net nic -net socket,udp=: each way through hub 0."""
        s, port = self.udp_peer()
        kport = free_udp_port()
        v = self.vm('-net', 'nic,model=e1000',
                    '-net', 'socket,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d' % (port, kport))
        nic = E1000Driver(v.qt)
        out = udp_frame(PEER, MAC_A, '10.1.0.2', '10.1.0.1', 1, 2, b'HUB-OUT net socket' + PAD)
        nic.send(out)
        self.assertEqual(self.recv_marked(s, b'HUB-OUT'), out)
        back = udp_frame(MAC_A, PEER, '10.1.0.1', '10.1.0.2', 2, 1, b'HUB-BACK net socket' + PAD)
        s.sendto(back, ('127.0.0.1', kport))
        self.assertIn(back, nic.received())

    def test_netdev_hubport(self):
        """-netdev hubport,hubid=0 under the e1000, another with netdev= on a
        socket backend, and a -net socket on the same hub: a frame from the
        NIC reaches both backends, one from a backend the NIC and the other
        backend, never its sender."""
        a, pa = self.udp_peer()
        b, pb = self.udp_peer()
        ka, kb = free_udp_port(), free_udp_port()
        v = self.vm('-netdev', 'hubport,id=h1,hubid=0', '-device', 'e1000,netdev=h1',
                    '-netdev', 'socket,id=s0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d' % (pa, ka),
                    '-netdev', 'hubport,id=h2,hubid=0,netdev=s0',
                    '-net', 'socket,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d' % (pb, kb))
        info = v.hmp('info network')
        self.assertRegex(info, r'h2: index=0,type=hubport,hub=0\r?\n +\\ s0: index=0,type=dgram')
        nic = E1000Driver(v.qt)
        out = udp_frame(PEER, MAC_A, '10.1.0.2', '10.1.0.1', 1, 2, b'HUB-OUT hubport' + PAD)
        nic.send(out)
        self.assertEqual(self.recv_marked(a, b'HUB-OUT'), out)
        self.assertEqual(self.recv_marked(b, b'HUB-OUT'), out)
        back = udp_frame(MAC_A, PEER, '10.1.0.1', '10.1.0.2', 2, 1, b'HUB-BACK hubport' + PAD)
        a.sendto(back, ('127.0.0.1', ka))
        self.assertIn(back, nic.received())
        self.assertEqual(self.recv_marked(b, b'HUB-BACK'), back)
        a.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            self.recv_marked(a, b'HUB-BACK')    # not to its sender

    def test_hubport_errors(self):
        v = self.vm('-netdev', 'socket,id=s0,udp=127.0.0.1:9,localaddr=127.0.0.1:%d'
                    % free_udp_port(), '-netdev', 'hubport,id=h0,hubid=2,netdev=s0')
        for args, text in (({'hubid': 2, 'netdev': 's0'}, "'s0' is in use by 'h0'"),
                           ({'hubid': 2, 'netdev': 'nope'}, "'nope' not found"),
                           ({'hubid': 2, 'netdev': 'h0'}, 'is a hub port'),
                           ({}, "Parameter 'hubid' is missing")):
            with self.assertRaises(QMPError) as e:
                v.qmp.cmd('netdev_add', type='hubport', id='hx', **args)
            self.assertIn(text, e.exception.desc)
        with self.assertRaises(QMPError) as e:
            v.qmp.cmd('netdev_del', id='s0')
        self.assertIn("in use by 'h0'", e.exception.desc)


class McastTwoVmTest(VmCase):
    """Two kvmpc processes on one multicast group on the loopback
    interface: -netdev socket,mcast=230.0.0.1:P,localaddr=127.0.0.1 and
    -netdev dgram with the group as remote (local.port is required, as by
    QEMU's InetSocketAddress, and unused: the socket is bound to the
    group's port); a frame from each e1000 reaches the other."""

    def test_socket_mcast_and_dgram(self):
        port = free_udp_port()
        a = self.vm('-netdev', 'socket,id=n0,mcast=230.0.0.1:%d,localaddr=127.0.0.1' % port,
                    '-device', 'e1000,netdev=n0,mac=52:54:00:12:34:56', name='a')
        b = self.vm('-netdev', 'dgram,id=n0,remote.type=inet,remote.host=230.0.0.1,'
                    'remote.port=%d,local.type=inet,local.host=127.0.0.1,local.port=0' % port,
                    '-device', 'e1000,netdev=n0,mac=52:54:00:00:bb:01', name='b')
        na, nb = E1000Driver(a.qt), E1000Driver(b.qt)
        ab = udp_frame(MAC_B, MAC_A, '10.2.0.1', '10.2.0.2', 1, 2, b'MCAST a to b' + PAD)
        na.send(ab)
        self.assertIn(ab, nb.received())
        ba = udp_frame(MAC_A, MAC_B, '10.2.0.2', '10.2.0.1', 2, 1, b'MCAST b to a' + PAD)
        nb.send(ba)
        got = na.received()
        self.assertIn(ba, got)


if __name__ == '__main__':
    main()
