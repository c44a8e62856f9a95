/*
 * ACPI tables (ACPI 6.x layouts): RSDP, XSDT and RSDT, FADT (revision 5),
 * FACS, MADT and DSDT, built from a PlatformDesc (include/hw/platform-desc.h):
 * what the devices said about themselves.  Nothing here names a device.
 *
 * Everything is built in one buffer.  For a boot without firmware it is
 * written to the BIOS area at ACPI_TABLES_BASE (0xe0000), which the e820
 * map reports reserved:
 *   0xe0000 RSDP (16-byte aligned, found by scanning 0xe0000-0xfffff)
 *   0xe0040 FACS (64-byte aligned, as the spec requires)
 *   then DSDT, FADT, MADT, RSDT, XSDT, each 16-byte aligned.
 * For firmware (SeaBIOS) it becomes fw_cfg files plus QEMU's table-loader
 * script, which tells the firmware where to put them and how to patch the
 * pointers and checksums.
 */
#include <string.h>
#include "hw/i386/boot.h"
#include "hw/i386/x86-boot-internal.h"
#include "hw/acpi/aml.h"
#include "hw/i386/fw_cfg.h"
#include "hw/i386/x86-irq.h"
#include "hw/platform-desc.h"

#define ACPI_OEM_ID         "KVMPC "
#define ACPI_OEM_TABLE_ID   "KVMPCTBL"
#define ACPI_CREATOR_ID     "KVPC"
#define ACPI_HDR_SIZE       36

#define ACPI_MAX_CPUS       255         /* the machine's limit */

/* FADT (ACPI 6.4, 5.2.9), revision 5 = 268 bytes. */
#define FADT_REVISION       5
#define FADT_SIZE           268
#define FADT_FIRMWARE_CTRL  36
#define FADT_DSDT           40
#define FADT_SCI_INT        46
#define FADT_SMI_CMD        48
#define FADT_PM1A_EVT_BLK   56
#define FADT_PM1A_CNT_BLK   64
#define FADT_PM_TMR_BLK     76
#define FADT_PM1_EVT_LEN    88
#define FADT_PM1_CNT_LEN    89
#define FADT_PM_TMR_LEN     91
#define FADT_P_LVL2_LAT     96
#define FADT_P_LVL3_LAT     98
#define FADT_CENTURY        108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS          112
#define FADT_RESET_REG      116
#define FADT_RESET_VALUE    128
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT         140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK   208

#define FADT_F_WBINVD       (1u << 0)
#define FADT_F_PROC_C1      (1u << 2)
#define FADT_F_SLP_BUTTON   (1u << 5)   /* no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)

#define GAS_SYSTEM_MEMORY   0
#define GAS_SYSTEM_IO       1
#define GAS_ACCESS_BYTE     1

#define FACS_SIZE           64

/* MADT entries. */
#define MADT_LOCAL_APIC     0
#define MADT_IO_APIC        1
#define MADT_INT_OVERRIDE   2
#define MADT_LAPIC_NMI      4
#define MADT_LOCAL_X2APIC   9           /* for APIC IDs that need more than 8 bits */
#define MADT_PCAT_COMPAT    1

/* Tables are built at offsets in one buffer; pointers between them hold
 * buffer offsets and are recorded, as are the checksums, so the same
 * build can be placed at ACPI_TABLES_BASE (acpi_build_tables) or handed
 * to the firmware with a table-loader script (acpi_build_fw_cfg). */
typedef struct AcpiPointer {
    uint32_t offset;            /* of the pointer field */
    uint8_t size;               /* 4 or 8 */
} AcpiPointer;

typedef struct AcpiChecksum {
    uint32_t offset;            /* of the checksum byte */
    uint32_t start, len;        /* the bytes it covers */
} AcpiChecksum;

typedef struct AcpiBuf {
    uint8_t *data;
    size_t len, cap;
    bool overflow;
    GArray *pointers;           /* AcpiPointer */
    GArray *checksums;          /* AcpiChecksum */
} AcpiBuf;

static size_t acpi_reserve(AcpiBuf *b, size_t len, size_t align)
{
    size_t off = (b->len + align - 1) & ~(align - 1);

    if (off > b->cap || len > b->cap - off) {
        b->overflow = true;
        return 0;
    }
    memset(b->data + off, 0, len);
    b->len = off + len;
    return off;
}

static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--) {
        sum += *p++;
    }
    return (uint8_t)-sum;
}

