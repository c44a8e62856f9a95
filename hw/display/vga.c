/*
 * Standard VGA core: the legacy registers, the 0xa0000 window onto the four
 * planes, the Bochs VBE (DISPI) extension, and rendering into a console
 * surface.  Written for kvmpc from the FreeVGA register descriptions and
 * the Bochs DISPI interface, following QEMU's behaviour.
 *
 * Ports (8-bit; 16-bit writes are split, index first):
 *   0x3c0     attribute controller: index/data by the flip-flop (reset by
 *             reading input status 1); 0x3c1 reads the data
 *   0x3c2 W   misc output         0x3c2 R  input status 0 (0)
 *   0x3c4/5   sequencer index/data (5 registers)
 *   0x3c6     DAC pixel mask (reads 0xff)
 *   0x3c7 W   DAC read index      0x3c7 R  DAC state
 *   0x3c8     DAC write index     0x3c9    DAC data (r, g, b; 6 bits)
 *   0x3ca R   feature control     0x3cc R  misc output
 *   0x3ce/f   graphics controller index/data (9 registers)
 *   0x3b4/5 or 0x3d4/5  CRTC index/data (by misc output bit 0; the other
 *             block is ignored), 0x3ba or 0x3da R input status 1,
 *             W feature control
 *   0x1ce/0x1cf  DISPI index/data (16-bit)
 * VRAM layout (as QEMU): byte b of plane p at vram[4 * b + p]; chain-4
 * addresses are therefore VRAM offsets as is.  Odd/even CPU address a goes
 * to plane (a & 1) | (GR4 & 2) at plane offset a & ~1.
 * Out-of-range indexes read 0xff / are ignored; accesses beyond VRAM read
 * all ones / are dropped.
 */
#include <string.h>
#include <glib.h>
#include "hw/display/vga.h"
#include "qemu/log.h"

#define VGA_SR_COUNT    5
#define VGA_GR_COUNT    9
#define VGA_AR_COUNT    21
#define VGA_CR_COUNT    0x19

#define SR_CLOCKING     1
#define  SR1_8DOT       0x01
#define SR_PLANE_MASK   2
#define SR_CHARMAP      3
#define SR_MEMMODE      4
#define  SR4_ODD_EVEN_OFF 0x04
#define  SR4_CHAIN4     0x08
#define GR_SET_RESET    0
#define GR_ENABLE_SR    1
#define GR_COLOR_CMP    2
#define GR_ROTATE       3
#define GR_READ_MAP     4
#define GR_MODE         5
#define  GR5_READ_MODE  0x08
#define  GR5_ODD_EVEN   0x10
#define  GR5_256COLOR   0x40
#define GR_MISC         6
#define  GR6_GRAPHICS   0x01
#define GR_DONT_CARE    7
#define GR_BIT_MASK     8
#define AR_MODE         0x10
#define  AR10_LINE_GFX  0x04
#define  AR10_P54S      0x80
#define AR_PLANE_ENABLE 0x12
#define AR_COLOR_SELECT 0x14
#define AR_INDEX_PAS    0x20    /* palette address source: display on */

static const uint32_t mask16[16] = {
#define M(b) (((b) & 1 ? 0xffu : 0) | ((b) & 2 ? 0xff00u : 0) | ((b) & 4 ? 0xff0000u : 0) | \
              ((b) & 8 ? 0xff000000u : 0))
    M(0), M(1), M(2), M(3), M(4), M(5), M(6), M(7),
    M(8), M(9), M(10), M(11), M(12), M(13), M(14), M(15),
#undef M
};

static inline uint32_t expand8(uint8_t v)
{
    return v * 0x01010101u;
}

