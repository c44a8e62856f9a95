/*
 * MC146818 real-time clock and CMOS RAM ("mc146818rtc").
 */
#ifndef KVMPC_HW_TIMER_MC146818RTC_H
#define KVMPC_HW_TIMER_MC146818RTC_H

#include <stdint.h>
#include "hw/qdev.h"

#define RTC_ISA_IRQ     8
#define RTC_ISA_BASE    0x70

/* Store a byte of CMOS RAM (addr 0-127; others are ignored).  For the
 * machine's configuration bytes (memory sizes, boot order...). */
void rtc_set_memory(DeviceState *rtc, int addr, uint8_t val);
/* Read a byte of CMOS RAM as stored (no clock update); 0xff if out of range. */
uint8_t rtc_get_memory(DeviceState *rtc, int addr);

/*
 * The memory and CPU bytes QEMU's pc machine stores for the firmware:
 * 0x15/0x16 base memory in KiB (max 640), 0x17/0x18 and 0x30/0x31 KiB
 * above 1 MiB (max 0xffff), 0x34/0x35 64 KiB units above 16 MiB (max
 * 0xffff), 0x5b-0x5d 64 KiB units above 4 GiB, 0x5f CPUs - 1.
 */
void rtc_set_pc_memory(DeviceState *rtc, uint64_t below_4g_mem_size,
                       uint64_t above_4g_mem_size, unsigned boot_cpus);

#endif
