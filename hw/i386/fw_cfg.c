/*
 * fw_cfg, QEMU's firmware configuration interface ("fw_cfg_io"), as
 * described in QEMU's docs/specs/fw_cfg.rst, so SeaBIOS and guests can
 * read it unchanged.
 *
 * Register map (I/O ports):
 *   0x510  selector (16-bit write): picks an item, rewinds its offset
 *   0x511  data (8-bit read): next byte of the item, 0 past its end
 *   0x514  DMA address, 64-bit big-endian; writing the high half at 0x514
 *          then the low half at 0x518 (or all 8 bytes at 0x514) starts a
 *          transfer described by a FWCfgDmaAccess in guest memory:
 *            be32 control (error 0x1, read 0x2, skip 0x4, select 0x8 with
 *            the key in bits 16-31, write 0x10), be32 length, be64 address;
 *          on completion control is rewritten as 0 or the error bit.
 *          Reading 0x514 returns "QEMU CFG".
 * Items: SIGNATURE "QEMU", ID (bit 0 traditional, bit 1 DMA), the
 * machine's UUID, RAM size, NB_CPUS, MAX_CPUS, NOGRAPHIC, BOOT_MENU,
 * IRQ0 override, the file directory (be32 count, then {be32 size,
 * be16 select, be16 reserved, char name[56]} sorted by name), "etc/e820"
 * (QEMU's format: only the RAM ranges; the firmware reserves its areas),
 * and, for -kernel with a bzImage, the kernel/setup/initrd/cmdline items
 * of QEMU's linuxboot option ROM protocol.
 *
 * The guest reaches memory only through address_space_memory; a bad DMA
 * pointer sets the error bit.  No item is writable.
 */
#include <string.h>
#include <glib.h>
#include "hw/qdev.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/i386/fw_cfg.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"
#include "hw/i386/boot.h"
#include "target/i386/cpu-model.h"

#define FW_CFG_CTL_SIZE         2
#define FW_CFG_DMA_SIZE         8
#define FW_CFG_INVALID          0xffff
#define FW_CFG_ENTRY_MASK       0x3fff      /* bit 14 was the write channel */
#define FW_CFG_MAX_ENTRY        (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define FW_CFG_IRQ0_OVERRIDE    (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_MAX_FILE_PATH    56

#define FW_CFG_VERSION          0x01
#define FW_CFG_VERSION_DMA      0x02

#define FW_CFG_DMA_CTL_ERROR    0x01
#define FW_CFG_DMA_CTL_READ     0x02
#define FW_CFG_DMA_CTL_SKIP     0x04
#define FW_CFG_DMA_CTL_SELECT   0x08
#define FW_CFG_DMA_CTL_WRITE    0x10

static const char fw_cfg_dma_signature[8] = "QEMU CFG";

typedef struct FWCfgEntry {
    uint8_t *data;
    uint32_t len;
} FWCfgEntry;

struct FWCfgState {
    DeviceState parent;
    MemoryRegion ctl_io;
    MemoryRegion dma_io;
    bool mapped;
    /* [0]: generic keys, [1]: arch-local keys (0x8000 | index) */
    FWCfgEntry entries[2][FW_CFG_MAX_ENTRY];
    char *file_names[FW_CFG_FILE_SLOTS];    /* sorted, file i has key FILE_FIRST + i */
    unsigned nfiles;
    uint16_t cur_entry;
    uint32_t cur_offset;
    uint64_t dma_addr;
};

static uint8_t *fw_cfg_memdup(const void *data, size_t len)
{
    uint8_t *p = g_malloc(len ? len : 1);

    if (len) {
        memcpy(p, data, len);
    }
    return p;
}

static FWCfgEntry *fw_cfg_entry(FWCfgState *s, uint16_t key)
{
    unsigned idx = key & 0x7fff;

    if (key == FW_CFG_INVALID || idx >= FW_CFG_MAX_ENTRY) {
        return NULL;
    }
    return &s->entries[!!(key & FW_CFG_ARCH_LOCAL)][idx];
}

static void fw_cfg_set_entry(FWCfgState *s, uint16_t key, uint8_t *data, size_t len)
{
    FWCfgEntry *e = fw_cfg_entry(s, key);

    g_assert(e && len <= UINT32_MAX);
    g_free(e->data);
    e->data = data;
    e->len = len;
}

