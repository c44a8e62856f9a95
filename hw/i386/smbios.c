/*
 * SMBIOS tables for the firmware (SMBIOS 2.8, DMTF DSP0134), given to
 * SeaBIOS as fw_cfg "etc/smbios/smbios-tables" (the structures) and
 * "etc/smbios/smbios-anchor" (a 31-byte 2.1-style entry point "_SM_" /
 * "_DMI_"; SeaBIOS places the tables and fixes the address and checksums).
 *
 * Structures, as QEMU's pc gives them (SeaBIOS adds type 0, BIOS
 * information, itself when there is none):
 *   1   system: "QEMU", "Standard PC (i440FX + PIIX, 1996)", the machine
 *       type as version, the -uuid (zero without one)
 *   3   chassis "QEMU", type other
 *   4   one per socket: "CPU n", cores and threads from -smp
 *   16  the physical memory array (all RAM, multi-bit ECC as QEMU says)
 *   17  one memory device per 16 GiB, "DIMM n"
 *   19  one mapped range per RAM block (below 4 GiB, above 4 GiB)
 *   32  system boot information: no errors
 *   127 end of table
 * Each structure is its formatted area then its strings, each NUL
 * terminated, then one more NUL (two when there are no strings).
 *
 * -smbios type=1,manufacturer=,product=,version=,serial=,uuid=,sku=,family=
 * overrides type 1's fields; -smbios type=0,vendor=,version=,date=,
 * release=MAJOR.MINOR makes us build type 0 (BIOS information) instead of
 * SeaBIOS, as QEMU does.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "hw/i386/fw_cfg.h"
#include "hw/i386/firmware.h"
#include "qemu/option.h"

#define SMBIOS_MANUFACTURER     "QEMU"
#define SMBIOS_PRODUCT          "Standard PC (i440FX + PIIX, 1996)"
#define SMBIOS_EPS_SIZE         31
#define SMBIOS_DIMM_MAX_MB      (16 * 1024)

typedef struct SMBiosBuilder {
    GByteArray *tables;
    size_t cur;                 /* start of the structure being built */
    unsigned nstrings;
    uint16_t handle;
    unsigned count;
    size_t max_size;
} SMBiosBuilder;

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }

/* Starts a structure of `len` formatted bytes; returns its formatted area. */
/* The machine type, "pc-i440fx-7.2": the version of system and chassis. */
static const char *smbios_version(MachineState *ms)
{
    return ms->mc ? ms->mc->name : "pc";
}

static uint8_t *smbios_begin(SMBiosBuilder *b, uint8_t type, uint8_t len)
{
    uint8_t zero[256] = { 0 };

    b->cur = b->tables->len;
    b->nstrings = 0;
    g_byte_array_append(b->tables, zero, len);
    b->tables->data[b->cur] = type;
    b->tables->data[b->cur + 1] = len;
    put16(b->tables->data + b->cur + 2, b->handle++);
    return b->tables->data + b->cur;
}

/* Appends a string and stores its number at formatted offset `field`. */
static void smbios_string(SMBiosBuilder *b, uint8_t field, const char *s)
{
    g_byte_array_append(b->tables, (const uint8_t *)s, strlen(s) + 1);
    b->tables->data[b->cur + field] = ++b->nstrings;
}

static void smbios_end(SMBiosBuilder *b)
{
    static const uint8_t nul[2] = { 0, 0 };

    g_byte_array_append(b->tables, nul, b->nstrings ? 1 : 2);
    b->count++;
    b->max_size = MAX(b->max_size, b->tables->len - b->cur);
}

/* A string field: the -smbios value, else the default (NULL: none). */
static void smbios_string_or(SMBiosBuilder *b, uint8_t field, const char *opt,
                             const char *def)
{
    if (opt || def) {
        smbios_string(b, field, opt ? opt : def);
    }
}

