/*
 * The block layer's driver interface (for block/ drivers: file, raw,
 * snapshot-overlay today; qcow2 next).
 *
 * A driver serves BlockRequests.  It implements either
 *  - submit(): start the request and, some time later, call
 *    block_request_complete() from the main loop (the file driver with
 *    io_uring or the thread pool; raw, which shifts the offset and hands
 *    the request to its child), or
 *  - run_blocking(): do the request synchronously on the calling thread,
 *    which is a thread-pool worker without the BQL; the core submits it to
 *    the thread pool.  A driver that only has run_blocking() reaches its
 *    children with bdrv_run_blocking(), so the whole request runs on one
 *    worker (the snapshot overlay; a qcow2 driver may do the same).
 * The core checks bounds, read-only and medium before the driver sees a
 * request: a driver gets only requests inside [0, getlength).
 */
#ifndef KVMPC_BLOCK_BLOCK_INT_H
#define KVMPC_BLOCK_BLOCK_INT_H

#include "block/block.h"

typedef enum BlockRequestType {
    BLOCK_REQ_READ,
    BLOCK_REQ_WRITE,
    BLOCK_REQ_FLUSH,
    BLOCK_REQ_DISCARD,
    BLOCK_REQ_WRITE_ZEROES,
} BlockRequestType;

typedef struct BlockRequest BlockRequest;
struct BlockRequest {
    BlockRequestType type;
    int64_t offset, bytes;
    struct iovec *iov;
    int niov;
    int flags;                  /* BDRV_REQ_* */
    BlockCompletionFunc *cb;
    void *opaque;
    /* The core's bookkeeping. */
    BlockDriverState *bs;
    int ret;
    void *priv;                 /* the driver's, while it owns the request */
};

typedef struct BlockDriver {
    const char *format_name;
    void (*close)(BlockDriverState *bs);
    int64_t (*getlength)(BlockDriverState *bs);
    void (*submit)(BlockDriverState *bs, BlockRequest *req);
    int (*run_blocking)(BlockDriverState *bs, BlockRequest *req);
} BlockDriver;

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;               /* the driver's state */
    BlockDriverState *child;    /* the node below (raw, overlay), or NULL */
    char *node_name;
    char *filename;             /* the host file at the bottom */
    bool read_only;
    int refcnt;
    /* Offset + bytes of the highest write a BlockBackend completed with
     * this node as its root (block.h: bdrv_get_wr_highest_offset). */
    uint64_t wr_highest_offset;
};

BlockDriverState *bdrv_new(const BlockDriver *drv, void *opaque);
/* Hand a checked request to bs's driver. */
void bdrv_submit(BlockDriverState *bs, BlockRequest *req);
/* Run a request synchronously on this (worker) thread: 0 or -errno. */
int bdrv_run_blocking(BlockDriverState *bs, BlockRequest *req);
/* Finish req (main thread): calls its callback with ret and frees it. */
void block_request_complete(BlockRequest *req, int ret);
/* The same from a bottom half (never inside the submitting call). */
void block_request_complete_later(BlockRequest *req, int ret);

/* Sum of the lengths of an I/O vector. */
int64_t iov_size(const struct iovec *iov, int niov);
/* Copy between an I/O vector (from byte offset off) and a flat buffer. */
void iov_to_buf(const struct iovec *iov, int niov, int64_t off, void *buf, int64_t bytes);
void iov_from_buf(const struct iovec *iov, int niov, int64_t off, const void *buf,
                  int64_t bytes);

/* Test hook: called on the thread that ran it, after every fdatasync()
 * (or io_uring fsync) of a file node returned; ret is its result. */
extern void (*block_file_sync_hook)(const char *filename, int ret);
/* Test hook: forces io_uring initialisation to fail (the threads fallback). */
extern bool block_file_io_uring_disabled;
/* Reads the thread-pool engine served from the page cache on the
 * submitting thread (preadv2 RWF_NOWAIT), for tests and benchmarks. */
extern uint64_t block_file_nowait_reads;

#endif
