/*
 * Booting without firmware: kernel format detection, the dispatching
 * loader x86_load_kernel(), the checked guest-memory helpers the loaders
 * share, a tiny ELF reader, and boot_cpu_apply().
 *
 * Detection order follows QEMU: a Linux setup header ("HdrS" at 0x202)
 * wins, then a multiboot header in the first 8 KiB, then a PVH ELF note.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <glib.h>
#include "hw/i386/boot.h"
#include "hw/i386/x86-boot-internal.h"

/* ---- guest memory ---- */

bool boot_ram_contains(const BootParams *bp, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;

    if (end < addr) {
        return false;
    }
    if (end <= bp->below_4g) {
        return true;
    }
    return addr >= BOOT_4G && end - BOOT_4G <= bp->above_4g;
}

static const struct {
    uint64_t start, end;
    const char *name;
    bool multiboot_ok;          /* a multiboot kernel may load here */
} boot_low_areas[] = {
    { 0x0, BOOT_GDT_ADDR, "the real-mode IVT/BIOS data area", false },
    { BOOT_GDT_ADDR, BOOT_GDT_ADDR + 8 * BOOT_GDT_ENTRIES, "the boot GDT", false },
    { BOOT_GDT_ADDR + 8 * BOOT_GDT_ENTRIES, BOOT_CMDLINE_ADDR,
      "the boot info area (zero page, PVH info)", true },
    { BOOT_CMDLINE_ADDR, 0x9fc00, "the command line area", true },
    { 0x9fc00, BOOT_HIGH_START, "the EBDA/VGA/BIOS hole (640 KiB - 1 MiB)", false },
};

