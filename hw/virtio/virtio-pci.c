/*
 * virtio-pci: the PCI transport of virtio devices (virtio 1.2, 4.1).
 *
 * Identity: vendor 0x1af4, subsystem vendor 0x1af4.  A transitional
 * device (legacy interface on, the pc machine's default as QEMU's
 * disable-legacy=auto on conventional PCI) has device ID 0x1000-0x103f,
 * revision 0 and the virtio device ID as subsystem ID; a modern-only one
 * (disable-legacy=on) has 0x1040 + virtio ID, revision 1, subsystem 0x1100.
 *
 * BAR0 (I/O, legacy interface, 4.1.4.8):
 *   0x00 R  host features (bits 31:0)      0x04 RW guest features
 *   0x08 RW queue PFN (ring address >> 12; 0 resets the device, as QEMU)
 *   0x0c R  queue size                     0x0e RW queue select
 *   0x10 W  queue notify                   0x12 RW device status
 *   0x13 R  ISR (read clears, drops INTx)
 *   with MSI-X enabled: 0x14 RW config vector, 0x16 RW queue vector;
 *   device configuration after them (0x18), else at 0x14.
 * BAR1 (memory): MSI-X table and PBA, `vectors` entries (default queues+1).
 * BAR4 (64-bit prefetchable memory, 16 KiB, modern interface):
 *   0x0000 common configuration (4.1.4.3), 0x1000 ISR, 0x2000 device
 *   configuration, 0x3000 notifications (queue n at n * 4).
 * Capabilities: vendor-specific (0x09) entries pointing at those four,
 * plus the PCI configuration access capability (cfg_type 5) whose
 * bar/offset/length select a BAR4 register that its data field reads and
 * writes.
 *
 * Interrupts: MSI-X when enabled (a vector of VIRTIO_NO_VECTOR sends
 * nothing, as QEMU); otherwise INTx, asserted while the ISR is non-zero.
 * Notifications are handled in the vCPU's exit (BQL held), or with
 * ioeventfd=on through one eventfd per queue, registered on both notify
 * addresses (BAR4 queue n * 4, and BAR0 0x10 with data n) from DRIVER_OK
 * to the next reset: under KVM the kernel signals it without an exit to
 * userspace and the main loop runs the queue; under tcg-lite the memory
 * API's dispatch signals it.  The default is on under KVM only (QEMU keeps
 * it on under TCG too); docs/virtio.md.
 */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio-pci.h"
#include "hw/pci/msix.h"
#include "accel/accel.h"
#include "qemu/log.h"

#define VIRTIO_PCI_CAP_LEN              16
#define VIRTIO_PCI_NOTIFY_CAP_LEN       20
#define VIRTIO_PCI_CFG_CAP_LEN          20
#define VIRTIO_PCI_CAP_BAR              4
#define VIRTIO_PCI_CAP_OFFSET           8
#define VIRTIO_PCI_CAP_LENGTH           12
#define VIRTIO_PCI_CAP_DATA             16
#define PCI_SUBDEVICE_ID_QEMU           0x1100

const char *const virtio_pci_onoffauto_names[] = { "auto", "on", "off", NULL };

static uint16_t virtio_pci_legacy_device_id(uint16_t virtio_id)
{
    switch (virtio_id) {
    case VIRTIO_ID_NET:     return 0x1000;
    case VIRTIO_ID_BLOCK:   return 0x1001;
    case 5:                 return 0x1002;      /* balloon */
    case VIRTIO_ID_CONSOLE: return 0x1003;
    case 8:                 return 0x1004;      /* scsi */
    case VIRTIO_ID_RNG:     return 0x1005;
    case 9:                 return 0x1009;      /* 9p */
    default:                return 0;
    }
}

/* ---- interrupts ------------------------------------------------------------- */

static void virtio_pci_notify(void *opaque, uint16_t vector)
{
    VirtIOPCIProxy *proxy = opaque;
    PCIDevice *d = &proxy->pci;

    if (msix_enabled(d)) {
        if (vector != VIRTIO_NO_VECTOR) {
            msix_notify(d, vector);
        }
        return;
    }
    pci_set_irq(d, proxy->vdev->isr != 0);
}