void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len)
{
    fw_cfg_set_entry(s, key, fw_cfg_memdup(data, len), len);
}

void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value)
{
    fw_cfg_add_bytes(s, key, value, strlen(value) + 1);
}

void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value)
{
    uint16_t v = GUINT16_TO_LE(value);
    fw_cfg_add_bytes(s, key, &v, sizeof(v));
}

void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value)
{
    uint32_t v = GUINT32_TO_LE(value);
    fw_cfg_add_bytes(s, key, &v, sizeof(v));
}

void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value)
{
    uint64_t v = GUINT64_TO_LE(value);
    fw_cfg_add_bytes(s, key, &v, sizeof(v));
}

static void fw_cfg_rebuild_dir(FWCfgState *s)
{
    size_t len = 4 + 64 * (size_t)s->nfiles;
    uint8_t *dir = g_malloc0(len);

    *(uint32_t *)dir = GUINT32_TO_BE(s->nfiles);
    for (unsigned i = 0; i < s->nfiles; i++) {
        uint8_t *f = dir + 4 + 64 * i;
        uint32_t size = GUINT32_TO_BE(s->entries[0][FW_CFG_FILE_FIRST + i].len);
        uint16_t select = GUINT16_TO_BE(FW_CFG_FILE_FIRST + i);
        memcpy(f, &size, 4);
        memcpy(f + 4, &select, 2);
        strncpy((char *)f + 8, s->file_names[i], FW_CFG_MAX_FILE_PATH - 1);
    }
    fw_cfg_set_entry(s, FW_CFG_FILE_DIR, dir, len);
}

bool fw_cfg_add_file(FWCfgState *s, const char *name, const void *data, size_t len,
                     Error **errp)
{
    unsigned pos;

    if (strlen(name) >= FW_CFG_MAX_FILE_PATH) {
        error_setg(errp, "fw_cfg: file name '%s' is longer than %d characters", name,
                   FW_CFG_MAX_FILE_PATH - 1);
        return false;
    }
    if (len > UINT32_MAX) {
        error_setg(errp, "fw_cfg: file '%s' is too large", name);
        return false;
    }
    for (pos = 0; pos < s->nfiles; pos++) {
        int c = strcmp(name, s->file_names[pos]);
        if (c == 0) {
            error_setg(errp, "fw_cfg: duplicate file '%s'", name);
            return false;
        }
        if (c < 0) {
            break;
        }
    }
    if (s->nfiles >= FW_CFG_FILE_SLOTS) {
        error_setg(errp, "fw_cfg: no free file slot for '%s' (%d used)", name,
                   FW_CFG_FILE_SLOTS);
        return false;
    }
    /* Keep keys in name order: shift the later files up by one. */
    memmove(&s->file_names[pos + 1], &s->file_names[pos],
            (s->nfiles - pos) * sizeof(s->file_names[0]));
    memmove(&s->entries[0][FW_CFG_FILE_FIRST + pos + 1], &s->entries[0][FW_CFG_FILE_FIRST + pos],
            (s->nfiles - pos) * sizeof(FWCfgEntry));
    s->file_names[pos] = g_strdup(name);
    s->entries[0][FW_CFG_FILE_FIRST + pos].data = fw_cfg_memdup(data, len);
    s->entries[0][FW_CFG_FILE_FIRST + pos].len = len;
    s->nfiles++;
    fw_cfg_rebuild_dir(s);
    return true;
}

/* ---- guest interface ---- */

static void fw_cfg_select(FWCfgState *s, uint16_t key)
{
    key &= ~0x4000;     /* the old write channel bit: ignored */
    s->cur_offset = 0;
    s->cur_entry = fw_cfg_entry(s, key) ? key : FW_CFG_INVALID;
}

static uint8_t fw_cfg_read_byte(FWCfgState *s)
{
    FWCfgEntry *e = fw_cfg_entry(s, s->cur_entry);

    if (!e || !e->data || s->cur_offset >= e->len) {
        return 0;
    }
    return e->data[s->cur_offset++];
}

static uint64_t fw_cfg_ctl_read(void *opaque, uint64_t addr, unsigned size)
{
    FWCfgState *s = opaque;
    uint64_t v = 0;

    /* Wider reads return consecutive bytes in string order. */
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)fw_cfg_read_byte(s) << (8 * i);
    }
    return v;
}

