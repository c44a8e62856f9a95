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


if __name__ == '__main__':
    main()