static bool virtio_pci_bus_master(void *opaque)
{
    VirtIOPCIProxy *proxy = opaque;

    return pci_get_word(proxy->pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER;
}

static const VirtIOTransportOps virtio_pci_transport_ops = {
    .notify = virtio_pci_notify,
    .bus_master = virtio_pci_bus_master,
};

static uint8_t virtio_pci_isr_read(VirtIOPCIProxy *proxy)
{
    uint8_t v = proxy->vdev->isr;

    proxy->vdev->isr = 0;
    pci_set_irq(&proxy->pci, 0);
    return v;
}

/* A vector the function has, or VIRTIO_NO_VECTOR (what the driver reads
 * back to learn the assignment failed). */
static uint16_t virtio_pci_check_vector(VirtIOPCIProxy *proxy, uint16_t v)
{
    if (v == VIRTIO_NO_VECTOR || !msix_present(&proxy->pci) || v >= proxy->nvectors) {
        return VIRTIO_NO_VECTOR;
    }
    return v;
}

/* ---- notifications ---------------------------------------------------------- */

static void virtio_pci_queue_notify(VirtIOPCIProxy *proxy, unsigned n)
{
    virtio_queue_notify(proxy->vdev, n);
}

static void virtio_pci_ioeventfd_handler(EventNotifier *e)
{
    VirtIOPCIQueueNotifier *qn = (VirtIOPCIQueueNotifier *)e;

    if (event_notifier_test_and_clear(e)) {
        virtio_queue_notify(qn->proxy->vdev, qn->n);
    }
}

/* ioeventfd=auto: on under KVM (a notification then costs no exit to
 * userspace), off under tcg-lite, where handling the write in the vCPU's
 * own dispatch measured faster (QEMU keeps it on under TCG). */
static bool virtio_pci_ioeventfd_wanted(VirtIOPCIProxy *proxy)
{
    return proxy->ioeventfd == VIRTIO_PCI_ON ||
           (proxy->ioeventfd == VIRTIO_PCI_AUTO && current_accel &&
            !strcmp(current_accel->name, "kvm"));
}

static void virtio_pci_start_ioeventfd(VirtIOPCIProxy *proxy)
{
    VirtIODevice *vdev = proxy->vdev;

    if (!virtio_pci_ioeventfd_wanted(proxy) || proxy->ioeventfd_started) {
        return;
    }
    memory_region_transaction_begin();
    for (unsigned n = 0; n < vdev->nvqs; n++) {
        VirtIOPCIQueueNotifier *qn = &proxy->notifiers[n];
        Error *err = NULL;

        qn->proxy = proxy;
        qn->n = n;
        if (!event_notifier_init(&qn->e, &err)) {
            /* The writes still reach the device the slow way. */
            warn_report("%s: no ioeventfd for queue %u: %s", vdev->name, n, err->message);
            g_error_free(err);
            qn->e.fd = -1;
            continue;
        }
        event_notifier_set_handler(&qn->e, virtio_pci_ioeventfd_handler);
        if (proxy->modern_enabled) {
            memory_region_add_eventfd(&proxy->notify, n * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false,
                                      0, &qn->e);
        }
        if (proxy->legacy_enabled) {
            memory_region_add_eventfd(&proxy->legacy_io, VIRTIO_PCI_QUEUE_NOTIFY, 2, true, n,
                                      &qn->e);
        }
    }
    memory_region_transaction_commit();
    proxy->ioeventfd_started = true;
}

static void virtio_pci_stop_ioeventfd(VirtIOPCIProxy *proxy)
{
    VirtIODevice *vdev = proxy->vdev;

    if (!proxy->ioeventfd_started) {
        return;
    }
    memory_region_transaction_begin();
    for (unsigned n = 0; n < vdev->nvqs; n++) {
        VirtIOPCIQueueNotifier *qn = &proxy->notifiers[n];

        if (qn->e.fd < 0) {
            continue;
        }
        if (proxy->modern_enabled) {
            memory_region_del_eventfd(&proxy->notify, n * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false,
                                      0, &qn->e);
        }
        if (proxy->legacy_enabled) {
            memory_region_del_eventfd(&proxy->legacy_io, VIRTIO_PCI_QUEUE_NOTIFY, 2, true, n,
                                      &qn->e);
        }
    }
    memory_region_transaction_commit();
    for (unsigned n = 0; n < vdev->nvqs; n++) {
        VirtIOPCIQueueNotifier *qn = &proxy->notifiers[n];

        if (qn->e.fd >= 0) {
            /* a kick that raced with the reset is dropped, as on QEMU */
            event_notifier_set_handler(&qn->e, NULL);
            event_notifier_cleanup(&qn->e);
            qn->e.fd = -1;
        }
    }
    proxy->ioeventfd_started = false;
}

/* ---- modern interface (BAR4) ----------------------------------------------- */

static uint64_t virtio_pci_common_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;
    VirtIODevice *vdev = proxy->vdev;
    VirtQueue *vq = vdev->queue_sel < VIRTIO_QUEUE_MAX ? &vdev->vq[vdev->queue_sel] : NULL;
    uint64_t v = 0;

    switch (addr) {
    case VIRTIO_PCI_COMMON_DFSELECT: v = proxy->dfselect; break;
    case VIRTIO_PCI_COMMON_DF:
        v = proxy->dfselect < 2 ? (uint32_t)(vdev->host_features >> (32 * proxy->dfselect)) : 0;
        break;
    case VIRTIO_PCI_COMMON_GFSELECT: v = proxy->gfselect; break;
    case VIRTIO_PCI_COMMON_GF:
        v = proxy->gfselect < 2 ? (uint32_t)(vdev->guest_features >> (32 * proxy->gfselect))
                                : 0;
        break;
    case VIRTIO_PCI_COMMON_MSIX: v = vdev->config_vector; break;
    case VIRTIO_PCI_COMMON_NUMQ: v = vdev->nvqs; break;
    case VIRTIO_PCI_COMMON_STATUS: v = vdev->status; break;
    case VIRTIO_PCI_COMMON_CFGGENERATION: v = vdev->generation; break;
    case VIRTIO_PCI_COMMON_Q_SELECT: v = vdev->queue_sel; break;
    case VIRTIO_PCI_COMMON_Q_SIZE: v = vq && vq->num_max ? vq->num : 0; break;
    case VIRTIO_PCI_COMMON_Q_MSIX: v = vq ? vq->vector : VIRTIO_NO_VECTOR; break;
    case VIRTIO_PCI_COMMON_Q_ENABLE: v = vq ? vq->enabled : 0; break;
    case VIRTIO_PCI_COMMON_Q_NOFF: v = vdev->queue_sel; break;
    case VIRTIO_PCI_COMMON_Q_DESCLO: v = vq ? (uint32_t)vq->desc : 0; break;
    case VIRTIO_PCI_COMMON_Q_DESCHI: v = vq ? vq->desc >> 32 : 0; break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: v = vq ? (uint32_t)vq->avail : 0; break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: v = vq ? vq->avail >> 32 : 0; break;
    case VIRTIO_PCI_COMMON_Q_USEDLO: v = vq ? (uint32_t)vq->used : 0; break;
    case VIRTIO_PCI_COMMON_Q_USEDHI: v = vq ? vq->used >> 32 : 0; break;
    default: v = 0; break;
    }
    return size >= 4 ? (uint32_t)v : v & ((1u << (8 * size)) - 1);
}

