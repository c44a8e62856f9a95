/*
 * Run control without an accelerator (system/runstate.c, system/cpus.c):
 * a vCPU parked for a reset (triple fault, guest reset request) stays
 * parked through any stop/cont until the machine's reset; the monitor's
 * stop is a separate flag that cont clears.
 */
#include <glib.h>
#include "accel/accel.h"
#include "system/main-loop.h"
#include "system/runstate.h"

static CPUState cpu0 = { .index = 0 }, cpu1 = { .index = 1, .apic_id = 1 };

static void setup(void)
{
    main_loop_init();
    if (!cpus) {
        cpus = g_ptr_array_new();
        g_ptr_array_add(cpus, &cpu0);
        g_ptr_array_add(cpus, &cpu1);
    }
    no_reboot = no_shutdown = false;
    cpu0.stop = cpu1.stop = false;
    cpu0.reset_pending = cpu1.reset_pending = false;
    vm_start();
}

static void test_stop_cont(void)
{
    setup();
    g_assert_true(cpu_can_run(&cpu0));
    vm_stop(RUN_STATE_PAUSED);
    g_assert_cmpstr(runstate_name(runstate_get()), ==, "paused");
    g_assert_true(cpu0.stop);
    g_assert_false(cpu_can_run(&cpu0));
    vm_start();
    g_assert_true(cpu_can_run(&cpu0));
    g_assert_true(cpu_can_run(&cpu1));
}

/* Triple fault on CPU 0, then the monitor's stop and cont arrive before
 * the main loop gets to the reset request. */
static void test_reset_pending_survives_cont(void)
{
    int status = -1;

    setup();
    cpu_park_until_reset(&cpu0);
    qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    g_assert_false(cpu_can_run(&cpu0));
    g_assert_true(cpu_can_run(&cpu1));      /* the others run until the reset */
    vm_stop(RUN_STATE_PAUSED);
    vm_start();
    g_assert_false(cpu_can_run(&cpu0));
    g_assert_true(cpu_can_run(&cpu1));
    cpus_resume_all();
    g_assert_false(cpu_can_run(&cpu0));
    /* The main loop performs the reset: now both run. */
    g_assert_false(runstate_handle_requests(&status));
    g_assert_true(cpu_can_run(&cpu0));
    g_assert_true(cpu_can_run(&cpu1));
    g_assert_cmpstr(runstate_name(runstate_get()), ==, "running");
}

/* A reset while the monitor has the VM stopped frees the parked vCPU from
 * the reset but not from the stop: it runs only after cont. */
static void test_reset_while_paused(void)
{
    int status = -1;

    setup();
    cpu_park_until_reset(&cpu0);
    qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    vm_stop(RUN_STATE_PAUSED);
    g_assert_false(runstate_handle_requests(&status));
    g_assert_false(cpu0.reset_pending);
    g_assert_false(cpu_can_run(&cpu0));     /* still paused */
    g_assert_cmpstr(runstate_name(runstate_get()), ==, "paused");
    vm_start();
    g_assert_true(cpu_can_run(&cpu0));
}

/* -no-reboot -no-shutdown: the guest's reset becomes a shutdown, the VM
 * stops in "shutdown" with the vCPU still parked; only system_reset (a
 * host reset request) frees it, and the VM stays paused until cont. */
static void test_no_reboot_no_shutdown(void)
{
    int status = -1;

    setup();
    no_reboot = no_shutdown = true;
    cpu_park_until_reset(&cpu0);
    qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    g_assert_false(runstate_handle_requests(&status));
    g_assert_cmpstr(runstate_name(runstate_get()), ==, "shutdown");
    g_assert_true(cpu0.reset_pending);
    vm_start();                             /* what cont would do if it did not refuse */
    g_assert_false(cpu_can_run(&cpu0));
    vm_stop(RUN_STATE_SHUTDOWN);
    qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    g_assert_false(runstate_handle_requests(&status));
    g_assert_false(cpu0.reset_pending);
    g_assert_cmpstr(runstate_name(runstate_get()), ==, "paused");
    vm_start();
    g_assert_true(cpu_can_run(&cpu0));
}

/* -no-reboot alone: the guest's reset ends the process with status 0. */
static void test_no_reboot_exits(void)
{
    int status = -1;

    setup();
    no_reboot = true;
    cpu_park_until_reset(&cpu0);
    qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    g_assert_true(runstate_handle_requests(&status));
    g_assert_cmpint(status, ==, 0);
    g_assert_false(cpu_can_run(&cpu0));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/runstate/stop-cont", test_stop_cont);
    g_test_add_func("/runstate/reset-pending-survives-cont", test_reset_pending_survives_cont);
    g_test_add_func("/runstate/reset-while-paused", test_reset_while_paused);
    g_test_add_func("/runstate/no-reboot-no-shutdown", test_no_reboot_no_shutdown);
    g_test_add_func("/runstate/no-reboot-exits", test_no_reboot_exits);
    return g_test_run();
}
