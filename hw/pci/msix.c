/*
 * MSI-X capability, vector table and Pending Bit Array
 * (see include/hw/pci/msix.h).
 */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "hw/pci/msix.h"
#include "qemu/log.h"

static uint16_t msix_ctrl(const PCIDevice *d)
{
    return pci_get_word(d->config + d->msix_cap_off + PCI_MSIX_FLAGS);
}

bool msix_present(const PCIDevice *d)
{
    return d->msix != NULL;
}

bool msix_enabled(const PCIDevice *d)
{
    return d->msix && (msix_ctrl(d) & PCI_MSIX_FLAGS_ENABLE);
}

bool msix_function_masked(const PCIDevice *d)
{
    return d->msix && (msix_ctrl(d) & PCI_MSIX_FLAGS_MASKALL);
}

static uint8_t *msix_entry(const PCIDevice *d, unsigned vector)
{
    return d->msix->table + vector * PCI_MSIX_ENTRY_SIZE;
}

static bool msix_vector_masked(const PCIDevice *d, unsigned vector)
{
    return pci_get_long(msix_entry(d, vector) + PCI_MSIX_ENTRY_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

bool msix_is_masked(const PCIDevice *d, unsigned vector)
{
    return !d->msix || vector >= d->msix->nr || msix_function_masked(d) ||
           msix_vector_masked(d, vector);
}

bool msix_is_pending(const PCIDevice *d, unsigned vector)
{
    return d->msix && vector < d->msix->nr && (d->msix->pba[vector / 8] & (1u << (vector % 8)));
}

static void msix_set_pending(PCIDevice *d, unsigned vector, bool on)
{
    uint8_t bit = 1u << (vector % 8);

    if (on) {
        d->msix->pba[vector / 8] |= bit;
    } else {
        d->msix->pba[vector / 8] &= ~bit;
    }
}

MSIMessage msix_get_message(const PCIDevice *d, unsigned vector)
{
    const uint8_t *e = msix_entry(d, vector);
    MSIMessage m = {
        .address = pci_get_long(e + PCI_MSIX_ENTRY_ADDR_LO) |
                   (uint64_t)pci_get_long(e + PCI_MSIX_ENTRY_ADDR_HI) << 32,
        .data = pci_get_long(e + PCI_MSIX_ENTRY_DATA),
    };
    return m;
}

void msix_notify(PCIDevice *d, unsigned vector)
{
    MSIMessage m;

    if (!msix_enabled(d) || vector >= d->msix->nr) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: MSI-X vector %u while MSI-X is %s; dropped\n",
                      d->qdev.klass->name, vector, msix_enabled(d) ? "on" : "off");
        return;
    }
    if (msix_is_masked(d, vector)) {
        msix_set_pending(d, vector, true);
        return;
    }
    if (d->msix->irqfds && pci_irqfd_send(d->msix->irqfds[vector])) {
        return;                 /* the accelerator injects it */
    }
    m = msix_get_message(d, vector);
    pci_send_msi(d, m.address, m.data);
}

/* A vector may have become deliverable: send what is pending, and move
 * its irqfd (if any) between the accelerator and the main loop. */
static void msix_vector_changed(PCIDevice *d, unsigned vector)
{
    PCIIrqfd *f = d->msix->irqfds[vector];

    if (msix_enabled(d) && !msix_is_masked(d, vector) && msix_is_pending(d, vector)) {
        msix_set_pending(d, vector, false);
        msix_notify(d, vector);
    }
    if (f) {
        bool live = msix_enabled(d) && !msix_is_masked(d, vector) &&
                    (pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER);
        pci_irqfd_sync(f, live, msix_get_message(d, vector));
    }
}

static void msix_all_changed(PCIDevice *d)
{
    for (unsigned v = 0; v < d->msix->nr; v++) {
        msix_vector_changed(d, v);
    }
}

void msix_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    unsigned cap = d->msix_cap_off;

    if (!d->msix) {
        return;
    }
    if (!(addr < cap + PCI_MSIX_CAP_SIZE && addr + len > cap) &&
        !(addr < PCI_COMMAND + 2 && addr + len > PCI_COMMAND)) {
        return;
    }
    pci_update_irq(d);                  /* INTx is off while MSI-X is on */
    msix_all_changed(d);
}

/* ---- the table and the PBA ---------------------------------------------------- */

static uint64_t msix_table_read(void *opaque, uint64_t addr, unsigned size)
{
    MSIXState *x = opaque;

    if (addr + size > (uint64_t)x->nr * PCI_MSIX_ENTRY_SIZE) {
        return 0;
    }
    return pci_get_long(x->table + addr);
}

