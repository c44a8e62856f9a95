/*
 * MSI capability (see include/hw/pci/msi.h) and the irqfd machinery shared
 * with MSI-X: an eventfd per vector that either the accelerator consumes
 * (an MSI route bound with an irqfd) or the main loop does (then calling
 * msi_notify/msix_notify, which honour masking and pending bits).
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <glib.h>
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "accel/accel.h"
#include "qemu/log.h"

static uint16_t msi_flags(const PCIDevice *d)
{
    return pci_get_word(d->config + d->msi_cap + PCI_MSI_FLAGS);
}

static bool msi_64bit(const PCIDevice *d)
{
    return msi_flags(d) & PCI_MSI_FLAGS_64BIT;
}

static bool msi_maskbit(const PCIDevice *d)
{
    return msi_flags(d) & PCI_MSI_FLAGS_MASKBIT;
}

static unsigned msi_mask_off(const PCIDevice *d)
{
    return d->msi_cap + (msi_64bit(d) ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

static unsigned msi_pending_off(const PCIDevice *d)
{
    return d->msi_cap + (msi_64bit(d) ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
}

static unsigned msi_nr_vectors_capable(const PCIDevice *d)
{
    return 1u << ((msi_flags(d) & PCI_MSI_FLAGS_QMASK) >> 1);
}

bool msi_present(const PCIDevice *d)
{
    return d->msi_cap != 0;
}

bool msi_enabled(const PCIDevice *d)
{
    return d->msi_cap && (msi_flags(d) & PCI_MSI_FLAGS_ENABLE);
}

unsigned msi_nr_vectors_allocated(const PCIDevice *d)
{
    return d->msi_cap ? 1u << ((msi_flags(d) & PCI_MSI_FLAGS_QSIZE) >> 4) : 0;
}

bool msi_init(PCIDevice *d, uint8_t offset, unsigned nr_vectors, bool addr64,
              bool per_vector_mask, Error **errp)
{
    unsigned log2 = 0, size;
    uint16_t flags;
    uint8_t cap;

    if (nr_vectors < 1 || nr_vectors > PCI_MSI_MAX_VECTORS || (nr_vectors & (nr_vectors - 1))) {
        error_setg(errp, "%s: MSI vector count %u is not a power of two from 1 to 32",
                   d->qdev.klass->name, nr_vectors);
        return false;
    }
    while ((1u << log2) < nr_vectors) {
        log2++;
    }
    size = per_vector_mask ? (addr64 ? 0x18 : 0x14) : (addr64 ? 0x0e : 0x0a);
    cap = pci_add_capability(d, PCI_CAP_ID_MSI, offset, (uint8_t)size, errp);
    if (!cap) {
        return false;
    }
    d->msi_cap = cap;
    flags = (uint16_t)(log2 << 1);
    if (addr64) {
        flags |= PCI_MSI_FLAGS_64BIT;
    }
    if (per_vector_mask) {
        flags |= PCI_MSI_FLAGS_MASKBIT;
    }
    pci_set_word(d->config + cap + PCI_MSI_FLAGS, flags);
    pci_set_word(d->wmask + cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    pci_set_long(d->wmask + cap + PCI_MSI_ADDRESS_LO, 0xfffffffc);
    if (addr64) {
        pci_set_long(d->wmask + cap + PCI_MSI_ADDRESS_HI, 0xffffffff);
    }
    pci_set_word(d->wmask + cap + (addr64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 0xffff);
    if (per_vector_mask) {
        /* Only the bits of implemented vectors are writable. */
        pci_set_long(d->wmask + msi_mask_off(d),
                     nr_vectors == 32 ? 0xffffffffu : (1u << nr_vectors) - 1);
    }
    d->msi_irqfds = g_new0(PCIIrqfd *, PCI_MSI_MAX_VECTORS);
    return true;
}

void msi_uninit(PCIDevice *d)
{
    if (!d->msi_cap) {
        return;
    }
    for (unsigned v = 0; v < PCI_MSI_MAX_VECTORS; v++) {
        msi_put_irqfd(d, v);
    }
    g_free(d->msi_irqfds);
    d->msi_irqfds = NULL;
    pci_update_irq(d);
    /* The capability stays linked (config space is rebuilt at realize). */
    pci_set_word(d->config + d->msi_cap + PCI_MSI_FLAGS, 0);
    d->msi_cap = 0;
}

bool msi_is_masked(const PCIDevice *d, unsigned vector)
{
    if (!d->msi_cap || !msi_maskbit(d) || vector >= PCI_MSI_MAX_VECTORS) {
        return false;
    }
    return pci_get_long(d->config + msi_mask_off(d)) & (1u << vector);
}

