#!/usr/bin/env python3
"""The host end of virtio-serial-linux.sh's two socket chardevs.

usage: vser_peer.py PORT_SOCKET HVC_SOCKET [GA_SOCKET]

Port: waits for the guest's line, prints "PEER-GOT=<line>", answers
"host-says-hello".  Console: types `echo HVC-$((6*7))` into the shell on
hvc0 (again every second until it answers), prints "PEER-HVC=HVC-42" when
the answer comes, then types `exit`.  Guest agent channel (GA_SOCKET,
first): sends {"execute":"guest-sync","arguments":{"id":4242}} every
second, as libvirt does, until a line {"return": 4242} comes back, then
prints "PEER-GA=4242".  Everything read is also printed
(repr) for debugging.
"""
import json
import socket
import sys
import time


def connect(path, deadline):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def guest_sync(ga, deadline):
    """libvirt's handshake with a guest agent: guest-sync until answered."""
    ga.settimeout(1.0)
    buf = b""
    while time.time() < deadline:
        ga.sendall(b'{"execute": "guest-sync", "arguments": {"id": 4242}}\n')
        try:
            data = ga.recv(4096)
        except socket.timeout:
            continue
        if not data:
            print("PEER: the agent channel closed", flush=True)
            return 1
        buf += data
        for line in buf.split(b"\n")[:-1]:
            print("PEER-GA-LINE=%r" % line, flush=True)
            try:
                ret = json.loads(line).get("return")
            except ValueError:
                continue
            if ret == 4242:
                print("PEER-GA=4242", flush=True)
                return 0
        buf = buf.rsplit(b"\n", 1)[-1]
    return 1


def main():
    deadline = time.time() + 600
    if len(sys.argv) > 3:
        if guest_sync(connect(sys.argv[3], deadline), deadline):
            return 1
    port = connect(sys.argv[1], deadline)
    hvc = connect(sys.argv[2], deadline)
    buf = b""
    port.settimeout(600)
    while b"\n" not in buf:
        data = port.recv(4096)
        if not data:
            print("PEER: the port closed", flush=True)
            return 1
        buf += data
    line = buf.split(b"\n", 1)[0].decode(errors="replace")
    print("PEER-GOT=" + line, flush=True)
    port.sendall(b"host-says-hello\n")

    hvc.settimeout(1.0)
    out = b""
    while time.time() < deadline:
        hvc.sendall(b"echo HVC-$((6*7))\n")
        try:
            data = hvc.recv(4096)
        except socket.timeout:
            continue
        if not data:
            print("PEER: hvc0 closed", flush=True)
            return 1
        out += data
        if b"HVC-42" in out:
            print("PEER-HVC=HVC-42", flush=True)
            hvc.sendall(b"exit\n")
            break
    print("PEER-HVC-OUTPUT=%r" % out[-400:], flush=True)
    # Stay connected until the guest is gone (kvmpc exits, we get killed).
    time.sleep(600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
