/*
 * Collecting what devices say about themselves (include/hw/platform-desc.h).
 */
#include <string.h>
#include "hw/platform-desc.h"

void platform_desc_init(PlatformDesc *pd)
{
    memset(pd, 0, sizeof(*pd));
    pd->aml_root = g_byte_array_new();
    pd->aml_sb = g_byte_array_new();
    pd->files = g_ptr_array_new();
    pd->boot = g_array_new(FALSE, FALSE, sizeof(PlatformBootEntry));
}

void platform_desc_free(PlatformDesc *pd)
{
    g_byte_array_free(pd->aml_root, TRUE);
    g_byte_array_free(pd->aml_sb, TRUE);
    for (guint i = 0; i < pd->files->len; i++) {
        PlatformFile *f = g_ptr_array_index(pd->files, i);
        g_free(f->name);
        g_byte_array_free(f->data, TRUE);
        g_free(f);
    }
    g_ptr_array_free(pd->files, TRUE);
    for (guint i = 0; i < pd->boot->len; i++) {
        g_free(g_array_index(pd->boot, PlatformBootEntry, i).path);
    }
    g_array_free(pd->boot, TRUE);
    memset(pd, 0, sizeof(*pd));
}

void platform_add_ioapic(PlatformDesc *pd, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    if (pd->nr_ioapics < PLATFORM_MAX_IOAPICS) {
        pd->ioapics[pd->nr_ioapics++] = (PlatformIOAPIC) { id, addr, gsi_base };
    }
}

void platform_add_override(PlatformDesc *pd, uint8_t isa_irq, uint32_t gsi, uint16_t flags)
{
    unsigned i;

    for (i = 0; i < pd->nr_overrides; i++) {
        if (pd->overrides[i].isa_irq == isa_irq) {
            break;
        }
    }
    if (i == G_N_ELEMENTS(pd->overrides)) {
        return;
    }
    pd->overrides[i] = (PlatformOverride) { isa_irq, gsi, flags };
    if (i == pd->nr_overrides) {
        pd->nr_overrides++;
    }
}

uint32_t platform_isa_irq_to_gsi(const PlatformDesc *pd, uint8_t isa_irq, uint16_t *flags)
{
    for (unsigned i = 0; i < pd->nr_overrides; i++) {
        if (pd->overrides[i].isa_irq == isa_irq) {
            if (flags) {
                *flags = pd->overrides[i].flags;
            }
            return pd->overrides[i].gsi;
        }
    }
    if (flags) {
        *flags = MPS_INTI_CONFORMS;
    }
    return isa_irq;
}

void platform_add_file(PlatformDesc *pd, const char *name, const void *data, size_t len)
{
    PlatformFile *f = g_new0(PlatformFile, 1);

    f->name = g_strdup(name);
    f->data = g_byte_array_sized_new(len);
    g_byte_array_append(f->data, data, len);
    g_ptr_array_add(pd->files, f);
}

void platform_add_boot_entry(PlatformDesc *pd, int32_t bootindex, const char *path)
{
    PlatformBootEntry e = { .bootindex = bootindex, .path = g_strdup(path) };

    g_array_append_val(pd->boot, e);
}

static gint boot_cmp(gconstpointer a, gconstpointer b)
{
    const PlatformBootEntry *x = a, *y = b;

    return x->bootindex < y->bootindex ? -1 : x->bootindex > y->bootindex;
}

char *platform_bootorder(const PlatformDesc *pd)
{
    g_autoptr(GArray) sorted = NULL;
    GString *s;

    if (!pd->boot->len && !pd->boot_strict) {
        return NULL;
    }
    sorted = g_array_copy(pd->boot);
    g_array_sort(sorted, boot_cmp);     /* stable: equal indexes keep device order */
    s = g_string_new(NULL);
    for (guint i = 0; i < sorted->len; i++) {
        g_string_append_printf(s, "%s%s", i ? "\n" : "",
                               g_array_index(sorted, PlatformBootEntry, i).path);
    }
    if (pd->boot_strict) {
        g_string_append_printf(s, "%sHALT", sorted->len ? "\n" : "");
    }
    return g_string_free(s, FALSE);
}

/* An ISA IRQ claimed level triggered (the SCI) needs an override saying
 * so, unless a device already gave one for it. */
static void overrides_from_claims(PlatformDesc *pd, DeviceState *dev)
{
    for (guint i = 0; i < qdev_resource_count(dev); i++) {
        const DeviceResource *r = qdev_resource(dev, i);
        uint16_t flags;
        uint32_t gsi;

        if (r->kind != DEV_RES_IRQ || r->base > 15 || !(r->flags & DEV_RES_IRQ_LEVEL)) {
            continue;
        }
        gsi = platform_isa_irq_to_gsi(pd, r->base, &flags);
        if (flags & MPS_INTI_LEVEL) {
            continue;
        }
        platform_add_override(pd, r->base, gsi, MPS_INTI_LEVEL |
                              ((r->flags & DEV_RES_IRQ_ACTIVE_LOW) ? MPS_INTI_ACTIVE_LOW
                                                                   : MPS_INTI_ACTIVE_HIGH));
    }
}

void platform_desc_collect(PlatformDesc *pd)
{
    GPtrArray *devs = qdev_all_devices();       /* not ours to free */

    for (guint i = 0; i < devs->len; i++) {
        DeviceState *dev = g_ptr_array_index(devs, i);
        if (dev->realized && dev->klass->describe) {
            dev->klass->describe(dev, pd);
        }
    }
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *dev = g_ptr_array_index(devs, i);
        if (!dev->realized) {
            continue;
        }
        overrides_from_claims(pd, dev);
        if (dev->parent_bus && !strcmp(dev->parent_bus->type, "ISA")) {
            pd->iapc_boot_arch |= PLATFORM_IAPC_LEGACY_DEVICES;
        }
    }
}
