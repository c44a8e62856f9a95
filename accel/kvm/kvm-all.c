/*
 * The KVM accelerator: one VM, one thread per vCPU, memory slots from the
 * flat view, in-kernel irqchip (PIC, IOAPIC, LAPIC) and PIT, CPUID from
 * the host's supported set filtered to a coherent model.
 *
 * A vCPU thread runs KVM_RUN without the big lock and takes it to handle
 * an exit (port I/O and MMIO go through the memory API).  A kick sets
 * kvm_run.immediate_exit and sends SIG_IPI so KVM_RUN returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "accel/accel.h"
#include "accel/kvm/kvm.h"
#include "hw/machine.h"
#include "hw/memory.h"
#include "qemu/log.h"
#include "qemu/option.h"
#include "system/main-loop.h"
#include "system/runstate.h"

#define SIG_IPI SIGUSR1
#define KVM_MAX_SLOTS 256

typedef struct KVMSlot {
    bool used;
    uint32_t slot;
    uint64_t gpa, size;
    void *hva;
    uint32_t flags;
    MemoryRegion *mr;
    uint64_t mr_offset;
} KVMSlot;

typedef struct KVMVcpu {
    int fd;
    struct kvm_run *run;
    bool nmi_pending;
    int64_t shutdown_window_start;
    int shutdowns_in_window;
} KVMVcpu;

typedef struct KVMState {
    int fd;
    int vmfd;
    int run_size;
    bool readonly_mem;
    bool xcrs;
    KVMSlot slots[KVM_MAX_SLOTS];
    MemoryListener listener;
    struct kvm_cpuid2 *supported_cpuid;
    unsigned ncpus;
    unsigned cores, threads;
    const char *cpu_model;
    bool self_test;
    bool tsc_deadline;
    /* Coalesced MMIO/PIO: the VM-wide ring (mapped in every vCPU's kvm_run
     * area), its page offset there, and whether PIO zones are supported. */
    int coalesced_page;
    bool coalesced_pio;
    struct kvm_coalesced_mmio_ring *ring;
    unsigned ring_max;
    unsigned nr_zones;
    QEMUTimer *ring_timer;
    bool ioeventfds;
    MemoryListener io_listener;
} KVMState;

static KVMState kvm_state = { .fd = -1, .vmfd = -1, .self_test = true };

int kvm_vm_fd(void)
{
    return kvm_state.vmfd;
}

/* ---- probing ---------------------------------------------------------- */

static int kvm_open_dev(Error **errp)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int ver;

    if (fd < 0) {
        error_setg_errno(errp, errno, "KVM is not usable: cannot open /dev/kvm");
        return -1;
    }
    ver = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (ver != KVM_API_VERSION) {
        error_setg(errp, "KVM is not usable: /dev/kvm has API version %d, we need %d", ver,
                   KVM_API_VERSION);
        close(fd);
        return -1;
    }
    return fd;
}

static bool kvm_check_caps(int fd, Error **errp)
{
    static const struct { int cap; const char *name; } needed[] = {
        { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
        { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
        { KVM_CAP_PIT2, "KVM_CAP_PIT2" },
        { KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
        { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
        { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(needed); i++) {
        if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
            error_setg(errp, "KVM is not usable: the host kernel lacks %s", needed[i].name);
            return false;
        }
    }
    return true;
}

static void sigalrm_noop(int sig)
{
}

/*
 * Some hosts expose a /dev/kvm that cannot run guest kernel code (e.g. a
 * PVM-style hypervisor that emulates ring 0 incompletely).  Before the
 * machine runs, its boot vCPU runs a tiny 32-bit ring-0 program that takes
 * an interrupt through the IDT, returns with iret and reports on a port.
 * It uses a temporary memory slot that is removed afterwards; the machine's
 * reset then gives the vCPU its real state.  (A separate throw-away VM
 * would cost a second VM creation, which is slow under nested KVM.)
 */
#define SELF_TEST_SLOT (KVM_MAX_SLOTS - 1)

static bool kvm_self_test(int vmfd, int cpufd, struct kvm_run *run, Error **errp)
{
    const size_t mem_size = 0x10000;
    uint8_t *mem;
    bool ok = false;
    const char *why = "unknown";
    struct itimerval it = { .it_value = { .tv_sec = 2 } }, off = { 0 };
    struct sigaction sa = { .sa_handler = sigalrm_noop }, old_sa;

    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        error_setg(errp, "KVM self-test: out of memory");
        return false;
    }
    /* GDT at 0xa000: null, null, code 0x10, data 0x18. */
    static const uint64_t gdt[] = { 0, 0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL };
    memcpy(mem + 0xa000, gdt, sizeof(gdt));
    /* IDT at 0x1000; vector 0x20 -> 0x8100, 32-bit interrupt gate. */
    uint8_t *gate = mem + 0x1000 + 0x20 * 8;
    gate[0] = 0x00; gate[1] = 0x81; gate[2] = 0x10; gate[3] = 0x00;
    gate[4] = 0x00; gate[5] = 0x8e; gate[6] = 0x00; gate[7] = 0x00;
    /* IDT descriptor at 0x9000. */
    mem[0x9000] = 0x07; mem[0x9001] = 0x01;
    mem[0x9002] = 0x00; mem[0x9003] = 0x10; mem[0x9004] = 0; mem[0x9005] = 0;
    static const uint8_t code[] = {
        0x0f, 0x01, 0x1d, 0x00, 0x90, 0x00, 0x00,   /* lidt [0x9000] */
        0xcd, 0x20,                                 /* int 0x20 */
        0xb0, 0x42,                                 /* mov al, 0x42 */
        0xe6, 0x10,                                 /* out 0x10, al */
        0xf4,                                       /* hlt */
    };
    memcpy(mem + 0x8000, code, sizeof(code));
    mem[0x8100] = 0xcf;                             /* iret */

    struct kvm_userspace_memory_region reg = {
        .slot = SELF_TEST_SLOT, .guest_phys_addr = 0, .memory_size = mem_size,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &reg) < 0) {
        why = "cannot set up guest memory";
        goto out;
    }
    struct kvm_sregs sregs;
    if (ioctl(cpufd, KVM_GET_SREGS, &sregs) < 0) {
        why = "KVM_GET_SREGS failed";
        goto out_slot;
    }
    struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb,
                              .present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1 };
    struct kvm_segment ds = cs;
    ds.selector = 0x18;
    ds.type = 0x3;
    sregs.cs = cs;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
    sregs.gdt.base = 0xa000;
    sregs.gdt.limit = sizeof(gdt) - 1;
    sregs.cr0 = 0x11;       /* PE | ET */
    struct kvm_regs regs = { .rip = 0x8000, .rsp = 0x7000, .rflags = 0x2 };
    if (ioctl(cpufd, KVM_SET_SREGS, &sregs) < 0 || ioctl(cpufd, KVM_SET_REGS, &regs) < 0) {
        why = "cannot set vCPU registers";
        goto out_slot;
    }
    sigaction(SIGALRM, &sa, &old_sa);
    setitimer(ITIMER_REAL, &it, NULL);
    for (int iter = 0; iter < 16; iter++) {
        int r = ioctl(cpufd, KVM_RUN, 0);
        if (r < 0) {
            why = errno == EINTR ? "a ring-0 test program did not finish within 2 s"
                                 : "KVM_RUN failed";
            break;
        }
        if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x10 &&
            run->io.direction == KVM_EXIT_IO_OUT &&
            *((uint8_t *)run + run->io.data_offset) == 0x42) {
            ok = true;
            break;
        }
        if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
            why = "it cannot run guest ring-0 code (interrupt/iret test ended in "
                  "KVM_EXIT_INTERNAL_ERROR)";
            break;
        }
        if (run->exit_reason != KVM_EXIT_INTR) {
            why = "a ring-0 test program failed (unexpected exit)";
            break;
        }
    }
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
out_slot:
    reg.memory_size = 0;
    ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &reg);