MSIMessage msi_get_message(const PCIDevice *d, unsigned vector)
{
    const uint8_t *c = d->config + d->msi_cap;
    unsigned nr = msi_nr_vectors_allocated(d);
    MSIMessage m;

    m.address = pci_get_long(c + PCI_MSI_ADDRESS_LO);
    if (msi_64bit(d)) {
        m.address |= (uint64_t)pci_get_long(c + PCI_MSI_ADDRESS_HI) << 32;
    }
    m.data = pci_get_word(c + (msi_64bit(d) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32));
    /* The function owns the low log2(nr) bits of the data. */
    m.data = (m.data & ~(nr - 1)) | (vector & (nr - 1));
    return m;
}

static void msi_set_pending(PCIDevice *d, unsigned vector, bool on)
{
    unsigned off = msi_pending_off(d);
    uint32_t p = pci_get_long(d->config + off);

    pci_set_long(d->config + off, on ? p | (1u << vector) : p & ~(1u << vector));
}

void msi_notify(PCIDevice *d, unsigned vector)
{
    MSIMessage m;

    if (!msi_enabled(d) || vector >= msi_nr_vectors_allocated(d)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: MSI vector %u while MSI is %s; dropped\n",
                      d->qdev.klass->name, vector, msi_enabled(d) ? "enabled for fewer" : "off");
        return;
    }
    if (msi_is_masked(d, vector)) {
        msi_set_pending(d, vector, true);
        return;
    }
    m = msi_get_message(d, vector);
    pci_send_msi(d, m.address, m.data);
}

static void msi_sync_irqfds(PCIDevice *d)
{
    for (unsigned v = 0; d->msi_irqfds && v < PCI_MSI_MAX_VECTORS; v++) {
        PCIIrqfd *f = d->msi_irqfds[v];
        if (f) {
            bool live = msi_enabled(d) && v < msi_nr_vectors_allocated(d) &&
                        !msi_is_masked(d, v) &&
                        (pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER);
            pci_irqfd_sync(f, live, msi_get_message(d, v));
        }
    }
}

void msi_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    unsigned cap = d->msi_cap, end;
    uint16_t flags;

    if (!cap) {
        return;
    }
    end = msi_maskbit(d) ? msi_pending_off(d) + 4 : cap + (msi_64bit(d) ? 0x0e : 0x0a);
    if (!(addr < end && addr + len > cap) && !(addr < PCI_COMMAND + 2 && addr + len > PCI_COMMAND)) {
        return;
    }
    /* Multiple Message Enable above Multiple Message Capable: the most the
     * function can do (as QEMU). */
    flags = msi_flags(d);
    if (((flags & PCI_MSI_FLAGS_QSIZE) >> 4) > ((flags & PCI_MSI_FLAGS_QMASK) >> 1)) {
        flags = (flags & ~PCI_MSI_FLAGS_QSIZE) | ((flags & PCI_MSI_FLAGS_QMASK) << 3);
        pci_set_word(d->config + cap + PCI_MSI_FLAGS, flags);
    }
    pci_update_irq(d);                  /* INTx is off while MSI is on */
    if (msi_enabled(d) && msi_maskbit(d)) {
        uint32_t pending = pci_get_long(d->config + msi_pending_off(d));
        for (unsigned v = 0; v < msi_nr_vectors_allocated(d); v++) {
            if ((pending & (1u << v)) && !msi_is_masked(d, v)) {
                msi_set_pending(d, v, false);
                msi_notify(d, v);
            }
        }
    }
    msi_sync_irqfds(d);
}

void msi_reset(PCIDevice *d)
{
    unsigned cap = d->msi_cap;
    uint16_t flags;

    if (!cap) {
        return;
    }
    flags = msi_flags(d) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    pci_set_word(d->config + cap + PCI_MSI_FLAGS, flags);
    memset(d->config + cap + PCI_MSI_ADDRESS_LO, 0,
           (msi_maskbit(d) ? msi_pending_off(d) + 4 : cap + (msi_64bit(d) ? 0x0e : 0x0a)) -
           (cap + PCI_MSI_ADDRESS_LO));
    msi_sync_irqfds(d);
}

/* ---- irqfds ---------------------------------------------------------------- */

static bool accel_has_msi_routes(void)
{
    return current_accel && current_accel->msi_route_add && current_accel->irqfd_add;
}

bool pci_irqfd_available(void)
{
    return accel_has_msi_routes();
}

bool pci_irqfd_send(PCIIrqfd *f)
{
    if (!f || !f->in_kernel) {
        return false;
    }
    if (!f->sent) {
        f->sent = true;
        qemu_log_mask(LOG_TRACE, "%s: %s vector %u: sent through its irqfd (virq %d)\n",
                      f->dev->qdev.klass->name, f->msix ? "MSI-X" : "MSI", f->vector, f->virq);
    }
    event_notifier_set(&f->e);
    return true;
}

