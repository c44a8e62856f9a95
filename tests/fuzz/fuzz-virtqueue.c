/*
 * Fuzz target for the split-virtqueue parser (hw/virtio/virtio.c): guest
 * RAM is the fuzzer's bytes, the queue's geometry and features come from
 * a small header, and the device pops every chain it can, fills the
 * writable buffers, pushes them back and notifies.  What must hold for
 * any input: no crash or sanitizer report, no endless loop (pops are
 * bounded by the queue size), and every iovec the core hands out lies
 * wholly inside the RAM buffer -- never the MMIO region next to it or
 * the hole after it.
 *
 * Address space: RAM_SIZE bytes of RAM at 0, MMIO_SIZE bytes of MMIO
 * after it (which fails the run if anything reads or writes it), then
 * nothing.
 *
 * Input: 16 bytes of header, then RAM contents (zero padded):
 *   0  u8  log2 of the queue size (mod 9: 1..256 entries)
 *   1  u8  features: bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bit 2 VERSION_1,
 *          bit 3 RING_PACKED (then desc is the ring, avail/used the
 *          driver/device event areas, the indices are taken modulo the
 *          size and bit 15 of each, when set, makes its wrap counter 0)
 *   2  u16 desc / 16     4  u16 avail / 2    6  u16 used / 4  (addresses: the
 *          value times the alignment, may point past RAM)
 *   8  u16 last_avail_idx start   10 u16 used_idx start
 *   12 u32 push length seed
 *
 * Built as a libFuzzer target by tests/fuzz/build-virtqueue.sh; with
 * -DFUZZ_VIRTQUEUE_MAIN it is a plain driver for the unit suite:
 *   fuzz-virtqueue [--seed N] [--runs N]      generated inputs
 *   fuzz-virtqueue FILE...                    given inputs
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hw/virtio/virtio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE        0x10000u
#define MMIO_SIZE       0x1000u
#define HDR_SIZE        16

static uint8_t *ram;
static unsigned long popped;            /* chains popped, over all runs */
static MemoryRegion root, ram_mr, mmio_mr;
static AddressSpace as;
static bool ready;

static void __attribute__((noreturn)) fail(const char *why)
{
    fprintf(stderr, "fuzz-virtqueue: %s\n", why);
    abort();
}

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned sz)
{
    (void)opaque; (void)addr; (void)sz;
    fail("the virtqueue code read MMIO");
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t v, unsigned sz)
{
    (void)opaque; (void)addr; (void)v; (void)sz;
    fail("the virtqueue code wrote MMIO");
}

static const MemoryRegionOps mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static void setup(void)
{
    if (ready) {
        return;
    }
    ram = malloc(RAM_SIZE);
    memory_region_init(&root, "fuzz-root", UINT64_MAX);
    memory_region_init_ram_ptr(&ram_mr, "fuzz-ram", RAM_SIZE, ram);
    memory_region_init_io(&mmio_mr, &mmio_ops, NULL, "fuzz-mmio", MMIO_SIZE);
    memory_region_add_subregion(&root, 0, &ram_mr);
    memory_region_add_subregion(&root, RAM_SIZE, &mmio_mr);
    address_space_init(&as, &root, "fuzz");
    ready = true;
}

static void check_iov(const struct iovec *iov, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *b = iov[i].iov_base;

        if (!iov[i].iov_len || b < ram || b + iov[i].iov_len > ram + RAM_SIZE ||
            b + iov[i].iov_len < b) {
            fail("an iovec outside guest RAM");
        }
    }
}

static uint16_t get16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t hdr[HDR_SIZE] = { 0 };
    VirtIODevice vdev;
    VirtQueue *vq;
    uint32_t seed;

    setup();
    memcpy(hdr, data, size < HDR_SIZE ? size : HDR_SIZE);
    memset(ram, 0, RAM_SIZE);
    if (size > HDR_SIZE) {
        memcpy(ram, data + HDR_SIZE, size - HDR_SIZE > RAM_SIZE ? RAM_SIZE : size - HDR_SIZE);
    }

    memset(&vdev, 0, sizeof(vdev));
    virtio_init(&vdev, "fuzz", VIRTIO_ID_BLOCK, 0, NULL);
    virtio_set_dma_as(&vdev, &as);
    vdev.host_features = (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                         (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_F_VERSION_1) |
                         (1ull << VIRTIO_F_RING_PACKED);
    vq = virtio_add_queue(&vdev, 1u << (hdr[0] % 9), NULL);
    vdev.guest_features = ((hdr[1] & 1) ? 1ull << VIRTIO_RING_F_INDIRECT_DESC : 0) |
                          ((hdr[1] & 2) ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0) |
                          ((hdr[1] & 4) ? 1ull << VIRTIO_F_VERSION_1 : 0) |
                          ((hdr[1] & 8) ? 1ull << VIRTIO_F_RING_PACKED : 0);
    vdev.status = VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK;
    vq->desc = (uint64_t)get16(hdr + 2) * 16;
    vq->avail = (uint64_t)get16(hdr + 4) * 2;
    vq->used = (uint64_t)get16(hdr + 6) * 4;
    vq->last_avail_idx = get16(hdr + 8);
    vq->used_idx = get16(hdr + 10);
    if (hdr[1] & 8) {
        /* packed: indices are ring slots below the size, plus wrap counters */
        vq->last_avail_wrap = !(hdr[9] & 0x80);
        vq->used_wrap = !(hdr[11] & 0x80);
        vq->last_avail_idx %= vq->num;
        vq->used_idx %= vq->num;
    }
    vq->enabled = true;
    seed = hdr[12] | hdr[13] << 8 | hdr[14] << 16 | (uint32_t)hdr[15] << 24;

    /* At most one queue's worth can be available: a bound on the loop. */
    for (unsigned n = 0; n <= vq->num; n++) {
        VirtQueueElement *e = virtqueue_pop(vq, sizeof(*e));
        size_t in;

        if (!e) {
            break;
        }
        if (n == vq->num) {
            fail("popped more chains than the queue has entries");
        }
        popped++;
        check_iov(e->out_sg, e->out_num);
        check_iov(e->in_sg, e->in_num);
        in = virtio_iov_size(e->in_sg, e->in_num);
        for (unsigned i = 0; i < e->in_num; i++) {
            memset(e->in_sg[i].iov_base, 0xa5, e->in_sg[i].iov_len);
        }
        for (unsigned i = 0; i < e->out_num; i++) {
            volatile uint8_t x = ((uint8_t *)e->out_sg[i].iov_base)[e->out_sg[i].iov_len - 1];
            (void)x;
        }
        seed = seed * 1103515245u + 12345u;
        virtqueue_push(vq, e, in ? seed % (in + 1) : 0);
        virtio_notify(&vdev, vq);
        free(e);
    }
    virtio_queue_set_notification(vq, true);
    virtio_queue_empty(vq);
    virtio_cleanup(&vdev);
    return 0;
}