static bool vbe_enabled(const VGACommonState *s)
{
    return s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

/* ---- legacy ports ---------------------------------------------------------- */

static bool vga_port_ignored(VGACommonState *s, uint32_t addr)
{
    /* colour (0x3dx) or mono (0x3bx) CRTC block, by misc output bit 0 */
    if (s->msr & 1) {
        return addr >= 0x3b0 && addr <= 0x3bf;
    }
    return addr >= 0x3d0 && addr <= 0x3df;
}

uint32_t vga_ioport_read(VGACommonState *s, uint32_t addr)
{
    uint32_t v = 0xff;

    if (vga_port_ignored(s, addr)) {
        return 0xff;
    }
    switch (addr) {
    case 0x3c0:
        v = s->ar_flip_flop ? 0xff : s->ar_index;
        break;
    case 0x3c1:
        v = (s->ar_index & 0x1f) < VGA_AR_COUNT ? s->ar[s->ar_index & 0x1f] : 0;
        break;
    case 0x3c2: v = 0; break;
    case 0x3c4: v = s->sr_index; break;
    case 0x3c5: v = s->sr_index < VGA_SR_COUNT ? s->sr[s->sr_index] : 0xff; break;
    case 0x3c6: v = 0xff; break;
    case 0x3c7: v = s->dac_state; break;
    case 0x3c8: v = s->dac_write_index; break;
    case 0x3c9:
        v = s->palette[s->dac_read_index * 3 + s->dac_sub_index];
        if (++s->dac_sub_index == 3) {
            s->dac_sub_index = 0;
            s->dac_read_index++;
        }
        break;
    case 0x3ca: v = s->fcr; break;
    case 0x3cc: v = s->msr; break;
    case 0x3ce: v = s->gr_index; break;
    case 0x3cf: v = s->gr_index < VGA_GR_COUNT ? s->gr[s->gr_index] : 0xff; break;
    case 0x3b4: case 0x3d4: v = s->cr_index; break;
    case 0x3b5: case 0x3d5: v = s->cr_index < VGA_CR_COUNT ? s->cr[s->cr_index] : 0xff; break;
    case 0x3ba: case 0x3da:
        /* no real timing: toggle retrace and display-enable on each read */
        s->st01 ^= 0x09;
        v = s->st01;
        s->ar_flip_flop = 0;
        break;
    default:
        break;
    }
    return v;
}

void vga_ioport_write(VGACommonState *s, uint32_t addr, uint32_t val)
{
    val &= 0xff;
    if (vga_port_ignored(s, addr)) {
        return;
    }
    switch (addr) {
    case 0x3c0:
        if (!s->ar_flip_flop) {
            s->ar_index = val & 0x3f;
        } else if ((s->ar_index & 0x1f) < VGA_AR_COUNT) {
            unsigned i = s->ar_index & 0x1f;
            s->ar[i] = i < 0x10 ? val & 0x3f : i == AR_PLANE_ENABLE ? val & 0x3f
                     : i == AR_COLOR_SELECT ? val & 0x0f : val;
        }
        s->ar_flip_flop ^= 1;
        break;
    case 0x3c2: s->msr = val & ~0x10; break;
    case 0x3c4: s->sr_index = val & 7; break;
    case 0x3c5:
        if (s->sr_index < VGA_SR_COUNT) {
            s->sr[s->sr_index] = val;
        }
        break;
    case 0x3c7:
        s->dac_read_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 3;
        break;
    case 0x3c8:
        s->dac_write_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 0;
        break;
    case 0x3c9:
        s->dac_cache[s->dac_sub_index] = val;
        if (++s->dac_sub_index == 3) {
            memcpy(&s->palette[s->dac_write_index * 3], s->dac_cache, 3);
            s->full_update = true;
            s->dac_sub_index = 0;
            s->dac_write_index++;
        }
        break;
    case 0x3ce: s->gr_index = val & 0x0f; break;
    case 0x3cf:
        if (s->gr_index < VGA_GR_COUNT) {
            s->gr[s->gr_index] = val;
        }
        break;
    case 0x3b4: case 0x3d4: s->cr_index = val; break;
    case 0x3b5: case 0x3d5:
        if (s->cr_index >= VGA_CR_COUNT) {
            break;
        }
        /* CR11 bit 7 write-protects CR0-CR7 (CR7 bit 4 stays writable) */
        if ((s->cr[0x11] & 0x80) && s->cr_index <= 7) {
            if (s->cr_index == 7) {
                s->cr[7] = (s->cr[7] & ~0x10) | (val & 0x10);
            }
            break;
        }
        s->cr[s->cr_index] = val;
        break;
    case 0x3ba: case 0x3da: s->fcr = val & 0x10; break;
    default:
        break;
    }
}

static uint64_t vga_port_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)size;
    return vga_ioport_read(opaque, 0x3b0 + (uint32_t)addr);
}

static void vga_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)size;
    vga_ioport_write(opaque, 0x3b0 + (uint32_t)addr, (uint32_t)val);
}

