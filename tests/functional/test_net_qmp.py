#!/usr/bin/env python3
"""The network layer's monitor commands (docs/net.md), against kvmpc under
-accel qtest: netdev_add/netdev_del for socket, user (with hostfwd) and
hubport backends, their errors, HMP info network and set_link, QMP
set_link and query-rx-filter on a -nic and a -net NIC.  Every socket is on
127.0.0.1.

usage: test_net_qmp.py [KVMPC]        (or KVMPC=path in the environment)
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPError  # noqa: E402
from qtest_peer import QTestQMPCase, main  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


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

    def hmp(self, line):
        return self.qmp.cmd('human-monitor-command', **{'command-line': line})

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


if __name__ == '__main__':
    main()