#ifdef FUZZ_VIRTQUEUE_MAIN
/* ---- the plain driver: inputs that look like rings ------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 33;
}

/* A header aiming the rings at RAM most of the time, and descriptors that
 * are mostly plausible: small chains, some indirect tables, some wild. */
static size_t gen_input(uint8_t *buf, size_t max)
{
    size_t size = HDR_SIZE + 4096 + rnd() % 4096;
    unsigned qlog = rnd() % 9, num = 1u << qlog;
    uint16_t desc = (rnd() % 64) * 16, avail = 0x1000 + (rnd() % 64) * 2;
    uint16_t used = 0x1800 + (rnd() % 64) * 4;
    uint8_t *r = buf + HDR_SIZE;

    if (size > max) {
        size = max;
    }
    for (size_t i = 0; i < size; i++) {
        buf[i] = rnd();
    }
    buf[0] = qlog;
    buf[1] = rnd() & 15;
    if (rnd() % 8) {
        buf[2] = desc / 16; buf[3] = (desc / 16) >> 8;
        buf[4] = avail / 2; buf[5] = (avail / 2) >> 8;
        buf[6] = used / 4; buf[7] = (used / 4) >> 8;
        buf[8] = buf[9] = 0;
    }
    if (rnd() % 4 && avail + 4u + 2 * num <= size - HDR_SIZE) {
        uint16_t n = rnd() % (num + 2);

        r[avail + 2] = n;
        r[avail + 3] = n >> 8;
        for (unsigned k = 0; k < num; k++) {
            uint16_t head = rnd() % 16 ? rnd() % num : rnd();

            r[avail + 4 + 2 * k] = head;
            r[avail + 5 + 2 * k] = head >> 8;
        }
    }
    for (unsigned i = 0; i < num && desc + 16u * (i + 1) <= size - HDR_SIZE; i++) {
        uint8_t *d = r + desc + 16 * i;
        uint64_t addr = rnd() % 8 ? 0x2000 + rnd() % 0x1000 : ((uint64_t)rnd() << 32 | rnd());
        uint32_t len = rnd() % 8 ? rnd() % 512 : rnd();
        uint16_t flags = rnd() % 8, next = rnd() % 4 ? (i + 1) % num : rnd();

        if ((flags & 4) && rnd() % 2) {
            len = 16 * (1 + rnd() % 8);
        }
        memcpy(d, &addr, 8);
        memcpy(d + 8, &len, 4);
        if (buf[1] & 8) {
            /* packed: id, then flags with AVAIL = the driver's wrap counter (1) */
            uint16_t pf = flags | (rnd() % 8 ? 0x80 : rnd() & 0x8080);

            memcpy(d + 12, &next, 2);
            memcpy(d + 14, &pf, 2);
        } else {
            memcpy(d + 12, &flags, 2);
            memcpy(d + 14, &next, 2);
        }
    }
    return size;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[HDR_SIZE + RAM_SIZE];
    size_t n;

    if (!f) {
        perror(path);
        return 1;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t buf[HDR_SIZE + RAM_SIZE];
    unsigned long runs = 2000;
    int files = 0, rc = 0;

    rng_state = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            rng_state = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = strtoul(argv[++i], NULL, 0);
        } else {
            rc |= run_file(argv[i]);
            files++;
        }
    }
    if (files) {
        return rc;
    }
    for (unsigned long i = 0; i < runs; i++) {
        size_t n = gen_input(buf, sizeof(buf));
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz-virtqueue: %lu inputs, %lu chains popped, no finding\n", runs, popped);
    /* a generator that never reaches a well-formed chain tests nothing */
    return popped ? 0 : 1;
}
#endif
