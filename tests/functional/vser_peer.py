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
import sys
import time

from host_peers import connect_unix, poke_until, recv_line


def guest_sync(ga, deadline):
    """libvirt's handshake with a guest agent: guest-sync until answered."""
    buf = b""

    def answered(data):
        nonlocal buf
        buf += data
        for line in buf.split(b"\n")[:-1]:
            print("PEER-GA-LINE=%r" % line, flush=True)
            try:
                ret = json.loads(line).get("return")
            except ValueError:
                continue
            if ret == 4242:
                return True
        buf = buf.rsplit(b"\n", 1)[-1]
        return False

    got = poke_until(ga, b'{"execute": "guest-sync", "arguments": {"id": 4242}}\n',
                     answered, deadline)
    if got is None:
        print("PEER: the agent channel closed", flush=True)
        return 1
    if got:
        print("PEER-GA=4242", flush=True)
        return 0
    return 1


def main():
    deadline = time.time() + 600
    if len(sys.argv) > 3:
        if guest_sync(connect_unix(sys.argv[3], deadline), deadline):
            return 1
    port = connect_unix(sys.argv[1], deadline)
    hvc = connect_unix(sys.argv[2], deadline)
    line = recv_line(port, 600)
    if line is None:
        print("PEER: the port closed", flush=True)
        return 1
    print("PEER-GOT=" + line, flush=True)
    port.sendall(b"host-says-hello\n")

    out = b""

    def answered(data):
        nonlocal out
        out += data
        return b"HVC-42" in out

    got = poke_until(hvc, b"echo HVC-$((6*7))\n", answered, deadline)
    if got is None:
        print("PEER: hvc0 closed", flush=True)
        return 1
    if got:
        print("PEER-HVC=HVC-42", flush=True)
        hvc.sendall(b"exit\n")
    print("PEER-HVC-OUTPUT=%r" % out[-400:], flush=True)
    # Stay connected until the guest is gone (kvmpc exits, we get killed).
    time.sleep(600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
