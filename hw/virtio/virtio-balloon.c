/*
 * virtio-balloon (virtio 1.2, 5.5) on PCI:
 *
 *   -device virtio-balloon-pci[,id=ID][,deflate-on-oom=on|off]
 *           [,free-page-reporting=on|off][,guest-stats-polling-interval=SECONDS]
 *
 * Queues, in QEMU's order:
 *   0  inflateq    le32 PFNs (4 KiB frames) the guest gives up
 *   1  deflateq    le32 PFNs it takes back
 *   2  statsq      { le16 tag; le64 val; } records (STATS_VQ)
 *   3  reportingq  device-writable ranges of free pages (free-page-reporting=on)
 *
 * Configuration space:
 *   0x00  le32 num_pages   the pages the device asks for (read only)
 *   0x04  le32 actual      the pages the driver says it gave
 *
 * Features offered: STATS_VQ always, DEFLATE_ON_OOM and REPORTING when
 * their properties are on.  PAGE_POISON and FREE_PAGE_HINT are not offered
 * (QEMU offers PAGE_POISON by default; a driver works without it).
 *
 * The host side: an inflated page is dropped with madvise(MADV_DONTNEED)
 * on the host mapping of guest RAM, so it reads back as zeros and its
 * memory returns to the host; only frames inside the machine's RAM block
 * are touched (ROM, MMIO, holes and frames beyond RAM are ignored, as
 * QEMU ignores what is not RAM).  Deflate needs nothing: the page comes
 * back on the guest's next touch.  A reported free range is dropped the
 * same way.  If the host page is bigger than 4 KiB nothing is dropped.
 *
 * The target: QMP "balloon" (monitor/balloon.c) sets num_pages to
 * (ram_size - target) / 4 KiB with a configuration interrupt; when the
 * driver writes a new actual, BALLOON_CHANGE {"actual": ram_size -
 * actual * 4 KiB} goes out, and query-balloon returns the same number.
 *
 * Statistics, as QEMU: the driver leaves one buffer in statsq; the device
 * parses it and keeps it (in the ring, not consumed); every
 * guest-stats-polling-interval seconds (0: never, the default) it hands
 * the buffer back so that the driver refills it.  The last values are kept
 * for qom-get of "guest-stats" ({"stats": {...}, "last-update": seconds};
 * monitor/balloon.c hooks it into qom-get).  The interval is set with the
 * property only: kvmpc has no qom-set.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-balloon.h"
#include "hw/machine.h"
#include "qemu/log.h"
#include "system/balloon.h"
#include "system/main-loop.h"

#define BALLOON_QUEUE_SIZE      128
#define BALLOON_PAGE_SIZE       (1u << VIRTIO_BALLOON_PFN_SHIFT)
#define BALLOON_STAT_SIZE       10
#define BALLOON_STATS_MAX       256     /* records read from one stats buffer */

typedef struct VirtIOBalloon {
    VirtIODevice vdev;
    VirtQueue *ivq, *dvq, *svq, *rvq;
    uint32_t num_pages;         /* requested */
    uint32_t actual;            /* the driver's word */
    uint64_t stats[VIRTIO_BALLOON_S_NR];
    int64_t stats_last_update;  /* wall clock seconds, 0: never */
    uint64_t dropped_pages;     /* inflated pages given back to the host */
    QEMUTimer *stats_timer;
    bool registered;
    /* properties */
    bool deflate_on_oom;
    bool free_page_reporting;
    uint32_t stats_interval;    /* seconds */
} VirtIOBalloon;

typedef struct VirtIOBalloonPCI {
    VirtIOPCIProxy proxy;
    VirtIOBalloon balloon;
} VirtIOBalloonPCI;

static uint64_t balloon_ram_size(void)
{
    return current_machine ? current_machine->ram_size : 0;
}

/* Drops [addr, addr + len) of guest memory if all of it is the machine's
 * RAM and the host pages line up; anything else is left alone. */