static void smbios_type0(SMBiosBuilder *b, const SMBiosFields *f)
{
    uint8_t *t = smbios_begin(b, 0, 0x18);

    put16(t + 6, 0xe800);               /* starting segment */
    t[0xa] = 0x08;                      /* characteristics not supported */
    t[0x13] = 0x14;                     /* targeted content distribution, VM */
    t[0x14] = f->release_major >= 0 ? f->release_major : 0;
    t[0x15] = f->release_minor >= 0 ? f->release_minor : 0;
    t[0x16] = t[0x17] = 0xff;           /* no embedded controller */
    smbios_string_or(b, 4, f->vendor, NULL);
    smbios_string_or(b, 5, f->bios_version, NULL);
    smbios_string_or(b, 8, f->date, NULL);
    smbios_end(b);
}

static void smbios_type1(SMBiosBuilder *b, MachineState *ms)
{
    static const SMBiosFields none = { .release_major = -1 };
    const SMBiosFields *f = ms->smbios ? ms->smbios : &none;
    const uint8_t *src = f->uuid_set ? f->uuid : ms->uuid_set ? ms->uuid : NULL;
    uint8_t *t = smbios_begin(b, 1, 0x1b);
    uint8_t *uuid = t + 8;

    if (src) {
        /* wire format since 2.6: the first three fields little-endian */
        static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
        for (int i = 0; i < 16; i++) {
            uuid[i] = src[order[i]];
        }
    }
    t[0x18] = 6;                        /* wake-up: power switch */
    smbios_string_or(b, 4, f->manufacturer, SMBIOS_MANUFACTURER);
    smbios_string_or(b, 5, f->product, SMBIOS_PRODUCT);
    smbios_string_or(b, 6, f->version, smbios_version(ms));
    smbios_string_or(b, 7, f->serial, NULL);
    smbios_string_or(b, 0x19, f->sku, NULL);
    smbios_string_or(b, 0x1a, f->family, NULL);
    smbios_end(b);
}

static bool smbios_uuid_parse(const char *s, uint8_t *uuid)
{
    int n = 0;

    if (!g_uuid_string_is_valid(s)) {
        return false;
    }
    for (const char *p = s; *p && n < 16; p++) {
        if (*p != '-') {
            uuid[n++] = g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]);
            p++;
        }
    }
    return true;
}

/* Stores the option's value in *field (replacing an earlier -smbios). */
static void smbios_take(QemuOpts *o, const char *key, char **field)
{
    const char *v = qemu_opt_get(o, key);

    if (v) {
        g_free(*field);
        *field = g_strdup(v);
    }
}

void smbios_fields_free(SMBiosFields *f)
{
    if (f) {
        g_free(f->vendor);
        g_free(f->bios_version);
        g_free(f->date);
        g_free(f->manufacturer);
        g_free(f->product);
        g_free(f->version);
        g_free(f->serial);
        g_free(f->sku);
        g_free(f->family);
        g_free(f);
    }
}

bool smbios_parse_option(MachineState *ms, const char *arg, Error **errp)
{
    g_autoptr(GError) err = NULL;
    QemuOpts *o = qemu_opts_parse(arg, NULL, &err);
    SMBiosFields *f;
    const char *type, *v;
    bool ok = false;

    if (!o) {
        error_setg(errp, "%s", err->message);
        return false;
    }
    if (!ms->smbios) {
        ms->smbios = g_new0(SMBiosFields, 1);
        ms->smbios->release_major = ms->smbios->release_minor = -1;
    }
    f = ms->smbios;
    type = qemu_opt_get(o, "type");
    if (!type || (strcmp(type, "0") && strcmp(type, "1"))) {
        error_setg(errp, "type=%s: only type=0 and type=1 are supported (file= too is not)",
                   type ? type : "(missing)");
        goto out;
    }
    if (!strcmp(type, "0")) {
        f->type0 = true;
        smbios_take(o, "vendor", &f->vendor);
        smbios_take(o, "version", &f->bios_version);
        smbios_take(o, "date", &f->date);
        if ((v = qemu_opt_get(o, "release"))) {
            unsigned maj, min;
            char end;
            if (sscanf(v, "%u.%u%c", &maj, &min, &end) != 2 || maj > 255 || min > 255) {
                error_setg(errp, "release=%s: expected MAJOR.MINOR (0-255 each)", v);
                goto out;
            }
            f->release_major = maj;
            f->release_minor = min;
        }
        qemu_opt_get(o, "uefi");        /* QEMU's UEFI bit: no UEFI here, ignored */
    } else {
        smbios_take(o, "manufacturer", &f->manufacturer);
        smbios_take(o, "product", &f->product);
        smbios_take(o, "version", &f->version);
        smbios_take(o, "serial", &f->serial);
        smbios_take(o, "sku", &f->sku);
        smbios_take(o, "family", &f->family);
        if ((v = qemu_opt_get(o, "uuid"))) {
            if (!smbios_uuid_parse(v, f->uuid)) {
                error_setg(errp, "uuid=%s: not a UUID", v);
                goto out;
            }
            f->uuid_set = true;
        }
    }
    ok = qemu_opts_check_unused(o, errp);
out:
    qemu_opts_free(o);
    return ok;
}

