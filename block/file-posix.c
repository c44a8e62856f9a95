/*
 * Driver "file": a host file or block device.
 *
 * I/O runs on one of two engines: io_uring (one ring for the process,
 * whose completions wake the main loop through an eventfd) or the thread
 * pool (preadv/pwritev/fdatasync/fallocate on a worker).  Requests io_uring
 * cannot take as they are (discard, write-zeroes, O_DIRECT requests that
 * need a bounce buffer, a full ring) go to the thread pool.
 *
 * Image locking follows QEMU's scheme so that kvmpc and QEMU see each
 * other's locks: one byte per permission at 100 + bit ("I use it") and
 * 200 + bit ("nobody else may"), held as shared OFD read locks; a conflict
 * is an exclusive lock that F_OFD_GETLK says would not be granted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/falloc.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config-host.h"
#include "block/block-int.h"
#include "qemu/event_notifier.h"
#include "qemu/log.h"
#include "qemu/thread-pool.h"
#include "system/main-loop.h"
#ifdef CONFIG_LIBURING
#include <liburing.h>
#endif

/* QEMU's permission bits and the names its lock messages use. */
enum {
    PERM_CONSISTENT_READ = 0x01,
    PERM_WRITE = 0x02,
    PERM_WRITE_UNCHANGED = 0x04,
    PERM_RESIZE = 0x08,
    PERM_ALL = 0x0f,
};
#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200
static const char *const perm_names[] = {
    "consistent read", "write", "write unchanged", "resize",
};

/* Alignment of buffers handed to O_DIRECT I/O. */
#define DIRECT_BUF_ALIGN 4096
#define URING_ENTRIES 128
#define URING_MAX_IN_FLIGHT 256

typedef struct FileState {
    int fd;
    BlockFileOptions opts;
    bool is_blockdev;
    bool use_uring;
    bool locked;
    unsigned req_align;         /* O_DIRECT offset/length alignment (1 without) */
    GQueue in_flight, waiting;  /* O_DIRECT writes: see file_submit() */
    bool no_nowait;             /* preadv2(RWF_NOWAIT) is refused here */
} FileState;

void (*block_file_sync_hook)(const char *filename, int ret);
bool block_file_io_uring_disabled;
uint64_t block_file_nowait_reads;

/* ---- locking ---------------------------------------------------------- */

static int lock_byte(int fd, int64_t off, short type, int cmd)
{
    struct flock fl = {
        .l_whence = SEEK_SET,
        .l_start = off,
        .l_len = 1,
        .l_type = type,
    };

    if (fcntl(fd, cmd, &fl) < 0) {
        return -errno;
    }
    if (cmd == F_OFD_GETLK) {
        return fl.l_type == F_UNLCK ? 0 : -EAGAIN;
    }
    return 0;
}

static void file_unlock_all(int fd)
{
    struct flock fl = { .l_whence = SEEK_SET, .l_start = LOCK_PERM_BASE,
                        .l_len = LOCK_SHARED_BASE + 8 - LOCK_PERM_BASE,
                        .l_type = F_UNLCK };

    fcntl(fd, F_OFD_SETLK, &fl);
}

/* Takes our lock bytes, then checks nobody else holds a conflicting one. */
static int file_lock(int fd, unsigned perm, unsigned shared, const char *filename,
                     Error **errp)
{
    unsigned unshared = PERM_ALL & ~shared;
    int ret;

    for (int i = 0; i < 4; i++) {
        if ((perm & (1u << i)) &&
            (ret = lock_byte(fd, LOCK_PERM_BASE + i, F_RDLCK, F_OFD_SETLK)) < 0) {
            goto fail_errno;
        }
        if ((unshared & (1u << i)) &&
            (ret = lock_byte(fd, LOCK_SHARED_BASE + i, F_RDLCK, F_OFD_SETLK)) < 0) {
            goto fail_errno;
        }
    }
    for (int i = 0; i < 4; i++) {
        if ((perm & (1u << i)) &&
            lock_byte(fd, LOCK_SHARED_BASE + i, F_WRLCK, F_OFD_GETLK) == -EAGAIN) {
            error_setg(errp, "Failed to get \"%s\" lock\n"
                       "Is another process using the image [%s]?", perm_names[i], filename);
            goto fail;
        }
        if ((unshared & (1u << i)) &&
            lock_byte(fd, LOCK_PERM_BASE + i, F_WRLCK, F_OFD_GETLK) == -EAGAIN) {
            error_setg(errp, "Failed to get shared \"%s\" lock\n"
                       "Is another process using the image [%s]?", perm_names[i], filename);
            goto fail;
        }
    }
    return 0;

fail_errno:
    error_setg_errno(errp, -ret, "Failed to lock byte %d of '%s'", LOCK_PERM_BASE, filename);
fail:
    file_unlock_all(fd);
    return -1;
}

