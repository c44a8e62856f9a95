/*
 * KVM: the GSI routing table, MSIs and irqfds.
 *
 * The routing table (KVM_SET_GSI_ROUTING) always holds the irqchip routes
 * of GSI 0-23 (the PICs for 0-15 except the cascade, the IOAPIC for 0-23
 * with ISA IRQ 0 on pin 2), then one MSI route per virq in use, from GSI 24
 * on.  KVM takes the table whole, so it is rebuilt and committed whenever
 * a route is added, re-pointed (the guest reprogrammed the vector) or
 * released.  An irqfd (KVM_IRQFD) binds an eventfd to a virq: setting the
 * eventfd makes the kernel inject that route's message with no exit.
 * Single MSIs that have no route go by KVM_SIGNAL_MSI.
 *
 * All of it runs under the BQL.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <glib.h>
#include "accel/kvm/kvm.h"
#include "hw/i386/x86-irq.h"
#include "qemu/event_notifier.h"
#include "qemu/log.h"

#define KVM_MSI_GSI_BASE    IOAPIC_NUM_PINS
#define KVM_IRQCHIP_ROUTES  (15 + 23)       /* see kvm_routing_irqchip */

typedef struct KVMMSIRoute {
    bool used;
    uint64_t addr;
    uint32_t data;
} KVMMSIRoute;

static struct {
    bool split;                 /* kernel-irqchip=split: GSI 0-23 are the userspace
                                 * IOAPIC's pins as MSI routes, not irqchip routes */
    KVMMSIRoute ioapic[IOAPIC_NUM_PINS];
    unsigned max_gsi;           /* routes the kernel accepts in all */
    GArray *routes;             /* KVMMSIRoute, index = virq - KVM_MSI_GSI_BASE */
} kvm_msi;

static unsigned kvm_routing_irqchip(struct kvm_irq_routing_entry *e)
{
    unsigned n = 0;

    for (int i = 0; i < 16; i++) {
        if (i == 2) {
            continue;
        }
        e[n].gsi = i;
        e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
        e[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
        e[n].u.irqchip.pin = i % 8;
        n++;
    }
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        if (i == ISA_IRQ0_IOAPIC_PIN) {
            continue;
        }
        e[n].gsi = i;
        e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
        e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
        e[n].u.irqchip.pin = i == 0 ? ISA_IRQ0_IOAPIC_PIN : i;
        n++;
    }
    return n;
}

static bool kvm_routing_commit(Error **errp)
{
    unsigned nmsi = kvm_msi.routes ? kvm_msi.routes->len : 0, n;
    struct kvm_irq_routing *r =
        g_malloc0(sizeof(*r) + (KVM_IRQCHIP_ROUTES + nmsi) * sizeof(r->entries[0]));
    bool ok = true;

    if (kvm_msi.split) {
        /* KVM reads the level-triggered vectors it must exit on EOI for
         * (KVM_EXIT_IOAPIC_EOI) from these. */
        n = 0;
        for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
            KVMMSIRoute *m = &kvm_msi.ioapic[i];
            if (!m->used) {
                continue;
            }
            r->entries[n].gsi = i;
            r->entries[n].type = KVM_IRQ_ROUTING_MSI;
            r->entries[n].u.msi.address_lo = (uint32_t)m->addr;
            r->entries[n].u.msi.address_hi = (uint32_t)(m->addr >> 32);
            r->entries[n].u.msi.data = m->data;
            n++;
        }
    } else {
        n = kvm_routing_irqchip(r->entries);
    }
    for (unsigned i = 0; i < nmsi; i++) {
        KVMMSIRoute *m = &g_array_index(kvm_msi.routes, KVMMSIRoute, i);
        if (!m->used) {
            continue;
        }
        r->entries[n].gsi = KVM_MSI_GSI_BASE + i;
        r->entries[n].type = KVM_IRQ_ROUTING_MSI;
        r->entries[n].u.msi.address_lo = (uint32_t)m->addr;
        r->entries[n].u.msi.address_hi = (uint32_t)(m->addr >> 32);
        r->entries[n].u.msi.data = m->data;
        n++;
    }
    r->nr = n;
    if (ioctl(kvm_vm_fd(), KVM_SET_GSI_ROUTING, r) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_GSI_ROUTING (%u routes) failed", n);
        ok = false;
    }
    g_free(r);
    return ok;
}

bool kvm_irq_routing_init(Error **errp)
{
    int max = ioctl(kvm_vm_fd(), KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);

    kvm_msi.max_gsi = max > KVM_MSI_GSI_BASE ? (unsigned)max : 1024;
    if (!kvm_msi.routes) {
        kvm_msi.routes = g_array_new(FALSE, TRUE, sizeof(KVMMSIRoute));
    }
    return kvm_routing_commit(errp);
}