/* Fills the standard header; length and checksum are set by acpi_finish. */
static void acpi_header(uint8_t *t, const char *sig, uint8_t rev)
{
    memcpy(t, sig, 4);
    t[8] = rev;
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
    st32(t + 24, 1);                    /* OEM revision */
    memcpy(t + 28, ACPI_CREATOR_ID, 4);
    st32(t + 32, 1);                    /* creator revision */
}

static void acpi_add_checksum(AcpiBuf *b, size_t offset, size_t start, size_t len)
{
    AcpiChecksum c = { offset, start, len };

    b->data[offset] = 0;
    g_array_append_val(b->checksums, c);
}

/* Sets the table's length and records its checksum. */
static void acpi_finish(AcpiBuf *b, size_t off, size_t len)
{
    st32(b->data + off + 4, len);
    acpi_add_checksum(b, off + 9, off, len);
}

/* A 4- or 8-byte field at `field` pointing at buffer offset `target`. */
static void acpi_pointer(AcpiBuf *b, size_t field, uint8_t size, size_t target)
{
    AcpiPointer p = { field, size };

    if (size == 8) {
        st64(b->data + field, target);
    } else {
        st32(b->data + field, target);
    }
    g_array_append_val(b->pointers, p);
}

static void acpi_gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access,
                     uint64_t addr)
{
    p[0] = space;
    p[1] = bit_width;
    p[2] = 0;
    p[3] = access;
    st64(p + 4, addr);
}

/* The DSDT: what the devices contributed, at the root and inside \_SB. */
static size_t acpi_build_dsdt(AcpiBuf *b, const PlatformDesc *pd)
{
    g_autoptr(GByteArray) aml = g_byte_array_new();
    size_t off;

    g_byte_array_append(aml, pd->aml_root->data, pd->aml_root->len);
    if (pd->aml_sb->len) {
        aml_scope(aml, "\\_SB_", pd->aml_sb);
    }
    off = acpi_reserve(b, ACPI_HDR_SIZE + aml->len, 16);
    if (!b->overflow) {
        acpi_header(b->data + off, "DSDT", 2);
        memcpy(b->data + off + ACPI_HDR_SIZE, aml->data, aml->len);
        acpi_finish(b, off, ACPI_HDR_SIZE + aml->len);
    }
    return off;
}

static size_t acpi_build_fadt(AcpiBuf *b, const PlatformDesc *pd, size_t facs, size_t dsdt)
{
    size_t off = acpi_reserve(b, FADT_SIZE, 16);
    uint8_t *f = b->data + off;
    uint32_t flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON;

    if (b->overflow) {
        return 0;
    }
    acpi_header(f, "FACP", FADT_REVISION);
    acpi_pointer(b, off + FADT_FIRMWARE_CTRL, 4, facs);
    acpi_pointer(b, off + FADT_DSDT, 4, dsdt);
    st32(f + FADT_SMI_CMD, 0);          /* no SMI: always in ACPI mode */
    if (pd->has_pm) {
        st16(f + FADT_SCI_INT, pd->sci_irq);
        st32(f + FADT_PM1A_EVT_BLK, pd->pm1_evt_blk);
        st32(f + FADT_PM1A_CNT_BLK, pd->pm1_cnt_blk);
        st32(f + FADT_PM_TMR_BLK, pd->pm_tmr_blk);
        f[FADT_PM1_EVT_LEN] = 4;
        f[FADT_PM1_CNT_LEN] = 2;
        f[FADT_PM_TMR_LEN] = 4;
        acpi_gas(f + FADT_X_PM1A_EVT_BLK, GAS_SYSTEM_IO, 32, 0, pd->pm1_evt_blk);
        acpi_gas(f + FADT_X_PM1A_CNT_BLK, GAS_SYSTEM_IO, 16, 0, pd->pm1_cnt_blk);
        acpi_gas(f + FADT_X_PM_TMR_BLK, GAS_SYSTEM_IO, 32, 0, pd->pm_tmr_blk);
    }
    st16(f + FADT_P_LVL2_LAT, 0x0fff);  /* > 100: C2 not supported */
    st16(f + FADT_P_LVL3_LAT, 0x0fff);  /* > 1000: C3 not supported */
    f[FADT_CENTURY] = 0x32;             /* RTC CMOS century register */
    st16(f + FADT_IAPC_BOOT_ARCH, pd->iapc_boot_arch);
    if (pd->has_reset_reg) {
        flags |= FADT_F_RESET_REG_SUP;
        acpi_gas(f + FADT_RESET_REG, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, pd->reset_port);
        f[FADT_RESET_VALUE] = pd->reset_value;
    }
    st32(f + FADT_FLAGS, flags);
    st64(f + FADT_X_FIRMWARE_CTRL, 0);  /* FIRMWARE_CTRL is set and below 4 GiB */
    acpi_pointer(b, off + FADT_X_DSDT, 8, dsdt);
    acpi_finish(b, off, FADT_SIZE);
    return off;
}