static bool balloon_discard(uint64_t addr, uint64_t len)
{
    MemoryRegion *ram = current_machine ? current_machine->ram : NULL;
    long host_page = sysconf(_SC_PAGESIZE);
    uint8_t *p;

    if (!ram || !len || host_page <= 0 || host_page > (long)BALLOON_PAGE_SIZE) {
        return false;
    }
    p = address_space_get_ram_ptr(&address_space_memory, addr, len, true);
    if (!p || p < (uint8_t *)memory_region_get_ram_ptr(ram) ||
        p + len > (uint8_t *)memory_region_get_ram_ptr(ram) + memory_region_size(ram) ||
        ((uintptr_t)p & (host_page - 1)) || (len & (host_page - 1))) {
        return false;
    }
    if (madvise(p, len, MADV_DONTNEED) < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-balloon: madvise at 0x%" PRIx64 ": %s\n",
                      addr, g_strerror(errno));
        return false;
    }
    return true;
}

static void balloon_handle_pfns(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBalloon *s = (VirtIOBalloon *)vdev;
    VirtQueueElement *elem;
    bool pushed = false;

    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        uint8_t pfn[4];
        unsigned have = 0;

        /* le32 PFNs, possibly split across buffers; a partial one at the
         * end is ignored.  One pass over the buffers. */
        for (unsigned i = 0; vq == s->ivq && i < elem->out_num; i++) {
            const uint8_t *b = elem->out_sg[i].iov_base;

            for (size_t k = 0; k < elem->out_sg[i].iov_len; k++) {
                pfn[have++] = b[k];
                if (have == 4) {
                    uint64_t addr = (uint64_t)(pfn[0] | pfn[1] << 8 | pfn[2] << 16 |
                                               (uint32_t)pfn[3] << 24)
                                    << VIRTIO_BALLOON_PFN_SHIFT;

                    have = 0;
                    if (balloon_discard(addr, BALLOON_PAGE_SIZE)) {
                        s->dropped_pages++;
                    }
                }
            }
        }
        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

static void balloon_handle_report(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement *elem;
    bool pushed = false;

    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        for (unsigned i = 0; i < elem->in_num; i++) {
            balloon_discard(elem->in_addr[i], elem->in_sg[i].iov_len);
        }
        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

static void balloon_stats_arm(VirtIOBalloon *s)
{
    if (s->stats_interval && s->stats_timer) {
        timer_mod(s->stats_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  (int64_t)s->stats_interval * 1000000000LL);
    } else if (s->stats_timer) {
        timer_del(s->stats_timer);
    }
}

/* The driver gave (back) its stats buffer: read it, keep it in the ring. */
static void balloon_handle_stats(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBalloon *s = (VirtIOBalloon *)vdev;
    VirtQueueElement *elem = virtqueue_pop(vq, sizeof(*elem));
    uint8_t rec[BALLOON_STAT_SIZE];
    size_t off = 0;

    if (!elem) {
        return;
    }
    /* At most BALLOON_STATS_MAX records are read (Linux sends 10). */
    while (off < BALLOON_STATS_MAX * sizeof(rec) &&
           iov_copy_to_buf(elem->out_sg, elem->out_num, off, rec, sizeof(rec)) == sizeof(rec)) {
        uint16_t tag = rec[0] | rec[1] << 8;
        uint64_t val = 0;

        for (int i = 7; i >= 0; i--) {
            val = val << 8 | rec[2 + i];
        }
        if (tag < VIRTIO_BALLOON_S_NR) {
            s->stats[tag] = val;
        }
        off += sizeof(rec);
    }
    s->stats_last_update = time(NULL);
    virtqueue_unpop(vq, elem);
    if (s->stats_timer && !timer_pending(s->stats_timer)) {
        balloon_stats_arm(s);
    }
}

/* Poll: hand the buffer back; the driver refills it and adds it again. */
static void balloon_stats_poll(void *opaque)
{
    VirtIOBalloon *s = opaque;
    VirtQueueElement *elem;

    if (!virtio_is_ready(&s->vdev)) {
        return;
    }
    elem = virtqueue_pop(s->svq, sizeof(*elem));
    if (elem) {
        virtqueue_push(s->svq, elem, 0);
        g_free(elem);
        virtio_notify(&s->vdev, s->svq);
    }
    balloon_stats_arm(s);
}

static void balloon_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOBalloon *s = (VirtIOBalloon *)vdev;
    uint32_t np = htole32(s->num_pages), act = htole32(s->actual);

    memcpy(config + VIRTIO_BALLOON_CFG_NUM_PAGES, &np, 4);
    memcpy(config + VIRTIO_BALLOON_CFG_ACTUAL, &act, 4);
}

static uint64_t balloon_actual_bytes(VirtIOBalloon *s)
{
    uint64_t held = (uint64_t)s->actual << VIRTIO_BALLOON_PFN_SHIFT;
    uint64_t ram = balloon_ram_size();

    return held < ram ? ram - held : 0;
}

static void balloon_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOBalloon *s = (VirtIOBalloon *)vdev;
    uint32_t act;

    memcpy(&act, config + VIRTIO_BALLOON_CFG_ACTUAL, 4);
    act = le32toh(act);
    if (act != s->actual) {
        s->actual = act;
        qemu_balloon_changed(balloon_actual_bytes(s));
    }
}

