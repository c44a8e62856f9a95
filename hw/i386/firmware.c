/*
 * The PC's BIOS image: where it is found and where it is mapped.
 *
 * Search (docs/firmware.md): -bios FILE as given when that file exists,
 * otherwise by name in -L DIR (each, in order), the install data dir
 * (KVMPC_DATADIR), /usr/share/seabios and /usr/share/qemu.  Without
 * -bios the name is bios-256k.bin, Debian's SeaBIOS.
 *
 * Mapping, as QEMU's pc, in PCI memory (under the system's devices): the
 * whole image as ROM ending at 4 GiB (the reset
 * vector 0xfffffff0 is its last paragraph), and its last 128 KiB (all of
 * a 64 KiB image) aliased into PCI memory ending at 1 MiB; the i440FX's
 * PAM registers decide whether 0xe0000-0xfffff shows that alias or the
 * RAM under it (hw/pci-host/i440fx.c).  0xc0000-0xdffff in PCI memory is
 * QEMU's "pc.rom", 128 KiB of read-only zeros (SeaBIOS copies option ROMs
 * into the RAM under it).  Where PCI memory has nothing (0xe0000-0xeffff
 * with a 64 KiB image), the RAM under it shows through, as on QEMU.
 */
#include <glib.h>
#include <string.h>
#include "config-host.h"
#include "hw/i386/firmware.h"
#include "hw/i386/fw_cfg.h"
#include "hw/memory.h"
#include "qemu/option.h"

#define PC_ROM_BASE     0xc0000         /* the option ROM area, as QEMU's "pc.rom" */
#define PC_ROM_SIZE     0x20000

typedef struct FirmwareState {
    MemoryRegion bios;          /* pc.bios: the image, below 4 GiB */
    MemoryRegion isa_bios;      /* its tail below 1 MiB, in PCI memory */
    MemoryRegion option_roms;   /* pc.rom: 0xc0000-0xdffff in PCI memory */
} FirmwareState;

static FirmwareState fw;

static const char *const firmware_default_dirs[] = {
    KVMPC_DATADIR, "/usr/share/seabios", "/usr/share/qemu",
    "/usr/lib/ipxe/qemu",       /* Debian's ipxe-qemu: the NICs' boot ROMs */
};

/* build/pc-bios/optionrom when kvmpc runs from its build directory. */
static char *firmware_build_dir(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = exe ? g_path_get_dirname(exe) : NULL;

    return dir ? g_build_filename(dir, "pc-bios", "optionrom", NULL) : NULL;
}

static char *firmware_in_dir(const char *dir, const char *name)
{
    char *path = dir ? g_build_filename(dir, name, NULL) : NULL;

    if (path && g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        return path;
    }
    g_free(path);
    return NULL;
}