static const MemoryRegionOps vga_port_ops = {
    .read = vga_port_read,
    .write = vga_port_write,
    .valid = { .min_access_size = 1, .max_access_size = 2, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- Bochs VBE (DISPI) ------------------------------------------------------ */

static void vbe_update_geometry(VGACommonState *s)
{
    uint16_t *r = s->vbe_regs;
    unsigned bpp = r[VBE_DISPI_INDEX_BPP], bytespp = bpp == 15 ? 2 : (bpp + 7) / 8;
    uint32_t line, need;

    if (r[VBE_DISPI_INDEX_VIRT_WIDTH] < r[VBE_DISPI_INDEX_XRES]) {
        r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
    }
    line = bpp == 4 ? r[VBE_DISPI_INDEX_VIRT_WIDTH] / 2 : r[VBE_DISPI_INDEX_VIRT_WIDTH] * bytespp;
    if (line == 0) {
        line = 1;
    }
    /* the virtual height is what fits in VRAM (at least yres if it fits) */
    r[VBE_DISPI_INDEX_VIRT_HEIGHT] = MIN(s->vram_size / line, 0xffffu);
    s->vbe_line_offset = line;
    need = (uint32_t)r[VBE_DISPI_INDEX_Y_OFFSET] * line +
           (bpp == 4 ? r[VBE_DISPI_INDEX_X_OFFSET] / 2 : r[VBE_DISPI_INDEX_X_OFFSET] * bytespp);
    s->vbe_start_addr = need < s->vram_size ? need : 0;
}

uint32_t vbe_read_reg(VGACommonState *s, unsigned index)
{
    bool caps = s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS;

    switch (index) {
    case VBE_DISPI_INDEX_XRES: return caps ? VBE_DISPI_MAX_XRES : s->vbe_regs[index];
    case VBE_DISPI_INDEX_YRES: return caps ? VBE_DISPI_MAX_YRES : s->vbe_regs[index];
    case VBE_DISPI_INDEX_BPP: return caps ? VBE_DISPI_MAX_BPP : s->vbe_regs[index];
    case VBE_DISPI_INDEX_VIDEO_MEMORY_64K: return s->vram_size >> 16;
    default:
        return index < VBE_DISPI_INDEX_NB ? s->vbe_regs[index] : 0;
    }
}

void vbe_write_reg(VGACommonState *s, unsigned index, uint32_t val)
{
    uint16_t *r = s->vbe_regs;

    val &= 0xffff;
    switch (index) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP:
        /* fixed while enabled, as QEMU */
        if (vbe_enabled(s)) {
            break;
        }
        if (index == VBE_DISPI_INDEX_XRES && (val > VBE_DISPI_MAX_XRES || (val & 7))) {
            break;
        }
        if (index == VBE_DISPI_INDEX_YRES && val > VBE_DISPI_MAX_YRES) {
            break;
        }
        if (index == VBE_DISPI_INDEX_BPP) {
            if (val == 0) {
                val = 8;
            }
            if (val != 4 && val != 8 && val != 15 && val != 16 && val != 24 && val != 32) {
                break;
            }
        }
        r[index] = val;
        break;
    case VBE_DISPI_INDEX_BANK:
        if ((uint32_t)val << 16 < s->vram_size) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_ENABLE:
        if ((val & VBE_DISPI_ENABLED) && !vbe_enabled(s)) {
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
            r[VBE_DISPI_INDEX_X_OFFSET] = r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
            vbe_update_geometry(s);
            if ((uint64_t)s->vbe_line_offset * r[VBE_DISPI_INDEX_YRES] > s->vram_size) {
                qemu_log_mask(LOG_GUEST_ERROR, "VGA: DISPI mode %ux%ux%u does not fit in VRAM\n",
                              r[VBE_DISPI_INDEX_XRES], r[VBE_DISPI_INDEX_YRES],
                              r[VBE_DISPI_INDEX_BPP]);
                val &= ~VBE_DISPI_ENABLED;
            } else if (!(val & VBE_DISPI_NOCLEARMEM)) {
                memset(s->vram_ptr, 0, (size_t)s->vbe_line_offset * r[VBE_DISPI_INDEX_YRES]);
                s->full_update = true;
            }
            if (val & VBE_DISPI_ENABLED) {
                /* graphics, chain-4, as the VGA BIOS would for a linear mode */
                s->gr[GR_MISC] = (s->gr[GR_MISC] & ~0x0c) | 0x05;
                s->sr[SR_MEMMODE] |= SR4_CHAIN4;
            }
        }
        r[index] = val & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC |
                          VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
        if (!(val & VBE_DISPI_ENABLED)) {
            r[VBE_DISPI_INDEX_BANK] = 0;
        }
        break;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        r[index] = val;
        vbe_update_geometry(s);
        break;
    default:
        break;          /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
    }
}

static uint64_t vbe_port_read(void *opaque, uint64_t addr, unsigned size)
{
    VGACommonState *s = opaque;
    uint32_t v = addr == 0 ? s->vbe_index : vbe_read_reg(s, s->vbe_index);

    (void)size;
    return v;
}

static void vbe_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VGACommonState *s = opaque;

    (void)size;
    if (addr == 0) {
        s->vbe_index = (uint16_t)val;
    } else {
        vbe_write_reg(s, s->vbe_index, (uint32_t)val);
    }
}

