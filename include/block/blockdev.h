/*
 * The block command line (-drive, -hda..-hdd, -cdrom, -fda/-fdb,
 * -snapshot, -blockdev) and the drive table devices claim from.
 *
 * A -drive with if=ide|floppy|virtio|scsi is recorded as a DriveInfo
 * (interface, bus, unit, media, BlockBackend).  A device model that
 * implements the interface looks its drives up with drive_get() and claims
 * the backend with blk_attach_dev(); once the machine and every -device
 * exist, a drive nobody claimed is an error, as on QEMU (docs/block.md).
 */
#ifndef KVMPC_BLOCK_BLOCKDEV_H
#define KVMPC_BLOCK_BLOCKDEV_H

#include <stdbool.h>
#include "block/block.h"

typedef enum BlockInterfaceType {
    IF_NONE, IF_IDE, IF_FLOPPY, IF_VIRTIO, IF_SCSI, IF_COUNT,
} BlockInterfaceType;

typedef enum DriveMediaType {
    MEDIA_DISK, MEDIA_CDROM,
} DriveMediaType;

typedef struct DriveInfo {
    BlockInterfaceType type;
    int bus, unit;
    DriveMediaType media;
    BlockBackend *blk;          /* named by the drive id */
    char *spec;                 /* "-drive file=...": for messages */
} DriveInfo;

/* The vl.c hooks.  blockdev_cmdline_option: if argv[0] is a block option,
 * records it and returns how many words it took (exits 1 with a message
 * if it lacks its argument); 0 otherwise.  blockdev_open_all: opens every
 * recorded drive and node (main loop initialised; exits 1 naming the
 * option on failure).  blockdev_check_orphans: after the machine and the
 * -devices exist; exits 1 if a drive with an interface was not claimed. */
int blockdev_cmdline_option(int argc, char **argv);
void blockdev_print_help(void);     /* the block options' lines of -help */
void blockdev_open_all(void);
void blockdev_check_orphans(void);
/* Also for tests: open one -drive / -blockdev option string. */
DriveInfo *drive_new(const char *spec, BlockInterfaceType default_if, Error **errp);
BlockDriverState *blockdev_new(const char *spec, Error **errp);

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit);
DriveInfo *drive_get_by_index(BlockInterfaceType type, int index);
/* Highest bus number with a drive of this type, -1 if none. */
int drive_get_max_bus(BlockInterfaceType type);
DriveInfo *blk_legacy_dinfo(BlockBackend *blk);
const char *drive_if_name(BlockInterfaceType type);

/* For -device ...,drive=NAME: the drive's backend, or a new anonymous
 * backend on the -blockdev node NAME. */
BlockBackend *blockdev_backend_for(const char *name, Error **errp);

/* QMP query-block and HMP info block; query-blockstats, info blockstats. */
struct Monitor;
void hmp_info_block(struct Monitor *mon, int argc, char **argv);
/* HMP info blockstats (QMP query-blockstats is in the generated table). */
void hmp_info_blockstats(struct Monitor *mon, int argc, char **argv);
/* HMP eject / change (block/qmp-medium.c). */
void hmp_eject(struct Monitor *mon, int argc, char **argv);
void hmp_change(struct Monitor *mon, int argc, char **argv);

#endif
