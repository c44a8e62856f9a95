/*
 * Linux x86 boot protocol (Documentation/x86/boot.rst), 32-bit entry.
 *
 * The bzImage is a real-mode setup (boot sector + setup_sects sectors,
 * with the setup header at 0x1f1) followed by the protected-mode kernel.
 * We skip the real-mode setup: the protected-mode kernel goes to 1 MiB
 * (as QEMU and GRUB load it; a relocatable kernel moves itself to
 * pref_address, LOAD_PHYSICAL_ADDR, while decompressing), the boot_params
 * "zero page" goes to 0x7000 with the setup header copied in, the command
 * line to 0x20000, the initrd as high as allowed below 4 GiB.  The vCPU
 * starts at the load address in flat 32-bit mode with __BOOT_CS = 0x10,
 * __BOOT_DS = 0x18, ESI = boot_params, EBP = EDI = EBX = 0, IF = 0.
 * (The 64-bit entry at +0x200 is not used: the 32-bit one works for every
 * kernel and needs no page tables.)
 */
#include <string.h>
#include "hw/i386/boot.h"
#include "hw/i386/x86-boot-internal.h"

/* Setup header offsets (in the image and in boot_params). */
#define HDR_SETUP_SECTS     0x1f1
#define HDR_VID_MODE        0x1fa
#define HDR_BOOT_FLAG       0x1fe
#define HDR_JUMP            0x200
#define HDR_MAGIC           0x202       /* "HdrS" */
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGN    0x230
#define HDR_RELOCATABLE     0x234
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260

/* boot_params ("zero page", Documentation/x86/zero-page.rst). */
#define BP_SIZE             4096
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES     0x1e8
#define BP_E820_TABLE       0x2d0
#define BP_E820_MAX         128

#define LOADED_HIGH         0x01
#define CAN_USE_HEAP        0x80

#define LINUX_MIN_PROTOCOL  0x0206
#define LINUX_KERNEL_ADDR   0x100000
#define LINUX_DEFAULT_INITRD_MAX 0x37ffffff

bool linux_parse_header(const uint8_t *img, size_t size, LinuxKernelInfo *info, Error **errp)
{
    size_t hdr_end;

    memset(info, 0, sizeof(*info));
    if (size < HDR_MAGIC + 4) {
        error_setg(errp, "file too small (%zu bytes) to hold a Linux setup header", size);
        return false;
    }
    if (memcmp(img + HDR_MAGIC, "HdrS", 4)) {
        error_setg(errp, "no Linux setup header (\"HdrS\" magic missing at 0x202)");
        return false;
    }
    if (size < HDR_VERSION + 2) {
        error_setg(errp, "file too small (%zu bytes): setup header truncated", size);
        return false;
    }
    info->protocol = ld16(img + HDR_VERSION);
    if (info->protocol < LINUX_MIN_PROTOCOL) {
        error_setg(errp, "Linux boot protocol %u.%02u is too old (need 2.06 or later)",
                   info->protocol >> 8, info->protocol & 0xff);
        return false;
    }
    /* The jump at 0x200 skips the header: its end is 0x202 + rel8. */
    if (img[HDR_JUMP] != 0xeb || img[HDR_JUMP + 1] >= 0x80) {
        error_setg(errp, "bad setup header: no short jump at 0x200 giving its length");
        return false;
    }
    hdr_end = HDR_MAGIC + img[HDR_JUMP + 1];
    if (hdr_end < HDR_CMDLINE_SIZE + 4 ||
        (info->protocol >= 0x020a && hdr_end < HDR_INIT_SIZE + 4)) {
        error_setg(errp, "setup header length 0x%zx too short for boot protocol %u.%02u",
                   hdr_end - HDR_SETUP_SECTS, info->protocol >> 8, info->protocol & 0xff);
        return false;
    }
    if (hdr_end > size) {
        error_setg(errp, "file too small (%zu bytes): setup header ends at 0x%zx",
                   size, hdr_end);
        return false;
    }
    info->setup_sects = img[HDR_SETUP_SECTS];
    info->setup_size = ((info->setup_sects ? info->setup_sects : 4) + 1) * 512;
    if (info->setup_size >= size) {
        error_setg(errp, "setup code (%u sectors, %zu bytes) extends to or beyond the end "
                   "of the file (%zu bytes)", info->setup_sects, info->setup_size, size);
        return false;
    }
    info->payload_offset = info->setup_size;
    info->payload_size = size - info->setup_size;
    info->loadflags = img[HDR_LOADFLAGS];
    if (!(info->loadflags & LOADED_HIGH)) {
        error_setg(errp, "not a bzImage (LOADED_HIGH clear): zImage kernels are not supported");
        return false;
    }
    info->code32_start = ld32(img + HDR_CODE32_START);
    info->initrd_addr_max = ld32(img + HDR_INITRD_ADDR_MAX);
    if (!info->initrd_addr_max) {
        info->initrd_addr_max = LINUX_DEFAULT_INITRD_MAX;
    }
    info->kernel_alignment = ld32(img + HDR_KERNEL_ALIGN);
    info->relocatable = img[HDR_RELOCATABLE] != 0;
    info->cmdline_size = ld32(img + HDR_CMDLINE_SIZE);
    if (info->protocol >= 0x020c) {
        info->xloadflags = ld16(img + HDR_XLOADFLAGS);
    }
    if (info->protocol >= 0x020a) {
        info->pref_address = ld64(img + HDR_PREF_ADDRESS);
        info->init_size = ld32(img + HDR_INIT_SIZE);
    } else {
        info->pref_address = LINUX_KERNEL_ADDR;
    }
    if (info->init_size < info->payload_size) {
        info->init_size = info->payload_size;
    }
    return true;
}

