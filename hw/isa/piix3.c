/*
 * PIIX3 PCI-to-ISA bridge ("PIIX3", 8086:7000, class 0x0601), function
 * 00:01.0 of machine pc: the PCI interrupt router.
 *
 * 82371SB datasheet, 2.2 (function 0 configuration registers):
 *   0x4c       IORT    ISA I/O recovery timer          (reset 0x4d)
 *   0x4e       XBCS    X-bus chip select               (reset 0x03)
 *   0x60-0x63  PIRQRC[A:D]  PIRQx route control        (reset 0x80)
 *                      bit 7 IRQROUTEEN#: 1 = not routed to the ISA IRQ
 *                      bits 3:0 the ISA IRQ (the datasheet allows
 *                      3-7, 9-12, 14, 15; reserved 0-2, 8, 13)
 *   0x69       TOM     top of memory                   (reset 0x02)
 *   0x70       MBIRQ0  motherboard device IRQ route    (reset 0x80)
 *   0x76-0x77  MBDMA   motherboard DMA                 (reset 0x0c)
 *   0xa0       SMICNTL                                 (reset 0x08)
 *   0xa8       SMIREQ? / fast-off timer                (reset 0x0f)
 *
 * PCI INTx: slot s pin p (0 = INTA#) drives PIRQ (s + p - 1) & 3 (the
 * board's swizzle, as QEMU and SeaBIOS compute it).  Several devices on
 * one PIRQ OR together (the bus counts them).  A PIRQ whose route byte is
 * below 16 drives that ISA IRQ (output "isa-irq"), so the PIC sees it,
 * level triggered once the guest sets the IRQ in the ELCR (0x4d0/0x4d1,
 * kept by the i8259 model); PIRQs routed to the same IRQ OR together.
 * As QEMU does, any IRQ 0-15 is accepted (even the reserved ones) and any
 * other value with bit 7 clear (0x10-0x7f) routes nowhere.  Each PIRQ also
 * drives its own line of output "pirq-gsi", which the machine wires to
 * IOAPIC GSIs 16-19 (the DSDT's APIC-mode _PRT).
 *
 * As QEMU, every register from 0x40 up reads back as written.
 */
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/isa/piix3.h"
#include "hw/vmstate.h"
#include "hw/irq.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"

#define PIIX3_IORT          0x4c
#define PIIX3_XBCS          0x4e
#define PIIX3_TOM           0x69
#define PIIX3_MBIRQ0        0x70
#define PIIX3_MBDMA0        0x76
#define PIIX3_MBDMA1        0x77
#define PIIX3_SMICNTL       0xa0
#define PIIX3_FASTOFF       0xa8
#define PIIX3_NUM_ISA_IRQS  16

#define PCI_CLASS_BRIDGE_ISA 0x0601

typedef struct PIIX3State {
    PCIDevice parent;
    qemu_irq isa_irq[PIIX3_NUM_ISA_IRQS];
    qemu_irq pirq_gsi[PIIX3_NUM_PIRQS];
    /* Levels of the PIRQ lines (from the bus) and what we drive on the
     * ISA IRQs; both follow from the bus and the config space, and are
     * recomputed after loadvm. */
    uint8_t pirq_level;
    uint16_t isa_level;
} PIIX3State;

/* The ISA IRQ a PIRQ is routed to, or -1. */
static int piix3_pirq_route(PIIX3State *s, int pirq)
{
    uint8_t v = s->parent.config[PIIX3_PIRQRC + pirq];

    return v < PIIX3_NUM_ISA_IRQS ? v : -1;
}

static void piix3_update_isa_irqs(PIIX3State *s)
{
    uint16_t level = 0;

    for (int i = 0; i < PIIX3_NUM_PIRQS; i++) {
        int irq = piix3_pirq_route(s, i);
        if (irq >= 0 && (s->pirq_level & (1u << i))) {
            level |= 1u << irq;
        }
    }
    for (int irq = 0; irq < PIIX3_NUM_ISA_IRQS; irq++) {
        if ((level ^ s->isa_level) & (1u << irq)) {
            qemu_set_irq(s->isa_irq[irq], !!(level & (1u << irq)));
        }
    }
    s->isa_level = level;
}

static int piix3_map_irq(PCIDevice *dev, int pin)
{
    return (PCI_SLOT(dev->devfn) + pin - 1) & 3;
}

