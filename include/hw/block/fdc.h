/*
 * The PC floppy disk controller ("isa-fdc", an Intel 82078 in its PC-AT
 * mode, as QEMU models it): ports 0x3f0-0x3f5 and 0x3f7, IRQ 6, DMA
 * channel 2, two drives claimed from -fda/-fdb/-drive if=floppy.
 */
#ifndef KVMPC_HW_BLOCK_FDC_H
#define KVMPC_HW_BLOCK_FDC_H

#include "hw/qdev.h"

#define FDC_TYPE        "isa-fdc"

/* CMOS drive types (register 0x10: drive A in bits 7-4, B in 3-0). */
#define FDC_CMOS_NONE   0
#define FDC_CMOS_360K   1
#define FDC_CMOS_1_2M   2
#define FDC_CMOS_720K   3
#define FDC_CMOS_1_44M  4
#define FDC_CMOS_2_88M  5

/* The CMOS type of drive unit (0 or 1): FDC_CMOS_NONE without a drive. */
int fdc_cmos_drive_type(DeviceState *fdc, int unit);

#endif
