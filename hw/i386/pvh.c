/*
 * PVH boot (Xen's x86 direct boot ABI, also used by QEMU and Firecracker
 * for an uncompressed vmlinux): an ELF whose XEN_ELFNOTE_PHYS32_ENTRY note
 * gives a 32-bit physical entry point.  The vCPU starts there in flat
 * 32-bit protected mode with EBX = the hvm_start_info address.
 *
 * Layout: hvm_start_info at 0x6000, the module list after it, the memory
 * map at 0x6100, the command line at 0x20000, the initrd page-aligned as
 * high as possible below 4 GiB (and above the kernel).
 */
#include <string.h>
#include "hw/i386/boot.h"
#include "hw/i386/x86-boot-internal.h"

#define XEN_ELFNOTE_PHYS32_ENTRY    18
#define HVM_START_MAGIC             0x336ec578

/* struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) */
#define SI_MAGIC            0
#define SI_VERSION          4
#define SI_FLAGS            8
#define SI_NR_MODULES       12
#define SI_MODLIST_PADDR    16
#define SI_CMDLINE_PADDR    24
#define SI_RSDP_PADDR       32
#define SI_MEMMAP_PADDR     40      /* version 1 */
#define SI_MEMMAP_ENTRIES   48
#define SI_SIZE             56
#define MOD_SIZE            32      /* paddr, size, cmdline_paddr, reserved */
#define MEMMAP_ENTRY_SIZE   24      /* addr, size, type, reserved */

#define PVH_MODLIST_ADDR    (BOOT_PVH_INFO_ADDR + 0x40)
#define PVH_MEMMAP_ADDR     (BOOT_PVH_INFO_ADDR + 0x100)
#define PVH_MEMMAP_MAX      ((BOOT_PVH_INFO_END - PVH_MEMMAP_ADDR) / MEMMAP_ENTRY_SIZE)

/* Walks the notes in [off, off+len) of the file; 1 found, 0 not, -1 error. */
static int pvh_scan_notes(const uint8_t *img, size_t size, uint64_t off, uint64_t len,
                          uint32_t *entry, Error **errp)
{
    uint64_t end;

    if (off > size || len > size - off) {
        error_setg(errp, "ELF note segment (offset 0x%" G_GINT64_MODIFIER "x, 0x%"
                   G_GINT64_MODIFIER "x bytes) extends beyond the end of the file", off, len);
        return -1;
    }
    end = off + len;
    while (end - off >= 12) {
        uint32_t namesz = ld32(img + off), descsz = ld32(img + off + 4);
        uint32_t type = ld32(img + off + 8);
        uint64_t name = off + 12;
        uint64_t desc = name + (((uint64_t)namesz + 3) & ~3ULL);
        uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ULL);

        if (desc > end || next > end || desc + descsz > end) {
            error_setg(errp, "ELF note at offset 0x%" G_GINT64_MODIFIER "x (name %u, desc %u "
                       "bytes) overruns its segment", off, namesz, descsz);
            return -1;
        }
        if (namesz == 4 && !memcmp(img + name, "Xen", 4) &&
            type == XEN_ELFNOTE_PHYS32_ENTRY) {
            uint64_t v;
            if (descsz == 4) {
                v = ld32(img + desc);
            } else if (descsz == 8) {
                v = ld64(img + desc);
            } else {
                error_setg(errp, "PVH entry note has a %u-byte descriptor", descsz);
                return -1;
            }
            if (v >= BOOT_4G) {
                error_setg(errp, "PVH entry point 0x%" G_GINT64_MODIFIER "x is above 4 GiB", v);
                return -1;
            }
            *entry = (uint32_t)v;
            return 1;
        }
        off = next;
    }
    return 0;
}

bool pvh_find_entry(const uint8_t *img, size_t size, uint32_t *entry, Error **errp)
{
    BootElf elf;
    BootElfPhdr ph;

    if (!boot_elf_parse(img, size, &elf, errp)) {
        return false;
    }
    for (unsigned i = 0; i < elf.phnum; i++) {
        boot_elf_phdr(img, &elf, i, &ph);
        if (ph.type != PT_NOTE_) {
            continue;
        }
        switch (pvh_scan_notes(img, size, ph.offset, ph.filesz, entry, errp)) {
        case 1:
            return true;
        case -1:
            return false;
        }
    }
    error_setg(errp, "ELF has no PVH entry note (Xen note XEN_ELFNOTE_PHYS32_ENTRY)");
    return false;
}

