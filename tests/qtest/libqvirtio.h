/*
 * A small virtio-pci driver for qtest device tests (virtio-blk-test,
 * virtio-rng-test; reusable for net and scsi).  It plays the guest: it
 * programs the PCI function's BARs, negotiates features over the modern
 * (BAR4 capabilities) or the legacy (BAR0 I/O) interface, lays out split
 * rings in guest RAM with a bump allocator, builds descriptor chains
 * (direct or indirect), kicks queues and polls the used ring.
 *
 * Guest RAM from QVIRTIO_ALLOC_BASE up is the allocator's; MSI-X messages
 * are pointed at QVIRTIO_MSI_RAM (plain RAM: a message there is a DMA
 * write the test reads back, as tests/qtest/msi-test.c does).
 *
 *   QVirtioDev d;
 *   qvirtio_pci_init(&d, qts, slot, true);        // modern interface
 *   qvirtio_start(&d, features);                   // ACK, DRIVER, FEATURES_OK
 *   QVirtQueue *vq = qvirtqueue_setup(&d, 0);
 *   qvirtio_driver_ok(&d);
 *   uint16_t head = qvirtqueue_add(vq, addr, len, false, true);  // out, more follow
 *   qvirtqueue_add(vq, addr2, len2, true, false);                 // in, last
 *   qvirtqueue_kick(vq, head);
 *   qvirtqueue_wait_used(vq, head, &len);
 *
 * Ring kinds: a device negotiates VIRTIO_F_RING_PACKED when its driver
 * asks for it (qvirtio_use_packed(), or the process-wide default that
 * qvirtio_pci_init() copies, qvirtio_set_packed_default()); the queue
 * calls below then lay out and drive a packed ring instead (docs/qtest.md):
 * one ring of 16-byte descriptors {addr, len, id, flags} whose AVAIL/USED
 * bits follow the driver's wrap counter, the head's flags written last
 * (qvirtqueue_publish), buffer ids = the head's slot, used buffers found by
 * the flags at the next used slot and our copy of the device's wrap
 * counter, then skipped by as many slots as the buffer took.  The split
 * calls that name ring memory (vq->avail, vq->used) stay split-only; the
 * helpers below (publish, pop_used, set_interrupts, indirect) work on
 * both.
 */
#ifndef KVMPC_TESTS_LIBQVIRTIO_H
#define KVMPC_TESTS_LIBQVIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include "libqtest.h"

#define QVIRTIO_ALLOC_BASE      0x00400000u     /* 4 MiB: guest RAM for rings and buffers */
#define QVIRTIO_ALLOC_END       0x07000000u
#define QVIRTIO_MSI_RAM         0x00200000u     /* where MSI-X messages land */
#define QVIRTIO_IO_BAR          0xc000u
#define QVIRTIO_MSIX_BAR        0xe0000000u
#define QVIRTIO_MODERN_BAR      0xe0100000u

#define QVIRTIO_S_ACKNOWLEDGE   0x01
#define QVIRTIO_S_DRIVER        0x02
#define QVIRTIO_S_DRIVER_OK     0x04
#define QVIRTIO_S_FEATURES_OK   0x08
#define QVIRTIO_S_NEEDS_RESET   0x40
#define QVIRTIO_NO_VECTOR       0xffff

/* The end of guest RAM with the machine's default -m (128 MiB). */
#define QVIRTIO_RAM_END         (128u << 20)

#define QVIRTIO_F_INDIRECT_DESC 28
#define QVIRTIO_F_EVENT_IDX     29
#define QVIRTIO_F_VERSION_1     32
#define QVIRTIO_F_RING_PACKED   34

/* packed rings: descriptor flag bits and event suppression values */
#define QVRING_PACKED_F_AVAIL   (1u << 7)
#define QVRING_PACKED_F_USED    (1u << 15)
#define QVRING_EVENT_ENABLE     0
#define QVRING_EVENT_DISABLE    1
#define QVRING_EVENT_DESC       2
#define QVRING_EVENT_WRAP_BIT   15
#define QVIRTIO_PACKED_MAX      1024            /* largest packed queue the driver drives */

#define QVRING_DESC_F_NEXT      1
#define QVRING_DESC_F_WRITE     2
#define QVRING_DESC_F_INDIRECT  4

#define QVIRTIO_MAX_QUEUES      16

typedef struct QVirtioDev QVirtioDev;