/* ---- blocking I/O (thread-pool workers) ------------------------------- */

static bool iov_is_aligned(const struct iovec *iov, int niov, unsigned align)
{
    for (int i = 0; i < niov; i++) {
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (align - 1)) {
            return false;
        }
    }
    return true;
}

static bool request_needs_bounce(FileState *s, BlockRequest *req)
{
    if (!s->opts.direct) {
        return false;
    }
    return ((req->offset | req->bytes) & (s->req_align - 1)) ||
           !iov_is_aligned(req->iov, req->niov, MAX(s->req_align, 512));
}

/* preadv/pwritev until done: reads past the end of the file give zeroes. */
static int file_rw_vector(FileState *s, bool write, int64_t offset, struct iovec *iov_in,
                          int niov)
{
    g_autofree struct iovec *iov = g_memdup2(iov_in, sizeof(*iov) * niov);
    struct iovec *cur = iov;
    int left = niov;

    while (left > 0) {
        ssize_t n = write ? pwritev(s->fd, cur, MIN(left, IOV_MAX), offset)
                          : preadv(s->fd, cur, MIN(left, IOV_MAX), offset);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            if (write) {
                return -EIO;
            }
            for (int i = 0; i < left; i++) {
                memset(cur[i].iov_base, 0, cur[i].iov_len);
            }
            return 0;
        }
        offset += n;
        while (left > 0 && (size_t)n >= cur->iov_len) {
            n -= cur->iov_len;
            cur++;
            left--;
        }
        if (left > 0) {
            cur->iov_base = (uint8_t *)cur->iov_base + n;
            cur->iov_len -= n;
        }
    }
    return 0;
}

static int file_rw_flat(FileState *s, bool write, int64_t offset, void *buf, int64_t bytes)
{
    struct iovec iov = { .iov_base = buf, .iov_len = bytes };

    return file_rw_vector(s, write, offset, &iov, 1);
}

/* O_DIRECT with an unaligned request or buffer: through an aligned bounce
 * buffer, reading the partial head and tail blocks first for a write. */
static int file_rw_bounce(FileState *s, BlockRequest *req, bool write)
{
    unsigned a = s->req_align;
    int64_t start = req->offset & ~(int64_t)(a - 1);
    int64_t end = (req->offset + req->bytes + a - 1) & ~(int64_t)(a - 1);
    int64_t chunk_max = 1 << 20;
    int ret = 0;

    /* Large requests go in aligned chunks of at most 1 MiB. */
    for (int64_t pos = start; pos < end && ret == 0; pos += chunk_max) {
        int64_t len = MIN(chunk_max, end - pos);
        int64_t lo = MAX(pos, req->offset), hi = MIN(pos + len, req->offset + req->bytes);
        void *buf;

        if (posix_memalign(&buf, DIRECT_BUF_ALIGN, len)) {
            return -ENOMEM;
        }
        if (!write) {
            ret = file_rw_flat(s, false, pos, buf, len);
            if (ret == 0) {
                iov_from_buf(req->iov, req->niov, lo - req->offset, (uint8_t *)buf + (lo - pos),
                             hi - lo);
            }
        } else {
            if (lo != pos || hi != pos + len) {
                ret = file_rw_flat(s, false, pos, buf, len);
            }
            if (ret == 0) {
                iov_to_buf(req->iov, req->niov, lo - req->offset, (uint8_t *)buf + (lo - pos),
                           hi - lo);
                ret = file_rw_flat(s, true, pos, buf, len);
            }
        }
        free(buf);
    }
    return ret;
}

