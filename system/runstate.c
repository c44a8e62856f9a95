/*
 * Run states and life-cycle requests.  Requests may come from any thread
 * (a vCPU handling a port write, a signal handler); they are recorded
 * atomically and acted on by the main loop in runstate_handle_requests().
 */
#include <signal.h>
#include "system/runstate.h"
#include "system/main-loop.h"
#include "accel/accel.h"
#include "hw/machine.h"
#include "hw/qdev.h"

bool no_reboot;
bool no_shutdown;

static RunState current_state = RUN_STATE_PRELAUNCH;
static int shutdown_requested;      /* ShutdownCause, 0 = none */
static int reset_requested;
static int powerdown_requested;
static int exit_requested;          /* status + 1, 0 = none */
static GPtrArray *notifiers;

static const char *const runstate_names[RUN_STATE__MAX] = {
    [RUN_STATE_PRELAUNCH] = "prelaunch",
    [RUN_STATE_RUNNING] = "running",
    [RUN_STATE_PAUSED] = "paused",
    [RUN_STATE_SHUTDOWN] = "shutdown",
    [RUN_STATE_INTERNAL_ERROR] = "internal-error",
    [RUN_STATE_GUEST_PANICKED] = "guest-panicked",
    [RUN_STATE_INMIGRATE] = "inmigrate",
    [RUN_STATE_POSTMIGRATE] = "postmigrate",
    [RUN_STATE_SAVE_VM] = "save-vm",
    [RUN_STATE_RESTORE_VM] = "restore-vm",
    [RUN_STATE_DEBUG] = "debug",
    [RUN_STATE_SUSPENDED] = "suspended",
};

static const char *const cause_names[SHUTDOWN_CAUSE__MAX] = {
    [SHUTDOWN_CAUSE_NONE] = "none",
    [SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
    [SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
    [SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
    [SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal",
    [SHUTDOWN_CAUSE_HOST_UI] = "host-ui",
    [SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
    [SHUTDOWN_CAUSE_GUEST_RESET] = "guest-reset",
    [SHUTDOWN_CAUSE_GUEST_PANIC] = "guest-panic",
    [SHUTDOWN_CAUSE_SUBSYSTEM_RESET] = "subsystem-reset",
};

const char *runstate_name(RunState s)
{
    return s < RUN_STATE__MAX ? runstate_names[s] : "?";
}

const char *shutdown_cause_name(ShutdownCause c)
{
    return c < SHUTDOWN_CAUSE__MAX ? cause_names[c] : "?";
}

RunState runstate_get(void)
{
    return current_state;
}

bool runstate_is_running(void)
{
    return current_state == RUN_STATE_RUNNING;
}

void runstate_set(RunState s)
{
    current_state = s;
}

void runstate_add_notifiers(const RunstateNotifiers *n)
{
    if (!notifiers) {
        notifiers = g_ptr_array_new();
    }
    g_ptr_array_add(notifiers, (gpointer)n);
}

#define NOTIFY(field, ...) \
    for (guint i_ = 0; notifiers && i_ < notifiers->len; i_++) { \
        const RunstateNotifiers *n_ = g_ptr_array_index(notifiers, i_); \
        if (n_->field) { n_->field(__VA_ARGS__); } \
    }

void qemu_system_shutdown_request(ShutdownCause cause)
{
    __atomic_store_n(&shutdown_requested, cause ? cause : SHUTDOWN_CAUSE_HOST_ERROR,
                     __ATOMIC_SEQ_CST);
    main_loop_notify();
}

void qemu_system_reset_request(ShutdownCause cause)
{
    if (no_reboot && cause == SHUTDOWN_CAUSE_GUEST_RESET) {
        qemu_system_shutdown_request(cause);
        return;
    }
    __atomic_store_n(&reset_requested, cause, __ATOMIC_SEQ_CST);
    main_loop_notify();
}

void qemu_system_powerdown_request(void)
{
    __atomic_store_n(&powerdown_requested, 1, __ATOMIC_SEQ_CST);
    main_loop_notify();
}

static bool exiting;                /* an exit was requested: stays set */

void qemu_system_exit_request(int status)
{
    __atomic_store_n(&exiting, true, __ATOMIC_SEQ_CST);
    __atomic_store_n(&exit_requested, status + 1, __ATOMIC_SEQ_CST);
    main_loop_notify();
}

bool qemu_system_exit_pending(void)
{
    return __atomic_load_n(&exiting, __ATOMIC_SEQ_CST);
}

bool qemu_system_reset_pending(void)
{
    return __atomic_load_n(&reset_requested, __ATOMIC_SEQ_CST) != 0;
}

void qemu_system_internal_error(void)
{
    qemu_system_exit_request(1);
}

void vm_start(void)
{
    if (current_state == RUN_STATE_RUNNING) {
        return;
    }
    current_state = RUN_STATE_RUNNING;
    qemu_clock_virtual_start();
    cpus_resume_all();
    NOTIFY(on_resume);
}

void vm_stop(RunState state)
{
    if (current_state != RUN_STATE_RUNNING) {
        current_state = state;
        return;
    }
    cpus_pause_all();
    qemu_clock_virtual_stop();
    current_state = state;
    NOTIFY(on_stop);
}

static void system_reset(ShutdownCause cause)
{
    bool was_running = runstate_is_running();

    if (was_running) {
        cpus_pause_all();
    }
    /* No I/O or bottom half from before the reset may land after it. */
    main_loop_drain();
    if (current_machine && current_machine->mc->reset) {
        current_machine->mc->reset(current_machine);
    } else {
        qdev_reset_all();
    }
    /* Only now may a vCPU that asked for this reset (or triple-faulted)
     * run again; stop/cont before this point cannot release it. */
    cpus_reset_done();
    NOTIFY(on_reset, cause >= SHUTDOWN_CAUSE_GUEST_SHUTDOWN, cause);
    if (current_state == RUN_STATE_SHUTDOWN) {
        /* A reset after -no-shutdown's stop makes the VM runnable again
         * but stays paused (QEMU: "system_reset" then "cont"). */
        current_state = RUN_STATE_PAUSED;
    }
    if (was_running) {
        cpus_resume_all();
    }
}

bool runstate_handle_requests(int *status)
{
    int v;

    v = __atomic_exchange_n(&exit_requested, 0, __ATOMIC_SEQ_CST);
    if (v) {
        *status = v - 1;
        main_loop_drain();
        return true;
    }
    v = __atomic_exchange_n(&shutdown_requested, 0, __ATOMIC_SEQ_CST);
    if (v) {
        bool guest = v >= SHUTDOWN_CAUSE_GUEST_SHUTDOWN;
        NOTIFY(on_shutdown, guest, (ShutdownCause)v);
        if (no_shutdown && v != SHUTDOWN_CAUSE_HOST_QMP_QUIT && v != SHUTDOWN_CAUSE_HOST_SIGNAL &&
            v != SHUTDOWN_CAUSE_HOST_ERROR) {
            vm_stop(RUN_STATE_SHUTDOWN);
            return false;
        }
        *status = v == SHUTDOWN_CAUSE_HOST_ERROR ? 1 : 0;
        main_loop_drain();      /* finish in-flight I/O before exiting */
        return true;
    }
    v = __atomic_exchange_n(&reset_requested, 0, __ATOMIC_SEQ_CST);
    if (v) {
        system_reset((ShutdownCause)v);
    }
    v = __atomic_exchange_n(&powerdown_requested, 0, __ATOMIC_SEQ_CST);
    if (v) {
        NOTIFY(on_powerdown);
    }
    return false;
}
