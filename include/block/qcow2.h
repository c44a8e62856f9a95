/*
 * The qcow2 format driver (block/qcow2.c, docs/qcow2.md) and the image
 * helpers kvmpc-img and blockdev.c share.
 *
 * Everything here is synchronous: it runs on the calling thread through
 * bdrv_run_blocking() (the main thread of kvmpc-img, a thread-pool worker
 * inside kvmpc), never through the main loop.
 */
#ifndef KVMPC_BLOCK_QCOW2_H
#define KVMPC_BLOCK_QCOW2_H

#include "block/block-int.h"

/* A qcow2 format node over file (takes the reference).  Opens the backing
 * chain named in the header (read-only) unless QCOW2_OPEN_NO_BACKING.  A
 * corrupt image opens read-only only (QCOW2_OPEN_CHECK: read-write, for
 * check -r); unknown incompatible features refuse. */
#define QCOW2_OPEN_NO_BACKING 1
#define QCOW2_OPEN_CHECK 2
/* The -snapshot overlay (block/snapshot-overlay.c): qcow2_is_temporary(). */
#define QCOW2_OPEN_TEMPORARY 4
BlockDriverState *bdrv_open_qcow2(BlockDriverState *file, bool read_only, int flags,
                                  Error **errp);
/* "qcow2" if filename starts with the qcow2 magic, else "raw" (NULL and
 * errp set if it cannot be read). */
const char *bdrv_probe_format(const char *filename, Error **errp);
/* filename as a node of format (NULL: probed) over a file node.  *probed
 * (may be NULL) says the format was guessed. */
BlockDriverState *bdrv_open_image(const char *filename, const char *format, bool read_only,
                                  bool *probed, Error **errp);
bool bdrv_is_qcow2(BlockDriverState *bs);

/* Synchronous I/O on any node (this thread). */
int bdrv_sync_io(BlockDriverState *bs, BlockRequestType type, int64_t offset, void *buf,
                 int64_t bytes, int flags);

typedef struct Qcow2CreateOptions {
    uint64_t size;
    int cluster_size;           /* 0: 65536 */
    int version;                /* 2 (compat=0.10) or 3 (1.1, the default) */
    int refcount_bits;          /* 0: 16 */
    bool lazy_refcounts;
    bool extended_l2;
    int compression_type;       /* 0 zlib, 1 zstd */
    const char *backing_file;
    const char *backing_fmt;
    const char *preallocation;  /* NULL/"off", "metadata", "falloc", "full" */
    bool backing_unchecked;     /* do not open the backing file: size and backing_fmt given */
} Qcow2CreateOptions;

bool qcow2_create(const char *filename, const Qcow2CreateOptions *o, Error **errp);
/* The backing file BACKING_FILE of an image FILENAME would have (a relative
 * name is relative to FILENAME's directory), opened read-only. */
BlockDriverState *qcow2_open_backing_of(const char *filename, const char *backing_file,
                                        const char *backing_fmt, Error **errp);

typedef struct Qcow2ImageInfo {
    uint64_t size;
    int version;
    int cluster_size;
    int refcount_bits;
    bool lazy_refcounts, dirty, corrupt, extended_l2;
    int compression_type;
    const char *backing_file;   /* owned by the node */
    const char *backing_fmt;
} Qcow2ImageInfo;

void qcow2_get_info(BlockDriverState *bs, Qcow2ImageInfo *info);

typedef struct Qcow2CheckResult {
    int64_t corruptions, leaks, corruptions_fixed, leaks_fixed, check_errors;
    int64_t image_end_offset, total_clusters, allocated_clusters, fragmented_clusters,
            compressed_clusters;
    GString *log;               /* the per-cluster lines (caller frees) */
} Qcow2CheckResult;

#define QCOW2_FIX_LEAKS 1
#define QCOW2_FIX_ERRORS 2
int qcow2_check(BlockDriverState *bs, int fix, Qcow2CheckResult *r);

/* Where [offset, offset + bytes) comes from, for its first *pnum bytes. */
#define QCOW2_ST_UNALLOC 0       /* not in this image (backing or zero) */
#define QCOW2_ST_ZERO 1          /* reads as zeroes (zero flag) */
#define QCOW2_ST_DATA 2          /* data at *host */
#define QCOW2_ST_COMPRESSED 3
int qcow2_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                       uint64_t *host);
/* Writes one whole guest cluster compressed (the cluster must be
 * unallocated). */
int qcow2_write_compressed(BlockDriverState *bs, int64_t offset, const void *buf);
/* The two halves of it, so that a caller compresses clusters in parallel
 * and writes them in order: qcow2_compress_cluster() compresses one
 * cluster into out (cluster_size bytes) and returns the compressed length,
 * 0 when it does not shrink; it reads only the image's constant geometry
 * and may run on any thread at any time.  qcow2_write_compressed_data()
 * (one thread at a time, as every other write) stores the cluster at
 * offset from that result, or buf as it is when len is 0. */
size_t qcow2_compress_cluster(BlockDriverState *bs, const void *in, void *out);
int qcow2_write_compressed_data(BlockDriverState *bs, int64_t offset, const void *buf,
                                const void *comp, size_t len);
int qcow2_cluster_size(BlockDriverState *bs);
/* Changes the virtual size (growing only unless shrink). */
int qcow2_truncate(BlockDriverState *bs, uint64_t size, Error **errp);
BlockDriverState *qcow2_backing(BlockDriverState *bs);
bool qcow2_is_temporary(BlockDriverState *bs);
/* Replaces the backing node (blockdev backing=NODE; takes a reference). */
void qcow2_set_backing(BlockDriverState *bs, BlockDriverState *backing);

/* Rewrites the backing file name (NULL: none) and format in the header. */
int qcow2_change_backing_file(BlockDriverState *bs, const char *name, const char *fmt,
                              Error **errp);
/* amend -o lazy_refcounts=on|off (v3 images). */
int qcow2_set_lazy_refcounts(BlockDriverState *bs, bool on, Error **errp);
/* qemu-img amend's compat= (version 2 or 3, 0: as it is) and refcount_bits=
 * (0: as it is): upgrade, refcount structures rewritten, downgrade (zero
 * clusters expanded), with qemu-img's refusals. */
int qcow2_amend(BlockDriverState *bs, int version, int refcount_bits, Error **errp);

#endif