/* One processor entry per vCPU with its APIC ID (from the topology, not
 * the index): a Local APIC entry, or a Local x2APIC entry where the ID does
 * not fit in 8 bits (0xff is the broadcast ID), as QEMU does. */
static size_t acpi_build_madt(AcpiBuf *b, const PlatformDesc *pd)
{
    size_t len = ACPI_HDR_SIZE + 8 + 12 * pd->nr_ioapics + 10 * pd->nr_overrides + 6;
    size_t off;
    uint8_t *m, *p;

    for (unsigned i = 0; i < pd->ncpus; i++) {
        len += pd->apic_ids[i] < 0xff ? 8 : 16;
    }
    off = acpi_reserve(b, len, 16);
    m = b->data + off;
    if (b->overflow) {
        return 0;
    }
    acpi_header(m, "APIC", 3);
    st32(m + 36, APIC_DEFAULT_ADDRESS);
    st32(m + 40, pd->pcat_compat ? MADT_PCAT_COMPAT : 0);
    p = m + 44;
    for (unsigned i = 0; i < pd->ncpus; i++) {
        if (pd->apic_ids[i] < 0xff) {
            p[0] = MADT_LOCAL_APIC;
            p[1] = 8;
            p[2] = i;                   /* ACPI processor UID */
            p[3] = pd->apic_ids[i];
            st32(p + 4, 1);             /* enabled */
            p += 8;
        } else {
            p[0] = MADT_LOCAL_X2APIC;
            p[1] = 16;
            st32(p + 4, pd->apic_ids[i]);
            st32(p + 8, 1);             /* enabled */
            st32(p + 12, i);            /* ACPI processor UID */
            p += 16;
        }
    }
    for (unsigned i = 0; i < pd->nr_ioapics; i++, p += 12) {
        p[0] = MADT_IO_APIC;
        p[1] = 12;
        p[2] = pd->ioapics[i].id;
        p[3] = 0;
        st32(p + 4, pd->ioapics[i].addr);
        st32(p + 8, pd->ioapics[i].gsi_base);
    }
    for (unsigned i = 0; i < pd->nr_overrides; i++, p += 10) {
        p[0] = MADT_INT_OVERRIDE;
        p[1] = 10;
        p[2] = 0;                       /* ISA */
        p[3] = pd->overrides[i].isa_irq;
        st32(p + 4, pd->overrides[i].gsi);
        st16(p + 8, pd->overrides[i].flags);
    }
    /* NMI on LINT1 of every processor. */
    p[0] = MADT_LAPIC_NMI;
    p[1] = 6;
    p[2] = 0xff;                        /* all processors */
    st16(p + 3, 0);
    p[5] = 1;                           /* LINT1 */
    acpi_finish(b, off, len);
    return off;
}

/* HPET (IA-PC HPET 1.0a, table 3): the block ID, its base address (system
 * memory), HPET number 0, no minimum tick, no page protection, as QEMU. */
#define HPET_TABLE_SIZE     56

static size_t acpi_build_hpet(AcpiBuf *b, const PlatformDesc *pd)
{
    size_t off = acpi_reserve(b, HPET_TABLE_SIZE, 16);
    uint8_t *t = b->data + off;

    if (b->overflow) {
        return 0;
    }
    acpi_header(t, "HPET", 1);
    st32(t + 36, pd->hpet_block_id);
    acpi_gas(t + 40, GAS_SYSTEM_MEMORY, 0, 0, pd->hpet_addr);
    t[52] = 0;                          /* HPET number */
    st16(t + 53, 0);                    /* minimum clock tick in periodic mode */
    t[55] = 0;                          /* page protection */
    acpi_finish(b, off, HPET_TABLE_SIZE);
    return off;
}

static size_t acpi_build_rsdt(AcpiBuf *b, const size_t *tables, unsigned n, bool x)
{
    size_t esz = x ? 8 : 4, len = ACPI_HDR_SIZE + esz * n;
    size_t off = acpi_reserve(b, len, 16);
    uint8_t *t = b->data + off;

    if (b->overflow) {
        return 0;
    }
    acpi_header(t, x ? "XSDT" : "RSDT", 1);
    for (unsigned i = 0; i < n; i++) {
        acpi_pointer(b, off + ACPI_HDR_SIZE + esz * i, esz, tables[i]);
    }
    acpi_finish(b, off, len);
    return off;
}