static int file_flush_blocking(BlockDriverState *bs, FileState *s)
{
    int ret = 0;

    if (s->opts.no_flush) {
        return 0;
    }
    if (fdatasync(s->fd) < 0) {
        ret = -errno;
    }
    if (block_file_sync_hook) {
        block_file_sync_hook(bs->filename, ret);
    }
    return ret;
}

static int file_write_zeroes_blocking(FileState *s, BlockRequest *req)
{
    struct stat st;
    int64_t chunk = 1 << 20;
    void *zeroes;
    int ret = 0;

    if ((req->flags & BDRV_REQ_MAY_UNMAP) && s->opts.discard_unmap && !s->is_blockdev &&
        fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, req->offset,
                  req->bytes) == 0) {
        return 0;
    }
    if (!s->is_blockdev &&
        fallocate(s->fd, FALLOC_FL_ZERO_RANGE, req->offset, req->bytes) == 0) {
        return 0;
    }
    /* past the end a file reads as zeroes: allocating there is enough
     * (QEMU's file-posix does the same where ZERO_RANGE is missing: tmpfs) */
    if (!s->is_blockdev && fstat(s->fd, &st) == 0 && req->offset >= st.st_size &&
        fallocate(s->fd, 0, req->offset, req->bytes) == 0) {
        return 0;
    }
    if (posix_memalign(&zeroes, DIRECT_BUF_ALIGN, chunk)) {
        return -ENOMEM;
    }
    memset(zeroes, 0, chunk);
    for (int64_t pos = 0; pos < req->bytes && ret == 0; pos += chunk) {
        struct iovec iov = { .iov_base = zeroes, .iov_len = MIN(chunk, req->bytes - pos) };
        BlockRequest sub = { .type = BLOCK_REQ_WRITE, .offset = req->offset + pos,
                             .bytes = iov.iov_len, .iov = &iov, .niov = 1 };
        ret = request_needs_bounce(s, &sub) ? file_rw_bounce(s, &sub, true)
                                            : file_rw_vector(s, true, sub.offset, &iov, 1);
    }
    free(zeroes);
    return ret;
}

static int file_run_blocking(BlockDriverState *bs, BlockRequest *req)
{
    FileState *s = bs->opaque;

    switch (req->type) {
    case BLOCK_REQ_READ:
    case BLOCK_REQ_WRITE: {
        bool write = req->type == BLOCK_REQ_WRITE;
        if (request_needs_bounce(s, req)) {
            return file_rw_bounce(s, req, write);
        }
        return file_rw_vector(s, write, req->offset, req->iov, req->niov);
    }
    case BLOCK_REQ_FLUSH:
        return file_flush_blocking(bs, s);
    case BLOCK_REQ_DISCARD:
        /* Advisory: a file system without hole punching just keeps the data. */
        if (s->opts.discard_unmap && !s->is_blockdev) {
            fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, req->offset,
                      req->bytes);
        }
        return 0;
    case BLOCK_REQ_WRITE_ZEROES:
        return file_write_zeroes_blocking(s, req);
    }
    return -EINVAL;
}

/* ---- io_uring --------------------------------------------------------- */

#ifdef CONFIG_LIBURING
static struct io_uring uring;
static EventNotifier uring_notifier;
static int uring_state;             /* 0 untried, 1 ready, -errno failed */
static unsigned uring_in_flight;

typedef struct UringReq {
    BlockRequest *req;
    struct iovec *iov;              /* our copy, advanced on short transfers */
    int niov;
    int64_t offset;
} UringReq;

static void uring_queue(UringReq *u);

static void uring_complete(UringReq *u, int ret)
{
    BlockRequest *req = u->req;

    if (req->type == BLOCK_REQ_FLUSH && block_file_sync_hook) {
        block_file_sync_hook(req->bs->filename, ret);
    }
    g_free(u->iov);
    g_free(u);
    block_request_complete(req, ret);
}

