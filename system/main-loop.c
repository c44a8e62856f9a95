/*
 * The main loop: a GLib main context run by the main thread with the big
 * lock held except while polling; clocks and timers as a GSource.
 */
#define _GNU_SOURCE     /* ppoll */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include "system/main-loop.h"
#include "system/runstate.h"
#include "qemu/error.h"
#include "qemu/thread-pool.h"

/* ---- the big lock ----------------------------------------------------- */

/*
 * The BQL is handed out in turn, and the main loop goes first.
 *
 * A plain mutex is not fair: a vCPU thread that drops it and takes it
 * again a few microseconds later (one KVM_RUN for a port write) nearly
 * always wins against the main loop, whose wake-up takes longer, and QMP
 * starves while the guest spins on I/O.  Here other threads take a ticket
 * and are served in order (vCPUs cannot starve one another), while the
 * main loop's thread, which drops the lock only to poll, takes it as soon
 * as the current holder lets go: it never waits behind a queue of vCPU
 * threads, each of which would first have to be woken and scheduled (on
 * an overcommitted host that convoy costs milliseconds per turn).
 *
 * bql_mutex only guards this state and is never held for long; condition
 * waits that drop the BQL (bql_cond_wait) wait on it, then queue again.
 */
static GMutex bql_mutex;
static GCond bql_turn;
static bool bql_taken;
static bool bql_main_waiting;       /* the main loop is next */
static unsigned bql_next_ticket;
static unsigned bql_now_serving;
static __thread bool bql_held;
static __thread bool bql_is_main;   /* main_loop_init() sets it */

/* For KVMPC_BQL_STATS=1 (printed at exit): how the main loop fared. */
static struct {
    uint64_t acquisitions;          /* by anyone */
    uint64_t main_waits;            /* the main loop found the lock taken */
    uint64_t main_max_overtaken;    /* others' acquisitions during one wait */
    int64_t main_max_wait_ns;
    int64_t main_total_wait_ns;
    uint64_t main_last_overtaken;   /* during the main loop's last acquisition */
} bql_stats;

uint64_t bql_main_last_overtaken(void)
{
    return bql_stats.main_last_overtaken;
}

static int64_t get_monotonic_ns(void);

static void (*bql_contention_hook)(bool main_thread);

void bql_set_contention_hook(void (*fn)(bool main_thread))
{
    bql_contention_hook = fn;
}

/* With bql_mutex held. */
static void bql_acquire(void)
{
    if (bql_is_main) {
        if (bql_taken) {
            uint64_t before = bql_stats.acquisitions;
            int64_t t0 = get_monotonic_ns(), waited;

            bql_main_waiting = true;
            while (bql_taken) {
                if (bql_contention_hook) {
                    bql_contention_hook(true);
                }
                /* Kick again every 20 ms: a lost kick then costs a
                 * hiccup, not a main loop starved for as long as the
                 * guest stays in guest code (a polling loop: forever). */
                g_cond_wait_until(&bql_turn, &bql_mutex, g_get_monotonic_time() + 20000);
            }
            bql_main_waiting = false;
            waited = get_monotonic_ns() - t0;
            bql_stats.main_waits++;
            bql_stats.main_total_wait_ns += waited;
            bql_stats.main_max_wait_ns = MAX(bql_stats.main_max_wait_ns, waited);
            bql_stats.main_last_overtaken = bql_stats.acquisitions - before;
            bql_stats.main_max_overtaken = MAX(bql_stats.main_max_overtaken,
                                               bql_stats.main_last_overtaken);
        } else {
            bql_stats.main_last_overtaken = 0;
        }
    } else {
        /* seq_cst: a vCPU starting a slice stores that it runs, then
         * reads the queue (bql_others_waiting); we take a ticket, then
         * the hook reads whether a vCPU runs: one of us sees the other. */
        unsigned me = __atomic_fetch_add(&bql_next_ticket, 1, __ATOMIC_SEQ_CST);
        while (bql_taken || bql_main_waiting || me != bql_now_serving) {
            /* Whoever holds it now, or takes it before our turn, may be a
             * vCPU running guest code: each holder hears that someone
             * waits (not only the first).  Also when the lock is free at
             * this instant: a thread ahead of us is about to take it, and
             * we sleep until it lets go, so we could not tell it later. */
            if (bql_contention_hook) {
                bql_contention_hook(false);
            }
            g_cond_wait(&bql_turn, &bql_mutex);
        }
        __atomic_store_n(&bql_now_serving, bql_now_serving + 1, __ATOMIC_SEQ_CST);
    }
    bql_taken = true;
    bql_stats.acquisitions++;
}

