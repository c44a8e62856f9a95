/*
 * The PC machine ("pc"): the one place that knows which devices a PC has
 * and how they connect.  RAM below the PCI hole and above 4 GiB, the ISA
 * bus with its legacy devices, the interrupt controller inputs, fw_cfg,
 * the vCPUs, and booting: SeaBIOS from the reset vector without -kernel
 * (docs/firmware.md), a kernel directly with it (docs/direct-boot.md).
 */
#include <string.h>
#include "hw/machine.h"
#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/pci-host/i440fx.h"
#include "hw/isa/piix3.h"
#include "hw/acpi/pm.h"
#include "hw/acpi/piix4-pm.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "hw/input/i8042.h"
#include "hw/isa/port92.h"
#include "hw/i386/boot.h"
#include "hw/i386/fw_cfg.h"
#include "hw/i386/firmware.h"
#include "hw/i386/x86-irq.h"
#include "hw/timer/mc146818rtc.h"
#include "hw/timer/hpet.h"
#include "hw/timer/i8254.h"
#include "hw/platform-desc.h"
#include "hw/dma/i8257.h"
#include "hw/block/fdc.h"
#include "accel/accel.h"
#include "system/system.h"
#include "system/runstate.h"
#include "target/i386/cpu-model.h"

#define PC_PCI_HOLE_START   0xc0000000ULL   /* RAM below 4 GiB ends here at most */
#define PC_LOWMEM_LIMIT     0xe0000000ULL   /* RAM that still fits whole below the hole */
#define PC_PCI_MMIO_END     0xfec00000ULL   /* 32-bit BARs go in [hole start, here) */
#define PC_PCI_IO_START     0xc000          /* I/O BARs go in [here, 64 KiB) */
#define PC_PCI_SPACE_SIZE   (1ULL << 46)

typedef struct PCMachineState {
    MemoryRegion ram_below_4g, ram_above_4g;
    DeviceState *rtc;
    ISABus *isa;
    MemoryRegion pci_mem;       /* PCI memory space, under RAM and devices */
    PCIBus *pci;
    PCIDevice *i440fx;          /* function 00.0: PAM and SMRAM */
    PCIDevice *piix3;           /* function 01.0: the INTx router */
    PCIDevice *ide;             /* PIIX3 IDE */
    DeviceState *fdc;           /* isa-fdc */
    DeviceState *hpet;          /* or NULL (-machine hpet=off) */
    bool firmware;              /* SeaBIOS (or -bios) runs: no direct boot setup */
    unsigned resets;            /* machine resets so far (the first is the power-on) */
    DeviceState *pic;           /* userspace 8259 master, or NULL */
    qemu_irq pic_in[I8259_NUM_IRQS];
    qemu_irq ioapic_in[IOAPIC_NUM_PINS];
} PCMachineState;

static PCMachineState pcms;

static DeviceState *pc_isa_device(const char *type, Error **errp)
{
    DeviceState *dev = qdev_new(type, errp);

    if (dev && !qdev_realize(dev, pcms.isa->bus, errp)) {
        qdev_free(dev);
        return NULL;
    }
    return dev;
}

static bool pc_memory_init(MachineState *ms, Error **errp)
{
    uint64_t below = ms->ram_size >= PC_LOWMEM_LIMIT ? PC_PCI_HOLE_START : ms->ram_size;

    ms->below_4g_mem_size = below;
    ms->above_4g_mem_size = ms->ram_size - below;
    ms->ram = g_new0(MemoryRegion, 1);
    if (!memory_region_init_ram(ms->ram, "pc.ram", ms->ram_size, errp)) {
        error_prepend(errp, "-m %" G_GUINT64_FORMAT "M: ", ms->ram_size >> 20);
        return false;
    }
    memory_region_init_alias(&pcms.ram_below_4g, "ram-below-4g", ms->ram, 0, below);
    memory_region_add_subregion(get_system_memory(), 0, &pcms.ram_below_4g);
    if (ms->above_4g_mem_size) {
        memory_region_init_alias(&pcms.ram_above_4g, "ram-above-4g", ms->ram, below,
                                 ms->above_4g_mem_size);
        memory_region_add_subregion(get_system_memory(), 0x100000000ULL, &pcms.ram_above_4g);
    }
    return true;
}

