/*
 * A virtio-pci driver for qtest device tests: see libqvirtio.h.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include "libqvirtio.h"

#define CONF1(slot, reg) (0x80000000u | ((slot) << 11) | ((reg) & 0xfc))

/* common configuration */
#define COMMON_DFSELECT         0x00
#define COMMON_DF               0x04
#define COMMON_GFSELECT         0x08
#define COMMON_GF               0x0c
#define COMMON_MSIX             0x10
#define COMMON_NUMQ             0x12
#define COMMON_STATUS           0x14
#define COMMON_Q_SELECT         0x16
#define COMMON_Q_SIZE           0x18
#define COMMON_Q_MSIX           0x1a
#define COMMON_Q_ENABLE         0x1c
#define COMMON_Q_NOFF           0x1e
#define COMMON_Q_DESC           0x20
#define COMMON_Q_AVAIL          0x28
#define COMMON_Q_USED           0x30
/* legacy BAR0 */
#define LEGACY_HOST_FEATURES    0x00
#define LEGACY_GUEST_FEATURES   0x04
#define LEGACY_QUEUE_PFN        0x08
#define LEGACY_QUEUE_NUM        0x0c
#define LEGACY_QUEUE_SEL        0x0e
#define LEGACY_QUEUE_NOTIFY     0x10
#define LEGACY_STATUS           0x12
#define LEGACY_ISR              0x13
#define LEGACY_CONFIG_VECTOR    0x14
#define LEGACY_QUEUE_VECTOR     0x16

static uint64_t alloc_next = QVIRTIO_ALLOC_BASE;
static bool packed_default;

/* ---- PCI configuration --------------------------------------------------- */

uint32_t qvirtio_cfg_readl(QVirtioDev *d, int reg)
{
    qtest_outl(d->qts, 0xcf8, CONF1(d->slot, reg));
    return qtest_inl(d->qts, 0xcfc);
}

uint16_t qvirtio_cfg_readw(QVirtioDev *d, int reg)
{
    qtest_outl(d->qts, 0xcf8, CONF1(d->slot, reg));
    return qtest_inw(d->qts, 0xcfc + (reg & 2));
}

uint8_t qvirtio_cfg_readb(QVirtioDev *d, int reg)
{
    qtest_outl(d->qts, 0xcf8, CONF1(d->slot, reg));
    return qtest_inb(d->qts, 0xcfc + (reg & 3));
}

void qvirtio_cfg_writel(QVirtioDev *d, int reg, uint32_t v)
{
    qtest_outl(d->qts, 0xcf8, CONF1(d->slot, reg));
    qtest_outl(d->qts, 0xcfc, v);
}

void qvirtio_cfg_writew(QVirtioDev *d, int reg, uint16_t v)
{
    qtest_outl(d->qts, 0xcf8, CONF1(d->slot, reg));
    qtest_outw(d->qts, 0xcfc + (reg & 2), v);
}

void qvirtio_cfg_writeb(QVirtioDev *d, int reg, uint8_t v)
{
    qtest_outl(d->qts, 0xcf8, CONF1(d->slot, reg));
    qtest_outb(d->qts, 0xcfc + (reg & 3), v);
}

int qvirtio_find_cap(QVirtioDev *d, int id, int type)
{
    int guard = 0;

    if (!(qvirtio_cfg_readw(d, 0x06) & 0x10)) {
        return 0;
    }
    for (int off = qvirtio_cfg_readb(d, 0x34); off && guard < 48; guard++) {
        if (qvirtio_cfg_readb(d, off) == id && (type < 0 || qvirtio_cfg_readb(d, off + 3) == type)) {
            return off;
        }
        off = qvirtio_cfg_readb(d, off + 1);
    }
    return 0;
}

/* ---- memory --------------------------------------------------------------- */

uint64_t qvirtio_alloc(QTestState *qts, uint64_t size, uint64_t align)
{
    static const uint8_t zero[4096];
    uint64_t a = (alloc_next + align - 1) & ~(align - 1);

    if (a + size > QVIRTIO_ALLOC_END) {
        qtest_fail("libqvirtio: out of guest memory");
    }
    alloc_next = a + size;
    for (uint64_t o = 0; o < size; o += sizeof(zero)) {
        qtest_memwrite(qts, a + o, zero, size - o < sizeof(zero) ? size - o : sizeof(zero));
    }
    return a;
}

void qvirtio_alloc_reset(void)
{
    alloc_next = QVIRTIO_ALLOC_BASE;
}

/* ---- registers ------------------------------------------------------------ */

static uint64_t modern(QVirtioDev *d, uint32_t region, uint32_t off)
{
    return QVIRTIO_MODERN_BAR + region + off;
}

static void qvirtio_forget_vectors(QVirtioDev *d);

