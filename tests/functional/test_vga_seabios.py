#!/usr/bin/env python3
"""SeaBIOS runs the VGA BIOS (vgabios-stdvga.bin, the VGA's expansion ROM)
under tcg-lite with -vga std -nographic: the serial console still gets
SeaBIOS's output, text mode 3 holds the banner in VGA memory (QMP pmemsave
of 0xb8000) and the screendump shows its glyphs.

usage: test_vga_seabios.py [KVMPC]     (or KVMPC=path)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPClient  # noqa: E402

KVMPC = None


class VgaSeabiosTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='kvmpc-vgabios-')
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_banner_on_screen(self):
        if not any(os.path.exists(os.path.join(d, 'vgabios-stdvga.bin'))
                   for d in ('/usr/share/seabios', '/usr/share/qemu')):
            self.skipTest('no vgabios-stdvga.bin')
        serial = os.path.join(self.tmp, 'serial')
        msock = os.path.join(self.tmp, 'qmp.sock')
        with open(serial, 'wb') as out:
            proc = subprocess.Popen(
                # -nic none: no default e1000, whose iPXE ROM would print on
                # the screen and try a network boot before the "No bootable
                # device" this test waits for
                [KVMPC, '-accel', 'tcg', '-nographic', '-m', '256', '-vga', 'std', '-nic', 'none',
                 '-no-reboot', '-qmp', 'unix:%s,server=on,wait=off' % msock],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 90
            while time.time() < deadline:
                with open(serial, 'rb') as f:
                    if b'No bootable device' in f.read():
                        break
                self.assertIsNone(proc.poll(), 'kvmpc exited')
                time.sleep(0.3)
            else:
                self.fail('no "No bootable device" on the serial console')
            with open(serial, 'rb') as f:
                self.assertIn(b'SeaBIOS (version', f.read())
            qmp = QMPClient.unix(msock)
            qmp.negotiate()
            txt = os.path.join(self.tmp, 'txt')
            qmp.cmd('pmemsave', val=0xb8000, size=80 * 25 * 2, filename=txt)
            with open(txt, 'rb') as f:
                vmem = f.read()
            chars = bytes(vmem[0::2])
            self.assertTrue(chars.startswith(b'SeaBIOS (version'), chars[:80])
            self.assertIn(b'No bootable device.', chars)
            ppm = os.path.join(self.tmp, 's.ppm')
            qmp.cmd('screendump', filename=ppm)
            qmp.cmd('quit')
            qmp.close()
            proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        with open(ppm, 'rb') as f:
            data = f.read()
        parts = data.split(b'\n', 3)
        self.assertEqual(parts[0], b'P6')
        w, h = map(int, parts[1].split())
        pix = parts[3]
        self.assertEqual((w, h), (720, 400))            # 80x25, 9x16 cells

        def cell_lit(col, row):
            lit = 0
            for y in range(row * 16, row * 16 + 16):
                for x in range(col * 9, col * 9 + 9):
                    o = (y * w + x) * 3
                    lit += pix[o:o + 3] != b'\0\0\0'
            return lit

        banner = chars[:80]
        for col in range(16):                            # "SeaBIOS (version"
            if banner[col] != ord(' '):
                self.assertGreater(cell_lit(col, 0), 8, 'cell %d (%c)' % (col, banner[col]))
            else:
                self.assertEqual(cell_lit(col, 0), 0, 'space at %d' % col)
        self.assertEqual(cell_lit(79, 24), 0)


if __name__ == '__main__':
    if len(sys.argv) > 1 and not sys.argv[1].startswith('-'):
        KVMPC = os.path.abspath(sys.argv.pop(1))
    else:
        KVMPC = os.path.abspath(os.environ.get('KVMPC', 'build/kvmpc'))
    unittest.main(verbosity=2)
