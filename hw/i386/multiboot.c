/*
 * Multiboot v1 (the Multiboot Specification 0.6.96): ELF32 kernels, or any
 * format with the "a.out kludge" address fields (flags bit 16).
 *
 * Layout, as QEMU's: the memory map at 0x9000 and the multiboot info
 * structure (mbi) at 0x9500; the module list, the strings (module strings,
 * the command line, the boot loader name) in a block page-aligned after the
 * kernel image, then each module page-aligned after that.  A kernel may
 * load anywhere in RAM except the IVT/BDA and our GDT (0-0x527) and the
 * 640 KiB - 1 MiB hole; when it covers 0x9000-0x955f (kvm-unit-tests'
 * realmode test loads at 0x8000), the memory map and the mbi go into the
 * block after it too (QEMU writes them there anyway and the kernel's image
 * overwrites them; we never overlap).  The block and the modules skip the
 * 640 KiB - 1 MiB hole.
 * Entry: flat 32-bit mode, EAX = 0x2BADB002, EBX = the info address.
 * The command line is "<-kernel file name> <-append text>", exactly as
 * QEMU builds it (a trailing space when -append is empty), so argv[0] is
 * the kernel; a module's string is its whole -initrd item ("file args").
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
                                const MultibootInfo *mb, uint64_t *start, uint64_t *end,
                                uint32_t *entry, Error **errp)
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
    if (!boot_check_image_range(bp, mb->load_addr, mem_end - mb->load_addr, true,
                                "multiboot kernel", errp) ||
        !boot_write(bp, mb->load_addr, img + file_off, load_len, "multiboot kernel", errp) ||
        !boot_zero(bp, mb->load_addr + load_len, mem_end - mb->load_addr - load_len,
                   "multiboot bss", errp)) {
        return false;
    }
    *start = mb->load_addr;
    *end = mem_end;
    *entry = mb->entry_addr;
    return true;
}

static bool multiboot_load_elf(const BootParams *bp, const uint8_t *img, size_t size,
                               uint64_t *start, uint64_t *end, uint32_t *entry, Error **errp)
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
        if (!boot_elf_load_segment(bp, img, size, i, &ph, true, end, errp)) {
            return false;
        }
        if (ph.memsz) {
            *start = MIN(*start, ph.paddr);
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

#define MB_MOD_SIZE         16
#define MB_MMAP_ENTRY_SIZE  24
#define MB_MMAP_LOW_MAX     (BOOT_MB_INFO_ADDR - BOOT_MB_MMAP_ADDR)
#define MB_LOW_HOLE_START   0x9fc00
#define PAGE_ALIGN(x)       (((x) + 0xfffULL) & ~0xfffULL)

/* The block of boot data after the kernel, built in a host buffer. */
typedef struct MBBlock {
    uint8_t *buf;
    uint64_t base, size, used;
} MBBlock;

static uint64_t mb_block_put(MBBlock *b, const void *data, size_t len, size_t align)
{
    uint64_t off = (b->used + align - 1) & ~(uint64_t)(align - 1);

    g_assert(off + len <= b->size);     /* sized by multiboot_load beforehand */
    memcpy(b->buf + off, data, len);
    b->used = off + len;
    return b->base + off;
}

/* Where len bytes go at or after at: page aligned, never across the
 * 640 KiB - 1 MiB hole, below 4 GiB and in RAM. */
static bool mb_place(const BootParams *bp, uint64_t at, uint64_t len, const char *what,
                     const char *name, uint64_t *addr, Error **errp)
{
    uint64_t a = PAGE_ALIGN(at);

    if (a < BOOT_HIGH_START && a + len > MB_LOW_HOLE_START) {
        a = BOOT_HIGH_START;
    }
    if (a + len > bp->below_4g || a + len > BOOT_4G) {
        error_setg(errp, "multiboot %s%s%s (%" G_GUINT64_FORMAT " bytes) does not fit in RAM "
                   "below 4 GiB at 0x%" G_GINT64_MODIFIER "x (RAM ends at 0x%"
                   G_GINT64_MODIFIER "x)", what, name ? " " : "", name ? name : "", len, a,
                   (uint64_t)MIN(bp->below_4g, BOOT_4G));
        return false;
    }
    *addr = a;
    return true;
}

