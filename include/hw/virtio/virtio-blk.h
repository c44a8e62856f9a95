/*
 * virtio-blk-pci (hw/virtio/virtio-blk.c).  The device is created with
 * -device; this is the hook for "-drive if=virtio".
 */
#ifndef KVMPC_HW_VIRTIO_BLK_H
#define KVMPC_HW_VIRTIO_BLK_H

#include <stdbool.h>
#include "qemu/error.h"

/* One virtio-blk-pci per -drive if=virtio, in bus/unit order, on the
 * machine's PCI bus (after the -device options). */
bool virtio_blk_create_cmdline_drives(Error **errp);

#endif