static void uring_process(UringReq *u, int res)
{
    BlockRequest *req = u->req;

    if (res == -EINTR || res == -EAGAIN) {
        uring_queue(u);
        return;
    }
    if (res < 0 || req->type == BLOCK_REQ_FLUSH) {
        uring_complete(u, res < 0 ? res : 0);
        return;
    }
    if (res == 0) {
        if (req->type == BLOCK_REQ_WRITE) {
            uring_complete(u, -EIO);
            return;
        }
        for (int i = 0; i < u->niov; i++) {
            memset(u->iov[i].iov_base, 0, u->iov[i].iov_len);   /* past EOF */
        }
        uring_complete(u, 0);
        return;
    }
    u->offset += res;
    while (u->niov > 0 && (size_t)res >= u->iov->iov_len) {
        res -= u->iov->iov_len;
        memmove(u->iov, u->iov + 1, sizeof(*u->iov) * --u->niov);
    }
    if (u->niov == 0) {
        uring_complete(u, 0);
        return;
    }
    u->iov->iov_base = (uint8_t *)u->iov->iov_base + res;
    u->iov->iov_len -= res;
    uring_queue(u);                 /* short transfer: the rest */
}

static void uring_reap(EventNotifier *e)
{
    struct io_uring_cqe *cqe;

    event_notifier_test_and_clear(e);
    while (io_uring_peek_cqe(&uring, &cqe) == 0) {
        UringReq *u = io_uring_cqe_get_data(cqe);
        int res = cqe->res;

        io_uring_cqe_seen(&uring, cqe);
        uring_in_flight--;
        uring_process(u, res);
    }
}

static int uring_fallback_worker(void *opaque)
{
    UringReq *u = opaque;
    FileState *s = u->req->bs->opaque;

    if (u->req->type == BLOCK_REQ_FLUSH) {
        return fdatasync(s->fd) < 0 ? -errno : 0;
    }
    return file_rw_vector(s, u->req->type == BLOCK_REQ_WRITE, u->offset, u->iov, u->niov);
}

static void uring_fallback_done(void *opaque, int ret)
{
    uring_complete(opaque, ret);
}

static void uring_queue(UringReq *u)
{
    FileState *s = u->req->bs->opaque;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&uring);

    if (!sqe) {
        io_uring_submit(&uring);
        sqe = io_uring_get_sqe(&uring);
    }
    if (!sqe) {
        /* Not with the in-flight cap; should it happen, finish on a worker. */
        thread_pool_submit(uring_fallback_worker, u, uring_fallback_done);
        return;
    }
    switch (u->req->type) {
    case BLOCK_REQ_READ:
        io_uring_prep_readv(sqe, s->fd, u->iov, MIN(u->niov, IOV_MAX), u->offset);
        break;
    case BLOCK_REQ_WRITE:
        io_uring_prep_writev(sqe, s->fd, u->iov, MIN(u->niov, IOV_MAX), u->offset);
        break;
    default:
        io_uring_prep_fsync(sqe, s->fd, IORING_FSYNC_DATASYNC);
        break;
    }
    io_uring_sqe_set_data(sqe, u);
    uring_in_flight++;
    io_uring_submit(&uring);
}

/* main_loop_drain(): wait for what is in the ring (reset, exit). */
static bool uring_drain(void)
{
    struct io_uring_cqe *cqe;
    int ret;

    if (!uring_in_flight) {
        return false;
    }
    do {
        ret = io_uring_wait_cqe(&uring, &cqe);
    } while (ret == -EINTR);
    uring_reap(&uring_notifier);
    return true;
}