out:
    if (!ok) {
        error_setg(errp, "KVM is not usable: /dev/kvm exists but %s", why);
    }
    munmap(mem, mem_size);
    return ok;
}

static bool kvm_probe(Error **errp)
{
    int fd = kvm_open_dev(errp);
    bool ok;

    if (fd < 0) {
        return false;
    }
    ok = kvm_check_caps(fd, errp);
    close(fd);
    return ok;
}

static bool kvm_set_option(const char *key, const char *value, Error **errp)
{
    if (!strcmp(key, "kernel-irqchip")) {
        if (strcmp(value, "on") && strcmp(value, "true")) {
            error_setg(errp, "-accel kvm,kernel-irqchip=%s: only 'on' is supported", value);
            return false;
        }
        return true;
    }
    if (!strcmp(key, "self-test")) {
        return parse_bool(key, value, &kvm_state.self_test, errp);
    }
    error_setg(errp, "-accel kvm: unknown option '%s'", key);
    return false;
}

/* ---- memory slots ----------------------------------------------------- */

static KVMSlot *slot_alloc(void)
{
    for (int i = 0; i < KVM_MAX_SLOTS; i++) {
        if (!kvm_state.slots[i].used) {
            kvm_state.slots[i].slot = i;
            return &kvm_state.slots[i];
        }
    }
    return NULL;
}

static int slot_set(KVMSlot *s, uint64_t size)
{
    struct kvm_userspace_memory_region reg = {
        .slot = s->slot,
        .flags = s->flags,
        .guest_phys_addr = s->gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)s->hva,
    };
    return ioctl(kvm_state.vmfd, KVM_SET_USER_MEMORY_REGION, &reg);
}

/* Only the page-aligned part of a RAM section can be a slot; the rest is
 * reached through MMIO exits and the memory API (slow but correct). */
static bool section_aligned_part(MemoryRegionSection *sec, uint64_t *gpa, uint64_t *size,
                                 uint64_t *delta)
{
    uint64_t start = (sec->offset_within_address_space + 0xfff) & ~0xfffULL;
    uint64_t end = (sec->offset_within_address_space + sec->size) & ~0xfffULL;

    if (end <= start) {
        return false;
    }
    *delta = start - sec->offset_within_address_space;
    if (((uintptr_t)sec->mr->ram + sec->offset_within_region + *delta) & 0xfff) {
        return false;
    }
    *gpa = start;
    *size = end - start;
    return true;
}

static void kvm_region_add(MemoryListener *l, MemoryRegionSection *sec)
{
    uint64_t gpa, size, delta;
    KVMSlot *s;

    if (sec->mr->type == MR_IO || !section_aligned_part(sec, &gpa, &size, &delta)) {
        return;
    }
    if (sec->readonly && !kvm_state.readonly_mem) {
        return;             /* ROM without KVM_MEM_READONLY: served by MMIO exits */
    }
    s = slot_alloc();
    if (!s) {
        error_report("KVM: out of memory slots mapping '%s'", sec->mr->name);
        qemu_system_internal_error();
        return;
    }
    s->used = true;
    s->gpa = gpa;
    s->size = size;
    s->mr = sec->mr;
    s->mr_offset = sec->offset_within_region + delta;
    s->hva = sec->mr->ram + s->mr_offset;
    s->flags = (sec->readonly ? KVM_MEM_READONLY : 0) |
               (sec->mr->dirty_log_mask ? KVM_MEM_LOG_DIRTY_PAGES : 0);
    if (slot_set(s, size) < 0) {
        error_report("KVM: cannot map '%s' at 0x%" PRIx64 ": %s", sec->mr->name, gpa,
                     strerror(errno));
        s->used = false;
        qemu_system_internal_error();
    }
}

static KVMSlot *slot_for_section(MemoryRegionSection *sec)
{
    uint64_t gpa, size, delta;

    if (!section_aligned_part(sec, &gpa, &size, &delta)) {
        return NULL;
    }
    for (int i = 0; i < KVM_MAX_SLOTS; i++) {
        KVMSlot *s = &kvm_state.slots[i];
        if (s->used && s->gpa == gpa && s->size == size && s->mr == sec->mr) {
            return s;
        }
    }
    return NULL;
}

static void kvm_region_del(MemoryListener *l, MemoryRegionSection *sec)
{
    KVMSlot *s;

    if (sec->mr->type == MR_IO || !(s = slot_for_section(sec))) {
        return;
    }
    slot_set(s, 0);
    s->used = false;
}

static void kvm_log_toggle(MemoryRegionSection *sec, bool on)
{
    KVMSlot *s = slot_for_section(sec);

    if (!s) {
        return;
    }
    s->flags = on ? (s->flags | KVM_MEM_LOG_DIRTY_PAGES) : (s->flags & ~KVM_MEM_LOG_DIRTY_PAGES);
    if (slot_set(s, s->size) < 0) {
        error_report("KVM: cannot %s dirty logging on '%s': %s", on ? "start" : "stop",
                     sec->mr->name, strerror(errno));
    }
}

static void kvm_log_start(MemoryListener *l, MemoryRegionSection *sec)
{
    kvm_log_toggle(sec, true);
}

static void kvm_log_stop(MemoryListener *l, MemoryRegionSection *sec)
{
    kvm_log_toggle(sec, false);
}

