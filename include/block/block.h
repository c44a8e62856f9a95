/*
 * The block layer: what device models and the command line use.
 *
 * A BlockDriverState (BDS) is a node of the block graph: a driver and its
 * state ("file": a host file or block device; "raw": a format node over a
 * child, optionally a window offset=/size= of it; "qcow2", also the
 * -snapshot copy-on-write layer).  A BlockBackend (BB) is what a device
 * attaches to: it holds the root node (or none: an empty removable drive),
 * the device that claimed it, the write-cache mode and the medium state.
 *
 * Every request is asynchronous: it is submitted with the BQL held (the
 * main thread, or a vCPU thread handling an exit) and its completion
 * callback runs later in the main loop (BQL held),
 * never inside the submitting call, with 0 or a negative errno.  The
 * synchronous helpers (blk_pread, ...) run the main loop's handlers until
 * their request is done; they are for the main thread only (firmware
 * loaders, tests, tools), never for a device's guest-driven path, and
 * never from inside a completion callback (the main loop does not dispatch
 * a source from inside its own dispatch, so that request could not finish).
 */
#ifndef KVMPC_BLOCK_BLOCK_H
#define KVMPC_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "qemu/error.h"

#define BDRV_SECTOR_BITS 9
#define BDRV_SECTOR_SIZE (1 << BDRV_SECTOR_BITS)

typedef struct BlockDriverState BlockDriverState;
typedef struct BlockBackend BlockBackend;
typedef void BlockCompletionFunc(void *opaque, int ret);

typedef enum BlockAioMode {
    BLOCK_AIO_THREADS,
    BLOCK_AIO_IO_URING,
    BLOCK_AIO_NATIVE,           /* Linux AIO: served by io_uring here (docs/block.md) */
} BlockAioMode;

typedef enum BlockLockMode {
    BLOCK_LOCK_AUTO,
    BLOCK_LOCK_ON,
    BLOCK_LOCK_OFF,
} BlockLockMode;

/* Request flags. */
#define BDRV_REQ_MAY_UNMAP 0x1  /* write-zeroes may deallocate (discard=unmap) */
#define BDRV_REQ_FUA       0x2  /* write must be on stable storage at completion */

/* Options of a "file" node (QEMU's -blockdev driver=file members). */
typedef struct BlockFileOptions {
    const char *filename;
    bool read_only;
    bool direct;                /* cache.direct: O_DIRECT */
    bool no_flush;              /* cache.no-flush: flushes succeed at once */
    bool discard_unmap;         /* discard=unmap: punch holes */
    BlockAioMode aio;
    BlockLockMode locking;
} BlockFileOptions;

/* ---- nodes ------------------------------------------------------------ */

BlockDriverState *bdrv_open_file(const BlockFileOptions *o, Error **errp);
/* A raw format node over child (takes the reference).  size < 0: up to the
 * end of the child.  Fails if offset/size do not fit in the child. */
BlockDriverState *bdrv_open_raw(BlockDriverState *child, uint64_t offset, int64_t size,
                                Error **errp);
/* bs (a raw node) was opened writable with its format probed, not given:
 * from now on a write that would turn block 0 into another format's header
 * is refused with -EPERM, and a write into block 0 that does not cover all
 * of it with -EINVAL (QEMU's rule; docs/qcow2.md "Format probing"). */
void bdrv_raw_set_probed(BlockDriverState *bs);
/* The image format whose header b (the first len bytes of an image) is,
 * among those QEMU probes for, or NULL for none (raw). */
const char *bdrv_probe_signature(const uint8_t *b, size_t len);
/* A copy-on-write layer over base (takes the reference): a temporary qcow2
 * image in tmpdir (NULL: $TMPDIR or /var/tmp) with base as its backing
 * node, unlinked at once, so it vanishes with the process.  base is never
 * written. */
BlockDriverState *bdrv_open_snapshot_overlay(BlockDriverState *base, const char *tmpdir,
                                             Error **errp);