static const MemoryRegionOps vbe_port_ops = {
    .read = vbe_port_read,
    .write = vbe_port_write,
    .valid = { .min_access_size = 2, .max_access_size = 2, .unaligned = true },
    .impl = { .min_access_size = 2, .max_access_size = 2 },
};

/* ---- the 0xa0000 window ------------------------------------------------------ */

/* addr relative to 0xa0000 -> offset within the mapped window, or -1. */
static int64_t vga_window_offset(VGACommonState *s, uint64_t addr)
{
    switch ((s->gr[GR_MISC] >> 2) & 3) {
    case 0: return (int64_t)addr;
    case 1: return addr < 0x10000 ? (int64_t)addr : -1;
    case 2: return addr >= 0x10000 && addr < 0x18000 ? (int64_t)addr - 0x10000 : -1;
    default: return addr >= 0x18000 ? (int64_t)addr - 0x18000 : -1;
    }
}

static uint8_t vga_mem_readb(VGACommonState *s, uint64_t addr)
{
    int64_t off = vga_window_offset(s, addr);
    uint32_t o;

    if (off < 0) {
        return 0xff;
    }
    if (vbe_enabled(s)) {
        off += (uint32_t)s->vbe_regs[VBE_DISPI_INDEX_BANK] << 16;
    }
    o = (uint32_t)off;
    if (s->sr[SR_MEMMODE] & SR4_CHAIN4) {
        return o < s->vram_size ? s->vram_ptr[o] : 0xff;
    }
    if (s->gr[GR_MODE] & GR5_ODD_EVEN) {
        uint32_t v = ((o & ~1u) << 1) | (s->gr[GR_READ_MAP] & 2) | (o & 1);
        return v < s->vram_size ? s->vram_ptr[v] : 0xff;
    }
    if ((uint64_t)o * 4 + 4 > s->vram_size) {
        return 0xff;
    }
    memcpy(&s->latch, s->vram_ptr + (size_t)o * 4, 4);
    if (!(s->gr[GR_MODE] & GR5_READ_MODE)) {
        return s->latch >> ((s->gr[GR_READ_MAP] & 3) * 8);
    }
    /* read mode 1: colour compare; a 1 where every cared-for plane matches */
    uint32_t cmp = (s->latch ^ mask16[s->gr[GR_COLOR_CMP] & 0xf]) &
                   mask16[s->gr[GR_DONT_CARE] & 0xf];
    uint8_t diff = cmp | cmp >> 8 | cmp >> 16 | cmp >> 24;
    return (uint8_t)~diff;
}

static void vga_mem_writeb(VGACommonState *s, uint64_t addr, uint8_t val)
{
    int64_t off = vga_window_offset(s, addr);
    uint32_t o, plane_mask, bit_mask, v;
    unsigned fn;

    if (off < 0) {
        return;
    }
    if (vbe_enabled(s)) {
        off += (uint32_t)s->vbe_regs[VBE_DISPI_INDEX_BANK] << 16;
    }
    o = (uint32_t)off;
    if (s->sr[SR_MEMMODE] & SR4_CHAIN4) {
        if (o < s->vram_size && (s->sr[SR_PLANE_MASK] & (1 << (o & 3)))) {
            s->vram_ptr[o] = val;
            memory_region_set_dirty(&s->vram, o, 1);
        }
        return;
    }
    if ((s->gr[GR_MODE] & GR5_ODD_EVEN) || !(s->sr[SR_MEMMODE] & SR4_ODD_EVEN_OFF)) {
        unsigned plane = (s->gr[GR_READ_MAP] & 2) | (o & 1);
        uint32_t a = ((o & ~1u) << 1) | plane;
        if (a < s->vram_size && (s->sr[SR_PLANE_MASK] & (1 << plane))) {
            s->vram_ptr[a] = val;
            memory_region_set_dirty(&s->vram, a, 1);
        }
        return;
    }
    if ((uint64_t)o * 4 + 4 > s->vram_size) {
        return;
    }
    fn = (s->gr[GR_ROTATE] >> 3) & 3;
    bit_mask = s->gr[GR_BIT_MASK];
    switch (s->gr[GR_MODE] & 3) {
    case 0: {
        unsigned rot = s->gr[GR_ROTATE] & 7;
        uint8_t b = (uint8_t)((val >> rot) | (val << (8 - rot)));
        uint32_t sr_en = mask16[s->gr[GR_ENABLE_SR] & 0xf];
        v = (expand8(b) & ~sr_en) | (mask16[s->gr[GR_SET_RESET] & 0xf] & sr_en);
        break;
    }
    case 1:
        v = s->latch;
        goto store;
    case 2:
        v = mask16[val & 0xf];
        break;
    default: {
        unsigned rot = s->gr[GR_ROTATE] & 7;
        uint8_t b = (uint8_t)((val >> rot) | (val << (8 - rot)));
        bit_mask &= b;
        v = mask16[s->gr[GR_SET_RESET] & 0xf];
        break;
    }
    }
    switch (fn) {
    case 1: v &= s->latch; break;
    case 2: v |= s->latch; break;
    case 3: v ^= s->latch; break;
    default: break;
    }
    bit_mask = expand8((uint8_t)bit_mask);
    v = (v & bit_mask) | (s->latch & ~bit_mask);
store:
    plane_mask = mask16[s->sr[SR_PLANE_MASK] & 0xf];
    {
        uint32_t old;
        memcpy(&old, s->vram_ptr + (size_t)o * 4, 4);
        old = (old & ~plane_mask) | (v & plane_mask);
        memcpy(s->vram_ptr + (size_t)o * 4, &old, 4);
        memory_region_set_dirty(&s->vram, (uint64_t)o * 4, 4);
    }
}

