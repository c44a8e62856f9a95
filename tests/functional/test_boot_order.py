#!/usr/bin/env python3
"""SeaBIOS's choice of boot device on machine pc under tcg-lite
(docs/firmware.md, "Boot order"): -boot once= (the first boot only; the
next reset goes back to order=), bootindex= on ide-hd/ide-cd (the fw_cfg
"bootorder" file beats -boot order=), -boot strict=on (a device without a
bootindex is never tried), and the boot menu (-boot menu=on: ESC typed
with QMP send-key opens it, a digit picks the device).

The disk and the CD carry the boot sector of tests/functional/ide-boot.S,
which prints IDEBOOT and "SUM=xxxx", the 16-bit sum of a sector it reads
with int 13h: the disk's LBA 1 and the CD's sector 16 differ, so the SUM
says which device booted.

usage: test_boot_order.py [KVMPC]     (or KVMPC=path)
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient  # noqa: E402

KVMPC = None
SRC = os.path.dirname(os.path.abspath(__file__))
SEABIOS = '/usr/share/seabios/bios-256k.bin'


def sector_sum(data):
    return '%04X' % (sum(data) & 0xffff)


class Media:
    """A disk and a CD, both booting tests/functional/ide-boot.S."""

    def __init__(self, tmp):
        self.tmp = tmp
        rnd = random.Random(1234)
        boot = self.bootsector(512, 1)
        data = bytes(rnd.randrange(256) for _ in range(512))
        self.disk = os.path.join(tmp, 'disk.img')
        with open(self.disk, 'wb') as f:
            f.write(boot + data + bytes((4 << 20) - 1024))
        self.disk_sum = sector_sum(data)
        iso = os.path.join(tmp, 'iso')
        os.mkdir(iso)
        with open(os.path.join(iso, 'boot.bin'), 'wb') as f:
            cd = self.bootsector(2048, 16)
            f.write(cd + bytes(2048 - len(cd)))
        self.cd = os.path.join(tmp, 'cd.iso')
        subprocess.run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'KVMPCORDER', '-o', self.cd,
                        '-b', 'boot.bin', '-no-emul-boot', '-boot-load-size', '4', iso],
                       check=True, stderr=subprocess.DEVNULL)
        with open(self.cd, 'rb') as f:
            self.cd_sum = sector_sum(f.read()[16 * 2048:17 * 2048])
        assert self.cd_sum != self.disk_sum

    def bootsector(self, sector_size, lba):
        o = os.path.join(self.tmp, 'b.o')
        b = os.path.join(self.tmp, 'b.bin')
        subprocess.run(['as', '--32', '-I', SRC, '--defsym', 'SECTOR_SIZE=%d' % sector_size,
                        '--defsym', 'READ_LBA=%d' % lba, '-o', o,
                        os.path.join(SRC, 'ide-boot.S')], check=True)
        subprocess.run(['ld', '-m', 'elf_i386', '-Ttext', '0x7c00', '--oformat', 'binary',
                        '-o', b, o], check=True)
        with open(b, 'rb') as f:
            return f.read()


class Guest:
    """kvmpc with SeaBIOS, serial to a file, QMP on a socket; the boot
    sector halts after printing (no isa-debug-exit), so a reset boots
    again."""

    def __init__(self, tmp, *args):
        self.serial = os.path.join(tmp, 'serial')
        sock = os.path.join(tmp, 'qmp.sock')
        with open(self.serial, 'wb') as out:
            self.proc = subprocess.Popen(
                [KVMPC, '-accel', 'tcg', '-nographic', '-m', '128',
                 '-qmp', 'unix:%s,server=on,wait=off' % sock] + list(args),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
        try:
            self.qmp = QMPClient.unix(sock, retry=20.0)
        except OSError:
            self.proc.kill()
            raise AssertionError('no QMP socket; kvmpc says: ' +
                                 self.proc.communicate()[1].decode())
        self.qmp.negotiate()

    def output(self):
        with open(self.serial, 'rb') as f:
            return f.read().decode('latin-1')

    def wait_for(self, pattern, timeout=120, start=0):
        """The first match of pattern in the serial output after offset
        start."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.compile(pattern).search(self.output(), start)
            if m:
                return m
            if self.proc.poll() is not None:
                raise AssertionError('kvmpc exited (%d): %s' % (
                    self.proc.returncode, self.proc.stderr.read().decode()))
            time.sleep(0.2)
        raise AssertionError('no /%s/ on the serial console within %ds; it says:\n%s' % (
            pattern, timeout, self.output()[-1500:]))

    def booted(self, start=0):
        """The SUM the next boot sector printed, and where it ends."""
        m = self.wait_for(r'IDEBOOT\r?\n(?:.|\n)*?SUM=([0-9A-F]{4})', start=start)
        return m.group(1), m.end()

    def close(self):
        if self.proc.poll() is not None and self.proc.stderr.closed:
            return
        try:
            self.qmp.cmd('quit')
            self.qmp.close()
            self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stderr.close()


class BootOrderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SEABIOS):
            raise unittest.SkipTest("Debian's seabios package is not installed")
        for tool in ('as', 'ld', 'xorriso'):
            if not shutil.which(tool):
                raise unittest.SkipTest('%s is not installed (scripts/setup.sh installs it)' % tool)
        cls.tmp = tempfile.mkdtemp(prefix='kvmpc-bootorder-')
        cls.media = Media(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def guest(self, *args):
        d = tempfile.mkdtemp(dir=self.tmp)
        g = Guest(d, *args)
        self.addCleanup(g.close)
        return g

    def drives(self, hd_props='', cd_props=''):
        m = self.media
        return ['-drive', 'file=%s,format=raw,if=none,id=hd' % m.disk,
                '-device', 'ide-hd,drive=hd,bus=ide.0,unit=0' + hd_props,
                '-drive', 'file=%s,format=raw,if=none,id=cd,media=cdrom' % m.cd,
                '-device', 'ide-cd,drive=cd,bus=ide.1,unit=0' + cd_props]

    def test_once_then_order(self):
        """once=d boots the CD; system_reset then boots order=c, the disk."""
        g = self.guest('-hda', self.media.disk, '-cdrom', self.media.cd, '-boot', 'order=c,once=d')
        s, end = g.booted()
        self.assertEqual(s, self.media.cd_sum, 'the first boot is not from the CD')
        g.qmp.cmd('system_reset')
        s, end = g.booted(end)
        self.assertEqual(s, self.media.disk_sum, 'after a reset, order=c must boot the disk')
        g.qmp.cmd('system_reset')
        s, _ = g.booted(end)
        self.assertEqual(s, self.media.disk_sum, 'once= came back after the second reset')

    def test_bootindex_beats_order(self):
        """order=c, but the CD has bootindex=1 and the disk bootindex=2."""
        g = self.guest(*self.drives(',bootindex=2', ',bootindex=1'), '-boot', 'order=c')
        s, _ = g.booted()
        self.assertEqual(s, self.media.cd_sum)
        g.close()       # it holds the images' write locks
        g2 = self.guest(*self.drives(',bootindex=1', ',bootindex=2'), '-boot', 'order=d')
        s, _ = g2.booted()
        self.assertEqual(s, self.media.disk_sum)

    def test_strict(self):
        """strict=on: the disk has no bootindex and is not tried; the CD
        with one boots; with no bootindex at all nothing boots."""
        g = self.guest(*self.drives('', ',bootindex=0'), '-boot', 'order=c,strict=on')
        s, _ = g.booted()
        self.assertEqual(s, self.media.cd_sum)
        g.close()
        g2 = self.guest('-hda', self.media.disk, '-boot', 'strict=on')
        g2.wait_for(r'No bootable device')
        self.assertNotIn('IDEBOOT', g2.output())
        g2.close()
        # the same without strict boots the disk (the control)
        g3 = self.guest('-hda', self.media.disk, '-boot', 'strict=off')
        s, _ = g3.booted()
        self.assertEqual(s, self.media.disk_sum)

    def test_menu(self):
        """menu=on: SeaBIOS offers ESC; send-key esc opens the menu, which
        lists both drives; the digit of the hard disk boots it although
        order=d."""
        g = self.guest('-hda', self.media.disk, '-cdrom', self.media.cd,
                       '-boot', 'order=d,menu=on,splash-time=20000')
        end = g.wait_for(r'Press ESC for boot menu').end()
        g.qmp.cmd('send-key', keys=[{'type': 'qcode', 'data': 'esc'}])
        m = g.wait_for(r'Select boot device:', start=end)
        menu = g.wait_for(r'(?s)Select boot device:.*?(\d)\. [^\r\n]*HARDDISK', start=m.start())
        out = g.output()[m.start():]
        self.assertRegex(out, r'\d\. [^\r\n]*DVD', 'the CD is not in the menu')
        g.qmp.cmd('send-key', keys=[{'type': 'qcode', 'data': menu.group(1)}])
        s, _ = g.booted(menu.end())
        self.assertEqual(s, self.media.disk_sum, 'the menu choice was not booted')

    def test_menu_off_no_prompt(self):
        """Without menu=on there is no ESC prompt (QEMU's default)."""
        g = self.guest('-hda', self.media.disk)
        g.booted()
        self.assertNotIn('Press ESC for boot menu', g.output())

    def test_bad_options(self):
        for arg, msg in (('once=x', "invalid boot device 'x' in once=x"),
                         ('order=cc', "boot device 'c' given twice in order=cc"),
                         ('strict=maybe', 'strict')):
            r = subprocess.run([KVMPC, '-accel', 'tcg', '-nographic', '-boot', arg],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 1, arg)
            self.assertIn(msg, r.stderr, arg)
        r = subprocess.run([KVMPC, '-accel', 'tcg', '-nographic', '-drive',
                            'file=%s,format=raw,if=none,id=hd' % self.media.disk, '-device',
                            'ide-hd,drive=hd,serial=%s' % ('x' * 21)],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn('longer than 20 characters', r.stderr)


if __name__ == '__main__':
    if len(sys.argv) > 1 and not sys.argv[1].startswith('-'):
        KVMPC = sys.argv.pop(1)
    KVMPC = KVMPC or os.environ.get('KVMPC') or os.path.join(SRC, '..', '..', 'build', 'kvmpc')
    unittest.main(verbosity=2)
