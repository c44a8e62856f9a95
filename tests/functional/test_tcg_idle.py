#!/usr/bin/env python3
"""An idle guest under tcg-lite does not wake the main loop for its timer
interrupts (accel/tcg-lite/tcg-all.c: each vCPU thread runs its own LAPIC
timer, cpu->timers).

usage: test_tcg_idle.py KVMPC [BUILDDIR]

Boots Debian's kernel + the busybox initramfs under -accel tcg (-smp 1,
QEMU's default devices), lets the shell sleep 6 s, and reads the guest's
local timer interrupt count (LOC in /proc/interrupts) before and after,
and the host's context switches of kvmpc's main thread over the same
span (/proc/PID/task/PID/status).  The guest must take its timer
interrupts (>= 15 in 6 s: the LAPIC timer runs) while the main thread
wakes less than once per three of them.  Before the vCPU thread ran its
own LAPIC timer, every interrupt woke the main loop (to fire the timer)
and again when the guest re-armed it: ~6 switches per interrupt.

It also reads HMP `info jit` (through QMP) at both points: after the
idle seconds the compiled code of the boot has been dropped ("idle
drops" >= 1, fewer compiled blocks than right after boot), so the idle
guest's wake-ups run in the executor (tcg-all.c, "dropping cold compiled
code").
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import console
from qmp_client import QMPClient

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def fail(msg, out=b''):
    print('FAIL: ' + msg)
    for line in out.decode(errors='replace').splitlines()[-25:]:
        print('  | ' + line)
    sys.exit(1)


def switches(pid, tid):
    n = 0
    with open('/proc/%d/task/%d/status' % (pid, tid)) as f:
        for line in f:
            if line.startswith(('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches')):
                n += int(line.split()[1])
    return n


def jit_info(q):
    text = q.hmp('info jit')
    m = re.search(r'compiled blocks now: (\d+)', text)
    d = re.search(r'idle drops: (\d+)', text)
    if not m or not d:
        fail('info jit: unexpected reply %r' % text)
    return int(m.group(1)), int(d.group(1))


def main():
    kvmpc = sys.argv[1]
    build = sys.argv[2] if len(sys.argv) > 2 else os.environ.get('KVMPC_BUILD', os.path.join(TOP, 'build'))
    kernel = os.path.join(build, 'images', 'linux', 'vmlinuz')
    initrd = os.path.join(build, 'images', 'initramfs.cpio.gz')
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        fail('guest images missing under %s/images' % build)
    script = ('echo IDLE-A $(grep LOC: /proc/interrupts); sleep 6; '
              'echo IDLE-B $(grep LOC: /proc/interrupts); poweroff -f')
    cmdline = subprocess.check_output([os.path.join(TOP, 'tests/images/busybox-initramfs.sh'),
                                       '--cmdline', script], text=True).strip()
    sock = os.path.join(tempfile.mkdtemp(prefix='kvmpc-idle-'), 'qmp.sock')
    proc = subprocess.Popen(
        [kvmpc, '-accel', 'tcg', '-m', '256', '-smp', '1', '-nographic', '-no-reboot',
         '-qmp', 'unix:%s,server=on,wait=off' % sock,
         '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet panic=-1 ' + cmdline],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = bytearray()
    loc, sw, jit = {}, {}, {}
    q = None
    end = time.time() + 300
    try:
        try:
            for line in console.lines(proc, lambda: end, out):
                m = re.search(rb'IDLE-([AB]) LOC:\s+(\d+)', line)
                if m:
                    which = m.group(1).decode()
                    sw[which] = switches(proc.pid, proc.pid)
                    loc[which] = int(m.group(2))
                    if q is None:
                        q = QMPClient.unix(sock)
                        q.negotiate()
                    jit[which] = jit_info(q)
                    if which == 'B':
                        break
        except console.ConsoleTimeout:
            pass
        if 'B' not in loc:
            fail('the guest did not print both LOC counts', out)
        rest, _ = proc.communicate(timeout=120)
        out += rest
    finally:
        if q is not None:
            q.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        fail('exit status %s after poweroff' % proc.returncode, out)
    ints = loc['B'] - loc['A']
    main_sw = sw['B'] - sw['A']
    print('guest timer interrupts in 6 s: %d; main-thread context switches: %d' % (ints, main_sw))
    if ints < 15:
        fail('the guest took %d timer interrupts in 6 s (expected >= 15)' % ints, out)
    if main_sw * 3 >= ints:
        fail('the main loop woke %d times for %d guest timer interrupts' % (main_sw, ints), out)
    print('compiled blocks right after boot: %d (idle drops %d); after 6 s idle: %d (idle drops %d)'
          % (jit['A'][0], jit['A'][1], jit['B'][0], jit['B'][1]))
    if jit['B'][1] < 1 or jit['B'][0] >= jit['A'][0]:
        fail('the idle guest kept its compiled code (info jit: %r -> %r)' % (jit['A'], jit['B']), out)
    print('PASS: tcg idle: %d timer interrupts, %d main-loop wake-ups, compiled code dropped'
          % (ints, main_sw))


if __name__ == '__main__':
    main()
