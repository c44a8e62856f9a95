/*
 * Intel 82093AA I/O APIC ("ioapic"): 24 GPIO inputs (GSIs 0-23), MMIO at
 * IOAPIC_DEFAULT_ADDRESS, interrupts delivered as APIC bus messages
 * (apic_bus_deliver), level-triggered EOIs heard through the APIC bus's
 * EOI broadcast.  The machine puts it at /machine/ioapic.
 */
#ifndef KVMPC_HW_INTC_IOAPIC_H
#define KVMPC_HW_INTC_IOAPIC_H

#include <glib.h>
#include <stdint.h>
#include "hw/qdev.h"

#define IOAPIC_TYPE             "ioapic"

/* Register map (82093AA datasheet, 3.0/3.2). */
#define IOAPIC_IOREGSEL         0x00    /* MMIO offset: register select */
#define IOAPIC_IOWIN            0x10    /* MMIO offset: register window (32-bit) */
#define IOAPIC_EOI              0x40    /* MMIO offset: EOI register (version 0x20) */
#define IOAPIC_REG_ID           0x00
#define IOAPIC_REG_VER          0x01
#define IOAPIC_REG_ARB          0x02
#define IOAPIC_REG_REDTBL       0x10    /* entry n: 0x10 + 2n (low), 0x11 + 2n (high) */

/* Redirection table entry bits. */
#define IOAPIC_RTE_VECTOR       0xffull
#define IOAPIC_RTE_DELMOD_SHIFT 8
#define IOAPIC_RTE_DESTMOD      (1ull << 11)    /* 1: logical */
#define IOAPIC_RTE_DELIVS       (1ull << 12)    /* delivery status (RO) */
#define IOAPIC_RTE_POLARITY     (1ull << 13)    /* 1: active low */
#define IOAPIC_RTE_REMOTE_IRR   (1ull << 14)    /* RO */
#define IOAPIC_RTE_TRIGGER      (1ull << 15)    /* 1: level */
#define IOAPIC_RTE_MASKED       (1ull << 16)
#define IOAPIC_RTE_EXT_DEST_SHIFT 49            /* bits 55:49: extended destination ID */
#define IOAPIC_RTE_DEST_SHIFT   56

/* A state of the IOAPIC for tests and `info ioapic`. */
uint64_t ioapic_get_entry(DeviceState *dev, int pin);
void ioapic_print_info(DeviceState *dev, GString *buf);

#endif