static bool uring_init(Error **errp)
{
    int ret;

    if (uring_state == 1) {
        return true;
    }
    if (block_file_io_uring_disabled) {
        error_setg(errp, "io_uring disabled by a test hook");
        return false;
    }
    ret = io_uring_queue_init(URING_ENTRIES, &uring, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "io_uring_queue_init failed");
        return false;
    }
    if (!event_notifier_init(&uring_notifier, errp)) {
        io_uring_queue_exit(&uring);
        return false;
    }
    ret = io_uring_register_eventfd(&uring, event_notifier_get_fd(&uring_notifier));
    if (ret < 0) {
        error_setg_errno(errp, -ret, "io_uring_register_eventfd failed");
        event_notifier_cleanup(&uring_notifier);
        io_uring_queue_exit(&uring);
        return false;
    }
    event_notifier_set_handler(&uring_notifier, uring_reap);
    main_loop_add_drain_handler(uring_drain);
    uring_state = 1;
    return true;
}

static bool uring_submit(FileState *s, BlockRequest *req)
{
    UringReq *u;

    if (!s->use_uring || uring_in_flight >= URING_MAX_IN_FLIGHT ||
        req->type == BLOCK_REQ_DISCARD || req->type == BLOCK_REQ_WRITE_ZEROES ||
        ((req->type == BLOCK_REQ_READ || req->type == BLOCK_REQ_WRITE) &&
         request_needs_bounce(s, req))) {
        return false;
    }
    u = g_new0(UringReq, 1);
    u->req = req;
    u->niov = req->niov;
    u->iov = g_memdup2(req->iov, sizeof(*req->iov) * req->niov);
    u->offset = req->offset;
    uring_queue(u);
    return true;
}
#else
static bool uring_init(Error **errp)
{
    error_setg(errp, "kvmpc was built without liburing");
    return false;
}

static bool uring_submit(FileState *s, BlockRequest *req)
{
    return false;
}
#endif

/* ---- the driver ------------------------------------------------------- */

/* Like QEMU's close of every image at exit: what the guest wrote reaches
 * the disk even if it never flushed (cache=unsafe excepted). */
static GList *writable_files;       /* FileState * */

static void file_flush_all_at_exit(void)
{
    for (GList *l = writable_files; l; l = l->next) {
        FileState *s = l->data;
        if (!s->opts.no_flush) {
            fdatasync(s->fd);
        }
    }
}

static int file_in_worker(void *opaque)
{
    BlockRequest *req = opaque;

    return file_run_blocking(req->bs, req);
}

static void file_worker_done(void *opaque, int ret)
{
    block_request_complete(opaque, ret);
}

/*
 * The thread pool's fast path for reads the host's page cache holds: a
 * buffered read is first tried on the submitting thread with
 * preadv2(RWF_NOWAIT), which copies what is cached and never waits for
 * the disk (EAGAIN instead).  If it got every byte, the request completes
 * from a bottom half, as always outside the submitting call; that saves
 * handing the request to a worker and the worker's wake-up of the main
 * loop, two thread switches of the three a request costs (docs/block.md).
 * Anything short of all of it (a page not cached, the end of the file, an
 * error) goes to a worker as before, which reads it again whole.  Writes
 * have no such path: ext4 refuses RWF_NOWAIT for buffered writes.
 */
static bool file_try_read_nowait(FileState *s, BlockRequest *req)
{
#ifdef RWF_NOWAIT
    ssize_t n;

    if (req->type != BLOCK_REQ_READ || s->opts.direct || s->use_uring || s->no_nowait ||
        req->niov > IOV_MAX) {
        return false;
    }
    n = preadv2(s->fd, req->iov, req->niov, req->offset, RWF_NOWAIT);
    if (n == req->bytes) {
        block_file_nowait_reads++;
        block_request_complete_later(req, 0);
        return true;
    }
    if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)) {
        s->no_nowait = true;        /* an old kernel or a file system without it */
    }
#endif
    return false;
}

static void file_dispatch(FileState *s, BlockRequest *req)
{
    if (file_try_read_nowait(s, req)) {
        return;
    }
    if (!uring_submit(s, req)) {
        thread_pool_submit(file_in_worker, req, file_worker_done);
    }
}

/*
 * O_DIRECT read-modify-write: a write that is not aligned to the device's
 * block reads the partial blocks around it and writes them back whole, so
 * it must not run alongside another write to the same blocks (one of the
 * two updates would be lost).  Such writes are serialised here, in the
 * main thread: a write waits while an overlapping write is in flight if
 * either of them is a read-modify-write.
 */
