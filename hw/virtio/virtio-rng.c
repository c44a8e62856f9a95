/*
 * virtio-rng (virtio 1.2, 5.4) on PCI: "-device virtio-rng-pci[,rng=ID]
 * [,max-bytes=N][,period=MS]".  One queue (requestq) of device-writable
 * buffers that the device fills with entropy from its backend (an
 * -object rng-random / rng-builtin; without rng=, a builtin one, as
 * QEMU).  No configuration space, no device feature bits.
 *
 * Rate limit, as QEMU: at most max-bytes bytes per period milliseconds of
 * virtual time; once spent, buffers wait for the next period.  When the
 * backend has nothing to give, the device retries 10 ms later.
 */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio-pci.h"
#include "system/rng.h"
#include "system/main-loop.h"

#define VIRTIO_RNG_QUEUE_SIZE   8
#define VIRTIO_RNG_RETRY_NS     (10 * 1000 * 1000)
#define PCI_CLASS_OTHERS_RNG    PCI_CLASS_OTHERS

typedef struct VirtIORNG {
    VirtIODevice vdev;
    VirtQueue *vq;
    RngBackend *backend;
    bool own_backend;
    uint64_t quota_remaining;
    QEMUTimer *rate_timer;      /* end of the current period */
    QEMUTimer *retry_timer;     /* the backend had nothing */
    /* properties */
    char *rng;
    uint64_t max_bytes;
    uint32_t period_ms;
} VirtIORNG;

typedef struct VirtIORNGPCI {
    VirtIOPCIProxy proxy;
    VirtIORNG rng;
} VirtIORNGPCI;

static void virtio_rng_process(VirtIORNG *s)
{
    VirtQueueElement *elem;
    bool pushed = false;

    if (!virtio_is_ready(&s->vdev)) {
        return;
    }
    if (!timer_pending(s->rate_timer)) {
        s->quota_remaining = s->max_bytes;
        timer_mod(s->rate_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  (int64_t)s->period_ms * 1000000);
    }
    while (s->quota_remaining && (elem = virtqueue_pop(s->vq, sizeof(*elem)))) {
        size_t want = MIN(virtio_iov_size(elem->in_sg, elem->in_num), s->quota_remaining);
        size_t got = 0;

        for (unsigned i = 0; i < elem->in_num && got < want; i++) {
            size_t l = MIN(elem->in_sg[i].iov_len, want - got);
            size_t n = rng_backend_read(s->backend, elem->in_sg[i].iov_base, l);

            got += n;
            if (n < l) {
                break;
            }
        }
        if (!got && want) {
            virtqueue_unpop(s->vq, elem);
            timer_mod(s->retry_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                      VIRTIO_RNG_RETRY_NS);
            break;
        }
        virtqueue_push(s->vq, elem, got);
        s->quota_remaining -= got;
        pushed = true;
        g_free(elem);
    }
    if (pushed) {
        virtio_notify(&s->vdev, s->vq);
    }
}

static void virtio_rng_handle_output(VirtIODevice *vdev, VirtQueue *vq)
{
    (void)vq;
    virtio_rng_process((VirtIORNG *)vdev);
}

static void virtio_rng_timer(void *opaque)
{
    VirtIORNG *s = opaque;

    virtio_rng_process(s);
}

static void virtio_rng_set_status(VirtIODevice *vdev, uint8_t status)
{
    if (status & VIRTIO_CONFIG_S_DRIVER_OK) {
        virtio_rng_process((VirtIORNG *)vdev);
    }
}

static void virtio_rng_reset(VirtIODevice *vdev)
{
    VirtIORNG *s = (VirtIORNG *)vdev;

    timer_del(s->rate_timer);
    timer_del(s->retry_timer);
}

static const VirtIODeviceOps virtio_rng_ops = {
    .set_status = virtio_rng_set_status,
    .reset = virtio_rng_reset,
};