static void kvm_log_sync(MemoryListener *l, MemoryRegionSection *sec)
{
    KVMSlot *s = slot_for_section(sec);
    uint64_t pages, words;
    unsigned long *bitmap;

    if (!s || !(s->flags & KVM_MEM_LOG_DIRTY_PAGES)) {
        return;
    }
    pages = s->size >> 12;
    words = (pages + 63) / 64;
    bitmap = g_new0(unsigned long, words);
    struct kvm_dirty_log log = { .slot = s->slot, .dirty_bitmap = bitmap };
    if (ioctl(kvm_state.vmfd, KVM_GET_DIRTY_LOG, &log) == 0) {
        for (uint64_t p = 0; p < pages; p++) {
            if (bitmap[p / 64] & (1UL << (p % 64))) {
                memory_region_set_dirty(s->mr, s->mr_offset + (p << 12), 4096);
            }
        }
    }
    g_free(bitmap);
}

/* ---- irqchip ---------------------------------------------------------- */

static bool kvm_setup_irq_routing(Error **errp)
{
    /* GSI 0-15 go to the PICs (except the cascade, 2) and to the IOAPIC,
     * with ISA IRQ 0 on IOAPIC pin 2 (the MADT's override); 16-23 IOAPIC. */
    struct kvm_irq_routing *r = g_malloc0(sizeof(*r) + 64 * sizeof(r->entries[0]));
    unsigned n = 0;

    for (int i = 0; i < 16; i++) {
        if (i == 2) {
            continue;
        }
        r->entries[n].gsi = i;
        r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
        r->entries[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
        r->entries[n].u.irqchip.pin = i % 8;
        n++;
    }
    for (int i = 0; i < 24; i++) {
        if (i == 2) {
            continue;
        }
        r->entries[n].gsi = i;
        r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
        r->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
        r->entries[n].u.irqchip.pin = i == 0 ? 2 : i;
        n++;
    }
    r->nr = n;
    if (ioctl(kvm_state.vmfd, KVM_SET_GSI_ROUTING, r) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_GSI_ROUTING failed");
        g_free(r);
        return false;
    }
    g_free(r);
    return true;
}

static void kvm_set_irq(int gsi, int level)
{
    struct kvm_irq_level irq = { .irq = gsi, .level = level };

    if (kvm_state.vmfd >= 0 && ioctl(kvm_state.vmfd, KVM_IRQ_LINE, &irq) < 0) {
        error_report("KVM_IRQ_LINE(%d) failed: %s", gsi, strerror(errno));
    }
}

static void kvm_reset_irqchip(void)
{
    struct kvm_irqchip chip;

    for (int id = KVM_IRQCHIP_PIC_MASTER; id <= KVM_IRQCHIP_IOAPIC; id++) {
        memset(&chip, 0, sizeof(chip));
        chip.chip_id = id;
        if (id == KVM_IRQCHIP_IOAPIC) {
            chip.chip.ioapic.base_address = 0xfec00000;
            for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
                chip.chip.ioapic.redirtbl[i].fields.mask = 1;
            }
        } else {
            /* Edge-triggered everything (ELCR 0) except the PCI-ish SCI
             * line 9 that firmware sets level; Linux rewrites it anyway. */
            chip.chip.pic.elcr_mask = id == KVM_IRQCHIP_PIC_MASTER ? 0xf8 : 0xde;
        }
        if (ioctl(kvm_state.vmfd, KVM_SET_IRQCHIP, &chip) < 0) {
            error_report("KVM_SET_IRQCHIP(%d) failed: %s", id, strerror(errno));
        }
    }
    kvm_pit_reset();
}

/* ---- CPUID ------------------------------------------------------------ */

static struct kvm_cpuid2 *kvm_get_supported_cpuid(int fd)
{
    for (int n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            return c;
        }
        g_free(c);
        if (errno != E2BIG) {
            return NULL;
        }
    }
    return NULL;
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
    for (uint32_t i = 0; i < c->nent; i++) {
        if (c->entries[i].function == fn && c->entries[i].index == idx) {
            return &c->entries[i];
        }
    }
    return NULL;
}

/* Baseline "qemu64" model: what every x86-64 host has. */
#define QEMU64_1_EDX 0x0789fbffu    /* fpu..pse36 (no pn), clflush, mmx, fxsr, sse, sse2 */
#define QEMU64_1_ECX ((1u << 0) | (1u << 13) | (1u << 23) | (1u << 21) | (1u << 31))
                                    /* sse3, cx16, popcnt, x2apic, hypervisor */
#define QEMU64_81_EDX ((1u << 11) | (1u << 20) | (1u << 29))   /* syscall, nx, lm */
#define QEMU64_81_ECX ((1u << 0))                               /* lahf_lm */

static bool cpu_model_is_host(const char *model)
{
    return !strcmp(model, "host") || !strcmp(model, "max");
}

static struct kvm_cpuid2 *kvm_build_cpuid(CPUState *cpu)
{
    struct kvm_cpuid2 *sup = kvm_state.supported_cpuid;
    size_t sz = sizeof(*sup) + (sup->nent + 4) * sizeof(sup->entries[0]);
    struct kvm_cpuid2 *c = g_malloc0(sz);
    unsigned per_pkg = kvm_state.cores * kvm_state.threads;
    bool host = cpu_model_is_host(kvm_state.cpu_model);
    struct kvm_cpuid_entry2 *e;

    memcpy(c, sup, sizeof(*sup) + sup->nent * sizeof(sup->entries[0]));
    if ((e = cpuid_find(c, 1, 0))) {
        e->ebx = (e->ebx & 0x0000ffff) | (cpu->apic_id << 24) | (MIN(per_pkg, 255) << 16);
        e->ecx |= 1u << 31;                 /* hypervisor */
        if (per_pkg > 1) {
            e->edx |= 1u << 28;             /* HTT: the count field is valid */
        }
        if (!host) {
            e->edx &= QEMU64_1_EDX;
            e->ecx &= QEMU64_1_ECX;
        } else if (kvm_state.tsc_deadline) {
            /* The in-kernel LAPIC emulates the TSC-deadline timer, but
             * KVM_GET_SUPPORTED_CPUID leaves the bit to userspace.  With
             * it, Linux skips calibrating the LAPIC timer. */
            e->ecx |= 1u << 24;
        }
    }
    if ((e = cpuid_find(c, 0x80000001, 0)) && !host) {
        e->edx &= QEMU64_81_EDX;
        e->ecx &= QEMU64_81_ECX;
    }
    if (!host) {
        for (uint32_t i = 0; i < c->nent; i++) {
            if (c->entries[i].function == 7) {
                c->entries[i].ebx = c->entries[i].ecx = c->entries[i].edx = 0;
            }
            if (c->entries[i].function == 0xd && c->entries[i].index > 1) {
                memset(&c->entries[i].eax, 0, 16);
            }
        }
    }
    for (uint32_t i = 0; i < c->nent; i++) {
        e = &c->entries[i];
        if (e->function == 4) {
            /* Cores per package - 1 in EAX[31:26]; threads sharing the cache. */
            e->eax &= 0x3ff;
            e->eax |= (kvm_state.cores - 1) << 26;
            if (e->eax & 0x1f) {
                unsigned level = (e->eax >> 5) & 7;
                unsigned sharing = level >= 3 ? per_pkg : kvm_state.threads;
                e->eax |= (sharing - 1) << 14;
            }
        } else if (e->function == 0xb || e->function == 0x1f) {
            unsigned smt_bits = g_bit_storage(kvm_state.threads - 1);
            unsigned core_bits = g_bit_storage(kvm_state.cores - 1);
            if (kvm_state.threads == 1) {
                smt_bits = 0;
            }
            if (kvm_state.cores == 1) {
                core_bits = 0;
            }
            e->edx = cpu->apic_id;
            if (e->index == 0) {
                e->eax = smt_bits;
                e->ebx = kvm_state.threads;
                e->ecx = (1 << 8) | 0;
            } else if (e->index == 1) {
                e->eax = smt_bits + core_bits;
                e->ebx = per_pkg;
                e->ecx = (2 << 8) | 1;
            } else {
                e->eax = e->ebx = 0;
                e->ecx = e->index;
            }
        }
    }
    /* KVM paravirtual leaves (clocksource, EOI, async PF). */
    if (!cpuid_find(c, 0x40000000, 0)) {
        e = &c->entries[c->nent++];
        memset(e, 0, sizeof(*e));
        e->function = 0x40000000;
        e->eax = 0x40000001;
        memcpy(&e->ebx, "KVMK", 4);
        memcpy(&e->ecx, "VMKV", 4);
        memcpy(&e->edx, "M\0\0\0", 4);
    }
    return c;
}