static void virtio_pci_common_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;
    VirtIODevice *vdev = proxy->vdev;
    VirtQueue *vq = vdev->queue_sel < vdev->nvqs ? &vdev->vq[vdev->queue_sel] : NULL;

    (void)size;
    switch (addr) {
    case VIRTIO_PCI_COMMON_DFSELECT: proxy->dfselect = val; break;
    case VIRTIO_PCI_COMMON_GFSELECT: proxy->gfselect = val; break;
    case VIRTIO_PCI_COMMON_GF:
        if (proxy->gfselect < 2 && !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
            unsigned sh = 32 * proxy->gfselect;
            vdev->guest_features = (vdev->guest_features & ~(0xffffffffull << sh)) |
                                   ((uint64_t)(uint32_t)val << sh);
        }
        break;
    case VIRTIO_PCI_COMMON_MSIX:
        vdev->config_vector = virtio_pci_check_vector(proxy, val);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        vdev->legacy = false;
        virtio_set_status(vdev, val & 0xff);
        if (vdev->status == 0) {
            virtio_pci_reset(proxy);
        } else if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
            virtio_pci_start_ioeventfd(proxy);
        }
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        vdev->queue_sel = val;
        break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (vq && vq->num_max && val && val <= vq->num_max && !vq->enabled) {
            vq->num = val;
        }
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        if (vq) {
            vq->vector = virtio_pci_check_vector(proxy, val);
        }
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (vq && vq->num_max && val == 1) {
            vq->enabled = true;
        }
        break;
