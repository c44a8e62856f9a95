"""Reading a guest's serial console from a kvmpc child process (its stdout
on a pipe) in the functional tests."""
import os
import select
import time


class ConsoleTimeout(Exception):
    pass


def chunks(proc, deadline):
    """Yields what proc writes to its stdout pipe as it comes, until EOF or
    the process's exit; raises ConsoleTimeout once time.time() passes
    deadline(), a function so that the caller may move it meanwhile."""
    while time.time() < deadline():
        r, _, _ = select.select([proc.stdout], [], [], 1.0)
        if not r:
            if proc.poll() is not None:
                return
            continue
        data = os.read(proc.stdout.fileno(), 65536)
        if not data:
            return
        yield data
    raise ConsoleTimeout()


def lines(proc, deadline, raw=None):
    """As chunks(), a line at a time (bytes, without the newline); each
    chunk is also appended to the bytearray raw when given."""
    buf = b''
    for data in chunks(proc, deadline):
        if raw is not None:
            raw += data
        buf += data
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            yield line
