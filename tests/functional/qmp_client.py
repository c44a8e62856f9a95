"""A small QMP client (Python standard library only) for kvmpc's tests.

    with QMPClient.unix('/tmp/qmp.sock') as q:
        q.negotiate()
        print(q.cmd('query-status'))          # the "return" value
        r = q.request('stop', id=7)           # the whole response
        ev = q.wait_event('STOP')

Events that arrive while waiting for a response are queued in q.events.
send_raw()/recv_msg() speak bytes for protocol tests.
"""
import json
import os
import socket
import sys
import time


class QMPError(Exception):
    def __init__(self, error):
        super().__init__('%s: %s' % (error.get('class'), error.get('desc')))
        self.error_class = error.get('class')
        self.desc = error.get('desc')


class QMPClient:
    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b''
        self.events = []
        self.greeting = self.recv_msg()

    @classmethod
    def unix(cls, path, timeout=10.0, retry=5.0):
        deadline = time.time() + retry
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return cls(s, timeout)
            except OSError:
                s.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def tcp(cls, host, port, timeout=10.0, retry=5.0):
        deadline = time.time() + retry
        while True:
            try:
                return cls(socket.create_connection((host, port)), timeout)
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- wire -------------------------------------------------------------
    def send_raw(self, data, fds=None):
        if isinstance(data, str):
            data = data.encode()
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.sock.sendall(data)

    def recv_msg(self):
        """Next JSON message (one per line in compact mode; pretty output
        is accumulated until it parses)."""
        dec = json.JSONDecoder()
        while True:
            text = self.buf.decode('utf-8', 'replace').lstrip()
            if text:
                try:
                    obj, end = dec.raw_decode(text)
                    rest = text[end:]
                    self.buf = rest.encode()
                    return obj
                except ValueError:
                    pass
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError('QMP connection closed')
            self.buf += chunk

    def recv_response(self):
        while True:
            msg = self.recv_msg()
            if 'event' in msg:
                self.events.append(msg)
                continue
            return msg

    # -- commands ---------------------------------------------------------
    def request(self, name, arguments=None, id=None, oob=False, fds=None):
        msg = {'exec-oob' if oob else 'execute': name}
        if arguments is not None:
            msg['arguments'] = arguments
        if id is not None:
            msg['id'] = id
        self.send_raw(json.dumps(msg) + '\n', fds=fds)
        return self.recv_response()

    def cmd(self, name, **args):
        r = self.request(name, {k.replace('_', '-'): v for k, v in args.items()} or None)
        if 'error' in r:
            raise QMPError(r['error'])
        return r['return']

    def negotiate(self, enable=None):
        args = {'enable': enable} if enable else None
        r = self.request('qmp_capabilities', args)
        if 'error' in r:
            raise QMPError(r['error'])
        return r

    def hmp(self, line):
        return self.cmd('human-monitor-command', command_line=line)

    def wait_event(self, name, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev['event'] == name:
                    return self.events.pop(i)
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError('no %s event' % name)
            self.sock.settimeout(left)
            try:
                msg = self.recv_msg()
            finally:
                self.sock.settimeout(10.0)
            if 'event' in msg:
                self.events.append(msg)
            else:
                raise AssertionError('unexpected message %r' % msg)


# ---- helpers shared by the functional scripts ------------------------------

def read_text(path):
    """A guest's serial log as it is now ("" while it does not exist)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def serial_tail(path, lines):
    """The last `lines` lines of a guest's serial log ("" if unreadable)."""
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def test_fail(msg, serial_log=None, lines=20):
    """Print the end of the guest's serial log and FAIL: msg; exit 1."""
    tail = serial_tail(serial_log, lines)
    if tail:
        print("--- guest serial (last %d lines) ---\n%s" % (lines, tail))
    print("FAIL: " + msg)
    sys.exit(1)


def wait_until(pred, timeout, interval=0.1):
    """Poll pred until it is true (True) or timeout seconds pass (False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return False