#define SET_LO(f) (f) = ((f) & ~0xffffffffull) | (uint32_t)val
#define SET_HI(f) (f) = ((f) & 0xffffffffull) | ((uint64_t)(uint32_t)val << 32)
    case VIRTIO_PCI_COMMON_Q_DESCLO:  if (vq) { SET_LO(vq->desc); } break;
    case VIRTIO_PCI_COMMON_Q_DESCHI:  if (vq) { SET_HI(vq->desc); } break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: if (vq) { SET_LO(vq->avail); } break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: if (vq) { SET_HI(vq->avail); } break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:  if (vq) { SET_LO(vq->used); } break;
    case VIRTIO_PCI_COMMON_Q_USEDHI:  if (vq) { SET_HI(vq->used); } break;
#undef SET_LO
#undef SET_HI
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write of 0x%" PRIx64 " to common config 0x%"
                      PRIx64 " ignored\n", vdev->name, val, addr);
        break;
    }
}

static const MemoryRegionOps virtio_pci_common_ops = {
    .read = virtio_pci_common_read,
    .write = virtio_pci_common_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static uint64_t virtio_pci_isr_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)size;
    return addr == 0 ? virtio_pci_isr_read(opaque) : 0;
}

static void virtio_pci_ignore_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque; (void)addr; (void)val; (void)size;
}

static const MemoryRegionOps virtio_pci_isr_ops = {
    .read = virtio_pci_isr_mmio_read,
    .write = virtio_pci_ignore_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static uint64_t virtio_pci_device_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;

    return virtio_config_read(proxy->vdev, addr, size);
}

static void virtio_pci_device_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;

    virtio_config_write(proxy->vdev, addr, val, size);
}

static const MemoryRegionOps virtio_pci_device_ops = {
    .read = virtio_pci_device_read,
    .write = virtio_pci_device_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static uint64_t virtio_pci_notify_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque; (void)addr; (void)size;
    return 0;
}

static void virtio_pci_notify_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;

    (void)val; (void)size;
    virtio_pci_queue_notify(proxy, addr / VIRTIO_PCI_NOTIFY_MULTIPLIER);
}