static void balloon_set_status(VirtIODevice *vdev, uint8_t status)
{
    VirtIOBalloon *s = (VirtIOBalloon *)vdev;

    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && s->stats_interval && s->stats_timer &&
        !timer_pending(s->stats_timer)) {
        balloon_stats_arm(s);
    }
}

static void balloon_reset(VirtIODevice *vdev)
{
    VirtIOBalloon *s = (VirtIOBalloon *)vdev;

    /* actual and the target stay, as in QEMU: the next driver writes its
     * own actual and inflates to the target again. */
    if (s->stats_timer) {
        timer_del(s->stats_timer);
    }
}

static const VirtIODeviceOps balloon_ops = {
    .get_config = balloon_get_config,
    .set_config = balloon_set_config,
    .set_status = balloon_set_status,
    .reset = balloon_reset,
};

/* ---- the monitor's view ------------------------------------------------------ */

static void balloon_set_target(void *opaque, uint64_t target)
{
    VirtIOBalloon *s = opaque;
    uint64_t ram = balloon_ram_size();

    target = MIN(target, ram);
    s->num_pages = MIN((ram - target) >> VIRTIO_BALLOON_PFN_SHIFT, (uint64_t)UINT32_MAX);
    virtio_notify_config(&s->vdev);
}

static uint64_t balloon_get_actual(void *opaque)
{
    return balloon_actual_bytes(opaque);
}

/* QEMU's names for the statistics tags (5.5.6.3). */
static const char *const balloon_stat_names[VIRTIO_BALLOON_S_NR] = {
    "stat-swap-in", "stat-swap-out", "stat-major-faults", "stat-minor-faults",
    "stat-free-memory", "stat-total-memory", "stat-available-memory", "stat-disk-caches",
    "stat-htlb-pgalloc", "stat-htlb-pgfail",
};

static JsonNode *balloon_get_stats(void *opaque, Error **errp)
{
    VirtIOBalloon *s = opaque;
    JsonObject *o, *st;
    JsonNode *n;

    if (!s->stats_last_update) {
        error_setg(errp, "guest hasn't updated any stats yet");
        return NULL;
    }
    st = json_object_new();
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
        /* Never reported: -1 (QEMU prints it as the uint64 2^64-1). */
        json_object_set_int_member(st, balloon_stat_names[i], (int64_t)s->stats[i]);
    }
    o = json_object_new();
    json_object_set_object_member(o, "stats", st);
    json_object_set_int_member(o, "last-update", s->stats_last_update);
    n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

static const BalloonOps balloon_monitor_ops = {
    .set_target = balloon_set_target,
    .get_actual = balloon_get_actual,
    .get_stats = balloon_get_stats,
};

/* ---- PCI ------------------------------------------------------------------------ */

static void balloon_pci_realize(PCIDevice *d, Error **errp)
{
    VirtIOBalloonPCI *dev = (VirtIOBalloonPCI *)d;
    VirtIOBalloon *s = &dev->balloon;

    if (!qemu_add_balloon_handler(&balloon_monitor_ops, s, &d->qdev, errp)) {
        return;
    }
    s->registered = true;
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
        s->stats[i] = UINT64_MAX;       /* "not reported", as QEMU's -1 */
    }
    virtio_init(&s->vdev, "virtio-balloon", VIRTIO_ID_BALLOON, VIRTIO_BALLOON_CFG_SIZE,
                &balloon_ops);
    s->vdev.host_features = 1ull << VIRTIO_BALLOON_F_STATS_VQ;
    if (s->deflate_on_oom) {
        s->vdev.host_features |= 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
    }
    if (s->free_page_reporting) {
        s->vdev.host_features |= 1ull << VIRTIO_BALLOON_F_REPORTING;
    }
    s->ivq = virtio_add_queue(&s->vdev, BALLOON_QUEUE_SIZE, balloon_handle_pfns);
    s->dvq = virtio_add_queue(&s->vdev, BALLOON_QUEUE_SIZE, balloon_handle_pfns);
    s->svq = virtio_add_queue(&s->vdev, BALLOON_QUEUE_SIZE, balloon_handle_stats);
    if (s->free_page_reporting) {
        s->rvq = virtio_add_queue(&s->vdev, 32, balloon_handle_report);
    }
    s->stats_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, balloon_stats_poll, s);
    if (!virtio_pci_realize(&dev->proxy, &s->vdev, PCI_CLASS_OTHERS, errp)) {
        timer_free(s->stats_timer);
        s->stats_timer = NULL;
        virtio_cleanup(&s->vdev);
        qemu_remove_balloon_handler(s);
        s->registered = false;
    }
}