static void fw_cfg_ctl_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;

    if (addr == 0 && size == 2) {
        fw_cfg_select(s, val);
    }
    /* Byte writes to the data port are ignored, as on QEMU since 2.4. */
}

/* Writes/zero-fills guest memory for DMA; false on any failure. */
static bool fw_cfg_dma_store(uint64_t addr, const uint8_t *data, uint64_t len)
{
    static const uint8_t zeros[4096];

    if (addr + len < addr) {
        return false;
    }
    if (data) {
        return address_space_write(&address_space_memory, addr, data, len) == MEMTX_OK;
    }
    while (len) {
        uint64_t n = MIN(len, sizeof(zeros));
        if (address_space_write(&address_space_memory, addr, zeros, n) != MEMTX_OK) {
            return false;
        }
        addr += n;
        len -= n;
    }
    return true;
}

static void fw_cfg_dma_transfer(FWCfgState *s)
{
    uint64_t desc = s->dma_addr, address;
    uint8_t acc[16];
    uint32_t control, length, result;
    bool error = false;

    s->dma_addr = 0;
    if (address_space_read(&address_space_memory, desc, acc, sizeof(acc)) != MEMTX_OK) {
        error = true;
        goto done;
    }
    control = GUINT32_FROM_BE(*(uint32_t *)acc);
    length = GUINT32_FROM_BE(*(uint32_t *)(acc + 4));
    memcpy(&address, acc + 8, 8);
    address = GUINT64_FROM_BE(address);

    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, control >> 16);
    }
    if (control & FW_CFG_DMA_CTL_READ) {
        control = FW_CFG_DMA_CTL_READ;
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        control = FW_CFG_DMA_CTL_WRITE;
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        control = FW_CFG_DMA_CTL_SKIP;
    } else {
        length = 0;
    }
    while (length && !error) {
        FWCfgEntry *e = fw_cfg_entry(s, s->cur_entry);
        uint32_t len;

        if (control == FW_CFG_DMA_CTL_WRITE) {
            error = true;               /* nothing is writable */
            break;
        }
        if (!e || !e->data || s->cur_offset >= e->len) {
            /* Past the end: reads give zeros. */
            len = length;
            if (control == FW_CFG_DMA_CTL_READ) {
                error = !fw_cfg_dma_store(address, NULL, len);
            }
        } else {
            len = MIN(length, e->len - s->cur_offset);
            if (control == FW_CFG_DMA_CTL_READ) {
                error = !fw_cfg_dma_store(address, e->data + s->cur_offset, len);
            }
            s->cur_offset += len;
        }
        address += len;
        length -= len;
    }
done:
    result = GUINT32_TO_BE(error ? FW_CFG_DMA_CTL_ERROR : 0);
    address_space_write(&address_space_memory, desc, &result, sizeof(result));
}

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size && addr + i < sizeof(fw_cfg_dma_signature); i++) {
        v |= (uint64_t)(uint8_t)fw_cfg_dma_signature[addr + i] << (8 * i);
    }
    return v;
}

static void fw_cfg_dma_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;

    /* The register is big-endian: the guest stores the bytes in memory order. */
    if (addr == 0 && size == 4) {
        s->dma_addr = (uint64_t)GUINT32_FROM_BE((uint32_t)val) << 32;
    } else if (addr == 4 && size == 4) {
        s->dma_addr |= GUINT32_FROM_BE((uint32_t)val);
        fw_cfg_dma_transfer(s);
    } else if (addr == 0 && size == 8) {
        s->dma_addr = GUINT64_FROM_BE(val);
        fw_cfg_dma_transfer(s);
    }
}

static const MemoryRegionOps fw_cfg_ctl_ops = {
    .read = fw_cfg_ctl_read,
    .write = fw_cfg_ctl_write,
    .valid = { .min_access_size = 1, .max_access_size = 2 },
    .impl = { .min_access_size = 1, .max_access_size = 2 },
};

