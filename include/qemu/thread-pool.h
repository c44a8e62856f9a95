/*
 * A pool of worker threads for blocking work (block I/O, file access):
 * the main loop hands over a function, a worker thread runs it without the
 * BQL, and its completion callback runs back in the main loop with the
 * BQL held.
 *
 * The pool starts threads as work arrives, up to max_workers; a thread
 * that finds no work for idle_timeout exits.  Work starts in submission
 * order.  Completions run in the order the work finished, each exactly
 * once: with fn's return value, or -ECANCELED if thread_pool_cancel()
 * removed the work before a thread took it (fn then never runs).
 *
 * fn runs on another thread: it must not take the BQL nor touch device
 * state, only what its opaque owns until the completion.  Everything else
 * here belongs to the main thread (BQL held).
 */
#ifndef KVMPC_QEMU_THREAD_POOL_H
#define KVMPC_QEMU_THREAD_POOL_H

#include <stdbool.h>
#include <stdint.h>

typedef int ThreadPoolFunc(void *opaque);
typedef void ThreadPoolCompletion(void *opaque, int ret);
typedef struct ThreadPoolRequest ThreadPoolRequest;

#define THREAD_POOL_MAX_WORKERS_DEFAULT 16
#define THREAD_POOL_IDLE_TIMEOUT_MS_DEFAULT 10000

/* The handle stays valid until its completion has run. */
ThreadPoolRequest *thread_pool_submit(ThreadPoolFunc *fn, void *opaque,
                                      ThreadPoolCompletion *done);
/* True if the work had not started: it never will, and its completion
 * runs (from the main loop) with -ECANCELED.  False if it is running or
 * finished: its completion comes as usual. */
bool thread_pool_cancel(ThreadPoolRequest *req);
/* Waits until no work is queued or running, then runs the pending
 * completions (and again, if they submitted more).  Returns true if it
 * ran any completion. */
bool thread_pool_drain(void);

/* Limits (tests and tuning); workers beyond a lowered limit exit once
 * they finish their current work. */
void thread_pool_set_limits(unsigned max_workers, unsigned idle_timeout_ms);
/* Live worker threads, and those waiting for work. */
unsigned thread_pool_workers(void);
unsigned thread_pool_idle_workers(void);

#endif
