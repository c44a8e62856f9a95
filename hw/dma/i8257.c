/*
 * Intel 8237A DMA controller pair ("i8257", QEMU's name for it).
 *
 * "PORT 0000-001F - DMA 1 (first Direct Memory Access controller) 8237"
 * "PORT 00C0-00DF - DMA 2 (second Direct Memory Access controller) 8237"
 * "PORT 0080-008F - DMA page registers"
 * The first controller (channels 0-3, bytes) has its registers at
 * base + n, the second (channels 4-7, 16-bit words) at base + 2 * n:
 *   0-7  channel n/2 address (even) and count (odd), low byte then high
 *        byte through the byte pointer flip-flop
 *   8    read: status (bits 3-0 terminal count, cleared by the read;
 *        bits 7-4 requests)          write: command
 *   9    write: request register (bit 2 set/clear, bits 1-0 channel)
 *   10   write: single mask bit (bit 2 set/clear, bits 1-0 channel)
 *   11   write: mode (7-6 demand/single/block/cascade, 5 decrement,
 *        4 auto-initialize, 3-2 verify/write/read, 1-0 channel)
 *   12   write: clear byte pointer flip-flop
 *   13   read: temporary register (0)   write: master clear
 *   14   write: clear all mask bits
 *   15   write: all mask bits (bits 3-0)
 * Page registers (address bits 23-16; for channels 5-7 bits 23-17):
 *   0x87 ch0, 0x83 ch1, 0x81 ch2, 0x82 ch3, 0x8f ch4, 0x8b ch5, 0x89 ch6,
 *   0x8a ch7; 0x84-0x86, 0x88 and 0x8c-0x8e are spare bytes that read back.
 * Port 0x80 is not ours: it stays the POST/delay port (hw/misc/ioport80.c),
 * as in QEMU, whose page registers also cover 0x81-0x8f only.
 *
 * Nothing is timed: a transfer runs in a bottom half as soon as its
 * channel has DREQ and is unmasked, as fast as the device's handler goes
 * (QEMU does the same).  Demand, single and block modes all behave as
 * block mode; memory-to-memory (command bit 0) is not emulated.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/dma/i8257.h"
#include "system/main-loop.h"

#define DMA_REG_STATUS          8       /* read */
#define DMA_REG_COMMAND         8       /* write */
#define DMA_REG_REQUEST         9
#define DMA_REG_MASK_BIT        10
#define DMA_REG_MODE            11
#define DMA_REG_CLEAR_FF        12
#define DMA_REG_TEMP            13      /* read */
#define DMA_REG_MASTER_CLEAR    13      /* write */
#define DMA_REG_CLEAR_MASK      14
#define DMA_REG_MASK_ALL        15

#define DMA_CMD_DISABLE         0x04    /* controller disable */
#define DMA_MODE_AUTOINIT       0x10
#define DMA_MODE_DECREMENT      0x20
#define DMA_MODE_CASCADE        0xc0

#define DMA_PAGE_PORTS          7       /* page + 1 .. page + 7 */

/* page register offset (port - page base) -> channel, -1 for a spare byte */
static const int8_t dma_page_chan[8] = { -1, 2, 3, 1, -1, -1, -1, 0 };

typedef struct I8257Channel {
    uint16_t base_addr, base_count;     /* as programmed */
    int32_t pos;                        /* bytes moved since (re)start */
    uint8_t mode;
    uint8_t page;
    I8257TransferHandler handler;       /* not migrated: set at realize */
    void *opaque;
} I8257Channel;

typedef struct I8257State {
    DeviceState parent;

    /* properties */
    uint32_t base;                      /* 0x00 or 0xc0 */
    uint32_t page_base;                 /* 0x80 or 0x88 */
    uint32_t dshift;                    /* 0 bytes, 1 words */

    MemoryRegion io, page_io;
    QEMUBH *bh;
    uint8_t command, status, mask, request;     /* request: DREQ bits 3-0 */
    bool flip_flop;
    uint8_t spare[8];                   /* spare page bytes */
    I8257Channel ch[4];
} I8257State;