/* ---- vCPU state ------------------------------------------------------- */

static void seg_from_kvm(SegmentCache *d, const struct kvm_segment *s)
{
    d->selector = s->selector;
    d->base = s->base;
    d->limit = s->limit;
    d->type = s->type;
    d->present = s->present;
    d->dpl = s->dpl;
    d->db = s->db;
    d->dpl_s = s->s;
    d->l = s->l;
    d->g = s->g;
    d->avl = s->avl;
    d->unusable = s->unusable;
}

static void seg_to_kvm(struct kvm_segment *d, const SegmentCache *s)
{
    memset(d, 0, sizeof(*d));
    d->selector = s->selector;
    d->base = s->base;
    d->limit = s->limit;
    d->type = s->type;
    d->present = s->present;
    d->dpl = s->dpl;
    d->db = s->db;
    d->s = s->dpl_s;
    d->l = s->l;
    d->g = s->g;
    d->avl = s->avl;
    d->unusable = s->unusable || !s->present;
}

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_PAT                 0x277
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_FMASK               0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

static const uint32_t saved_msrs[] = {
    MSR_IA32_TSC, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
    MSR_PAT, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK, MSR_KERNEL_GS_BASE,
};

#define MSR_KVM_WALL_CLOCK          0x11
#define MSR_KVM_SYSTEM_TIME         0x12
#define MSR_KVM_WALL_CLOCK_NEW      0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW     0x4b564d01
#define MSR_KVM_ASYNC_PF_EN         0x4b564d02
#define MSR_KVM_STEAL_TIME          0x4b564d03
#define MSR_KVM_PV_EOI_EN           0x4b564d04
#define MSR_KVM_POLL_CONTROL        0x4b564d05

/* Set one by one: a host without one of them must not stop the others. */
static const uint32_t pv_msrs[] = {
    MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK,
    MSR_KVM_ASYNC_PF_EN, MSR_KVM_STEAL_TIME, MSR_KVM_PV_EOI_EN, MSR_KVM_POLL_CONTROL,
};

static uint64_t *msr_field(X86CPUState *env, uint32_t index)
{
    switch (index) {
    case MSR_KVM_SYSTEM_TIME_NEW: case MSR_KVM_SYSTEM_TIME: return &env->system_time_msr;
    case MSR_KVM_WALL_CLOCK_NEW: case MSR_KVM_WALL_CLOCK: return &env->wall_clock_msr;
    case MSR_KVM_ASYNC_PF_EN: return &env->async_pf_en_msr;
    case MSR_KVM_STEAL_TIME: return &env->steal_time_msr;
    case MSR_KVM_PV_EOI_EN: return &env->pv_eoi_en_msr;
    case MSR_KVM_POLL_CONTROL: return &env->poll_control_msr;
    case MSR_IA32_TSC: return &env->tsc;
    case MSR_IA32_SYSENTER_CS: return &env->sysenter_cs;
    case MSR_IA32_SYSENTER_ESP: return &env->sysenter_esp;
    case MSR_IA32_SYSENTER_EIP: return &env->sysenter_eip;
    case MSR_PAT: return &env->pat;
    case MSR_STAR: return &env->star;
    case MSR_LSTAR: return &env->lstar;
    case MSR_CSTAR: return &env->cstar;
    case MSR_FMASK: return &env->fmask;
    case MSR_KERNEL_GS_BASE: return &env->kernel_gs_base;
    }
    return NULL;
}