void bdrv_ref(BlockDriverState *bs);
void bdrv_unref(BlockDriverState *bs);
const char *bdrv_get_node_name(BlockDriverState *bs);
/* Node names are unique; setting one that exists fails. */
bool bdrv_set_node_name(BlockDriverState *bs, const char *name, Error **errp);
BlockDriverState *bdrv_find_node(const char *node_name);
/* Named nodes in creation order (NULL: the first). */
BlockDriverState *bdrv_next_named(BlockDriverState *bs);
const char *bdrv_get_format_name(BlockDriverState *bs);    /* "file", "raw", ... */
const char *bdrv_get_filename(BlockDriverState *bs);       /* the host file below */
bool bdrv_is_read_only(BlockDriverState *bs);
int64_t bdrv_getlength(BlockDriverState *bs);
/* The host file node at the bottom of bs's chain (through raw / overlay). */
BlockDriverState *bdrv_get_file(BlockDriverState *bs);
bool bdrv_is_snapshot_overlay(BlockDriverState *bs);
/* The image under a -snapshot overlay (bs itself if it is not one). */
BlockDriverState *bdrv_snapshot_overlay_base(BlockDriverState *bs);
/* The options the bottom file node was opened with. */
const BlockFileOptions *bdrv_file_options(BlockDriverState *bs);
/* Asynchronous requests straight on a node (BlockBackend wraps these). */
void bdrv_aio_preadv(BlockDriverState *bs, int64_t offset, struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque);
void bdrv_aio_pwritev(BlockDriverState *bs, int64_t offset, struct iovec *iov, int niov,
                      int flags, BlockCompletionFunc *cb, void *opaque);
void bdrv_aio_flush(BlockDriverState *bs, BlockCompletionFunc *cb, void *opaque);

/* Which I/O engine a file node uses ("io_uring" or "threads"). */
const char *bdrv_file_engine(BlockDriverState *bs);

/* ---- backends --------------------------------------------------------- */

/* What a device tells the backend about itself (all optional). */
typedef struct BlockDevOps {
    /* The medium was inserted (load) or removed (!load). */
    void (*change_media_cb)(void *opaque, bool load);
    /* Someone asked to eject (force: without waiting for the guest). */
    void (*eject_request_cb)(void *opaque, bool force);
    bool (*is_tray_open)(void *opaque);
    bool (*is_medium_locked)(void *opaque);
} BlockDevOps;

BlockBackend *blk_new(const char *name);        /* name may be NULL (anonymous) */
void blk_unref(BlockBackend *blk);
const char *blk_name(BlockBackend *blk);
BlockBackend *blk_by_name(const char *name);
/* Every named backend, in creation order (for query-block). */
BlockBackend *blk_next(BlockBackend *blk);       /* NULL: the first */

/* The medium: a root node or none. */
bool blk_insert_bs(BlockBackend *blk, BlockDriverState *bs, Error **errp);
void blk_remove_bs(BlockBackend *blk);
BlockDriverState *blk_bs(BlockBackend *blk);
bool blk_is_inserted(BlockBackend *blk);
/* Removable media (CD-ROM, floppy): eject/insert through the device's ops. */
void blk_set_removable(BlockBackend *blk, bool removable);
bool blk_is_removable(BlockBackend *blk);
bool blk_is_locked(BlockBackend *blk);
bool blk_is_tray_open(BlockBackend *blk);
/* Removes the medium (force: even if the guest locked it). */
bool blk_eject(BlockBackend *blk, bool force, Error **errp);
/* Inserts bs as the new medium and tells the device. */
bool blk_change_medium(BlockBackend *blk, BlockDriverState *bs, Error **errp);

/* One device per backend. */
bool blk_attach_dev(BlockBackend *blk, void *dev, const char *dev_id, Error **errp);
void blk_detach_dev(BlockBackend *blk, void *dev);
void *blk_get_attached_dev(BlockBackend *blk);
const char *blk_get_attached_dev_id(BlockBackend *blk);
void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque);

/* Read-only backends refuse writes, discards and write-zeroes (-EPERM). */
void blk_set_read_only(BlockBackend *blk, bool ro);
bool blk_is_read_only(BlockBackend *blk);
/* Write cache (cache.writeback): off = writethrough, every write is
 * flushed before it completes. */
void blk_set_enable_write_cache(BlockBackend *blk, bool wce);
bool blk_enable_write_cache(BlockBackend *blk);
/* discard=ignore|unmap as the drive was given (discards are no-ops when
 * ignore). */
void blk_set_discard(BlockBackend *blk, bool unmap);
bool blk_discard_enabled(BlockBackend *blk);

int64_t blk_getlength(BlockBackend *blk);       /* -ENOMEDIUM without medium */
uint64_t blk_get_nb_sectors(BlockBackend *blk); /* whole 512-byte sectors; 0 without medium */

/* Asynchronous requests.  iov must stay valid until the callback.  Errors:
 * -ENOMEDIUM, -EPERM (read-only), -EIO (beyond the end), or the host's. */
void blk_aio_preadv(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwritev(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                     int flags, BlockCompletionFunc *cb, void *opaque);
void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, int flags,
                           BlockCompletionFunc *cb, void *opaque);