typedef struct Tracked {
    BlockRequest *req;
    int64_t start, end;         /* aligned to the request alignment */
    bool write, rmw;
    BlockCompletionFunc *cb;
    void *opaque;
    FileState *s;
} Tracked;

static bool tracked_conflict(const Tracked *a, const Tracked *b)
{
    return a->write && b->write && (a->rmw || b->rmw) &&
           a->start < b->end && b->start < a->end;
}

static bool tracked_may_start(FileState *s, Tracked *t)
{
    for (GList *l = s->in_flight.head; l; l = l->next) {
        if (tracked_conflict(l->data, t)) {
            return false;
        }
    }
    /* Keep order with earlier waiters it overlaps. */
    for (GList *l = s->waiting.head; l && l->data != t; l = l->next) {
        if (tracked_conflict(l->data, t)) {
            return false;
        }
    }
    return true;
}

static void tracked_done(void *opaque, int ret)
{
    Tracked *t = opaque;
    FileState *s = t->s;
    BlockCompletionFunc *cb = t->cb;
    void *cb_opaque = t->opaque;

    g_queue_remove(&s->in_flight, t);
    g_free(t);
    for (GList *l = s->waiting.head; l;) {
        Tracked *w = l->data;
        GList *next = l->next;
        if (tracked_may_start(s, w)) {
            g_queue_delete_link(&s->waiting, l);
            g_queue_push_tail(&s->in_flight, w);
            file_dispatch(s, w->req);
        }
        l = next;
    }
    cb(cb_opaque, ret);
}

static void file_submit(BlockDriverState *bs, BlockRequest *req)
{
    FileState *s = bs->opaque;
    Tracked *t;

    if (req->type == BLOCK_REQ_FLUSH && s->opts.no_flush) {
        block_request_complete_later(req, 0);
        return;
    }
    if (!s->opts.direct || req->type == BLOCK_REQ_FLUSH || req->type == BLOCK_REQ_DISCARD) {
        file_dispatch(s, req);
        return;
    }
    t = g_new0(Tracked, 1);
    t->req = req;
    t->s = s;
    t->start = req->offset & ~(int64_t)(s->req_align - 1);
    t->end = (req->offset + req->bytes + s->req_align - 1) & ~(int64_t)(s->req_align - 1);
    t->write = req->type != BLOCK_REQ_READ;
    t->rmw = req->type == BLOCK_REQ_WRITE_ZEROES ||
             (req->type == BLOCK_REQ_WRITE && request_needs_bounce(s, req));
    t->cb = req->cb;
    t->opaque = req->opaque;
    req->cb = tracked_done;
    req->opaque = t;
    if (tracked_may_start(s, t)) {
        g_queue_push_tail(&s->in_flight, t);
        file_dispatch(s, req);
    } else {
        g_queue_push_tail(&s->waiting, t);
    }
}

static int64_t file_getlength(BlockDriverState *bs)
{
    FileState *s = bs->opaque;
    struct stat st;

    if (s->is_blockdev) {
        off_t end = lseek(s->fd, 0, SEEK_END);
        return end < 0 ? -errno : end;
    }
    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return st.st_size;
}

static void file_close(BlockDriverState *bs)
{
    FileState *s = bs->opaque;

    writable_files = g_list_remove(writable_files, s);
    if (!s->opts.read_only && !s->opts.no_flush) {
        fdatasync(s->fd);
    }
    if (s->locked) {
        file_unlock_all(s->fd);
    }
    close(s->fd);
    g_free((char *)s->opts.filename);
    g_free(s);
}

static const BlockDriver file_driver = {
    .format_name = "file",
    .close = file_close,
    .getlength = file_getlength,
    .submit = file_submit,
    .run_blocking = file_run_blocking,
};

/* O_DIRECT's request alignment: the device's logical block size, or for a
 * file the smallest power of two a direct read accepts (QEMU probes too). */
