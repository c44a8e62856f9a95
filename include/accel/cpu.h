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

/* What the vCPU is doing apart from executing (the architectural
 * activity states plus the wait for INIT/SIPI).  Accelerators convert to
 * and from their own numbers. */
typedef enum X86MPState {
    CPU_MP_RUNNABLE,
    CPU_MP_UNINITIALIZED,       /* AP after reset: waits for INIT */
    CPU_MP_INIT_RECEIVED,       /* waits for SIPI */
    CPU_MP_HALTED,              /* HLT, waits for an interrupt */
    CPU_MP_SIPI_RECEIVED,
    CPU_MP__MAX
} X86MPState;

const char *x86_mp_state_name(X86MPState s);

/* Events caught between instructions: what KVM_GET_VCPU_EVENTS reports
 * and a software CPU keeps between two instructions. */
typedef struct X86CPUEvents {
    bool exception_injected;    /* being delivered (re-injected on entry) */
    uint8_t exception_nr;
    bool exception_has_error_code;
    uint32_t exception_error_code;
    bool interrupt_injected;
    uint8_t interrupt_nr;
    bool interrupt_soft;        /* INTn, not an external interrupt */
    uint8_t interrupt_shadow;   /* X86_SHADOW_* after STI / MOV SS */
    bool nmi_injected, nmi_pending, nmi_masked;
    uint8_t sipi_vector;
} X86CPUEvents;

#define X86_SHADOW_MOV_SS 1
#define X86_SHADOW_STI    2

/* The XSAVE area in the standard (non-compacted) format: legacy region
 * (the FXSAVE image, 512 bytes), XSAVE header (64), then each component at
 * the offset CPUID leaf 0xd gives.  4 KiB holds everything up to AVX-512;
 * KVM's area is only larger for AMX, which kvmpc never asks for. */
#define X86_XSAVE_AREA_SIZE 4096
#define X86_XSAVE_HDR_OFFSET 512
#define XSTATE_FP  (1ULL << 0)
#define XSTATE_SSE (1ULL << 1)
#define XSTATE_YMM (1ULL << 2)

#define X86_MTRR_NB_VAR   8
#define X86_MTRR_NB_FIXED 11        /* 64K_00000, 16K_80000/A0000, 4K_C0000..F8000 */

/* LAPIC register page (in-kernel LAPIC), offsets as in the SDM. */
#define X86_LAPIC_PAGE_SIZE 1024

typedef struct X86CPUState {
    uint64_t regs[CPU_NB_REGS];
    uint64_t rip;
    uint64_t rflags;
    SegmentCache segs[R_NB_SEGS];       /* FS/GS base are the segments' bases */
    SegmentCache ldt, tr;
    DescTable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t apic_base;
    uint64_t dr[8];                     /* DR0-3, DR6, DR7 (4 and 5 unused) */
    uint64_t xcr0;
    /* FPU/SSE/AVX: the whole XSAVE area; fxsave is its first 512 bytes. */
    union {
        uint8_t xsave[X86_XSAVE_AREA_SIZE];
        uint8_t fxsave[512];
    };
    uint64_t tsc;
    uint64_t tsc_aux;
    uint64_t tsc_deadline;
    uint64_t misc_enable;
    uint64_t star, lstar, cstar, fmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t mtrr_deftype;
    uint64_t mtrr_fixed[X86_MTRR_NB_FIXED];
    struct { uint64_t base, mask; } mtrr_var[X86_MTRR_NB_VAR];
    /* KVM paravirtual MSRs (kvmclock, async PF, steal time, PV EOI, poll
     * control): a reset must clear them, or the old kernel's clock page
     * keeps being written into the new kernel's memory. */
    uint64_t system_time_msr, wall_clock_msr, async_pf_en_msr, steal_time_msr;
    uint64_t pv_eoi_en_msr, poll_control_msr;
    X86CPUEvents events;
    X86MPState mp_state;
    /* The LAPIC's register page when the accelerator keeps the LAPIC (KVM's
     * in-kernel one); a userspace LAPIC is a device with its own state. */
    uint8_t lapic[X86_LAPIC_PAGE_SIZE];
} X86CPUState;

typedef struct CPUState {
    int index;
    uint32_t apic_id;
    X86CPUState env;
    bool env_valid;             /* env holds the latest state (synced from the accelerator) */
    bool env_dirty;             /* env is newer than the accelerator's copy: written back
                                 * (put_state) before the vCPU runs again */
    pthread_t thread;
    int thread_id;              /* host TID of the vCPU thread (0: none) */
    bool thread_started;
    /* Run control, protected by the BQL. */
    bool stop;                  /* asked to stop (pause, monitor); cpus_resume_all clears it */
    bool reset_pending;         /* the guest asked for a reset or shut down (triple fault,
                                 * reset request): parked until the machine's reset, which
                                 * alone clears it; no monitor command does */
    bool stopped;               /* acknowledged */
    bool exit_thread;
    void *accel;                /* accelerator's per-vCPU data */
    /* Interrupts (hw/i386/x86-irq.h): CPU_INTERRUPT_* bits, set atomically
     * from any thread; the vCPU's own thread clears them. */
    uint32_t interrupt_request;
    uint8_t sipi_vector;
    struct DeviceState *apic;   /* the userspace LAPIC, or NULL (in-kernel or none) */
    /* Timers this vCPU's thread runs itself (its LAPIC timer), or NULL:
     * the main loop runs them (include/system/main-loop.h). */
    struct QEMUTimerList *timers;
} CPUState;

extern GPtrArray *cpus;         /* CPUState*, index order */
/* The vCPU this thread is running (set by the accelerator's vCPU loop, as
 * QEMU's current_cpu), or NULL in the main thread: the xAPIC page at
 * 0xfee00000 dispatches to current_cpu's LAPIC. */
extern __thread CPUState *current_cpu;
CPUState *cpu_by_index(int index);

/* Register dump in the style of QEMU's `info registers`. */
void x86_cpu_dump_state(const X86CPUState *env, GString *out);
/* Set env to the architectural reset state (real mode at f000:fff0, the
 * LAPIC page of a fresh LAPIC with this APIC ID, in virtual-wire mode on
 * the BSP). */
void x86_cpu_reset_state(X86CPUState *env, uint32_t apic_id, bool bsp);
/* Accessors of the LAPIC register page. */
uint32_t x86_lapic_reg(const X86CPUState *env, unsigned offset);
void x86_lapic_set_reg(X86CPUState *env, unsigned offset, uint32_t val);
/* The vCPU may enter guest mode: not stopped, not waiting for a reset,
 * the VM running (BQL held; system/cpus.c). */
bool cpu_can_run(const CPUState *cpu);
/* Flat 32-bit protected mode, paging off (Linux 32-bit boot, multiboot, PVH). */
void x86_cpu_set_flat32(X86CPUState *env);
/* 64-bit long mode with the given page tables (cr3) and GDT already in memory. */
void x86_cpu_set_long64(X86CPUState *env, uint64_t cr3, uint64_t gdt_base, uint16_t gdt_limit);

#endif
