#!/usr/bin/env python3
"""The standard VGA (-device VGA / -vga std): Bochs DISPI modes on the
linear framebuffer, text mode through the legacy registers and the
0xa0000 window, and QMP/HMP screendump.

usage: test_vga_qmp.py [KVMPC]        (or KVMPC=path in the environment)

kvmpc runs under -accel qtest; this script plays the guest (PCI config
cycles, port and memory accesses) and reads the PPM screendump writes.
"""
import os
import zlib
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import QMPError  # noqa: E402
from qtest_peer import QTest, QTestQMPCase, main  # noqa: E402

LFB = 0xe0000000
MMIO = 0xe1000000


class VgaQTest(QTest):
    def outl(self, port, v):
        self.cmd('outl 0x%x 0x%x' % (port, v))

    def inl(self, port):
        return int(self.cmd('inl 0x%x' % port).split()[1], 16)

    def cfg_read(self, devfn, reg):
        self.outl(0xcf8, 0x80000000 | devfn << 8 | reg)
        return self.inl(0xcfc)

    def cfg_write(self, devfn, reg, v):
        self.outl(0xcf8, 0x80000000 | devfn << 8 | reg)
        self.outl(0xcfc, v)

    def writeb(self, addr, v):
        self.cmd('writeb 0x%x 0x%x' % (addr, v))

    def writel(self, addr, v):
        self.cmd('writel 0x%x 0x%x' % (addr, v))

    def readb(self, addr):
        return int(self.cmd('readb 0x%x' % addr).split()[1], 16)

    def readw(self, addr):
        return int(self.cmd('readw 0x%x' % addr).split()[1], 16)

    def dispi(self, index, value=None):
        self.outw(0x1ce, index)
        if value is None:
            return self.inw(0x1cf)
        self.outw(0x1cf, value)
        return None


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    parts = data.split(b'\n', 3)
    assert parts[0] == b'P6', parts[0]
    w, h = map(int, parts[1].split())
    assert parts[2] == b'255'
    pix = parts[3]
    assert len(pix) == w * h * 3, (len(pix), w, h)
    return w, h, pix


