/*
 * The virtio device core (virtio 1.2 spec, chapters 2 and 4): feature
 * negotiation, the status byte, the device configuration space and split
 * virtqueues.  A device (virtio-blk, virtio-rng) embeds a VirtIODevice
 * and fills its VirtIODeviceOps; a transport (virtio-pci) embeds the
 * device and turns register accesses into the calls below.
 *
 * Guest memory is reached only through the memory API's checked helpers
 * (address_space_get_ram_ptr): a ring or buffer that is not wholly in RAM
 * is a guest error, never a host access.  A guest error in a ring (a
 * descriptor outside RAM, a loop, a chain longer than the queue, nested
 * or empty indirect tables, an avail index too far ahead) calls
 * virtio_error(): one log line, NEEDS_RESET (0x40) in the status with a
 * configuration-change interrupt, and the device processes nothing more
 * until the driver resets it -- what QEMU's virtio_error() does.
 *
 * Everything runs with the big lock held (vCPU exits, main loop).
 */
#ifndef KVMPC_HW_VIRTIO_H
#define KVMPC_HW_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "qemu/error.h"

/* Device status (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE     0x01
#define VIRTIO_CONFIG_S_DRIVER          0x02
#define VIRTIO_CONFIG_S_DRIVER_OK       0x04
#define VIRTIO_CONFIG_S_FEATURES_OK     0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET     0x40
#define VIRTIO_CONFIG_S_FAILED          0x80

/* Transport and ring feature bits (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY        24      /* legacy only */
#define VIRTIO_F_ANY_LAYOUT             27      /* legacy only; implied by VERSION_1 */
#define VIRTIO_RING_F_INDIRECT_DESC     28
#define VIRTIO_RING_F_EVENT_IDX         29
#define VIRTIO_F_BAD_FEATURE            30      /* legacy: a driver that acks it is broken */
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33
#define VIRTIO_F_RING_PACKED            34      /* offered with packed=on */

/* Device IDs (5). */
#define VIRTIO_ID_NET                   1
#define VIRTIO_ID_BLOCK                 2
#define VIRTIO_ID_CONSOLE               3
#define VIRTIO_ID_RNG                   4

/* Split virtqueue layout (2.7). */
#define VRING_DESC_F_NEXT               1
#define VRING_DESC_F_WRITE              2
#define VRING_DESC_F_INDIRECT           4
#define VRING_AVAIL_F_NO_INTERRUPT      1
#define VRING_USED_F_NO_NOTIFY          1
/* Packed ring (2.8): descriptor flags and event suppression. */
#define VRING_PACKED_DESC_F_AVAIL       (1u << 7)
#define VRING_PACKED_DESC_F_USED        (1u << 15)
#define VRING_PACKED_EVENT_FLAG_ENABLE  0
#define VRING_PACKED_EVENT_FLAG_DISABLE 1
#define VRING_PACKED_EVENT_FLAG_DESC    2
#define VRING_PACKED_EVENT_F_WRAP_CTR   15
#define VRING_DESC_SIZE                 16
#define VRING_USED_ELEM_SIZE            8
#define VIRTIO_LEGACY_VRING_ALIGN       4096

#define VIRTIO_QUEUE_MAX                64      /* queues per device */
#define VIRTQUEUE_MAX_SIZE              1024    /* entries per queue */
#define VIRTIO_NO_VECTOR                0xffff

/* ISR status (4.1.4.5). */
#define VIRTIO_ISR_QUEUE                0x1
#define VIRTIO_ISR_CONFIG               0x2

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;

/*
 * One popped request: the driver-readable (out) and device-writable (in)
 * buffers of a descriptor chain, mapped to host memory.  Devices allocate
 * a larger struct that begins with it (virtqueue_pop's sz).
 */
typedef struct VirtQueueElement {
    unsigned index;             /* head descriptor (split) or buffer id (packed) */
    unsigned ndescs;            /* ring entries it took (packed) */
    unsigned out_num, in_num;
    struct iovec *out_sg, *in_sg;
    uint64_t *in_addr;          /* guest addresses of in_sg, for dirty marking */
} VirtQueueElement;

typedef void VirtIOHandleOutput(VirtIODevice *vdev, VirtQueue *vq);

struct VirtQueue {
    VirtIODevice *vdev;
    uint16_t index;
    uint16_t num;               /* entries, as the driver set it (0: unused) */
    uint16_t num_max;           /* what the device supports (0: no queue) */
    bool enabled;               /* modern queue_enable */
    uint64_t desc, avail, used; /* guest physical addresses (packed: descriptor
                                 * ring, driver and device event areas) */
    uint16_t last_avail_idx;    /* next avail entry to pop (packed: ring slot) */
    uint16_t used_idx;          /* next used entry to fill (packed: ring slot) */
    bool last_avail_wrap;       /* packed: the driver's wrap counter we expect */
    bool used_wrap;             /* packed: our wrap counter */
    uint16_t signalled_used;    /* used_idx at the last interrupt (EVENT_IDX) */
    bool signalled_used_valid;
    uint16_t vector;            /* MSI-X vector, VIRTIO_NO_VECTOR if none */
    uint16_t inuse;             /* popped, not yet pushed */
    uint16_t fill_idx;          /* packed: next slot of the batch being filled */
    bool fill_wrap;             /* packed: its wrap counter */
    uint16_t fill_head_flags;   /* packed: the batch's first flags, written last */
    VirtIOHandleOutput *handle;
};

