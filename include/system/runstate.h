/*
 * Run states and life-cycle requests, with QEMU's names (query-status).
 * Requests come from any thread; the main loop acts on them.
 */
#ifndef KVMPC_SYSTEM_RUNSTATE_H
#define KVMPC_SYSTEM_RUNSTATE_H

#include <stdbool.h>

typedef enum RunState {
    RUN_STATE_PRELAUNCH,        /* -S, before the first cont */
    RUN_STATE_RUNNING,
    RUN_STATE_PAUSED,           /* stop */
    RUN_STATE_SHUTDOWN,         /* guest shut down, -no-shutdown */
    RUN_STATE_INTERNAL_ERROR,
    RUN_STATE_GUEST_PANICKED,
    RUN_STATE_INMIGRATE,
    RUN_STATE_POSTMIGRATE,
    RUN_STATE_SAVE_VM,
    RUN_STATE_RESTORE_VM,
    RUN_STATE_DEBUG,
    RUN_STATE_SUSPENDED,
    RUN_STATE__MAX
} RunState;

typedef enum ShutdownCause {
    SHUTDOWN_CAUSE_NONE,
    SHUTDOWN_CAUSE_HOST_ERROR,
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,
    SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    SHUTDOWN_CAUSE_HOST_SIGNAL,
    SHUTDOWN_CAUSE_HOST_UI,
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
    SHUTDOWN_CAUSE_GUEST_RESET,
    SHUTDOWN_CAUSE_GUEST_PANIC,
    SHUTDOWN_CAUSE_SUBSYSTEM_RESET,
    SHUTDOWN_CAUSE__MAX
} ShutdownCause;

const char *runstate_name(RunState s);
const char *shutdown_cause_name(ShutdownCause c);   /* QAPI names: "guest-shutdown" */
RunState runstate_get(void);
bool runstate_is_running(void);
void runstate_set(RunState s);

/* Behaviour switches from the command line. */
extern bool no_reboot;          /* -no-reboot: a guest reset exits instead */
extern bool no_shutdown;        /* -no-shutdown: a guest shutdown pauses instead */

/* Requests (any thread, any lock state). */
void qemu_system_shutdown_request(ShutdownCause cause);
void qemu_system_reset_request(ShutdownCause cause);
void qemu_system_powerdown_request(void);     /* ACPI power button */
/* Leave the process with this exit status (isa-debug-exit, fatal errors). */
void qemu_system_exit_request(int status);
/* An exit was requested and the process is about to end: a vCPU thread
 * runs no more guest code (QEMU's isa-debug-exit exits in the vCPU thread,
 * so nothing after the write ever runs). */
bool qemu_system_exit_pending(void);
/* A reset was requested and the main loop has not done it yet (a software
 * vCPU that asked parks until then, as QEMU stops it: SeaBIOS triple-faults
 * right after its 0xcf9 write). */
bool qemu_system_reset_pending(void);
/* A vCPU hit something it cannot continue from (after printing a register
 * dump): stop the VM, exit with status 1. */
void qemu_system_internal_error(void);

/* vm_start: resume vCPUs and the virtual clock; vm_stop: pause them. */
void vm_start(void);
void vm_stop(RunState state);

/* Hooks a subsystem (QMP events) can register: called in the main thread. */
typedef struct RunstateNotifiers {
    void (*on_stop)(void);
    void (*on_resume)(void);
    void (*on_shutdown)(bool guest, ShutdownCause cause);
    void (*on_reset)(bool guest, ShutdownCause cause);
    void (*on_powerdown)(void);
} RunstateNotifiers;
void runstate_add_notifiers(const RunstateNotifiers *n);

/* Called by the main loop: acts on pending requests; returns true and sets
 * *status when the process should exit. */
bool runstate_handle_requests(int *status);

#endif