void qvirtio_pci_init(QVirtioDev *d, QTestState *qts, int slot, bool is_modern)
{
    int c;

    memset(d, 0, sizeof(*d));
    d->qts = qts;
    d->slot = slot;
    d->modern = is_modern;
    d->want_packed = packed_default;
    qvirtio_forget_vectors(d);
    if ((qvirtio_cfg_readl(d, 0x00) & 0xffff) != 0x1af4) {
        qtest_fail("libqvirtio: no virtio device at slot %d", slot);
    }
    qvirtio_cfg_writel(d, 0x10, QVIRTIO_IO_BAR);
    qvirtio_cfg_writel(d, 0x14, QVIRTIO_MSIX_BAR);
    qvirtio_cfg_writel(d, 0x20, QVIRTIO_MODERN_BAR);
    qvirtio_cfg_writel(d, 0x24, 0);
    qvirtio_cfg_writew(d, 0x04, 0x0007);        /* I/O, memory, bus master */
    d->msix_cap = qvirtio_find_cap(d, 0x11, -1);
    if (is_modern) {
        if (!(c = qvirtio_find_cap(d, 0x09, 1))) {
            qtest_fail("libqvirtio: no common cfg capability");
        }
        d->common = qvirtio_cfg_readl(d, c + 8);
        c = qvirtio_find_cap(d, 0x09, 3);
        d->isr = qvirtio_cfg_readl(d, c + 8);
        c = qvirtio_find_cap(d, 0x09, 4);
        d->device = c ? qvirtio_cfg_readl(d, c + 8) : 0;
        c = qvirtio_find_cap(d, 0x09, 2);
        d->notify = qvirtio_cfg_readl(d, c + 8);
        d->notify_mult = qvirtio_cfg_readl(d, c + 16);
        d->cfg_cap = qvirtio_find_cap(d, 0x09, 5);
    }
}

uint8_t qvirtio_get_status(QVirtioDev *d)
{
    return d->modern ? qtest_readb(d->qts, modern(d, d->common, COMMON_STATUS))
                     : qtest_inb(d->qts, QVIRTIO_IO_BAR + LEGACY_STATUS);
}

void qvirtio_set_status(QVirtioDev *d, uint8_t s)
{
    if (d->modern) {
        qtest_writeb(d->qts, modern(d, d->common, COMMON_STATUS), s);
    } else {
        qtest_outb(d->qts, QVIRTIO_IO_BAR + LEGACY_STATUS, s);
    }
}

/* What a device reset does to the vectors the driver gave it. */
static void qvirtio_forget_vectors(QVirtioDev *d)
{
    d->config_vector = QVIRTIO_NO_VECTOR;
    for (unsigned i = 0; i < QVIRTIO_MAX_QUEUES; i++) {
        d->queue_vector[i] = QVIRTIO_NO_VECTOR;
    }
}

void qvirtio_reset(QVirtioDev *d)
{
    qvirtio_set_status(d, 0);
    qvirtio_forget_vectors(d);
    for (unsigned i = 0; i < QVIRTIO_MAX_QUEUES; i++) {
        d->vq[i].size = 0;
    }
}

uint64_t qvirtio_get_features(QVirtioDev *d)
{
    uint64_t f;

    if (!d->modern) {
        return qtest_inl(d->qts, QVIRTIO_IO_BAR + LEGACY_HOST_FEATURES);
    }
    qtest_writel(d->qts, modern(d, d->common, COMMON_DFSELECT), 0);
    f = qtest_readl(d->qts, modern(d, d->common, COMMON_DF));
    qtest_writel(d->qts, modern(d, d->common, COMMON_DFSELECT), 1);
    f |= (uint64_t)qtest_readl(d->qts, modern(d, d->common, COMMON_DF)) << 32;
    return f;
}

void qvirtio_write_features(QVirtioDev *d, uint64_t f)
{
    if (!d->modern) {
        qtest_outl(d->qts, QVIRTIO_IO_BAR + LEGACY_GUEST_FEATURES, (uint32_t)f);
        return;
    }
    qtest_writel(d->qts, modern(d, d->common, COMMON_GFSELECT), 0);
    qtest_writel(d->qts, modern(d, d->common, COMMON_GF), (uint32_t)f);
    qtest_writel(d->qts, modern(d, d->common, COMMON_GFSELECT), 1);
    qtest_writel(d->qts, modern(d, d->common, COMMON_GF), (uint32_t)(f >> 32));
}

void qvirtio_use_packed(QVirtioDev *d, bool packed)
{
    d->want_packed = packed;
}

void qvirtio_set_packed_default(bool packed)
{
    packed_default = packed;
}

bool qvirtio_packed_default(void)
{
    return packed_default;
}

uint8_t qvirtio_start(QVirtioDev *d, uint64_t features)
{
    uint64_t offered;

    qvirtio_reset(d);
    qvirtio_set_status(d, QVIRTIO_S_ACKNOWLEDGE);
    qvirtio_set_status(d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER);
    offered = qvirtio_get_features(d);
    if (d->want_packed) {
        if (!d->modern || !(offered & (1ull << QVIRTIO_F_RING_PACKED))) {
            qtest_fail("libqvirtio: packed rings asked for, but the device does not offer "
                       "RING_PACKED%s", d->modern ? " (packed=on?)" : " to a legacy driver");
        }
        features |= 1ull << QVIRTIO_F_RING_PACKED | 1ull << QVIRTIO_F_VERSION_1;
    } else {
        features &= ~(1ull << QVIRTIO_F_RING_PACKED);
    }
    d->features = features & offered;
    if (!d->modern) {
        d->features &= 0xffffffffu & ~(1u << 30);
    }
    qvirtio_write_features(d, d->features);
    if (d->modern) {
        qvirtio_set_status(d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK);
    }
    return qvirtio_get_status(d);
}