static bool pvh_load_initrd(const BootParams *bp, uint64_t kernel_end, uint8_t *si,
                            Error **errp)
{
    uint8_t mod[MOD_SIZE] = { 0 };
    uint64_t addr;
    uint8_t *data;
    size_t len;
    bool ok;

    if (!bp->initrd_filenames || !*bp->initrd_filenames) {
        return true;
    }
    if (!boot_read_file(bp->initrd_filenames, bp->below_4g, &data, &len, "initrd", errp)) {
        return false;
    }
    addr = (bp->below_4g - len) & ~0xfffULL;
    if (len > bp->below_4g || addr < kernel_end) {
        error_setg(errp, "initrd '%s' (%zu bytes) does not fit in RAM above the kernel "
                   "(ending at 0x%" G_GINT64_MODIFIER "x)", bp->initrd_filenames, len,
                   kernel_end);
        g_free(data);
        return false;
    }
    ok = boot_write(bp, addr, data, len, "initrd", errp);
    g_free(data);
    st64(mod, addr);
    st64(mod + 8, len);
    st32(si + SI_NR_MODULES, 1);
    st64(si + SI_MODLIST_PADDR, PVH_MODLIST_ADDR);
    return ok && boot_write(bp, PVH_MODLIST_ADDR, mod, sizeof(mod), "PVH module list", errp);
}

bool pvh_load(const BootParams *bp, const uint8_t *img, size_t size,
              BootCPUSetup *cpu, Error **errp)
{
    uint8_t si[SI_SIZE] = { 0 };
    uint8_t *memmap;
    uint64_t kernel_end = 0;
    BootElf elf;
    BootElfPhdr ph;
    uint32_t entry;
    unsigned nr, loaded = 0;
    bool ok;

    if (!pvh_find_entry(img, size, &entry, errp) || !boot_elf_parse(img, size, &elf, errp)) {
        return false;
    }
    for (unsigned i = 0; i < elf.phnum; i++) {
        boot_elf_phdr(img, &elf, i, &ph);
        if (ph.type != PT_LOAD_) {
            continue;
        }
        if (!boot_elf_load_segment(bp, img, size, i, &ph, false, &kernel_end, errp)) {
            return false;
        }
        loaded++;
    }
    if (!loaded || !kernel_end) {
        error_setg(errp, "ELF has no loadable segment");
        return false;
    }
    if (entry < BOOT_HIGH_START || entry >= kernel_end) {
        error_setg(errp, "PVH entry point 0x%x is outside the loaded image", entry);
        return false;
    }

    st32(si + SI_MAGIC, HVM_START_MAGIC);
    st32(si + SI_VERSION, 1);
    st64(si + SI_CMDLINE_PADDR, BOOT_CMDLINE_ADDR);
    st64(si + SI_RSDP_PADDR, bp->rsdp_addr);
    nr = bp->e820 ? MIN(bp->e820->nr, PVH_MEMMAP_MAX) : 0;
    memmap = g_malloc0((size_t)nr * MEMMAP_ENTRY_SIZE + 1);
    for (unsigned i = 0; i < nr; i++) {
        uint8_t *e = memmap + MEMMAP_ENTRY_SIZE * i;
        st64(e, bp->e820->entry[i].addr);
        st64(e + 8, bp->e820->entry[i].size);
        st32(e + 16, bp->e820->entry[i].type);
    }
    if (nr) {
        st64(si + SI_MEMMAP_PADDR, PVH_MEMMAP_ADDR);
        st32(si + SI_MEMMAP_ENTRIES, nr);
    }
    ok = boot_write_cmdline(bp, BOOT_CMDLINE_END - BOOT_CMDLINE_ADDR - 1, errp) &&
         pvh_load_initrd(bp, kernel_end, si, errp) &&
         boot_write(bp, PVH_MEMMAP_ADDR, memmap, (uint64_t)nr * MEMMAP_ENTRY_SIZE,
                    "PVH memory map", errp) &&
         boot_write(bp, BOOT_PVH_INFO_ADDR, si, sizeof(si), "hvm_start_info", errp) &&
         boot_setup_gdt(bp, cpu, errp);
    g_free(memmap);
    if (!ok) {
        return false;
    }
    cpu->mode = BOOT_CPU_FLAT32;
    cpu->rip = entry;
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EBX] = BOOT_PVH_INFO_ADDR;
    return true;
}