/* With bql_mutex held. */
static void bql_release(void)
{
    bql_taken = false;
    if (bql_main_waiting || bql_next_ticket != bql_now_serving) {
        g_cond_broadcast(&bql_turn);
    }
}

void bql_lock(void)
{
    g_mutex_lock(&bql_mutex);
    bql_acquire();
    g_mutex_unlock(&bql_mutex);
    bql_held = true;
}

void bql_unlock(void)
{
    bql_held = false;
    g_mutex_lock(&bql_mutex);
    bql_release();
    g_mutex_unlock(&bql_mutex);
}

/* bql_lock() when that needs no wait: nobody holds the lock and nobody
 * queues for it (the main loop's claim included); false otherwise. */
bool bql_trylock(void)
{
    bool ok;

    g_mutex_lock(&bql_mutex);
    ok = !bql_taken && !bql_main_waiting && bql_next_ticket == bql_now_serving;
    if (ok) {
        bql_taken = true;       /* the tickets stay equal: no one was queued */
        bql_stats.acquisitions++;
    }
    g_mutex_unlock(&bql_mutex);
    if (ok) {
        bql_held = true;
    }
    return ok;
}

bool bql_others_waiting(void)
{
    return __atomic_load_n(&bql_next_ticket, __ATOMIC_SEQ_CST) !=
           __atomic_load_n(&bql_now_serving, __ATOMIC_SEQ_CST);
}

bool bql_locked(void)
{
    return bql_held;
}

/*
 * The signaller changes its condition with the BQL held, which it can only
 * have taken after we gave it up below with bql_mutex held until
 * g_cond_wait released it: a wake-up cannot fall between the two.
 */
void bql_cond_wait(GCond *cond)
{
    bql_held = false;
    g_mutex_lock(&bql_mutex);
    bql_release();
    g_cond_wait(cond, &bql_mutex);
    bql_acquire();
    g_mutex_unlock(&bql_mutex);
    bql_held = true;
}

void bql_cond_wait_until(GCond *cond, gint64 end_monotonic_us)
{
    bql_held = false;
    g_mutex_lock(&bql_mutex);
    bql_release();
    g_cond_wait_until(cond, &bql_mutex, end_monotonic_us);
    bql_acquire();
    g_mutex_unlock(&bql_mutex);
    bql_held = true;
}

/* ---- clocks ----------------------------------------------------------- */

static int64_t get_monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

/* Virtual clock: host monotonic minus the time spent stopped, or a manual
 * counter under qtest.  Writers (start, stop, qtest's steps) serialise on
 * vclock_lock and bump vclock_seq around each change; readers, on any
 * thread and often (every guest RDTSC under tcg-lite goes through here),
 * take no lock: they read under the sequence count and retry when a
 * change overlapped (a seqlock). */
static GMutex vclock_lock;
static unsigned vclock_seq;         /* odd while a writer changes the fields */
static bool vclock_running;
static bool vclock_manual;
static int64_t vclock_offset;       /* running: virtual = monotonic - offset */
static int64_t vclock_frozen;       /* stopped / manual: the value */

