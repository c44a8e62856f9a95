/*
 * The standard VGA core (hw/display/vga.c) shared by the VGA devices
 * (hw/display/vga-pci.c: PCI "VGA" 1234:1111).  See docs/vga.md.
 */
#ifndef KVMPC_HW_DISPLAY_VGA_H
#define KVMPC_HW_DISPLAY_VGA_H

#include <stdint.h>
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "ui/console.h"

/* Bochs VBE "DISPI" registers (index at port 0x1ce, data at 0x1cf). */
#define VBE_DISPI_INDEX_ID              0x0
#define VBE_DISPI_INDEX_XRES            0x1
#define VBE_DISPI_INDEX_YRES            0x2
#define VBE_DISPI_INDEX_BPP             0x3
#define VBE_DISPI_INDEX_ENABLE          0x4
#define VBE_DISPI_INDEX_BANK            0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH      0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT     0x7
#define VBE_DISPI_INDEX_X_OFFSET        0x8
#define VBE_DISPI_INDEX_Y_OFFSET        0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_INDEX_NB              0xb
#define VBE_DISPI_ID0                   0xb0c0
#define VBE_DISPI_ID5                   0xb0c5
#define  VBE_DISPI_ENABLED              0x01
#define  VBE_DISPI_GETCAPS              0x02
#define  VBE_DISPI_8BIT_DAC             0x20
#define  VBE_DISPI_LFB_ENABLED          0x40
#define  VBE_DISPI_NOCLEARMEM           0x80
#define VBE_DISPI_MAX_XRES              16000
#define VBE_DISPI_MAX_YRES              12000
#define VBE_DISPI_MAX_BPP               32

typedef struct VGACommonState {
    MemoryRegion vram;          /* the framebuffer (PCI BAR0 of VGA) */
    uint8_t *vram_ptr;
    uint32_t vram_size;
    uint32_t vram_size_mb;      /* property vgamem_mb */
    MemoryRegion lowmem;        /* 0xa0000-0xbffff */
    MemoryRegion ioports;       /* 0x3b0-0x3df */
    MemoryRegion vbe_ports;     /* 0x1ce-0x1d1 */
    /* legacy registers */
    uint8_t msr;                /* miscellaneous output */
    uint8_t fcr;                /* feature control */
    uint8_t sr_index, sr[8];
    uint8_t gr_index, gr[16];
    uint8_t ar_index, ar[21];
    uint8_t ar_flip_flop;       /* 0: next 0x3c0 write is an index */
    uint8_t cr_index, cr[256];
    uint8_t dac_state;          /* 0: last access was a write index, 3: read */
    uint8_t dac_sub_index;      /* r, g, b */
    uint8_t dac_read_index, dac_write_index;
    uint8_t dac_cache[3];
    uint8_t palette[768];
    uint8_t st01;               /* input status 1 (retrace toggles) */
    uint32_t latch;
    /* Bochs VBE */
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_DISPI_INDEX_NB];
    uint32_t vbe_start_addr;    /* bytes */
    uint32_t vbe_line_offset;   /* bytes */
    QemuConsole *con;
    /* DISPI redraws only lines whose VRAM pages are dirty (DIRTY_MEMORY_VGA)
     * unless the mode, start, DAC or surface changed since the last draw. */
    bool full_update;
    uint32_t last_vbe[4];       /* xres|yres<<16, bpp, start, line */
} VGACommonState;

/* Allocates VRAM (vram_size_mb MiB, a power of two 1-256) and the regions. */
bool vga_common_init(VGACommonState *s, const char *owner, Error **errp);
void vga_common_exit(VGACommonState *s);
void vga_common_reset(VGACommonState *s);
/* Maps the legacy window into mem and the ports into io. */
void vga_init_legacy(VGACommonState *s, MemoryRegion *mem, MemoryRegion *io);
void vga_exit_legacy(VGACommonState *s, MemoryRegion *mem, MemoryRegion *io);

/* Register access for the PCI MMIO BAR; addr is the port (0x3c0-0x3df). */
uint32_t vga_ioport_read(VGACommonState *s, uint32_t addr);
void vga_ioport_write(VGACommonState *s, uint32_t addr, uint32_t val);
uint32_t vbe_read_reg(VGACommonState *s, unsigned index);
void vbe_write_reg(VGACommonState *s, unsigned index, uint32_t val);

/* Brings the console's surface up to date (a full redraw). */
void vga_update_display(void *opaque);

extern const VMStateDescription vmstate_vga_common;

#endif