static uint64_t vga_mem_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)size;
    return vga_mem_readb(opaque, addr);
}

static void vga_mem_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)size;
    vga_mem_writeb(opaque, addr, (uint8_t)val);
}

static const MemoryRegionOps vga_mem_ops = {
    .read = vga_mem_read,
    .write = vga_mem_write,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- rendering ------------------------------------------------------------- */

static uint32_t dac_colour(VGACommonState *s, unsigned idx)
{
    const uint8_t *p = &s->palette[(idx & 0xff) * 3];

    if (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) {
        return rgb_to_pixel32(p[0], p[1], p[2]);
    }
    return rgb_to_pixel32((p[0] & 0x3f) << 2 | (p[0] & 0x3f) >> 4,
                          (p[1] & 0x3f) << 2 | (p[1] & 0x3f) >> 4,
                          (p[2] & 0x3f) << 2 | (p[2] & 0x3f) >> 4);
}

/* A 4-bit attribute colour through the attribute palette and the DAC. */
static uint32_t ar_colour(VGACommonState *s, unsigned c)
{
    unsigned v = s->ar[c & 0xf];

    if (s->ar[AR_MODE] & AR10_P54S) {
        v = (v & 0xf) | (s->ar[AR_COLOR_SELECT] & 3) << 4;
    }
    v |= (s->ar[AR_COLOR_SELECT] & 0xc) << 4;
    return dac_colour(s, v);
}

static unsigned vga_vdisp(VGACommonState *s)
{
    return (s->cr[0x12] | (s->cr[7] & 0x02) << 7 | (s->cr[7] & 0x40) << 3) + 1;
}

static void vga_draw_text(VGACommonState *s)
{
    static const uint16_t map_off[8] = { 0x0000, 0x4000, 0x8000, 0xc000,
                                         0x2000, 0x6000, 0xa000, 0xe000 };
    unsigned cols = s->cr[1] + 1u, cheight = (s->cr[9] & 0x1f) + 1u;
    unsigned cwidth = (s->sr[SR_CLOCKING] & SR1_8DOT) ? 8 : 9;
    unsigned rows = vga_vdisp(s) / cheight, stride = s->cr[0x13] * 2u;
    unsigned start = (unsigned)s->cr[0xc] << 8 | s->cr[0xd];
    unsigned font_a = map_off[((s->sr[SR_CHARMAP] >> 2) & 3) | ((s->sr[SR_CHARMAP] >> 3) & 4)];
    unsigned font_b = map_off[(s->sr[SR_CHARMAP] & 3) | ((s->sr[SR_CHARMAP] >> 2) & 4)];
    DisplaySurface *surf;

    if (rows == 0) {
        rows = 1;
    }
    qemu_console_resize(s->con, cols * cwidth, rows * cheight);
    surf = qemu_console_surface(s->con);
    for (unsigned row = 0; row < rows; row++) {
        for (unsigned col = 0; col < cols; col++) {
            uint32_t cell = (start + row * stride + col) * 4u;
            uint8_t ch = 0, at = 0;
            if (cell + 1 < s->vram_size) {
                ch = s->vram_ptr[cell];
                at = s->vram_ptr[cell + 1];
            }
            /* attribute bit 3 picks font B when the maps differ */
            unsigned font = (at & 8) && font_a != font_b ? font_b : font_a;
            uint32_t fg = ar_colour(s, at & 0xf), bg = ar_colour(s, at >> 4);
            for (unsigned l = 0; l < cheight; l++) {
                uint32_t fo = (font + ch * 32u + l) * 4u + 2;
                uint8_t bits = fo < s->vram_size ? s->vram_ptr[fo] : 0;
                uint32_t *px = surf->data + (size_t)(row * cheight + l) * surf->width +
                               col * cwidth;
                for (unsigned x = 0; x < 8; x++) {
                    px[x] = bits & (0x80 >> x) ? fg : bg;
                }
                if (cwidth == 9) {
                    bool dup = ch >= 0xc0 && ch <= 0xdf && (s->ar[AR_MODE] & AR10_LINE_GFX);
                    px[8] = dup && (bits & 1) ? fg : bg;
                }
            }
        }
    }
}

static void vga_draw_256(VGACommonState *s)
{
    unsigned dscan = (s->cr[9] & 0x1f) + 1u + ((s->cr[9] >> 7) & 1);
    unsigned w = ((s->cr[1] + 1u) * 8) / 2, h = vga_vdisp(s) / dscan;
    uint32_t line = s->cr[0x13] * 8u;
    uint32_t start = ((uint32_t)s->cr[0xc] << 8 | s->cr[0xd]) * 4u;
    DisplaySurface *surf;

    if (h == 0) {
        h = 1;
    }
    qemu_console_resize(s->con, w, h);
    surf = qemu_console_surface(s->con);
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            uint32_t a = start + y * line + x;
            surf->data[(size_t)y * surf->width + x] =
                dac_colour(s, a < s->vram_size ? s->vram_ptr[a] : 0);
        }
    }
}