void qvirtio_driver_ok(QVirtioDev *d)
{
    qvirtio_set_status(d, qvirtio_get_status(d) | QVIRTIO_S_DRIVER_OK);
}

uint8_t qvirtio_isr(QVirtioDev *d)
{
    return d->modern ? qtest_readb(d->qts, modern(d, d->isr, 0))
                     : qtest_inb(d->qts, QVIRTIO_IO_BAR + LEGACY_ISR);
}

uint16_t qvirtio_num_queues(QVirtioDev *d)
{
    return qtest_readw(d->qts, modern(d, d->common, COMMON_NUMQ));
}

/* ---- device configuration ------------------------------------------------- */

static uint64_t config_addr(QVirtioDev *d, unsigned off)
{
    return modern(d, d->device, off);
}

static uint16_t legacy_config_port(QVirtioDev *d, unsigned off)
{
    return QVIRTIO_IO_BAR + (d->msix_on ? 0x18 : 0x14) + off;
}

uint8_t qvirtio_config_readb(QVirtioDev *d, unsigned off)
{
    return d->modern ? qtest_readb(d->qts, config_addr(d, off))
                     : qtest_inb(d->qts, legacy_config_port(d, off));
}

uint16_t qvirtio_config_readw(QVirtioDev *d, unsigned off)
{
    return d->modern ? qtest_readw(d->qts, config_addr(d, off))
                     : qtest_inw(d->qts, legacy_config_port(d, off));
}

uint32_t qvirtio_config_readl(QVirtioDev *d, unsigned off)
{
    return d->modern ? qtest_readl(d->qts, config_addr(d, off))
                     : qtest_inl(d->qts, legacy_config_port(d, off));
}

uint64_t qvirtio_config_readq(QVirtioDev *d, unsigned off)
{
    return qvirtio_config_readl(d, off) | (uint64_t)qvirtio_config_readl(d, off + 4) << 32;
}

/* ---- MSI-X ------------------------------------------------------------------ */

void qvirtio_msix_enable(QVirtioDev *d, unsigned nvec)
{
    for (unsigned v = 0; v < nvec; v++) {
        uint64_t e = QVIRTIO_MSIX_BAR + 16 * v;

        qtest_writel(d->qts, e, QVIRTIO_MSI_RAM + 4 * v);
        qtest_writel(d->qts, e + 4, 0);
        qtest_writel(d->qts, e + 8, 0x1000 + v);
        qtest_writel(d->qts, e + 12, 0);            /* unmasked */
        qtest_writel(d->qts, QVIRTIO_MSI_RAM + 4 * v, 0);
    }
    qvirtio_cfg_writew(d, d->msix_cap + 2, 0x8000);
    d->msix_on = true;
}

uint16_t qvirtio_set_config_vector(QVirtioDev *d, uint16_t vec)
{
    d->config_vector = vec;
    if (d->modern) {
        qtest_writew(d->qts, modern(d, d->common, COMMON_MSIX), vec);
        return qtest_readw(d->qts, modern(d, d->common, COMMON_MSIX));
    }
    qtest_outw(d->qts, QVIRTIO_IO_BAR + LEGACY_CONFIG_VECTOR, vec);
    return qtest_inw(d->qts, QVIRTIO_IO_BAR + LEGACY_CONFIG_VECTOR);
}

uint32_t qvirtio_msix_received(QVirtioDev *d, unsigned vec)
{
    return qtest_readl(d->qts, QVIRTIO_MSI_RAM + 4 * vec);
}

void qvirtio_msix_clear(QVirtioDev *d, unsigned vec)
{
    qtest_writel(d->qts, QVIRTIO_MSI_RAM + 4 * vec, 0);
}

uint16_t qvirtio_set_queue_vector(QVirtioDev *d, unsigned index, uint16_t vec)
{
    if (index < QVIRTIO_MAX_QUEUES) {
        d->queue_vector[index] = vec;
    }
    if (d->modern) {
        qtest_writew(d->qts, modern(d, d->common, COMMON_Q_SELECT), index);
        qtest_writew(d->qts, modern(d, d->common, COMMON_Q_MSIX), vec);
        return qtest_readw(d->qts, modern(d, d->common, COMMON_Q_MSIX));
    }
    qtest_outw(d->qts, QVIRTIO_IO_BAR + LEGACY_QUEUE_SEL, index);
    qtest_outw(d->qts, QVIRTIO_IO_BAR + LEGACY_QUEUE_VECTOR, vec);
    return qtest_inw(d->qts, QVIRTIO_IO_BAR + LEGACY_QUEUE_VECTOR);
}

/* ---- virtqueues ------------------------------------------------------------- */

