/*
 * The PC machine ("pc"): the one place that knows which devices a PC has
 * and how they connect.  RAM below the PCI hole and above 4 GiB, the ISA
 * bus with its legacy devices, the interrupt controller inputs, fw_cfg,
 * the vCPUs, and booting a kernel directly (-kernel) without firmware.
 */
#include <string.h>
#include "hw/machine.h"
#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/pci-host/i440fx.h"
#include "hw/i386/boot.h"
#include "hw/i386/fw_cfg.h"
#include "hw/timer/mc146818rtc.h"
#include "accel/accel.h"
#include "system/system.h"
#include "system/runstate.h"

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

static bool pc_irq_init(MachineState *ms, Error **errp)
{
    DeviceState *ioapic = qdev_new("kvm-ioapic", errp);

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
    for (int i = 0; i < 16; i++) {
        pcms.isa->irqs[i] = ms->gsi[i];
    }
    return true;
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
    if (current_accel->kernel_irqchip) {
        pit = qdev_find_by_path("kvm-pit");
    } else {
        pit = pc_isa_device("isa-pit", errp);
        if (!pit) {
            return false;
        }
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

static bool pc_devices_init(MachineState *ms, Error **errp)
{
    static const char *const legacy[] = { "i8042", "port92", "ioport80", "acpi-pm",
                                           "pc-reset-control" };

    pcms.rtc = pc_isa_device("mc146818rtc", errp);
    if (!pcms.rtc) {
        return false;
    }
    rtc_set_pc_memory(pcms.rtc, ms->below_4g_mem_size, ms->above_4g_mem_size, ms->smp.cpus);
    if (!pc_pit_init(ms, errp)) {
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(legacy); i++) {
        if (!device_class_find(legacy[i])) {
            continue;       /* not built in this configuration */
        }
        if (!pc_isa_device(legacy[i], errp)) {
            return false;
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
    return ms->fw_cfg != NULL;
}

static bool pc_cpus_init(MachineState *ms, Error **errp)
{
    cpus = g_ptr_array_new();
    for (unsigned i = 0; i < ms->smp.cpus; i++) {
        CPUState *cpu = g_new0(CPUState, 1);
        cpu->index = i;
        cpu->apic_id = i;
        g_ptr_array_add(cpus, cpu);
        if (current_accel->vcpu_create && !current_accel->vcpu_create(cpu, errp)) {
            return false;
        }
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

/* The i440FX host bridge and bus pci.0.  Memory BARs live in a container
 * below everything else in the system address space, so RAM and the
 * platform devices win where a guest places a BAR over them. */
static bool pc_pci_init(Error **errp)
{
    memory_region_init(&pcms.pci_mem, "pci", PC_PCI_SPACE_SIZE);
    memory_region_add_subregion_overlap(get_system_memory(), 0, &pcms.pci_mem, -1);
    pcms.pci = i440fx_init(&pcms.pci_mem, get_system_io(), errp);
    return pcms.pci != NULL;
}

static bool pc_init(MachineState *ms, Error **errp)
{
    /* qtest runs no guest code: a PC without anything to boot is fine. */
    bool runs_code = current_accel->vcpu_start != NULL;

    if (!ms->kernel_filename && runs_code) {
        error_setg(errp, "no -kernel given: booting from firmware (SeaBIOS) is not supported "
                   "yet; start a kernel directly with -kernel");
        return false;
    }
    pcms.isa = isa_bus_new(NULL, get_system_io(), get_system_memory());
    return pc_memory_init(ms, errp) && pc_irq_init(ms, errp) && pc_pci_init(errp) &&
           pc_devices_init(ms, errp) && pc_cpus_init(ms, errp);
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
        .pvh_fast_path = ms->pvh_fast_path,
    };

    pc_build_e820(&e820, ms->below_4g_mem_size, ms->above_4g_mem_size);
    acpi_set_pci_window((uint32_t)pc_pci_window_start(ms), (uint32_t)(PC_PCI_MMIO_END - 1));
    if (!acpi_build_tables(&address_space_memory, ms->smp.cpus, &bp.rsdp_addr, errp) ||
        !mptable_build(&address_space_memory, ms->smp.cpus, errp)) {
        return false;
    }
    return x86_load_kernel(&bp, ms->kernel_filename, setup, errp);
}

static void pc_reset(MachineState *ms)
{
    BootCPUSetup setup;
    g_autoptr(GError) err = NULL;

    qdev_reset_all();
    /* No firmware: give the BARs addresses, as SeaBIOS would. */
    pci_bus_assign_bars(pcms.pci, pc_pci_window_start(ms), PC_PCI_MMIO_END, PC_PCI_IO_START,
                        0x10000);
    if (current_accel->reset) {
        current_accel->reset();
    }
    memset(&setup, 0, sizeof(setup));
    if (ms->kernel_filename && !pc_boot_setup(ms, &setup, &err)) {
        error_report("cannot boot: %s", err->message);
        qemu_system_exit_request(1);
        return;
    }
    for (guint i = 0; cpus && i < cpus->len; i++) {
        CPUState *cpu = g_ptr_array_index(cpus, i);
        x86_cpu_reset_state(&cpu->env, i == 0);
        if (i == 0 && ms->kernel_filename) {
            boot_cpu_apply(&setup, &cpu->env);
        }
        if (current_accel->vcpu_reset) {
            current_accel->vcpu_reset(cpu);
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
