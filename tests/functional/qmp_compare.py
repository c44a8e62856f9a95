#!/usr/bin/env python3
"""Sends the same QMP requests to kvmpc and to QEMU and prints where the
replies differ (a tool for keeping kvmpc's wording QEMU's; not a test).

usage: qmp_compare.py KVMPC [QEMU] [REQUESTS-FILE]

REQUESTS-FILE has one raw request per line (sent as is, so malformed
input can be compared too); the default list covers the error paths.
kvmpc runs with -accel qtest, QEMU with -accel tcg (Debian's QEMU has no
qtest accelerator).  Replies and the events that follow within 150 ms are
compared as text, so member order and escaping count.
"""
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT = r'''{"execute": "query-status", "id": 1}
{"execute": "nope"}
{"execute": "qmp_capabilities", "arguments": {"enable": ["bogus"]}}
{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}
{"execute": "qmp_capabilities"}
{"exec-oob": "query-status"}
{"execute": "query-status", "exec-oob": "query-status"}
[1]
42 
}
garbage 
{"execute": "query-status", oops}
{}
{"execute": 1}
{"execute": "stop", "arguments": []}
{"execute": "stop", "foo": 1}
{"execute": "pmemsave", "arguments": {"size": 1, "filename": "/tmp/x"}}
{"execute": "pmemsave", "arguments": {"val": "1", "size": 1, "filename": "/tmp/x"}}
{"execute": "pmemsave", "arguments": {"val": 18446744073709551615, "size": 1, "filename": "/tmp/x"}}
{"execute": "pmemsave", "arguments": {"val": 0, "size": 1, "filename": "/nonexistent/x"}}
{"execute": "memsave", "arguments": {"val": 0, "size": 1, "filename": "/tmp/x", "cpu-index": 9}}
{"execute": "query-status", "arguments": {"x": 1}}
{"execute": "query-name", "id": 18446744073709551615}
{"execute": "query-name", "id": 100000000000000000000}
{"execute": "query-name", "id": "\u00e9\ud83d\ude00"}
{"execute": "query-command-line-options", "arguments": {"option": "bogus"}}
{"execute": "qom-list", "arguments": {"path": "/nope"}}
{"execute": "qom-get", "arguments": {"path": "/machine", "property": "nope"}}
{"execute": "device-list-properties", "arguments": {"typename": "nope"}}
{"execute": "chardev-add", "arguments": {"id": "c", "backend": {"type": "file", "data": {}}}}
{"execute": "chardev-add", "arguments": {"id": "c", "backend": {"type": "nope", "data": {}}}}
{"execute": "chardev-add", "arguments": {"id": "c", "backend": {"type": "socket", "data": {"addr": {"type": "inet", "data": {"host": "h", "port": "1", "to": 70000}}}}}}
{"execute": "chardev-remove", "arguments": {"id": "nope"}}
{"execute": "getfd", "arguments": {"fdname": "x"}}
{"execute": "closefd", "arguments": {"fdname": "x"}}
{"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}
{"execute": "human-monitor-command", "arguments": {"command-line": "nosuch"}}
{"execute": "human-monitor-command", "arguments": {"command-line": "p 0x10+2*3"}}
{"execute": "human-monitor-command", "arguments": {"command-line": "info status", "cpu-index": 5}}
{"execute": "system_wakeup"}
'''


def session(cmd, sock, requests):
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    s = socket.socket(socket.AF_UNIX)
    for _ in range(200):
        try:
            s.connect(sock)
            break
        except OSError:
            time.sleep(0.05)

    def drain():
        data = b''
        deadline = time.time() + 2
        s.settimeout(2)
        while not data.endswith(b'\n') and time.time() < deadline:
            data += s.recv(65536)
        s.setblocking(False)
        time.sleep(0.15)
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                data += c
        except BlockingIOError:
            pass
        return data.decode(errors='replace').strip()

    out = [drain()]
    for r in requests:
        s.sendall(r.encode())
        out.append(drain())
    s.close()
    proc.kill()
    proc.wait()
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    kvmpc = sys.argv[1]
    qemu = sys.argv[2] if len(sys.argv) > 2 else 'qemu-system-x86_64'
    text = open(sys.argv[3]).read() if len(sys.argv) > 3 else DEFAULT
    requests = [l + '\n' for l in text.split('\n') if l.strip()]
    d = tempfile.mkdtemp(prefix='qmp-compare-')
    atexit.register(shutil.rmtree, d, True)
    base = ['-display', 'none', '-nodefaults', '-machine', 'pc']
    a = session([kvmpc, '-accel', 'qtest'] + base +
                ['-qmp', 'unix:%s/k.sock,server=on,wait=off' % d], d + '/k.sock', requests)
    b = session([qemu, '-accel', 'tcg'] + base +
                ['-qmp', 'unix:%s/q.sock,server=on,wait=off' % d], d + '/q.sock', requests)
    same = 0
    for req, x, y in zip(['<greeting>'] + requests, a, b):
        if x == y:
            same += 1
            continue
        print('REQ   %s' % req.strip())
        print('kvmpc %s' % x.replace('\n', '\n      '))
        print('qemu  %s' % y.replace('\n', '\n      '))
    print('%d of %d identical' % (same, len(a)))


if __name__ == '__main__':
    main()