def read_png(path):
    """An 8-bit RGB PNG (what screendump format=png writes): (w, h, pixels)
    like read_ppm, decoded here (chunks, CRCs, zlib, the five row filters)."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', data[:8]
    pos, idat, w = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        assert struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0] == \
            zlib.crc32(kind + body), kind
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert (depth, ctype, interlace) == (8, 2, 0), (depth, ctype, interlace)
        elif kind == b'IDAT':
            idat += body
        elif kind == b'IEND':
            break
        pos += 12 + n
    raw, stride, out, prev = zlib.decompress(idat), w * 3, bytearray(), bytearray(w * 3)
    for y in range(h):
        ft, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if ft == 1:
                row[i] = (row[i] + a) & 0xff
            elif ft == 2:
                row[i] = (row[i] + b) & 0xff
            elif ft == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xff
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
            else:
                assert ft == 0, ft
        out += row
        prev = row
    return w, h, bytes(out)


def pixel(img, x, y):
    w, _, pix = img
    o = (y * w + x) * 3
    return tuple(pix[o:o + 3])


class VgaTest(QTestQMPCase):
    qtest_class = VgaQTest

    def setUp(self):
        self.make_tmp('kvmpc-vga-')

    def find_vga(self):
        for slot in range(32):
            if self.qt.cfg_read(slot << 3, 0) == 0x11111234:
                return slot << 3
        self.fail('no 1234:1111 on bus 0')
        return None

    def map_bars(self, devfn):
        qt = self.qt
        # BAR0: 16 MiB prefetchable memory; BAR2: 4 KiB memory
        qt.cfg_write(devfn, 0x10, 0xffffffff)
        self.assertEqual(qt.cfg_read(devfn, 0x10), 0xff000008)
        qt.cfg_write(devfn, 0x18, 0xffffffff)
        self.assertEqual(qt.cfg_read(devfn, 0x18), 0xfffff000)
        qt.cfg_write(devfn, 0x10, LFB)
        qt.cfg_write(devfn, 0x18, MMIO)
        qt.cfg_write(devfn, 0x04, 0x3)

    def screendump(self, name, **kw):
        path = os.path.join(self.tmp, name)
        self.qmp.cmd('screendump', filename=path, **kw)
        return read_ppm(path)

    def test_pci_identity(self):
        self.start('-device', 'VGA')
        d = self.find_vga()
        self.assertEqual(self.qt.cfg_read(d, 0x08) >> 16, 0x0300)     # display/VGA
        self.assertEqual(self.qt.cfg_read(d, 0x2c), 0x11001af4)

    def test_dispi_lfb_32bpp(self):
        self.start('-vga', 'std')
        qt = self.qt
        self.map_bars(self.find_vga())
        self.assertEqual(qt.dispi(0), 0xb0c5)
        self.assertEqual(qt.dispi(0xa), 16 * 1024 // 64)      # 64 KiB units
        qt.dispi(4, 0x02)                                     # GETCAPS
        self.assertEqual(qt.dispi(1), 16000)
        self.assertEqual(qt.dispi(3), 32)
        qt.dispi(4, 0)
        qt.dispi(1, 640)
        qt.dispi(2, 480)
        qt.dispi(3, 32)
        qt.dispi(4, 0x41)                                     # enabled, LFB
        self.assertEqual(qt.dispi(4), 0x41)
        self.assertEqual(qt.dispi(6), 640)                    # virtual width
        self.assertEqual(qt.dispi(1), 640)
        qt.dispi(1, 800)                                      # ignored while enabled
        self.assertEqual(qt.dispi(1), 640)
        qt.writel(LFB + (20 * 640 + 10) * 4, 0x00ff0000)      # red at (10,20)
        qt.writel(LFB + (479 * 640 + 639) * 4, 0x000000ff)    # blue at (639,479)
        qt.writel(LFB + (100 * 640 + 300) * 4, 0x00123456)
        img = self.screendump('a.ppm')
        self.assertEqual(img[:2], (640, 480))
        self.assertEqual(pixel(img, 10, 20), (255, 0, 0))
        self.assertEqual(pixel(img, 639, 479), (0, 0, 255))
        self.assertEqual(pixel(img, 300, 100), (0x12, 0x34, 0x56))
        self.assertEqual(pixel(img, 0, 0), (0, 0, 0))
        self.assertEqual(sum(img[2]), 255 + 255 + 0x12 + 0x34 + 0x56)
        # later writes show up (VRAM dirty tracking): LFB, and the banked
        # 0xa0000 window (bank 1 = VRAM 64 KiB up)
        qt.writel(LFB + (20 * 640 + 10) * 4, 0x0000ff00)
        qt.dispi(5, 1)
        qt.outb(0x3c4, 2)                                     # all planes writable
        qt.outb(0x3c5, 0x0f)
        qt.writel(0xa0000 + 4 * 8, 0x00808080)                # VRAM 0x10020
        img = self.screendump('a2.ppm')
        self.assertEqual(pixel(img, 10, 20), (0, 255, 0))
        self.assertEqual(pixel(img, (0x10020 // 4) % 640, 0x10020 // 4 // 640),
                         (0x80, 0x80, 0x80))
        self.assertEqual(pixel(img, 300, 100), (0x12, 0x34, 0x56))
        qt.dispi(5, 0)
        # the DISPI registers through the MMIO BAR: 16 bpp, 320x200
        qt.cmd('writew 0x%x 0x0' % (MMIO + 0x500 + 2 * 4))
        qt.cmd('writew 0x%x 0x%x' % (MMIO + 0x500 + 2 * 1, 320))
        qt.cmd('writew 0x%x 0x%x' % (MMIO + 0x500 + 2 * 2, 200))
        qt.cmd('writew 0x%x 0x%x' % (MMIO + 0x500 + 2 * 3, 16))
        qt.cmd('writew 0x%x 0x%x' % (MMIO + 0x500 + 2 * 4, 0x41))
        self.assertEqual(qt.readw(MMIO + 0x500 + 2 * 3), 16)
        self.assertEqual(qt.dispi(3), 16)
        qt.cmd('writew 0x%x 0xf800' % (LFB + (5 * 320 + 7) * 2))   # RGB565 red
        qt.cmd('writew 0x%x 0x07e0' % (LFB + (6 * 320 + 7) * 2))   # green
        img = self.screendump('b.ppm', format='ppm')
        self.assertEqual(img[:2], (320, 200))
        self.assertEqual(pixel(img, 7, 5), (0xf8, 0, 0))
        self.assertEqual(pixel(img, 7, 6), (0, 0xfc, 0))
        self.assertEqual(pixel(img, 8, 5), (0, 0, 0))    # enable cleared VRAM
        # HMP
        path = os.path.join(self.tmp, 'c.ppm')
        self.qmp.cmd('human-monitor-command', **{'command-line': 'screendump ' + path})
        self.assertEqual(read_ppm(path)[2], img[2])
        # PNG (libpng), QMP and HMP: the same pixels as the PPM
        path = os.path.join(self.tmp, 'd.png')
        self.qmp.cmd('screendump', filename=path, format='png')
        self.assertEqual(read_png(path), img)
        path = os.path.join(self.tmp, 'e.png')
        self.qmp.cmd('human-monitor-command', **{'command-line': 'screendump %s -f png' % path})
        self.assertEqual(read_png(path), img)

    def test_text_mode(self):
        self.start('-device', 'VGA')
        qt = self.qt
        qt.outb(0x3c2, 0x67)                       # colour CRTC at 0x3d4
        # load a glyph for 'K' into plane 2 (planar, write mode 0)
        for i, v in ((2, 0x04), (4, 0x06)):
            qt.outb(0x3c4, i)
            qt.outb(0x3c5, v)
        for i, v in ((4, 0x02), (5, 0x00), (6, 0x04), (8, 0xff), (1, 0x00), (3, 0x00)):
            qt.outb(0x3ce, i)
            qt.outb(0x3cf, v)
        glyph = [0x00, 0xc3, 0xc6, 0xcc, 0xf8, 0xcc, 0xc6, 0xc3] + [0] * 8
        for l, bits in enumerate(glyph):
            qt.writeb(0xa0000 + ord('K') * 32 + l, bits)
        self.assertEqual(qt.readb(0xa0000 + ord('K') * 32 + 1), 0xc3)   # read map 2
        # mode 3: odd/even text at 0xb8000
        for i, v in ((1, 0x00), (2, 0x03), (3, 0x00), (4, 0x02)):
            qt.outb(0x3c4, i)
            qt.outb(0x3c5, v)
        for i, v in ((4, 0x00), (5, 0x10), (6, 0x0e)):
            qt.outb(0x3ce, i)
            qt.outb(0x3cf, v)
        crtc = {0x01: 79, 0x07: 0x1f, 0x09: 0x4f, 0x0c: 0, 0x0d: 0, 0x12: 0x8f, 0x13: 40}
        for i, v in crtc.items():
            qt.outb(0x3d4, i)
            qt.outb(0x3d5, v)
        qt.inb(0x3da)                              # reset the flip-flop
        for i in range(16):
            qt.outb(0x3c0, i)
            qt.outb(0x3c0, i)
        qt.outb(0x3c0, 0x10)
        qt.outb(0x3c0, 0x0c)
        qt.outb(0x3c0, 0x20)                       # palette access off: display on
        # DAC: 1 = blue (0,0,42), 14 = yellow (63,63,21)
        qt.outb(0x3c8, 1)
        for c in (0, 0, 42):
            qt.outb(0x3c9, c)
        qt.outb(0x3c8, 14)
        for c in (63, 63, 21):
            qt.outb(0x3c9, c)
        qt.outb(0x3c7, 14)
        self.assertEqual([qt.inb(0x3c9) for _ in range(3)], [63, 63, 21])
        # "KVMPC" in yellow on blue at row 2, column 3
        for i, ch in enumerate('KVMPC'):
            qt.writeb(0xb8000 + (2 * 80 + 3 + i) * 2, ord(ch))
            qt.writeb(0xb8000 + (2 * 80 + 3 + i) * 2 + 1, 0x1e)
        self.assertEqual(qt.readb(0xb8000 + (2 * 80 + 3) * 2), ord('K'))
        self.assertEqual(qt.readb(0xb8000 + (2 * 80 + 3) * 2 + 1), 0x1e)
        img = self.screendump('t.ppm')
        self.assertEqual(img[:2], (720, 400))
        yellow, blue = (0xff, 0xff, 0x55), (0, 0, 0xaa)
        x0, y0 = 3 * 9, 2 * 16
        for l, bits in enumerate(glyph):
            row = [pixel(img, x0 + x, y0 + l) for x in range(9)]
            want = [yellow if bits & (0x80 >> x) else blue for x in range(8)] + [blue]
            self.assertEqual(row, want, 'glyph line %d' % l)
        self.assertEqual(pixel(img, 0, 0), (0, 0, 0))        # attribute 0: black
        # 8-dot characters: 640 wide
        qt.outb(0x3c4, 1)
        qt.outb(0x3c5, 0x01)
        self.assertEqual(self.screendump('t8.ppm')[:2], (640, 400))

    def regs(self, misc, sr, gr, cr, ar):
        qt = self.qt
        qt.outb(0x3c2, misc)
        for port, table in ((0x3c4, sr), (0x3ce, gr), (0x3d4, cr)):
            for i, v in table.items():
                qt.outb(port, i)
                qt.outb(port + 1, v)
        qt.inb(0x3da)
        for i, v in ar.items():
            qt.outb(0x3c0, i)
            qt.outb(0x3c0, v)
        qt.outb(0x3c0, 0x20)

    def dac(self, index, r, g, b):
        self.qt.outb(0x3c8, index)
        for c in (r, g, b):
            self.qt.outb(0x3c9, c)

    def test_mode_13h(self):
        self.start('-device', 'VGA')
        qt = self.qt
        self.regs(0x63, {1: 0x01, 2: 0x0f, 4: 0x0e}, {5: 0x40, 6: 0x05},
                  {1: 0x4f, 7: 0x1f, 9: 0x41, 0x12: 0x8f, 0x13: 0x28},
                  dict([(i, i) for i in range(16)] + [(0x10, 0x41)]))
        self.dac(5, 63, 0, 0)
        self.dac(200, 0, 32, 63)
        qt.writeb(0xa0000 + 10 * 320 + 20, 5)
        qt.writeb(0xa0000 + 199 * 320 + 319, 200)
        self.assertEqual(qt.readb(0xa0000 + 10 * 320 + 20), 5)
        img = self.screendump('m13.ppm')
        self.assertEqual(img[:2], (320, 200))
        self.assertEqual(pixel(img, 20, 10), (255, 0, 0))
        self.assertEqual(pixel(img, 319, 199), (0, 0x82, 255))
        self.assertEqual(pixel(img, 21, 10), (0, 0, 0))

    def test_planar_16_colour(self):
        self.start('-device', 'VGA')
        qt = self.qt
        self.regs(0xe3, {1: 0x01, 2: 0x0f, 4: 0x06}, {5: 0x02, 6: 0x05, 8: 0x80},
                  {1: 0x4f, 7: 0x3e, 9: 0x40, 0x12: 0xdf, 0x13: 0x28},
                  dict([(i, i) for i in range(16)] + [(0x10, 0x01), (0x12, 0x0f)]))
        self.dac(12, 63, 21, 21)
        # write mode 2, bit mask 0x80: colour 12 into the first pixel only
        qt.readb(0xa0000 + 80 * 5)                  # load the latches
        qt.writeb(0xa0000 + 80 * 5, 12)
        img = self.screendump('m12.ppm')
        self.assertEqual(img[:2], (640, 480))
        self.assertEqual(pixel(img, 0, 5), (255, 0x55, 0x55))
        self.assertEqual(pixel(img, 1, 5), (0, 0, 0))
        # read mode 1 (colour compare with 12): only bit 7 matches
        qt.outb(0x3ce, 2)
        qt.outb(0x3cf, 12)
        qt.outb(0x3ce, 7)
        qt.outb(0x3cf, 0x0f)
        qt.outb(0x3ce, 5)
        qt.outb(0x3cf, 0x08)
        self.assertEqual(qt.readb(0xa0000 + 80 * 5), 0x80)

    def rom_bar(self, d):
        qt = self.qt
        qt.cfg_write(d, 0x30, 0xffffffff)
        size_mask = qt.cfg_read(d, 0x30)
        qt.cfg_write(d, 0x30, 0)
        return size_mask

    def test_rom_bar(self):
        rom = os.path.join(self.tmp, 'test.rom')
        data = bytes([0x55, 0xaa, 6]) + bytes((i * 7) & 0xff for i in range(3000 - 3))
        with open(rom, 'wb') as f:
            f.write(data)
        self.start('-device', 'VGA,romfile=' + rom)
        qt, d = self.qt, self.find_vga()
        self.assertEqual(self.rom_bar(d), 0xfffff001)        # 4 KiB, enable bit
        ROM = 0xe2000000
        qt.cfg_write(d, 0x30, ROM)                           # address, not enabled
        qt.cfg_write(d, 0x04, 0x2)
        self.assertNotEqual(qt.readw(ROM), 0xaa55)
        qt.cfg_write(d, 0x30, ROM | 1)
        self.assertEqual(qt.cfg_read(d, 0x30), ROM | 1)
        self.assertEqual(qt.readw(ROM), 0xaa55)
        self.assertEqual([qt.readb(ROM + i) for i in (2, 100, 2999)],
                         [data[2], data[100], data[2999]])
        self.assertEqual(qt.readb(ROM + 3500), 0)             # padding
        qt.writeb(ROM + 100, 0x12)                            # read-only
        self.assertEqual(qt.readb(ROM + 100), data[100])
        qt.cfg_write(d, 0x04, 0x0)                            # memory decode off
        self.assertNotEqual(qt.readw(ROM), 0xaa55)

    def test_default_rom(self):
        path = None
        for dirname in ('/usr/share/seabios', '/usr/share/qemu'):
            if os.path.exists(os.path.join(dirname, 'vgabios-stdvga.bin')):
                path = os.path.join(dirname, 'vgabios-stdvga.bin')
                break
        if not path:
            self.skipTest('no vgabios-stdvga.bin')
        size = 2048
        while size < os.path.getsize(path):
            size *= 2
        self.start('-device', 'VGA')
        qt, d = self.qt, self.find_vga()
        self.assertEqual(self.rom_bar(d), (~(size - 1) & 0xffffffff) | 1)
        qt.cfg_write(d, 0x30, 0xe2000001)
        qt.cfg_write(d, 0x04, 0x2)
        with open(path, 'rb') as f:
            head = f.read(64)
        self.assertEqual(bytes(qt.readb(0xe2000000 + i) for i in range(64)), head)

    def test_rombar_off(self):
        self.start('-device', 'VGA,rombar=0')
        self.assertEqual(self.rom_bar(self.find_vga()), 0)

    def test_romfile_empty(self):
        self.start('-device', 'VGA,romfile=')
        self.assertEqual(self.rom_bar(self.find_vga()), 0)

    def test_missing_rom(self):
        proc = __import__('subprocess').run(
            [self.kvmpc, '-accel', 'qtest', '-display', 'none', '-device',
             'VGA,romfile=/nonexistent/x.rom'], capture_output=True, timeout=20)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b'romfile', proc.stderr)

    def test_errors(self):
        self.start()
        path = os.path.join(self.tmp, 'x.ppm')
        with self.assertRaises(QMPError):
            self.qmp.cmd('screendump', filename=path)           # no display device
        self.assertFalse(os.path.exists(path))

    def test_bad_format(self):
        self.start('-device', 'VGA')
        path = os.path.join(self.tmp, 'x.bmp')
        with self.assertRaises(QMPError):
            self.qmp.cmd('screendump', filename=path, format='bmp')
        self.assertFalse(os.path.exists(path))

    def test_bad_vgamem(self):
        proc = __import__('subprocess').run(
            [self.kvmpc, '-accel', 'qtest', '-display', 'none', '-device', 'VGA,vgamem_mb=3'],
            capture_output=True, timeout=20)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b'vgamem_mb', proc.stderr)

    def tearDown(self):
        if hasattr(self, 'proc'):
            super().tearDown()


if __name__ == '__main__':
    main()