/* Offsets of the RSDP (always 0) and of the first table in the build. */
#define ACPI_RSDP_OFFSET    0
#define ACPI_RSDP_SIZE      36
#define ACPI_TABLES_OFFSET  64

static void acpi_buf_free(AcpiBuf *b)
{
    g_free(b->data);
    g_array_free(b->pointers, TRUE);
    g_array_free(b->checksums, TRUE);
}

/* Builds everything with pointers as buffer offsets. */
static bool acpi_build(AcpiBuf *b, const PlatformDesc *pd, Error **errp)
{
    size_t rsdp, facs, dsdt, fadt, madt, rsdt, xsdt, tables[3];
    unsigned ntables = 0;
    uint8_t *r;

    memset(b, 0, sizeof(*b));
    b->cap = ACPI_TABLES_SIZE;
    b->data = g_malloc0(b->cap);
    b->pointers = g_array_new(FALSE, FALSE, sizeof(AcpiPointer));
    b->checksums = g_array_new(FALSE, FALSE, sizeof(AcpiChecksum));
    if (pd->ncpus == 0 || pd->ncpus > ACPI_MAX_CPUS) {
        error_setg(errp, "ACPI tables: %u vCPUs not supported (1-%d)", pd->ncpus,
                   ACPI_MAX_CPUS);
        acpi_buf_free(b);
        return false;
    }
    rsdp = acpi_reserve(b, ACPI_RSDP_SIZE, 16);
    facs = acpi_reserve(b, FACS_SIZE, 64);
    g_assert(rsdp == ACPI_RSDP_OFFSET && facs == ACPI_TABLES_OFFSET);
    memcpy(b->data + facs, "FACS", 4);
    st32(b->data + facs + 4, FACS_SIZE);
    b->data[facs + 32] = 2;             /* version */
    dsdt = acpi_build_dsdt(b, pd);
    fadt = acpi_build_fadt(b, pd, facs, dsdt);
    madt = acpi_build_madt(b, pd);
    tables[ntables++] = fadt;
    tables[ntables++] = madt;
    if (pd->has_hpet) {
        tables[ntables++] = acpi_build_hpet(b, pd);
    }
    rsdt = acpi_build_rsdt(b, tables, ntables, false);
    xsdt = acpi_build_rsdt(b, tables, ntables, true);
    if (b->overflow) {
        error_setg(errp, "ACPI tables do not fit in 0x%x bytes", ACPI_TABLES_SIZE);
        acpi_buf_free(b);
        return false;
    }
    r = b->data + rsdp;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, ACPI_OEM_ID, 6);
    r[15] = 2;                          /* revision: ACPI 2.0+ */
    acpi_pointer(b, rsdp + 16, 4, rsdt);
    st32(r + 20, ACPI_RSDP_SIZE);
    acpi_pointer(b, rsdp + 24, 8, xsdt);
    acpi_add_checksum(b, rsdp + 8, rsdp, 20);
    acpi_add_checksum(b, rsdp + 32, rsdp, ACPI_RSDP_SIZE);
    return true;
}

/* Adds `delta` to the pointer fields in [start, end) of the buffer. */
static void acpi_relocate(AcpiBuf *b, size_t start, size_t end, uint64_t delta)
{
    for (guint i = 0; i < b->pointers->len; i++) {
        AcpiPointer *p = &g_array_index(b->pointers, AcpiPointer, i);
        if (p->offset < start || p->offset >= end) {
            continue;
        }
        if (p->size == 8) {
            st64(b->data + p->offset, ld64(b->data + p->offset) + delta);
        } else {
            st32(b->data + p->offset, ld32(b->data + p->offset) + delta);
        }
    }
}

bool acpi_build_tables(AddressSpace *as, const PlatformDesc *pd, uint64_t *rsdp_addr,
                       Error **errp)
{
    AcpiBuf b;
    bool ok = true;

    if (!acpi_build(&b, pd, errp)) {
        return false;
    }
    acpi_relocate(&b, 0, b.len, ACPI_TABLES_BASE);
    /* In build order: a table's checksum comes after those it contains. */
    for (guint i = 0; i < b.checksums->len; i++) {
        AcpiChecksum *c = &g_array_index(b.checksums, AcpiChecksum, i);
        b.data[c->offset] = 0;
        b.data[c->offset] = acpi_checksum(b.data + c->start, c->len);
    }
    if (address_space_write_rom(as, ACPI_TABLES_BASE, b.data, b.len) != MEMTX_OK) {
        error_setg(errp, "ACPI tables: writing guest memory at 0x%x failed", ACPI_TABLES_BASE);
        ok = false;
    } else {
        *rsdp_addr = ACPI_TABLES_BASE + ACPI_RSDP_OFFSET;
    }
    acpi_buf_free(&b);
    return ok;
}

