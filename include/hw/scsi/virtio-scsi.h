/*
 * virtio-scsi-pci (hw/scsi/virtio-scsi.c).  The controller is created with
 * -device; this is the hook for "-drive if=scsi".
 */
#ifndef KVMPC_HW_SCSI_VIRTIO_SCSI_H
#define KVMPC_HW_SCSI_VIRTIO_SCSI_H

#include <stdbool.h>
#include "qemu/error.h"

/* One virtio-scsi-pci per bus number of the -drive if=scsi drives, each
 * drive a scsi-hd (scsi-cd for media=cdrom) at scsi-id = unit. */
bool virtio_scsi_create_cmdline_drives(Error **errp);

#endif
