/*
 * Multiboot v1 (the Multiboot Specification 0.6.96): ELF32 kernels, or any
 * format with the "a.out kludge" address fields (flags bit 16).
 *
 * Layout: the multiboot info structure at 0x9000, then (in the boot info
 * area up to 0x20000) the boot loader name, the memory map, the module
 * list and the module strings; the command line at 0x20000; modules
 * page-aligned above the kernel.  The kernel must load at or above 1 MiB.
 * Entry: flat 32-bit mode, EAX = 0x2BADB002, EBX = the info address.
 * The mbi command line is -append as given (QEMU prepends the kernel file
 * name; we do not know it here and kernels do not rely on it).
 */
#include <string.h>
#include "hw/i386/boot.h"
#include "hw/i386/x86-boot-internal.h"

#define MB_HEADER_MAGIC     0x1BADB002
#define MB_BOOTLOADER_MAGIC 0x2BADB002
#define MB_SEARCH           8192
#define MB_HEADER_SIZE      12
#define MB_AOUT_HEADER_SIZE 32

/* Header flags. */
#define MB_PAGE_ALIGN       (1u << 0)   /* modules page aligned */
#define MB_MEMORY_INFO      (1u << 1)   /* wants mem_* (and mmap) */
#define MB_VIDEO_MODE       (1u << 2)   /* wants a video mode: not provided */
#define MB_AOUT_KLUDGE      (1u << 16)
#define MB_KNOWN_REQUIRED   (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

/* Info flags and offsets (struct multiboot_info). */
#define MBI_MEM             (1u << 0)
#define MBI_CMDLINE         (1u << 2)
#define MBI_MODS            (1u << 3)
#define MBI_MMAP            (1u << 6)
#define MBI_LOADER_NAME     (1u << 9)
#define MBI_FLAGS           0
#define MBI_MEM_LOWER       4
#define MBI_MEM_UPPER       8
#define MBI_CMDLINE_PTR     16
#define MBI_MODS_COUNT      20
#define MBI_MODS_ADDR       24
#define MBI_MMAP_LENGTH     44
#define MBI_MMAP_ADDR       48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_SIZE            0x60

#define MB_LOADER_NAME      "kvmpc"

bool multiboot_parse_header(const uint8_t *img, size_t size, MultibootInfo *info, Error **errp)
{
    size_t limit = MIN(size, (size_t)MB_SEARCH);
    bool bad_checksum = false;
    size_t bad_off = 0;

    memset(info, 0, sizeof(*info));
    for (size_t off = 0; off + MB_HEADER_SIZE <= limit; off += 4) {
        uint32_t magic = ld32(img + off), flags, sum;

        if (magic != MB_HEADER_MAGIC) {
            continue;
        }
        flags = ld32(img + off + 4);
        sum = ld32(img + off + 8);
        if ((uint32_t)(magic + flags + sum) != 0) {
            if (!bad_checksum) {
                bad_checksum = true;
                bad_off = off;
            }
            continue;
        }
        info->flags = flags;
        info->header_offset = off;
        if (flags & 0xffff & ~MB_KNOWN_REQUIRED) {
            error_setg(errp, "multiboot header requires unsupported features (flags 0x%x)",
                       flags);
            return false;
        }
        if (flags & MB_AOUT_KLUDGE) {
            if (off + MB_AOUT_HEADER_SIZE > size) {
                error_setg(errp, "multiboot header at offset 0x%zx: address fields "
                           "truncated by the end of the file", off);
                return false;
            }
            info->aout_kludge = true;
            info->header_addr = ld32(img + off + 12);
            info->load_addr = ld32(img + off + 16);
            info->load_end_addr = ld32(img + off + 20);
            info->bss_end_addr = ld32(img + off + 24);
            info->entry_addr = ld32(img + off + 28);
        }
        return true;
    }
    if (bad_checksum) {
        error_setg(errp, "multiboot header at offset 0x%zx has a bad checksum", bad_off);
    } else {
        error_setg(errp, "no multiboot header in the first %d bytes", MB_SEARCH);
    }
    return false;
}