static void vga_draw_planar16(VGACommonState *s)
{
    unsigned dscan = (s->cr[9] & 0x1f) + 1u + ((s->cr[9] >> 7) & 1);
    unsigned w = (s->cr[1] + 1u) * 8, h = vga_vdisp(s) / dscan;
    uint32_t line = s->cr[0x13] * 2u;
    uint32_t start = (uint32_t)s->cr[0xc] << 8 | s->cr[0xd];
    DisplaySurface *surf;

    if (h == 0) {
        h = 1;
    }
    qemu_console_resize(s->con, w, h);
    surf = qemu_console_surface(s->con);
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            uint32_t a = (start + y * line + x / 8) * 4u, planes = 0;
            unsigned c = 0;
            if (a + 4 <= s->vram_size) {
                memcpy(&planes, s->vram_ptr + a, 4);
            }
            for (unsigned p = 0; p < 4; p++) {
                c |= ((planes >> (p * 8 + 7 - x % 8)) & 1) << p;
            }
            c &= s->ar[AR_PLANE_ENABLE] & 0xf;
            surf->data[(size_t)y * surf->width + x] = ar_colour(s, c);
        }
    }
}

static void vga_draw_vbe(VGACommonState *s)
{
    unsigned w = s->vbe_regs[VBE_DISPI_INDEX_XRES], h = s->vbe_regs[VBE_DISPI_INDEX_YRES];
    unsigned bpp = s->vbe_regs[VBE_DISPI_INDEX_BPP];
    uint32_t sig[4] = { w | h << 16, bpp, s->vbe_start_addr, s->vbe_line_offset };
    DisplaySurface *surf = qemu_console_surface(s->con);
    DirtyBitmapSnapshot *snap;
    bool full = s->full_update || memcmp(sig, s->last_vbe, sizeof(sig)) ||
                surf->width != (int)w || surf->height != (int)h;
    int y0 = -1, y1 = -1;

    qemu_console_resize(s->con, w, h);
    surf = qemu_console_surface(s->con);
    memcpy(s->last_vbe, sig, sizeof(sig));
    s->full_update = false;
    memory_region_sync_dirty_bitmap(&s->vram);
    snap = memory_region_snapshot_and_clear_dirty(&s->vram, 0, s->vram_size, DIRTY_MEMORY_VGA);
    for (unsigned y = 0; y < h; y++) {
        uint32_t base = s->vbe_start_addr + y * s->vbe_line_offset;
        uint32_t *px = surf->data + (size_t)y * surf->width;
        uint32_t len = MIN(s->vbe_line_offset, s->vram_size - MIN(base, s->vram_size));

        if (!full && (!len || !memory_region_snapshot_get_dirty(&s->vram, snap, base, len))) {
            continue;
        }
        if (y0 < 0) {
            y0 = (int)y;
        }
        y1 = (int)y + 1;
        for (unsigned x = 0; x < w; x++) {
            const uint8_t *p;
            uint32_t a, c = 0;
            unsigned v;
            switch (bpp) {
            case 4:
                a = base + x / 2;
                if (a < s->vram_size) {
                    c = dac_colour(s, (s->vram_ptr[a] >> (x & 1 ? 0 : 4)) & 0xf);
                }
                break;
            case 8:
                a = base + x;
                if (a < s->vram_size) {
                    c = dac_colour(s, s->vram_ptr[a]);
                }
                break;
            case 15:
            case 16:
                a = base + x * 2;
                if (a + 2 > s->vram_size) {
                    break;
                }
                p = s->vram_ptr + a;
                v = p[0] | p[1] << 8;
                if (bpp == 15) {
                    c = rgb_to_pixel32(((v >> 10) & 0x1f) << 3, ((v >> 5) & 0x1f) << 3,
                                       (v & 0x1f) << 3);
                } else {
                    c = rgb_to_pixel32(((v >> 11) & 0x1f) << 3, ((v >> 5) & 0x3f) << 2,
                                       (v & 0x1f) << 3);
                }
                break;
            case 24:
                a = base + x * 3;
                if (a + 3 <= s->vram_size) {
                    p = s->vram_ptr + a;
                    c = rgb_to_pixel32(p[2], p[1], p[0]);
                }
                break;
            default:
                a = base + x * 4;
                if (a + 4 <= s->vram_size) {
                    p = s->vram_ptr + a;
                    c = rgb_to_pixel32(p[2], p[1], p[0]);
                }
                break;
            }
            px[x] = c;
        }
    }
    memory_region_snapshot_free(snap);
    if (y0 >= 0) {
        dpy_gfx_update(s->con, 0, y0, (int)w, y1 - y0);
    }
}

