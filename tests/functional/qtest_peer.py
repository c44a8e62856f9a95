"""The harness of the device tests that play the guest over qtest while
they drive kvmpc's monitor (test_ide_qmp, test_fdc_qmp, test_ps2_qmp).

kvmpc runs under -accel qtest and connects to a socket the test listens
on; the test speaks the qtest text protocol there (QTest) and is also the
QMP client.  QTestQMPCase.make_tmp() then start() launch it; tearDown quits it.  Kvmpc
is one such kvmpc on its own, for tests that run several.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient  # noqa: E402


class QTest:
    """The qtest text protocol, server side of the socket; tracks the IRQ
    lines kvmpc reports (irq[n]: level now, raised[n]: how many raises)."""

    def __init__(self, listener):
        self.conn, _ = listener.accept()
        self.conn.settimeout(20)
        self.buf = b''
        self.irq = {}
        self.raised = {}

    def cmd(self, line):
        self.conn.sendall((line + '\n').encode())
        while True:
            while b'\n' not in self.buf:
                data = self.conn.recv(4096)
                if not data:
                    raise AssertionError('qtest connection closed')
                self.buf += data
            reply, self.buf = self.buf.split(b'\n', 1)
            reply = reply.decode()
            if reply.startswith('IRQ'):
                _, what, n = reply.split()
                self.irq[int(n)] = what == 'raise'
                if what == 'raise':
                    self.raised[int(n)] = self.raised.get(int(n), 0) + 1
                continue
            if not reply.startswith('OK'):
                raise AssertionError('%s -> %s' % (line, reply))
            return reply

    def outb(self, port, v):
        self.cmd('outb 0x%x 0x%x' % (port, v))

    def outw(self, port, v):
        self.cmd('outw 0x%x 0x%x' % (port, v))

    def inb(self, port):
        return int(self.cmd('inb 0x%x' % port).split()[1], 16)

    def inw(self, port):
        return int(self.cmd('inw 0x%x' % port).split()[1], 16)

    def clock_step(self, ns):
        self.cmd('clock_step %d' % ns)


class Kvmpc:
    """kvmpc -accel qtest -nodefaults ARGS, with self.qt (a qtest_class,
    connected) and self.qmp (QMPClient, negotiated); sockets in tmpdir
    under name."""

    def __init__(self, kvmpc, tmpdir, args, name='vm', pass_fds=(), qtest_class=QTest):
        qsock = os.path.join(tmpdir, name + '-qtest.sock')
        msock = os.path.join(tmpdir, name + '-qmp.sock')
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(qsock)
        listener.listen(1)
        listener.settimeout(0.25)
        self.proc = subprocess.Popen(
            [kvmpc, '-accel', 'qtest', '-qtest', 'unix:%s' % qsock, '-display', 'none',
             '-nodefaults', '-qmp', 'unix:%s,server=on,wait=off' % msock] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=pass_fds)
        self.qt = None
        try:
            for _ in range(80):         # 20 s, unless kvmpc exits first
                try:
                    self.qt = qtest_class(listener)
                    break
                except socket.timeout:
                    if self.proc.poll() is not None:
                        break
        finally:
            listener.close()
        if not self.qt:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError('kvmpc did not start: %s' % err.decode())
        self.qmp = QMPClient.unix(msock)
        self.qmp.negotiate()

    def hmp(self, line):
        return self.qmp.hmp(line)

    def close(self):
        try:
            self.qmp.cmd('quit')
            self.proc.communicate(timeout=10)
        finally:
            self.qmp.close()
            self.qt.conn.close()
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()


class QTestQMPCase(unittest.TestCase):
    kvmpc = None            # set by main()
    qtest_class = QTest     # a subclass adds the device's guest-side helpers

    def start(self, *args, pass_fds=()):
        """Launches kvmpc with args (after make_tmp: the sockets go in
        self.tmp; pass_fds: descriptors it inherits) and connects both ends:
        self.vm (Kvmpc), its proc, qt and qmp."""
        self.vm = Kvmpc(self.kvmpc, self.tmp, args, pass_fds=pass_fds,
                        qtest_class=self.qtest_class)
        self.proc, self.qt, self.qmp = self.vm.proc, self.vm.qt, self.vm.qmp

    def hmp(self, line):
        return self.qmp.hmp(line)

    def make_tmp(self, prefix):
        """self.tmp, removed after the test."""
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.addCleanup(shutil.rmtree, self.tmp)

    def tearDown(self):
        self.vm.close()

    def block_info(self):
        return {b['device']: b for b in self.qmp.cmd('query-block')}


def main():
    """usage: SCRIPT [KVMPC] [unittest options]   (or KVMPC=path)"""
    path = None
    if len(sys.argv) > 1 and not sys.argv[1].startswith('-'):
        path = sys.argv.pop(1)
    QTestQMPCase.kvmpc = os.path.abspath(path or os.environ.get('KVMPC', 'build/kvmpc'))
    unittest.main(verbosity=2)
