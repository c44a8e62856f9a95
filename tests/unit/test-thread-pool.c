/* The thread pool (util/thread-pool.c) and main_loop_drain(). */
#include <errno.h>
#include <string.h>
#include <glib.h>
#include "qemu/thread-pool.h"
#include "system/main-loop.h"

typedef struct Job {
    int id;
    int sleep_us;
    GThread *main_thread;
    /* set by the worker */
    volatile int work_done;
    GThread *ran_on;
    /* set by the completion */
    int completions;
    int ret;
    bool work_done_at_completion;
    bool bql_at_completion;
    bool on_main_thread;
    int order;                  /* completion rank */
} Job;

static int completion_rank;
static GMutex gate_lock;
static GCond gate_cond;
static bool gate_open;
static int running_now, running_max;

static int job_work(void *opaque)
{
    Job *j = opaque;

    g_mutex_lock(&gate_lock);
    running_now++;
    running_max = MAX(running_max, running_now);
    while (!gate_open) {
        g_cond_wait(&gate_cond, &gate_lock);
    }
    g_mutex_unlock(&gate_lock);
    if (j->sleep_us) {
        g_usleep(j->sleep_us);
    }
    j->ran_on = g_thread_self();
    g_assert_false(bql_locked());
    __atomic_store_n(&j->work_done, 1, __ATOMIC_RELEASE);
    g_mutex_lock(&gate_lock);
    running_now--;
    g_mutex_unlock(&gate_lock);
    return j->id * 10;
}

static void job_done(void *opaque, int ret)
{
    Job *j = opaque;

    j->completions++;
    j->ret = ret;
    j->work_done_at_completion = __atomic_load_n(&j->work_done, __ATOMIC_ACQUIRE);
    j->bql_at_completion = bql_locked();
    j->on_main_thread = g_thread_self() == j->main_thread;
    j->order = completion_rank++;
}

static void set_gate(bool open)
{
    g_mutex_lock(&gate_lock);
    gate_open = open;
    g_cond_broadcast(&gate_cond);
    g_mutex_unlock(&gate_lock);
}

static Job *new_jobs(int n)
{
    Job *jobs = g_new0(Job, n);

    for (int i = 0; i < n; i++) {
        jobs[i].id = i + 1;
        jobs[i].main_thread = g_thread_self();
    }
    return jobs;
}

/* Many jobs: each work runs once on a worker, each completion once, after
 * its work, in the main thread with the BQL; the worker count stays
 * bounded. */
static void test_many(void)
{
    enum { N = 500, MAXW = 4 };
    g_autofree Job *jobs = new_jobs(N);
    int done = 0;

    thread_pool_set_limits(MAXW, 10000);
    running_max = 0;
    set_gate(true);
    for (int i = 0; i < N; i++) {
        jobs[i].sleep_us = i % 7 == 0 ? 200 : 0;
        thread_pool_submit(job_work, &jobs[i], job_done);
    }
    g_assert_cmpuint(thread_pool_workers(), <=, MAXW);
    while (done < N) {
        main_loop_iterate(true);
        done = 0;
        for (int i = 0; i < N; i++) {
            done += jobs[i].completions;
        }
    }
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(jobs[i].completions, ==, 1);
        g_assert_cmpint(jobs[i].ret, ==, jobs[i].id * 10);
        g_assert_true(jobs[i].work_done_at_completion);
        g_assert_true(jobs[i].bql_at_completion);
        g_assert_true(jobs[i].on_main_thread);
        g_assert_true(jobs[i].ran_on != g_thread_self());
    }
    g_assert_cmpint(running_max, <=, MAXW);
    g_assert_cmpint(running_max, >=, 1);
    g_assert_cmpuint(thread_pool_workers(), <=, MAXW);
    main_loop_iterate(false);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(jobs[i].completions, ==, 1);
    }
}

/* Work runs in parallel up to the limit (here all 3 block until released),
 * and completions come in the order the work finished. */
static void test_parallel_and_order(void)
{
    g_autofree Job *jobs = new_jobs(3);

    thread_pool_set_limits(3, 10000);
    set_gate(false);
    running_max = 0;
    jobs[0].sleep_us = 150000;
    jobs[1].sleep_us = 0;
    jobs[2].sleep_us = 60000;
    for (int i = 0; i < 3; i++) {
        thread_pool_submit(job_work, &jobs[i], job_done);
    }
    for (int tries = 0; tries < 500; tries++) {
        g_mutex_lock(&gate_lock);
        int n = running_now;
        g_mutex_unlock(&gate_lock);
        if (n == 3) {
            break;
        }
        g_usleep(2000);
    }
    g_assert_cmpint(running_now, ==, 3);
    completion_rank = 0;
    set_gate(true);
    g_assert_true(thread_pool_drain());
    g_assert_cmpint(jobs[1].order, ==, 0);
    g_assert_cmpint(jobs[2].order, ==, 1);
    g_assert_cmpint(jobs[0].order, ==, 2);
}