static void msix_table_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    MSIXState *x = opaque;
    unsigned vector = addr / PCI_MSIX_ENTRY_SIZE;

    if (addr + size > (uint64_t)x->nr * PCI_MSIX_ENTRY_SIZE) {
        return;
    }
    if ((addr % PCI_MSIX_ENTRY_SIZE) == PCI_MSIX_ENTRY_CTRL) {
        val &= PCI_MSIX_ENTRY_CTRL_MASKBIT;     /* the rest is reserved */
    }
    pci_set_long(x->table + addr, (uint32_t)val);
    msix_vector_changed(x->dev, vector);
}

static const MemoryRegionOps msix_table_ops = {
    .read = msix_table_read,
    .write = msix_table_write,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static uint64_t msix_pba_read(void *opaque, uint64_t addr, unsigned size)
{
    MSIXState *x = opaque;
    unsigned bytes = (x->nr + 63) / 64 * 8;

    return addr + size <= bytes ? pci_get_long(x->pba + addr) : 0;
}

static void msix_pba_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    /* Read-only. */
}

static const MemoryRegionOps msix_pba_ops = {
    .read = msix_pba_read,
    .write = msix_pba_write,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* ---- setup ------------------------------------------------------------------- */

bool msix_init(PCIDevice *d, unsigned nr, MemoryRegion *table_bar, int table_bar_nr,
               uint32_t table_offset, MemoryRegion *pba_bar, int pba_bar_nr,
               uint32_t pba_offset, uint8_t cap_offset, Error **errp)
{
    const char *name = d->qdev.klass->name;
    uint64_t table_size = (uint64_t)nr * PCI_MSIX_ENTRY_SIZE;
    uint64_t pba_size = (nr + 63) / 64 * 8;
    MSIXState *x;
    uint8_t cap;

    if (nr < 1 || nr > PCI_MSIX_MAX_VECTORS) {
        error_setg(errp, "%s: MSI-X vector count %u is not 1-2048", name, nr);
        return false;
    }
    if ((table_offset & 7) || (pba_offset & 7) || table_bar_nr < 0 || table_bar_nr > 5 ||
        pba_bar_nr < 0 || pba_bar_nr > 5 ||
        table_offset + table_size > memory_region_size(table_bar) ||
        pba_offset + pba_size > memory_region_size(pba_bar) ||
        (table_bar == pba_bar && table_offset < pba_offset + pba_size &&
         pba_offset < table_offset + table_size)) {
        error_setg(errp, "%s: MSI-X table (BAR %d, 0x%" PRIx32 ") or PBA (BAR %d, 0x%" PRIx32
                   ") misplaced", name, table_bar_nr, table_offset, pba_bar_nr, pba_offset);
        return false;
    }
    cap = pci_add_capability(d, PCI_CAP_ID_MSIX, cap_offset, PCI_MSIX_CAP_SIZE, errp);
    if (!cap) {
        return false;
    }
    x = g_new0(MSIXState, 1);
    x->dev = d;
    x->nr = nr;
    x->table = g_malloc0(table_size);
    x->pba = g_malloc0(pba_size);
    x->irqfds = g_new0(PCIIrqfd *, nr);
    x->table_bar = table_bar;
    x->pba_bar = pba_bar;
    d->msix = x;
    d->msix_cap_off = cap;
    pci_set_word(d->config + cap + PCI_MSIX_FLAGS, (uint16_t)(nr - 1));
    pci_set_long(d->config + cap + PCI_MSIX_TABLE, table_offset | (uint32_t)table_bar_nr);
    pci_set_long(d->config + cap + PCI_MSIX_PBA, pba_offset | (uint32_t)pba_bar_nr);
    pci_set_word(d->wmask + cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    for (unsigned v = 0; v < nr; v++) {
        pci_set_long(msix_entry(d, v) + PCI_MSIX_ENTRY_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    memory_region_init_io(&x->table_mr, &msix_table_ops, x, "msix-table", table_size);
    memory_region_add_subregion(table_bar, table_offset, &x->table_mr);
    memory_region_init_io(&x->pba_mr, &msix_pba_ops, x, "msix-pba", pba_size);
    memory_region_add_subregion(pba_bar, pba_offset, &x->pba_mr);
    return true;
}

bool msix_init_exclusive_bar(PCIDevice *d, unsigned nr, int bar_nr, Error **errp)
{
    uint64_t table_size = (uint64_t)nr * PCI_MSIX_ENTRY_SIZE, bar_size = 4096;
    MemoryRegion *bar = g_new0(MemoryRegion, 1);

    while (bar_size < 2 * table_size) {
        bar_size *= 2;          /* table in the lower half, PBA in the upper */
    }
    memory_region_init(bar, "msix-bar", bar_size);
    if (!msix_init(d, nr, bar, bar_nr, 0, bar, bar_nr, (uint32_t)(bar_size / 2), 0, errp)) {
        memory_region_destroy(bar);
        g_free(bar);
        return false;
    }
    d->msix->exclusive = bar;
    pci_register_bar(d, bar_nr, 0, bar);
    return true;
}

void msix_uninit(PCIDevice *d)
{
    MSIXState *x = d->msix;

    if (!x) {
        return;
    }
    for (unsigned v = 0; v < x->nr; v++) {
        msix_put_irqfd(d, v);
    }
    memory_region_del_subregion(x->table_bar, &x->table_mr);
    memory_region_del_subregion(x->pba_bar, &x->pba_mr);
    memory_region_destroy(&x->table_mr);
    memory_region_destroy(&x->pba_mr);
    if (x->exclusive) {
        memory_region_destroy(x->exclusive);
        g_free(x->exclusive);
    }
    g_free(x->table);
    g_free(x->pba);
    g_free(x->irqfds);
    g_free(x);
    d->msix = NULL;
    pci_set_word(d->config + d->msix_cap_off + PCI_MSIX_FLAGS, 0);
    pci_update_irq(d);
}

void msix_reset(PCIDevice *d)
{
    MSIXState *x = d->msix;

    if (!x) {
        return;
    }
    pci_set_word(d->config + d->msix_cap_off + PCI_MSIX_FLAGS, (uint16_t)(x->nr - 1));
    memset(x->table, 0, (size_t)x->nr * PCI_MSIX_ENTRY_SIZE);
    memset(x->pba, 0, (x->nr + 63) / 64 * 8);
    for (unsigned v = 0; v < x->nr; v++) {
        pci_set_long(msix_entry(d, v) + PCI_MSIX_ENTRY_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    msix_all_changed(d);
}

EventNotifier *msix_get_irqfd(PCIDevice *d, unsigned vector, Error **errp)
{
    if (!d->msix || vector >= d->msix->nr) {
        error_setg(errp, "%s: no MSI-X vector %u", d->qdev.klass->name, vector);
        return NULL;
    }
    if (!d->msix->irqfds[vector]) {
        d->msix->irqfds[vector] = pci_irqfd_new(d, true, vector, errp);
        if (!d->msix->irqfds[vector]) {
            return NULL;
        }
        msix_vector_changed(d, vector);
    }
    return &d->msix->irqfds[vector]->e;
}

void msix_put_irqfd(PCIDevice *d, unsigned vector)
{
    if (d->msix && vector < d->msix->nr) {
        pci_irqfd_free(d->msix->irqfds[vector]);
        d->msix->irqfds[vector] = NULL;
    }
}

/* ---- migration --------------------------------------------------------------- */

/*
 * The capability's registers are in the configuration space (saved by
 * vmstate_pci_device); the table and the PBA live in the BAR, so they are
 * this subsection of it.  A stream without it (older, or of a device
 * without MSI-X) leaves them as they are: reset, on a fresh device.  Both
 * buffers must be the size of this device's (its vector count).
 */
static uint8_t *msix_vmstate_table(void *opaque, size_t *len)
{
    PCIDevice *d = opaque;

    if (!d->msix) {
        return NULL;
    }
    *len = (size_t)d->msix->nr * PCI_MSIX_ENTRY_SIZE;
    return d->msix->table;
}

static uint8_t *msix_vmstate_pba(void *opaque, size_t *len)
{
    PCIDevice *d = opaque;

    if (!d->msix) {
        return NULL;
    }
    *len = (d->msix->nr + 63) / 64 * 8;
    return d->msix->pba;
}

static bool msix_vmstate_needed(void *opaque)
{
    return msix_present(opaque);
}

/* A stream gets no more than a guest could write: vector control keeps only
 * its mask bit, and the PBA no bits past the last vector.  Delivery and
 * irqfds are re-evaluated by the PCI device's post_load, which runs after
 * this (once the whole configuration space is back). */
static int msix_post_load(void *opaque, int version_id)
{
    PCIDevice *d = opaque;
    MSIXState *x = d->msix;
    unsigned bytes = (x->nr + 63) / 64 * 8;

    for (unsigned v = 0; v < x->nr; v++) {
        uint8_t *ctrl = msix_entry(d, v) + PCI_MSIX_ENTRY_CTRL;
        pci_set_long(ctrl, pci_get_long(ctrl) & PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    for (unsigned v = x->nr; v < bytes * 8; v++) {
        x->pba[v / 8] &= (uint8_t)~(1u << (v % 8));
    }
    return 0;
}

const VMStateDescription vmstate_pci_device_msix = {
    .name = "PCIDevice/msix",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = msix_vmstate_needed,
    .post_load = msix_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_VBUFFER("table", msix_vmstate_table),
        VMSTATE_VBUFFER("pba", msix_vmstate_pba),
        VMSTATE_END_OF_LIST(),
    },
};