/* GSI n with userspace controllers: ISA IRQs 0-15 reach the PIC pair
 * and the IOAPIC (which takes ISA IRQ 0 on its pin 2 itself), GSIs 16-23
 * the IOAPIC only.  ISA IRQ 2 does not reach the PIC: the master's IR2 is
 * the slave's INT. */
static void pc_gsi_set(void *opaque, int n, int level)
{
    if (n < I8259_NUM_IRQS && n != 2) {
        qemu_set_irq(pcms.pic_in[n], level);
    }
    qemu_set_irq(pcms.ioapic_in[n], level);
}

/* The HPET (-machine hpet=on|off; default on, as QEMU).  Its outputs drive
 * the GSIs; the userspace PIT's IRQ 0 and the RTC's IRQ 8 pass through it,
 * so that LegacyReplacement can mask them; an in-kernel PIT is told to
 * stop by pc_pit_init's wiring instead. */
static bool pc_hpet_init(MachineState *ms, Error **errp)
{
    DeviceState *hpet;

    if (ms->hpet == 0) {
        return true;
    }
    hpet = qdev_new(HPET_TYPE, errp);
    if (!hpet) {
        return false;
    }
    qdev_set_machine_child(hpet, "hpet");
    if (!qdev_realize(hpet, NULL, errp)) {
        return false;
    }
    for (int i = 0; i < HPET_NUM_LINES; i++) {
        qdev_connect_gpio_out(hpet, i, ms->gsi[i]);
    }
    pcms.hpet = hpet;
    pcms.isa->irqs[0] = qdev_get_gpio_in_named(hpet, HPET_LEGACY_IN, HPET_LEGACY_PIT);
    pcms.isa->irqs[8] = qdev_get_gpio_in_named(hpet, HPET_LEGACY_IN, HPET_LEGACY_RTC);
    return true;
}

static bool pc_irq_init(MachineState *ms, Error **errp)
{
    bool kernel = accel_irqchip() == ACCEL_IRQCHIP_FULL;
    const char *type = kernel ? "kvm-ioapic" : IOAPIC_TYPE;
    DeviceState *ioapic = qdev_new(type, errp);

    if (!ioapic) {
        return false;
    }
    qdev_set_machine_child(ioapic, "ioapic");
    if (!qdev_realize(ioapic, NULL, errp)) {
        return false;
    }
    for (int i = 0; i < 24; i++) {
        ms->gsi[i] = qdev_get_gpio_in(ioapic, i);
    }
    /* The accelerator's irqchip has its own PIC; otherwise build ours. */
    if (!kernel) {
        pcms.pic = i8259_init(pcms.isa, x86_pic_intr_line(), "i8259", pcms.pic_in, errp);
        if (!pcms.pic) {
            return false;
        }
        x86_irq_set_pic(pcms.pic, pic_read_irq);
        for (int i = 0; i < 24; i++) {
            pcms.ioapic_in[i] = ms->gsi[i];
            ms->gsi[i] = qemu_allocate_irq(pc_gsi_set, NULL, i);
        }
    }
    for (int i = 0; i < 16; i++) {
        pcms.isa->irqs[i] = ms->gsi[i];
    }
    return pc_hpet_init(ms, errp);
}

/* The PIT is in userspace unless the accelerator keeps one in the kernel;
 * port 0x61 reaches counter 2 of whichever exists.  With -machine pit=off
 * there is neither, and no port 0x61 either (QEMU then has no pcspk: the
 * port reads 0xff). */