static const MemoryRegionOps fw_cfg_dma_ops = {
    .read = fw_cfg_dma_read,
    .write = fw_cfg_dma_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ---- device ---- */

static void fw_cfg_realize(DeviceState *dev, Error **errp)
{
    FWCfgState *s = (FWCfgState *)dev;

    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    fw_cfg_rebuild_dir(s);
    memory_region_init_io(&s->ctl_io, &fw_cfg_ctl_ops, s, "fwcfg", FW_CFG_CTL_SIZE);
    memory_region_init_io(&s->dma_io, &fw_cfg_dma_ops, s, "fwcfg.dma", FW_CFG_DMA_SIZE);
    memory_region_add_subregion(get_system_io(), FW_CFG_IO_BASE, &s->ctl_io);
    memory_region_add_subregion(get_system_io(), FW_CFG_DMA_IO_BASE, &s->dma_io);
    qdev_claim(dev, DEV_RES_IO, FW_CFG_IO_BASE, FW_CFG_DMA_IO_BASE + FW_CFG_DMA_SIZE -
               FW_CFG_IO_BASE, 0);
    s->mapped = true;
    fw_cfg_select(s, FW_CFG_SIGNATURE);
}

static void fw_cfg_unrealize(DeviceState *dev)
{
    FWCfgState *s = (FWCfgState *)dev;

    if (s->mapped) {
        memory_region_del_subregion(get_system_io(), &s->ctl_io);
        memory_region_del_subregion(get_system_io(), &s->dma_io);
        memory_region_destroy(&s->ctl_io);
        memory_region_destroy(&s->dma_io);
        s->mapped = false;
    }
}

static void fw_cfg_finalize(DeviceState *dev)
{
    FWCfgState *s = (FWCfgState *)dev;

    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < FW_CFG_MAX_ENTRY; i++) {
            g_free(s->entries[t][i].data);
            s->entries[t][i].data = NULL;
        }
    }
    for (unsigned i = 0; i < s->nfiles; i++) {
        g_free(s->file_names[i]);
    }
    s->nfiles = 0;
}

static void fw_cfg_reset(DeviceState *dev)
{
    FWCfgState *s = (FWCfgState *)dev;

    s->dma_addr = 0;
    fw_cfg_select(s, FW_CFG_SIGNATURE);
}

