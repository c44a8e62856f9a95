/*
 * virtio-balloon (virtio 1.2, 5.5 "Traditional Memory Balloon Device").
 * See hw/virtio/virtio-balloon.c.
 */
#ifndef KVMPC_HW_VIRTIO_BALLOON_H
#define KVMPC_HW_VIRTIO_BALLOON_H

#define VIRTIO_ID_BALLOON               5

/* Feature bits (5.5.3). */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ       1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT 3
#define VIRTIO_BALLOON_F_PAGE_POISON    4
#define VIRTIO_BALLOON_F_REPORTING      5

/* Config space: le32 num_pages (device: pages it wants), le32 actual
 * (driver: pages it gave). */
#define VIRTIO_BALLOON_CFG_NUM_PAGES    0
#define VIRTIO_BALLOON_CFG_ACTUAL       4
#define VIRTIO_BALLOON_CFG_SIZE         8

#define VIRTIO_BALLOON_PFN_SHIFT        12

/* Statistics tags (5.5.6.3), as QEMU names them in guest-stats. */
#define VIRTIO_BALLOON_S_NR             10

#endif