/* With vclock_lock held. */
static void vclock_write_begin(void)
{
    __atomic_store_n(&vclock_seq, vclock_seq + 1, __ATOMIC_RELAXED);
    /* a full fence: the odd count is visible to every reader before this
     * writer reads the host clock (see vclock_read) */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void vclock_write_end(void)
{
    __atomic_store_n(&vclock_seq, vclock_seq + 1, __ATOMIC_RELEASE);
}

#define VCLOCK_SET(field, val) __atomic_store_n(&(field), (val), __ATOMIC_RELAXED)
#define VCLOCK_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static int64_t vclock_read(void)
{
    for (;;) {
        unsigned seq = __atomic_load_n(&vclock_seq, __ATOMIC_ACQUIRE);
        if (seq & 1) {
            /* a writer is inside (a few instructions; yield in case it
             * was preempted there and waits for this CPU) */
            g_thread_yield();
            continue;
        }
        bool live = VCLOCK_GET(vclock_running) && !VCLOCK_GET(vclock_manual);
        /* the host clock is read inside the section: a stop that follows
         * freezes a later value than this one, so the clock never goes
         * back (with the writer's full fence and the lfence below: without
         * the fence, the odd count sat in the writer's store buffer while
         * it read the clock, and readers saw the clock go back) */
        int64_t v = live ? get_monotonic_ns() - VCLOCK_GET(vclock_offset)
                         : VCLOCK_GET(vclock_frozen);
        /* and the check below reads the count after the host clock was
         * read (x86 performs a later load before RDTSC otherwise) */
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_lfence();
#else
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&vclock_seq, __ATOMIC_RELAXED) == seq) {
            return v;
        }
    }
}

int64_t qemu_clock_get_ns(QEMUClockType type)
{
    struct timespec ts;

    switch (type) {
    case QEMU_CLOCK_REALTIME:
        return get_monotonic_ns();
    case QEMU_CLOCK_HOST:
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
    case QEMU_CLOCK_VIRTUAL:
    default:
        return vclock_read();
    }
}

void qemu_clock_virtual_start(void)
{
    g_mutex_lock(&vclock_lock);
    if (!vclock_running) {
        vclock_write_begin();
        VCLOCK_SET(vclock_offset, get_monotonic_ns() - vclock_frozen);
        VCLOCK_SET(vclock_running, true);
        vclock_write_end();
    }
    g_mutex_unlock(&vclock_lock);
    main_loop_notify();
}

void qemu_clock_virtual_stop(void)
{
    g_mutex_lock(&vclock_lock);
    if (vclock_running) {
        vclock_write_begin();
        if (!vclock_manual) {
            VCLOCK_SET(vclock_frozen, get_monotonic_ns() - vclock_offset);
        }
        VCLOCK_SET(vclock_running, false);
        vclock_write_end();
    }
    g_mutex_unlock(&vclock_lock);
}

void qemu_clock_virtual_set_manual(bool manual)
{
    g_mutex_lock(&vclock_lock);
    vclock_write_begin();
    if (manual && !vclock_manual && vclock_running) {
        VCLOCK_SET(vclock_frozen, get_monotonic_ns() - vclock_offset);
    }
    VCLOCK_SET(vclock_manual, manual);
    vclock_write_end();
    g_mutex_unlock(&vclock_lock);
}

bool qemu_clock_virtual_is_manual(void)
{
    return VCLOCK_GET(vclock_manual);
}

/* ---- timers ----------------------------------------------------------- */

struct QEMUTimer {
    QEMUClockType type;
    QEMUTimerCB *cb;
    void *opaque;
    int64_t expire;             /* -1: not pending */
    QEMUTimerList *tl;          /* the list it is armed on */
};

/* Pending timers per clock, sorted by expiry, and who runs them: the main
 * loop (main_timers, notify NULL) or another thread (a vCPU: notify tells
 * it that its earliest deadline moved).  All under the BQL. */
struct QEMUTimerList {
    GList *active[QEMU_CLOCK_MAX];
    void (*notify)(void *opaque);
    void *opaque;
};

static QEMUTimerList main_timers;

QEMUTimerList *timerlist_new(void (*notify)(void *opaque), void *opaque)
{
    QEMUTimerList *tl = g_new0(QEMUTimerList, 1);

    tl->notify = notify;
    tl->opaque = opaque;
    return tl;
}