static void kvm_get_state(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;
    X86CPUState *env = &cpu->env;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_mp_state mp;

    if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0) {
        uint64_t *r = env->regs;
        r[R_EAX] = regs.rax; r[R_EBX] = regs.rbx; r[R_ECX] = regs.rcx; r[R_EDX] = regs.rdx;
        r[R_ESI] = regs.rsi; r[R_EDI] = regs.rdi; r[R_ESP] = regs.rsp; r[R_EBP] = regs.rbp;
        r[R_R8] = regs.r8; r[R_R9] = regs.r9; r[R_R10] = regs.r10; r[R_R11] = regs.r11;
        r[R_R12] = regs.r12; r[R_R13] = regs.r13; r[R_R14] = regs.r14; r[R_R15] = regs.r15;
        env->rip = regs.rip;
        env->rflags = regs.rflags;
    }
    if (ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0) {
        seg_from_kvm(&env->segs[R_CS], &sregs.cs);
        seg_from_kvm(&env->segs[R_DS], &sregs.ds);
        seg_from_kvm(&env->segs[R_ES], &sregs.es);
        seg_from_kvm(&env->segs[R_FS], &sregs.fs);
        seg_from_kvm(&env->segs[R_GS], &sregs.gs);
        seg_from_kvm(&env->segs[R_SS], &sregs.ss);
        seg_from_kvm(&env->tr, &sregs.tr);
        seg_from_kvm(&env->ldt, &sregs.ldt);
        env->gdt.base = sregs.gdt.base;
        env->gdt.limit = sregs.gdt.limit;
        env->idt.base = sregs.idt.base;
        env->idt.limit = sregs.idt.limit;
        env->cr0 = sregs.cr0; env->cr2 = sregs.cr2; env->cr3 = sregs.cr3;
        env->cr4 = sregs.cr4; env->cr8 = sregs.cr8;
        env->efer = sregs.efer;
        env->apic_base = sregs.apic_base;
    }
    if (ioctl(v->fd, KVM_GET_FPU, &fpu) == 0) {
        /* Rebuild the FXSAVE image from kvm_fpu's fields. */
        uint8_t *fx = env->fxsave;
        memset(fx, 0, 512);
        memcpy(fx + 0, &fpu.fcw, 2);
        memcpy(fx + 2, &fpu.fsw, 2);
        fx[4] = fpu.ftwx;
        memcpy(fx + 6, &fpu.last_opcode, 2);
        memcpy(fx + 8, &fpu.last_ip, 8);
        memcpy(fx + 16, &fpu.last_dp, 8);
        memcpy(fx + 24, &fpu.mxcsr, 4);
        for (int i = 0; i < 8; i++) {
            memcpy(fx + 32 + i * 16, fpu.fpr[i], 16);
        }
        memcpy(fx + 160, fpu.xmm, 256);
    }
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[G_N_ELEMENTS(saved_msrs)];
    } msrs = { .hdr.nmsrs = G_N_ELEMENTS(saved_msrs) };
    for (size_t i = 0; i < G_N_ELEMENTS(saved_msrs); i++) {
        msrs.e[i].index = saved_msrs[i];
    }
    int n = ioctl(v->fd, KVM_GET_MSRS, &msrs);
    for (int i = 0; i < n; i++) {
        *msr_field(env, msrs.e[i].index) = msrs.e[i].data;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(pv_msrs); i++) {
        struct { struct kvm_msrs hdr; struct kvm_msr_entry e; } one = {
            .hdr.nmsrs = 1, .e.index = pv_msrs[i],
        };
        /* The legacy kvmclock MSRs share fields with the new ones: only
         * a non-zero legacy value overrides. */
        if (ioctl(v->fd, KVM_GET_MSRS, &one) == 1 &&
            (one.e.data || pv_msrs[i] >= MSR_KVM_WALL_CLOCK_NEW)) {
            *msr_field(env, pv_msrs[i]) = one.e.data;
        }
    }
    if (kvm_state.xcrs) {
        struct kvm_xcrs xcrs;
        if (ioctl(v->fd, KVM_GET_XCRS, &xcrs) == 0 && xcrs.nr_xcrs > 0) {
            env->xcr0 = xcrs.xcrs[0].value;
        }
    }
    if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0) {
        env->mp_state = mp.mp_state;
        env->halted = mp.mp_state == KVM_MP_STATE_HALTED;
    }
    cpu->env_valid = true;
}

static void kvm_put_lapic_reset(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;
    struct kvm_lapic_state lapic;
    uint32_t *reg;

    if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0) {
        return;
    }
#define LAPIC_REG(off) ((uint32_t *)(lapic.regs + (off)))
    uint32_t version = *LAPIC_REG(0x30);
    memset(lapic.regs, 0, sizeof(lapic.regs));
    *LAPIC_REG(0x20) = cpu->apic_id << 24;
    *LAPIC_REG(0x30) = version;
    *LAPIC_REG(0xe0) = 0xffffffff;           /* DFR: flat model */
    *LAPIC_REG(0xf0) = 0xff;                 /* SVR: software disabled */
    for (int off = 0x2f0; off <= 0x370; off += 0x10) {
        if (off == 0x2f0 || off >= 0x320) {
            reg = LAPIC_REG(off);
            *reg = 1 << 16;                  /* LVT masked */
        }
    }
    if (cpu->index == 0) {
        /* Virtual-wire mode on the BSP, as firmware leaves it: LINT0 takes
         * the 8259's interrupts (ExtINT, unmasked), so a guest that never
         * enables its LAPIC still gets PIC interrupts. */
        *LAPIC_REG(0x350) = 0x700;
    }
#undef LAPIC_REG
    ioctl(v->fd, KVM_SET_LAPIC, &lapic);
}

static void kvm_put_state(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;
    X86CPUState *env = &cpu->env;
    const uint64_t *r = env->regs;
    struct kvm_regs regs = {
        .rax = r[R_EAX], .rbx = r[R_EBX], .rcx = r[R_ECX], .rdx = r[R_EDX],
        .rsi = r[R_ESI], .rdi = r[R_EDI], .rsp = r[R_ESP], .rbp = r[R_EBP],
        .r8 = r[R_R8], .r9 = r[R_R9], .r10 = r[R_R10], .r11 = r[R_R11],
        .r12 = r[R_R12], .r13 = r[R_R13], .r14 = r[R_R14], .r15 = r[R_R15],
        .rip = env->rip, .rflags = env->rflags,
    };
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;

    memset(&sregs, 0, sizeof(sregs));
    seg_to_kvm(&sregs.cs, &env->segs[R_CS]);
    seg_to_kvm(&sregs.ds, &env->segs[R_DS]);
    seg_to_kvm(&sregs.es, &env->segs[R_ES]);
    seg_to_kvm(&sregs.fs, &env->segs[R_FS]);
    seg_to_kvm(&sregs.gs, &env->segs[R_GS]);
    seg_to_kvm(&sregs.ss, &env->segs[R_SS]);
    seg_to_kvm(&sregs.tr, &env->tr);
    seg_to_kvm(&sregs.ldt, &env->ldt);
    sregs.tr.unusable = 0;
    sregs.tr.present = 1;
    sregs.gdt.base = env->gdt.base;
    sregs.gdt.limit = env->gdt.limit;
    sregs.idt.base = env->idt.base;
    sregs.idt.limit = env->idt.limit;
    sregs.cr0 = env->cr0; sregs.cr2 = env->cr2; sregs.cr3 = env->cr3;
    sregs.cr4 = env->cr4; sregs.cr8 = env->cr8;
    sregs.efer = env->efer;
    sregs.apic_base = env->apic_base;
    if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0) {
        error_report("KVM_SET_SREGS failed on CPU %d: %s", cpu->index, strerror(errno));
    }
    if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
        error_report("KVM_SET_REGS failed on CPU %d: %s", cpu->index, strerror(errno));
    }
    memset(&fpu, 0, sizeof(fpu));
    const uint8_t *fx = env->fxsave;
    memcpy(&fpu.fcw, fx + 0, 2);
    memcpy(&fpu.fsw, fx + 2, 2);
    fpu.ftwx = fx[4];
    memcpy(&fpu.last_opcode, fx + 6, 2);
    memcpy(&fpu.last_ip, fx + 8, 8);
    memcpy(&fpu.last_dp, fx + 16, 8);
    memcpy(&fpu.mxcsr, fx + 24, 4);
    for (int i = 0; i < 8; i++) {
        memcpy(fpu.fpr[i], fx + 32 + i * 16, 16);
    }
    memcpy(fpu.xmm, fx + 160, 256);
    ioctl(v->fd, KVM_SET_FPU, &fpu);
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[G_N_ELEMENTS(saved_msrs) + 1];
    } msrs = { .hdr.nmsrs = G_N_ELEMENTS(saved_msrs) + 1 };
    for (size_t i = 0; i < G_N_ELEMENTS(saved_msrs); i++) {
        msrs.e[i].index = saved_msrs[i];
        msrs.e[i].data = *msr_field(env, saved_msrs[i]);
    }
    msrs.e[G_N_ELEMENTS(saved_msrs)].index = MSR_IA32_MISC_ENABLE;
    msrs.e[G_N_ELEMENTS(saved_msrs)].data = 1;      /* fast strings */
    ioctl(v->fd, KVM_SET_MSRS, &msrs);
    for (size_t i = 0; i < G_N_ELEMENTS(pv_msrs); i++) {
        uint64_t val = *msr_field(env, pv_msrs[i]);
        struct { struct kvm_msrs hdr; struct kvm_msr_entry e; } one = {
            .hdr.nmsrs = 1, .e.index = pv_msrs[i],
            /* Only one of the legacy/new kvmclock pair may be active. */
            .e.data = (pv_msrs[i] == MSR_KVM_SYSTEM_TIME || pv_msrs[i] == MSR_KVM_WALL_CLOCK)
                      ? 0 : val,
        };
        ioctl(v->fd, KVM_SET_MSRS, &one);
    }
    if (kvm_state.xcrs) {
        struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs[0] = { .xcr = 0, .value = env->xcr0 } };
        ioctl(v->fd, KVM_SET_XCRS, &xcrs);
    }
    struct kvm_mp_state mp = { .mp_state = env->mp_state };
    ioctl(v->fd, KVM_SET_MP_STATE, &mp);
    cpu->env_valid = true;
}