/* The main loop's side: the accelerator is not consuming the eventfd. */
static void pci_irqfd_handler(EventNotifier *e)
{
    PCIIrqfd *f = (PCIIrqfd *)((char *)e - offsetof(PCIIrqfd, e));

    if (!event_notifier_test_and_clear(e)) {
        return;
    }
    if (f->msix) {
        msix_notify(f->dev, f->vector);
    } else {
        msi_notify(f->dev, f->vector);
    }
}

PCIIrqfd *pci_irqfd_new(PCIDevice *d, bool msix, unsigned vector, Error **errp)
{
    PCIIrqfd *f = g_new0(PCIIrqfd, 1);

    f->dev = d;
    f->msix = msix;
    f->vector = vector;
    f->virq = -1;
    if (!event_notifier_init(&f->e, errp)) {
        error_prepend(errp, "%s: irqfd for %s vector %u: ", d->qdev.klass->name,
                      msix ? "MSI-X" : "MSI", vector);
        g_free(f);
        return NULL;
    }
    event_notifier_set_handler(&f->e, pci_irqfd_handler);
    return f;
}

static void pci_irqfd_to_userspace(PCIIrqfd *f)
{
    if (f->in_kernel) {
        qemu_log_mask(LOG_TRACE, "%s: %s vector %u: irqfd back to the main loop\n",
                      f->dev->qdev.klass->name, f->msix ? "MSI-X" : "MSI", f->vector);
        current_accel->irqfd_remove(&f->e, f->virq);
        f->in_kernel = false;
    }
    if (!f->e.handler) {
        event_notifier_set_handler(&f->e, pci_irqfd_handler);
    }
}

void pci_irqfd_sync(PCIIrqfd *f, bool live, MSIMessage msg)
{
    if (live && accel_has_msi_routes()) {
        if (f->virq < 0) {
            f->virq = current_accel->msi_route_add(msg.address, msg.data);
        } else if (!current_accel->msi_route_update(f->virq, msg.address, msg.data)) {
            pci_irqfd_to_userspace(f);
            current_accel->msi_route_release(f->virq);
            f->virq = -1;
        }
        if (f->virq >= 0 && !f->in_kernel) {
            event_notifier_set_handler(&f->e, NULL);
            /* Set while the main loop owned it but not yet handled: the
             * vector is live, send it now rather than let it be lost. */
            if (event_notifier_test_and_clear(&f->e)) {
                pci_send_msi(f->dev, msg.address, msg.data);
            }
            f->in_kernel = current_accel->irqfd_add(&f->e, f->virq);
            qemu_log_mask(LOG_TRACE, "%s: %s vector %u: irqfd %s virq %d (0x%" PRIx64 ", 0x%x)\n",
                          f->dev->qdev.klass->name, f->msix ? "MSI-X" : "MSI", f->vector,
                          f->in_kernel ? "bound to" : "cannot bind to", f->virq, msg.address,
                          msg.data);
        }
        if (f->in_kernel) {
            return;
        }
    }
    /* Masked, disabled, not an interrupt message, or no accelerator help:
     * the main loop handles the eventfd (pending bits get set there). */
    pci_irqfd_to_userspace(f);
    if (f->virq >= 0) {
        current_accel->msi_route_release(f->virq);
        f->virq = -1;
    }
}

void pci_irqfd_free(PCIIrqfd *f)
{
    if (!f) {
        return;
    }
    pci_irqfd_to_userspace(f);
    if (f->virq >= 0) {
        current_accel->msi_route_release(f->virq);
    }
    event_notifier_cleanup(&f->e);
    g_free(f);
}

EventNotifier *msi_get_irqfd(PCIDevice *d, unsigned vector, Error **errp)
{
    if (!d->msi_cap || vector >= msi_nr_vectors_capable(d)) {
        error_setg(errp, "%s: no MSI vector %u", d->qdev.klass->name, vector);
        return NULL;
    }
    if (!d->msi_irqfds[vector]) {
        d->msi_irqfds[vector] = pci_irqfd_new(d, false, vector, errp);
        if (!d->msi_irqfds[vector]) {
            return NULL;
        }
        msi_sync_irqfds(d);
    }
    return &d->msi_irqfds[vector]->e;
}

void msi_put_irqfd(PCIDevice *d, unsigned vector)
{
    if (d->msi_irqfds && vector < PCI_MSI_MAX_VECTORS) {
        pci_irqfd_free(d->msi_irqfds[vector]);
        d->msi_irqfds[vector] = NULL;
    }
}