static const MemoryRegionOps virtio_pci_notify_ops = {
    .read = virtio_pci_notify_read,
    .write = virtio_pci_notify_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* BAR4 access from the PCI configuration access capability. */
static uint32_t virtio_pci_modern_access(VirtIOPCIProxy *proxy, uint32_t off, unsigned len,
                                         bool write, uint32_t val)
{
    static const struct {
        uint32_t base;
        const MemoryRegionOps *ops;
    } map[] = {
        { VIRTIO_PCI_COMMON_OFF, &virtio_pci_common_ops },
        { VIRTIO_PCI_ISR_OFF, &virtio_pci_isr_ops },
        { VIRTIO_PCI_DEVICE_OFF, &virtio_pci_device_ops },
        { VIRTIO_PCI_NOTIFY_OFF, &virtio_pci_notify_ops },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
        if (off >= map[i].base && off - map[i].base < VIRTIO_PCI_REGION_SIZE &&
            off - map[i].base + len <= VIRTIO_PCI_REGION_SIZE) {
            if (write) {
                map[i].ops->write(proxy, off - map[i].base, val, len);
                return 0;
            }
            return map[i].ops->read(proxy, off - map[i].base, len);
        }
    }
    return 0;
}

/* ---- legacy interface (BAR0) ------------------------------------------------ */

static uint64_t virtio_pci_legacy_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;
    VirtIODevice *vdev = proxy->vdev;
    bool msix = msix_enabled(&proxy->pci);
    uint32_t cfg = VIRTIO_PCI_CONFIG_OFF(msix);
    VirtQueue *vq = vdev->queue_sel < VIRTIO_QUEUE_MAX ? &vdev->vq[vdev->queue_sel] : NULL;
    uint64_t v;

    if (addr >= cfg) {
        return virtio_config_read(vdev, addr - cfg, size);
    }
    switch (addr) {
    case VIRTIO_PCI_HOST_FEATURES:
        v = (uint32_t)vdev->host_features | (1u << VIRTIO_F_BAD_FEATURE);
        break;
    case VIRTIO_PCI_GUEST_FEATURES: v = (uint32_t)vdev->guest_features; break;
    case VIRTIO_PCI_QUEUE_PFN: v = vq ? virtio_queue_get_legacy_pfn(vq) : 0; break;
    case VIRTIO_PCI_QUEUE_NUM: v = vq ? vq->num_max : 0; break;
    case VIRTIO_PCI_QUEUE_SEL: v = vdev->queue_sel; break;
    case VIRTIO_PCI_STATUS: v = vdev->status; break;
    case VIRTIO_PCI_ISR: v = virtio_pci_isr_read(proxy); break;
    case VIRTIO_MSI_CONFIG_VECTOR: v = vdev->config_vector; break;
    case VIRTIO_MSI_QUEUE_VECTOR: v = vq ? vq->vector : VIRTIO_NO_VECTOR; break;
    default: v = 0; break;
    }
    return size >= 4 ? (uint32_t)v : v & ((1u << (8 * size)) - 1);
}

static void virtio_pci_legacy_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtIOPCIProxy *proxy = opaque;
    VirtIODevice *vdev = proxy->vdev;
    bool msix = msix_enabled(&proxy->pci);
    uint32_t cfg = VIRTIO_PCI_CONFIG_OFF(msix);
    VirtQueue *vq = vdev->queue_sel < vdev->nvqs ? &vdev->vq[vdev->queue_sel] : NULL;

    if (addr >= cfg) {
        virtio_config_write(vdev, addr - cfg, val, size);
        return;
    }
    switch (addr) {
    case VIRTIO_PCI_GUEST_FEATURES:
        vdev->legacy = true;
        if (val & (1u << VIRTIO_F_BAD_FEATURE)) {
            /* A driver that acks everything understands nothing. */
            val = 0;
        }
        virtio_set_features_legacy(vdev, val);
        break;
    case VIRTIO_PCI_QUEUE_PFN:
        if (!val) {
            virtio_pci_reset(proxy);
        } else if (vq) {
            virtio_queue_set_legacy_pfn(vq, val);
        }
        break;
    case VIRTIO_PCI_QUEUE_SEL:
        vdev->queue_sel = val;
        break;
    case VIRTIO_PCI_QUEUE_NOTIFY:
        virtio_pci_queue_notify(proxy, val & 0xffff);
        break;
    case VIRTIO_PCI_STATUS:
        vdev->legacy = true;
        /* Old Linux drivers forget bus mastering; QEMU turns it on for them. */
        if (val & VIRTIO_CONFIG_S_DRIVER_OK) {
            pci_default_write_config(&proxy->pci, PCI_COMMAND,
                                     pci_get_word(proxy->pci.config + PCI_COMMAND) |
                                     PCI_COMMAND_MASTER, 2);
        }
        virtio_set_status(vdev, val & 0xff);
        if (vdev->status == 0) {
            virtio_pci_reset(proxy);
        } else if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
            virtio_pci_start_ioeventfd(proxy);
        }
        break;
    case VIRTIO_MSI_CONFIG_VECTOR:
        vdev->config_vector = virtio_pci_check_vector(proxy, val);
        break;
    case VIRTIO_MSI_QUEUE_VECTOR:
        if (vq) {
            vq->vector = virtio_pci_check_vector(proxy, val);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: legacy write of 0x%" PRIx64 " to 0x%" PRIx64
                      " ignored\n", vdev->name, val, addr);
        break;
    }
}

