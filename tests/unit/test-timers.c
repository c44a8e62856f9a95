/* Clocks and timers (system/main-loop.c), with the virtual clock in manual mode. */
#include <string.h>
#include <glib.h>
#include "system/main-loop.h"

static GString *fired;

typedef struct T {
    QEMUTimer *t;
    const char *name;
    int64_t seen_clock;
    int count;
    int rearm_times;
    int64_t period;
    QEMUTimer *victim;      /* deleted by this timer's callback */
} T;

static void cb(void *opaque)
{
    T *x = opaque;

    x->seen_clock = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    x->count++;
    g_string_append_printf(fired, "%s@%" G_GINT64_FORMAT ";", x->name, x->seen_clock);
    if (x->victim) {
        timer_del(x->victim);
    }
    if (x->count < x->rearm_times) {
        timer_mod(x->t, x->seen_clock + x->period);
    }
}

static void t_init(T *x, const char *name)
{
    memset(x, 0, sizeof(*x));
    x->name = name;
    x->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, cb, x);
}

static int64_t now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static void test_manual_order(void)
{
    T a, b, c;
    int64_t base = now();

    g_assert_true(qemu_clock_virtual_is_manual());
    g_string_truncate(fired, 0);
    t_init(&a, "a");
    t_init(&b, "b");
    t_init(&c, "c");
    g_assert_false(timer_pending(a.t));
    g_assert_cmpint(timer_expire_time_ns(a.t), ==, -1);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);

    timer_mod(c.t, base + 300);
    timer_mod(a.t, base + 100);
    timer_mod(b.t, base + 200);
    g_assert_true(timer_pending(a.t));
    g_assert_cmpint(timer_expire_time_ns(b.t), ==, base + 200);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, base + 100);

    /* the clock does not move by itself */
    g_usleep(2000);
    g_assert_cmpint(now(), ==, base);

    g_assert_cmpint(qemu_clock_virtual_advance(base + 250), ==, base + 250);
    g_assert_cmpint(now(), ==, base + 250);
    /* each callback saw the clock at its own deadline */
    g_autofree char *want = g_strdup_printf("a@%" G_GINT64_FORMAT ";b@%" G_GINT64_FORMAT ";",
                                            base + 100, base + 200);
    g_assert_cmpstr(fired->str, ==, want);
    g_assert_false(timer_pending(a.t));
    g_assert_true(timer_pending(c.t));
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, base + 300);

    /* re-arming moves a timer */
    timer_mod(c.t, base + 1000);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, base + 1000);
    timer_mod(c.t, base + 260);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, base + 260);
    g_string_truncate(fired, 0);
    qemu_clock_virtual_advance(base + 999);
    g_assert_cmpint(c.count, ==, 1);
    g_assert_cmpint(c.seen_clock, ==, base + 260);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);

    /* the clock never goes backwards */
    g_assert_cmpint(qemu_clock_virtual_advance(base + 10), ==, base + 999);
    g_assert_cmpint(now(), ==, base + 999);

    /* a timer armed in the past fires at the next advance, at the current time */
    timer_mod(a.t, base + 5);
    qemu_clock_virtual_advance(now());
    g_assert_cmpint(a.count, ==, 2);
    g_assert_cmpint(a.seen_clock, ==, base + 999);

    timer_free(a.t);
    timer_free(b.t);
    timer_free(c.t);
}

static void test_equal_deadlines(void)
{
    T x[4];
    static const char *const names[] = { "w", "x", "y", "z" };
    int64_t base = now();

    g_string_truncate(fired, 0);
    for (int i = 0; i < 4; i++) {
        t_init(&x[i], names[i]);
    }
    /* armed in the order x, z, w, y, all for the same time */
    timer_mod(x[1].t, base + 50);
    timer_mod(x[3].t, base + 50);
    timer_mod(x[0].t, base + 50);
    timer_mod(x[2].t, base + 50);
    qemu_clock_virtual_advance(base + 50);
    g_autofree char *want = g_strdup_printf("x@%1$" G_GINT64_FORMAT ";z@%1$" G_GINT64_FORMAT
                                            ";w@%1$" G_GINT64_FORMAT ";y@%1$" G_GINT64_FORMAT
                                            ";", base + 50);
    /* same deadline: fire in the order they were armed (as QEMU does) */
    g_assert_cmpstr(fired->str, ==, want);
    for (int i = 0; i < 4; i++) {
        timer_free(x[i].t);
    }
}