static bool pc_pit_init(MachineState *ms, Error **errp)
{
    DeviceState *pit, *port61;

    if (ms->no_pit) {
        return true;
    }
    if (accel_irqchip() == ACCEL_IRQCHIP_FULL) {
        pit = current_accel->create_pit ? current_accel->create_pit(errp) : NULL;
        if (!pit && current_accel->create_pit) {
            return false;
        }
    } else {
        pit = pc_isa_device("isa-pit", errp);
        if (!pit) {
            return false;
        }
    }
    /* The PIT hears when the HPET's LegacyReplacement routing takes IRQ 0
     * over: KVM's stops raising it, the userspace one stops following
     * counter 0's edges with a timer. */
    if (pit && pcms.hpet && qdev_get_gpio_in_named(pit, PIT_HPET_LEGACY_IN, 0)) {
        qdev_connect_gpio_out_named(pcms.hpet, HPET_LEGACY_MODE_OUT, 0,
                                    qdev_get_gpio_in_named(pit, PIT_HPET_LEGACY_IN, 0));
    }
    port61 = qdev_new("port61", errp);
    if (!port61) {
        return false;
    }
    if ((pit && !qdev_prop_parse(port61, "pit", pit->canonical_path, errp)) ||
        !qdev_realize(port61, pcms.isa->bus, errp)) {
        qdev_free(port61);
        return false;
    }
    return true;
}

/* -nographic and no video card (we have none): SeaBIOS shows its screen
 * on COM1 ("sercon"), as QEMU asks it to with etc/sercon-port. */
static bool pc_fw_cfg_sercon(MachineState *ms, Error **errp)
{
    uint16_t port = GUINT16_TO_LE(0x3f8);

    return !display_nographic || !serial_hds[0] ||
           fw_cfg_add_file(ms->fw_cfg, "etc/sercon-port", &port, sizeof(port), errp);
}

static bool pc_devices_init(MachineState *ms, Error **errp)
{
    static const char *const legacy[] = { "i8042", "port92", "ioport80", "pc-reset-control" };

    pcms.rtc = pc_isa_device("mc146818rtc", errp);
    if (!pcms.rtc) {
        return false;
    }
    rtc_set_pc_memory(pcms.rtc, ms->below_4g_mem_size, ms->above_4g_mem_size, ms->smp.cpus);
    if (!pc_pit_init(ms, errp)) {
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(legacy); i++) {
        DeviceState *dev;
        if (!device_class_find(legacy[i])) {
            continue;       /* not built in this configuration */
        }
        dev = pc_isa_device(legacy[i], errp);
        if (!dev) {
            return false;
        }
        /* A20: port 0x92 drives input 0, the i8042 output port input 1. */
        if (!strcmp(legacy[i], "port92")) {
            qdev_connect_gpio_out_named(dev, PORT92_A20_LINE, 0, x86_a20_input(0));
        } else if (!strcmp(legacy[i], "i8042")) {
            qdev_connect_gpio_out_named(dev, I8042_A20_LINE, 0, x86_a20_input(1));
        }
    }
    for (int i = 0; i < MAX_SERIAL_PORTS; i++) {
        DeviceState *dev;
        if (!serial_hds[i]) {
            continue;
        }
        dev = qdev_new("isa-serial", errp);
        if (!dev || !qdev_prop_set_uint(dev, "index", i, errp) ||
            !qdev_prop_set_string(dev, "chardev", serial_hds[i]->label, errp) ||
            !qdev_realize(dev, pcms.isa->bus, errp)) {
            return false;
        }
    }
    ms->fw_cfg = fw_cfg_create(ms, errp);
    if (!ms->fw_cfg || !pc_fw_cfg_sercon(ms, errp)) {
        return false;
    }
    /* -kernel through SeaBIOS: our linuxboot option ROM loads it */
    return !pcms.firmware || !ms->kernel_filename || firmware_add_linuxboot(ms, errp);
}

