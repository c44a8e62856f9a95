#!/usr/bin/env python3
"""The host side of virtio-kvm-linux.sh, all in one process (a Python
start in the lab can cost seconds: one is enough).

usage: virtio_kvm_host.py TMPDIR BALLOON_MIB COMMAND...

Serves TMPDIR/www over HTTP on 127.0.0.1 (a free port), picks a free port
for hostfwd, replaces @HTTP@ and @FWD@ in COMMAND with them and runs it.
The guest's serial is TMPDIR/out, QMP TMPDIR/qmp.sock, the virtserialport's
chardev TMPDIR/port.sock (server=on,wait=off).  Then, as the guest's
serial says so:
  BALLOON-READY  QMP balloon BALLOON_MIB; polls query-balloon until actual
                 is BALLOON_MIB ("HOST-BALLOON=<MiB>", the last
                 BALLOON_CHANGE event's "HOST-BALLOON-EVENT=<MiB>")
  LISTENING      connects to 127.0.0.1:FWD (hostfwd to the guest's nc),
                 sends HOST-HELLO, prints the guest's line "HOST-FWD-GOT="
  the port       reads the guest's line ("HOST-PORT-GOT="), and only once
                 the balloon has been seen at its target (so the guest
                 cannot power off before query-balloon is read) answers
                 "host-says-hello"
At the end "HOST-HTTP-GETS=<requests for /blob>".  Exits with the
emulator's exit status (1 if the host side broke).
"""
import functools
import http.server
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_peers import connect_unix, free_port, hostfwd_hello, recv_line  # noqa: E402
from qmp_client import QMPClient, read_text, wait_until  # noqa: E402

MiB = 1 << 20


def say(line):
    print(line, flush=True)


def main():
    tmp, target, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    log = os.path.join(tmp, "out")
    gets = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            gets.append(self.path)

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=os.path.join(tmp, "www")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    http_port, fwd_port = httpd.server_address[1], free_port()
    cmd = [a.replace("@HTTP@", str(http_port)).replace("@FWD@", str(fwd_port)) for a in cmd]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    balloon_done = threading.Event()

    def serial():
        return read_text(log)

    def wait_serial(text, secs):
        wait_until(lambda: text in serial() or proc.poll() is not None, secs, 0.2)
        return text in serial()

    def port_peer():
        try:
            s = connect_unix(os.path.join(tmp, "port.sock"), time.time() + 600,
                             lambda: proc.poll() is None)
        except OSError:
            return
        try:
            line = recv_line(s, 600)
        except OSError as e:
            say("HOST-PORT-ERROR=%s" % e)
            return
        if line is None:
            say("HOST-PORT-CLOSED")
            return
        say("HOST-PORT-GOT=" + line)
        balloon_done.wait(200)
        s.sendall(b"host-says-hello\n")
        time.sleep(600)  # stay connected until the guest is gone

    def fwd_peer():
        if not wait_serial("LISTENING", 600):
            return
        try:
            say("HOST-FWD-GOT=" + hostfwd_hello(fwd_port))
        except OSError as e:
            say("HOST-FWD-ERROR=%s" % e)

    threading.Thread(target=port_peer, daemon=True).start()
    threading.Thread(target=fwd_peer, daemon=True).start()

    host_ok = True
    try:
        qmp = QMPClient.unix(os.path.join(tmp, "qmp.sock"), timeout=30, retry=30)
        qmp.negotiate()
        say("HOST-BALLOON-BEFORE=%d" % (qmp.cmd("query-balloon")["actual"] // MiB))
        if wait_serial("BALLOON-READY", 600):
            t0 = time.time()
            qmp.events.clear()
            qmp.cmd("balloon", value=target * MiB)
            wait_until(lambda: qmp.cmd("query-balloon")["actual"] == target * MiB, 180, 0.5)
            say("HOST-BALLOON=%d" % (qmp.cmd("query-balloon")["actual"] // MiB))
            changes = [e["data"]["actual"] // MiB for e in qmp.events
                       if e["event"] == "BALLOON_CHANGE"]
            say("HOST-BALLOON-EVENT=%s" % (changes[-1] if changes else "none"))
            say("HOST-BALLOON-SECONDS=%.1f" % (time.time() - t0))
        balloon_done.set()
        rc = proc.wait()
        qmp.close()
    except Exception as e:  # the emulator died or QMP broke: report, do not hang
        say("HOST-ERROR=%r" % e)
        host_ok = False
        balloon_done.set()
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    httpd.shutdown()
    say("HOST-HTTP-GETS=%d" % sum(1 for p in gets if p == "/blob"))
    say("HOST-EMULATOR-EXIT=%d" % rc)
    return rc if host_ok else 1


if __name__ == "__main__":
    sys.exit(main())