static void test_rearm_and_del(void)
{
    T p, q, r;
    int64_t base = now();

    g_string_truncate(fired, 0);
    t_init(&p, "p");
    p.rearm_times = 5;
    p.period = 100;
    timer_mod(p.t, base + 100);
    g_assert_cmpint(qemu_clock_virtual_advance(base + 1000), ==, base + 1000);
    g_assert_cmpint(p.count, ==, 5);
    g_assert_cmpint(p.seen_clock, ==, base + 500);
    g_assert_false(timer_pending(p.t));

    /* a periodic timer keeps going across several advances */
    p.count = 0;
    p.rearm_times = 1000;
    base = now();
    timer_mod(p.t, base + 100);
    qemu_clock_virtual_advance(base + 350);
    g_assert_cmpint(p.count, ==, 3);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, base + 400);
    qemu_clock_virtual_advance(base + 400);
    g_assert_cmpint(p.count, ==, 4);

    /* timer_del stops it */
    timer_del(p.t);
    g_assert_false(timer_pending(p.t));
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    qemu_clock_virtual_advance(base + 10000);
    g_assert_cmpint(p.count, ==, 4);
    timer_del(p.t);     /* twice is fine */

    /* a callback that deletes another due timer */
    base = now();
    t_init(&q, "q");
    t_init(&r, "r");
    q.victim = r.t;
    timer_mod(q.t, base + 10);
    timer_mod(r.t, base + 20);
    qemu_clock_virtual_advance(base + 100);
    g_assert_cmpint(q.count, ==, 1);
    g_assert_cmpint(r.count, ==, 0);
    g_assert_false(timer_pending(r.t));

    /* a callback that arms another timer inside the window runs it too */
    base = now();
    q.victim = NULL;
    q.rearm_times = 0;
    p.count = 0;
    p.rearm_times = 3;
    p.period = 30;
    timer_mod(p.t, base + 1);
    qemu_clock_virtual_advance(base + 100);
    g_assert_cmpint(p.count, ==, 3);
    g_assert_cmpint(p.seen_clock, ==, base + 61);

    /* free a pending timer */
    timer_mod(q.t, now() + 5);
    timer_free(q.t);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    timer_free(p.t);
    timer_free(r.t);
}

static void test_other_clocks(void)
{
    int64_t r1 = qemu_clock_get_ns(QEMU_CLOCK_REALTIME), r2;
    int64_t h = qemu_clock_get_ns(QEMU_CLOCK_HOST);

    g_assert_cmpint(h, >, 1500000000LL * NANOSECONDS_PER_SECOND);   /* after 2017 */
    g_usleep(1000);
    r2 = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    g_assert_cmpint(r2, >, r1);
    g_assert_cmpint(qemu_clock_get_ms(QEMU_CLOCK_REALTIME), ==,
                    qemu_clock_get_ns(QEMU_CLOCK_REALTIME) / SCALE_MS);
}

static void rt_cb(void *opaque)
{
    (*(int *)opaque)++;
}

/* A realtime timer fires from the main loop; the manual virtual clock does not. */
static void test_main_loop_timers(void)
{
    int rt = 0, vt = 0;
    QEMUTimer *t = timer_new_ns(QEMU_CLOCK_REALTIME, rt_cb, &rt);
    QEMUTimer *v = timer_new_ns(QEMU_CLOCK_VIRTUAL, rt_cb, &vt);

    main_loop_init();
    g_assert_true(bql_locked());
    timer_mod(v, now() + 1);
    timer_mod(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 2 * SCALE_MS);
    for (int i = 0; i < 10000 && !rt; i++) {
        main_loop_iterate(true);
    }
    g_assert_cmpint(rt, ==, 1);
    g_assert_false(timer_pending(t));
    main_loop_iterate(false);
    g_assert_cmpint(vt, ==, 0);
    qemu_clock_virtual_advance(now() + 1);
    g_assert_cmpint(vt, ==, 1);
    timer_free(t);
    timer_free(v);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fired = g_string_new(NULL);
    qemu_clock_virtual_set_manual(true);
    qemu_clock_virtual_start();
    g_test_add_func("/timers/manual-order", test_manual_order);
    g_test_add_func("/timers/equal-deadlines", test_equal_deadlines);
    g_test_add_func("/timers/rearm-del", test_rearm_and_del);
    g_test_add_func("/timers/other-clocks", test_other_clocks);
    g_test_add_func("/timers/main-loop", test_main_loop_timers);
    return g_test_run();
}