static void kvm_vcpu_reset(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;
    struct kvm_vcpu_events events;

    /* Registers (and with them APIC_BASE, which leaves x2APIC mode) first,
     * then the LAPIC: in x2APIC mode KVM would store our xAPIC-format ID
     * in the x2APIC format, and the AP would come back with ID 0. */
    kvm_put_state(cpu);
    kvm_put_lapic_reset(cpu);
    /* Drop whatever exception, interrupt or NMI was queued for the old
     * kernel: it would be delivered through the new one's IDT. */
    memset(&events, 0, sizeof(events));
    events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
                   KVM_VCPUEVENT_VALID_SHADOW;
    if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &events) < 0) {
        error_report("KVM_SET_VCPU_EVENTS failed on CPU %d: %s", cpu->index, strerror(errno));
    }
}

/* ---- vCPU threads ----------------------------------------------------- */

static void sig_ipi_handler(int sig)
{
}

static void kvm_vcpu_kick(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;

    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (cpu->thread_started) {
        pthread_kill(cpu->thread, SIG_IPI);
    }
}

static void kvm_inject_nmi(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;

    v->nmi_pending = true;
    kvm_vcpu_kick(cpu);
}

static void kvm_fatal(CPUState *cpu, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Report a condition the guest cannot continue from, with a register
 * dump, and make the process exit with status 1. */
static void kvm_fatal(CPUState *cpu, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;
    g_autoptr(GString) dump = g_string_new(NULL);

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    kvm_get_state(cpu);
    x86_cpu_dump_state(&cpu->env, dump);
    error_report("%s (CPU %d)", msg, cpu->index);
    fputs(dump->str, stderr);
    cpu->stop = true;
    runstate_set(RUN_STATE_INTERNAL_ERROR);
    qemu_system_internal_error();
}

/* ---- coalesced I/O and ioeventfds -------------------------------------- */

/*
 * Perform the writes KVM queued in the coalesced ring, in order.  Called
 * with the big lock held at every exit before the exit itself is handled
 * (so a read of 0xcfc sees the address the guest wrote to 0xcf8 just
 * before), and by a 100 ms timer, so that a deferred write takes effect
 * even when no vCPU exits to userspace.
 */
static void kvm_flush_coalesced(void)
{
    struct kvm_coalesced_mmio_ring *ring = kvm_state.ring;

    if (!ring || !kvm_state.nr_zones) {
        return;
    }
    for (;;) {
        uint32_t first = ring->first;
        uint32_t last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
        if (first == last || first >= kvm_state.ring_max) {
            break;
        }
        struct kvm_coalesced_mmio *ent = &ring->coalesced_mmio[first];
        uint32_t len = ent->len;
        if (len >= 1 && len <= 8) {
            uint64_t val = 0;
            memcpy(&val, ent->data, len);
            address_space_st(ent->pio ? &address_space_io : &address_space_memory,
                             ent->phys_addr, val, len);
        }
        __atomic_store_n(&ring->first, (first + 1) % kvm_state.ring_max, __ATOMIC_RELEASE);
    }
}

static void kvm_ring_timer_cb(void *opaque)
{
    (void)opaque;
    kvm_flush_coalesced();
    timer_mod(kvm_state.ring_timer, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 100 * 1000 * 1000);
}

static void kvm_coalesce(uint64_t addr, uint64_t size, bool pio, bool add)
{
    struct kvm_coalesced_mmio_zone zone = { .addr = addr, .size = (uint32_t)size, .pio = pio };

    if (!kvm_state.ring || (pio && !kvm_state.coalesced_pio) || size > UINT32_MAX) {
        return;                 /* writes simply exit, as without coalescing */
    }
    if (ioctl(kvm_state.vmfd, add ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO,
              &zone) < 0) {
        if (add) {
            qemu_log_mask(LOG_UNIMP, "kvm: cannot coalesce %s 0x%" PRIx64 "+%" PRIu64 ": %s\n",
                          pio ? "I/O" : "MMIO", addr, size, strerror(errno));
        }
        return;
    }
    if (add) {
        kvm_state.nr_zones++;
        if (!kvm_state.ring_timer) {
            kvm_state.ring_timer = timer_new_ns(QEMU_CLOCK_REALTIME, kvm_ring_timer_cb, NULL);
        }
        if (!timer_pending(kvm_state.ring_timer)) {
            timer_mod(kvm_state.ring_timer,
                      qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 100 * 1000 * 1000);
        }
    } else {
        kvm_flush_coalesced();  /* what was queued for the zone still happens */
        if (kvm_state.nr_zones && --kvm_state.nr_zones == 0 && kvm_state.ring_timer) {
            timer_del(kvm_state.ring_timer);
        }
    }
}

/* One listener per address space; the I/O one registers PIO zones. */
static bool kvm_listener_is_pio(MemoryListener *l)
{
    return l == &kvm_state.io_listener;
}

static void kvm_coalesced_add(MemoryListener *l, uint64_t addr, uint64_t size)
{
    kvm_coalesce(addr, size, kvm_listener_is_pio(l), true);
}

static void kvm_coalesced_del(MemoryListener *l, uint64_t addr, uint64_t size)
{
    kvm_coalesce(addr, size, kvm_listener_is_pio(l), false);
}

/* An ioeventfd KVM refuses still works: the write exits and the memory
 * API's dispatch sets the notifier. */
static void kvm_ioeventfd(const MemoryRegionIoeventfd *fd, bool pio, bool add)
{
    struct kvm_ioeventfd kfd = {
        .datamatch = fd->match_data ? fd->data : 0,
        .addr = fd->addr,
        .len = fd->size,
        .fd = event_notifier_get_fd(fd->e),
        .flags = (fd->match_data ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
                 (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (add ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };

    if (!kvm_state.ioeventfds) {
        return;
    }
    if (ioctl(kvm_state.vmfd, KVM_IOEVENTFD, &kfd) < 0 && add) {
        qemu_log_mask(LOG_UNIMP, "kvm: ioeventfd at %s 0x%" PRIx64 " handled in userspace: %s\n",
                      pio ? "I/O" : "MMIO", fd->addr, strerror(errno));
    }
}

static void kvm_eventfd_add(MemoryListener *l, const MemoryRegionIoeventfd *fd)
{
    kvm_ioeventfd(fd, kvm_listener_is_pio(l), true);
}

static void kvm_eventfd_del(MemoryListener *l, const MemoryRegionIoeventfd *fd)
{
    kvm_ioeventfd(fd, kvm_listener_is_pio(l), false);
}

static void kvm_handle_io(struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    for (uint32_t i = 0; i < run->io.count; i++) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            uint64_t val = 0;
            memcpy(&val, data, run->io.size);
            address_space_st(&address_space_io, run->io.port, val, run->io.size);
        } else {
            uint64_t val;
            address_space_ld(&address_space_io, run->io.port, &val, run->io.size);
            memcpy(data, &val, run->io.size);
        }
        data += run->io.size;
    }
}

static void kvm_handle_mmio(struct kvm_run *run)
{
    unsigned len = run->mmio.len;

    if (len == 0 || len > 8) {
        return;
    }
    if (run->mmio.is_write) {
        uint64_t val = 0;
        memcpy(&val, run->mmio.data, len);
        address_space_st(&address_space_memory, run->mmio.phys_addr, val, len);
    } else {
        uint64_t val;
        address_space_ld(&address_space_memory, run->mmio.phys_addr, &val, len);
        memcpy(run->mmio.data, &val, len);
    }
}

/* A triple fault resets the machine; a guest that keeps triple-faulting
 * right after reset would spin forever, so that is an error. */
static void kvm_handle_shutdown(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    if (now - v->shutdown_window_start > NANOSECONDS_PER_SECOND) {
        v->shutdown_window_start = now;
        v->shutdowns_in_window = 0;
    }
    if (++v->shutdowns_in_window >= 5) {
        kvm_fatal(cpu, "the guest triple-faulted %d times within a second (reset loop)",
                  v->shutdowns_in_window);
        return;
    }
    if (qemu_loglevel_mask(CPU_LOG_RESET)) {
        g_autoptr(GString) dump = g_string_new(NULL);
        kvm_get_state(cpu);
        x86_cpu_dump_state(&cpu->env, dump);
        qemu_log("triple fault on CPU %d:\n%s", cpu->index, dump->str);
    }
    cpu->stop = true;           /* wait here until the reset is done */
    qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
}

static void kvm_handle_exit(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;
    struct kvm_run *run = v->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        kvm_handle_io(run);
        break;
    case KVM_EXIT_MMIO:
        kvm_handle_mmio(run);
        break;
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_HLT:
        break;
    case KVM_EXIT_SHUTDOWN:
        kvm_handle_shutdown(cpu);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
            cpu->stop = true;
            break;
        case KVM_SYSTEM_EVENT_RESET:
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
            cpu->stop = true;
            break;
        default:
            kvm_fatal(cpu, "KVM: guest crash event (type %u)", run->system_event.type);
        }
        break;
    case KVM_EXIT_INTERNAL_ERROR: {
        GString *s = g_string_new(NULL);
        for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++) {
            g_string_append_printf(s, " 0x%" PRIx64, (uint64_t)run->internal.data[i]);
        }
        kvm_fatal(cpu, "KVM internal error. Suberror: %u%s%s", run->internal.suberror,
                  s->len ? ", extra data:" : "", s->str);
        g_string_free(s, TRUE);
        break;
    }
    case KVM_EXIT_FAIL_ENTRY:
        kvm_fatal(cpu, "KVM: entry failed, hardware error 0x%" PRIx64,
                  (uint64_t)run->fail_entry.hardware_entry_failure_reason);
        break;
    default:
        kvm_fatal(cpu, "KVM: unhandled exit reason %u", run->exit_reason);
        break;
    }
}