/* The machine's two controllers (one ISA bus per machine). */
static I8257State *i8257_ctrl[2];

static I8257State *i8257_find(int nchan, I8257Channel **c)
{
    I8257State *s;

    if (nchan < 0 || nchan >= ISA_DMA_CHANNELS) {
        return NULL;
    }
    s = i8257_ctrl[nchan >> 2];
    if (s && c) {
        *c = &s->ch[nchan & 3];
    }
    return s;
}

/* Bytes of the transfer the channel is programmed for. */
static int i8257_len(I8257State *s, I8257Channel *c)
{
    return ((int)c->base_count + 1) << s->dshift;
}

static uint16_t i8257_cur_addr(I8257State *s, I8257Channel *c)
{
    int words = c->pos >> s->dshift;

    return c->mode & DMA_MODE_DECREMENT ? c->base_addr - words : c->base_addr + words;
}

static uint16_t i8257_cur_count(I8257State *s, I8257Channel *c)
{
    return c->base_count - (c->pos >> s->dshift);
}

/* Physical address of byte off of the current block (a 16-bit channel
 * moves words: address bits 16-1 from the address register, 23-17 from
 * the page register). */
static uint64_t i8257_phys(I8257State *s, I8257Channel *c, int off)
{
    if (s->dshift) {
        return ((uint64_t)(c->page & 0xfe) << 16) |
               ((uint32_t)(uint16_t)(c->base_addr + (off >> 1)) << 1) | (off & 1);
    }
    return ((uint64_t)c->page << 16) | (uint16_t)(c->base_addr + off);
}

static bool i8257_is_ram(uint64_t addr)
{
    MemoryTranslation t;

    return address_space_translate(&address_space_memory, addr, &t) == MEMORY_TRANSLATION_RAM;
}

/* One byte at a time: a block may wrap within its 64 KiB (or 128 KiB)
 * page, run backwards, or leave RAM part way. */
static void i8257_rw(int nchan, uint8_t *buf, int pos, int len, bool to_mem)
{
    I8257Channel *c = NULL;
    I8257State *s = i8257_find(nchan, &c);

    if (!s) {
        if (!to_mem) {
            memset(buf, 0, len);
        }
        return;
    }
    for (int i = 0; i < len; i++) {
        int off = c->mode & DMA_MODE_DECREMENT ? -(pos + i) : pos + i;
        uint64_t a = i8257_phys(s, c, off);

        if (!i8257_is_ram(a)) {
            if (!to_mem) {
                buf[i] = 0;
            }
            continue;
        }
        address_space_rw(&address_space_memory, a, buf + i, 1, to_mem);
    }
}

int i8257_dma_read_memory(int nchan, void *buf, int pos, int len)
{
    i8257_rw(nchan, buf, pos, len, false);
    return len;
}

int i8257_dma_write_memory(int nchan, const void *buf, int pos, int len)
{
    I8257Channel *c = NULL;

    if (!i8257_find(nchan, &c) || ((c->mode >> 2) & 3) == I8257_XFER_VERIFY) {
        return len;         /* verify: the device reads, memory is left alone */
    }
    i8257_rw(nchan, (uint8_t *)buf, pos, len, true);
    return len;
}

int i8257_dma_xfer_type(int nchan)
{
    I8257Channel *c = NULL;

    return i8257_find(nchan, &c) ? (c->mode >> 2) & 3 : I8257_XFER_VERIFY;
}

bool i8257_dma_register_channel(int nchan, I8257TransferHandler fn, void *opaque)
{
    I8257Channel *c = NULL;

    if (nchan == 4 || !i8257_find(nchan, &c)) {
        return false;
    }
    c->handler = fn;
    c->opaque = opaque;
    return true;
}

static void i8257_kick(I8257State *s)
{
    if (s->request & ~s->mask & 0xf) {
        qemu_bh_schedule(s->bh);
    }
}

void i8257_dma_hold_DREQ(int nchan)
{
    I8257State *s = i8257_find(nchan, NULL);

    if (s) {
        s->request |= 1 << (nchan & 3);
        i8257_kick(s);
    }
}