QVirtQueue *qvirtqueue_setup(QVirtioDev *d, unsigned index)
{
    QVirtQueue *vq = &d->vq[index];
    unsigned size;
    uint64_t bytes;

    if (d->modern) {
        qtest_writew(d->qts, modern(d, d->common, COMMON_Q_SELECT), index);
        size = qtest_readw(d->qts, modern(d, d->common, COMMON_Q_SIZE));
    } else {
        qtest_outw(d->qts, QVIRTIO_IO_BAR + LEGACY_QUEUE_SEL, index);
        size = qtest_inw(d->qts, QVIRTIO_IO_BAR + LEGACY_QUEUE_NUM);
    }
    if (!size) {
        qtest_fail("libqvirtio: queue %u does not exist", index);
    }
    memset(vq, 0, sizeof(*vq));
    vq->dev = d;
    vq->index = index;
    vq->size = size;
    vq->prev = -1;
    if (d->features & (1ull << QVIRTIO_F_RING_PACKED)) {
        /* The descriptor ring (16-byte aligned, zeroed: nothing available),
         * then the driver and the device event suppression areas. */
        if (size > QVIRTIO_PACKED_MAX) {
            qtest_fail("libqvirtio: queue %u: %u entries, the packed driver takes %u",
                       index, size, QVIRTIO_PACKED_MAX);
        }
        vq->packed = true;
        vq->avail_wrap = vq->used_wrap = true;
        vq->desc = qvirtio_alloc(d->qts, 16ull * size + 8, 4096);
        vq->avail = vq->desc + 16ull * size;
        vq->used = vq->avail + 4;
    } else {
        /* The legacy layout: descriptors, avail ring, used ring on a new page. */
        bytes = ((16ull * size + 6 + 2ull * size + 4095) & ~4095ull) + 6 + 8ull * size;
        vq->desc = qvirtio_alloc(d->qts, bytes, 4096);
        vq->avail = vq->desc + 16ull * size;
        vq->used = (vq->avail + 6 + 2ull * size + 4095) & ~4095ull;
    }
    if (d->modern) {
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_DESC), (uint32_t)vq->desc);
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_DESC + 4), vq->desc >> 32);
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_AVAIL), (uint32_t)vq->avail);
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_AVAIL + 4), vq->avail >> 32);
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_USED), (uint32_t)vq->used);
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_USED + 4), vq->used >> 32);
        vq->notify_off = qtest_readw(d->qts, modern(d, d->common, COMMON_Q_NOFF));
        qtest_writew(d->qts, modern(d, d->common, COMMON_Q_ENABLE), 1);
    } else {
        qtest_outl(d->qts, QVIRTIO_IO_BAR + LEGACY_QUEUE_PFN, vq->desc >> 12);
    }
    return vq;
}

/* One 16-byte descriptor at slot i of a ring or table: split {addr, len,
 * flags, next} and packed {addr, len, id, flags} differ only in what their
 * two last 16-bit words mean.  bytes: 16, or 14 to leave the last word
 * alone (a packed head, whose flags wait for qvirtqueue_publish). */
static void write_desc16(QTestState *qts, uint64_t table, unsigned i, uint64_t addr,
                         uint32_t len, uint16_t w12, uint16_t w14, size_t bytes)
{
    uint8_t b[16];

    addr = htole64(addr);
    len = htole32(len);
    w12 = htole16(w12);
    w14 = htole16(w14);
    memcpy(b, &addr, 8);
    memcpy(b + 8, &len, 4);
    memcpy(b + 12, &w12, 2);
    memcpy(b + 14, &w14, 2);
    qtest_memwrite(qts, table + 16ull * i, b, bytes);
}

void qvirtqueue_write_desc(QTestState *qts, uint64_t table, unsigned i, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next)
{
    write_desc16(qts, table, i, addr, len, flags, next, 16);
}

void qvirtqueue_write_pdesc(QTestState *qts, uint64_t table, unsigned i, uint64_t addr,
                            uint32_t len, uint16_t id, uint16_t flags)
{
    write_desc16(qts, table, i, addr, len, id, flags, 16);
}

uint16_t qvirtqueue_packed_avail_bits(bool wrap)
{
    return wrap ? QVRING_PACKED_F_AVAIL : QVRING_PACKED_F_USED;
}

/* Packed: the descriptor goes in the next slot with the chain's buffer id
 * (the head's slot); the head's flags wait for qvirtqueue_publish, the
 * others are written now with the AVAIL/USED bits of the wrap counter in
 * force at their slot. */
static uint16_t packed_add(QVirtQueue *vq, uint64_t addr, uint32_t len, uint16_t flags,
                           bool next)
{
    QTestState *qts = vq->dev->qts;
    uint16_t slot = vq->free_head;

    if (vq->prev < 0) {
        vq->cur_id = slot;
        vq->chain_len[slot] = 0;
    }
    vq->chain_len[vq->cur_id]++;
    flags |= (next ? QVRING_DESC_F_NEXT : 0) | qvirtqueue_packed_avail_bits(vq->avail_wrap);
    if (slot == vq->cur_id) {
        vq->head_flags[slot] = flags;
    }
    write_desc16(qts, vq->desc, slot, addr, len, vq->cur_id, flags, slot == vq->cur_id ? 14 : 16);
    if (++vq->free_head == vq->size) {
        vq->free_head = 0;
        vq->avail_wrap = !vq->avail_wrap;
    }
    vq->prev = next ? slot : -1;
    return slot;
}