typedef struct VirtIODeviceOps {
    /* Refresh vdev->config from the device state before a guest read. */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* The guest wrote vdev->config (already stored there). */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* The driver wrote the status (after the core stored it). */
    void (*set_status)(VirtIODevice *vdev, uint8_t val);
    /* Back to the power-on state (the core resets its own part first). */
    void (*reset)(VirtIODevice *vdev);
} VirtIODeviceOps;

/* What the transport does for the core. */
typedef struct VirtIOTransportOps {
    /* Signal `vector` (VIRTIO_NO_VECTOR: INTx per the ISR). */
    void (*notify)(void *opaque, uint16_t vector);
    /* Whether the device is still allowed to touch guest memory. */
    bool (*bus_master)(void *opaque);
} VirtIOTransportOps;

struct VirtIODevice {
    const char *name;           /* "virtio-blk": in messages */
    uint16_t device_id;         /* VIRTIO_ID_* */
    uint8_t status;
    uint8_t isr;
    uint16_t queue_sel;
    uint64_t host_features;     /* offered */
    uint64_t guest_features;    /* accepted (FEATURES_OK) or legacy-written */
    uint16_t config_vector;
    uint8_t generation;         /* config generation */
    bool broken;                /* virtio_error() until reset */
    bool legacy;                /* driven through the legacy interface */
    size_t config_len;
    uint8_t *config;
    VirtQueue vq[VIRTIO_QUEUE_MAX];
    unsigned nvqs;
    const VirtIODeviceOps *ops;
    const VirtIOTransportOps *transport;
    void *transport_opaque;
    AddressSpace *dma_as;
};

/* ---- device side ---------------------------------------------------------- */

void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id, size_t config_len,
                 const VirtIODeviceOps *ops);
void virtio_cleanup(VirtIODevice *vdev);
VirtQueue *virtio_add_queue(VirtIODevice *vdev, unsigned queue_size, VirtIOHandleOutput *handle);
static inline bool virtio_has_feature(uint64_t features, unsigned bit)
{
    return (features >> bit) & 1;
}
static inline bool virtio_vdev_has_feature(const VirtIODevice *vdev, unsigned bit)
{
    return virtio_has_feature(vdev->guest_features, bit);
}
static inline bool virtio_is_ready(const VirtIODevice *vdev)
{
    return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken;
}
/* A guest error: log, NEEDS_RESET, configuration interrupt, stop. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The configuration changed (e.g. capacity): new generation, interrupt. */
void virtio_notify_config(VirtIODevice *vdev);

/* ---- virtqueues ----------------------------------------------------------- */

/* Pop the next available chain into a g_malloc'ed element of sz bytes (at
 * least sizeof(VirtQueueElement)); NULL if the ring is empty, the queue is
 * not set up, or on a guest error (then virtio_error was called). */
void *virtqueue_pop(VirtQueue *vq, size_t sz);
/* Give a popped element back unused (it is popped again next time) and
 * free it. */
void virtqueue_unpop(VirtQueue *vq, VirtQueueElement *elem);
/* Put elem in the used ring with `len` bytes written; frees nothing. */
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len);
/* The same in two steps, for a device that completes several elements as
 * one unit (virtio-net's mergeable receive buffers): fill puts elem at
 * used position used_idx + idx without publishing it, flush then publishes
 * count entries with one index write, so the driver never sees part of
 * the set.  (Packed rings: the first slot's flags are written last.) */
void virtqueue_fill(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len, unsigned idx);
void virtqueue_flush(VirtQueue *vq, unsigned count);
/* Interrupt the driver for vq unless it suppressed it (flags / used_event). */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
bool virtio_queue_empty(VirtQueue *vq);
bool virtio_queue_ready(const VirtQueue *vq);
/* Ask the driver not to notify (or again to notify) for vq. */
void virtio_queue_set_notification(VirtQueue *vq, bool enable);
/* The guest notified vq: run its handler if the device is live. */
void virtio_queue_notify(VirtIODevice *vdev, unsigned n);

/* iovec helpers. */
size_t virtio_iov_size(const struct iovec *iov, unsigned n);
size_t iov_copy_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_copy_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf,
                         size_t len);

/* ---- transport side ------------------------------------------------------- */

void virtio_reset(VirtIODevice *vdev);
void virtio_set_status(VirtIODevice *vdev, uint8_t val);
/* Modern: the accepted set (checked when the driver sets FEATURES_OK). */
uint64_t virtio_get_host_features(const VirtIODevice *vdev);
/* Legacy: the driver writes the low 32 bits; unknown ones are dropped. */
void virtio_set_features_legacy(VirtIODevice *vdev, uint32_t val);
/* Config space accesses (offset within the device config; out of range
 * reads return all ones, writes are dropped). */
uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t addr, unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint32_t addr, uint32_t val, unsigned size);
/* Legacy queue address: page frame number of the whole ring (0: none). */
void virtio_queue_set_legacy_pfn(VirtQueue *vq, uint32_t pfn);
uint32_t virtio_queue_get_legacy_pfn(const VirtQueue *vq);

/* Guest memory helpers for the split ring (exposed for the fuzzer). */
void virtio_set_dma_as(VirtIODevice *vdev, AddressSpace *as);

extern const VMStateDescription vmstate_virtio_device;
#define VMSTATE_VIRTIO_DEVICE(f, S) VMSTATE_STRUCT(f, S, vmstate_virtio_device, VirtIODevice)

#endif
