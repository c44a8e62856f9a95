/*
 * The userspace local APIC ("apic"): one per vCPU when the accelerator has
 * no in-kernel irqchip (tcg-lite, KVM with kernel-irqchip=off).  xAPIC
 * (MMIO) and x2APIC (MSRs 0x800-0x8ff), the LAPIC timer (one-shot,
 * periodic, TSC-deadline) and the CPU side of interrupt delivery.
 *
 * Everything here is called with the BQL held.  The machine creates one
 * device per vCPU (apic_create) and installs the APIC bus backend
 * (apic_bus_init); from then on IOAPIC messages, MSIs and IPIs reach the
 * LAPICs through apic_bus_deliver() and the CPU takes interrupts through
 * cpu_get_interrupt() (include/hw/i386/x86-irq.h).  See docs/lapic.md.
 *
 * cpu_get_interrupt() on a CPU with a LAPIC returns the PIC's vector for
 * an ExtINT, -1 if the LAPIC is hardware-disabled and no ExtINT waits,
 * and the SVR's spurious vector if the LAPIC is software-disabled or the
 * interrupt went away since CPU_INTERRUPT_HARD was seen (SDM 10.9).
 */
#ifndef KVMPC_HW_INTC_APIC_H
#define KVMPC_HW_INTC_APIC_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "hw/qdev.h"
#include "accel/cpu.h"
#include "qemu/error.h"

#define TYPE_APIC               "apic"

/* IA32_APIC_BASE (MSR 0x1b) */
#define MSR_IA32_APICBASE       0x1b
#define MSR_IA32_APICBASE_BSP   (1ull << 8)
#define MSR_IA32_APICBASE_EXTD  (1ull << 10)    /* x2APIC mode */
#define MSR_IA32_APICBASE_ENABLE (1ull << 11)   /* global enable */
#define MSR_IA32_APICBASE_BASE  0xfffff000ull   /* below the physical-address limit */
#define MSR_IA32_TSC_DEADLINE   0x6e0
#define MSR_X2APIC_BASE         0x800           /* MSR 0x800 + (MMIO offset >> 4) */
#define MSR_X2APIC_END          0x8ff

/* The LAPIC version register: QEMU's version 0x14, six LVT entries. */
#define APIC_VERSION            0x14
#define APIC_LVR_VALUE          0x00050014u

/* The timer counts at the APIC bus frequency: QEMU's 1 GHz, one tick per
 * nanosecond before the divider. */
#define APIC_BUS_CYCLE_NS       1
/* The virtual TSC's default frequency (the "tsc-frequency" property). */
#define APIC_TSC_DEFAULT_HZ     1000000000ull

/* Create, wire to cpu (cpu->apic) and realize the LAPIC of one vCPU, with
 * APIC ID cpu->apic_id.  x2apic: whether IA32_APIC_BASE may enable x2APIC
 * mode (the CPU model's CPUID.01H:ECX.x2APIC). */
DeviceState *apic_create(CPUState *cpu, bool x2apic, Error **errp);
/* Install the APIC bus backend (userspace LAPICs) and map the xAPIC page
 * at APIC_DEFAULT_ADDRESS in the system address space, dispatching to the
 * LAPIC of current_cpu.  Idempotent. */
void apic_bus_init(void);
/* The LAPIC with APIC ID id (physical), or NULL. */
DeviceState *apic_find_by_id(uint32_t id);

/* IA32_APIC_BASE.  apic_set_base validates the transition (SDM 10.12.5):
 * false means the WRMSR must raise #GP and nothing changed. */
uint64_t apic_get_base(DeviceState *dev);
bool apic_set_base(DeviceState *dev, uint64_t value);
/* Who runs the LAPIC timer: the vCPU's thread (its cpu->timers, chosen at
 * realize) or, with NULL, the main loop. */
void apic_set_timer_list(DeviceState *dev, struct QEMUTimerList *tl);
bool apic_is_x2apic(DeviceState *dev);
bool apic_is_enabled(DeviceState *dev);     /* IA32_APIC_BASE bit 11 */

/* CR8: TPR bits 7:4 (MOV CR8, KVM's run->cr8). */
void apic_set_tpr(DeviceState *dev, uint8_t cr8);
uint8_t apic_get_tpr(DeviceState *dev);

/* xAPIC MMIO, offset in the 4 KiB page.  A software CPU routes its own
 * accesses to [base, base + 4 KiB) here; reads return all ones and writes
 * are ignored while the LAPIC is disabled or in x2APIC mode (the page is
 * then not decoded). */
uint64_t apic_mmio_read(DeviceState *dev, uint64_t offset, unsigned size);
void apic_mmio_write(DeviceState *dev, uint64_t offset, uint64_t value, unsigned size);
/* A guest write at physical address addr by the LAPIC's own vCPU running
 * without the BQL: true if the LAPIC did it (a 4-byte EOI of an
 * edge-triggered vector); false: write it the usual way, with the BQL. */
bool apic_write_unlocked(DeviceState *dev, uint64_t addr, unsigned size);
/* Does physical address addr fall in this LAPIC's decoded xAPIC page? */
bool apic_mmio_claims(DeviceState *dev, uint64_t addr);

/* RDMSR/WRMSR of the x2APIC range 0x800-0x8ff and IA32_TSC_DEADLINE.
 * false: the instruction raises #GP (x2APIC registers while not in x2APIC
 * mode, reserved or write-only registers read, read-only registers
 * written, reserved bits set). */
bool apic_msr_read(DeviceState *dev, uint32_t index, uint64_t *value);
bool apic_msr_write(DeviceState *dev, uint32_t index, uint64_t value);

/* An NMI on the LINT1 pin (the NMI button, QMP inject-nmi). */
void apic_deliver_nmi(DeviceState *dev);
/* inject-nmi for a CPU with a userspace LAPIC (or none): LINT1 if the LAPIC
 * is enabled in hardware and software, else CPU_INTERRUPT_NMI (QEMU). */
void apic_external_nmi(CPUState *cpu);
/* INIT reset: every register to its reset value except the APIC ID and
 * IA32_APIC_BASE (SDM 10.4.7.3). */
void apic_init_reset(DeviceState *dev);
/* The highest vector in IRR, or -1 (for an accelerator's injection). */
int apic_get_highest_irr(DeviceState *dev);
/* `info lapic`: the register file in text. */
void apic_dump(DeviceState *dev, GString *out);

/* The virtual TSC of a vCPU: tsc-frequency (of its LAPIC, default
 * APIC_TSC_DEFAULT_HZ) times virtual-clock time, plus an offset that
 * cpu_set_tsc (WRMSR IA32_TSC) adjusts. */
uint64_t cpu_get_tsc(CPUState *cpu);
void cpu_set_tsc(CPUState *cpu, uint64_t value);

#endif