static void virtio_rng_pci_exit(PCIDevice *d)
{
    VirtIORNGPCI *dev = (VirtIORNGPCI *)d;
    VirtIORNG *s = &dev->rng;

    virtio_pci_exit(&dev->proxy);
    if (s->rate_timer) {
        timer_free(s->rate_timer);
        timer_free(s->retry_timer);
        s->rate_timer = s->retry_timer = NULL;
    }
    if (s->own_backend) {
        g_free(s->backend);
        s->backend = NULL;
    }
    virtio_cleanup(&s->vdev);
}

static void virtio_rng_pci_realize(PCIDevice *d, Error **errp)
{
    VirtIORNGPCI *dev = (VirtIORNGPCI *)d;
    VirtIORNG *s = &dev->rng;

    if (s->period_ms == 0) {
        error_setg(errp, "virtio-rng-pci: 'period' parameter expects a positive integer");
        return;
    }
    if (s->max_bytes > INT64_MAX) {
        error_setg(errp, "virtio-rng-pci: 'max-bytes' parameter must be non-negative, and less "
                   "than 2^63");
        return;
    }
    if (s->rng) {
        s->backend = rng_backend_find(s->rng);
        if (!s->backend) {
            error_setg(errp, "virtio-rng-pci: Property 'rng': no rng backend (-object) '%s'",
                       s->rng);
            return;
        }
    } else {
        s->backend = rng_backend_new_builtin();
        s->own_backend = true;
    }
    virtio_init(&s->vdev, "virtio-rng", VIRTIO_ID_RNG, 0, &virtio_rng_ops);
    s->vq = virtio_add_queue(&s->vdev, VIRTIO_RNG_QUEUE_SIZE, virtio_rng_handle_output);
    s->rate_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, virtio_rng_timer, s);
    s->retry_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, virtio_rng_timer, s);
    if (!virtio_pci_realize(&dev->proxy, &s->vdev, PCI_CLASS_OTHERS_RNG, errp)) {
        timer_free(s->rate_timer);
        timer_free(s->retry_timer);
        s->rate_timer = s->retry_timer = NULL;
        if (s->own_backend) {
            g_free(s->backend);
            s->backend = NULL;
        }
        virtio_cleanup(&s->vdev);
    }
}

static void virtio_rng_pci_reset(PCIDevice *d)
{
    virtio_pci_reset(&((VirtIORNGPCI *)d)->proxy);
}

static int virtio_rng_post_load(void *opaque, int version_id)
{
    VirtIORNGPCI *dev = opaque;

    (void)version_id;
    /* A new period starts; buffers the guest left are served now. */
    timer_del(dev->rng.rate_timer);
    virtio_rng_process(&dev->rng);
    return 0;
}

static const VMStateField virtio_rng_pci_fields[] = {
    VMSTATE_VIRTIO_PCI(proxy, VirtIORNGPCI),
    VMSTATE_VIRTIO_DEVICE(rng.vdev, VirtIORNGPCI),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_virtio_rng_pci = {
    .name = "virtio-rng-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = virtio_rng_post_load,
    .fields = virtio_rng_pci_fields,
};

static const Property virtio_rng_pci_props[] = {
    DEFINE_VIRTIO_PCI_PROPERTIES(),
    DEFINE_PROP_STRING("rng", VirtIORNGPCI, rng.rng),
    DEFINE_PROP_UINT64("max-bytes", VirtIORNGPCI, rng.max_bytes, INT64_MAX),
    DEFINE_PROP_UINT32("period", VirtIORNGPCI, rng.period_ms, 1 << 16),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass virtio_rng_pci_class = {
    PCI_DEVICE_CLASS_INIT("virtio-rng-pci", "Virtio RNG", VirtIORNGPCI, virtio_rng_pci_props,
                          .category = DEVICE_CATEGORY_MISC, .vmsd = &vmstate_virtio_rng_pci),
    .vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET,
    .device_id = 0x1005,
    .class_id = PCI_CLASS_OTHERS,
    .realize = virtio_rng_pci_realize,
    .exit = virtio_rng_pci_exit,
    .reset = virtio_rng_pci_reset,
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
};

PCI_DEVICE_CLASS_REGISTER(virtio_rng_pci_class)
