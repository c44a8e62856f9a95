/*
 * vCPU run control shared by the accelerators: pause/resume with the big
 * lock and one condition variable.
 */
#include "accel/accel.h"
#include "system/main-loop.h"
#include "system/runstate.h"

GPtrArray *cpus;
__thread CPUState *current_cpu;
const AccelOps *current_accel;
static GCond cpu_cond;

CPUState *cpu_by_index(int index)
{
    if (!cpus || index < 0 || (guint)index >= cpus->len) {
        return NULL;
    }
    return g_ptr_array_index(cpus, index);
}

void cpus_broadcast(void)
{
    g_cond_broadcast(&cpu_cond);
}

void cpus_wait(void)
{
    bql_cond_wait(&cpu_cond);
}

void cpus_wait_until(gint64 end_monotonic_us)
{
    bql_cond_wait_until(&cpu_cond, end_monotonic_us);
}

bool cpu_can_run(const CPUState *cpu)
{
    return !cpu->stop && !cpu->reset_pending && !cpu->exit_thread && runstate_is_running();
}

void cpu_wait_while_stopped(CPUState *cpu)
{
    while (!cpu_can_run(cpu) && !cpu->exit_thread) {
        if (!cpu->stopped) {
            cpu->stopped = true;
            cpus_broadcast();
        }
        cpus_wait();
    }
    cpu->stopped = false;
}

CPULoopStep cpu_loop_begin(CPUState *cpu)
{
    cpu_wait_while_stopped(cpu);
    if (cpu->exit_thread) {
        return CPU_LOOP_EXIT;
    }
    if (qemu_system_exit_pending()) {
        bql_unlock();
        g_usleep(1000);
        bql_lock();
        return CPU_LOOP_AGAIN;
    }
    return CPU_LOOP_RUN;
}

void cpus_pause_all(void)
{
    if (!cpus) {
        return;
    }
    for (guint i = 0; i < cpus->len; i++) {
        CPUState *cpu = g_ptr_array_index(cpus, i);
        cpu->stop = true;
        if (current_accel && current_accel->vcpu_kick && cpu->thread_started) {
            current_accel->vcpu_kick(cpu);
        }
    }
    for (;;) {
        bool all = true;
        for (guint i = 0; i < cpus->len; i++) {
            CPUState *cpu = g_ptr_array_index(cpus, i);
            if (cpu->thread_started && !cpu->stopped && !cpu->exit_thread) {
                all = false;
                if (current_accel && current_accel->vcpu_kick) {
                    current_accel->vcpu_kick(cpu);
                }
            }
        }
        if (all) {
            break;
        }
        /* Wait with a timeout: a kick may race with KVM_RUN entry. */
        bql_cond_wait_until(&cpu_cond, g_get_monotonic_time() + 10000);
    }
}

void cpu_park_until_reset(CPUState *cpu)
{
    cpu->reset_pending = true;
}

void cpus_reset_done(void)
{
    for (guint i = 0; cpus && i < cpus->len; i++) {
        CPUState *cpu = g_ptr_array_index(cpus, i);
        cpu->reset_pending = false;
    }
    cpus_broadcast();
}

void cpus_resume_all(void)
{
    if (!cpus) {
        return;
    }
    for (guint i = 0; i < cpus->len; i++) {
        CPUState *cpu = g_ptr_array_index(cpus, i);
        cpu->stop = false;
    }
    cpus_broadcast();
}
