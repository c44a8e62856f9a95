#!/usr/bin/env python3
"""The host ends of the Linux functional tests' connections, written once:
virtio_kvm_host.py and vser_peer.py import them, the shell tests
(net-linux.inc.sh) run them as commands.

usage: host_peers.py free-port          prints a free TCP port on 127.0.0.1
       host_peers.py hostfwd-hello PORT sends HOST-HELLO to 127.0.0.1:PORT
                                        (a hostfwd to the guest's nc), prints
                                        the line that comes back
"""
import socket
import sys
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (yet)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connect_unix(path, deadline, alive=lambda: True):
    """A connection to the unix socket path (a chardev with server=on,
    wait=off), tried every 0.1 s until time.time() passes deadline or
    alive() is false: then the last OSError is raised."""
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.time() > deadline or not alive():
                raise
            time.sleep(0.1)


def recv_line(sock, timeout):
    """The first line sock sends (decoded, without its newline), or None if
    the other end closes before a whole line; each recv waits up to timeout."""
    sock.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        data = sock.recv(4096)
        if not data:
            return None
        buf += data
    return buf.split(b"\n", 1)[0].decode(errors="replace")


def poke_until(sock, msg, answered, deadline):
    """Sends msg, then again every second that nothing comes back, until
    answered(data) is true for what sock sends: True; False at deadline
    (time.time()); None if the other end closes."""
    sock.settimeout(1.0)
    while time.time() < deadline:
        sock.sendall(msg)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        if not data:
            return None
        if answered(data):
            return True
    return False


def hostfwd_hello(port):
    """The host end of a hostfwd exchange: connects to 127.0.0.1:port, sends
    HOST-HELLO and returns the line the guest's nc answers (stripped; what
    came within 30 s, up to the first newline).  OSError if it cannot."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"HOST-HELLO\n")
    buf = b""
    end = time.time() + 30
    while b"\n" not in buf and time.time() < end:
        d = s.recv(100)
        if not d:
            break
        buf += d
    s.close()
    return buf.decode(errors="replace").strip()


def main(argv):
    if argv[1:] == ["free-port"]:
        print(free_port())
    elif len(argv) == 3 and argv[1] == "hostfwd-hello":
        print(hostfwd_hello(int(argv[2])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