bool boot_check_image_range(const BootParams *bp, uint64_t addr, uint64_t len, bool low_ok,
                            const char *what, Error **errp)
{
    uint64_t end = addr + len;

    if (end < addr) {
        error_setg(errp, "%s: address range 0x%" G_GINT64_MODIFIER "x + 0x%"
                   G_GINT64_MODIFIER "x overflows", what, addr, len);
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(boot_low_areas); i++) {
        if (low_ok && boot_low_areas[i].multiboot_ok) {
            continue;
        }
        if (addr < boot_low_areas[i].end && end > boot_low_areas[i].start) {
            error_setg(errp, "%s at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                       "x overlaps %s; %s", what, addr, end, boot_low_areas[i].name,
                       low_ok ? "multiboot kernels may load at 0x528-0x9fbff or at or above "
                                "1 MiB" : "kernels must load at or above 1 MiB");
            return false;
        }
    }
    if (!boot_ram_contains(bp, addr, len)) {
        error_setg(errp, "%s at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                   "x is outside guest RAM (%" G_GUINT64_FORMAT " MiB below 4 GiB, %"
                   G_GUINT64_FORMAT " MiB above)", what, addr, end,
                   bp->below_4g >> 20, bp->above_4g >> 20);
        return false;
    }
    return true;
}

bool boot_write(const BootParams *bp, uint64_t addr, const void *buf, uint64_t len,
                const char *what, Error **errp)
{
    if (!len) {
        return true;
    }
    if (!boot_ram_contains(bp, addr, len)) {
        error_setg(errp, "%s (0x%" G_GINT64_MODIFIER "x bytes at 0x%" G_GINT64_MODIFIER
                   "x) does not fit in guest RAM", what, len, addr);
        return false;
    }
    if (address_space_write_rom(bp->as, addr, buf, len) != MEMTX_OK) {
        error_setg(errp, "%s: writing 0x%" G_GINT64_MODIFIER "x bytes at 0x%"
                   G_GINT64_MODIFIER "x failed", what, len, addr);
        return false;
    }
    return true;
}

bool boot_zero(const BootParams *bp, uint64_t addr, uint64_t len, const char *what,
               Error **errp)
{
    static const uint8_t zeros[65536];

    if (!boot_ram_contains(bp, addr, len)) {
        error_setg(errp, "%s (0x%" G_GINT64_MODIFIER "x bytes at 0x%" G_GINT64_MODIFIER
                   "x) does not fit in guest RAM", what, len, addr);
        return false;
    }
    while (len) {
        uint64_t n = MIN(len, sizeof(zeros));
        if (!boot_write(bp, addr, zeros, n, what, errp)) {
            return false;
        }
        addr += n;
        len -= n;
    }
    return true;
}

bool boot_read_file(const char *path, uint64_t max, uint8_t **data, size_t *len,
                    const char *what, Error **errp)
{
    struct stat st;
    GError *gerr = NULL;
    gchar *buf;
    gsize n;

    if (stat(path, &st) < 0) {
        error_setg_errno(errp, errno, "could not open %s '%s'", what, path);
        return false;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        error_setg(errp, "%s '%s' (%" G_GUINT64_FORMAT " bytes) is larger than guest RAM allows",
                   what, path, (uint64_t)st.st_size);
        return false;
    }
    if (!g_file_get_contents(path, &buf, &n, &gerr)) {
        error_setg(errp, "could not read %s '%s': %s", what, path, gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (n > max) {
        error_setg(errp, "%s '%s' (%zu bytes) is larger than guest RAM allows", what, path,
                   (size_t)n);
        g_free(buf);
        return false;
    }
    *data = (uint8_t *)buf;
    *len = n;
    return true;
}

bool boot_setup_gdt(const BootParams *bp, BootCPUSetup *cpu, Error **errp)
{
    /* 4 GiB flat segments, accessed bit set (the CPU would set it anyway). */
    static const uint64_t gdt[BOOT_GDT_ENTRIES] = {
        0,
        0,
        0x00cf9b000000ffffULL,  /* 0x10 __BOOT_CS: 32-bit code, execute/read */
        0x00cf93000000ffffULL,  /* 0x18 __BOOT_DS: data, read/write */
        0x00af9b000000ffffULL,  /* 0x20 64-bit code (BOOT_CPU_LONG64) */
    };
    uint8_t buf[sizeof(gdt)];

    for (int i = 0; i < BOOT_GDT_ENTRIES; i++) {
        st64(buf + 8 * i, gdt[i]);
    }
    cpu->gdt_base = BOOT_GDT_ADDR;
    cpu->gdt_limit = sizeof(buf) - 1;
    return boot_write(bp, BOOT_GDT_ADDR, buf, sizeof(buf), "boot GDT", errp);
}

bool boot_write_cmdline(const BootParams *bp, size_t max_len, Error **errp)
{
    const char *cmdline = bp->cmdline ? bp->cmdline : "";
    size_t len = strlen(cmdline);

    if (len > max_len) {
        error_setg(errp, "kernel command line is %zu bytes, longer than the %zu the kernel accepts",
                   len, max_len);
        return false;
    }
    if (len + 1 > BOOT_CMDLINE_END - BOOT_CMDLINE_ADDR) {
        error_setg(errp, "kernel command line is %zu bytes, longer than the %u bytes area",
                   len, BOOT_CMDLINE_END - BOOT_CMDLINE_ADDR - 1);
        return false;
    }
    return boot_write(bp, BOOT_CMDLINE_ADDR, cmdline, len + 1, "kernel command line", errp);
}

/* ---- ELF ---- */

#define EM_386_     3
#define EM_X86_64_  62
#define BOOT_ELF_MAX_PHNUM 4096

bool boot_elf_is_elf(const uint8_t *img, size_t size)
{
    return size >= 4 && !memcmp(img, "\x7f" "ELF", 4);
}

bool boot_elf_parse(const uint8_t *img, size_t size, BootElf *elf, Error **errp)
{
    size_t ehsize, phsize;

    memset(elf, 0, sizeof(*elf));
    if (size < 52 || !boot_elf_is_elf(img, size)) {
        error_setg(errp, "not an ELF file (too small or no ELF magic)");
        return false;
    }
    if (img[4] != 1 && img[4] != 2) {
        error_setg(errp, "ELF: bad class %u", img[4]);
        return false;
    }
    elf->is64 = img[4] == 2;
    if (img[5] != 1) {
        error_setg(errp, "ELF: not little-endian");
        return false;
    }
    if (img[6] != 1) {
        error_setg(errp, "ELF: bad version %u", img[6]);
        return false;
    }
    ehsize = elf->is64 ? 64 : 52;
    phsize = elf->is64 ? 56 : 32;
    if (size < ehsize) {
        error_setg(errp, "ELF: file too small (%zu bytes) for its header", size);
        return false;
    }
    elf->machine = ld16(img + 18);
    if (elf->machine != (elf->is64 ? EM_X86_64_ : EM_386_)) {
        error_setg(errp, "ELF: machine %u is not x86", elf->machine);
        return false;
    }
    if (elf->is64) {
        elf->entry = ld64(img + 24);
        elf->phoff = ld64(img + 32);
        elf->phentsize = ld16(img + 54);
        elf->phnum = ld16(img + 56);
    } else {
        elf->entry = ld32(img + 24);
        elf->phoff = ld32(img + 28);
        elf->phentsize = ld16(img + 42);
        elf->phnum = ld16(img + 44);
    }
    if (elf->phnum == 0) {
        error_setg(errp, "ELF: no program headers");
        return false;
    }
    if (elf->phnum > BOOT_ELF_MAX_PHNUM) {
        error_setg(errp, "ELF: too many program headers (%u)", elf->phnum);
        return false;
    }
    if (elf->phentsize != phsize) {
        error_setg(errp, "ELF: program header size %u, expected %zu", elf->phentsize, phsize);
        return false;
    }
    if (elf->phoff > size || (uint64_t)elf->phnum * phsize > size - elf->phoff) {
        error_setg(errp, "ELF: program header table (offset 0x%" G_GINT64_MODIFIER
                   "x, %u entries) extends beyond the end of the file (%zu bytes)",
                   elf->phoff, elf->phnum, size);
        return false;
    }
    return true;
}

void boot_elf_phdr(const uint8_t *img, const BootElf *elf, unsigned i, BootElfPhdr *ph)
{
    const uint8_t *p = img + elf->phoff + (size_t)i * elf->phentsize;

    if (elf->is64) {
        ph->type = ld32(p);
        ph->flags = ld32(p + 4);
        ph->offset = ld64(p + 8);
        ph->vaddr = ld64(p + 16);
        ph->paddr = ld64(p + 24);
        ph->filesz = ld64(p + 32);
        ph->memsz = ld64(p + 40);
    } else {
        ph->type = ld32(p);
        ph->offset = ld32(p + 4);
        ph->vaddr = ld32(p + 8);
        ph->paddr = ld32(p + 12);
        ph->filesz = ld32(p + 16);
        ph->memsz = ld32(p + 20);
        ph->flags = ld32(p + 24);
    }
}

bool boot_elf_load_segment(const BootParams *bp, const uint8_t *img, size_t size,
                           unsigned i, const BootElfPhdr *ph, bool low_ok, uint64_t *end,
                           Error **errp)
{
    char what[48];

    snprintf(what, sizeof(what), "ELF segment %u", i);
    if (ph->filesz > ph->memsz) {
        error_setg(errp, "%s: file size 0x%" G_GINT64_MODIFIER "x larger than memory size 0x%"
                   G_GINT64_MODIFIER "x", what, ph->filesz, ph->memsz);
        return false;
    }
    if (ph->offset > size || ph->filesz > size - ph->offset) {
        error_setg(errp, "%s (offset 0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER
                   "x bytes) extends beyond the end of the file (%zu bytes)",
                   what, ph->offset, ph->filesz, size);
        return false;
    }
    if (!ph->memsz) {
        return true;
    }
    if (!boot_check_image_range(bp, ph->paddr, ph->memsz, low_ok, what, errp)) {
        return false;
    }
    if (!boot_write(bp, ph->paddr, img + ph->offset, ph->filesz, what, errp) ||
        !boot_zero(bp, ph->paddr + ph->filesz, ph->memsz - ph->filesz, what, errp)) {
        return false;
    }
    *end = MAX(*end, ph->paddr + ph->memsz);
    return true;
}

/* ---- detection and dispatch ---- */

KernelFormat kernel_detect_format(const uint8_t *img, size_t size)
{
    MultibootInfo mb;
    uint32_t entry;

    if (size >= 0x206 && !memcmp(img + 0x202, "HdrS", 4)) {
        return KERNEL_FORMAT_LINUX;
    }
    if (multiboot_parse_header(img, size, &mb, NULL)) {
        return KERNEL_FORMAT_MULTIBOOT;
    }
    if (boot_elf_is_elf(img, size) && pvh_find_entry(img, size, &entry, NULL)) {
        return KERNEL_FORMAT_PVH;
    }
    return KERNEL_FORMAT_UNKNOWN;
}

bool x86_load_kernel(const BootParams *bp, const char *filename, BootCPUSetup *cpu,
                     Error **errp)
{
    BootParams params = *bp;
    uint8_t *img;
    size_t size;
    bool ok;

    if (!params.kernel_filename) {
        params.kernel_filename = filename;
    }
    bp = &params;
    if (!boot_read_file(filename, bp->below_4g + bp->above_4g, &img, &size, "kernel", errp)) {
        return false;
    }
    memset(cpu, 0, sizeof(*cpu));
    switch (kernel_detect_format(img, size)) {
    case KERNEL_FORMAT_LINUX:
        /* The PVH fast path, silently falling back to the boot protocol. */
        if (bp->pvh_fast_path && linux_load_pvh(bp, img, size, cpu, NULL)) {
            ok = true;
            break;
        }
        memset(cpu, 0, sizeof(*cpu));
        ok = linux_load(bp, img, size, cpu, errp);
        break;
    case KERNEL_FORMAT_MULTIBOOT:
        ok = multiboot_load(bp, img, size, cpu, errp);
        break;
    case KERNEL_FORMAT_PVH:
        ok = pvh_load(bp, img, size, cpu, errp);
        break;
    default: {
        Error *local = NULL;
        /* Say why the closest candidate was refused. */
        if (boot_elf_is_elf(img, size)) {
            uint32_t entry;
            if (!pvh_find_entry(img, size, &entry, &local)) {
                error_setg(errp, "ELF file is not a multiboot or PVH kernel: %s",
                           local->message);
                g_error_free(local);
            } else {
                error_setg(errp, "unknown kernel format");
            }
        } else if (!multiboot_parse_header(img, size, &(MultibootInfo){0}, &local)) {
            error_setg(errp, "not a bzImage (no \"HdrS\" setup header), PVH ELF or "
                       "multiboot kernel (%s)", local->message);
            g_error_free(local);
        } else {
            error_setg(errp, "unknown kernel format");
        }
        ok = false;
        break;
    }
    }
    g_free(img);
    if (!ok) {
        error_prepend(errp, "%s: ", filename);
    }
    return ok;
}

/* ---- vCPU entry state ---- */

static void boot_set_seg(SegmentCache *s, uint16_t sel, uint8_t type, bool l)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->type = type;
    s->present = true;
    s->dpl_s = true;            /* code/data, not system */
    s->dpl = 0;
    s->db = !l;
    s->l = l;
    s->g = true;
}

void boot_cpu_apply(const BootCPUSetup *setup, X86CPUState *env)
{
    bool long64 = setup->mode == BOOT_CPU_LONG64;

    memcpy(env->regs, setup->regs, sizeof(env->regs));
    env->rip = setup->rip;
    env->rflags = 0x2;                      /* IF clear */
    boot_set_seg(&env->segs[R_CS], long64 ? 0x20 : BOOT_CS, 0xb, long64);
    for (int i = 0; i < R_NB_SEGS; i++) {
        if (i != R_CS) {
            boot_set_seg(&env->segs[i], BOOT_DS, 0x3, false);
        }
    }
    env->gdt.base = setup->gdt_base;
    env->gdt.limit = setup->gdt_limit;
    env->idt.base = 0;
    env->idt.limit = 0x3ff;
    env->cr0 = CR0_PE | CR0_ET | CR0_NE;
    env->cr2 = 0;
    env->cr3 = 0;
    env->cr4 = 0;
    env->efer = 0;
    if (long64) {
        env->cr0 |= CR0_PG;
        env->cr3 = setup->cr3;
        env->cr4 = CR4_PAE;
        env->efer = EFER_LME | EFER_LMA;
    }
    env->mp_state = CPU_MP_RUNNABLE;
}
