/*
 * The virtio core without a transport (hw/virtio/virtio.c): a device on
 * an address space of its own, with its rings in a RAM buffer.  The
 * transport-level behaviour is in tests/qtest/virtio-blk-test.c; here:
 * the vmstate round trip, status and feature rules, event-index
 * notification arithmetic across the 16-bit wrap, and the packed ring
 * (wrap counters, chains across the end, hostile chains).
 */
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio.h"

#define RAM_SIZE 0x10000u

static uint8_t ram[RAM_SIZE];
static MemoryRegion root, ram_mr;
static AddressSpace as;
static unsigned notifies;

static void count_notify(void *opaque, uint16_t vector)
{
    (void)opaque; (void)vector;
    notifies++;
}

static const VirtIOTransportOps count_ops = { .notify = count_notify };

static void init_dev(VirtIODevice *v, unsigned nq)
{
    static bool as_ready;

    if (!as_ready) {
        memory_region_init(&root, "t-root", UINT64_MAX);
        memory_region_init_ram_ptr(&ram_mr, "t-ram", RAM_SIZE, ram);
        memory_region_add_subregion(&root, 0, &ram_mr);
        address_space_init(&as, &root, "t");
        as_ready = true;
    }
    memset(v, 0, sizeof(*v));
    virtio_init(v, "t", VIRTIO_ID_BLOCK, 8, NULL);
    virtio_set_dma_as(v, &as);
    v->transport = &count_ops;
    v->host_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    for (unsigned i = 0; i < nq; i++) {
        virtio_add_queue(v, 16, NULL);
    }
}

static void test_vmstate_roundtrip(void)
{
    VirtIODevice a, b, c;
    g_autoptr(GByteArray) out = g_byte_array_new();
    GError *err = NULL;
    size_t pos = 0;

    init_dev(&a, 2);
    a.status = VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK;
    a.guest_features = 1ull << VIRTIO_F_VERSION_1;
    a.config_vector = 3;
    a.generation = 7;
    a.vq[1].num = 8;
    a.vq[1].enabled = true;
    a.vq[1].desc = 0x1000;
    a.vq[1].avail = 0x2000;
    a.vq[1].used = 0x3000;
    a.vq[1].last_avail_idx = 0xfffe;
    a.vq[1].used_idx = 0xfffd;
    a.vq[1].vector = 2;
    a.vq[1].inuse = 1;          /* not migrated: devices drain first */
    g_assert_true(vmstate_save(&vmstate_virtio_device, &a, out, &err));
    init_dev(&b, 2);
    g_assert_true(vmstate_load(&vmstate_virtio_device, &b, out->data, out->len, &pos, &err));
    g_assert_cmpuint(pos, ==, out->len);
    g_assert_cmpuint(b.status, ==, a.status);
    g_assert_cmpuint(b.guest_features, ==, a.guest_features);
    g_assert_cmpuint(b.config_vector, ==, 3);
    g_assert_cmpuint(b.generation, ==, 7);
    g_assert_cmpuint(b.vq[1].num, ==, 8);
    g_assert_true(b.vq[1].enabled);
    g_assert_cmpuint(b.vq[1].desc, ==, 0x1000);
    g_assert_cmpuint(b.vq[1].avail, ==, 0x2000);
    g_assert_cmpuint(b.vq[1].used, ==, 0x3000);
    g_assert_cmpuint(b.vq[1].last_avail_idx, ==, 0xfffe);
    g_assert_cmpuint(b.vq[1].used_idx, ==, 0xfffd);
    g_assert_cmpuint(b.vq[1].vector, ==, 2);
    g_assert_cmpuint(b.vq[1].inuse, ==, 0);
    g_assert_true(b.vq[1].vdev == &b);
    /* a device with one queue drops the state of a queue it lacks */
    init_dev(&c, 1);
    pos = 0;
    g_assert_true(vmstate_load(&vmstate_virtio_device, &c, out->data, out->len, &pos, &err));
    g_assert_cmpuint(c.vq[1].desc, ==, 0);
    g_assert_false(c.vq[1].enabled);
    virtio_cleanup(&a);
    virtio_cleanup(&b);
    virtio_cleanup(&c);
}