/* a.out kludge: one contiguous image described by the header. */
static bool multiboot_load_aout(const BootParams *bp, const uint8_t *img, size_t size,
                                const MultibootInfo *mb, uint64_t *end, uint32_t *entry,
                                Error **errp)
{
    uint64_t file_off, load_len, mem_end;

    if (mb->header_addr < mb->load_addr ||
        mb->header_addr - mb->load_addr > mb->header_offset) {
        error_setg(errp, "multiboot a.out kludge: header_addr 0x%x and load_addr 0x%x do not "
                   "match the header's file offset 0x%x", mb->header_addr, mb->load_addr,
                   mb->header_offset);
        return false;
    }
    file_off = mb->header_offset - (mb->header_addr - mb->load_addr);
    if (mb->load_end_addr) {
        if (mb->load_end_addr < mb->load_addr) {
            error_setg(errp, "multiboot a.out kludge: load_end_addr 0x%x is before "
                       "load_addr 0x%x", mb->load_end_addr, mb->load_addr);
            return false;
        }
        load_len = mb->load_end_addr - mb->load_addr;
        if (load_len > size - file_off) {
            error_setg(errp, "multiboot a.out kludge: load range 0x%x-0x%x needs 0x%"
                       G_GINT64_MODIFIER "x bytes of the file, which has only 0x%"
                       G_GINT64_MODIFIER "x after offset 0x%" G_GINT64_MODIFIER "x",
                       mb->load_addr, mb->load_end_addr, load_len,
                       (uint64_t)(size - file_off), file_off);
            return false;
        }
    } else {
        load_len = size - file_off;
    }
    mem_end = mb->load_addr + load_len;
    if (mb->bss_end_addr) {
        if (mb->bss_end_addr < mem_end) {
            error_setg(errp, "multiboot a.out kludge: bss_end_addr 0x%x is before the end "
                       "of the loaded image 0x%" G_GINT64_MODIFIER "x", mb->bss_end_addr,
                       mem_end);
            return false;
        }
        mem_end = mb->bss_end_addr;
    }
    if (mem_end == mb->load_addr) {
        error_setg(errp, "multiboot a.out kludge: empty image");
        return false;
    }
    if (mb->entry_addr < mb->load_addr || mb->entry_addr >= mem_end) {
        error_setg(errp, "multiboot a.out kludge: entry_addr 0x%x is outside the image "
                   "0x%x-0x%" G_GINT64_MODIFIER "x", mb->entry_addr, mb->load_addr, mem_end);
        return false;
    }
    if (!boot_check_image_range(bp, mb->load_addr, mem_end - mb->load_addr,
                                "multiboot kernel", errp) ||
        !boot_write(bp, mb->load_addr, img + file_off, load_len, "multiboot kernel", errp) ||
        !boot_zero(bp, mb->load_addr + load_len, mem_end - mb->load_addr - load_len,
                   "multiboot bss", errp)) {
        return false;
    }
    *end = mem_end;
    *entry = mb->entry_addr;
    return true;
}

static bool multiboot_load_elf(const BootParams *bp, const uint8_t *img, size_t size,
                               uint64_t *end, uint32_t *entry, Error **errp)
{
    BootElf elf;
    BootElfPhdr ph;
    uint64_t e;
    unsigned loaded = 0;

    if (!boot_elf_parse(img, size, &elf, errp)) {
        error_prepend(errp, "multiboot kernel without a.out kludge: ");
        return false;
    }
    if (elf.is64) {
        error_setg(errp, "multiboot kernel is a 64-bit ELF; give a 32-bit one "
                   "(objcopy -O elf32-i386)");
        return false;
    }
    e = elf.entry;
    for (unsigned i = 0; i < elf.phnum; i++) {
        boot_elf_phdr(img, &elf, i, &ph);
        if (ph.type != PT_LOAD_) {
            continue;
        }
        if (!boot_elf_load_segment(bp, img, size, i, &ph, end, errp)) {
            return false;
        }
        /* The entry is virtual: translate through its segment. */
        if (ph.memsz && elf.entry >= ph.vaddr && elf.entry - ph.vaddr < ph.memsz) {
            e = ph.paddr + (elf.entry - ph.vaddr);
        }
        loaded++;
    }
    if (!loaded || !*end) {
        error_setg(errp, "multiboot ELF has no loadable segment");
        return false;
    }
    if (e >= BOOT_4G) {
        error_setg(errp, "multiboot ELF entry 0x%" G_GINT64_MODIFIER "x is above 4 GiB", e);
        return false;
    }
    *entry = (uint32_t)e;
    return true;
}

