/*
 * Private helpers shared by the x86 loaders (x86-boot.c, linux-boot.c,
 * pvh.c, multiboot.c).  Not a public interface.
 *
 * Low memory used by the loaders (all below the EBDA at 0x9fc00):
 *   0x00500  flat GDT: null, null, code 0x10, data 0x18 (+ code64 0x20)
 *   0x06000  PVH hvm_start_info, module list, memory map
 *   0x07000  Linux boot_params ("zero page")
 *   0x09000  multiboot memory map (0x500 bytes), then the mbi at 0x9500,
 *            as QEMU, unless the kernel is there (see multiboot.c)
 *   0x20000  Linux/PVH kernel command line .. 0x9efff
 * PVH segments must load at or above 1 MiB; multiboot ones may also load at
 * 0x528-0x9fbff: everything else a multiboot kernel gets goes after it.
 */
#ifndef KVMPC_HW_I386_X86_BOOT_INTERNAL_H
#define KVMPC_HW_I386_X86_BOOT_INTERNAL_H

#include "hw/i386/boot.h"

#define BOOT_GDT_ADDR       0x500
#define BOOT_CS             0x10        /* __BOOT_CS */
#define BOOT_DS             0x18        /* __BOOT_DS */
#define BOOT_GDT_ENTRIES    5
#define BOOT_PVH_INFO_ADDR  0x6000
#define BOOT_PVH_INFO_END   0x7000
#define BOOT_LINUX_ZP_ADDR  0x7000
#define BOOT_MB_MMAP_ADDR   0x9000      /* QEMU's ADDR_E820_MAP */
#define BOOT_MB_INFO_ADDR   0x9500      /* QEMU's ADDR_MBI */
#define BOOT_CMDLINE_ADDR   0x20000
#define BOOT_CMDLINE_END    0x9f000
#define BOOT_HIGH_START     0x100000    /* kernels load at or above 1 MiB */
#define BOOT_4G             0x100000000ULL

static inline uint16_t ld16(const uint8_t *p) { return p[0] | (uint16_t)p[1] << 8; }
static inline uint32_t ld32(const uint8_t *p) { return ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static inline uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static inline void st16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void st32(uint8_t *p, uint32_t v) { st16(p, v); st16(p + 2, v >> 16); }
static inline void st64(uint8_t *p, uint64_t v) { st32(p, v); st32(p + 4, v >> 32); }

/* [addr, addr+len) lies entirely in guest RAM (below or above 4 GiB). */
bool boot_ram_contains(const BootParams *bp, uint64_t addr, uint64_t len);
/* RAM check plus: not in the low 1 MiB, which holds the boot structures
 * and the BIOS area; with low_ok (multiboot) only the IVT/BDA, the GDT and
 * the 640 KiB - 1 MiB hole are refused.  `what` names the thing. */
bool boot_check_image_range(const BootParams *bp, uint64_t addr, uint64_t len, bool low_ok,
                            const char *what, Error **errp);
/* Checked writes into guest memory (address_space_write_rom). */
bool boot_write(const BootParams *bp, uint64_t addr, const void *buf, uint64_t len,
                const char *what, Error **errp);
bool boot_zero(const BootParams *bp, uint64_t addr, uint64_t len, const char *what,
               Error **errp);
/* Reads a whole file of at most max bytes (errors name the file). */
bool boot_read_file(const char *path, uint64_t max, uint8_t **data, size_t *len,
                    const char *what, Error **errp);
/* Writes the flat GDT at BOOT_GDT_ADDR and fills cpu's gdt fields. */
bool boot_setup_gdt(const BootParams *bp, BootCPUSetup *cpu, Error **errp);
/* Writes the command line at BOOT_CMDLINE_ADDR; fails if it is longer than
 * max_len (not counting the NUL) or than the area. */
bool boot_write_cmdline(const BootParams *bp, size_t max_len, Error **errp);
/* Highest end of the RAM range starting below 4 GiB (= below_4g). */
static inline uint64_t boot_low_ram_end(const BootParams *bp) { return bp->below_4g; }

/* Minimal ELF reading for PVH and multiboot. */
typedef struct BootElf {
    bool is64;
    uint16_t machine;
    uint64_t entry;
    uint64_t phoff;
    uint16_t phentsize, phnum;
} BootElf;

typedef struct BootElfPhdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz;
} BootElfPhdr;

#define PT_LOAD_   1
#define PT_NOTE_   4

bool boot_elf_is_elf(const uint8_t *img, size_t size);
/* Validates the ELF header and program header table against the buffer. */
bool boot_elf_parse(const uint8_t *img, size_t size, BootElf *elf, Error **errp);
void boot_elf_phdr(const uint8_t *img, const BootElf *elf, unsigned i, BootElfPhdr *ph);
/* Validates a PT_LOAD header against the file and writes it (data + bss)
 * at p_paddr (low_ok: see boot_check_image_range); *end is raised to the
 * segment's end. */
bool boot_elf_load_segment(const BootParams *bp, const uint8_t *img, size_t size,
                           unsigned i, const BootElfPhdr *ph, bool low_ok, uint64_t *end,
                           Error **errp);

#endif