/* Cancelling work no thread has taken: it never runs and completes with
 * -ECANCELED; running work cannot be cancelled and completes normally. */
static void test_cancel(void)
{
    g_autofree Job *jobs = new_jobs(3);
    ThreadPoolRequest *r[3];

    thread_pool_set_limits(1, 10000);
    for (int tries = 0; tries < 500 && thread_pool_workers() > 1; tries++) {
        g_usleep(2000);
    }
    g_assert_cmpuint(thread_pool_workers(), <=, 1);
    set_gate(false);
    for (int i = 0; i < 3; i++) {
        r[i] = thread_pool_submit(job_work, &jobs[i], job_done);
    }
    /* the only worker takes job 0 and blocks at the gate */
    for (int tries = 0; tries < 500 && running_now == 0; tries++) {
        g_usleep(2000);
    }
    g_assert_cmpint(running_now, ==, 1);
    g_assert_false(thread_pool_cancel(r[0]));
    g_assert_true(thread_pool_cancel(r[2]));
    /* the cancelled completion comes from the main loop, not inside cancel */
    g_assert_cmpint(jobs[2].completions, ==, 0);
    set_gate(true);
    thread_pool_drain();
    g_assert_cmpint(jobs[0].completions, ==, 1);
    g_assert_cmpint(jobs[0].ret, ==, 10);
    g_assert_cmpint(jobs[1].completions, ==, 1);
    g_assert_cmpint(jobs[1].ret, ==, 20);
    g_assert_cmpint(jobs[2].completions, ==, 1);
    g_assert_cmpint(jobs[2].ret, ==, -ECANCELED);
    g_assert_false(jobs[2].work_done);
    g_assert_true(jobs[2].bql_at_completion);
}

/* Drain waits for running and queued work and runs all completions, also
 * of work the completions submit, and the BHs pending. */
typedef struct Chain {
    Job job;
    int more;
} Chain;

static void chain_done(void *opaque, int ret)
{
    Chain *c = opaque;

    job_done(&c->job, ret);
    if (c->more-- > 0) {
        c->job.work_done = 0;
        thread_pool_submit(job_work, &c->job, chain_done);
    }
}

static void bh_flag(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_drain(void)
{
    g_autofree Job *jobs = new_jobs(20);
    Chain c = { .job = { .id = 99, .main_thread = g_thread_self() }, .more = 3 };
    int bh_runs = 0;
    QEMUBH *bh = qemu_bh_new(bh_flag, &bh_runs);

    thread_pool_set_limits(2, 10000);
    set_gate(true);
    for (int i = 0; i < 20; i++) {
        jobs[i].sleep_us = 5000;
        thread_pool_submit(job_work, &jobs[i], job_done);
    }
    thread_pool_submit(job_work, &c.job, chain_done);
    qemu_bh_schedule(bh);
    main_loop_drain();
    for (int i = 0; i < 20; i++) {
        g_assert_cmpint(jobs[i].completions, ==, 1);
        g_assert_true(jobs[i].work_done_at_completion);
    }
    g_assert_cmpint(c.job.completions, ==, 4);
    g_assert_cmpint(bh_runs, ==, 1);
    /* nothing left: a drain now is a no-op */
    g_assert_false(thread_pool_drain());
    qemu_bh_delete(bh);
}

/* Idle workers exit after the idle timeout; new work starts new ones. */
static void test_idle_exit(void)
{
    g_autofree Job *jobs = new_jobs(4);

    thread_pool_set_limits(4, 30);
    set_gate(false);
    for (int i = 0; i < 4; i++) {
        thread_pool_submit(job_work, &jobs[i], job_done);
    }
    set_gate(true);
    thread_pool_drain();
    g_assert_cmpuint(thread_pool_workers(), >=, 1);
    for (int tries = 0; tries < 500 && thread_pool_workers() > 0; tries++) {
        g_usleep(2000);
    }
    g_assert_cmpuint(thread_pool_workers(), ==, 0);
    g_assert_cmpuint(thread_pool_idle_workers(), ==, 0);
    memset(jobs, 0, sizeof(Job));
    jobs[0].id = 7;
    jobs[0].main_thread = g_thread_self();
    thread_pool_submit(job_work, &jobs[0], job_done);
    thread_pool_drain();
    g_assert_cmpint(jobs[0].ret, ==, 70);
    thread_pool_set_limits(THREAD_POOL_MAX_WORKERS_DEFAULT, THREAD_POOL_IDLE_TIMEOUT_MS_DEFAULT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/thread-pool/many", test_many);
    g_test_add_func("/thread-pool/parallel-order", test_parallel_and_order);
    g_test_add_func("/thread-pool/cancel", test_cancel);
    g_test_add_func("/thread-pool/drain", test_drain);
    g_test_add_func("/thread-pool/idle-exit", test_idle_exit);
    return g_test_run();
}