static const VMStateField fw_cfg_vmstate_fields[] = {
    VMSTATE_UINT16(cur_entry, FWCfgState),
    VMSTATE_UINT32(cur_offset, FWCfgState),
    VMSTATE_UINT64(dma_addr, FWCfgState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription fw_cfg_vmstate = {
    .name = "fw_cfg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fw_cfg_vmstate_fields,
};

/* Device (FWCF) { _HID "QEMU0002", _STA 0xB, _CRS: ports 0x510-0x51b },
 * as QEMU declares it (Linux's qemu_fw_cfg driver binds to it). */
static void fw_cfg_describe(DeviceState *dev, PlatformDesc *pd)
{
    g_autoptr(GByteArray) body = g_byte_array_new();

    aml_name_string(body, "_HID", "QEMU0002");
    aml_name_integer(body, "_STA", 0xb);    /* present, enabled, not shown in UI */
    aml_name_crs_from_claims(body, dev);
    aml_device(pd->aml_sb, "FWCF", body);
}

static const DeviceClass fw_cfg_class = {
    .name = "fw_cfg_io",
    .desc = "QEMU firmware configuration interface (I/O ports 0x510, 0x514)",
    .bus_type = NULL,
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(FWCfgState),
    .vmsd = &fw_cfg_vmstate,
    .realize = fw_cfg_realize,
    .unrealize = fw_cfg_unrealize,
    .reset = fw_cfg_reset,
    .finalize = fw_cfg_finalize,
    .describe = fw_cfg_describe,
};

bool fw_cfg_add_platform_files(FWCfgState *s, const PlatformDesc *pd, Error **errp)
{
    g_autofree char *bootorder = platform_bootorder(pd);

    for (guint i = 0; i < pd->files->len; i++) {
        PlatformFile *f = g_ptr_array_index(pd->files, i);
        if (!fw_cfg_add_file(s, f->name, f->data->data, f->data->len, errp)) {
            return false;
        }
    }
    /* SeaBIOS reads the boot order as text, one device path per line. */
    return !bootorder || fw_cfg_add_file(s, "bootorder", bootorder, strlen(bootorder) + 1, errp);
}

DEVICE_CLASS_REGISTER(fw_cfg_class)

/* ---- machine items ---- */

/* QEMU's linuxboot protocol: setup at 0x10000 (patched header), kernel at
 * 1 MiB, command line at 0x20000, initrd high; the option ROM copies them. */
#define LB_REAL_ADDR    0x10000
#define LB_CMDLINE_ADDR 0x20000
#define LB_PROT_ADDR    0x100000
#define FW_CFG_FIRMWARE_RESERVE 0x28000

static bool fw_cfg_add_linux_kernel(FWCfgState *s, MachineState *ms, Error **errp)
{
    const char *cmdline = ms->kernel_cmdline ? ms->kernel_cmdline : "";
    LinuxKernelInfo info;
    GError *gerr = NULL;
    gchar *img = NULL, *initrd = NULL;
    gsize size, initrd_size = 0;
    uint8_t *setup;
    bool ok = false;

    if (!g_file_get_contents(ms->kernel_filename, &img, &size, &gerr)) {
        error_setg(errp, "fw_cfg: could not read kernel '%s': %s", ms->kernel_filename,
                   gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (!linux_parse_header((uint8_t *)img, size, &info, NULL)) {
        /* Multiboot and PVH kernels have no firmware path (yet). */
        error_setg(errp, "-machine firmware-boot=on: '%s' is not a Linux bzImage (Multiboot "
                   "and PVH kernels boot only directly, firmware-boot=off)", ms->kernel_filename);
        g_free(img);
        return false;
    }
    setup = fw_cfg_memdup(img, info.setup_size);
    setup[0x210] = 0xb0;                        /* type_of_loader: QEMU */
    setup[0x211] |= 0x80;                       /* CAN_USE_HEAP */
    *(uint16_t *)(setup + 0x224) = GUINT16_TO_LE(LB_CMDLINE_ADDR - LB_REAL_ADDR - 0x200);
    *(uint32_t *)(setup + 0x228) = GUINT32_TO_LE(LB_CMDLINE_ADDR);
    if (ms->initrd_filename) {
        /* Below what the firmware keeps at the top of low RAM (its ACPI
         * tables and high zone), as QEMU's pc leaves 0x28000 bytes. */
        uint64_t max = MIN((uint64_t)info.initrd_addr_max + 1,
                           ms->below_4g_mem_size - FW_CFG_FIRMWARE_RESERVE);
        uint32_t addr;
        if (!g_file_get_contents(ms->initrd_filename, &initrd, &initrd_size, &gerr)) {
            error_setg(errp, "fw_cfg: could not read initrd '%s': %s", ms->initrd_filename,
                       gerr->message);
            g_error_free(gerr);
            goto out;
        }
        if (max < LB_PROT_ADDR + info.payload_size ||
            initrd_size > max - LB_PROT_ADDR - info.payload_size) {
            error_setg(errp, "fw_cfg: initrd '%s' (%zu bytes) does not fit in RAM",
                       ms->initrd_filename, (size_t)initrd_size);
            goto out;
        }
        addr = (max - initrd_size) & ~0xfffULL;
        *(uint32_t *)(setup + 0x218) = GUINT32_TO_LE(addr);
        *(uint32_t *)(setup + 0x21c) = GUINT32_TO_LE(initrd_size);
        fw_cfg_add_i32(s, FW_CFG_INITRD_ADDR, addr);
        fw_cfg_add_i32(s, FW_CFG_INITRD_SIZE, initrd_size);
        fw_cfg_set_entry(s, FW_CFG_INITRD_DATA, (uint8_t *)initrd, initrd_size);
        initrd = NULL;
    }
    fw_cfg_add_i32(s, FW_CFG_SETUP_ADDR, LB_REAL_ADDR);
    fw_cfg_add_i32(s, FW_CFG_SETUP_SIZE, info.setup_size);
    fw_cfg_set_entry(s, FW_CFG_SETUP_DATA, setup, info.setup_size);
    setup = NULL;
    fw_cfg_add_i32(s, FW_CFG_KERNEL_ADDR, LB_PROT_ADDR);
    fw_cfg_add_i32(s, FW_CFG_KERNEL_SIZE, info.payload_size);
    fw_cfg_add_bytes(s, FW_CFG_KERNEL_DATA, img + info.payload_offset, info.payload_size);
    fw_cfg_add_i32(s, FW_CFG_CMDLINE_ADDR, LB_CMDLINE_ADDR);
    fw_cfg_add_i32(s, FW_CFG_CMDLINE_SIZE, strlen(cmdline) + 1);
    fw_cfg_add_string(s, FW_CFG_CMDLINE_DATA, cmdline);
    ok = true;
out:
    g_free(setup);
    g_free(initrd);
    g_free(img);
    return ok;
}

static uint32_t fw_cfg_apic_id_limit(MachineState *ms)
{
    X86Topology topo = { ms->smp.sockets, ms->smp.dies, ms->smp.cores, ms->smp.threads };
    unsigned max = ms->smp.maxcpus ? ms->smp.maxcpus : ms->smp.cpus;

    return max ? x86_apic_id_from_index(&topo, max - 1) + 1 : 0;
}

/* -boot's menu wait (16-bit, only when splash-time= is given) and reboot
 * timeout (32-bit, always: -1, QEMU's default, means "never retry"; SeaBIOS
 * would otherwise retry after 60 s), both little-endian, as QEMU. */
static bool fw_cfg_add_boot_files(FWCfgState *s, MachineState *ms, Error **errp)
{
    uint16_t wait = GUINT16_TO_LE((uint16_t)ms->boot_menu_wait_ms);
    uint32_t reboot = GUINT32_TO_LE((uint32_t)ms->boot_reboot_timeout_ms);

    if (ms->boot_menu_wait_ms >= 0 &&
        !fw_cfg_add_file(s, "etc/boot-menu-wait", &wait, sizeof(wait), errp)) {
        return false;
    }
    return fw_cfg_add_file(s, "etc/boot-fail-wait", &reboot, sizeof(reboot), errp);
}

FWCfgState *fw_cfg_create(MachineState *ms, Error **errp)
{
    DeviceState *dev = qdev_new("fw_cfg_io", errp);
    FWCfgState *s;
    E820Table *e820;

    if (!dev) {
        return NULL;
    }
    qdev_set_machine_child(dev, "fw_cfg");
    if (!qdev_realize(dev, NULL, errp)) {
        qdev_free(dev);
        return NULL;
    }
    s = (FWCfgState *)dev;
    fw_cfg_add_bytes(s, FW_CFG_UUID, ms->uuid, sizeof(ms->uuid));
    fw_cfg_add_i64(s, FW_CFG_RAM_SIZE, ms->ram_size);
    fw_cfg_add_i16(s, FW_CFG_NOGRAPHIC, 0);
    fw_cfg_add_i16(s, FW_CFG_NB_CPUS, ms->smp.cpus);
    /* As QEMU: FW_CFG_MAX_CPUS (SeaBIOS's "etc/max-cpus") is the APIC ID
     * limit, the highest APIC ID of the topology plus one. */
    fw_cfg_add_i16(s, FW_CFG_MAX_CPUS, fw_cfg_apic_id_limit(ms));
    fw_cfg_add_i16(s, FW_CFG_BOOT_MENU, ms->boot_menu);
    fw_cfg_add_i32(s, FW_CFG_IRQ0_OVERRIDE, 1);  /* PIT on IOAPIC pin 2 */

    /* As QEMU: RAM only, the firmware reserves its own areas (EBDA, BIOS). */
    e820 = g_new0(E820Table, 1);
    e820_add(e820, 0, ms->below_4g_mem_size, E820_RAM);
    e820_add(e820, 0x100000000ULL, ms->above_4g_mem_size, E820_RAM);
    if (!fw_cfg_add_file(s, "etc/e820", e820->entry, e820->nr * sizeof(E820Entry), errp)) {
        g_free(e820);
        goto fail;
    }
    g_free(e820);
    if (!fw_cfg_add_boot_files(s, ms, errp)) {
        goto fail;
    }
    /* QEMU's linuxboot items are for firmware that loads the kernel; a
     * direct boot loads it itself and would only keep a second copy of the
     * kernel and initrd in memory. */
    if (ms->kernel_filename && ms->firmware_boot == 1 && !fw_cfg_add_linux_kernel(s, ms, errp)) {
        goto fail;
    }
    ms->fw_cfg = s;
    return s;
fail:
    qdev_free(dev);
    return NULL;
}