/* ---- QEMU's table-loader ("etc/table-loader") for SeaBIOS ---- */

#define LOADER_FILESZ           56
#define LOADER_ENTRY_SIZE       128
#define LOADER_ALLOCATE         1
#define LOADER_ADD_POINTER      2
#define LOADER_ADD_CHECKSUM     3
#define LOADER_ZONE_HIGH        1
#define LOADER_ZONE_FSEG        2
#define ACPI_FILE_TABLES        "etc/acpi/tables"
#define ACPI_FILE_RSDP          "etc/acpi/rsdp"

static uint8_t *loader_entry(GByteArray *l, uint32_t command)
{
    uint8_t entry[LOADER_ENTRY_SIZE] = { 0 };

    st32(entry, command);
    g_byte_array_append(l, entry, sizeof(entry));
    return l->data + l->len - LOADER_ENTRY_SIZE;
}

static void loader_allocate(GByteArray *l, const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = loader_entry(l, LOADER_ALLOCATE);

    strncpy((char *)e + 4, file, LOADER_FILESZ - 1);
    st32(e + 4 + LOADER_FILESZ, align);
    e[8 + LOADER_FILESZ] = zone;
}

static void loader_add_pointer(GByteArray *l, const char *dest, const char *src,
                               uint32_t offset, uint8_t size)
{
    uint8_t *e = loader_entry(l, LOADER_ADD_POINTER);

    strncpy((char *)e + 4, dest, LOADER_FILESZ - 1);
    strncpy((char *)e + 4 + LOADER_FILESZ, src, LOADER_FILESZ - 1);
    st32(e + 4 + 2 * LOADER_FILESZ, offset);
    e[8 + 2 * LOADER_FILESZ] = size;
}

static void loader_add_checksum(GByteArray *l, const char *file, uint32_t offset,
                                uint32_t start, uint32_t len)
{
    uint8_t *e = loader_entry(l, LOADER_ADD_CHECKSUM);

    strncpy((char *)e + 4, file, LOADER_FILESZ - 1);
    st32(e + 4 + LOADER_FILESZ, offset);
    st32(e + 8 + LOADER_FILESZ, start);
    st32(e + 12 + LOADER_FILESZ, len);
}

bool acpi_build_fw_cfg(FWCfgState *s, const PlatformDesc *pd, Error **errp)
{
    GByteArray *loader;
    AcpiBuf b;
    bool ok;

    if (!acpi_build(&b, pd, errp)) {
        return false;
    }
    /* Pointers hold offsets within etc/acpi/tables; the firmware adds the
     * address where it put that file. */
    acpi_relocate(&b, 0, b.len, -(uint64_t)ACPI_TABLES_OFFSET);
    loader = g_byte_array_new();
    loader_allocate(loader, ACPI_FILE_RSDP, 16, LOADER_ZONE_FSEG);
    loader_allocate(loader, ACPI_FILE_TABLES, 64, LOADER_ZONE_HIGH);
    for (guint i = 0; i < b.pointers->len; i++) {
        AcpiPointer *p = &g_array_index(b.pointers, AcpiPointer, i);
        bool in_rsdp = p->offset < ACPI_TABLES_OFFSET;
        loader_add_pointer(loader, in_rsdp ? ACPI_FILE_RSDP : ACPI_FILE_TABLES,
                           ACPI_FILE_TABLES,
                           in_rsdp ? p->offset : p->offset - ACPI_TABLES_OFFSET, p->size);
    }
    for (guint i = 0; i < b.checksums->len; i++) {
        AcpiChecksum *c = &g_array_index(b.checksums, AcpiChecksum, i);
        bool in_rsdp = c->offset < ACPI_TABLES_OFFSET;
        uint32_t base = in_rsdp ? 0 : ACPI_TABLES_OFFSET;
        loader_add_checksum(loader, in_rsdp ? ACPI_FILE_RSDP : ACPI_FILE_TABLES,
                            c->offset - base, c->start - base, c->len);
    }
    ok = fw_cfg_add_file(s, ACPI_FILE_RSDP, b.data, ACPI_RSDP_SIZE, errp) &&
         fw_cfg_add_file(s, ACPI_FILE_TABLES, b.data + ACPI_TABLES_OFFSET,
                         b.len - ACPI_TABLES_OFFSET, errp) &&
         fw_cfg_add_file(s, "etc/table-loader", loader->data, loader->len, errp);
    g_byte_array_free(loader, TRUE);
    acpi_buf_free(&b);
    return ok;
}