static const MemoryRegionOps virtio_pci_legacy_ops = {
    .read = virtio_pci_legacy_read,
    .write = virtio_pci_legacy_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- configuration space ---------------------------------------------------- */

static bool virtio_pci_cfg_data_access(VirtIOPCIProxy *proxy, uint32_t addr, int len,
                                       uint32_t *off, unsigned *n)
{
    const uint8_t *c = proxy->pci.config + proxy->cfg_cap;
    uint32_t length;

    if (!proxy->cfg_cap || addr < proxy->cfg_cap + VIRTIO_PCI_CAP_DATA ||
        addr + len > proxy->cfg_cap + VIRTIO_PCI_CAP_DATA + 4u) {
        return false;
    }
    length = pci_get_long(c + VIRTIO_PCI_CAP_LENGTH);
    *off = pci_get_long(c + VIRTIO_PCI_CAP_OFFSET);
    /* As QEMU: only BAR4, aligned accesses of 1, 2 or 4 bytes. */
    if (c[VIRTIO_PCI_CAP_BAR] != VIRTIO_PCI_MODERN_BAR ||
        (length != 1 && length != 2 && length != 4) || (*off & (length - 1)) ||
        *off >= VIRTIO_PCI_MODERN_BAR_SIZE) {
        return false;
    }
    *n = length;
    return true;
}

uint32_t virtio_pci_config_read(PCIDevice *d, uint32_t addr, int len)
{
    VirtIOPCIProxy *proxy = (VirtIOPCIProxy *)d;
    uint32_t off;
    unsigned n;

    if (virtio_pci_cfg_data_access(proxy, addr, len, &off, &n)) {
        uint32_t v = virtio_pci_modern_access(proxy, off, n, false, 0);
        pci_set_long(d->config + proxy->cfg_cap + VIRTIO_PCI_CAP_DATA, v);
    }
    return pci_default_read_config(d, addr, len);
}

void virtio_pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    VirtIOPCIProxy *proxy = (VirtIOPCIProxy *)d;
    uint32_t off;
    unsigned n;

    pci_default_write_config(d, addr, val, len);
    if (virtio_pci_cfg_data_access(proxy, addr, len, &off, &n)) {
        uint32_t v = pci_get_long(d->config + proxy->cfg_cap + VIRTIO_PCI_CAP_DATA);
        virtio_pci_modern_access(proxy, off, n, true, n == 4 ? v : v & ((1u << (8 * n)) - 1));
    }
}

static bool virtio_pci_add_cap(VirtIOPCIProxy *proxy, uint8_t type, uint8_t len, uint32_t off,
                               uint32_t length, uint8_t *where, Error **errp)
{
    PCIDevice *d = &proxy->pci;
    uint8_t c = pci_add_capability(d, PCI_CAP_ID_VNDR, 0, len, errp);

    if (!c) {
        return false;
    }
    d->config[c + 2] = len;
    d->config[c + 3] = type;
    d->config[c + VIRTIO_PCI_CAP_BAR] = type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_PCI_MODERN_BAR;
    pci_set_long(d->config + c + VIRTIO_PCI_CAP_OFFSET, off);
    pci_set_long(d->config + c + VIRTIO_PCI_CAP_LENGTH, length);
    if (where) {
        *where = c;
    }
    return true;
}

/* ---- life cycle ------------------------------------------------------------- */

static uint64_t pow2ceil(uint64_t v)
{
    uint64_t p = 1;

    while (p < v) {
        p <<= 1;
    }
    return p;
}