bool kvm_irq_routing_init_split(Error **errp)
{
    kvm_msi.split = true;
    return kvm_irq_routing_init(errp);
}

void kvm_split_route_update(unsigned gsi, const APICMessage *msg)
{
    g_autoptr(GError) err = NULL;
    KVMMSIRoute *m = gsi < IOAPIC_NUM_PINS ? &kvm_msi.ioapic[gsi] : NULL;
    KVMMSIRoute now = { .used = msg != NULL };

    if (!m || !kvm_msi.routes) {
        return;
    }
    if (msg) {
        apic_message_to_msi(msg, &now.addr, &now.data);
    }
    if (m->used == now.used && m->addr == now.addr && m->data == now.data) {
        return;
    }
    *m = now;
    if (!kvm_routing_commit(&err)) {
        error_report("kernel-irqchip=split: IOAPIC pin %u: %s", gsi, err->message);
    }
}

static bool kvm_msi_is_interrupt(uint64_t addr)
{
    return (addr & MSI_ADDR_MASK) == MSI_ADDR_BASE;
}

void kvm_send_msi(uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr,
        .address_hi = (uint32_t)(addr >> 32),
        .data = data,
    };

    /* 0 means the guest's APIC configuration blocked it: not an error. */
    if (ioctl(kvm_vm_fd(), KVM_SIGNAL_MSI, &msi) < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "KVM_SIGNAL_MSI (0x%" G_GINT64_MODIFIER "x, 0x%x) failed: "
                      "%s\n", addr, data, strerror(errno));
    }
}

static KVMMSIRoute *kvm_msi_route(int virq)
{
    unsigned i = (unsigned)(virq - KVM_MSI_GSI_BASE);

    if (virq < KVM_MSI_GSI_BASE || !kvm_msi.routes || i >= kvm_msi.routes->len) {
        return NULL;
    }
    return &g_array_index(kvm_msi.routes, KVMMSIRoute, i);
}

int kvm_msi_route_add(uint64_t addr, uint32_t data)
{
    g_autoptr(GError) err = NULL;
    KVMMSIRoute *m = NULL;
    unsigned i;

    if (!kvm_msi_is_interrupt(addr) || !kvm_msi.routes) {
        return -1;
    }
    for (i = 0; i < kvm_msi.routes->len; i++) {
        m = &g_array_index(kvm_msi.routes, KVMMSIRoute, i);
        if (!m->used) {
            break;
        }
    }
    if (i == kvm_msi.routes->len) {
        KVMMSIRoute fresh = { 0 };
        if (KVM_MSI_GSI_BASE + i >= kvm_msi.max_gsi) {
            qemu_log_mask(LOG_UNIMP, "KVM: no GSI left for an MSI route (%u in use)\n", i);
            return -1;
        }
        g_array_append_val(kvm_msi.routes, fresh);
        m = &g_array_index(kvm_msi.routes, KVMMSIRoute, i);
    }
    *m = (KVMMSIRoute) { .used = true, .addr = addr, .data = data };
    if (!kvm_routing_commit(&err)) {
        error_report("%s", err->message);
        m->used = false;
        return -1;
    }
    return KVM_MSI_GSI_BASE + (int)i;
}

bool kvm_msi_route_update(int virq, uint64_t addr, uint32_t data)
{
    g_autoptr(GError) err = NULL;
    KVMMSIRoute *m = kvm_msi_route(virq);

    if (!m || !m->used || !kvm_msi_is_interrupt(addr)) {
        return false;
    }
    if (m->addr == addr && m->data == data) {
        return true;
    }
    m->addr = addr;
    m->data = data;
    if (!kvm_routing_commit(&err)) {
        error_report("%s", err->message);
        return false;
    }
    return true;
}

void kvm_msi_route_release(int virq)
{
    g_autoptr(GError) err = NULL;
    KVMMSIRoute *m = kvm_msi_route(virq);

    if (!m || !m->used) {
        return;
    }
    m->used = false;
    if (!kvm_routing_commit(&err)) {
        error_report("%s", err->message);
    }
}

static bool kvm_irqfd(EventNotifier *e, int virq, bool assign)
{
    struct kvm_irqfd irqfd = {
        .fd = (uint32_t)event_notifier_get_fd(e),
        .gsi = (uint32_t)virq,
        .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };

    if (ioctl(kvm_vm_fd(), KVM_IRQFD, &irqfd) < 0) {
        error_report("KVM_IRQFD(%s gsi %d) failed: %s", assign ? "assign" : "deassign", virq,
                     strerror(errno));
        return false;
    }
    return true;
}

bool kvm_irqfd_add(EventNotifier *e, int virq)
{
    return kvm_irqfd(e, virq, true);
}

void kvm_irqfd_remove(EventNotifier *e, int virq)
{
    kvm_irqfd(e, virq, false);
}