static void *kvm_vcpu_thread(void *opaque)
{
    CPUState *cpu = opaque;
    KVMVcpu *v = cpu->accel;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIG_IPI);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    cpu->thread_id = (int)syscall(SYS_gettid);

    bql_lock();
    while (!cpu->exit_thread) {
        cpu_wait_while_stopped(cpu);
        if (cpu->exit_thread) {
            break;
        }
        if (qemu_system_exit_pending()) {
            /* e.g. isa-debug-exit: the guest must not run past the write
             * (whatever follows it may fault) while the main loop exits. */
            bql_unlock();
            g_usleep(1000);
            bql_lock();
            continue;
        }
        if (v->nmi_pending) {
            v->nmi_pending = false;
            ioctl(v->fd, KVM_NMI);
        }
        cpu->env_valid = false;
        bql_unlock();
        int r = ioctl(v->fd, KVM_RUN, 0);
        int err = errno;
        bql_lock();
        v->run->immediate_exit = 0;
        kvm_flush_coalesced();
        if (r < 0) {
            if (err == EINTR || err == EAGAIN) {
                continue;
            }
            kvm_fatal(cpu, "KVM_RUN failed: %s", strerror(err));
            continue;
        }
        kvm_handle_exit(cpu);
    }
    bql_unlock();
    return NULL;
}