typedef struct QVirtQueue {
    QVirtioDev *dev;
    unsigned index;
    unsigned size;
    bool packed;                /* a packed ring (else split) */
    uint64_t desc, avail, used; /* packed: descriptor ring, driver area, device area */
    uint16_t free_head;         /* next unused descriptor (round robin; packed: slot) */
    uint16_t avail_idx;         /* driver's shadow of avail->idx (packed: chains published) */
    uint16_t last_used;         /* used entries consumed */
    int prev;                   /* descriptor to link the next add to, -1 */
    uint16_t notify_off;
    /* packed only */
    bool avail_wrap;            /* driver ring wrap counter at free_head */
    uint16_t used_slot;         /* where the next used descriptor will be */
    bool used_wrap;             /* device ring wrap counter expected there */
    uint16_t cur_id;            /* buffer id of the chain being added */
    uint16_t chain_len[QVIRTIO_PACKED_MAX];  /* slots each buffer id took */
    uint16_t head_flags[QVIRTIO_PACKED_MAX]; /* its head's flags, until published */
} QVirtQueue;

struct QVirtioDev {
    QTestState *qts;
    int slot;
    bool modern;
    uint32_t common, isr, device, notify;   /* offsets in BAR4 */
    uint32_t notify_mult;
    uint8_t cfg_cap;                        /* PCI cfg access capability */
    uint8_t msix_cap;
    bool msix_on;
    uint64_t features;                      /* negotiated */
    bool want_packed;                       /* qvirtio_start asks for RING_PACKED */
    uint16_t config_vector;                 /* as last set (QVIRTIO_NO_VECTOR after reset) */
    uint16_t queue_vector[QVIRTIO_MAX_QUEUES];
    QVirtQueue vq[QVIRTIO_MAX_QUEUES];
};

/* PCI configuration space of the device (bus 0, slot). */
uint32_t qvirtio_cfg_readl(QVirtioDev *d, int reg);
uint16_t qvirtio_cfg_readw(QVirtioDev *d, int reg);
uint8_t qvirtio_cfg_readb(QVirtioDev *d, int reg);
void qvirtio_cfg_writel(QVirtioDev *d, int reg, uint32_t v);
void qvirtio_cfg_writew(QVirtioDev *d, int reg, uint16_t v);
void qvirtio_cfg_writeb(QVirtioDev *d, int reg, uint8_t v);
/* Offset of the first capability with this ID (0x09: the first vendor one
 * whose cfg_type is `type`, pass type -1 for any), 0 if none. */
int qvirtio_find_cap(QVirtioDev *d, int id, int type);

/* Place the BARs, turn on I/O, memory and bus mastering, find the
 * capabilities.  modern: drive it through BAR4, else through BAR0. */
void qvirtio_pci_init(QVirtioDev *d, QTestState *qts, int slot, bool modern);
/* Guest RAM (zeroed), aligned; the allocator is per test process. */
uint64_t qvirtio_alloc(QTestState *qts, uint64_t size, uint64_t align);
void qvirtio_alloc_reset(void);

uint8_t qvirtio_get_status(QVirtioDev *d);
void qvirtio_set_status(QVirtioDev *d, uint8_t s);
void qvirtio_reset(QVirtioDev *d);
uint64_t qvirtio_get_features(QVirtioDev *d);
/* Modern: write the driver features (no FEATURES_OK). */
void qvirtio_write_features(QVirtioDev *d, uint64_t f);
/* Reset, ACKNOWLEDGE|DRIVER, features (& offered), FEATURES_OK (modern):
 * returns the status read back. */
uint8_t qvirtio_start(QVirtioDev *d, uint64_t features);
void qvirtio_driver_ok(QVirtioDev *d);
uint8_t qvirtio_isr(QVirtioDev *d);        /* read (and clear) the ISR */
uint16_t qvirtio_num_queues(QVirtioDev *d); /* modern only */

/* Device configuration space. */
uint8_t qvirtio_config_readb(QVirtioDev *d, unsigned off);
uint16_t qvirtio_config_readw(QVirtioDev *d, unsigned off);
uint32_t qvirtio_config_readl(QVirtioDev *d, unsigned off);
uint64_t qvirtio_config_readq(QVirtioDev *d, unsigned off);

/* MSI-X: enable, program every table entry v to write 0x1000 + v to
 * QVIRTIO_MSI_RAM + 4 * v (cleared here).  A device reset forgets the
 * vector assignments, not the table. */