static void smbios_type3(SMBiosBuilder *b, MachineState *ms)
{
    uint8_t *t = smbios_begin(b, 3, 0x16);

    t[5] = 1;                           /* other */
    t[9] = t[0xa] = t[0xb] = 3;         /* boot-up, power supply, thermal: safe */
    t[0xc] = 2;                         /* security: unknown */
    smbios_string(b, 4, SMBIOS_MANUFACTURER);
    smbios_string(b, 6, smbios_version(ms));
    smbios_end(b);
}

static void smbios_type4(SMBiosBuilder *b, MachineState *ms, unsigned socket)
{
    unsigned cores = ms->smp.cores * MAX(ms->smp.dies, 1);
    unsigned threads = cores * ms->smp.threads;
    uint8_t *t = smbios_begin(b, 4, 0x2a);
    g_autofree char *name = g_strdup_printf("CPU %u", socket);

    t[5] = 3;                           /* central processor */
    t[6] = 1;                           /* family: other */
    put16(t + 0x14, 2000);              /* max speed, MHz */
    put16(t + 0x16, 2000);              /* current speed */
    t[0x18] = 0x41;                     /* socket populated, CPU enabled */
    t[0x19] = 1;                        /* upgrade: other */
    put16(t + 0x1a, 0xffff);            /* no cache information */
    put16(t + 0x1c, 0xffff);
    put16(t + 0x1e, 0xffff);
    t[0x23] = MIN(cores, 255);
    t[0x24] = MIN(cores, 255);
    t[0x25] = MIN(threads, 255);
    t[0x26] = 0x02;                     /* characteristics: unknown */
    put16(t + 0x28, 1);                 /* family 2: other */
    smbios_string(b, 4, name);
    smbios_string(b, 7, SMBIOS_MANUFACTURER);
    smbios_string(b, 0x10, smbios_version(ms));
    smbios_end(b);
}

