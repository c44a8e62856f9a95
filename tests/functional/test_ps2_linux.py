#!/usr/bin/env python3
"""Linux (Debian's kernel + the busybox initramfs) under -accel tcg finds the
PS/2 keyboard (atkbd) and reads a line typed with QMP send-key on its
virtual console.

usage: test_ps2_linux.py KVMPC [BUILDDIR]

The guest script prints the keyboard atkbd registered, then "KBD-READY" and
reads one line from /dev/tty1 (the foreground VT, where keyboard input
goes); the test types "kvm42" + Enter with send-key and expects the guest
to echo it back as "GOT=kvm42".  Twice: direct boot (atkbd: "AT Raw Set 2
keyboard") and through SeaBIOS (XLATE on: "AT Translated Set 2 keyboard").
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402
from qmp_client import QMPClient  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = '''dmesg | grep -o "input: AT [A-Za-z0-9 ]*keyboard" | head -1 | sed "s/^/KBD=/"
echo KBD-READY
read -t 120 -r line < /dev/tty1
echo "GOT=$line"'''


def boot(kvmpc, kernel, initrd, cmdline, extra, want_kbd):
    tmp = tempfile.mkdtemp(prefix='kvmpc-ps2linux-')
    msock = os.path.join(tmp, 'qmp.sock')
    proc = subprocess.Popen(
        [kvmpc, '-accel', 'tcg', '-m', '256', '-smp', '1', '-nographic', '-no-reboot',
         '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 panic=-1 ' + cmdline,
         '-qmp', 'unix:%s,server=on,wait=off' % msock] + extra,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = []
    end = time.time() + 200
    qmp = None
    typed = False
    try:
        try:
            for line in console.lines(proc, lambda: end):
                line = line.decode(errors='replace').rstrip('\r')
                out.append(line)
                if line.startswith('KBD-READY') and not typed:
                    qmp = QMPClient.unix(msock)
                    qmp.negotiate()
                    for k in ['k', 'v', 'm', '4', '2', 'ret']:
                        qmp.cmd('send-key', keys=[{'type': 'qcode', 'data': k}], hold_time=20)
                    typed = True
        except console.ConsoleTimeout:
            pass
        proc.wait(timeout=30)
    finally:
        if qmp:
            qmp.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp)
    text = '\n'.join(out)
    what = ' '.join(extra) or 'direct boot'

    def fail(msg):
        print('\n'.join(out[-40:]))
        print('FAIL (%s): %s' % (what, msg))
        return False
    if not typed:
        return fail('the guest never got to KBD-READY')
    kbd = [ln for ln in out if ln.startswith('KBD=')]
    if not kbd or want_kbd not in kbd[0]:
        return fail('atkbd: %s, expected "%s"' % (kbd[0] if kbd else 'no keyboard', want_kbd))
    if 'GOT=kvm42' not in text:
        return fail('the line typed with send-key did not reach the guest')
    print('PASS (%s): %s; send-key typed a line the guest read from /dev/tty1' % (what, kbd[0]))
    return True


def main():
    kvmpc = os.path.abspath(sys.argv[1])
    build = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else os.path.join(TOP, 'build')
    kernel = os.path.join(build, 'images', 'linux', 'vmlinuz')
    initrd = os.path.join(build, 'images', 'initramfs.cpio.gz')
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        print('SKIP: guest images missing under %s/images' % build)
        return 77
    cmdline = subprocess.check_output(
        [os.path.join(TOP, 'tests', 'images', 'busybox-initramfs.sh'), '--cmdline', SCRIPT],
        text=True).strip()
    # Direct boot: nobody turns XLATE on, atkbd talks set 2 untranslated.
    # Through SeaBIOS: the firmware leaves XLATE on and the controller
    # translates set 2 into set 1 for Linux.
    ok = boot(kvmpc, kernel, initrd, cmdline, [], 'AT Raw Set 2 keyboard')
    ok = boot(kvmpc, kernel, initrd, cmdline, ['-machine', 'firmware-boot=on'],
              'AT Translated Set 2 keyboard') and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
