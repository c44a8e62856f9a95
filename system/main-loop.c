/*
 * The main loop: a GLib main context run by the main thread with the big
 * lock held except while polling; clocks and timers as a GSource.
 */
#include <errno.h>
#include <time.h>
#include "system/main-loop.h"
#include "system/runstate.h"

/* ---- the big lock ----------------------------------------------------- */

static GMutex bql;
static __thread bool bql_held;

void bql_lock(void)
{
    g_mutex_lock(&bql);
    bql_held = true;
}

void bql_unlock(void)
{
    bql_held = false;
    g_mutex_unlock(&bql);
}

bool bql_locked(void)
{
    return bql_held;
}

void bql_cond_wait(GCond *cond)
{
    bql_held = false;
    g_cond_wait(cond, &bql);
    bql_held = true;
}

void bql_cond_wait_until(GCond *cond, gint64 end_monotonic_us)
{
    bql_held = false;
    g_cond_wait_until(cond, &bql, end_monotonic_us);
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
 * counter under qtest.  Protected by vclock_lock (read from any thread). */
static GMutex vclock_lock;
static bool vclock_running;
static bool vclock_manual;
static int64_t vclock_offset;       /* running: virtual = monotonic - offset */
static int64_t vclock_frozen;       /* stopped / manual: the value */

int64_t qemu_clock_get_ns(QEMUClockType type)
{
    struct timespec ts;
    int64_t v;

    switch (type) {
    case QEMU_CLOCK_REALTIME:
        return get_monotonic_ns();
    case QEMU_CLOCK_HOST:
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
    case QEMU_CLOCK_VIRTUAL:
    default:
        g_mutex_lock(&vclock_lock);
        v = (vclock_running && !vclock_manual) ? get_monotonic_ns() - vclock_offset
                                               : vclock_frozen;
        g_mutex_unlock(&vclock_lock);
        return v;
    }
}

void qemu_clock_virtual_start(void)
{
    g_mutex_lock(&vclock_lock);
    if (!vclock_running) {
        vclock_offset = get_monotonic_ns() - vclock_frozen;
        vclock_running = true;
    }
    g_mutex_unlock(&vclock_lock);
    main_loop_notify();
}

void qemu_clock_virtual_stop(void)
{
    g_mutex_lock(&vclock_lock);
    if (vclock_running) {
        if (!vclock_manual) {
            vclock_frozen = get_monotonic_ns() - vclock_offset;
        }
        vclock_running = false;
    }
    g_mutex_unlock(&vclock_lock);
}

void qemu_clock_virtual_set_manual(bool manual)
{
    g_mutex_lock(&vclock_lock);
    if (manual && !vclock_manual && vclock_running) {
        vclock_frozen = get_monotonic_ns() - vclock_offset;
    }
    vclock_manual = manual;
    g_mutex_unlock(&vclock_lock);
}

bool qemu_clock_virtual_is_manual(void)
{
    return vclock_manual;
}

/* ---- timers ----------------------------------------------------------- */

struct QEMUTimer {
    QEMUClockType type;
    QEMUTimerCB *cb;
    void *opaque;
    int64_t expire;             /* -1: not pending */
};

/* Pending timers per clock, sorted by expiry.  Main thread + BQL, but
 * vCPU threads arm timers too (with the BQL held). */
static GList *active[QEMU_CLOCK_MAX];

QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb, void *opaque)
{
    QEMUTimer *t = g_new0(QEMUTimer, 1);

    t->type = type;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    return t;
}

void timer_del(QEMUTimer *t)
{
    if (t && t->expire >= 0) {
        active[t->type] = g_list_remove(active[t->type], t);
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
    timer_del(t);
    t->expire = expire_ns < 0 ? 0 : expire_ns;
    active[t->type] = g_list_insert_sorted(active[t->type], t, timer_cmp);
    if (!bql_locked() || active[t->type]->data == t) {
        main_loop_notify();
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
static bool run_timers(QEMUClockType type, int64_t now)
{
    bool ran = false;

    while (active[type]) {
        QEMUTimer *t = active[type]->data;
        if (t->expire > now) {
            break;
        }
        active[type] = g_list_delete_link(active[type], active[type]);
        t->expire = -1;
        t->cb(t->opaque);
        ran = true;
    }
    return ran;
}

int64_t qemu_clock_virtual_deadline(void)
{
    return active[QEMU_CLOCK_VIRTUAL] ? ((QEMUTimer *)active[QEMU_CLOCK_VIRTUAL]->data)->expire
                                      : -1;
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
            vclock_frozen = d;
        }
        g_mutex_unlock(&vclock_lock);
        run_timers(QEMU_CLOCK_VIRTUAL, d);
    }
    g_mutex_lock(&vclock_lock);
    if (to_ns > vclock_frozen) {
        vclock_frozen = to_ns;
    }
    g_mutex_unlock(&vclock_lock);
    return vclock_frozen;
}

/* Milliseconds until the next timer of any running clock, or -1. */
static int timers_timeout_ms(void)
{
    int64_t best = -1;

    for (int c = 0; c < QEMU_CLOCK_MAX; c++) {
        if (!active[c]) {
            continue;
        }
        if (c == QEMU_CLOCK_VIRTUAL && (!vclock_running || vclock_manual)) {
            continue;
        }
        int64_t delta = ((QEMUTimer *)active[c]->data)->expire - qemu_clock_get_ns(c);
        if (delta < 0) {
            delta = 0;
        }
        if (best < 0 || delta < best) {
            best = delta;
        }
    }
    if (best < 0) {
        return -1;
    }
    /* Round up so we do not spin waking a little early. */
    return (int)MIN((best + SCALE_MS - 1) / SCALE_MS, 3600 * 1000);
}

static void timers_run_due(void)
{
    run_timers(QEMU_CLOCK_REALTIME, qemu_clock_get_ns(QEMU_CLOCK_REALTIME));
    run_timers(QEMU_CLOCK_HOST, qemu_clock_get_ns(QEMU_CLOCK_HOST));
    if (vclock_running && !vclock_manual) {
        run_timers(QEMU_CLOCK_VIRTUAL, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }
}

static gboolean timer_source_prepare(GSource *s, gint *timeout)
{
    *timeout = timers_timeout_ms();
    return *timeout == 0;
}

static gboolean timer_source_check(GSource *s)
{
    return timers_timeout_ms() == 0;
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

/* ---- the loop --------------------------------------------------------- */

static GPollFunc glib_poll;

/* Drop the big lock while blocked in poll so vCPU threads can run exits. */
static gint poll_unlocked(GPollFD *fds, guint nfds, gint timeout)
{
    gint r;

    if (timeout == 0) {
        return glib_poll(fds, nfds, 0);
    }
    bql_unlock();
    r = glib_poll(fds, nfds, timeout);
    bql_lock();
    return r;
}

void main_loop_init(void)
{
    static bool done;
    GSource *src;

    if (done) {
        return;
    }
    done = true;
    glib_poll = g_main_context_get_poll_func(NULL);
    g_main_context_set_poll_func(NULL, poll_unlocked);
    src = g_source_new(&timer_source_funcs, sizeof(GSource));
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_attach(src, NULL);
    g_source_unref(src);
    if (!bql_locked()) {
        bql_lock();
    }
}

void main_loop_notify(void)
{
    g_main_context_wakeup(NULL);
}

void main_loop_iterate(bool blocking)
{
    g_main_context_iteration(NULL, blocking);
}

int main_loop_run(void)
{
    int status = 0;

    for (;;) {
        if (runstate_handle_requests(&status)) {
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