/* Bump allocator in the boot info area. */
typedef struct MBInfoArea {
    uint64_t next;
} MBInfoArea;

static bool mb_alloc(MBInfoArea *a, uint64_t len, uint64_t *addr, const char *what,
                     Error **errp)
{
    uint64_t start = (a->next + 7) & ~7ULL;

    if (len > BOOT_MB_INFO_END - start) {
        error_setg(errp, "multiboot info does not fit in its area (0x%x-0x%x): %s too large",
                   BOOT_MB_INFO_ADDR, BOOT_MB_INFO_END, what);
        return false;
    }
    *addr = start;
    a->next = start + len;
    return true;
}

static bool mb_put_string(const BootParams *bp, MBInfoArea *a, const char *s, uint64_t *addr,
                          const char *what, Error **errp)
{
    size_t len = strlen(s) + 1;

    return mb_alloc(a, len, addr, what, errp) && boot_write(bp, *addr, s, len, what, errp);
}

static bool multiboot_load_modules(const BootParams *bp, MBInfoArea *area, uint64_t load_at,
                                   uint8_t *mbi, Error **errp)
{
    gchar **names;
    unsigned n;
    uint8_t *list = NULL;
    uint64_t list_addr;
    bool ok = false;

    if (!bp->initrd_filenames || !*bp->initrd_filenames) {
        return true;
    }
    names = g_strsplit(bp->initrd_filenames, ",", -1);
    n = g_strv_length(names);
    list = g_malloc0((size_t)n * 16 + 1);
    if (!mb_alloc(area, (uint64_t)n * 16, &list_addr, "module list", errp)) {
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        /* "path args...": the file is the first word, the string all of it. */
        gchar *path = g_strndup(names[i], strcspn(names[i], " "));
        uint64_t str_addr, start = (load_at + 0xfff) & ~0xfffULL;
        uint8_t *data;
        size_t len;

        if (!*path) {
            error_setg(errp, "empty multiboot module name in '%s'", bp->initrd_filenames);
            g_free(path);
            goto out;
        }
        if (!boot_read_file(path, bp->below_4g, &data, &len, "multiboot module", errp)) {
            g_free(path);
            goto out;
        }
        if (start + len > bp->below_4g || start >= BOOT_4G) {
            error_setg(errp, "multiboot module '%s' (%zu bytes) does not fit in RAM at 0x%"
                       G_GINT64_MODIFIER "x", path, len, start);
            g_free(data);
            g_free(path);
            goto out;
        }
        g_free(path);
        ok = boot_write(bp, start, data, len, "multiboot module", errp);
        g_free(data);
        if (!ok || !mb_put_string(bp, area, names[i], &str_addr, "module string", errp)) {
            ok = false;
            goto out;
        }
        ok = false;
        st32(list + 16 * i, (uint32_t)start);
        st32(list + 16 * i + 4, (uint32_t)(start + len));
        st32(list + 16 * i + 8, (uint32_t)str_addr);
        load_at = start + len;
    }
    if (!boot_write(bp, list_addr, list, (uint64_t)n * 16, "module list", errp)) {
        goto out;
    }
    st32(mbi + MBI_FLAGS, ld32(mbi + MBI_FLAGS) | MBI_MODS);
    st32(mbi + MBI_MODS_COUNT, n);
    st32(mbi + MBI_MODS_ADDR, (uint32_t)list_addr);
    ok = true;
out:
    g_free(list);
    g_strfreev(names);
    return ok;
}