/* -initrd "a args,b": items split at commas, ",," standing for a comma in
 * an item (QEMU's option syntax). */
static GPtrArray *mb_split_modules(const char *list)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);

    for (const char *p = list; ; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || !*p) {
            g_ptr_array_add(items, g_string_free(cur, false));
            if (!*p) {
                break;
            }
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *p);
        }
    }
    return items;
}

/* Loads each module page-aligned from *at on and fills the module list. */
static bool multiboot_load_modules(const BootParams *bp, GPtrArray *mods,
                                   const uint64_t *str_addr, uint8_t *list, uint64_t at,
                                   Error **errp)
{
    for (unsigned i = 0; i < mods->len; i++) {
        const char *item = g_ptr_array_index(mods, i);
        g_autofree gchar *path = g_strndup(item, strcspn(item, " "));
        g_autofree uint8_t *data = NULL;
        uint64_t start;
        size_t len;

        if (!*path) {
            error_setg(errp, "empty multiboot module name in '%s'", bp->initrd_filenames);
            return false;
        }
        if (!boot_read_file(path, bp->below_4g, &data, &len, "multiboot module", errp) ||
            !mb_place(bp, at, len, "module", path, &start, errp) ||
            !boot_write(bp, start, data, len, "multiboot module", errp)) {
            return false;
        }
        st32(list + MB_MOD_SIZE * i, (uint32_t)start);
        st32(list + MB_MOD_SIZE * i + 4, (uint32_t)(start + len));
        st32(list + MB_MOD_SIZE * i + 8, (uint32_t)str_addr[i]);
        at = start + len;
    }
    return true;
}