uint16_t qvirtqueue_add(QVirtQueue *vq, uint64_t addr, uint32_t len, bool write, bool next)
{
    uint16_t i = vq->free_head;

    if (vq->packed) {
        return packed_add(vq, addr, len, write ? QVRING_DESC_F_WRITE : 0, next);
    }
    vq->free_head = (vq->free_head + 1) % vq->size;
    qvirtqueue_write_desc(vq->dev->qts, vq->desc, i, addr, len,
                          (write ? QVRING_DESC_F_WRITE : 0) | (next ? QVRING_DESC_F_NEXT : 0), 0);
    if (vq->prev >= 0) {
        qtest_writew(vq->dev->qts, vq->desc + 16ull * vq->prev + 14, i);
    }
    vq->prev = next ? i : -1;
    return i;
}

void qvirtqueue_indirect_entry(QVirtQueue *vq, uint64_t table, unsigned i, uint64_t addr,
                               uint32_t len, bool write, bool last)
{
    uint16_t flags = write ? QVRING_DESC_F_WRITE : 0;

    if (vq->packed) {
        qvirtqueue_write_pdesc(vq->dev->qts, table, i, addr, len, 0, flags);
    } else {
        qvirtqueue_write_desc(vq->dev->qts, table, i, addr, len,
                              flags | (last ? 0 : QVRING_DESC_F_NEXT), last ? 0 : i + 1);
    }
}

uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, uint64_t table, unsigned n)
{
    uint16_t i;

    if (vq->prev >= 0) {
        qtest_fail("libqvirtio: an indirect descriptor inside a chain");
    }
    if (vq->packed) {
        return packed_add(vq, table, 16 * n, QVRING_DESC_F_INDIRECT, false);
    }
    i = qvirtqueue_add(vq, table, 16 * n, false, false);
    qtest_writew(vq->dev->qts, vq->desc + 16ull * i + 12, QVRING_DESC_F_INDIRECT);
    return i;
}

void qvirtqueue_notify(QVirtQueue *vq)
{
    QVirtioDev *d = vq->dev;

    if (d->modern) {
        qtest_writew(d->qts, modern(d, d->notify, vq->notify_off * d->notify_mult), vq->index);
    } else {
        qtest_outw(d->qts, QVIRTIO_IO_BAR + LEGACY_QUEUE_NOTIFY, vq->index);
    }
}

void qvirtqueue_notify_cmd(QVirtQueue *vq, char *buf, size_t n)
{
    QVirtioDev *d = vq->dev;

    if (d->modern) {
        snprintf(buf, n, "writew 0x%" PRIx64 " 0x%x",
                 modern(d, d->notify, vq->notify_off * d->notify_mult), vq->index);
    } else {
        snprintf(buf, n, "outw 0x%x 0x%x", QVIRTIO_IO_BAR + LEGACY_QUEUE_NOTIFY, vq->index);
    }
}

void qvirtqueue_publish(QVirtQueue *vq, uint16_t head)
{
    QTestState *qts = vq->dev->qts;

    if (vq->packed) {
        /* the rest of the chain is in the ring already: the head's flags
         * hand it all over */
        qtest_writew(qts, vq->desc + 16ull * head + 14, vq->head_flags[head]);
        vq->avail_idx++;
        return;
    }
    qtest_writew(qts, vq->avail + 4 + 2ull * (vq->avail_idx % vq->size), head);
    vq->avail_idx++;
    qtest_writew(qts, vq->avail + 2, vq->avail_idx);
}

void qvirtqueue_kick(QVirtQueue *vq, uint16_t head)
{
    qvirtqueue_publish(vq, head);
    qvirtqueue_notify(vq);
}

/* Packed: whether the descriptor at slot is a used one of wrap counter wrap. */
static bool packed_used_at(QVirtQueue *vq, uint16_t slot, bool wrap, uint16_t *id,
                           uint32_t *len)
{
    QTestState *qts = vq->dev->qts;
    uint16_t f = qtest_readw(qts, vq->desc + 16ull * slot + 14);

    if (!!(f & QVRING_PACKED_F_AVAIL) != wrap || !!(f & QVRING_PACKED_F_USED) != wrap) {
        return false;
    }
    if (id) {
        *id = qtest_readw(qts, vq->desc + 16ull * slot + 12);
    }
    if (len) {
        *len = qtest_readl(qts, vq->desc + 16ull * slot + 8);
    }
    return true;
}

/* Step a packed position past the buffer with this id. */
static void packed_skip(QVirtQueue *vq, uint16_t *slot, bool *wrap, uint16_t id)
{
    unsigned n = id < vq->size && vq->chain_len[id] ? vq->chain_len[id] : 1;

    *slot += n;
    if (*slot >= vq->size) {
        *slot -= vq->size;
        *wrap = !*wrap;
    }
}

uint16_t qvirtqueue_used_idx(QVirtQueue *vq)
{
    uint16_t slot, id, n = 0;
    bool wrap;

    if (!vq->packed) {
        return qtest_readw(vq->dev->qts, vq->used + 2);
    }
    slot = vq->used_slot;
    wrap = vq->used_wrap;
    while (n < vq->size && packed_used_at(vq, slot, wrap, &id, NULL)) {
        if (id >= vq->size) {
            n++;
            break;              /* a device gone wrong: count it, look no further */
        }
        packed_skip(vq, &slot, &wrap, id);
        n++;
    }
    return vq->last_used + n;
}