static void test_status_rules(void)
{
    VirtIODevice v;

    init_dev(&v, 1);
    /* unknown bits: FEATURES_OK refused */
    v.guest_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << 40);
    virtio_set_status(&v, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_cmpuint(v.status, ==, VIRTIO_CONFIG_S_DRIVER);
    v.guest_features = 1ull << VIRTIO_F_VERSION_1;
    virtio_set_status(&v, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_cmpuint(v.status, ==, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    /* virtio_error: NEEDS_RESET survives status writes until a reset */
    virtio_error(&v, "test");
    g_assert_true(v.broken);
    g_assert_cmpuint(v.status & VIRTIO_CONFIG_S_NEEDS_RESET, ==, VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_cmpuint(v.isr & VIRTIO_ISR_CONFIG, ==, VIRTIO_ISR_CONFIG);
    virtio_set_status(&v, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FAILED);
    g_assert_cmpuint(v.status & VIRTIO_CONFIG_S_NEEDS_RESET, ==, VIRTIO_CONFIG_S_NEEDS_RESET);
    virtio_set_status(&v, 0);
    g_assert_cmpuint(v.status, ==, 0);
    g_assert_false(v.broken);
    g_assert_cmpuint(v.guest_features, ==, 0);
    /* a legacy driver: unknown bits dropped, no NEEDS_RESET on an error */
    v.legacy = true;
    v.host_features |= 1ull << 3;
    virtio_set_features_legacy(&v, (1u << 3) | (1u << 5));
    g_assert_cmpuint(v.guest_features, ==, 1u << 3);
    virtio_error(&v, "test");
    g_assert_cmpuint(v.status & VIRTIO_CONFIG_S_NEEDS_RESET, ==, 0);
    virtio_cleanup(&v);
}

/* Chains of one descriptor, pushed one by one across the 16-bit wrap of
 * the indices; with used_event = X the device signals exactly when its
 * used index passes X. */
static void test_event_idx_wrap(void)
{
    VirtIODevice v;
    VirtQueue *vq;
    const uint64_t desc = 0x1000, avail = 0x2000, used = 0x3000;

    init_dev(&v, 1);
    v.guest_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    v.status = VIRTIO_CONFIG_S_DRIVER_OK;
    vq = &v.vq[0];
    vq->num = 16;
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->enabled = true;
    vq->last_avail_idx = vq->used_idx = 0xfffa;
    memset(ram, 0, sizeof(ram));
    for (unsigned i = 0; i < 16; i++) {
        uint64_t a = 0x8000 + 64 * i;
        uint32_t len = 64;
        uint16_t flags = VRING_DESC_F_WRITE;

        memcpy(ram + desc + 16 * i, &a, 8);
        memcpy(ram + desc + 16 * i + 8, &len, 4);
        memcpy(ram + desc + 16 * i + 12, &flags, 2);
    }
    notifies = 0;
    for (unsigned k = 0; k < 12; k++) {
        uint16_t idx = 0xfffa + k + 1, head = k % 16, ue = 0x0002;
        VirtQueueElement *e;

        memcpy(ram + avail + 4 + 2 * ((0xfffa + k) % 16), &head, 2);
        memcpy(ram + avail + 2, &idx, 2);
        memcpy(ram + avail + 4 + 2 * 16, &ue, 2);        /* used_event = 2 */
        e = virtqueue_pop(vq, sizeof(*e));
        g_assert_nonnull(e);
        g_assert_cmpuint(e->index, ==, head);
        g_assert_cmpuint(e->in_num, ==, 1);
        g_assert_true(e->in_sg[0].iov_base == ram + 0x8000 + 64 * head);
        virtqueue_push(vq, e, 10);
        g_free(e);
        virtio_notify(&v, vq);
        /* signalled: the first push (0xfffb), and the one that moves the
         * used index from 2 to 3 (k = 8), after the wrap */
        g_assert_cmpuint(notifies, ==, 1u + (k >= 8));
    }
    g_assert_false(v.broken);
    g_assert_cmpuint(vq->used_idx, ==, (uint16_t)(0xfffa + 12));
    virtio_cleanup(&v);
}

/* EVENT_IDX: enabling notifications asks for a kick at the driver's
 * avail index (QEMU's rule), even with published entries the device has
 * not popped: asking at its own index, which the driver has passed,
 * would never get one. */
static void test_set_notification_event_idx(void)
{
    VirtIODevice v;
    VirtQueue *vq;
    const uint64_t avail = 0x2000, used = 0x3000;
    uint16_t idx = 3, ev;

    init_dev(&v, 1);
    v.guest_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    v.status = VIRTIO_CONFIG_S_DRIVER_OK;
    vq = &v.vq[0];
    vq->num = 16;
    vq->desc = 0x1000;
    vq->avail = avail;
    vq->used = used;
    vq->enabled = true;
    memset(ram, 0, sizeof(ram));
    memcpy(ram + avail + 2, &idx, 2);           /* three entries published */
    virtio_queue_set_notification(vq, true);
    memcpy(&ev, ram + used + 4 + 8 * 16, 2);
    g_assert_cmpuint(ev, ==, 3);
    g_assert_cmpuint(vq->last_avail_idx, ==, 0);
    virtio_cleanup(&v);
}

/* Packed ring: a 2-descriptor chain across the ring's end, pushed back
 * with the device's wrap counter; then hostile chains. */
static void put_packed(uint64_t ring, unsigned i, uint64_t addr, uint32_t len, uint16_t id,
                       uint16_t flags)
{
    uint8_t *d = ram + ring + 16 * i;

    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &id, 2);
    memcpy(d + 14, &flags, 2);
}

static VirtQueue *packed_queue(VirtIODevice *v)
{
    VirtQueue *vq;

    init_dev(v, 1);
    v->host_features |= 1ull << VIRTIO_F_RING_PACKED;
    v->guest_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_PACKED);
    v->status = VIRTIO_CONFIG_S_DRIVER_OK;
    vq = &v->vq[0];
    vq->num = 4;
    vq->desc = 0x1000;
    vq->avail = 0x2000;         /* driver event area: flags 0 = always interrupt */
    vq->used = 0x3000;
    vq->enabled = true;
    memset(ram, 0, sizeof(ram));
    return vq;
}

static void test_packed(void)
{
    const uint16_t avail1 = VRING_PACKED_DESC_F_AVAIL;    /* driver wrap counter 1 */
    const uint16_t avail0 = VRING_PACKED_DESC_F_USED;     /* driver wrap counter 0 */
    VirtIODevice v;
    VirtQueue *vq = packed_queue(&v);
    VirtQueueElement *e;
    uint16_t flags, id;
    uint32_t len;

    /* slots 0-2: three one-descriptor buffers; pop and push them */
    for (unsigned i = 0; i < 3; i++) {
        put_packed(vq->desc, i, 0x8000 + 0x100 * i, 64, 3 - i, avail1 | VRING_DESC_F_WRITE);
    }
    for (unsigned i = 0; i < 3; i++) {
        e = virtqueue_pop(vq, sizeof(*e));
        g_assert_nonnull(e);
        g_assert_cmpuint(e->index, ==, 3 - i);
        g_assert_cmpuint(e->in_num, ==, 1);
        virtqueue_push(vq, e, 5);
        g_free(e);
    }
    g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));     /* slot 3 not avail */
    memcpy(&flags, ram + vq->desc + 16 + 14, 2);
    memcpy(&id, ram + vq->desc + 16 + 12, 2);
    memcpy(&len, ram + vq->desc + 16 + 8, 4);
    g_assert_cmpuint(flags, ==, VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED |
                                VRING_DESC_F_WRITE);
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpuint(len, ==, 5);
    /* a chain in slots 3 and 0: the second half carries the new wrap counter */
    put_packed(vq->desc, 0, 0x9100, 32, 0, avail0 | VRING_DESC_F_WRITE);
    put_packed(vq->desc, 3, 0x9000, 16, 0, avail1 | VRING_DESC_F_NEXT);
    e = virtqueue_pop(vq, sizeof(*e));
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 0);
    g_assert_cmpuint(e->ndescs, ==, 2);
    g_assert_cmpuint(e->out_num, ==, 1);
    g_assert_cmpuint(e->in_num, ==, 1);
    g_assert_cmpuint(vq->last_avail_idx, ==, 1);
    g_assert_false(vq->last_avail_wrap);
    virtqueue_push(vq, e, 32);
    g_free(e);
    /* used in slot 3 with the device's wrap counter (still 1), next used slot 1 */
    memcpy(&flags, ram + vq->desc + 3 * 16 + 14, 2);
    g_assert_cmpuint(flags & (VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED), ==,
                     VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED);
    g_assert_cmpuint(vq->used_idx, ==, 1);
    g_assert_false(vq->used_wrap);
    g_assert_false(v.broken);
    virtio_cleanup(&v);

    /* hostile: a chain that never ends (every slot says NEXT) */
    vq = packed_queue(&v);
    for (unsigned i = 0; i < 4; i++) {
        put_packed(vq->desc, i, 0x8000, 16, 1, avail1 | VRING_DESC_F_NEXT);
    }
    g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));
    g_assert_true(v.broken);
    g_assert_cmpuint(v.status & VIRTIO_CONFIG_S_NEEDS_RESET, ==, VIRTIO_CONFIG_S_NEEDS_RESET);
    virtio_cleanup(&v);
    /* hostile: indirect inside indirect, and an empty indirect table */
    vq = packed_queue(&v);
    put_packed(0x4000, 0, 0x4100, 16, 0, VRING_DESC_F_INDIRECT);
    put_packed(vq->desc, 0, 0x4000, 16, 1, avail1 | VRING_DESC_F_INDIRECT);
    g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));
    g_assert_true(v.broken);
    virtio_cleanup(&v);
    vq = packed_queue(&v);
    put_packed(vq->desc, 0, 0x4000, 0, 1, avail1 | VRING_DESC_F_INDIRECT);
    g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));
    g_assert_true(v.broken);
    virtio_cleanup(&v);
    /* hostile: a buffer id the ring cannot have (ids name slots' buffers: < 4) */
    vq = packed_queue(&v);
    put_packed(vq->desc, 0, 0x8000, 16, 4, avail1);
    g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));
    g_assert_true(v.broken);
    virtio_cleanup(&v);
    /* hostile: an indirect descriptor that says more follows it */
    vq = packed_queue(&v);
    put_packed(0x4000, 0, 0x4100, 16, 0, 0);
    put_packed(vq->desc, 1, 0x8000, 16, 1, avail1);
    put_packed(vq->desc, 0, 0x4000, 16, 1, avail1 | VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT);
    g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));
    g_assert_true(v.broken);
    virtio_cleanup(&v);
    /* hostile: a ring that runs out of RAM */
    vq = packed_queue(&v);
    vq->desc = RAM_SIZE - 8;
    g_assert_null(virtqueue_pop(vq, sizeof(VirtQueueElement)));
    g_assert_true(v.broken);
    virtio_cleanup(&v);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio/vmstate-roundtrip", test_vmstate_roundtrip);
    g_test_add_func("/virtio/status-rules", test_status_rules);
    g_test_add_func("/virtio/event-idx-wrap", test_event_idx_wrap);
    g_test_add_func("/virtio/set-notification-event-idx", test_set_notification_event_idx);
    g_test_add_func("/virtio/packed", test_packed);
    return g_test_run();
}