static void balloon_pci_exit(PCIDevice *d)
{
    VirtIOBalloonPCI *dev = (VirtIOBalloonPCI *)d;
    VirtIOBalloon *s = &dev->balloon;

    virtio_pci_exit(&dev->proxy);
    if (s->stats_timer) {
        timer_free(s->stats_timer);
        s->stats_timer = NULL;
    }
    if (s->registered) {
        qemu_remove_balloon_handler(s);
        s->registered = false;
    }
    virtio_cleanup(&s->vdev);
}

static void balloon_pci_reset(PCIDevice *d)
{
    virtio_pci_reset(&((VirtIOBalloonPCI *)d)->proxy);
}

static int balloon_post_load(void *opaque, int version_id)
{
    VirtIOBalloonPCI *dev = opaque;

    (void)version_id;
    if (virtio_is_ready(&dev->balloon.vdev)) {
        balloon_stats_arm(&dev->balloon);
    }
    return 0;
}

static const VMStateField balloon_pci_fields[] = {
    VMSTATE_VIRTIO_PCI(proxy, VirtIOBalloonPCI),
    VMSTATE_VIRTIO_DEVICE(balloon.vdev, VirtIOBalloonPCI),
    VMSTATE_UINT32(balloon.num_pages, VirtIOBalloonPCI),
    VMSTATE_UINT32(balloon.actual, VirtIOBalloonPCI),
    VMSTATE_UINT64_ARRAY(balloon.stats, VirtIOBalloonPCI, VIRTIO_BALLOON_S_NR),
    VMSTATE_INT64(balloon.stats_last_update, VirtIOBalloonPCI),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_balloon_pci = {
    .name = "virtio-balloon-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = balloon_post_load,
    .fields = balloon_pci_fields,
};

static const Property balloon_pci_props[] = {
    DEFINE_VIRTIO_PCI_PROPERTIES(),
    DEFINE_PROP_BOOL("deflate-on-oom", VirtIOBalloonPCI, balloon.deflate_on_oom, false),
    DEFINE_PROP_BOOL("free-page-reporting", VirtIOBalloonPCI, balloon.free_page_reporting,
                     false),
    DEFINE_PROP_UINT32("guest-stats-polling-interval", VirtIOBalloonPCI,
                       balloon.stats_interval, 0),
    DEFINE_PROP_END_OF_LIST(),
};

#define BALLOON_PCI_CLASS(n)                                                                \
    {                                                                                       \
        PCI_DEVICE_CLASS_INIT(n, "Virtio balloon", VirtIOBalloonPCI, balloon_pci_props,    \
                              .category = DEVICE_CATEGORY_MISC,                             \
                              .vmsd = &vmstate_balloon_pci),                                \
        .vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET,                                         \
        .device_id = 0x1002,                                                                \
        .class_id = PCI_CLASS_OTHERS,                                                       \
        .realize = balloon_pci_realize,                                                     \
        .exit = balloon_pci_exit,                                                           \
        .reset = balloon_pci_reset,                                                         \
        .config_read = virtio_pci_config_read,                                              \
        .config_write = virtio_pci_config_write,                                            \
    }

/* "virtio-balloon" is QEMU's alias of virtio-balloon-pci on a PC. */
static const PCIDeviceClass balloon_pci_class = BALLOON_PCI_CLASS("virtio-balloon-pci");
static const PCIDeviceClass balloon_alias_class = BALLOON_PCI_CLASS("virtio-balloon");

PCI_DEVICE_CLASS_REGISTER(balloon_pci_class)
PCI_DEVICE_CLASS_REGISTER(balloon_alias_class)