static unsigned file_probe_alignment(FileState *s)
{
    void *buf;
    unsigned align = 4096;

    if (s->is_blockdev) {
        int sz;
        if (ioctl(s->fd, BLKSSZGET, &sz) == 0 && sz >= 512) {
            return sz;
        }
        return 4096;
    }
    if (posix_memalign(&buf, DIRECT_BUF_ALIGN, 4096)) {
        return 4096;
    }
    for (unsigned a = 512; a <= 4096; a <<= 1) {
        if (pread(s->fd, buf, a, 0) >= 0) {
            align = a;
            break;
        }
    }
    free(buf);
    return align;
}

BlockDriverState *bdrv_open_file(const BlockFileOptions *o, Error **errp)
{
    FileState *s;
    BlockDriverState *bs;
    struct stat st;
    int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    int fd;

    if (!o->filename || !o->filename[0]) {
        error_setg(errp, "A filename is required for the 'file' driver");
        return NULL;
    }
    fd = open(o->filename, flags | (o->direct ? O_DIRECT : 0));
    if (fd < 0 && o->direct && errno == EINVAL) {
        error_setg(errp, "Could not open '%s': the host file system does not support "
                   "O_DIRECT (cache.direct=on, cache=none|directsync); use "
                   "cache=writeback or cache=writethrough", o->filename);
        return NULL;
    }
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", o->filename);
        return NULL;
    }
    if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
        error_setg(errp, "Could not open '%s': not a regular file or block device",
                   o->filename);
        close(fd);
        return NULL;
    }
    s = g_new0(FileState, 1);
    s->fd = fd;
    s->opts = *o;
    s->opts.filename = g_strdup(o->filename);
    s->is_blockdev = S_ISBLK(st.st_mode);
    s->req_align = o->direct ? file_probe_alignment(s) : 1;

    if (o->locking != BLOCK_LOCK_OFF) {
        unsigned perm = o->read_only ? PERM_CONSISTENT_READ
                        : PERM_CONSISTENT_READ | PERM_WRITE | PERM_WRITE_UNCHANGED;
        unsigned shared = PERM_CONSISTENT_READ | PERM_WRITE_UNCHANGED;
        struct flock probe = { .l_whence = SEEK_SET, .l_start = LOCK_PERM_BASE, .l_len = 1,
                               .l_type = F_WRLCK };

        if (fcntl(fd, F_OFD_GETLK, &probe) < 0 && o->locking == BLOCK_LOCK_AUTO) {
            /* auto: a file system without OFD locks is used unlocked */
            qemu_log_mask(LOG_UNIMP, "%s: no OFD locks, image locking off\n", o->filename);
        } else if (file_lock(fd, perm, shared, o->filename, errp) < 0) {
            close(fd);
            g_free((char *)s->opts.filename);
            g_free(s);
            return NULL;
        } else {
            s->locked = true;
        }
    }

    if (o->aio != BLOCK_AIO_THREADS) {
        Error *err = NULL;
        if (uring_init(&err)) {
            s->use_uring = true;
        } else {
            warn_report("%s: aio=%s falls back to the thread pool (%s)", o->filename,
                        o->aio == BLOCK_AIO_NATIVE ? "native" : "io_uring", err->message);
            error_free(err);
        }
    }
    if (!o->read_only) {
        static bool atexit_done;
        if (!atexit_done) {
            atexit(file_flush_all_at_exit);
            atexit_done = true;
        }
        writable_files = g_list_prepend(writable_files, s);
    }
    bs = bdrv_new(&file_driver, s);
    bs->filename = g_strdup(o->filename);
    bs->read_only = o->read_only;
    return bs;
}

const char *bdrv_file_engine(BlockDriverState *bs)
{
    bs = bdrv_get_file(bs);
    if (bs->drv != &file_driver) {
        return "none";
    }
    return ((FileState *)bs->opaque)->use_uring ? "io_uring" : "threads";
}

const BlockFileOptions *bdrv_file_options(BlockDriverState *bs)
{
    bs = bdrv_get_file(bs);
    return bs->drv == &file_driver ? &((FileState *)bs->opaque)->opts : NULL;
}