/* APIC IDs follow the -smp topology (thread, core, die, package fields). */
static bool pc_cpus_init(MachineState *ms, Error **errp)
{
    X86Topology topo = { ms->smp.sockets, ms->smp.dies, ms->smp.cores, ms->smp.threads };

    cpus = g_ptr_array_new();
    for (unsigned i = 0; i < ms->smp.cpus; i++) {
        CPUState *cpu = g_new0(CPUState, 1);
        cpu->index = i;
        cpu->apic_id = x86_apic_id_from_index(&topo, i);
        g_ptr_array_add(cpus, cpu);
        if (current_accel->vcpu_create && !current_accel->vcpu_create(cpu, errp)) {
            return false;
        }
        /* Without an in-kernel irqchip each vCPU gets a userspace LAPIC. */
        if (accel_irqchip() == ACCEL_IRQCHIP_NONE && !apic_create(cpu, true, errp)) {
            return false;
        }
    }
    if (accel_irqchip() == ACCEL_IRQCHIP_NONE) {
        apic_bus_init();
    }
    return true;
}

/* 32-bit BARs go above RAM below 4 GiB (which may end past 3 GiB when RAM
 * is under 3.5 GiB), from 3 GiB at the lowest, 256 MiB aligned. */
static uint64_t pc_pci_window_start(MachineState *ms)
{
    uint64_t start = (ms->below_4g_mem_size + 0xfffffffULL) & ~0xfffffffULL;

    return MAX(start, PC_PCI_HOLE_START);
}

/*
 * A PCI function's MSI: a write of data to addr.  In the 0xfeeXXXXX window
 * it is an interrupt message, for the in-kernel LAPICs (the accelerator's
 * send_msi) or the userspace APIC bus; anywhere else it is an ordinary
 * DMA write (as in QEMU, where qtests point MSIs at RAM to observe them).
 */
static void pc_pci_msi(void *opaque, PCIDevice *dev, uint64_t addr, uint32_t data)
{
    uint8_t le[4] = { data, data >> 8, data >> 16, data >> 24 };

    if ((addr & MSI_ADDR_MASK) == MSI_ADDR_BASE) {
        if (accel_irqchip() != ACCEL_IRQCHIP_NONE && current_accel->send_msi) {
            current_accel->send_msi(addr, data);
        } else {
            apic_bus_deliver_msi(addr, data);
        }
        return;
    }
    address_space_write(&address_space_memory, addr, le, sizeof(le));
}

/* The PIIX3 at 00:01.0 routes INTx (hw/isa/piix3.c): PIRQA-D to the ISA
 * IRQs its PIRQRC registers name and to IOAPIC GSIs 16-19. */
static bool pc_piix3_init(MachineState *ms, Error **errp)
{
    DeviceState *dev = qdev_new(PIIX3_TYPE, errp);

    if (!dev || !qdev_prop_set_string(dev, "addr", "1.0", errp) ||
        !qdev_prop_set_bool(dev, "multifunction", true, errp) ||
        !qdev_realize(dev, pcms.pci->qbus, errp)) {
        return false;
    }
    pcms.piix3 = PCI_DEVICE(dev);
    for (int i = 0; i < 16; i++) {
        qdev_connect_gpio_out_named(dev, PIIX3_ISA_IRQ_LINES, i, ms->gsi[i]);
    }
    for (int i = 0; i < PIIX3_NUM_PIRQS; i++) {
        qdev_connect_gpio_out_named(dev, PIIX3_PIRQ_GSI_LINES, i, ms->gsi[16 + i]);
    }
    /* 01.3: the ACPI PM registers (SCI on ISA IRQ 9) and the SMBus */
    return pci_create_simple(pcms.pci, PIIX4_PM_DEVFN, PIIX4_PM_TYPE, errp) != NULL;
}

/* The i440FX host bridge and bus pci.0.  Memory BARs live in a container
 * below everything else in the system address space, so RAM and the
 * platform devices win where a guest places a BAR over them. */