void i8257_dma_release_DREQ(int nchan)
{
    I8257State *s = i8257_find(nchan, NULL);

    if (s) {
        s->request &= ~(1 << (nchan & 3));
    }
}

/* Each requesting, unmasked channel once: its handler moves what it can
 * now and holds DREQ again (or re-kicks) when it has more. */
static void i8257_run(void *opaque)
{
    I8257State *s = opaque;

    if (s->command & DMA_CMD_DISABLE) {
        return;
    }
    for (int i = 0; i < 4; i++) {
        I8257Channel *c = &s->ch[i];
        int len = i8257_len(s, c), n;

        if (!(s->request & ~s->mask & (1 << i)) || !c->handler ||
            (c->mode & DMA_MODE_CASCADE) == DMA_MODE_CASCADE) {
            continue;
        }
        if (c->pos >= len) {
            continue;       /* terminal count already: wait for reprogramming */
        }
        n = c->handler(c->opaque, i + (s->dshift ? 4 : 0), c->pos, len);
        c->pos = MAX(c->pos, MIN(n, len));
        if (c->pos >= len) {
            s->status |= 1 << i;
            if (c->mode & DMA_MODE_AUTOINIT) {
                c->pos = 0;
            }
        }
    }
}

static void i8257_master_clear(I8257State *s)
{
    s->command = 0;
    s->status = 0;
    s->request = 0;
    s->mask = 0xf;
    s->flip_flop = false;
}

static uint64_t i8257_read(void *opaque, uint64_t addr, unsigned size)
{
    I8257State *s = opaque;
    unsigned reg = addr >> s->dshift;
    uint8_t v;

    if (addr & ((1u << s->dshift) - 1)) {
        return 0xff;        /* odd ports of the word controller: unassigned */
    }
    if (reg < 8) {
        I8257Channel *c = &s->ch[reg >> 1];
        uint16_t w = reg & 1 ? i8257_cur_count(s, c) : i8257_cur_addr(s, c);
        v = s->flip_flop ? w >> 8 : w & 0xff;
        s->flip_flop = !s->flip_flop;
        return v;
    }
    switch (reg) {
    case DMA_REG_STATUS:
        v = (s->status & 0xf) | (s->request & 0xf) << 4;
        s->status &= ~0xf;
        return v;
    case DMA_REG_TEMP:
        return 0;
    default:
        return 0xff;        /* write-only registers */
    }
}

static void i8257_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    I8257State *s = opaque;
    unsigned reg = addr >> s->dshift;
    I8257Channel *c;

    if (addr & ((1u << s->dshift) - 1)) {
        return;
    }
    if (reg < 8) {
        uint16_t *w;

        c = &s->ch[reg >> 1];
        w = reg & 1 ? &c->base_count : &c->base_addr;
        *w = s->flip_flop ? (*w & 0x00ff) | (uint16_t)(data << 8) : (*w & 0xff00) | (data & 0xff);
        s->flip_flop = !s->flip_flop;
        c->pos = 0;         /* base and current registers are written together */
        return;
    }
    switch (reg) {
    case DMA_REG_COMMAND:
        s->command = data;
        break;
    case DMA_REG_REQUEST:
        /* a software request: as a DREQ the device would hold */
        if (data & 4) {
            s->request |= 1 << (data & 3);
        } else {
            s->request &= ~(1 << (data & 3));
        }
        break;
    case DMA_REG_MASK_BIT:
        if (data & 4) {
            s->mask |= 1 << (data & 3);
        } else {
            s->mask &= ~(1 << (data & 3));
        }
        break;
    case DMA_REG_MODE:
        s->ch[data & 3].mode = data & 0xfc;
        break;
    case DMA_REG_CLEAR_FF:
        s->flip_flop = false;
        break;
    case DMA_REG_MASTER_CLEAR:
        i8257_master_clear(s);
        break;
    case DMA_REG_CLEAR_MASK:
        s->mask = 0;
        break;
    case DMA_REG_MASK_ALL:
        s->mask = data & 0xf;
        break;
    }
    i8257_kick(s);
}

