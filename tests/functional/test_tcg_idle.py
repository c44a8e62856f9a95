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
"""
import os
import re
import subprocess
import sys
import time

import console

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
    proc = subprocess.Popen(
        [kvmpc, '-accel', 'tcg', '-m', '256', '-smp', '1', '-nographic', '-no-reboot',
         '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet panic=-1 ' + cmdline],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = bytearray()
    loc, sw = {}, {}
    end = time.time() + 300
    try:
        try:
            for line in console.lines(proc, lambda: end, out):
                m = re.search(rb'IDLE-([AB]) LOC:\s+(\d+)', line)
                if m:
                    which = m.group(1).decode()
                    sw[which] = switches(proc.pid, proc.pid)
                    loc[which] = int(m.group(2))
                    if which == 'B':
                        break
        except console.ConsoleTimeout:
            pass
        if 'B' not in loc:
            fail('the guest did not print both LOC counts', out)
        rest, _ = proc.communicate(timeout=120)
        out += rest
    finally:
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
    print('PASS: tcg idle: %d timer interrupts, %d main-loop wake-ups' % (ints, main_sw))


if __name__ == '__main__':
    main()