bool virtio_pci_realize(VirtIOPCIProxy *proxy, VirtIODevice *vdev, uint16_t class_code,
                        Error **errp)
{
    PCIDevice *d = &proxy->pci;
    const char *name = d->qdev.klass->name;
    uint8_t c;

    proxy->vdev = vdev;
    proxy->class_code = class_code;
    vdev->transport = &virtio_pci_transport_ops;
    vdev->transport_opaque = proxy;
    proxy->legacy_enabled = proxy->disable_legacy != VIRTIO_PCI_ON;
    proxy->modern_enabled = !proxy->disable_modern;
    if (!proxy->legacy_enabled && !proxy->modern_enabled) {
        error_setg(errp, "%s: disable-legacy=on and disable-modern=on leave no interface", name);
        return false;
    }
    vdev->host_features |= (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                           (1ull << VIRTIO_RING_F_EVENT_IDX) |
                           (1ull << VIRTIO_F_NOTIFY_ON_EMPTY) | (1ull << VIRTIO_F_ANY_LAYOUT);
    if (proxy->modern_enabled) {
        vdev->host_features |= 1ull << VIRTIO_F_VERSION_1;
        if (proxy->packed) {
            /* off by default, as QEMU's "packed" */
            vdev->host_features |= 1ull << VIRTIO_F_RING_PACKED;
        }
    }
    vdev->legacy = !proxy->modern_enabled;

    pci_set_word(d->config + PCI_VENDOR_ID, PCI_VENDOR_ID_REDHAT_QUMRANET);
    pci_set_word(d->config + PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID_REDHAT_QUMRANET);
    if (proxy->legacy_enabled) {
        pci_set_word(d->config + PCI_DEVICE_ID, virtio_pci_legacy_device_id(vdev->device_id));
        pci_set_word(d->config + PCI_SUBSYSTEM_ID, vdev->device_id);
        d->config[PCI_REVISION_ID] = 0;
    } else {
        pci_set_word(d->config + PCI_DEVICE_ID, PCI_DEVICE_ID_VIRTIO_MODERN_BASE + vdev->device_id);
        pci_set_word(d->config + PCI_SUBSYSTEM_ID, PCI_SUBDEVICE_ID_QEMU);
        d->config[PCI_REVISION_ID] = 1;
    }
    d->config[PCI_CLASS_PROG] = 0;
    pci_set_word(d->config + PCI_CLASS_DEVICE, class_code);
    d->config[PCI_INTERRUPT_PIN] = 1;

    if (proxy->nvectors == UINT32_MAX) {
        proxy->nvectors = vdev->nvqs + 1;
    }
    if (proxy->nvectors > PCI_MSIX_MAX_VECTORS) {
        error_setg(errp, "%s: Property 'vectors': %u is more than %u", name, proxy->nvectors,
                   PCI_MSIX_MAX_VECTORS);
        return false;
    }
    if (proxy->nvectors && !msix_init_exclusive_bar(d, proxy->nvectors, VIRTIO_PCI_MSIX_BAR,
                                                    errp)) {
        return false;
    }
    /* Under KVM every vector gets an irqfd: a completion is one eventfd
     * write that KVM turns into the interrupt (msix_notify() takes it
     * while the vector is live), as QEMU's guest notifiers. */
    for (unsigned v = 0; proxy->nvectors && pci_irqfd_available() && v < proxy->nvectors; v++) {
        if (!msix_get_irqfd(d, v, errp)) {
            msix_uninit(d);
            return false;
        }
    }
    if (proxy->legacy_enabled) {
        memory_region_init_io(&proxy->legacy_io, &virtio_pci_legacy_ops, proxy, "virtio-pci-legacy",
                              pow2ceil(VIRTIO_PCI_CONFIG_OFF(1) + vdev->config_len));
        pci_register_bar(d, 0, PCI_BASE_ADDRESS_SPACE_IO, &proxy->legacy_io);
    }
    if (proxy->modern_enabled) {
        memory_region_init(&proxy->modern_bar, "virtio-pci", VIRTIO_PCI_MODERN_BAR_SIZE);
        memory_region_init_io(&proxy->common, &virtio_pci_common_ops, proxy, "virtio-pci-common",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_init_io(&proxy->isr, &virtio_pci_isr_ops, proxy, "virtio-pci-isr",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_init_io(&proxy->device, &virtio_pci_device_ops, proxy, "virtio-pci-device",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_init_io(&proxy->notify, &virtio_pci_notify_ops, proxy, "virtio-pci-notify",
                              VIRTIO_PCI_REGION_SIZE);
        memory_region_add_subregion(&proxy->modern_bar, VIRTIO_PCI_COMMON_OFF, &proxy->common);
        memory_region_add_subregion(&proxy->modern_bar, VIRTIO_PCI_ISR_OFF, &proxy->isr);
        memory_region_add_subregion(&proxy->modern_bar, VIRTIO_PCI_DEVICE_OFF, &proxy->device);
        memory_region_add_subregion(&proxy->modern_bar, VIRTIO_PCI_NOTIFY_OFF, &proxy->notify);
        pci_register_bar(d, VIRTIO_PCI_MODERN_BAR,
                         PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
                         &proxy->modern_bar);
        if (!virtio_pci_add_cap(proxy, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_LEN,
                                VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_REGION_SIZE, NULL, errp) ||
            !virtio_pci_add_cap(proxy, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_LEN,
                                VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_REGION_SIZE, NULL, errp) ||
            (vdev->config_len &&
             !virtio_pci_add_cap(proxy, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_LEN,
                                 VIRTIO_PCI_DEVICE_OFF, VIRTIO_PCI_REGION_SIZE, NULL, errp)) ||
            !virtio_pci_add_cap(proxy, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_CAP_LEN,
                                VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_REGION_SIZE, &c, errp)) {
            virtio_pci_exit(proxy);
            return false;
        }
        pci_set_long(d->config + c + VIRTIO_PCI_CAP_DATA, VIRTIO_PCI_NOTIFY_MULTIPLIER);
        if (!virtio_pci_add_cap(proxy, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_LEN, 0, 0,
                                &proxy->cfg_cap, errp)) {
            virtio_pci_exit(proxy);
            return false;
        }
        /* bar, offset, length and data are the driver's to write. */
        d->wmask[proxy->cfg_cap + VIRTIO_PCI_CAP_BAR] = 0xff;
        memset(d->wmask + proxy->cfg_cap + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
    }
    return true;
}

void virtio_pci_exit(VirtIOPCIProxy *proxy)
{
    PCIDevice *d = &proxy->pci;

    virtio_pci_stop_ioeventfd(proxy);
    msix_uninit(d);
    if (proxy->legacy_enabled) {
        memory_region_destroy(&proxy->legacy_io);
    }
    if (proxy->modern_enabled && proxy->modern_bar.size) {
        memory_region_del_subregion(&proxy->modern_bar, &proxy->common);
        memory_region_del_subregion(&proxy->modern_bar, &proxy->isr);
        memory_region_del_subregion(&proxy->modern_bar, &proxy->device);
        memory_region_del_subregion(&proxy->modern_bar, &proxy->notify);
        memory_region_destroy(&proxy->common);
        memory_region_destroy(&proxy->isr);
        memory_region_destroy(&proxy->device);
        memory_region_destroy(&proxy->notify);
        memory_region_destroy(&proxy->modern_bar);
    }
}

void virtio_pci_reset(VirtIOPCIProxy *proxy)
{
    virtio_pci_stop_ioeventfd(proxy);
    virtio_reset(proxy->vdev);
    proxy->vdev->legacy = !proxy->modern_enabled;
    proxy->dfselect = proxy->gfselect = 0;
    pci_set_irq(&proxy->pci, 0);
}

static const VMStateField virtio_pci_fields[] = {
    VMSTATE_PCI_DEVICE(pci, VirtIOPCIProxy),
    VMSTATE_UINT32(dfselect, VirtIOPCIProxy),
    VMSTATE_UINT32(gfselect, VirtIOPCIProxy),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription vmstate_virtio_pci = {
    .name = "virtio-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = virtio_pci_fields,
};
