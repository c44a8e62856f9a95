#!/usr/bin/env python3
"""Input pasted into the serial console under -nographic reaches the guest
whole (chardev/char-mux.c: back-pressure instead of dropping what the
16550's 16-byte FIFO cannot take yet).

usage: test_serial_paste.py KVMPC [BUILDDIR]

Boots Debian's kernel + the busybox initramfs (the README's default VM)
under -accel tcg with -nographic, the console on stdin/stdout (a pipe, as
when a script feeds it).  At the shell prompt the test writes, in one
write(), three command lines of about 300 bytes each, then `poweroff -f`:
the guest must print the md5 of each line's long argument (computed here
too) and power off (exit 0).  Before the fix the guest saw the first 16
bytes of the paste, then nothing.  Then Ctrl-A c (the escape keys, while
the guest shell is busy in `sleep`) must reach the monitor: `info status`
answers "running".
"""
import hashlib
import os
import random
import subprocess
import sys
import time

import console

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def fail(msg, out=b''):
    print('FAIL: ' + msg)
    tail = out.decode(errors='replace').splitlines()[-25:]
    for line in tail:
        print('  | ' + line)
    sys.exit(1)


def main():
    kvmpc = sys.argv[1]
    build = sys.argv[2] if len(sys.argv) > 2 else os.environ.get('KVMPC_BUILD', os.path.join(TOP, 'build'))
    kernel = os.path.join(build, 'images', 'linux', 'vmlinuz')
    initrd = os.path.join(build, 'images', 'initramfs.cpio.gz')
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        fail('guest images missing under %s/images' % build)

    rnd = random.Random(20261205)
    words = [''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(290))
             for _ in range(3)]
    want = [hashlib.md5((w + '\n').encode()).hexdigest() for w in words]   # echo's newline
    paste = ''.join('echo %s | md5sum | sed "s/^/SUM%d=/"\n' % (w, i)
                    for i, w in enumerate(words))

    proc = subprocess.Popen(
        [kvmpc, '-accel', 'tcg', '-m', '256', '-smp', '1', '-nographic', '-no-reboot',
         '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet panic=-1'],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b''
    state = 'boot'
    end = [time.time() + 240]
    try:
        try:
            for data in console.chunks(proc, lambda: end[0]):
                out += data
                state = step(proc, state, out, paste, want, end)
        except console.ConsoleTimeout:
            proc.kill()
            fail('timed out in state %s' % state, out)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    if state == 'boot':
        fail('the guest shell never came up (exit %s)' % rc, out)
    if state == 'pasted':
        got = [line for line in out.decode(errors='replace').splitlines() if 'SUM' in line][-3:]
        fail('the pasted lines did not all arrive: expected %s, got %s' % (want, got), out)
    if state == 'escape':
        fail('C-a c did not reach the monitor while the guest was busy', out)
    if rc != 0:
        fail('kvmpc exited %d after poweroff -f' % rc, out)
    print('PASS: 3 pasted lines of ~330 bytes arrived whole (md5 %s...), C-a c reached the monitor '
          'with the guest busy, poweroff -f -> exit 0' % want[0][:8])


def step(proc, state, out, paste, want, end):
    """The next state once the console shows out."""
    if state == 'boot' and b'kvmpc# ' in out:
        state = 'pasted'
        end[0] = min(end[0], time.time() + 90)
        proc.stdin.write(paste.encode())       # one write: a paste
        proc.stdin.flush()
    elif state == 'pasted' and all(('SUM%d=%s' % (i, w)).encode() in out
                                   for i, w in enumerate(want)):
        # Keys typed while the shell sleeps; C-a c must still switch
        # to the monitor.
        state = 'escape'
        proc.stdin.write(b'sleep 5\n' + b'x' * 20 + b'\x01c' + b'info status\n')
        proc.stdin.flush()
    elif state == 'escape' and b'VM status: running' in out:
        state = 'poweroff'
        proc.stdin.write(b'\x01c\npoweroff -f\n')   # back; the x's run as a command
        proc.stdin.flush()
    return state


if __name__ == '__main__':
    main()