static void piix3_set_irq(void *opaque, int pirq, int level)
{
    PIIX3State *s = opaque;
    uint8_t bit = 1u << pirq;

    if (pirq < 0 || pirq >= PIIX3_NUM_PIRQS || !!(s->pirq_level & bit) == !!level) {
        return;
    }
    s->pirq_level = level ? s->pirq_level | bit : s->pirq_level & ~bit;
    qemu_set_irq(s->pirq_gsi[pirq], level);
    piix3_update_isa_irqs(s);
}

static void piix3_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(d, addr, val, len);
    if (addr < PIIX3_PIRQRC + PIIX3_NUM_PIRQS && addr + len > PIIX3_PIRQRC) {
        piix3_update_isa_irqs((PIIX3State *)d);
    }
}

static void piix3_reset(PCIDevice *d)
{
    uint8_t *c = d->config;

    memset(c + PCI_CONFIG_HEADER_SIZE, 0, PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    c[PIIX3_IORT] = 0x4d;
    c[PIIX3_XBCS] = 0x03;
    memset(c + PIIX3_PIRQRC, PIIX3_PIRQRC_DISABLE, PIIX3_NUM_PIRQS);
    c[PIIX3_TOM] = 0x02;
    c[PIIX3_MBIRQ0] = 0x80;
    c[PIIX3_MBDMA0] = 0x0c;
    c[PIIX3_MBDMA1] = 0x0c;
    c[PIIX3_SMICNTL] = 0x08;
    c[PIIX3_FASTOFF] = 0x0f;
    piix3_update_isa_irqs((PIIX3State *)d);
}

static void piix3_realize(PCIDevice *d, Error **errp)
{
    PIIX3State *s = (PIIX3State *)d;

    if (d->devfn != PIIX3_DEVFN) {
        error_setg(errp, "PIIX3: must be at PCI address 01.0 (the board routes INTx through it)");
        return;
    }
    memset(d->wmask + PCI_CONFIG_HEADER_SIZE, 0xff,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    qdev_init_gpio_out_named(&d->qdev, s->isa_irq, PIIX3_ISA_IRQ_LINES, PIIX3_NUM_ISA_IRQS);
    qdev_init_gpio_out_named(&d->qdev, s->pirq_gsi, PIIX3_PIRQ_GSI_LINES, PIIX3_NUM_PIRQS);
    /* The bridge is the bus's INTx router. */
    pci_bus_irqs(d->bus, piix3_map_irq, piix3_set_irq, s);
}

static void piix3_exit(PCIDevice *d)
{
    if (d->bus->set_irq == piix3_set_irq) {
        pci_bus_irqs(d->bus, NULL, NULL, NULL);
    }
}

/* ---- ACPI: the interrupt links and the root bus's _PRT ---------------- */

/* IRQs a PIC-mode link offers (QEMU's choice) and the links' flags:
 * level triggered, active high, shareable. */
static const uint32_t piix3_link_irqs[] = { 5, 10, 11 };
#define PIIX3_LINK_FLAGS    AML_RES_EXT_IRQ_SHARED
#define PIIX3_GSI_BASE      16

static void piix3_res_template(GByteArray *out, const uint32_t *irqs, unsigned n)
{
    g_autoptr(GByteArray) r = g_byte_array_new();

    aml_res_ext_irq(r, PIIX3_LINK_FLAGS, irqs, n);
    aml_byte(r, 0x79);                  /* EndTag, checksum 0 */
    aml_byte(r, 0);
    aml_buffer(out, r);
}

/* "PRQn": the PIRQRC byte of PIRQ n, through the Field below. */
static void piix3_prq(GByteArray *a, int n)
{
    char name[5];

    g_snprintf(name, sizeof(name), "PRQ%d", n);
    aml_namestring(a, name);
}

/*
 * Device (LNKx) (PNP0C0F, PIC mode): PIRQ n as an ISA IRQ.
 *   _STA: 0x09 (present, disabled) with PRQn bit 7 set, else 0x0B
 *   _DIS: Or (PRQn, 0x80, PRQn)
 *   _CRS: the IRQ in PRQn (0 when it is not 0-15)
 *   _SRS: PRQn = the IRQ of the descriptor the OS passes
 */
static void piix3_link_device(GByteArray *scope, int n)
{
    g_autoptr(GByteArray) dev = g_byte_array_new();
    g_autoptr(GByteArray) m = g_byte_array_new();
    g_autoptr(GByteArray) pred = g_byte_array_new();
    g_autoptr(GByteArray) body = g_byte_array_new();
    static const uint32_t zero = 0;
    char name[5];

    aml_name_eisaid(dev, "_HID", "PNP0C0F");
    aml_name_integer(dev, "_UID", n);
    aml_name(dev, "_PRS");
    piix3_res_template(dev, piix3_link_irqs, G_N_ELEMENTS(piix3_link_irqs));

    /* _STA */
    aml_byte(pred, AML_OP_AND);
    piix3_prq(pred, n);
    aml_integer(pred, PIIX3_PIRQRC_DISABLE);
    aml_byte(pred, AML_OP_NULL_NAME);
    aml_byte(body, AML_OP_RETURN);
    aml_integer(body, 0x09);
    aml_if(m, pred, body);
    aml_byte(m, AML_OP_RETURN);
    aml_integer(m, 0x0b);
    aml_method(dev, "_STA", 0, false, m);

    /* _DIS */
    g_byte_array_set_size(m, 0);
    aml_byte(m, AML_OP_OR);
    piix3_prq(m, n);
    aml_integer(m, PIIX3_PIRQRC_DISABLE);
    piix3_prq(m, n);
    aml_method(dev, "_DIS", 0, false, m);

    /* _CRS: Name (PRR0, template {0}); CreateDWordField (PRR0, 5, PRRI);
     * If (LLess (PRQn, 16)) { Store (PRQn, PRRI) }; Return (PRR0) */
    g_byte_array_set_size(m, 0);
    g_byte_array_set_size(pred, 0);
    g_byte_array_set_size(body, 0);
    aml_name(m, "PRR0");
    piix3_res_template(m, &zero, 1);
    aml_byte(m, AML_OP_CREATE_DWORD_FIELD);
    aml_namestring(m, "PRR0");
    aml_integer(m, 5);
    aml_namestring(m, "PRRI");
    aml_byte(pred, AML_OP_LLESS);
    piix3_prq(pred, n);
    aml_integer(pred, 16);
    aml_byte(body, AML_OP_STORE);
    piix3_prq(body, n);
    aml_namestring(body, "PRRI");
    aml_if(m, pred, body);
    aml_byte(m, AML_OP_RETURN);
    aml_namestring(m, "PRR0");
    aml_method(dev, "_CRS", 0, true, m);

    /* _SRS: CreateDWordField (Arg0, 5, PRRI); Store (PRRI, PRQn) */
    g_byte_array_set_size(m, 0);
    aml_byte(m, AML_OP_CREATE_DWORD_FIELD);
    aml_byte(m, AML_OP_ARG0);
    aml_integer(m, 5);
    aml_namestring(m, "PRRI");
    aml_byte(m, AML_OP_STORE);
    aml_namestring(m, "PRRI");
    piix3_prq(m, n);
    aml_method(dev, "_SRS", 1, true, m);

    g_snprintf(name, sizeof(name), "LNK%c", 'A' + n);
    aml_device(scope, name, dev);
}

/* Device (GSIx) (PNP0C0F, APIC mode): PIRQ n as IOAPIC GSI 16 + n, fixed. */
static void piix3_gsi_link_device(GByteArray *scope, int n)
{
    g_autoptr(GByteArray) dev = g_byte_array_new();
    g_autoptr(GByteArray) m = g_byte_array_new();
    uint32_t gsi = PIIX3_GSI_BASE + n;
    char name[5];

    aml_name_eisaid(dev, "_HID", "PNP0C0F");
    aml_name_integer(dev, "_UID", PIIX3_NUM_PIRQS + n);
    aml_name(dev, "_PRS");
    piix3_res_template(dev, &gsi, 1);
    aml_name(dev, "_CRS");
    piix3_res_template(dev, &gsi, 1);
    aml_method(dev, "_SRS", 1, false, m);     /* nothing to program */
    g_snprintf(name, sizeof(name), "GSI%c", 'A' + n);
    aml_device(scope, name, dev);
}

/* Name (NAME, Package () { Package () { slot << 16 | 0xffff, pin, link, 0 }
 * ... }) for every slot and pin, links named prefix + 'A'..'D'. */
static void piix3_prt_package(GByteArray *scope, const char *name, const char *prefix)
{
    g_autoptr(GByteArray) elems = g_byte_array_new();

    for (int slot = 0; slot < 32; slot++) {
        for (int pin = 0; pin < 4; pin++) {
            g_autoptr(GByteArray) e = g_byte_array_new();
            g_autofree char *link = g_strdup_printf("ISA_.%s%c", prefix,
                                                    'A' + ((slot + pin - 1) & 3));
            aml_integer(e, (uint32_t)slot << 16 | 0xffff);
            aml_integer(e, pin);
            aml_namestring(e, link);
            aml_integer(e, 0);
            aml_package(elems, 4, e);
        }
    }
    aml_name(scope, name);
    /* 128 entries: NumElements is a byte; fine up to 255 */
    aml_package(scope, 128, elems);
}

/*
 * In \_SB.PCI0: Device (ISA_) at 01.0 with the PIRQRC registers as a PCI
 * configuration Field and the links LNKA-LNKD (PIC mode) and GSIA-GSID
 * (APIC mode); _PRT returns the APIC-mode table once the OS has called
 * \_PIC (1), as QEMU's q35 does, the PIC-mode one otherwise.  At the root:
 * PICF and \_PIC.
 */
static void piix3_describe(DeviceState *dev, PlatformDesc *pd)
{
    static const char *const prq[PIIX3_NUM_PIRQS] = { "PRQ0", "PRQ1", "PRQ2", "PRQ3" };
    static const uint8_t prq_bits[PIIX3_NUM_PIRQS] = { 8, 8, 8, 8 };
    g_autoptr(GByteArray) pci0 = g_byte_array_new();
    g_autoptr(GByteArray) isa = g_byte_array_new();
    g_autoptr(GByteArray) m = g_byte_array_new();
    g_autoptr(GByteArray) pred = g_byte_array_new();
    g_autoptr(GByteArray) body = g_byte_array_new();

    aml_name_integer(isa, "_ADR", 0x00010000);
    aml_opregion(isa, "PIRQ", AML_REGION_PCI_CONFIG, PIIX3_PIRQRC, PIIX3_NUM_PIRQS);
    aml_field(isa, "PIRQ", AML_FIELD_BYTE_ACC, prq, prq_bits, PIIX3_NUM_PIRQS);
    for (int i = 0; i < PIIX3_NUM_PIRQS; i++) {
        piix3_link_device(isa, i);
    }
    for (int i = 0; i < PIIX3_NUM_PIRQS; i++) {
        piix3_gsi_link_device(isa, i);
    }
    aml_device(pci0, "ISA_", isa);
    piix3_prt_package(pci0, "PRTP", "LNK");
    piix3_prt_package(pci0, "PRTA", "GSI");
    aml_namestring(pred, "\\PICF");
    aml_byte(body, AML_OP_RETURN);
    aml_namestring(body, "PRTA");
    aml_if(m, pred, body);
    aml_byte(m, AML_OP_RETURN);
    aml_namestring(m, "PRTP");
    aml_method(pci0, "_PRT", 0, false, m);
    aml_scope(pd->aml_sb, "PCI0", pci0);

    /* Name (PICF, 0); Method (_PIC, 1) { Store (Arg0, PICF) } */
    aml_name_integer(pd->aml_root, "PICF", 0);
    g_byte_array_set_size(m, 0);
    aml_byte(m, AML_OP_STORE);
    aml_byte(m, AML_OP_ARG0);
    aml_namestring(m, "PICF");
    aml_method(pd->aml_root, "_PIC", 1, false, m);
}

/* The lines we drive follow from the loaded routing and PIRQ levels:
 * drive every one of them again. */
static int piix3_post_load(void *opaque, int version_id)
{
    PIIX3State *s = opaque;

    for (int i = 0; i < PIIX3_NUM_PIRQS; i++) {
        qemu_set_irq(s->pirq_gsi[i], !!(s->pirq_level & (1u << i)));
    }
    s->isa_level = 0;
    for (int irq = 0; irq < PIIX3_NUM_ISA_IRQS; irq++) {
        qemu_set_irq(s->isa_irq[irq], 0);
    }
    piix3_update_isa_irqs(s);
    return 0;
}

static const VMStateDescription vmstate_piix3 = {
    .name = "PIIX3",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = piix3_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent, PIIX3State),
        VMSTATE_UINT8(pirq_level, PIIX3State),
        VMSTATE_END_OF_LIST(),
    },
};

static const Property piix3_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass piix3_class = {
    PCI_DEVICE_CLASS_INIT_INTERNAL(PIIX3_TYPE, "PIIX3 PCI-to-ISA bridge (PCI interrupt router)",
                                   PIIX3State, piix3_props, .vmsd = &vmstate_piix3,
                                   .describe = piix3_describe,
                                   .category = DEVICE_CATEGORY_BRIDGE),
    .vendor_id = 0x8086,
    .device_id = 0x7000,
    .class_id = PCI_CLASS_BRIDGE_ISA,
    /* QEMU's default subsystem, as on the host bridge */
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .realize = piix3_realize,
    .exit = piix3_exit,
    .reset = piix3_reset,
    .config_write = piix3_config_write,
};

PCI_DEVICE_CLASS_REGISTER(piix3_class)
