/*
 * The accelerator interface.  An accelerator runs the vCPUs (KVM, tcg-lite)
 * or stands in for them (qtest).  Everything above it (machine, migration,
 * monitor, reset) uses only these operations and the X86CPUState layout.
 */
#ifndef KVMPC_ACCEL_ACCEL_H
#define KVMPC_ACCEL_ACCEL_H

#include <stdbool.h>
#include <glib.h>
#include "qemu/error.h"
#include "accel/cpu.h"

typedef struct MachineState MachineState;
struct EventNotifier;

/* Where the PC's interrupt controllers are (-machine kernel-irqchip=). */
typedef enum AccelIrqchip {
    ACCEL_IRQCHIP_NONE,     /* all userspace devices: PIC, IOAPIC, LAPICs, PIT ("off") */
    ACCEL_IRQCHIP_SPLIT,    /* LAPICs in the accelerator; PIC, IOAPIC, PIT userspace */
    ACCEL_IRQCHIP_FULL,     /* PIC, IOAPIC, LAPICs and PIT in the accelerator ("on") */
} AccelIrqchip;

typedef struct AccelOps {
    const char *name;                   /* "kvm", "tcg", "qtest" */
    const char *desc;
    /* Which interrupt controllers the accelerator keeps (NULL: none, the
     * machine builds them all as userspace devices). */
    AccelIrqchip (*irqchip)(void);
    /* Is it usable on this host (for KVM: including a self-test that runs
     * guest code)?  If not, errp says why (one line).  Called before the
     * machine is built; use accel_probe(), which remembers the answer. */
    bool (*probe)(Error **errp);
    /* Create the VM for ms: memory listeners, irqchip, clocks.  Called
     * after the machine built its memory map and before vCPUs exist. */
    bool (*init_machine)(MachineState *ms, Error **errp);
    /* Create one vCPU (not yet running). */
    bool (*vcpu_create)(CPUState *cpu, Error **errp);
    /* Start the vCPU's thread; it waits until the VM runs. */
    void (*vcpu_start)(CPUState *cpu);
    /* Make a running vCPU leave guest mode soon (to see cpu->stop etc),
     * and wake it if it sleeps in cpus_wait(). */
    void (*vcpu_kick)(CPUState *cpu);
    /* accel -> cpu->env (get) and cpu->env -> accel (put), the vCPU parked
     * (not in guest mode) and the BQL held.  Both return false with errp
     * naming the failed operation and the CPU.  After a get, env is the
     * reference: the accelerator writes it back before the vCPU runs again
     * (cpu->env_dirty), so an edit through env is never lost.  put writes
     * all of env, nothing forced: what a register should hold after a reset
     * is in x86_cpu_reset_state(). */
    bool (*get_state)(CPUState *cpu, Error **errp);
    bool (*put_state)(CPUState *cpu, Error **errp);
    /* Interrupt controller input (global system interrupt line). */
    void (*set_irq)(int gsi, int level);
    void (*inject_nmi)(CPUState *cpu);
    /* Architectural reset of a vCPU: the caller has set cpu->env to its
     * reset (or boot) state; this puts it, LAPIC included, and drops what
     * the accelerator had queued for the old guest. */
    bool (*vcpu_reset)(CPUState *cpu, Error **errp);
    /* Options: -accel kvm,kernel-irqchip=on etc. Return false on unknown. */
    bool (*set_option)(const char *key, const char *value, Error **errp);
    /* System reset of accelerator-owned devices (in-kernel PIC/IOAPIC). */
    void (*reset)(void);
    /* With ACCEL_IRQCHIP_FULL: the in-kernel PIT as a device (port 0x61 links
     * to it), created when the machine asks for a PIT; NULL: none. */
    struct DeviceState *(*create_pit)(Error **errp);
    void (*cleanup)(void);
    /*
     * MSI with the accelerator's in-kernel irqchip (all optional; NULL: the
     * machine delivers MSIs to the userspace APIC bus).  send_msi delivers
     * one interrupt message (KVM_SIGNAL_MSI).  An MSI route is a virq the
     * accelerator injects as (addr, data): msi_route_add returns it (-1 if
     * the message cannot be routed, e.g. it is not an interrupt message),
     * msi_route_update re-points it (false: cannot; the caller releases
     * it).  irqfd_add binds an eventfd to a virq so that setting it
     * injects the message with no exit to userspace (KVM_IRQFD).
     */
    void (*send_msi)(uint64_t addr, uint32_t data);
    int (*msi_route_add)(uint64_t addr, uint32_t data);
    bool (*msi_route_update)(int virq, uint64_t addr, uint32_t data);
    void (*msi_route_release)(int virq);
    bool (*irqfd_add)(struct EventNotifier *e, int virq);
    void (*irqfd_remove)(struct EventNotifier *e, int virq);
    /* HMP `info jit`: a software CPU's code cache, appended to out (NULL:
     * the accelerator has none). BQL held. */
    void (*info_jit)(GString *out);
} AccelOps;

void accel_register(const AccelOps *ops);
#define ACCEL_REGISTER(ops) \
    static void __attribute__((constructor)) ops##_register_(void) { accel_register(&(ops)); }
const AccelOps *accel_find(const char *name);
/* ops->probe, once per process: later calls return the same answer (and
 * the same reason). */
bool accel_probe(const AccelOps *ops, Error **errp);
GPtrArray *accel_list(void);
/* The accelerator this process runs with (after selection). */
extern const AccelOps *current_accel;

static inline AccelIrqchip accel_irqchip(void)
{
    return current_accel && current_accel->irqchip ? current_accel->irqchip()
                                                   : ACCEL_IRQCHIP_NONE;
}

/* vCPU control shared by accelerators (system/cpus.c). */
void cpus_pause_all(void);          /* BQL held; returns when all vCPUs stopped */
void cpus_resume_all(void);
/* Called by a vCPU thread (BQL held) at a safe point: parks while it may
 * not run (cpu_can_run). */
void cpu_wait_while_stopped(CPUState *cpu);
/* The top of every accelerator's vCPU loop (BQL held): parks while the
 * vCPU may not run, then says whether the thread ends (CPU_LOOP_EXIT),
 * must look again (CPU_LOOP_AGAIN: the process is exiting, so the guest
 * must not run past what asked for the exit, e.g. isa-debug-exit, whose
 * next instructions may fault) or may run the guest (CPU_LOOP_RUN). */
typedef enum { CPU_LOOP_RUN, CPU_LOOP_AGAIN, CPU_LOOP_EXIT } CPULoopStep;
CPULoopStep cpu_loop_begin(CPUState *cpu);
/* The vCPU asked for a reset or a shutdown, or cannot go on: it stays
 * parked until the machine's reset (cpus_reset_done), whatever the monitor
 * does meanwhile.  BQL held. */
void cpu_park_until_reset(CPUState *cpu);
/* The machine has been reset: vCPUs parked for it may run again. */
void cpus_reset_done(void);
/* Wake vCPU threads waiting on the BQL condition. */
void cpus_broadcast(void);
void cpus_wait(void);           /* vCPU thread: wait on the condition (BQL held) */
void cpus_wait_until(gint64 end_monotonic_us);      /* ... at most until then */

#endif