void timerlist_free(QEMUTimerList *tl)
{
    if (!tl) {
        return;
    }
    /* Timers still armed on it go back to the main loop's list. */
    for (int c = 0; c < QEMU_CLOCK_MAX; c++) {
        while (tl->active[c]) {
            QEMUTimer *t = tl->active[c]->data;
            int64_t expire = t->expire;
            timer_set_list(t, NULL);
            timer_mod(t, expire);
        }
    }
    g_free(tl);
}

QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb, void *opaque)
{
    QEMUTimer *t = g_new0(QEMUTimer, 1);

    t->type = type;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    t->tl = &main_timers;
    return t;
}

void timer_set_list(QEMUTimer *t, QEMUTimerList *tl)
{
    int64_t expire = t->expire;

    timer_del(t);
    t->tl = tl ? tl : &main_timers;
    if (expire >= 0) {
        timer_mod(t, expire);
    }
}

void timer_del(QEMUTimer *t)
{
    if (t && t->expire >= 0) {
        t->tl->active[t->type] = g_list_remove(t->tl->active[t->type], t);
        t->expire = -1;
    }
}

void timer_free(QEMUTimer *t)
{
    timer_del(t);
    g_free(t);
}

/* Used only by g_list_insert_sorted(new, listed): never "equal", so that a
 * timer goes after those already armed for the same time (FIFO, as QEMU). */
static gint timer_cmp(gconstpointer a, gconstpointer b)
{
    const QEMUTimer *x = a, *y = b;
    return x->expire < y->expire ? -1 : 1;
}

void timer_mod(QEMUTimer *t, int64_t expire_ns)
{
    QEMUTimerList *tl = t->tl;
    bool head;

    timer_del(t);
    t->expire = expire_ns < 0 ? 0 : expire_ns;
    tl->active[t->type] = g_list_insert_sorted(tl->active[t->type], t, timer_cmp);
    head = tl->active[t->type]->data == t;
    if (tl == &main_timers) {
        if (!bql_locked() || head) {
            main_loop_notify();
        }
    } else if (head && tl->notify) {
        tl->notify(tl->opaque);
    }
}

bool timer_pending(QEMUTimer *t)
{
    return t->expire >= 0;
}

int64_t timer_expire_time_ns(QEMUTimer *t)
{
    return t->expire;
}

/* Run the timers of one clock that are due at `now`.  A callback may
 * re-arm or delete timers, so take one at a time from the head. */
static bool run_timers(QEMUTimerList *tl, QEMUClockType type, int64_t now)
{
    bool ran = false;

    while (tl->active[type]) {
        QEMUTimer *t = tl->active[type]->data;
        if (t->expire > now) {
            break;
        }
        tl->active[type] = g_list_delete_link(tl->active[type], tl->active[type]);
        t->expire = -1;
        t->cb(t->opaque);
        ran = true;
    }
    return ran;
}

int64_t qemu_clock_virtual_deadline(void)
{
    GList *l = main_timers.active[QEMU_CLOCK_VIRTUAL];

    return l ? ((QEMUTimer *)l->data)->expire : -1;
}

int64_t qemu_clock_virtual_advance(int64_t to_ns)
{
    /* Step through each deadline so callbacks see the clock at their time. */
    for (;;) {
        int64_t d = qemu_clock_virtual_deadline();
        if (d < 0 || d > to_ns) {
            break;
        }
        g_mutex_lock(&vclock_lock);
        if (d > vclock_frozen) {
            vclock_write_begin();
            VCLOCK_SET(vclock_frozen, d);
            vclock_write_end();
        }
        g_mutex_unlock(&vclock_lock);
        run_timers(&main_timers, QEMU_CLOCK_VIRTUAL, d);
    }
    int64_t now;
    g_mutex_lock(&vclock_lock);
    if (to_ns > vclock_frozen) {
        vclock_write_begin();
        VCLOCK_SET(vclock_frozen, to_ns);
        vclock_write_end();
    }
    now = vclock_frozen;
    g_mutex_unlock(&vclock_lock);
    return now;
}

