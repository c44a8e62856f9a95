/*
 * The PC's BIOS image (SeaBIOS's bios-256k.bin, or -bios FILE): found
 * through a search path, mapped as ROM at the top of 4 GiB, and its last
 * 128 KiB in PCI memory at 0xe0000-0xfffff, where the i440FX's PAM
 * registers show it or the RAM that shadows it.  docs/firmware.md.
 */
#ifndef KVMPC_HW_I386_FIRMWARE_H
#define KVMPC_HW_I386_FIRMWARE_H

#include "hw/machine.h"

#define FIRMWARE_DEFAULT_BIOS   "bios-256k.bin"
#define FIRMWARE_ISA_BIOS_MAX   (128 * 1024)
#define FIRMWARE_MAX_SIZE       (16 * 1024 * 1024)
#define FIRMWARE_LINUXBOOT_ROM  "linuxboot.bin"
/* Its place in "bootorder": SeaBIOS names genroms files this way. */
#define FIRMWARE_LINUXBOOT_BOOTPATH "/rom@genroms/" FIRMWARE_LINUXBOOT_ROM

/* Where a firmware file named `name` is: `name` itself when it names an
 * existing file, else the first of dirs (NULL-terminated, -L in order;
 * may be NULL), KVMPC_DATADIR, /usr/share/seabios, /usr/share/qemu, the
 * build's pc-bios/optionrom (next to the kvmpc binary) that holds it.
 * NULL when none does. */
char *firmware_find(const char *name, char *const *dirs);

/* Loads ms->firmware (or bios-256k.bin) into a ROM at 4 GiB - size and
 * its last min(size, 128 KiB) at 1 MiB - that, both in pci_mem (PCI
 * memory, which the system shows under RAM and its devices).  The size
 * must be a multiple of 64 KiB, at most 16 MiB. */
bool firmware_load_bios(MachineState *ms, MemoryRegion *pci_mem, Error **errp);

/* fw_cfg "genroms/linuxboot.bin": our option ROM (pc-bios/optionrom/),
 * which SeaBIOS runs to boot -kernel with -machine firmware-boot=on.
 * Searched like the BIOS, then in build/pc-bios/optionrom. */
bool firmware_add_linuxboot(MachineState *ms, Error **errp);

/* fw_cfg etc/smbios/smbios-tables and -anchor for SeaBIOS (hw/i386/smbios.c). */
bool smbios_build_fw_cfg(FWCfgState *s, MachineState *ms, Error **errp);

/* -smbios type=0|1,field=value...: QEMU's fields for types 0 and 1. */
typedef struct SMBiosFields {
    bool type0;                 /* a type 0 was given: we build it, not SeaBIOS */
    char *vendor, *bios_version, *date;
    int release_major, release_minor;   /* -1: not given */
    char *manufacturer, *product, *version, *serial, *sku, *family;
    bool uuid_set;
    uint8_t uuid[16];
} SMBiosFields;
bool smbios_parse_option(MachineState *ms, const char *arg, Error **errp);
void smbios_fields_free(SMBiosFields *f);

/* -boot's argument into ms->boot_order, boot_menu... */
bool firmware_parse_boot(MachineState *ms, const char *arg, Error **errp);

#endif