static void smbios_memory(SMBiosBuilder *b, MachineState *ms)
{
    uint64_t ram_kb = ms->ram_size >> 10;
    uint64_t ram_mb = ms->ram_size >> 20;
    unsigned ndimms = (ram_mb + SMBIOS_DIMM_MAX_MB - 1) / SMBIOS_DIMM_MAX_MB;
    uint16_t array = b->handle;
    uint8_t *t = smbios_begin(b, 16, 0x17);
    struct { uint64_t start, size; } blocks[2] = {
        { 0, ms->below_4g_mem_size }, { 0x100000000ULL, ms->above_4g_mem_size },
    };

    t[4] = 1;                           /* location: other */
    t[5] = 3;                           /* use: system memory */
    t[6] = 6;                           /* multi-bit ECC */
    if (ram_kb < 0x80000000ULL) {
        put32(t + 7, ram_kb);
    } else {
        put32(t + 7, 0x80000000u);
        put64(t + 0xf, ram_kb << 10);   /* extended: bytes */
    }
    put16(t + 0xb, 0xfffe);             /* no error information */
    put16(t + 0xd, ndimms);
    smbios_end(b);

    for (unsigned i = 0; i < ndimms; i++) {
        uint64_t mb = MIN(ram_mb - (uint64_t)i * SMBIOS_DIMM_MAX_MB, SMBIOS_DIMM_MAX_MB);
        g_autofree char *loc = g_strdup_printf("DIMM %u", i);
        t = smbios_begin(b, 17, 0x28);
        put16(t + 4, array);
        put16(t + 6, 0xfffe);
        put16(t + 8, 0xffff);           /* widths unknown */
        put16(t + 0xa, 0xffff);
        if (mb < 0x7fff) {
            put16(t + 0xc, mb);
        } else {
            put16(t + 0xc, 0x7fff);
            put32(t + 0x1c, mb);
        }
        t[0xe] = 9;                     /* DIMM */
        t[0x12] = 7;                    /* RAM */
        put16(t + 0x13, 2);             /* detail: other */
        smbios_string(b, 0x10, loc);
        smbios_string(b, 0x17, SMBIOS_MANUFACTURER);
        smbios_end(b);
    }

    for (unsigned i = 0; i < G_N_ELEMENTS(blocks); i++) {
        uint64_t start_kb = blocks[i].start >> 10, end_kb;
        if (!blocks[i].size) {
            continue;
        }
        end_kb = ((blocks[i].start + blocks[i].size) >> 10) - 1;
        t = smbios_begin(b, 19, 0x1f);
        if (end_kb < 0xffffffffULL) {
            put32(t + 4, start_kb);
            put32(t + 8, end_kb);
        } else {
            put32(t + 4, 0xffffffffu);
            put32(t + 8, 0xffffffffu);
            put64(t + 0xf, blocks[i].start);
            put64(t + 0x17, blocks[i].start + blocks[i].size - 1);
        }
        put16(t + 0xc, array);
        t[0xe] = 1;                     /* partition width */
        smbios_end(b);
    }
}

static uint8_t smbios_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--) {
        sum += *p++;
    }
    return -sum;
}

bool smbios_build_fw_cfg(FWCfgState *s, MachineState *ms, Error **errp)
{
    SMBiosBuilder b = { .tables = g_byte_array_new(), .handle = 0x100 };
    unsigned sockets = MAX(ms->smp.sockets, 1);
    uint8_t eps[SMBIOS_EPS_SIZE] = { 0 };
    bool ok;

    if (ms->smbios && ms->smbios->type0) {
        smbios_type0(&b, ms->smbios);
    }
    smbios_type1(&b, ms);
    smbios_type3(&b, ms);
    for (unsigned i = 0; i < sockets; i++) {
        smbios_type4(&b, ms, i);
    }
    smbios_memory(&b, ms);
    smbios_begin(&b, 32, 0x0b);         /* boot status 0: no errors */
    smbios_end(&b);
    smbios_begin(&b, 127, 4);
    smbios_end(&b);
    if (b.tables->len > 0xffff) {
        error_setg(errp, "SMBIOS tables: %u bytes do not fit an SMBIOS 2.8 entry point",
                   b.tables->len);
        g_byte_array_free(b.tables, TRUE);
        return false;
    }

    memcpy(eps, "_SM_", 4);
    eps[5] = SMBIOS_EPS_SIZE;
    eps[6] = 2;                         /* version 2.8 */
    eps[7] = 8;
    put16(eps + 8, b.max_size);
    memcpy(eps + 0x10, "_DMI_", 5);
    put16(eps + 0x16, b.tables->len);
    put32(eps + 0x18, 0);               /* address: the firmware's to set */
    put16(eps + 0x1c, b.count);
    eps[0x1e] = 0x28;                   /* BCD revision 2.8 */
    eps[0x15] = smbios_checksum(eps + 0x10, SMBIOS_EPS_SIZE - 0x10);
    eps[4] = smbios_checksum(eps, SMBIOS_EPS_SIZE);
    ok = fw_cfg_add_file(s, "etc/smbios/smbios-tables", b.tables->data, b.tables->len, errp) &&
         fw_cfg_add_file(s, "etc/smbios/smbios-anchor", eps, sizeof(eps), errp);
    g_byte_array_free(b.tables, TRUE);
    return ok;
}