/* Nanoseconds until the next timer of any running clock on tl (0: one is
 * due), or -1 if none is pending. */
int64_t timerlist_timeout_ns(QEMUTimerList *tl)
{
    int64_t best = -1;

    tl = tl ? tl : &main_timers;
    for (int c = 0; c < QEMU_CLOCK_MAX; c++) {
        if (!tl->active[c]) {
            continue;
        }
        if (c == QEMU_CLOCK_VIRTUAL && (!VCLOCK_GET(vclock_running) || VCLOCK_GET(vclock_manual))) {
            continue;
        }
        int64_t delta = ((QEMUTimer *)tl->active[c]->data)->expire - qemu_clock_get_ns(c);
        if (delta < 0) {
            delta = 0;
        }
        if (best < 0 || delta < best) {
            best = delta;
        }
    }
    return best;
}

static int64_t timers_timeout_ns(void)
{
    return timerlist_timeout_ns(&main_timers);
}

/* For GLib, which counts in milliseconds: rounded up (the poll function
 * below waits for the exact time). */
static int timers_timeout_ms(void)
{
    int64_t ns = timers_timeout_ns();

    if (ns < 0) {
        return -1;
    }
    return (int)MIN((ns + SCALE_MS - 1) / SCALE_MS, 3600 * 1000);
}

bool timerlist_run_due(QEMUTimerList *tl)
{
    bool ran = false;

    tl = tl ? tl : &main_timers;
    ran |= run_timers(tl, QEMU_CLOCK_REALTIME, qemu_clock_get_ns(QEMU_CLOCK_REALTIME));
    ran |= run_timers(tl, QEMU_CLOCK_HOST, qemu_clock_get_ns(QEMU_CLOCK_HOST));
    if (VCLOCK_GET(vclock_running) && !VCLOCK_GET(vclock_manual)) {
        ran |= run_timers(tl, QEMU_CLOCK_VIRTUAL, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }
    return ran;
}

static void timers_run_due(void)
{
    timerlist_run_due(&main_timers);
}

static gboolean timer_source_prepare(GSource *s, gint *timeout)
{
    *timeout = timers_timeout_ms();
    return *timeout == 0;
}

static gboolean timer_source_check(GSource *s)
{
    return timers_timeout_ns() == 0;
}

static gboolean timer_source_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    timers_run_due();
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_source_prepare,
    .check = timer_source_check,
    .dispatch = timer_source_dispatch,
};

/* ---- bottom halves ------------------------------------------------------ */

struct QEMUBH {
    QEMUBHFunc *cb;
    void *opaque;
    bool scheduled;             /* under bh_lock; then `link` is in bh_queue */
    GList link;
};

/* Scheduled BHs in scheduling order.  Any thread schedules; the main
 * thread runs them. */
static GMutex bh_lock;
static GQueue bh_queue = G_QUEUE_INIT;

QEMUBH *qemu_bh_new(QEMUBHFunc *cb, void *opaque)
{
    QEMUBH *bh = g_new0(QEMUBH, 1);

    bh->cb = cb;
    bh->opaque = opaque;
    bh->link.data = bh;
    return bh;
}

void qemu_bh_schedule(QEMUBH *bh)
{
    bool newly;

    g_mutex_lock(&bh_lock);
    newly = !bh->scheduled;
    if (newly) {
        bh->scheduled = true;
        g_queue_push_tail_link(&bh_queue, &bh->link);
    }
    g_mutex_unlock(&bh_lock);
    if (newly) {
        main_loop_notify();
    }
}

void qemu_bh_cancel(QEMUBH *bh)
{
    g_mutex_lock(&bh_lock);
    if (bh->scheduled) {
        g_queue_unlink(&bh_queue, &bh->link);
        bh->scheduled = false;
    }
    g_mutex_unlock(&bh_lock);
}