void vga_update_display(void *opaque)
{
    VGACommonState *s = opaque;
    DisplaySurface *surf;

    if (vbe_enabled(s)) {
        vga_draw_vbe(s);
        return;
    }
    s->full_update = true;      /* the legacy modes redraw fully */
    if (!(s->ar_index & AR_INDEX_PAS) && !(s->gr[GR_MISC] & GR6_GRAPHICS) &&
               !s->cr[1]) {
        /* nothing programmed yet: a blank 640x480 */
        qemu_console_resize(s->con, 640, 480);
        surf = qemu_console_surface(s->con);
        memset(surf->data, 0, (size_t)surf->stride * surf->height);
    } else if (!(s->gr[GR_MISC] & GR6_GRAPHICS)) {
        vga_draw_text(s);
    } else if (s->gr[GR_MODE] & GR5_256COLOR) {
        vga_draw_256(s);
    } else {
        vga_draw_planar16(s);
    }
    surf = qemu_console_surface(s->con);
    dpy_gfx_update(s->con, 0, 0, surf->width, surf->height);
}

static const GraphicHwOps vga_ops = {
    .gfx_update = vga_update_display,
};

/* ---- life cycle -------------------------------------------------------------- */

bool vga_common_init(VGACommonState *s, const char *owner, Error **errp)
{
    uint32_t mb = s->vram_size_mb;
    char *name;

    if (mb < 1 || mb > 256 || (mb & (mb - 1))) {
        error_setg(errp, "%s: Property 'vgamem_mb': %u is not a power of two from 1 to 256",
                   owner, mb);
        return false;
    }
    s->vram_size = mb << 20;
    name = g_strdup_printf("%s.vram", owner);
    if (!memory_region_init_ram(&s->vram, name, s->vram_size, errp)) {
        g_free(name);
        return false;
    }
    g_free(name);
    s->vram_ptr = memory_region_get_ram_ptr(&s->vram);
    memory_region_init_io(&s->lowmem, &vga_mem_ops, s, "vga-lowmem", 0x20000);
    /* Writes to the window may be deferred and performed later, in order
     * (KVM's coalesced MMIO ring, as QEMU's VGA does): a BIOS clearing the
     * text screen or a planar framebuffer then costs a few exits instead
     * of one per store.  A read of the window or a register access exits
     * and so performs the queued writes first (docs/vga.md). */
    memory_region_add_coalescing(&s->lowmem, 0, 0x20000);
    memory_region_init_io(&s->ioports, &vga_port_ops, s, "vga", 0x30);
    memory_region_init_io(&s->vbe_ports, &vbe_port_ops, s, "vbe", 4);
    memory_region_set_log(&s->vram, true, DIRTY_MEMORY_VGA);
    s->con = graphic_console_init(&vga_ops, s);
    s->full_update = true;
    return true;
}