void qvirtio_msix_enable(QVirtioDev *d, unsigned nvec);
/* Set the configuration-change vector; returns what the device read back. */
uint16_t qvirtio_set_config_vector(QVirtioDev *d, uint16_t vec);
uint32_t qvirtio_msix_received(QVirtioDev *d, unsigned vec);   /* 0 if not yet */
void qvirtio_msix_clear(QVirtioDev *d, unsigned vec);
/* Set queue `index`'s MSI-X vector; returns what the device read back. */
uint16_t qvirtio_set_queue_vector(QVirtioDev *d, unsigned index, uint16_t vec);

/* Ring kind: whether qvirtio_start() negotiates RING_PACKED (and fails the
 * test if the device does not offer it: `-device ...,packed=on`).  The
 * default is what qvirtio_pci_init() gives a new device (split at first). */
void qvirtio_use_packed(QVirtioDev *d, bool packed);
void qvirtio_set_packed_default(bool packed);
bool qvirtio_packed_default(void);
/* Run a test case twice, on split rings (name) and packed rings
 * (name "/packed"); the test puts packed=on on its -device when
 * qvirtio_packed_default() says so.  Needs qtest-harness.h's qt_run. */
#define QVIRTIO_RUN_RINGS(name, fn)                                             \
    do {                                                                        \
        qvirtio_set_packed_default(false);                                      \
        qt_run(name, fn);                                                       \
        qvirtio_set_packed_default(true);                                       \
        qt_run(name "/packed", fn);                                             \
        qvirtio_set_packed_default(false);                                      \
    } while (0)

/* Queue `index` at its maximum size (legacy layout: fits both; packed:
 * descriptor ring, then the driver and device event areas). */
QVirtQueue *qvirtqueue_setup(QVirtioDev *d, unsigned index);
/* Add a descriptor linked after the previous add unless the previous had
 * next=false; returns its index.  Write: device-writable. */
uint16_t qvirtqueue_add(QVirtQueue *vq, uint64_t addr, uint32_t len, bool write, bool next);
/* Raw descriptor at index i of a table at `table` (for hostile rings). */
void qvirtqueue_write_desc(QTestState *qts, uint64_t table, unsigned i, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next);
/* Raw packed descriptor {addr, len, id, flags} at slot i of a ring or
 * indirect table at `table` (for hostile rings). */
void qvirtqueue_write_pdesc(QTestState *qts, uint64_t table, unsigned i, uint64_t addr,
                            uint32_t len, uint16_t id, uint16_t flags);
/* The AVAIL/USED bits a driver puts in a descriptor made available while
 * its wrap counter is `wrap`. */
uint16_t qvirtqueue_packed_avail_bits(bool wrap);
/* Entry i of an indirect table in this queue's format: split links it to
 * i + 1 unless last; packed entries have only WRITE. */
void qvirtqueue_indirect_entry(QVirtQueue *vq, uint64_t table, unsigned i, uint64_t addr,
                               uint32_t len, bool write, bool last);
/* Add one descriptor pointing at an indirect table of n entries (a chain
 * of its own); returns the head to publish. */
uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, uint64_t table, unsigned n);
/* Make the chain starting at head available (split: avail ring entry and
 * index; packed: the head's flags), without notifying. */
void qvirtqueue_publish(QVirtQueue *vq, uint16_t head);
/* Publish head and notify the device. */
void qvirtqueue_kick(QVirtQueue *vq, uint16_t head);
/* Only notify (the avail ring is the test's business). */
void qvirtqueue_notify(QVirtQueue *vq);
/* The qtest command that notifies vq ("writew ADDR IDX" / "outw PORT IDX"),
 * into buf. */
void qvirtqueue_notify_cmd(QVirtQueue *vq, char *buf, size_t n);
/* Poll the used ring until an entry appears (fails the test after
 * timeout_ms); checks it is head and returns its len. */
uint32_t qvirtqueue_wait_used(QVirtQueue *vq, uint16_t head, int timeout_ms);
/* Whether the used index moved past what was consumed, without waiting. */
bool qvirtqueue_used_pending(QVirtQueue *vq);
/* Split: the used index.  Packed: the same count (entries consumed plus
 * those waiting at the used slots), found by walking the ring. */
uint16_t qvirtqueue_used_idx(QVirtQueue *vq);
/* Consume the next used entry if there is one: its id and len. */
bool qvirtqueue_pop_used(QVirtQueue *vq, uint32_t *id, uint32_t *len);
/* Ask for used-buffer interrupts or not (split: VRING_AVAIL_F_NO_INTERRUPT;
 * packed: driver event flags ENABLE/DISABLE). */
void qvirtqueue_set_interrupts(QVirtQueue *vq, bool on);
/* Packed: interrupt only when the device uses the descriptor at slot off
 * with wrap counter wrap (driver event flags DESC; needs EVENT_IDX). */