void qemu_bh_delete(QEMUBH *bh)
{
    if (bh) {
        qemu_bh_cancel(bh);
        g_free(bh);
    }
}

/* ---- completions on the vCPU thread --------------------------------------- */

#define VCPU_IO_QUEUE VCPU_IO_DEFER_MAX

static __thread struct {
    unsigned depth;             /* accesses in progress (nested: DMA to MMIO) */
    unsigned head, n;           /* the ring */
    unsigned run;               /* completions run by this drain */
    struct {
        QEMUBHFunc *cb;
        void *opaque;
    } q[VCPU_IO_QUEUE];
} vio;

uint64_t vcpu_io_deferred_total;

void vcpu_io_begin(void)
{
    vio.depth++;
}

void vcpu_io_end(void)
{
    if (vio.depth > 1 || !vio.n) {
        vio.depth--;
        return;
    }
    /* Still "in an access" while draining: a completion that starts more
     * work defers it to this same loop, not to a nested one. */
    while (vio.n) {
        QEMUBHFunc *cb = vio.q[vio.head].cb;
        void *opaque = vio.q[vio.head].opaque;
        vio.head = (vio.head + 1) % VCPU_IO_QUEUE;
        vio.n--;
        vio.run++;
        __atomic_fetch_add(&vcpu_io_deferred_total, 1, __ATOMIC_RELAXED);
        cb(opaque);
    }
    vio.run = 0;
    vio.depth--;
}

bool vcpu_io_defer(QEMUBHFunc *cb, void *opaque)
{
    /* run + n < VCPU_IO_DEFER_MAX == VCPU_IO_QUEUE: the ring never overflows */
    if (!vio.depth || vio.run + vio.n >= VCPU_IO_DEFER_MAX || !bql_locked()) {
        return false;
    }
    vio.q[(vio.head + vio.n) % VCPU_IO_QUEUE].cb = cb;
    vio.q[(vio.head + vio.n) % VCPU_IO_QUEUE].opaque = opaque;
    vio.n++;
    return true;
}

static bool bh_pending(void)
{
    bool r;

    g_mutex_lock(&bh_lock);
    r = bh_queue.length > 0;
    g_mutex_unlock(&bh_lock);
    return r;
}

/* Runs the BHs scheduled when called (not those they schedule: a BH that
 * re-schedules itself runs again in the next iteration, so it cannot
 * starve the poll).  A callback may cancel or delete any BH, itself too. */
static bool bh_run_pending(void)
{
    unsigned n;
    bool ran = false;

    g_mutex_lock(&bh_lock);
    n = bh_queue.length;
    while (n-- > 0 && bh_queue.head) {
        QEMUBH *bh = bh_queue.head->data;
        g_queue_unlink(&bh_queue, &bh->link);
        bh->scheduled = false;
        g_mutex_unlock(&bh_lock);
        bh->cb(bh->opaque);
        ran = true;
        g_mutex_lock(&bh_lock);
    }
    g_mutex_unlock(&bh_lock);
    return ran;
}

static gboolean bh_source_prepare(GSource *s, gint *timeout)
{
    *timeout = -1;
    return bh_pending();
}

static gboolean bh_source_check(GSource *s)
{
    return bh_pending();
}

static gboolean bh_source_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    bh_run_pending();
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs bh_source_funcs = {
    .prepare = bh_source_prepare,
    .check = bh_source_check,
    .dispatch = bh_source_dispatch,
};

/* ---- the loop --------------------------------------------------------- */

/*
 * GLib's poll function: GLib counts its timeout in milliseconds, which
 * would make a timer 50 us away fire a millisecond late.  The timer
 * source's own deadline is recomputed here in nanoseconds and the smaller
 * of the two is given to ppoll().  GPollFD has struct pollfd's layout on
 * Linux (GLib relies on it too).  The big lock is dropped while blocked,
 * so that vCPU threads can handle exits.
 */