static bool pc_pci_init(MachineState *ms, Error **errp)
{
    memory_region_init(&pcms.pci_mem, "pci", PC_PCI_SPACE_SIZE);
    memory_region_add_subregion_overlap(get_system_memory(), 0, &pcms.pci_mem, -1);
    pcms.pci = i440fx_init(&pcms.pci_mem, get_system_io(), (uint32_t)pc_pci_window_start(ms),
                           (uint32_t)(PC_PCI_MMIO_END - 1), &pcms.i440fx, errp);
    if (!pcms.pci) {
        return false;
    }
    i440fx_map_memory(pcms.i440fx, get_system_memory(), ms->ram, &pcms.pci_mem);
    pci_bus_set_msi_hook(pcms.pci, pc_pci_msi, ms);
    return pc_piix3_init(ms, errp);
}

/* The PIIX3 IDE function (hw/ide/piix.c) at 00:01.1, beside the PIIX3
 * ISA bridge at 00:01.0 (created multifunction by pc_piix3_init); it
 * claims the -drive if=ide drives. */
static bool pc_ide_init(MachineState *ms, Error **errp)
{
    pcms.ide = pci_create_simple(pcms.pci, PCI_DEVFN(1, 1), "piix3-ide", errp);
    return pcms.ide != NULL;
}

/* The two 8237 DMA controllers and the floppy controller (QEMU's pc has
 * them by default), which claims -fda/-fdb/-drive if=floppy.  CMOS 0x10
 * holds the drive types, drive A in bits 7-4, for the BIOS. */
static bool pc_floppy_init(MachineState *ms, Error **errp)
{
    static const struct { uint32_t base, page, dshift; } dma[2] = {
        { 0x00, 0x80, 0 }, { 0xc0, 0x88, 1 },
    };

    for (int i = 0; i < 2; i++) {
        DeviceState *dev = qdev_new(I8257_TYPE, errp);
        if (!dev || !qdev_prop_set_uint(dev, "base", dma[i].base, errp) ||
            !qdev_prop_set_uint(dev, "page-base", dma[i].page, errp) ||
            !qdev_prop_set_uint(dev, "dshift", dma[i].dshift, errp) ||
            !qdev_realize(dev, pcms.isa->bus, errp)) {
            if (dev) {
                qdev_free(dev);
            }
            return false;
        }
    }
    pcms.fdc = pc_isa_device(FDC_TYPE, errp);
    if (!pcms.fdc) {
        return false;
    }
    rtc_set_memory(pcms.rtc, 0x10, fdc_cmos_drive_type(pcms.fdc, 0) << 4 |
                                   fdc_cmos_drive_type(pcms.fdc, 1));
    return true;
}

/* The BIOS image, when the guest starts in it: without -kernel, or with
 * -machine firmware-boot=on; under qtest (no guest code) only with -bios. */
static bool pc_firmware_init(MachineState *ms, Error **errp)
{
    bool runs_code = current_accel->vcpu_start != NULL;

    if (runs_code) {
        pcms.firmware = !ms->kernel_filename || ms->firmware_boot == 1;
    } else {
        pcms.firmware = ms->firmware != NULL;
    }
    return !pcms.firmware || firmware_load_bios(ms, &pcms.pci_mem, errp);
}

/* -boot order= for SeaBIOS, as QEMU's pc stores it: CMOS 0x3d holds the
 * first two devices (low nibble first), 0x38 bits 7:4 the third, bit 0
 * "do not check the floppy boot signature" (0: check).  a = 1 floppy,
 * c = 2 disk, d = 3 CD-ROM, n = 4 network; QEMU's default is "cad".
 * -boot once= replaces order= for the power-on boot only: from the first
 * reset after it, order= is back (QEMU's restore_boot_order). */