bool qvirtqueue_used_pending(QVirtQueue *vq)
{
    if (vq->packed) {
        return packed_used_at(vq, vq->used_slot, vq->used_wrap, NULL, NULL);
    }
    return qvirtqueue_used_idx(vq) != vq->last_used;
}

bool qvirtqueue_pop_used(QVirtQueue *vq, uint32_t *id, uint32_t *len)
{
    QTestState *qts = vq->dev->qts;
    uint32_t l;
    uint16_t i;

    if (vq->packed) {
        if (!packed_used_at(vq, vq->used_slot, vq->used_wrap, &i, &l)) {
            return false;
        }
        packed_skip(vq, &vq->used_slot, &vq->used_wrap, i);
        if (i < vq->size) {
            vq->chain_len[i] = 0;
        }
    } else {
        uint64_t e;

        if (!qvirtqueue_used_pending(vq)) {
            return false;
        }
        e = vq->used + 4 + 8ull * (vq->last_used % vq->size);
        i = qtest_readl(qts, e);
        l = qtest_readl(qts, e + 4);
    }
    vq->last_used++;
    if (id) {
        *id = i;
    }
    if (len) {
        *len = l;
    }
    return true;
}

uint32_t qvirtqueue_wait_used(QVirtQueue *vq, uint16_t head, int timeout_ms)
{
    uint32_t id, len;

    for (int t = 0; !qvirtqueue_pop_used(vq, &id, &len); t++) {
        if (t >= timeout_ms) {
            qtest_fail("libqvirtio: queue %u: no used entry after %d ms", vq->index, timeout_ms);
        }
        usleep(1000);
    }
    if (id != head) {
        qtest_fail("libqvirtio: queue %u: used id %u, expected %u", vq->index, id, head);
    }
    return len;
}

void qvirtqueue_set_interrupts(QVirtQueue *vq, bool on)
{
    if (vq->packed) {
        qtest_writew(vq->dev->qts, vq->avail + 2, on ? QVRING_EVENT_ENABLE : QVRING_EVENT_DISABLE);
    } else {
        qtest_writew(vq->dev->qts, vq->avail, on ? 0 : 1);
    }
}

void qvirtqueue_packed_event_desc(QVirtQueue *vq, uint16_t off, bool wrap)
{
    qtest_writew(vq->dev->qts, vq->avail, off | (uint16_t)wrap << QVRING_EVENT_WRAP_BIT);
    qtest_writew(vq->dev->qts, vq->avail + 2, QVRING_EVENT_DESC);
}

/* ---- hostile packed rings ----------------------------------------------------- */

QVirtioPackedHostile qvirtio_hostile_kind;

static const char *const hostile_names[QVPH_COUNT] = {
    [QVPH_DESC_OUTSIDE_RAM] = "desc_outside_ram",
    [QVPH_DESC_IN_MMIO] = "desc_in_mmio",
    [QVPH_DESC_STRADDLES_RAM_END] = "desc_straddles_ram_end",
    [QVPH_CHAIN_ROUND_RING] = "chain_round_ring",
    [QVPH_INDIRECT_TOO_LONG] = "indirect_too_long",
    [QVPH_INDIRECT_WITH_NEXT] = "indirect_with_next",
    [QVPH_NESTED_INDIRECT] = "nested_indirect",
    [QVPH_INDIRECT_IN_CHAIN] = "indirect_in_chain",
    [QVPH_INDIRECT_ZERO_LEN] = "indirect_zero_len",
    [QVPH_INDIRECT_OUTSIDE_RAM] = "indirect_outside_ram",
    [QVPH_ZERO_LEN_BUFFER] = "zero_len_buffer",
    [QVPH_OUT_AFTER_IN] = "out_after_in",
    [QVPH_ID_OUT_OF_RANGE] = "id_out_of_range",
    [QVPH_DESC_RING_OUTSIDE_RAM] = "desc_ring_outside_ram",
    [QVPH_DRIVER_AREA_OUTSIDE_RAM] = "driver_area_outside_ram",
    [QVPH_DEVICE_AREA_OUTSIDE_RAM] = "device_area_outside_ram",
};

const char *qvirtio_packed_hostile_name(QVirtioPackedHostile kind)
{
    return kind < QVPH_COUNT ? hostile_names[kind] : "?";
}

static uint16_t buf_flags(const QVirtioBuf *b)
{
    return b->write ? QVRING_DESC_F_WRITE : 0;
}

/* The good chain, not published; returns its head. */
static uint16_t add_chain(QVirtQueue *vq, const QVirtioBuf *b, unsigned n)
{
    uint16_t h = vq->free_head;

    for (unsigned i = 0; i < n; i++) {
        qvirtqueue_add(vq, b[i].addr, b[i].len, b[i].write, i + 1 < n);
    }
    return h;
}

void qvirtqueue_packed_rewind(QVirtQueue *vq)
{
    vq->free_head = vq->used_slot = 0;
    vq->avail_wrap = vq->used_wrap = true;
    vq->prev = -1;
}

/* Bring the device up again with the features it had and this queue
 * alone, one of its three areas moved (addresses are set before the
 * queue is enabled); the good chain then goes in the library's ring. */