/* Where the kernel will run: it decompresses into [base, base + init_size). */
static uint64_t linux_runtime_end(const LinuxKernelInfo *info)
{
    uint64_t base = LINUX_KERNEL_ADDR;

    if (info->relocatable && info->pref_address > base) {
        base = info->pref_address;
    }
    return base + info->init_size;
}

static bool linux_load_initrd(const BootParams *bp, const LinuxKernelInfo *info,
                              uint8_t *zp, Error **errp)
{
    uint64_t limit, kernel_end, addr;
    uint8_t *data;
    size_t len;
    bool ok;

    if (!bp->initrd_filenames || !*bp->initrd_filenames) {
        return true;
    }
    limit = MIN((uint64_t)info->initrd_addr_max + 1, bp->below_4g);
    kernel_end = linux_runtime_end(info);
    if (!boot_read_file(bp->initrd_filenames, limit, &data, &len, "initrd", errp)) {
        return false;
    }
    addr = (limit - len) & ~0xfffULL;
    if (len > limit || addr < kernel_end) {
        error_setg(errp, "initrd '%s' (%zu bytes) does not fit in RAM between the kernel "
                   "(ending at 0x%" G_GINT64_MODIFIER "x) and 0x%" G_GINT64_MODIFIER "x",
                   bp->initrd_filenames, len, kernel_end, limit);
        g_free(data);
        return false;
    }
    ok = boot_write(bp, addr, data, len, "initrd", errp);
    g_free(data);
    st32(zp + HDR_RAMDISK_IMAGE, (uint32_t)addr);
    st32(zp + HDR_RAMDISK_SIZE, (uint32_t)len);
    st32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(addr >> 32));
    st32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)len >> 32));
    return ok;
}

bool linux_load(const BootParams *bp, const uint8_t *img, size_t size,
                BootCPUSetup *cpu, Error **errp)
{
    LinuxKernelInfo info;
    uint8_t *zp;
    size_t hdr_end;
    unsigned nr;
    bool ok = false;

    if (!linux_parse_header(img, size, &info, errp)) {
        return false;
    }
    if (LINUX_KERNEL_ADDR + (uint64_t)info.payload_size > bp->below_4g) {
        error_setg(errp, "kernel (%zu bytes) does not fit in RAM (%" G_GUINT64_FORMAT
                   " MiB below 4 GiB)", info.payload_size, bp->below_4g >> 20);
        return false;
    }
    if (linux_runtime_end(&info) > bp->below_4g) {
        error_setg(errp, "kernel needs RAM up to %" G_GUINT64_FORMAT " MiB to decompress "
                   "(init_size 0x%x), but the guest has %" G_GUINT64_FORMAT " MiB below 4 GiB",
                   (linux_runtime_end(&info) + (1 << 20) - 1) >> 20, info.init_size,
                   bp->below_4g >> 20);
        return false;
    }
    if (strlen(bp->cmdline ? bp->cmdline : "") > info.cmdline_size) {
        error_setg(errp, "kernel command line is %zu bytes, longer than the kernel's "
                   "cmdline_size (%u)", strlen(bp->cmdline ? bp->cmdline : ""),
                   info.cmdline_size);
        return false;
    }

    zp = g_malloc0(BP_SIZE);
    /* Copy the setup header as the image has it, bounded by its own length. */
    hdr_end = HDR_MAGIC + img[HDR_JUMP + 1];
    memcpy(zp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
    zp[HDR_TYPE_OF_LOADER] = 0xff;                  /* undefined loader */
    zp[HDR_LOADFLAGS] = info.loadflags | CAN_USE_HEAP;
    st16(zp + HDR_HEAP_END_PTR, 0xfe00 - 0x200);
    st32(zp + HDR_CODE32_START, LINUX_KERNEL_ADDR);
    st32(zp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
    st32(zp + BP_EXT_CMD_LINE_PTR, 0);
    nr = bp->e820 ? MIN(bp->e820->nr, BP_E820_MAX) : 0;
    zp[BP_E820_ENTRIES] = nr;
    for (unsigned i = 0; i < nr; i++) {
        uint8_t *e = zp + BP_E820_TABLE + 20 * i;
        st64(e, bp->e820->entry[i].addr);
        st64(e + 8, bp->e820->entry[i].size);
        st32(e + 16, bp->e820->entry[i].type);
    }
    if (bp->rsdp_addr && info.protocol >= 0x020e) {
        st64(zp + BP_ACPI_RSDP_ADDR, bp->rsdp_addr);
    }

    if (!boot_write_cmdline(bp, info.cmdline_size, errp) ||
        !linux_load_initrd(bp, &info, zp, errp) ||
        !boot_write(bp, LINUX_KERNEL_ADDR, img + info.payload_offset, info.payload_size,
                    "kernel", errp) ||
        !boot_write(bp, BOOT_LINUX_ZP_ADDR, zp, BP_SIZE, "boot_params", errp) ||
        !boot_setup_gdt(bp, cpu, errp)) {
        goto out;
    }
    cpu->mode = BOOT_CPU_FLAT32;
    cpu->rip = LINUX_KERNEL_ADDR;
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_ESI] = BOOT_LINUX_ZP_ADDR;
    ok = true;
out:
    g_free(zp);
    return ok;
}