static void pc_cmos_boot_order(MachineState *ms)
{
    const char *order = ms->boot_order ? ms->boot_order : "cad";

    if (ms->boot_once && pcms.resets <= 1) {
        order = ms->boot_once;
    }
    uint8_t dev[3] = { 0 };

    for (int i = 0; i < 3 && order[i]; i++) {
        const char *p = strchr("acdn", order[i]);
        dev[i] = p ? (uint8_t)(p - "acdn" + 1) : 0;
    }
    rtc_set_memory(pcms.rtc, 0x3d, dev[1] << 4 | dev[0]);
    rtc_set_memory(pcms.rtc, 0x38, dev[2] << 4);
}

static bool pc_init(MachineState *ms, Error **errp)
{
    pcms.isa = isa_bus_new(NULL, get_system_io(), get_system_memory());
    if (!pc_memory_init(ms, errp) || !pc_irq_init(ms, errp) || !pc_pci_init(ms, errp) ||
        !pc_firmware_init(ms, errp) || !pc_devices_init(ms, errp) || !pc_ide_init(ms, errp) ||
        !pc_floppy_init(ms, errp) ||
        !pc_cpus_init(ms, errp)) {
        return false;
    }
    pc_cmos_boot_order(ms);
    return true;
}

/* What the devices say about themselves, plus the CPUs. */
static void pc_platform_desc(MachineState *ms, PlatformDesc *pd)
{
    platform_desc_init(pd);
    pd->ncpus = ms->smp.cpus;        /* the builders refuse more than they can list */
    pd->boot_strict = ms->boot_strict;
    for (unsigned i = 0; i < MIN(pd->ncpus, PLATFORM_MAX_CPUS); i++) {
        CPUState *cpu = cpus && i < cpus->len ? g_ptr_array_index(cpus, i) : NULL;
        pd->apic_ids[i] = cpu ? cpu->apic_id : i;
    }
    platform_desc_collect(pd);
}

/* Lays out RAM contents for a direct kernel boot; fills in the BSP's entry. */
static bool pc_boot_setup(MachineState *ms, BootCPUSetup *setup, Error **errp)
{
    E820Table e820 = { .nr = 0 };
    BootParams bp = {
        .as = &address_space_memory,
        .below_4g = ms->below_4g_mem_size,
        .above_4g = ms->above_4g_mem_size,
        .e820 = &e820,
        .cmdline = ms->kernel_cmdline ? ms->kernel_cmdline : "",
        .initrd_filenames = ms->initrd_filename,
        .ncpus = ms->smp.cpus,
        /* auto: decompressing in the host pays off when the guest's own
         * decompressor would run on the software CPU */
        .pvh_fast_path = ms->pvh_fast_path < 0
                         ? current_accel && !strcmp(current_accel->name, "tcg")
                         : ms->pvh_fast_path,
    };

    PlatformDesc pd;
    bool ok;

    pc_build_e820(&e820, ms->below_4g_mem_size, ms->above_4g_mem_size);
    pc_platform_desc(ms, &pd);
    ok = acpi_build_tables(&address_space_memory, &pd, &bp.rsdp_addr, errp) &&
         mptable_build(&address_space_memory, &pd, errp);
    platform_desc_free(&pd);
    return ok && x86_load_kernel(&bp, ms->kernel_filename, setup, errp);
}

/* fw_cfg files the devices declare (and "bootorder"), once every device
 * (-device ones too) exists: at the first reset. */
static bool pc_fw_cfg_platform_files(MachineState *ms, Error **errp)
{
    static bool done;
    PlatformDesc pd;
    bool ok;

    if (done || !ms->fw_cfg) {
        return true;
    }
    done = true;
    pc_platform_desc(ms, &pd);
    if (pcms.firmware && ms->kernel_filename) {
        platform_add_boot_entry(&pd, 0, FIRMWARE_LINUXBOOT_BOOTPATH);
    }
    ok = fw_cfg_add_platform_files(ms->fw_cfg, &pd, errp);
    /* SeaBIOS places and patches the ACPI tables (etc/table-loader). */
    if (ok && pcms.firmware) {
        ok = acpi_build_fw_cfg(ms->fw_cfg, &pd, errp) &&
             smbios_build_fw_cfg(ms->fw_cfg, ms, errp);
    }
    platform_desc_free(&pd);
    return ok;
}