static void kvm_vcpu_start(CPUState *cpu)
{
    sigset_t set, old;

    /* Threads start with SIG_IPI blocked; each unblocks it itself. */
    sigemptyset(&set);
    sigaddset(&set, SIG_IPI);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    cpu->thread_started = true;
    if (pthread_create(&cpu->thread, NULL, kvm_vcpu_thread, cpu) != 0) {
        cpu->thread_started = false;
        error_report("cannot create the thread of vCPU %d", cpu->index);
        qemu_system_internal_error();
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Creates a vCPU with its CPUID; cpu only needs index and apic_id. */
static KVMVcpu *kvm_vcpu_open(CPUState *cpu, Error **errp)
{
    KVMVcpu *v = g_new0(KVMVcpu, 1);
    struct kvm_cpuid2 *cpuid;

    v->fd = ioctl(kvm_state.vmfd, KVM_CREATE_VCPU, (unsigned long)cpu->apic_id);
    if (v->fd < 0) {
        error_setg_errno(errp, errno, "KVM: cannot create vCPU %d", cpu->index);
        g_free(v);
        return NULL;
    }
    v->run = mmap(NULL, kvm_state.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        error_setg_errno(errp, errno, "KVM: cannot map the run area of vCPU %d", cpu->index);
        close(v->fd);
        g_free(v);
        return NULL;
    }
    if (!kvm_state.ring && kvm_state.coalesced_page > 0) {
        long page = sysconf(_SC_PAGESIZE);
        if ((long)kvm_state.coalesced_page * page < kvm_state.run_size) {
            kvm_state.ring = (void *)((char *)v->run + (long)kvm_state.coalesced_page * page);
            kvm_state.ring_max = (page - sizeof(struct kvm_coalesced_mmio_ring)) /
                                 sizeof(struct kvm_coalesced_mmio);
        }
    }
    /* CPUID must be set before the vCPU first runs (Linux >= 5.16). */
    cpuid = kvm_build_cpuid(cpu);
    if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0) {
        error_setg_errno(errp, errno, "KVM: KVM_SET_CPUID2 failed for vCPU %d", cpu->index);
        g_free(cpuid);
        munmap(v->run, kvm_state.run_size);
        close(v->fd);
        g_free(v);
        return NULL;
    }
    g_free(cpuid);
    return v;
}

static KVMVcpu *boot_vcpu;      /* vCPU 0, created early for the self-test */

static bool kvm_vcpu_create(CPUState *cpu, Error **errp)
{
    KVMVcpu *v;

    if (cpu->index == 0 && boot_vcpu) {
        v = boot_vcpu;
        boot_vcpu = NULL;
    } else {
        v = kvm_vcpu_open(cpu, errp);
    }
    cpu->accel = v;
    return v != NULL;
}

/* ---- machine ---------------------------------------------------------- */

static bool kvm_init_machine(MachineState *ms, Error **errp)
{
    KVMState *s = &kvm_state;
    struct sigaction sa = { .sa_handler = sig_ipi_handler };

    s->fd = kvm_open_dev(errp);
    if (s->fd < 0) {
        return false;
    }
    if (!kvm_check_caps(s->fd, errp)) {
        return false;
    }
    s->run_size = ioctl(s->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    s->readonly_mem = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
    s->xcrs = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
    s->tsc_deadline = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
    s->coalesced_page = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
    s->coalesced_pio = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) > 0;
    s->ioeventfds = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
    int max_vcpus = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (max_vcpus <= 0) {
        max_vcpus = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    }
    if (max_vcpus > 0 && ms->smp.cpus > (unsigned)max_vcpus) {
        error_setg(errp, "-smp %u: this host's KVM supports at most %d vCPUs", ms->smp.cpus,
                   max_vcpus);
        return false;
    }
    s->vmfd = ioctl(s->fd, KVM_CREATE_VM, 0);
    if (s->vmfd < 0) {
        error_setg_errno(errp, errno, "KVM: KVM_CREATE_VM failed");
        return false;
    }
    s->supported_cpuid = kvm_get_supported_cpuid(s->fd);
    if (!s->supported_cpuid) {
        error_setg_errno(errp, errno, "KVM: KVM_GET_SUPPORTED_CPUID failed");
        return false;
    }
    s->ncpus = ms->smp.cpus;
    s->cores = MAX(ms->smp.cores, 1);
    s->threads = MAX(ms->smp.threads, 1);
    s->cpu_model = ms->cpu_model ? ms->cpu_model : "qemu64";
    /* The TSS and identity map live in the reserved area below 4 GiB. */
    if (ioctl(s->vmfd, KVM_SET_TSS_ADDR, 0xfeffd000UL) < 0) {
        error_setg_errno(errp, errno, "KVM: KVM_SET_TSS_ADDR failed");
        return false;
    }
    if (ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        uint64_t addr = 0xfeffc000;
        ioctl(s->vmfd, KVM_SET_IDENTITY_MAP_ADDR, &addr);
    }
    if (ioctl(s->vmfd, KVM_CREATE_IRQCHIP, 0) < 0) {
        error_setg_errno(errp, errno, "KVM: KVM_CREATE_IRQCHIP failed");
        return false;
    }
    if (!kvm_setup_irq_routing(errp)) {
        return false;
    }
    if (!ms->no_pit && !kvm_pit_create(errp)) {        /* -machine pit=off */
        return false;
    }
    /* vCPU 0 exists from here on; it runs the self-test now. */
    CPUState cpu0 = { .index = 0, .apic_id = 0 };
    boot_vcpu = kvm_vcpu_open(&cpu0, errp);
    if (!boot_vcpu) {
        return false;
    }
    if (s->self_test && !kvm_self_test(s->vmfd, boot_vcpu->fd, boot_vcpu->run, errp)) {
        return false;
    }
    sigaction(SIG_IPI, &sa, NULL);
    s->listener = (MemoryListener) {
        .region_add = kvm_region_add,
        .region_del = kvm_region_del,
        .log_start = kvm_log_start,
        .log_stop = kvm_log_stop,
        .log_sync = kvm_log_sync,
        .coalesced_io_add = kvm_coalesced_add,
        .coalesced_io_del = kvm_coalesced_del,
        .eventfd_add = kvm_eventfd_add,
        .eventfd_del = kvm_eventfd_del,
    };
    memory_listener_register(&s->listener, &address_space_memory);
    s->io_listener = (MemoryListener) {
        .coalesced_io_add = kvm_coalesced_add,
        .coalesced_io_del = kvm_coalesced_del,
        .eventfd_add = kvm_eventfd_add,
        .eventfd_del = kvm_eventfd_del,
    };
    memory_listener_register(&s->io_listener, &address_space_io);
    return true;
}

static const AccelOps kvm_accel_ops = {
    .name = "kvm",
    .desc = "Linux KVM (hardware-assisted, via /dev/kvm)",
    .kernel_irqchip = true,
    .probe = kvm_probe,
    .init_machine = kvm_init_machine,
    .vcpu_create = kvm_vcpu_create,
    .vcpu_start = kvm_vcpu_start,
    .vcpu_kick = kvm_vcpu_kick,
    .get_state = kvm_get_state,
    .put_state = kvm_put_state,
    .set_irq = kvm_set_irq,
    .inject_nmi = kvm_inject_nmi,
    .vcpu_reset = kvm_vcpu_reset,
    .set_option = kvm_set_option,
    .reset = kvm_reset_irqchip,
};

ACCEL_REGISTER(kvm_accel_ops)