void vga_common_exit(VGACommonState *s)
{
    graphic_console_close(s->con);
    s->con = NULL;
    memory_region_destroy(&s->vbe_ports);
    memory_region_destroy(&s->ioports);
    memory_region_destroy(&s->lowmem);
    memory_region_destroy(&s->vram);
}

void vga_init_legacy(VGACommonState *s, MemoryRegion *mem, MemoryRegion *io)
{
    memory_region_add_subregion_overlap(mem, 0xa0000, &s->lowmem, 1);
    memory_region_add_subregion(io, 0x3b0, &s->ioports);
    memory_region_add_subregion(io, 0x1ce, &s->vbe_ports);
}

void vga_exit_legacy(VGACommonState *s, MemoryRegion *mem, MemoryRegion *io)
{
    memory_region_del_subregion(mem, &s->lowmem);
    memory_region_del_subregion(io, &s->ioports);
    memory_region_del_subregion(io, &s->vbe_ports);
}

void vga_common_reset(VGACommonState *s)
{
    s->msr = s->fcr = 0;
    s->sr_index = s->gr_index = s->ar_index = s->cr_index = 0;
    memset(s->sr, 0, sizeof(s->sr));
    memset(s->gr, 0, sizeof(s->gr));
    memset(s->ar, 0, sizeof(s->ar));
    memset(s->cr, 0, sizeof(s->cr));
    s->ar_flip_flop = 0;
    s->dac_state = s->dac_sub_index = s->dac_read_index = s->dac_write_index = 0;
    memset(s->dac_cache, 0, sizeof(s->dac_cache));
    memset(s->palette, 0, sizeof(s->palette));
    s->st01 = 0;
    s->latch = 0;
    s->vbe_index = 0;
    memset(s->vbe_regs, 0, sizeof(s->vbe_regs));
    s->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->vbe_regs[VBE_DISPI_INDEX_BPP] = 8;
    s->vbe_start_addr = s->vbe_line_offset = 0;
    s->full_update = true;
}

static const VMStateField vga_common_fields[] = {
    VMSTATE_UINT8(msr, VGACommonState),
    VMSTATE_UINT8(fcr, VGACommonState),
    VMSTATE_UINT8(sr_index, VGACommonState),
    VMSTATE_UINT8_ARRAY(sr, VGACommonState, 8),
    VMSTATE_UINT8(gr_index, VGACommonState),
    VMSTATE_UINT8_ARRAY(gr, VGACommonState, 16),
    VMSTATE_UINT8(ar_index, VGACommonState),
    VMSTATE_UINT8_ARRAY(ar, VGACommonState, 21),
    VMSTATE_UINT8(ar_flip_flop, VGACommonState),
    VMSTATE_UINT8(cr_index, VGACommonState),
    VMSTATE_UINT8_ARRAY(cr, VGACommonState, 256),
    VMSTATE_UINT8(dac_state, VGACommonState),
    VMSTATE_UINT8(dac_sub_index, VGACommonState),
    VMSTATE_UINT8(dac_read_index, VGACommonState),
    VMSTATE_UINT8(dac_write_index, VGACommonState),
    VMSTATE_UINT8_ARRAY(dac_cache, VGACommonState, 3),
    VMSTATE_UINT8_ARRAY(palette, VGACommonState, 768),
    VMSTATE_UINT8(st01, VGACommonState),
    VMSTATE_UINT32(latch, VGACommonState),
    VMSTATE_UINT16(vbe_index, VGACommonState),
    VMSTATE_UINT16_ARRAY(vbe_regs, VGACommonState, VBE_DISPI_INDEX_NB),
    VMSTATE_UINT32(vbe_start_addr, VGACommonState),
    VMSTATE_UINT32(vbe_line_offset, VGACommonState),
    VMSTATE_END_OF_LIST()
};

static int vga_common_post_load(void *opaque, int version_id)
{
    VGACommonState *s = opaque;

    (void)version_id;
    s->full_update = true;
    return 0;
}

const VMStateDescription vmstate_vga_common = {
    .name = "vga",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = vga_common_fields,
    .post_load = vga_common_post_load,
};