static void restart_with_bad_area(QVirtQueue *vq, unsigned which, const QVirtioBuf *b,
                                  unsigned n)
{
    QVirtioDev *d = vq->dev;
    uint64_t addr[3] = { vq->desc, vq->avail, vq->used };
    unsigned size = vq->size;
    uint16_t cfg = d->config_vector, qv = d->queue_vector[vq->index];

    if (!d->modern) {
        qtest_fail("libqvirtio: a packed queue on a legacy device");
    }
    addr[which] = which == 1 ? 0xfee00000u : 0x4000000000ull;
    qvirtio_start(d, d->features);
    vq->size = size;                    /* the library's ring stays as it was */
    qvirtqueue_packed_rewind(vq);
    qvirtio_set_config_vector(d, cfg);
    qtest_writew(d->qts, modern(d, d->common, COMMON_Q_SELECT), vq->index);
    qtest_writew(d->qts, modern(d, d->common, COMMON_Q_SIZE), size);
    for (unsigned i = 0; i < 3; i++) {
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_DESC + 8 * i), (uint32_t)addr[i]);
        qtest_writel(d->qts, modern(d, d->common, COMMON_Q_DESC + 8 * i + 4), addr[i] >> 32);
    }
    qvirtio_set_queue_vector(d, vq->index, qv);
    qtest_writew(d->qts, modern(d, d->common, COMMON_Q_ENABLE), 1);
    qvirtio_driver_ok(d);
    qvirtqueue_kick(vq, add_chain(vq, b, n));
}

