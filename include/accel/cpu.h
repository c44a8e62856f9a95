/*
 * The architectural state of an x86 vCPU, in one layout shared by every
 * accelerator, migration, the monitor and the loaders.
 */
#ifndef KVMPC_ACCEL_CPU_H
#define KVMPC_ACCEL_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <glib.h>

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15, CPU_NB_REGS };
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS, R_NB_SEGS };

typedef struct SegmentCache {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;             /* byte granular (already scaled) */
    uint8_t type;               /* 4-bit descriptor type */
    bool present, dpl_s, db, l, g, avl, unusable;
    uint8_t dpl;
} SegmentCache;

typedef struct DescTable {
    uint64_t base;
    uint16_t limit;
} DescTable;

#define CR0_PE (1u << 0)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

typedef struct X86CPUState {
    uint64_t regs[CPU_NB_REGS];
    uint64_t rip;
    uint64_t rflags;
    SegmentCache segs[R_NB_SEGS];
    SegmentCache ldt, tr;
    DescTable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t apic_base;
    uint64_t dr[8];
    uint64_t xcr0;
    uint64_t tsc;
    uint64_t star, lstar, cstar, fmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    /* KVM paravirtual MSRs (kvmclock, async PF, steal time, PV EOI, poll
     * control): a reset must clear them, or the old kernel's clock page
     * keeps being written into the new kernel's memory. */
    uint64_t system_time_msr, wall_clock_msr, async_pf_en_msr, steal_time_msr;
    uint64_t pv_eoi_en_msr, poll_control_msr;
    uint8_t fxsave[512];        /* FPU/SSE state in FXSAVE layout */
    bool halted;
    int mp_state;               /* 0 runnable, 1 uninitialized, 2 init-received, 3 halted, 4 sipi */
} X86CPUState;

typedef struct CPUState {
    int index;
    uint32_t apic_id;
    X86CPUState env;
    bool env_valid;             /* env holds the latest state (synced from the accelerator) */
    pthread_t thread;
    int thread_id;              /* host TID of the vCPU thread (0: none) */
    bool thread_started;
    /* Run control, protected by the BQL. */
    bool stop;                  /* asked to stop */
    bool stopped;               /* acknowledged */
    bool exit_thread;
    void *accel;                /* accelerator's per-vCPU data */
    /* Interrupts (hw/i386/x86-irq.h): CPU_INTERRUPT_* bits, set atomically
     * from any thread; the vCPU's own thread clears them. */
    uint32_t interrupt_request;
    uint8_t sipi_vector;
    struct DeviceState *apic;   /* the userspace LAPIC, or NULL (in-kernel or none) */
} CPUState;

extern GPtrArray *cpus;         /* CPUState*, index order */
/* The vCPU this thread is running (set by the accelerator's vCPU loop, as
 * QEMU's current_cpu), or NULL in the main thread: the xAPIC page at
 * 0xfee00000 dispatches to current_cpu's LAPIC. */
extern __thread CPUState *current_cpu;
CPUState *cpu_by_index(int index);

/* Register dump in the style of QEMU's `info registers`. */
void x86_cpu_dump_state(const X86CPUState *env, GString *out);
/* Set env to the architectural reset state (real mode at f000:fff0). */
void x86_cpu_reset_state(X86CPUState *env, bool bsp);
/* Flat 32-bit protected mode, paging off (Linux 32-bit boot, multiboot, PVH). */
void x86_cpu_set_flat32(X86CPUState *env);
/* 64-bit long mode with the given page tables (cr3) and GDT already in memory. */
void x86_cpu_set_long64(X86CPUState *env, uint64_t cr3, uint64_t gdt_base, uint16_t gdt_limit);

#endif