static bool multiboot_write_mmap(const BootParams *bp, MBInfoArea *area, uint8_t *mbi,
                                 Error **errp)
{
    unsigned nr = bp->e820 ? bp->e820->nr : 0;
    uint8_t buf[24 * E820_MAX_ENTRIES];
    uint64_t addr, mem_lower = 0, mem_upper = 0;

    for (unsigned i = 0; i < nr; i++) {
        const E820Entry *e = &bp->e820->entry[i];
        st32(buf + 24 * i, 20);
        st64(buf + 24 * i + 4, e->addr);
        st64(buf + 24 * i + 12, e->size);
        st32(buf + 24 * i + 20, e->type);
        if (e->type == E820_RAM && e->addr == 0) {
            mem_lower = MIN(e->size, 0xa0000) >> 10;
        }
        if (e->type == E820_RAM && e->addr == BOOT_HIGH_START) {
            mem_upper = MIN(e->size, 0xffffffffULL << 10) >> 10;
        }
    }
    st32(mbi + MBI_FLAGS, ld32(mbi + MBI_FLAGS) | MBI_MEM);
    st32(mbi + MBI_MEM_LOWER, (uint32_t)mem_lower);
    st32(mbi + MBI_MEM_UPPER, (uint32_t)mem_upper);
    if (!nr) {
        return true;
    }
    if (!mb_alloc(area, 24ULL * nr, &addr, "memory map", errp) ||
        !boot_write(bp, addr, buf, 24ULL * nr, "multiboot memory map", errp)) {
        return false;
    }
    st32(mbi + MBI_FLAGS, ld32(mbi + MBI_FLAGS) | MBI_MMAP);
    st32(mbi + MBI_MMAP_LENGTH, 24 * nr);
    st32(mbi + MBI_MMAP_ADDR, (uint32_t)addr);
    return true;
}

bool multiboot_load(const BootParams *bp, const uint8_t *img, size_t size,
                    BootCPUSetup *cpu, Error **errp)
{
    MultibootInfo mb;
    MBInfoArea area = { .next = BOOT_MB_INFO_ADDR + MBI_SIZE };
    uint8_t mbi[MBI_SIZE] = { 0 };
    uint64_t end = 0, name_addr;
    uint32_t entry;
    bool ok;

    if (!multiboot_parse_header(img, size, &mb, errp)) {
        return false;
    }
    if (mb.flags & MB_VIDEO_MODE) {
        /* No framebuffer information to give; the kernel must cope. */
        warn_report("multiboot kernel asks for a video mode; ignored");
    }
    ok = mb.aout_kludge ? multiboot_load_aout(bp, img, size, &mb, &end, &entry, errp)
                        : multiboot_load_elf(bp, img, size, &end, &entry, errp);
    if (!ok) {
        return false;
    }
    if (!boot_write_cmdline(bp, BOOT_CMDLINE_END - BOOT_CMDLINE_ADDR - 1, errp) ||
        !mb_put_string(bp, &area, MB_LOADER_NAME, &name_addr, "boot loader name", errp) ||
        !multiboot_write_mmap(bp, &area, mbi, errp) ||
        !multiboot_load_modules(bp, &area, end, mbi, errp)) {
        return false;
    }
    st32(mbi + MBI_FLAGS, ld32(mbi + MBI_FLAGS) | MBI_CMDLINE | MBI_LOADER_NAME);
    st32(mbi + MBI_CMDLINE_PTR, BOOT_CMDLINE_ADDR);
    st32(mbi + MBI_BOOT_LOADER_NAME, (uint32_t)name_addr);
    if (!boot_write(bp, BOOT_MB_INFO_ADDR, mbi, sizeof(mbi), "multiboot info", errp) ||
        !boot_setup_gdt(bp, cpu, errp)) {
        return false;
    }
    cpu->mode = BOOT_CPU_FLAT32;
    cpu->rip = entry;
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EAX] = MB_BOOTLOADER_MAGIC;
    cpu->regs[R_EBX] = BOOT_MB_INFO_ADDR;
    return true;
}