const char *qvirtqueue_packed_hostile(QVirtQueue *vq, QVirtioPackedHostile kind,
                                      const QVirtioBuf *bufs, unsigned n)
{
    static char about[64];
    QTestState *qts = vq->dev->qts;
    QVirtioBuf b[QVIRTIO_HOSTILE_MAX_BUFS], r;
    unsigned t = n - 1;
    uint64_t tab;
    uint16_t h;

    if (!vq->packed || n == 0 || n > QVIRTIO_HOSTILE_MAX_BUFS || vq->prev >= 0) {
        qtest_fail("libqvirtio: hostile packed case %u: needs a packed queue and 1-%u buffers",
                   kind, QVIRTIO_HOSTILE_MAX_BUFS);
    }
    memcpy(b, bufs, n * sizeof(*b));
    /* the buffer a case spoils: the first device-writable one, else the last */
    for (unsigned i = 0; i < n; i++) {
        if (b[i].write) {
            t = i;
            break;
        }
    }
    switch (kind) {
    case QVPH_DESC_OUTSIDE_RAM:
        b[t].addr = 0x4000000000ull;                            /* 256 GiB: no RAM */
        qvirtqueue_kick(vq, add_chain(vq, b, n));
        return "outside RAM";
    case QVPH_DESC_IN_MMIO:
        b[t].addr = QVIRTIO_MODERN_BAR;                         /* the device's own BAR */
        qvirtqueue_kick(vq, add_chain(vq, b, n));
        return "outside RAM";
    case QVPH_DESC_STRADDLES_RAM_END:
        b[t].addr = QVIRTIO_RAM_END - 256;                      /* the last 256 bytes + hole */
        b[t].len = 512;
        qvirtqueue_kick(vq, add_chain(vq, b, n));
        return "outside RAM";
    case QVPH_ZERO_LEN_BUFFER:
        b[t].len = 0;
        qvirtqueue_kick(vq, add_chain(vq, b, n));
        return "zero-sized buffer";
    case QVPH_CHAIN_ROUND_RING:
        /* NEXT in every slot from the driver's next one all the way round
         * (each with its lap's bits), the head written last */
        for (unsigned k = vq->size; k-- > 0;) {
            unsigned slot = (vq->free_head + k) % vq->size;
            bool wrap = slot >= vq->free_head ? vq->avail_wrap : !vq->avail_wrap;

            qvirtqueue_write_pdesc(qts, vq->desc, slot, b[0].addr, b[0].len, vq->free_head,
                                   QVRING_DESC_F_NEXT | buf_flags(&b[0]) |
                                   qvirtqueue_packed_avail_bits(wrap));
        }
        qvirtqueue_notify(vq);
        return "longer than the queue";
    case QVPH_INDIRECT_TOO_LONG: {
        /* 1025 entries: more buffers than a request may have */
        enum { N = 1025 };
        uint8_t *e = calloc(N, 16);
        uint64_t a = htole64(b[0].addr);
        uint32_t len = htole32(b[0].len < 16 ? b[0].len : 16);
        uint16_t f = htole16(buf_flags(&b[0]));

        tab = qvirtio_alloc(qts, 16 * N, 16);
        for (unsigned i = 0; i < N; i++) {
            memcpy(e + 16 * i, &a, 8);
            memcpy(e + 16 * i + 8, &len, 4);
            memcpy(e + 16 * i + 14, &f, 2);
        }
        qtest_memwrite(qts, tab, e, 16 * N);
        free(e);
        qvirtqueue_kick(vq, qvirtqueue_add_indirect(vq, tab, N));
        return "more than 1024 buffers";
    }
    case QVPH_INDIRECT_WITH_NEXT:
        /* the request in a table, NEXT set on the ring descriptor, and a
         * buffer after it: the spec forbids anything after an indirect one */
        tab = qvirtio_alloc(qts, 16 * n, 16);
        for (unsigned i = 0; i < n; i++) {
            qvirtqueue_indirect_entry(vq, tab, i, b[i].addr, b[i].len, b[i].write, i + 1 == n);
        }
        h = packed_add(vq, tab, 16 * n, QVRING_DESC_F_INDIRECT, true);
        packed_add(vq, qvirtio_alloc(qts, 1, 1), 1, QVRING_DESC_F_WRITE, false);
        qvirtqueue_kick(vq, h);
        return "with NEXT set";
    case QVPH_NESTED_INDIRECT: {
        uint64_t t1 = qvirtio_alloc(qts, 16, 16), t2 = qvirtio_alloc(qts, 16, 16);

        qvirtqueue_write_pdesc(qts, t2, 0, b[0].addr, b[0].len, 0, buf_flags(&b[0]));
        qvirtqueue_write_pdesc(qts, t1, 0, t2, 16, 0, QVRING_DESC_F_INDIRECT);
        qvirtqueue_kick(vq, qvirtqueue_add_indirect(vq, t1, 1));
        return "indirect descriptor inside an indirect table";
    }
    case QVPH_INDIRECT_IN_CHAIN:
        /* the first buffer, then an indirect descriptor as the second */
        tab = qvirtio_alloc(qts, 16, 16);
        qvirtqueue_write_pdesc(qts, tab, 0, qvirtio_alloc(qts, 1, 1), 1, 0, QVRING_DESC_F_WRITE);
        h = packed_add(vq, b[0].addr, b[0].len, buf_flags(&b[0]), true);
        packed_add(vq, tab, 16, QVRING_DESC_F_INDIRECT, false);
        qvirtqueue_kick(vq, h);
        return "indirect descriptor inside a chain";
    case QVPH_INDIRECT_ZERO_LEN:
        qvirtqueue_kick(vq, qvirtqueue_add_indirect(vq, qvirtio_alloc(qts, 16, 16), 0));
        return "indirect table of 0 bytes is invalid";
    case QVPH_INDIRECT_OUTSIDE_RAM:
        qvirtqueue_kick(vq, qvirtqueue_add_indirect(vq, 0xfffffffffffff000ull, 256));
        return "outside RAM";
    case QVPH_OUT_AFTER_IN:
        /* a 1-byte writable buffer, then the request's first readable one */
        r = (QVirtioBuf){ qvirtio_alloc(qts, 16, 16), 16, false };
        for (unsigned i = 0; i < n; i++) {
            if (!b[i].write) {
                r = b[i];
                break;
            }
        }
        h = qvirtqueue_add(vq, qvirtio_alloc(qts, 1, 1), 1, true, true);
        qvirtqueue_add(vq, r.addr, r.len, false, false);
        qvirtqueue_kick(vq, h);
        return "driver-readable buffer after a writable one";
    case QVPH_ID_OUT_OF_RANGE:
        /* the good request with a buffer id not below the queue size in
         * every descriptor (the last one's counts) */
        h = add_chain(vq, b, n);
        for (unsigned i = 0; i < vq->chain_len[h]; i++) {
            qtest_writew(qts, vq->desc + 16ull * ((h + i) % vq->size) + 12, vq->size + 3);
        }
        qvirtqueue_kick(vq, h);
        snprintf(about, sizeof(about), "buffer id %u ", vq->size + 3);
        return about;
    case QVPH_DESC_RING_OUTSIDE_RAM:
        /* the notification's check says "descriptor ring at 0x4000000000";
         * a device that reads the ring first (at DRIVER_OK) names the word
         * it read ("ring at 0x400000000e") */
        restart_with_bad_area(vq, 0, b, n);
        return "ring at 0x40000000";
    case QVPH_DRIVER_AREA_OUTSIDE_RAM:
        restart_with_bad_area(vq, 1, b, n);
        return "driver area at 0xfee00000";
    case QVPH_DEVICE_AREA_OUTSIDE_RAM:
        restart_with_bad_area(vq, 2, b, n);
        return "device area at 0x4000000000";
    case QVPH_COUNT:
        break;
    }
    qtest_fail("libqvirtio: no hostile packed case %u", kind);
    return NULL;
}

uint16_t qvirtqueue_packed_wrong_bits(bool wrap, unsigned i)
{
    static const uint16_t all[4] = { 0, QVRING_PACKED_F_AVAIL, QVRING_PACKED_F_USED,
                                     QVRING_PACKED_F_AVAIL | QVRING_PACKED_F_USED };
    uint16_t right = qvirtqueue_packed_avail_bits(wrap);

    for (unsigned k = 0; k < 4; k++) {
        if (all[k] != right && i-- == 0) {
            return all[k];
        }
    }
    qtest_fail("libqvirtio: there are 3 wrong AVAIL/USED combinations, not %u", i + 3);
    return 0;
}

void qvirtqueue_packed_publish_bits(QVirtQueue *vq, uint16_t head, uint16_t bits)
{
    uint16_t f = (vq->head_flags[head] & ~(QVRING_PACKED_F_AVAIL | QVRING_PACKED_F_USED)) | bits;

    qtest_writew(vq->dev->qts, vq->desc + 16ull * head + 14, f);
}