static uint64_t i8257_page_read(void *opaque, uint64_t addr, unsigned size)
{
    I8257State *s = opaque;
    int off = addr + 1, n = dma_page_chan[off];

    return n < 0 ? s->spare[off] : s->ch[n].page;
}

static void i8257_page_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    I8257State *s = opaque;
    int off = addr + 1, n = dma_page_chan[off];

    if (n < 0) {
        s->spare[off] = data;
    } else {
        s->ch[n].page = data;
    }
}

static const MemoryRegionOps i8257_ops = {
    .read = i8257_read,
    .write = i8257_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps i8257_page_ops = {
    .read = i8257_page_read,
    .write = i8257_page_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void i8257_realize(DeviceState *dev, Error **errp)
{
    I8257State *s = (I8257State *)dev;
    int idx = s->dshift ? 1 : 0;

    if (s->dshift > 1) {
        error_setg(errp, "i8257: dshift must be 0 or 1, not %u", s->dshift);
        return;
    }
    if (i8257_ctrl[idx]) {
        error_setg(errp, "i8257: the %s controller exists already", idx ? "second" : "first");
        return;
    }
    memory_region_init_io(&s->io, &i8257_ops, s, idx ? "dma-chan4-7" : "dma-chan0-3",
                          16u << s->dshift);
    isa_register_ioport(dev, &s->io, s->base);
    memory_region_init_io(&s->page_io, &i8257_page_ops, s, idx ? "dma-page4-7" : "dma-page0-3",
                          DMA_PAGE_PORTS);
    isa_register_ioport(dev, &s->page_io, s->page_base + 1);
    s->bh = qemu_bh_new(i8257_run, s);
    i8257_master_clear(s);
    i8257_ctrl[idx] = s;
}

static void i8257_unrealize(DeviceState *dev)
{
    I8257State *s = (I8257State *)dev;

    if (i8257_ctrl[s->dshift ? 1 : 0] == s) {
        i8257_ctrl[s->dshift ? 1 : 0] = NULL;
    }
    qemu_bh_delete(s->bh);
    memory_region_destroy(&s->io);
    memory_region_destroy(&s->page_io);
}

static void i8257_reset(DeviceState *dev)
{
    i8257_master_clear((I8257State *)dev);
}

static int i8257_post_load(void *opaque, int version_id)
{
    i8257_kick(opaque);
    return 0;
}

static const VMStateField i8257_chan_fields[] = {
    VMSTATE_UINT16(base_addr, I8257Channel),
    VMSTATE_UINT16(base_count, I8257Channel),
    VMSTATE_INT32(pos, I8257Channel),
    VMSTATE_UINT8(mode, I8257Channel),
    VMSTATE_UINT8(page, I8257Channel),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_i8257_chan = {
    .name = "i8257/channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = i8257_chan_fields,
};

static const VMStateField i8257_fields[] = {
    VMSTATE_UINT8(command, I8257State),
    VMSTATE_UINT8(status, I8257State),
    VMSTATE_UINT8(mask, I8257State),
    VMSTATE_UINT8(request, I8257State),
    VMSTATE_BOOL(flip_flop, I8257State),
    VMSTATE_UINT8_ARRAY(spare, I8257State, 8),
    VMSTATE_STRUCT_ARRAY(ch, I8257State, 4, vmstate_i8257_chan, I8257Channel),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_i8257 = {
    .name = "i8257",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = i8257_post_load,
    .fields = i8257_fields,
};

static const Property i8257_props[] = {
    DEFINE_PROP_UINT32("base", I8257State, base, 0x00),
    DEFINE_PROP_UINT32("page-base", I8257State, page_base, 0x80),
    DEFINE_PROP_UINT32("dshift", I8257State, dshift, 0),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass i8257_class = {
    .name = I8257_TYPE,
    .desc = "8237A ISA DMA controller",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(I8257State),
    .props = i8257_props,
    .vmsd = &vmstate_i8257,
    .realize = i8257_realize,
    .unrealize = i8257_unrealize,
    .reset = i8257_reset,
};

DEVICE_CLASS_REGISTER(i8257_class)