/* The memory map (from e820) and mem_lower/mem_upper; returns its size. */
static unsigned multiboot_build_mmap(const BootParams *bp, uint8_t *buf, uint8_t *mbi)
{
    unsigned nr = bp->e820 ? bp->e820->nr : 0;
    uint64_t mem_lower = 0, mem_upper = 0;

    for (unsigned i = 0; i < nr; i++) {
        const E820Entry *e = &bp->e820->entry[i];
        st32(buf + MB_MMAP_ENTRY_SIZE * i, 20);
        st64(buf + MB_MMAP_ENTRY_SIZE * i + 4, e->addr);
        st64(buf + MB_MMAP_ENTRY_SIZE * i + 12, e->size);
        st32(buf + MB_MMAP_ENTRY_SIZE * i + 20, e->type);
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
    if (nr) {
        st32(mbi + MBI_FLAGS, ld32(mbi + MBI_FLAGS) | MBI_MMAP);
        st32(mbi + MBI_MMAP_LENGTH, MB_MMAP_ENTRY_SIZE * nr);
    }
    return MB_MMAP_ENTRY_SIZE * nr;
}

bool multiboot_load(const BootParams *bp, const uint8_t *img, size_t size,
                    BootCPUSetup *cpu, Error **errp)
{
    MultibootInfo mb;
    uint8_t mbi[MBI_SIZE] = { 0 };
    uint8_t mmap[MB_MMAP_ENTRY_SIZE * E820_MAX_ENTRIES];
    uint64_t start = UINT64_MAX, end = 0, at, mbi_addr, mmap_addr, name_addr, cmd_addr;
    uint64_t list_addr = 0;
    g_autoptr(GPtrArray) mods = g_ptr_array_new_with_free_func(g_free);
    g_autofree uint64_t *mod_str = NULL;
    g_autofree uint8_t *list = NULL;
    g_autofree char *cmdline = NULL;
    g_autofree uint8_t *blk_buf = NULL;
    MBBlock blk = { 0 };
    unsigned mmap_len;
    uint32_t entry;
    bool low, ok;

    if (!multiboot_parse_header(img, size, &mb, errp)) {
        return false;
    }
    if (mb.flags & MB_VIDEO_MODE) {
        /* No framebuffer information to give; the kernel must cope. */
        warn_report("multiboot kernel asks for a video mode; ignored");
    }
    ok = mb.aout_kludge ? multiboot_load_aout(bp, img, size, &mb, &start, &end, &entry, errp)
                        : multiboot_load_elf(bp, img, size, &start, &end, &entry, errp);
    if (!ok) {
        return false;
    }

    if (bp->initrd_filenames && *bp->initrd_filenames) {
        g_ptr_array_unref(mods);
        mods = mb_split_modules(bp->initrd_filenames);
    }
    cmdline = g_strdup_printf("%s %s", bp->kernel_filename ? bp->kernel_filename : "",
                              bp->cmdline ? bp->cmdline : "");
    mmap_len = multiboot_build_mmap(bp, mmap, mbi);
    /* QEMU's low slot for the memory map and the mbi, unless the kernel is
     * there; the block then starts above the slot or above the kernel. */
    low = mmap_len <= MB_MMAP_LOW_MAX &&
          !(start < BOOT_MB_INFO_ADDR + MBI_SIZE && end > BOOT_MB_MMAP_ADDR);
    at = low ? MAX(end, BOOT_MB_INFO_ADDR + MBI_SIZE) : end;

    /* Size the block: every item with its worst alignment padding. */
    blk.size = 4 * 8 + MB_MOD_SIZE * mods->len + strlen(cmdline) + 1 + sizeof(MB_LOADER_NAME);
    for (unsigned i = 0; i < mods->len; i++) {
        blk.size += strlen(g_ptr_array_index(mods, i)) + 1;
    }
    if (!low) {
        blk.size += mmap_len + MBI_SIZE;
    }
    if (!mb_place(bp, at, blk.size, "boot data", NULL, &blk.base, errp)) {
        return false;
    }
    blk.buf = blk_buf = g_malloc0(blk.size);
    list = g_malloc0(MB_MOD_SIZE * mods->len + 1);
    mod_str = g_new0(uint64_t, mods->len + 1);
    if (mods->len) {
        list_addr = mb_block_put(&blk, list, MB_MOD_SIZE * mods->len, 8);
    }
    for (unsigned i = 0; i < mods->len; i++) {
        const char *item = g_ptr_array_index(mods, i);
        mod_str[i] = mb_block_put(&blk, item, strlen(item) + 1, 1);
    }
    cmd_addr = mb_block_put(&blk, cmdline, strlen(cmdline) + 1, 1);
    name_addr = mb_block_put(&blk, MB_LOADER_NAME, sizeof(MB_LOADER_NAME), 1);
    if (low) {
        mmap_addr = BOOT_MB_MMAP_ADDR;
        mbi_addr = BOOT_MB_INFO_ADDR;
    } else {
        mmap_addr = mb_block_put(&blk, mmap, mmap_len, 8);
        mbi_addr = mb_block_put(&blk, mbi, MBI_SIZE, 8);    /* rewritten below */
    }
    if (!boot_write(bp, blk.base, blk.buf, blk.used, "multiboot boot data", errp) ||
        (low && !boot_write(bp, mmap_addr, mmap, mmap_len, "multiboot memory map", errp))) {
        return false;
    }
    if (mods->len) {
        if (!multiboot_load_modules(bp, mods, mod_str, list, blk.base + blk.used, errp) ||
            !boot_write(bp, list_addr, list, MB_MOD_SIZE * mods->len, "module list", errp)) {
            return false;
        }
        st32(mbi + MBI_FLAGS, ld32(mbi + MBI_FLAGS) | MBI_MODS);
        st32(mbi + MBI_MODS_COUNT, mods->len);
        st32(mbi + MBI_MODS_ADDR, (uint32_t)list_addr);
    }
    if (mmap_len) {
        st32(mbi + MBI_MMAP_ADDR, (uint32_t)mmap_addr);
    }
    st32(mbi + MBI_FLAGS, ld32(mbi + MBI_FLAGS) | MBI_CMDLINE | MBI_LOADER_NAME);
    st32(mbi + MBI_CMDLINE_PTR, (uint32_t)cmd_addr);
    st32(mbi + MBI_BOOT_LOADER_NAME, (uint32_t)name_addr);
    if (!boot_write(bp, mbi_addr, mbi, sizeof(mbi), "multiboot info", errp) ||
        !boot_setup_gdt(bp, cpu, errp)) {
        return false;
    }
    cpu->mode = BOOT_CPU_FLAT32;
    cpu->rip = entry;
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EAX] = MB_BOOTLOADER_MAGIC;
    cpu->regs[R_EBX] = mbi_addr;
    return true;
}