static void pc_reset(MachineState *ms)
{
    BootCPUSetup setup;
    g_autoptr(GError) err = NULL;

    if (!pc_fw_cfg_platform_files(ms, &err)) {
        error_report("fw_cfg: %s", err->message);
        qemu_system_exit_request(1);
        return;
    }

    qdev_reset_all();
    pcms.resets++;
    if (ms->boot_once && pcms.resets <= 2) {
        pc_cmos_boot_order(ms);     /* once= at power-on, order= after */
    }
    if (!pcms.firmware) {
        /* No firmware: give the BARs addresses, and make 0xc0000-0xfffff
         * RAM (PAM read/write) for the tables, as SeaBIOS would. */
        pci_bus_assign_bars(pcms.pci, pc_pci_window_start(ms), PC_PCI_MMIO_END,
                            PC_PCI_IO_START, 0x10000);
        for (int i = 0; i < I440FX_PAM_COUNT; i++) {
            pci_host_config_write(pcms.pci, 0, PCI_DEVFN(0, 0), I440FX_PAM_BASE + i,
                                  i ? 0x33 : 0x30, 1);
        }
        /* The PM function as SeaBIOS programs it: PM I/O at 0x600, SMBus
         * at 0x700, both decoded. */
        pci_host_config_write(pcms.pci, 0, PIIX4_PM_DEVFN, PIIX4_PMBA, ACPI_PM_BASE | 1, 4);
        pci_host_config_write(pcms.pci, 0, PIIX4_PM_DEVFN, PIIX4_PMREGMISC, 1, 1);
        pci_host_config_write(pcms.pci, 0, PIIX4_PM_DEVFN, PIIX4_SMBBA, PIIX4_SMB_BASE | 1, 4);
        pci_host_config_write(pcms.pci, 0, PIIX4_PM_DEVFN, PIIX4_SMBHSTCFG, 0x09, 1);
        /* A kernel booted directly finds PIRQA-D at IRQs 10, 10, 11, 11,
         * as SeaBIOS routes them (qtest sees the power-on state). */
        if (ms->kernel_filename) {
            pci_host_config_write(pcms.pci, 0, PIIX3_DEVFN, PIIX3_PIRQRC, 0x0b0b0a0a, 4);
        }
        /* IDE decode enable in IDETIM of both channels (Linux's ata_piix
         * ignores a channel without it), as SeaBIOS's piix_ide_setup */
        pci_host_config_write(pcms.pci, 0, pcms.ide->devfn, 0x40, 0x80008000u, 4);
    }
    if (current_accel->reset) {
        current_accel->reset();
    }
    memset(&setup, 0, sizeof(setup));
    if (ms->kernel_filename && !pcms.firmware && !pc_boot_setup(ms, &setup, &err)) {
        error_report("cannot boot: %s", err->message);
        qemu_system_exit_request(1);
        return;
    }
    for (guint i = 0; cpus && i < cpus->len; i++) {
        CPUState *cpu = g_ptr_array_index(cpus, i);
        x86_cpu_reset_state(&cpu->env, cpu->apic_id, i == 0);
        if (i == 0 && ms->kernel_filename && !pcms.firmware) {
            boot_cpu_apply(&setup, &cpu->env);
        }
        if (current_accel->vcpu_reset && !current_accel->vcpu_reset(cpu, &err)) {
            error_report("cannot reset: %s", err->message);
            qemu_system_exit_request(1);
            return;
        }
    }
}

static const MachineClass pc_machine = {
    .name = "pc-i440fx-7.2",
    .alias = "pc",
    .desc = "Standard PC (i440FX host bridge, legacy devices, direct kernel boot)",
    .is_default = true,
    .max_cpus = 255,
    .default_ram_size = 128 << 20,
    .init = pc_init,
    .reset = pc_reset,
};

MACHINE_CLASS_REGISTER(pc_machine)
