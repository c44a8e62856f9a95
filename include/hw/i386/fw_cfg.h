/*
 * fw_cfg: the firmware configuration interface (I/O 0x510 selector,
 * 0x511 data, 0x514 DMA), QEMU-compatible so SeaBIOS and guests read it.
 */
#ifndef KVMPC_HW_FW_CFG_H
#define KVMPC_HW_FW_CFG_H

#include <stdint.h>
#include <stddef.h>
#include "hw/machine.h"

#define FW_CFG_SIGNATURE    0x00
#define FW_CFG_ID           0x01
#define FW_CFG_UUID         0x02
#define FW_CFG_RAM_SIZE     0x03
#define FW_CFG_NOGRAPHIC    0x04
#define FW_CFG_NB_CPUS      0x05
#define FW_CFG_MACHINE_ID   0x06
#define FW_CFG_KERNEL_ADDR  0x07
#define FW_CFG_KERNEL_SIZE  0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR  0x0a
#define FW_CFG_INITRD_SIZE  0x0b
#define FW_CFG_BOOT_DEVICE  0x0c
#define FW_CFG_NUMA         0x0d
#define FW_CFG_BOOT_MENU    0x0e
#define FW_CFG_MAX_CPUS     0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA  0x11
#define FW_CFG_INITRD_DATA  0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR   0x16
#define FW_CFG_SETUP_SIZE   0x17
#define FW_CFG_SETUP_DATA   0x18
#define FW_CFG_FILE_DIR     0x19
#define FW_CFG_FILE_FIRST   0x20
#define FW_CFG_FILE_SLOTS   0x20
#define FW_CFG_ARCH_LOCAL   0x8000
#define FW_CFG_E820_TABLE   (FW_CFG_ARCH_LOCAL + 3)

#define FW_CFG_IO_BASE      0x510
#define FW_CFG_DMA_IO_BASE  0x514

FWCfgState *fw_cfg_create(MachineState *ms, Error **errp);
/* The data is copied. */
void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len);
void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value);
void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value);
void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value);
void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value);
/* Named file in the directory (kept sorted by name, as QEMU does). */
bool fw_cfg_add_file(FWCfgState *s, const char *name, const void *data, size_t len, Error **errp);
/* The fw_cfg files devices declared about themselves, and "bootorder". */
typedef struct PlatformDesc PlatformDesc;
bool fw_cfg_add_platform_files(FWCfgState *s, const PlatformDesc *pd, Error **errp);

#endif