void qvirtqueue_packed_event_desc(QVirtQueue *vq, uint16_t off, bool wrap);

/*
 * Hostile packed rings, for device tests: one bad variant of a good
 * request, to check that the device stops with NEEDS_RESET, one log line
 * naming the fault, and nothing used (virtio 1.2, 2.8; docs/virtio.md).
 * A request is its buffers in order (the readable ones first); a case
 * spoils the first device-writable buffer, else the last.
 */
typedef struct QVirtioBuf {
    uint64_t addr;
    uint32_t len;
    bool write;                 /* device-writable */
} QVirtioBuf;

#define QVIRTIO_HOSTILE_MAX_BUFS 8

typedef enum QVirtioPackedHostile {
    QVPH_DESC_OUTSIDE_RAM,      /* a buffer at 256 GiB */
    QVPH_DESC_IN_MMIO,          /* a buffer in the device's BAR */
    QVPH_DESC_STRADDLES_RAM_END, /* a buffer across the end of RAM */
    QVPH_CHAIN_ROUND_RING,      /* NEXT in every slot, round the ring */
    QVPH_INDIRECT_TOO_LONG,     /* an indirect table of 1025 entries */
    QVPH_INDIRECT_WITH_NEXT,    /* an indirect descriptor with NEXT, a buffer after it */
    QVPH_NESTED_INDIRECT,       /* an indirect descriptor in an indirect table */
    QVPH_INDIRECT_IN_CHAIN,     /* an indirect descriptor second in a chain */
    QVPH_INDIRECT_ZERO_LEN,     /* an indirect table of 0 bytes */
    QVPH_INDIRECT_OUTSIDE_RAM,  /* an indirect table past 2^64 - 4 KiB */
    QVPH_ZERO_LEN_BUFFER,       /* a buffer of length 0 */
    QVPH_OUT_AFTER_IN,          /* a readable buffer after a writable one */
    QVPH_ID_OUT_OF_RANGE,       /* buffer id = queue size + 3 */
    QVPH_DESC_RING_OUTSIDE_RAM, /* these three restart the device with the */
    QVPH_DRIVER_AREA_OUTSIDE_RAM, /* queue alone (its features and vectors */
    QVPH_DEVICE_AREA_OUTSIDE_RAM, /* kept), one area moved out of RAM */
    QVPH_COUNT
} QVirtioPackedHostile;

/* Run a case once per kind, as PREFIX<name>SUFFIX (qt_run, qtest-harness.h),
 * with the kind in qvirtio_hostile_kind. */
extern QVirtioPackedHostile qvirtio_hostile_kind;
#define QVIRTIO_RUN_PACKED_HOSTILE(prefix, suffix, fn)                          \
    do {                                                                        \
        char qv_name_[160];                                                     \
        for (qvirtio_hostile_kind = 0; qvirtio_hostile_kind < QVPH_COUNT;       \
             qvirtio_hostile_kind++) {                                          \
            snprintf(qv_name_, sizeof(qv_name_), "%s%s%s", prefix,              \
                     qvirtio_packed_hostile_name(qvirtio_hostile_kind), suffix); \
            qt_run(qv_name_, fn);                                               \
        }                                                                       \
    } while (0)
/* The case's name for test names ("desc_outside_ram"). */
const char *qvirtio_packed_hostile_name(QVirtioPackedHostile kind);
/* Make the hostile variant `kind` of the request bufs[0..n) available at
 * the driver's next slots of packed queue vq (nothing half-added) and
 * notify; returns what the device's "needs reset" line must contain.
 * The buffers' memory is the caller's (allocated, filled). */
const char *qvirtqueue_packed_hostile(QVirtQueue *vq, QVirtioPackedHostile kind,
                                      const QVirtioBuf *bufs, unsigned n);
/* Back to where a reset device starts: the driver's next slot and the
 * next used slot are 0, both wrap counters 1. */
void qvirtqueue_packed_rewind(QVirtQueue *vq);
/* The i-th (0-2) AVAIL/USED combination that does not make a descriptor
 * available while the driver's wrap counter is `wrap`. */
uint16_t qvirtqueue_packed_wrong_bits(bool wrap, unsigned i);
/* Write the held flags of the chain at head with these AVAIL/USED bits
 * (it is not published: qvirtqueue_kick still does that). */
void qvirtqueue_packed_publish_bits(QVirtQueue *vq, uint16_t head, uint16_t bits);

#endif