char *firmware_find(const char *name, char *const *dirs)
{
    g_autofree char *build_dir = NULL;
    char *path;

    if (g_file_test(name, G_FILE_TEST_IS_REGULAR)) {
        return g_strdup(name);
    }
    if (strchr(name, '/')) {
        return NULL;                    /* a path, not a name to search for */
    }
    for (int i = 0; dirs && dirs[i]; i++) {
        if ((path = firmware_in_dir(dirs[i], name))) {
            return path;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(firmware_default_dirs); i++) {
        if ((path = firmware_in_dir(firmware_default_dirs[i], name))) {
            return path;
        }
    }
    build_dir = firmware_build_dir();
    return firmware_in_dir(build_dir, name);
}

/*
 * One of kvmpc's own option ROMs: from the -L dirs, kvmpc's build
 * directory or its installed data dir, never from /usr/share/qemu, which
 * holds QEMU's ROM of the same name (QEMU's linuxboot.bin is a different
 * program with a different fw_cfg contract).
 */
static char *firmware_find_own(const char *name, char *const *dirs)
{
    g_autofree char *build_dir = firmware_build_dir();
    char *path;

    for (int i = 0; dirs && dirs[i]; i++) {
        if ((path = firmware_in_dir(dirs[i], name))) {
            return path;
        }
    }
    if ((path = firmware_in_dir(build_dir, name))) {
        return path;
    }
    return firmware_in_dir(KVMPC_DATADIR, name);
}

bool firmware_add_linuxboot(MachineState *ms, Error **errp)
{
    g_autofree char *path = firmware_find_own(FIRMWARE_LINUXBOOT_ROM, ms->firmware_dirs);
    g_autofree gchar *data = NULL;
    g_autoptr(GError) gerr = NULL;
    gsize size;

    if (!path) {
        error_setg(errp, "-machine firmware-boot=on: could not find the option ROM '%s' "
                   "(built in build/pc-bios/optionrom; searched -L dirs, %s too)",
                   FIRMWARE_LINUXBOOT_ROM, KVMPC_DATADIR);
        return false;
    }
    if (!g_file_get_contents(path, &data, &size, &gerr)) {
        error_setg(errp, "could not read the option ROM '%s': %s", path, gerr->message);
        return false;
    }
    return fw_cfg_add_file(ms->fw_cfg, "genroms/" FIRMWARE_LINUXBOOT_ROM, data, size, errp);
}

bool firmware_load_bios(MachineState *ms, MemoryRegion *pci_mem, Error **errp)
{
    const char *name = ms->firmware ? ms->firmware : FIRMWARE_DEFAULT_BIOS;
    g_autofree char *path = firmware_find(name, ms->firmware_dirs);
    g_autofree gchar *data = NULL;
    g_autoptr(GError) gerr = NULL;
    gsize size;
    uint64_t isa_size;

    if (!path) {
        error_setg(errp, "could not find the BIOS image '%s' (searched -L dirs, %s, "
                   "/usr/share/seabios, /usr/share/qemu; install Debian's seabios "
                   "package or give -bios FILE)", name, KVMPC_DATADIR);
        return false;
    }
    if (!g_file_get_contents(path, &data, &size, &gerr)) {
        error_setg(errp, "could not read the BIOS image '%s': %s", path, gerr->message);
        return false;
    }
    if (size == 0 || size % 65536 || size > FIRMWARE_MAX_SIZE) {
        error_setg(errp, "BIOS image '%s': size %zu is not a multiple of 64 KiB up to "
                   "16 MiB", path, (size_t)size);
        return false;
    }
    if (!memory_region_init_rom(&fw.bios, "pc.bios", size, errp) ||
        !memory_region_init_rom(&fw.option_roms, "pc.rom", PC_ROM_SIZE, errp)) {
        return false;
    }
    memcpy(memory_region_get_ram_ptr(&fw.bios), data, size);
    isa_size = MIN(size, FIRMWARE_ISA_BIOS_MAX);
    memory_region_init_alias(&fw.isa_bios, "isa-bios", &fw.bios, size - isa_size, isa_size);
    memory_region_transaction_begin();
    /* In PCI memory, as QEMU: the IOAPIC, LAPIC and HPET win where a large
     * image reaches down to them. */
    memory_region_add_subregion_overlap(pci_mem, 0x100000000ULL - size, &fw.bios, 1);
    memory_region_add_subregion_overlap(pci_mem, 0x100000 - isa_size, &fw.isa_bios, 1);
    memory_region_add_subregion_overlap(pci_mem, PC_ROM_BASE, &fw.option_roms, 1);
    memory_region_transaction_commit();
    return true;
}

/* Drive letters: a floppy, c disk, d CD-ROM, n network (QEMU accepts a-p;
 * SeaBIOS only knows these four), each at most once. */
static bool boot_letters_valid(const char *opt, const char *order, Error **errp)
{
    for (const char *p = order; *p; p++) {
        if (!strchr("acdn", *p)) {
            error_setg(errp, "invalid boot device '%c' in %s=%s (a, c, d or n)", *p, opt, order);
            return false;
        }
        if (strchr(p + 1, *p)) {
            error_setg(errp, "boot device '%c' given twice in %s=%s", *p, opt, order);
            return false;
        }
    }
    return true;
}

/*
 * -boot [order=]drives[,once=drives][,strict=on|off][,menu=on|off]
 * [,splash-time=ms][,reboot-timeout=ms] (QEMU's syntax).  once= is the
 * order of the first boot only: the first reset after it restores order=
 * (QEMU's restore_boot_order).  strict=on ends the bootorder file with
 * HALT.
 */
bool firmware_parse_boot(MachineState *ms, const char *arg, Error **errp)
{
    g_autoptr(GError) err = NULL;
    QemuOpts *o = qemu_opts_parse(arg, "order", &err);
    const char *order, *v;
    uint64_t n;
    bool b;
    bool ok = false;

    if (!o) {
        error_setg(errp, "%s", err->message);
        return false;
    }
    if ((order = qemu_opt_get(o, "order"))) {
        if (!boot_letters_valid("order", order, errp)) {
            goto out;
        }
        g_free(ms->boot_order);
        ms->boot_order = g_strdup(order);
    }
    if ((v = qemu_opt_get(o, "once"))) {
        if (!boot_letters_valid("once", v, errp)) {
            goto out;
        }
        g_free(ms->boot_once);
        ms->boot_once = g_strdup(v);
    }
    if (!qemu_opt_get_bool(o, "strict", false, &b, errp)) {
        goto out;
    }
    ms->boot_strict = b;
    if (!qemu_opt_get_bool(o, "menu", false, &b, errp)) {
        goto out;
    }
    ms->boot_menu = b;
    ms->boot_menu_wait_ms = -1;
    if ((v = qemu_opt_get(o, "splash-time"))) {
        if (!qemu_opt_get_number(o, "splash-time", 0, &n, errp)) {
            goto out;
        }
        if (n > 0xffff) {
            error_setg(errp, "splash-time=%s: at most 65535 (ms)", v);
            goto out;
        }
        ms->boot_menu_wait_ms = n;
    }
    ms->boot_reboot_timeout_ms = -1;
    if ((v = qemu_opt_get(o, "reboot-timeout"))) {
        if (!qemu_opt_get_number(o, "reboot-timeout", 0, &n, errp)) {
            goto out;
        }
        if (n > 0xffff) {
            error_setg(errp, "reboot-timeout=%s: at most 65535 (ms)", v);
            goto out;
        }
        ms->boot_reboot_timeout_ms = n;
    }
    /* QEMU's splash= names a picture; we show none and ignore it. */
    qemu_opt_get(o, "splash");
    ok = qemu_opts_check_unused(o, errp);
out:
    qemu_opts_free(o);
    return ok;
}