static gint poll_ns(GPollFD *fds, guint nfds, gint timeout_ms)
{
    int64_t ns = timeout_ms < 0 ? -1 : timeout_ms * SCALE_MS;
    int64_t timers = timers_timeout_ns();
    struct timespec ts;
    gint r;

    if (timers >= 0 && (ns < 0 || timers < ns)) {
        ns = timers;
    }
    if (ns == 0) {
        return poll((struct pollfd *)fds, nfds, 0);
    }
    ts.tv_sec = ns / NANOSECONDS_PER_SECOND;
    ts.tv_nsec = ns % NANOSECONDS_PER_SECOND;
    bql_unlock();
    r = ppoll((struct pollfd *)fds, nfds, ns < 0 ? NULL : &ts, NULL);
    bql_lock();
    return r;
}

static void attach_source(GSourceFuncs *funcs)
{
    GSource *src = g_source_new(funcs, sizeof(GSource));

    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_attach(src, NULL);
    g_source_unref(src);
}

void main_loop_init(void)
{
    static bool done;

    if (done) {
        return;
    }
    done = true;
    bql_is_main = true;
    /* Without this the kernel may add up to 50 us to every wake-up. */
    prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    g_main_context_set_poll_func(NULL, poll_ns);
    attach_source(&timer_source_funcs);
    attach_source(&bh_source_funcs);
    if (!bql_locked()) {
        bql_lock();
    }
}

static bool (*drain_handlers[4])(void);

void main_loop_add_drain_handler(bool (*fn)(void))
{
    for (size_t i = 0; i < G_N_ELEMENTS(drain_handlers); i++) {
        if (!drain_handlers[i] || drain_handlers[i] == fn) {
            drain_handlers[i] = fn;
            return;
        }
    }
    g_assert_not_reached();
}

void main_loop_drain(void)
{
    for (int round = 0; round < 1000; round++) {
        bool busy = thread_pool_drain();
        for (size_t i = 0; i < G_N_ELEMENTS(drain_handlers) && drain_handlers[i]; i++) {
            busy |= drain_handlers[i]();
        }
        busy |= bh_run_pending();
        if (!busy) {
            return;
        }
    }
    error_report("main loop: bottom halves keep scheduling themselves; drain gave up");
}

void main_loop_notify(void)
{
    g_main_context_wakeup(NULL);
}

void main_loop_iterate(bool blocking)
{
    g_main_context_iteration(NULL, blocking);
}

static void bql_print_stats(void)
{
    const char *env = getenv("KVMPC_BQL_STATS");

    if (!env || strcmp(env, "1")) {
        return;
    }
    g_mutex_lock(&bql_mutex);
    fprintf(stderr, "bql-stats: acquisitions %" PRIu64 " main-waits %" PRIu64
            " main-max-overtaken %" PRIu64 " main-max-wait-us %" PRId64
            " main-mean-wait-us %" PRId64 "\n", bql_stats.acquisitions,
            bql_stats.main_waits, bql_stats.main_max_overtaken,
            bql_stats.main_max_wait_ns / 1000,
            bql_stats.main_waits ? bql_stats.main_total_wait_ns / 1000 /
                                   (int64_t)bql_stats.main_waits : 0);
    g_mutex_unlock(&bql_mutex);
}

int main_loop_run(void)
{
    int status = 0;

    for (;;) {
        if (runstate_handle_requests(&status)) {
            bql_print_stats();
            return status;
        }
        g_main_context_iteration(NULL, TRUE);
    }
}

typedef struct CallData {
    void (*fn)(void *);
    void *opaque;
} CallData;

static gboolean call_in_main(gpointer p)
{
    CallData *cd = p;

    cd->fn(cd->opaque);
    g_free(cd);
    return G_SOURCE_REMOVE;
}

void main_loop_call(void (*fn)(void *opaque), void *opaque)
{
    CallData *cd = g_new(CallData, 1);

    cd->fn = fn;
    cd->opaque = opaque;
    g_idle_add(call_in_main, cd);
    main_loop_notify();
}
