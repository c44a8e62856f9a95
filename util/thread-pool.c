/*
 * The thread pool for blocking work; see include/qemu/thread-pool.h.
 *
 * A request is queued (not started), then running (a worker has it), then
 * done (its completion waits for the main loop).  One mutex guards the
 * queues and counters; workers never hold it while running work.  A
 * bottom half runs the completions, so they arrive in the main loop with
 * the BQL held, in the order the work finished.
 */
#include <errno.h>
#include <glib.h>
#include "qemu/error.h"
#include "qemu/thread-pool.h"
#include "system/main-loop.h"

typedef enum RequestState {
    REQ_QUEUED,
    REQ_RUNNING,
    REQ_DONE,
} RequestState;

struct ThreadPoolRequest {
    ThreadPoolFunc *fn;
    void *opaque;
    ThreadPoolCompletion *done;
    int ret;
    RequestState state;
    GList link;                 /* in `queued` or in `completed` */
};

typedef struct ThreadPool {
    GMutex lock;
    GCond work_available;       /* workers wait here */
    GCond all_finished;         /* drain waits here for in_flight == 0 */
    GQueue queued;
    GQueue completed;
    unsigned in_flight;         /* queued + running */
    unsigned workers, idle_workers;
    unsigned max_workers;
    gint64 idle_timeout_us;
    QEMUBH *completion_bh;
} ThreadPool;

static ThreadPool pool = {
    .queued = G_QUEUE_INIT,
    .completed = G_QUEUE_INIT,
    .max_workers = THREAD_POOL_MAX_WORKERS_DEFAULT,
    .idle_timeout_us = THREAD_POOL_IDLE_TIMEOUT_MS_DEFAULT * 1000LL,
};

/* Called with pool.lock held, returns with it let go: completion_bh is
 * scheduled after that (the main loop it wakes takes the lock first
 * thing). */
static void request_finish_unlock(ThreadPoolRequest *req, int ret)
{
    req->ret = ret;
    req->state = REQ_DONE;
    g_queue_push_tail_link(&pool.completed, &req->link);
    if (--pool.in_flight == 0) {
        g_cond_broadcast(&pool.all_finished);
    }
    g_mutex_unlock(&pool.lock);
    qemu_bh_schedule(pool.completion_bh);
}

static gpointer worker_thread(gpointer unused)
{
    g_mutex_lock(&pool.lock);
    for (;;) {
        ThreadPoolRequest *req;
        int ret;

        if (pool.workers > pool.max_workers) {
            break;              /* the limit was lowered */
        }
        if (!pool.queued.head) {
            gint64 deadline = g_get_monotonic_time() + pool.idle_timeout_us;
            bool woken;

            pool.idle_workers++;
            woken = g_cond_wait_until(&pool.work_available, &pool.lock, deadline);
            pool.idle_workers--;
            if (!woken && !pool.queued.head) {
                break;          /* idle for idle_timeout */
            }
            continue;
        }
        req = g_queue_pop_head_link(&pool.queued)->data;
        req->state = REQ_RUNNING;
        g_mutex_unlock(&pool.lock);
        ret = req->fn(req->opaque);
        g_mutex_lock(&pool.lock);
        request_finish_unlock(req, ret);
        g_mutex_lock(&pool.lock);
    }
    pool.workers--;
    g_mutex_unlock(&pool.lock);
    return NULL;
}

/* With pool.lock held: make sure some thread will take the new work.
 * *signal: an idle worker is to be woken, which the caller does after it
 * has let the lock go (woken under the lock, the worker would at once
 * block on it: two more thread switches per request). */
static bool kick_worker(bool *signal)
{
    GThread *t;
    GError *err = NULL;

    *signal = pool.idle_workers > 0;
    if (pool.queued.length <= pool.idle_workers || pool.workers >= pool.max_workers) {
        return true;
    }
    t = g_thread_try_new("worker", worker_thread, NULL, &err);
    if (!t) {
        error_report("thread pool: cannot start a worker: %s", err->message);
        g_error_free(err);
        return pool.workers > 0;
    }
    g_thread_unref(t);
    pool.workers++;
    return true;
}

static bool run_completions(void)
{
    GList *link;
    bool ran = false;

    g_mutex_lock(&pool.lock);
    while ((link = g_queue_pop_head_link(&pool.completed))) {
        ThreadPoolRequest *req = link->data;
        g_mutex_unlock(&pool.lock);
        req->done(req->opaque, req->ret);
        g_free(req);
        ran = true;
        g_mutex_lock(&pool.lock);
    }
    g_mutex_unlock(&pool.lock);
    return ran;
}

static void completion_bh(void *opaque)
{
    run_completions();
}

ThreadPoolRequest *thread_pool_submit(ThreadPoolFunc *fn, void *opaque,
                                      ThreadPoolCompletion *done)
{
    ThreadPoolRequest *req = g_new0(ThreadPoolRequest, 1);
    bool signal;

    if (!pool.completion_bh) {
        pool.completion_bh = qemu_bh_new(completion_bh, NULL);
    }
    req->fn = fn;
    req->opaque = opaque;
    req->done = done;
    req->state = REQ_QUEUED;
    req->link.data = req;
    g_mutex_lock(&pool.lock);
    g_queue_push_tail_link(&pool.queued, &req->link);
    pool.in_flight++;
    if (!kick_worker(&signal)) {
        /* No thread at all: do the work here rather than never. */
        g_queue_unlink(&pool.queued, &req->link);
        g_mutex_unlock(&pool.lock);
        int ret = fn(opaque);
        g_mutex_lock(&pool.lock);
        request_finish_unlock(req, ret);
        return req;
    }
    g_mutex_unlock(&pool.lock);
    if (signal) {
        g_cond_signal(&pool.work_available);
    }
    return req;
}

bool thread_pool_cancel(ThreadPoolRequest *req)
{
    g_mutex_lock(&pool.lock);
    if (req->state == REQ_QUEUED) {
        g_queue_unlink(&pool.queued, &req->link);
        request_finish_unlock(req, -ECANCELED);
        return true;
    }
    g_mutex_unlock(&pool.lock);
    return false;
}

bool thread_pool_drain(void)
{
    bool ran = false;

    for (;;) {
        g_mutex_lock(&pool.lock);
        while (pool.in_flight) {
            g_cond_wait(&pool.all_finished, &pool.lock);
        }
        g_mutex_unlock(&pool.lock);
        if (!run_completions()) {
            return ran;
        }
        ran = true;
    }
}

void thread_pool_set_limits(unsigned max_workers, unsigned idle_timeout_ms)
{
    g_mutex_lock(&pool.lock);
    pool.max_workers = max_workers ? max_workers : 1;
    pool.idle_timeout_us = idle_timeout_ms * 1000LL;
    g_cond_broadcast(&pool.work_available);     /* extra workers leave */
    g_mutex_unlock(&pool.lock);
}

unsigned thread_pool_workers(void)
{
    unsigned n;

    g_mutex_lock(&pool.lock);
    n = pool.workers;
    g_mutex_unlock(&pool.lock);
    return n;
}

unsigned thread_pool_idle_workers(void)
{
    unsigned n;

    g_mutex_lock(&pool.lock);
    n = pool.idle_workers;
    g_mutex_unlock(&pool.lock);
    return n;
}
