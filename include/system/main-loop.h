/*
 * The main loop, the big lock and the clocks.
 *
 * The main thread runs a GLib main loop (GMainContext default) holding the
 * big lock (BQL) except while it polls.  vCPU threads take the BQL only to
 * handle an exit.  Device timers run on the virtual clock (which stops when
 * the VM stops, and under qtest only moves with clock_step) or the host
 * clock; nothing sleeps in a device model.
 */
#ifndef KVMPC_SYSTEM_MAIN_LOOP_H
#define KVMPC_SYSTEM_MAIN_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* The BQL is fair: threads get it in the order they ask (a ticket lock),
 * so a vCPU thread taking it for every exit cannot starve the main loop. */
void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);
/* bql_lock() only if that means no wait (nobody holds it or queues for it). */
bool bql_trylock(void);
/* Threads other than the main loop's queue for the BQL (lock-free read:
 * the holder asks whether to end its turn early). */
bool bql_others_waiting(void);
/* How many times other threads took the BQL while the main loop's last
 * bql_lock() waited for it (from the moment it asked; 0 if it did not
 * wait).  Main loop thread only. */
uint64_t bql_main_last_overtaken(void);
/* Wait on cond, releasing the BQL meanwhile (held on entry and return). */
void bql_cond_wait(GCond *cond);
void bql_cond_wait_until(GCond *cond, gint64 end_monotonic_us);
/* fn(main_thread) is called each time a thread starts to wait for the BQL
 * (the main loop: when it finds the lock taken; another thread: also when
 * the lock is free but others are ahead of it in the queue) (with the lock's internal mutex held: fn may only set flags or
 * signal).  A software CPU that runs guest code holding the BQL uses it
 * to end its time slice.  One hook; NULL removes it. */
void bql_set_contention_hook(void (*fn)(bool main_thread));

typedef enum QEMUClockType {
    QEMU_CLOCK_REALTIME = 0,    /* monotonic host time, always runs */
    QEMU_CLOCK_VIRTUAL = 1,     /* guest time: stops with the VM */
    QEMU_CLOCK_HOST = 2,        /* wall-clock time (CLOCK_REALTIME) */
    QEMU_CLOCK_MAX
} QEMUClockType;

#define NANOSECONDS_PER_SECOND 1000000000LL
#define SCALE_MS 1000000LL
#define SCALE_US 1000LL

int64_t qemu_clock_get_ns(QEMUClockType type);
static inline int64_t qemu_clock_get_ms(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / SCALE_MS;
}
/* The virtual clock runs only between these calls (runstate does it). */
void qemu_clock_virtual_start(void);
void qemu_clock_virtual_stop(void);
/* qtest: the virtual clock no longer follows host time; it moves only by
 * qemu_clock_virtual_advance(), which runs the timers that fall due. */
void qemu_clock_virtual_set_manual(bool manual);
bool qemu_clock_virtual_is_manual(void);
int64_t qemu_clock_virtual_advance(int64_t to_ns);
/* Earliest pending virtual-clock deadline, or -1. */
int64_t qemu_clock_virtual_deadline(void);

typedef void QEMUTimerCB(void *opaque);
typedef struct QEMUTimer QEMUTimer;

QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb, void *opaque);
void timer_free(QEMUTimer *t);
/* Arm for an absolute expiry time on the timer's clock (re-arms). */
void timer_mod(QEMUTimer *t, int64_t expire_ns);
void timer_del(QEMUTimer *t);
bool timer_pending(QEMUTimer *t);
int64_t timer_expire_time_ns(QEMUTimer *t);     /* -1 if not pending */

/*
 * Timer lists: a timer runs in the main loop unless it is moved to a list
 * that another thread runs (a vCPU thread runs its own LAPIC timer, so an
 * idle guest's timer interrupt wakes that thread only).  The owner calls
 * timerlist_run_due() (BQL held) and sleeps at most timerlist_timeout_ns();
 * notify(opaque) is called when a timer_mod() makes a timer the list's
 * earliest (from any thread, BQL held): the owner must look again.  NULL
 * stands for the main loop's list.
 */
typedef struct QEMUTimerList QEMUTimerList;
QEMUTimerList *timerlist_new(void (*notify)(void *opaque), void *opaque);
/* Armed timers left on tl move to the main loop. */
void timerlist_free(QEMUTimerList *tl);
void timer_set_list(QEMUTimer *t, QEMUTimerList *tl);     /* keeps it armed */
int64_t timerlist_timeout_ns(QEMUTimerList *tl);          /* -1: none */
bool timerlist_run_due(QEMUTimerList *tl);                /* true: ran one */

/*
 * Bottom halves: a callback the main loop runs (BQL held) soon after it is
 * scheduled, before it next blocks in poll.  qemu_bh_schedule() works from
 * any thread and wakes the loop; scheduling an already scheduled BH does
 * nothing (it runs once); BHs run in the order they were scheduled.
 * qemu_bh_new/cancel/delete belong to the main thread (BQL held); a BH may
 * delete itself in its callback.
 */
typedef void QEMUBHFunc(void *opaque);
typedef struct QEMUBH QEMUBH;
QEMUBH *qemu_bh_new(QEMUBHFunc *cb, void *opaque);
void qemu_bh_schedule(QEMUBH *bh);
void qemu_bh_cancel(QEMUBH *bh);
void qemu_bh_delete(QEMUBH *bh);

/*
 * Completions on the vCPU thread.  A device register access a vCPU makes
 * (port I/O, MMIO: the accelerator brackets it with vcpu_io_begin/end)
 * may start work that is already done when the access returns, such as a
 * disk read the host's page cache held.  vcpu_io_defer() queues its
 * completion to run on that thread as soon as the outermost access
 * returns (BQL held, the device's handler no longer on the stack), where
 * a bottom half would wake the main loop, take the BQL from the vCPU and
 * kick it back.  It returns false, and the caller schedules a bottom half
 * as before, outside such an access (the main loop, qtest, a worker) and
 * when the thread's queue is full.  A completion that starts more work
 * may defer again: the queue is drained in order, at most
 * VCPU_IO_DEFER_MAX completions per access; the rest go to bottom halves.
 */
#define VCPU_IO_DEFER_MAX 64
void vcpu_io_begin(void);
void vcpu_io_end(void);
bool vcpu_io_defer(QEMUBHFunc *cb, void *opaque);
extern uint64_t vcpu_io_deferred_total;     /* completions run this way (tests) */

/* Main loop.  Timers fire with nanosecond precision (ppoll). */
void main_loop_init(void);
/* Runs until qemu_system_*_request() asks it to stop; returns exit status. */
int main_loop_run(void);
/* One iteration (for tests); blocking = wait for an event. */
void main_loop_iterate(bool blocking);
/* Wake the main loop from another thread (e.g. a vCPU requesting shutdown). */
void main_loop_notify(void);
/* Waits for the thread pool's in-flight work, runs its completions and
 * every pending BH, until nothing is left (main thread, BQL held).  Reset,
 * savevm and exit call it so that no request crosses them. */
void main_loop_drain(void);
/* Work in flight outside the thread pool (the block layer's io_uring)
 * takes part in main_loop_drain(): fn waits for some of it and runs its
 * completions, returning true, or returns false when none is in flight. */
void main_loop_add_drain_handler(bool (*fn)(void));
/* Run fn(opaque) in the main thread (called from any thread). */
void main_loop_call(void (*fn)(void *opaque), void *opaque);

#endif