/* Sector-based forms for disk frontends. */
void blk_aio_read_sectors(BlockBackend *blk, int64_t sector, void *buf, int nb_sectors,
                          BlockCompletionFunc *cb, void *opaque);
void blk_aio_write_sectors(BlockBackend *blk, int64_t sector, const void *buf, int nb_sectors,
                           BlockCompletionFunc *cb, void *opaque);

/* Synchronous forms (main thread only): 0 or -errno; -EDEADLK, with
 * nothing submitted, from a thread that cannot run the main loop. */
int blk_pread(BlockBackend *blk, int64_t offset, void *buf, int64_t bytes);
int blk_pwrite(BlockBackend *blk, int64_t offset, const void *buf, int64_t bytes, int flags);
int blk_flush(BlockBackend *blk);
int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes);
int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, int flags);
/* Requests submitted and not yet completed. */
unsigned blk_in_flight(BlockBackend *blk);
/* Runs the main loop until blk has no request in flight. */
void blk_drain(BlockBackend *blk);
void blk_drain_all(void);
/* Every writable backend drained and flushed (what QEMU's vm_stop does with
 * bdrv_flush_all: a stopped VM's images are complete on disk, qcow2's
 * deferred L2 entries included).  0 or the first error. */
int blk_flush_all(void);

/* ---- I/O accounting (QMP query-blockstats, HMP info blockstats) ------- */

/*
 * Every request a device submits through blk_aio_preadv/pwritev/flush/
 * pdiscard/pwrite_zeroes (and the sector forms) is counted when it
 * completes, as QEMU's block/accounting.c counts a device's requests:
 * success: one operation and its bytes; error: one failed operation;
 * either way its time from submission to completion (QEMU_CLOCK_REALTIME)
 * is added to total_time_ns and marks the last access.  A request that
 * fails the backend's range check (-EIO: negative, or past the end of the
 * medium) is an invalid operation instead (QEMU's devices count their own
 * range checks so).  Write-zeroes counts as a write, discard as an unmap
 * (with its bytes).  The synchronous forms (blk_pread, blk_flush, ...) are
 * not counted: they are for firmware loaders, geometry probes and tools,
 * which QEMU does not account either.  Everything runs under the BQL.
 */
typedef enum BlockAcctType {
    BLOCK_ACCT_READ,
    BLOCK_ACCT_WRITE,           /* writes and write-zeroes */
    BLOCK_ACCT_FLUSH,
    BLOCK_ACCT_UNMAP,           /* discards */
    BLOCK_ACCT__MAX,
} BlockAcctType;

typedef struct BlockAcctStats {
    uint64_t bytes[BLOCK_ACCT__MAX];        /* of the successful operations */
    uint64_t ops[BLOCK_ACCT__MAX];          /* successful, merged guest requests included */
    uint64_t failed_ops[BLOCK_ACCT__MAX];
    uint64_t invalid_ops[BLOCK_ACCT__MAX];
    uint64_t merged[BLOCK_ACCT__MAX];       /* blk_account_merged() */
    uint64_t total_time_ns[BLOCK_ACCT__MAX];
    int64_t last_access_ns;     /* qemu_clock_get_ns(QEMU_CLOCK_REALTIME); 0: no I/O yet */
} BlockAcctStats;

/* The backend's counters (they survive medium changes, as QEMU's). */
const BlockAcctStats *blk_get_stats(BlockBackend *blk);

/*
 * For a device that merges guest requests into one backend request
 * (virtio-blk): call it right after the blk_aio_* call that submitted the
 * merged request, with n = how many guest requests were folded into it
 * beyond the first (QEMU's block_acct_merge_done(num_reqs - 1)).  type is
 * BLOCK_ACCT_READ, BLOCK_ACCT_WRITE or BLOCK_ACCT_UNMAP (FLUSH is
 * ignored).  merged[type] grows by n at once; when the request completes
 * it counts 1 + n operations (or failed operations) and 1 + n times its
 * latency, as QEMU counts every guest request.  If that request already
 * completed (or there is none), n is added to ops[type] at once.
 */
void blk_account_merged(BlockBackend *blk, BlockAcctType type, unsigned n);

/* For a device that refuses a guest request itself (its own range check,
 * as QEMU's IDE, SCSI and virtio-blk call block_acct_invalid): counts one
 * invalid operation and marks the last access.  No backend request. */
void blk_account_invalid(BlockBackend *blk, BlockAcctType type);

/* The end of the highest write (and write-zeroes) a backend completed on
 * this node while it was the backend's root: QEMU's wr_highest_offset.
 * Nodes below a root are not accounted (0). */
uint64_t bdrv_get_wr_highest_offset(BlockDriverState *bs);

#endif
