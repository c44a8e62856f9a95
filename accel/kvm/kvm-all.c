/*
 * The KVM accelerator: one VM, one thread per vCPU, memory slots from the
 * flat view, in-kernel irqchip (PIC, IOAPIC, LAPIC) and PIT, CPUID from
 * the host's supported set filtered to a coherent model.
 *
 * A vCPU thread runs KVM_RUN without the big lock and takes it to handle
 * an exit (port I/O and MMIO go through the memory API).  A kick sets
 * kvm_run.immediate_exit and sends SIG_IPI so KVM_RUN returns.
 */
#include <cpuid.h>
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
#include "hw/i386/x86-irq.h"
#include "hw/intc/apic.h"
#include "qemu/log.h"
#include "qemu/option.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "target/i386/cpu-model.h"

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
    /* kernel-irqchip=off: KVM has no LAPIC, so userspace keeps the vCPU's
     * HLT and wait-for-SIPI states and the last IA32_APIC_BASE it saw. */
    bool halted;
    bool wait_sipi;
    uint64_t apic_base;
    int64_t shutdown_window_start;
    int shutdowns_in_window;
    bool shut_down;             /* took a SHUTDOWN exit since its last reset */
} KVMVcpu;

typedef struct KVMState {
    int fd;
    int vmfd;
    int run_size;
    bool readonly_mem;
    bool xcrs;
    bool xsave;                 /* KVM_GET/SET_XSAVE (else KVM_GET/SET_FPU) */
    KVMSlot slots[KVM_MAX_SLOTS];
    MemoryListener listener;
    unsigned ncpus;
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
    AccelIrqchip irqchip;       /* -machine kernel-irqchip=on|split|off */
} KVMState;

static KVMState kvm_state = {
    .fd = -1, .vmfd = -1, .self_test = true, .irqchip = ACCEL_IRQCHIP_FULL,
};

static AccelIrqchip kvm_irqchip(void)
{
    return kvm_state.irqchip;
}

static bool kvm_lapic_in_kernel(void)
{
    return kvm_state.irqchip != ACCEL_IRQCHIP_NONE;
}

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
        { KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
        { KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS" },
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
 * PVM-style hypervisor that emulates ring 0 incompletely).  The probe runs
 * a tiny 32-bit ring-0 program in a throw-away VM that takes an interrupt
 * through the IDT, returns with iret and reports on a port, so that such a
 * KVM counts as "not usable" before the machine is built and the next
 * accelerator can be chosen (docs/vcpu-state.md has what it costs).
 */
#define SELF_TEST_SLOT 0

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

typedef struct SelfTestVM {
    int vmfd, cpufd, run_size;
    struct kvm_run *run;
} SelfTestVM;

static void *self_test_vm_destroy(void *opaque)
{
    SelfTestVM *t = opaque;

    if (t->run != MAP_FAILED) {
        munmap(t->run, t->run_size);
    }
    if (t->cpufd >= 0) {
        close(t->cpufd);
    }
    close(t->vmfd);
    g_free(t);
    return NULL;
}

/* A VM with one vCPU and no irqchip, only for the self-test.  Tearing it
 * down is left to a thread: the answer does not wait for it. */
static bool kvm_self_test_vm(int fd, Error **errp)
{
    SelfTestVM *t = g_new0(SelfTestVM, 1);
    pthread_t th;
    pthread_attr_t attr;
    bool ok = false;

    t->cpufd = -1;
    t->run = MAP_FAILED;
    t->vmfd = ioctl(fd, KVM_CREATE_VM, 0);
    if (t->vmfd < 0) {
        error_setg_errno(errp, errno, "KVM is not usable: KVM_CREATE_VM failed");
        g_free(t);
        return false;
    }
    t->run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    /* Intel without unrestricted guest needs the TSS before any vCPU runs. */
    if (ioctl(t->vmfd, KVM_SET_TSS_ADDR, 0xfeffd000UL) < 0) {
        error_setg_errno(errp, errno, "KVM is not usable: KVM_SET_TSS_ADDR failed");
    } else if ((t->cpufd = ioctl(t->vmfd, KVM_CREATE_VCPU, 0UL)) < 0) {
        error_setg_errno(errp, errno, "KVM is not usable: KVM_CREATE_VCPU failed");
    } else if (t->run_size <= 0 ||
               (t->run = mmap(NULL, t->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                              t->cpufd, 0)) == MAP_FAILED) {
        error_setg_errno(errp, errno, "KVM is not usable: cannot map a vCPU's run area");
    } else {
        ok = kvm_self_test(t->vmfd, t->cpufd, t->run, errp);
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, self_test_vm_destroy, t) != 0) {
        self_test_vm_destroy(t);
    }
    pthread_attr_destroy(&attr);
    return ok;
}

/* Usable means: /dev/kvm opens, has the API version and capabilities we
 * need, and (unless -accel kvm,self-test=off) runs ring-0 code. */
static bool kvm_probe(Error **errp)
{
    int fd = kvm_open_dev(errp);
    bool ok;

    if (fd < 0) {
        return false;
    }
    ok = kvm_check_caps(fd, errp) && (!kvm_state.self_test || kvm_self_test_vm(fd, errp));
    close(fd);
    return ok;
}

static bool kvm_set_option(const char *key, const char *value, Error **errp)
{
    if (!strcmp(key, "kernel-irqchip")) {
        if (!strcmp(value, "on") || !strcmp(value, "true")) {
            kvm_state.irqchip = ACCEL_IRQCHIP_FULL;
        } else if (!strcmp(value, "split")) {
            kvm_state.irqchip = ACCEL_IRQCHIP_SPLIT;
        } else if (!strcmp(value, "off") || !strcmp(value, "false")) {
            kvm_state.irqchip = ACCEL_IRQCHIP_NONE;
        } else {
            error_setg(errp, "kernel-irqchip=%s: expected on, split or off", value);
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

/*
 * Read-only to KVM only when the memory itself is ROM. A read-only *view*
 * of RAM (the i440FX/Q35 PAM "read RAM, write PCI" modes over the shadowed
 * BIOS and option-ROM area) stays a writable slot, as in QEMU, whose KVM
 * code looks at the RAM block rather than the alias: guest code that keeps
 * a GDT in a shadowed ROM (QEMU's linuxboot.bin) makes the CPU set a
 * descriptor's accessed bit there, and KVM cannot emulate that store into
 * a KVM_MEM_READONLY slot: the vCPU retries the instruction for ever.
 * tcg-lite and the device DMA paths still ignore such writes (docs/piix.md).
 */
static bool kvm_section_readonly(const MemoryRegionSection *sec)
{
    return sec->mr->type == MR_ROM || sec->mr->readonly;
}

static void kvm_region_add(MemoryListener *l, MemoryRegionSection *sec)
{
    uint64_t gpa, size, delta;
    KVMSlot *s;

    if (sec->mr->type == MR_IO || !section_aligned_part(sec, &gpa, &size, &delta)) {
        return;
    }
    if (kvm_section_readonly(sec) && !kvm_state.readonly_mem) {
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
    s->flags = (kvm_section_readonly(sec) ? KVM_MEM_READONLY : 0) |
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

/* KVM_GET_DIRTY_LOG returns and clears the slot's log, so one fetch feeds
 * every client that logs the region (the memory API ORs it into each). */
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
        memory_region_set_dirty_from_bitmap(s->mr, s->mr_offset, bitmap, pages);
    } else {
        /* Unknown: every page of the slot may have been written. */
        error_report("KVM: cannot fetch the dirty log of '%s': %s", sec->mr->name,
                     strerror(errno));
        memory_region_set_dirty(s->mr, s->mr_offset, s->size);
    }
    g_free(bitmap);
}

/* ---- irqchip ---------------------------------------------------------- */

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

    if (kvm_state.irqchip != ACCEL_IRQCHIP_FULL) {
        return;                 /* the PIC and IOAPIC are userspace devices */
    }
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
}

/* ---- CPUID ------------------------------------------------------------ */

/* The CPU model (target/i386) builds each vCPU's CPUID; KVM only says what
 * it can run: KVM_GET_SUPPORTED_CPUID, with the bits KVM emulates but
 * leaves to userspace to advertise (as QEMU's kvm_arch_get_supported_cpuid). */
static X86CPUModel *kvm_cpu;
static CPUIDTable kvm_supported;
static X86Topology kvm_topo;

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

static void kvm_supported_fixups(CPUIDTable *t, bool tsc_deadline)
{
    /* The host's brand string, for -cpu host (KVM may not report it; QEMU
     * reads it with the CPUID instruction too). */
    for (uint32_t fn = 0x80000002; fn <= 0x80000004; fn++) {
        const CPUIDEntry *e = cpuid_table_find(t, fn, 0);
        unsigned a, b, c, d;
        if ((!e || !(e->eax | e->ebx | e->ecx | e->edx)) && __get_cpuid(fn, &a, &b, &c, &d)) {
            cpuid_table_set(t, fn, 0, 0, a, b, c, d);
        }
    }
    for (unsigned i = 0; i < t->nent; i++) {
        CPUIDEntry *e = &t->entries[i];
        if (e->function == 1) {
            e->ecx |= CPUID_1_ECX_HYPERVISOR;
            /* The in-kernel LAPIC emulates the TSC-deadline timer. */
            if (tsc_deadline) {
                e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
            }
            /* kernel-irqchip=off, as QEMU: no x2APIC (KVM refuses its MSRs
             * without an in-kernel LAPIC) and no TSC-deadline timer (the
             * userspace LAPIC's TSC is not the one the guest reads). */
            if (kvm_state.irqchip == ACCEL_IRQCHIP_NONE) {
                e->ecx &= ~((1u << 21) | CPUID_1_ECX_TSC_DEADLINE);
            }
            /* MTRR, MCE, MCA, PAT: emulated, misreported by old kernels. */
            e->edx |= (1u << 12) | (1u << 7) | (1u << 14) | (1u << 16);
        }
    }
}

static bool kvm_cpuid_init(MachineState *ms, Error **errp)
{
    struct kvm_cpuid2 *sup = kvm_get_supported_cpuid(kvm_state.fd);
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    X86AccelCaps caps = { .name = "host", .supported = &kvm_supported, .host_cpu = true,
                          .kvm_pv = true };

    if (!sup) {
        error_setg_errno(errp, errno, "KVM: KVM_GET_SUPPORTED_CPUID failed");
        return false;
    }
    cpuid_table_free(&kvm_supported);
    for (uint32_t i = 0; i < sup->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &sup->entries[i];
        cpuid_table_set(&kvm_supported, e->function, e->index,
                        e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ?
                        CPUID_FLAG_SIGNIFICANT_INDEX : 0, e->eax, e->ebx, e->ecx, e->edx);
    }
    g_free(sup);
    kvm_supported_fixups(&kvm_supported, kvm_state.tsc_deadline);

    if (!ms->cpu) {
        ms->cpu = x86_cpu_model_parse("qemu64", errp);
        if (!ms->cpu) {
            return false;
        }
    }
    kvm_cpu = ms->cpu;
    if (!x86_cpu_model_realize(kvm_cpu, &caps, warnings, errp)) {
        error_prepend(errp, "-cpu %s: ", kvm_cpu->spec);
        return false;
    }
    for (guint i = 0; i < warnings->len; i++) {
        warn_report("%s", (const char *)g_ptr_array_index(warnings, i));
    }
    kvm_topo = (X86Topology) { ms->smp.sockets, ms->smp.dies, ms->smp.cores,
                               ms->smp.threads };
    return true;
}

static struct kvm_cpuid2 *kvm_build_cpuid(CPUState *cpu)
{
    CPUIDTable t;
    struct kvm_cpuid2 *c;

    cpuid_table_init(&t);
    x86_cpu_build_cpuid(kvm_cpu, &kvm_topo, cpu->apic_id, &t);
    c = g_malloc0(sizeof(*c) + t.nent * sizeof(c->entries[0]));
    c->nent = t.nent;
    for (unsigned i = 0; i < t.nent; i++) {
        const CPUIDEntry *e = &t.entries[i];
        c->entries[i] = (struct kvm_cpuid_entry2) {
            .function = e->function, .index = e->index,
            .flags = e->flags & CPUID_FLAG_SIGNIFICANT_INDEX ?
                     KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
            .eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
        };
    }
    cpuid_table_free(&t);
    return c;
}

/* ---- vCPU state ------------------------------------------------------- */

/*
 * get/put move the whole architectural state between KVM and cpu->env.
 * Every ioctl that fails is reported (the error names the ioctl and the
 * CPU); a failed get or put leaves the caller to decide (the monitor
 * reports it, a reset stops the process).
 *
 * Two depths of put: a full put (reset, loaders, incoming state) writes
 * everything; the write-back after a get (cpu->env_dirty: the monitor read
 * the registers and the vCPU is about to run again) leaves out what the
 * VM changes by itself while the vCPU is parked and what has side effects
 * on a running guest: the TSC and kvmclock MSRs, the MP state, the LAPIC
 * page (a device may have raised an interrupt into it meanwhile) and the
 * TSC deadline that goes with it.  That is QEMU's "runtime" level.
 */

static bool vcpu_ioctl(CPUState *cpu, unsigned long req, const char *name, void *arg,
                       Error **errp)
{
    KVMVcpu *v = cpu->accel;

    if (ioctl(v->fd, req, arg) < 0) {
        error_setg_errno(errp, errno, "KVM: %s failed on CPU %d", name, cpu->index);
        return false;
    }
    return true;
}
#define VCPU_IOCTL(cpu, req, arg, errp) vcpu_ioctl((cpu), (req), #req, (arg), (errp))

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

/* ---- MSRs ---- */

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_PHYSBASE0      0x200       /* base 0x200 + 2n, mask 0x201 + 2n */
#define MSR_MTRR_FIX64K_00000   0x250
#define MSR_MTRR_FIX16K_80000   0x258
#define MSR_MTRR_FIX16K_A0000   0x259
#define MSR_MTRR_FIX4K_C0000    0x268       /* ... 0x26f (F8000) */
#define MSR_PAT                 0x277
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_IA32_TSC_DEADLINE   0x6e0
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_FMASK               0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MSR_TSC_AUX             0xc0000103
/* KVM's paravirtual MSRs; the legacy kvmclock pair (0x11, 0x12) reads
 * and writes the same state as the new one, so only the new is saved. */
#define MSR_KVM_WALL_CLOCK_NEW      0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW     0x4b564d01
#define MSR_KVM_ASYNC_PF_EN         0x4b564d02
#define MSR_KVM_STEAL_TIME          0x4b564d03
#define MSR_KVM_PV_EOI_EN           0x4b564d04
#define MSR_KVM_POLL_CONTROL        0x4b564d05

enum {
    MSR_RUNTIME = 1 << 0,       /* also written back after a get */
    MSR_AFTER_LAPIC = 1 << 1,   /* only takes effect once the LAPIC is in place */
};

typedef struct KVMMsrDesc {
    uint32_t index;
    uint32_t flags;
    size_t offset;              /* of the uint64_t field in X86CPUState */
} KVMMsrDesc;

#define ENV(field) offsetof(X86CPUState, field)
#define MTRR_VAR(n) \
    { MSR_MTRR_PHYSBASE0 + 2 * (n), MSR_RUNTIME, ENV(mtrr_var[n].base) }, \
    { MSR_MTRR_PHYSBASE0 + 2 * (n) + 1, MSR_RUNTIME, ENV(mtrr_var[n].mask) }

static const KVMMsrDesc kvm_msrs[] = {
    { MSR_IA32_TSC, 0, ENV(tsc) },
    { MSR_IA32_SYSENTER_CS, MSR_RUNTIME, ENV(sysenter_cs) },
    { MSR_IA32_SYSENTER_ESP, MSR_RUNTIME, ENV(sysenter_esp) },
    { MSR_IA32_SYSENTER_EIP, MSR_RUNTIME, ENV(sysenter_eip) },
    { MSR_IA32_MISC_ENABLE, MSR_RUNTIME, ENV(misc_enable) },
    { MSR_PAT, MSR_RUNTIME, ENV(pat) },
    { MSR_STAR, MSR_RUNTIME, ENV(star) },
    { MSR_LSTAR, MSR_RUNTIME, ENV(lstar) },
    { MSR_CSTAR, MSR_RUNTIME, ENV(cstar) },
    { MSR_FMASK, MSR_RUNTIME, ENV(fmask) },
    { MSR_KERNEL_GS_BASE, MSR_RUNTIME, ENV(kernel_gs_base) },
    { MSR_TSC_AUX, MSR_RUNTIME, ENV(tsc_aux) },
    { MSR_MTRR_DEF_TYPE, MSR_RUNTIME, ENV(mtrr_deftype) },
    { MSR_MTRR_FIX64K_00000, MSR_RUNTIME, ENV(mtrr_fixed[0]) },
    { MSR_MTRR_FIX16K_80000, MSR_RUNTIME, ENV(mtrr_fixed[1]) },
    { MSR_MTRR_FIX16K_A0000, MSR_RUNTIME, ENV(mtrr_fixed[2]) },
    { MSR_MTRR_FIX4K_C0000 + 0, MSR_RUNTIME, ENV(mtrr_fixed[3]) },
    { MSR_MTRR_FIX4K_C0000 + 1, MSR_RUNTIME, ENV(mtrr_fixed[4]) },
    { MSR_MTRR_FIX4K_C0000 + 2, MSR_RUNTIME, ENV(mtrr_fixed[5]) },
    { MSR_MTRR_FIX4K_C0000 + 3, MSR_RUNTIME, ENV(mtrr_fixed[6]) },
    { MSR_MTRR_FIX4K_C0000 + 4, MSR_RUNTIME, ENV(mtrr_fixed[7]) },
    { MSR_MTRR_FIX4K_C0000 + 5, MSR_RUNTIME, ENV(mtrr_fixed[8]) },
    { MSR_MTRR_FIX4K_C0000 + 6, MSR_RUNTIME, ENV(mtrr_fixed[9]) },
    { MSR_MTRR_FIX4K_C0000 + 7, MSR_RUNTIME, ENV(mtrr_fixed[10]) },
    MTRR_VAR(0), MTRR_VAR(1), MTRR_VAR(2), MTRR_VAR(3),
    MTRR_VAR(4), MTRR_VAR(5), MTRR_VAR(6), MTRR_VAR(7),
    { MSR_IA32_TSC_DEADLINE, MSR_AFTER_LAPIC, ENV(tsc_deadline) },
    { MSR_KVM_SYSTEM_TIME_NEW, 0, ENV(system_time_msr) },
    { MSR_KVM_WALL_CLOCK_NEW, 0, ENV(wall_clock_msr) },
    { MSR_KVM_ASYNC_PF_EN, 0, ENV(async_pf_en_msr) },
    { MSR_KVM_STEAL_TIME, 0, ENV(steal_time_msr) },
    { MSR_KVM_PV_EOI_EN, 0, ENV(pv_eoi_en_msr) },
    { MSR_KVM_POLL_CONTROL, 0, ENV(poll_control_msr) },
};
#undef MTRR_VAR
#undef ENV

#define KVM_NB_MSRS G_N_ELEMENTS(kvm_msrs)

/* Which of kvm_msrs this KVM has (a host without one must not stop the
 * others): found once, on the first vCPU, by reading each alone. */
static bool kvm_msr_present[KVM_NB_MSRS];
static bool kvm_msrs_probed;

typedef struct KVMMsrBuf {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[KVM_NB_MSRS];
} KVMMsrBuf;

static void kvm_probe_msrs(int fd)
{
    for (size_t i = 0; i < KVM_NB_MSRS; i++) {
        struct { struct kvm_msrs hdr; struct kvm_msr_entry e; } one = {
            .hdr.nmsrs = 1, .e.index = kvm_msrs[i].index,
        };
        kvm_msr_present[i] = ioctl(fd, KVM_GET_MSRS, &one) == 1;
    }
    kvm_msrs_probed = true;
}

static uint64_t *msr_field(X86CPUState *env, const KVMMsrDesc *d)
{
    return (uint64_t *)((char *)env + d->offset);
}

/* Reads or writes the MSRs of kvm_msrs selected by want/skip flags; a
 * short count from KVM names the first MSR it refused. */
static bool kvm_msrs_io(CPUState *cpu, bool put, uint32_t want, uint32_t skip, Error **errp)
{
    KVMVcpu *v = cpu->accel;
    X86CPUState *env = &cpu->env;
    g_autofree KVMMsrBuf *buf = g_new0(KVMMsrBuf, 1);
    const KVMMsrDesc *desc[KVM_NB_MSRS];
    unsigned n = 0;
    int r;

    for (size_t i = 0; i < KVM_NB_MSRS; i++) {
        const KVMMsrDesc *d = &kvm_msrs[i];
        if (!kvm_msr_present[i] || (want && !(d->flags & want)) || (d->flags & skip)) {
            continue;
        }
        desc[n] = d;
        buf->e[n].index = d->index;
        buf->e[n].data = put ? *msr_field(env, d) : 0;
        n++;
    }
    buf->hdr.nmsrs = n;
    if (n == 0) {
        return true;
    }
    r = ioctl(v->fd, put ? KVM_SET_MSRS : KVM_GET_MSRS, buf);
    if (r < 0) {
        error_setg_errno(errp, errno, "KVM: %s failed on CPU %d", put ? "KVM_SET_MSRS" :
                         "KVM_GET_MSRS", cpu->index);
        return false;
    }
    if ((unsigned)r < n) {
        error_setg(errp, "KVM: %s failed on CPU %d at MSR 0x%x (value 0x%" PRIx64 ")",
                   put ? "KVM_SET_MSRS" : "KVM_GET_MSRS", cpu->index, buf->e[r].index,
                   (uint64_t)buf->e[r].data);
        return false;
    }
    if (!put) {
        for (unsigned i = 0; i < n; i++) {
            *msr_field(env, desc[i]) = buf->e[i].data;
        }
    }
    return true;
}

/* ---- MP state ---- */

static bool mp_state_from_kvm(uint32_t k, X86MPState *s)
{
    switch (k) {
    case KVM_MP_STATE_RUNNABLE: *s = CPU_MP_RUNNABLE; return true;
    case KVM_MP_STATE_UNINITIALIZED: *s = CPU_MP_UNINITIALIZED; return true;
    case KVM_MP_STATE_INIT_RECEIVED: *s = CPU_MP_INIT_RECEIVED; return true;
    case KVM_MP_STATE_HALTED: *s = CPU_MP_HALTED; return true;
    case KVM_MP_STATE_SIPI_RECEIVED: *s = CPU_MP_SIPI_RECEIVED; return true;
    }
    return false;
}

static uint32_t mp_state_to_kvm(X86MPState s)
{
    static const uint32_t map[CPU_MP__MAX] = {
        [CPU_MP_RUNNABLE] = KVM_MP_STATE_RUNNABLE,
        [CPU_MP_UNINITIALIZED] = KVM_MP_STATE_UNINITIALIZED,
        [CPU_MP_INIT_RECEIVED] = KVM_MP_STATE_INIT_RECEIVED,
        [CPU_MP_HALTED] = KVM_MP_STATE_HALTED,
        [CPU_MP_SIPI_RECEIVED] = KVM_MP_STATE_SIPI_RECEIVED,
    };

    return (unsigned)s < CPU_MP__MAX ? map[s] : KVM_MP_STATE_RUNNABLE;
}

/* ---- FPU: the XSAVE area, or the FXSAVE image where KVM has no XSAVE ---- */

static void fxsave_from_kvm_fpu(uint8_t *fx, const struct kvm_fpu *fpu)
{
    uint64_t xstate_bv = XSTATE_FP | XSTATE_SSE;

    memset(fx, 0, 512);
    memcpy(fx + 0, &fpu->fcw, 2);
    memcpy(fx + 2, &fpu->fsw, 2);
    fx[4] = fpu->ftwx;
    memcpy(fx + 6, &fpu->last_opcode, 2);
    memcpy(fx + 8, &fpu->last_ip, 8);
    memcpy(fx + 16, &fpu->last_dp, 8);
    memcpy(fx + 24, &fpu->mxcsr, 4);
    for (int i = 0; i < 8; i++) {
        memcpy(fx + 32 + i * 16, fpu->fpr[i], 16);
    }
    memcpy(fx + 160, fpu->xmm, 256);
    /* Keep the XSAVE view consistent: x87 and SSE are what fxsave says. */
    memset(fx + X86_XSAVE_HDR_OFFSET, 0, 64);
    memcpy(fx + X86_XSAVE_HDR_OFFSET, &xstate_bv, 8);
}

static void fxsave_to_kvm_fpu(struct kvm_fpu *fpu, const uint8_t *fx)
{
    memset(fpu, 0, sizeof(*fpu));
    memcpy(&fpu->fcw, fx + 0, 2);
    memcpy(&fpu->fsw, fx + 2, 2);
    fpu->ftwx = fx[4];
    memcpy(&fpu->last_opcode, fx + 6, 2);
    memcpy(&fpu->last_ip, fx + 8, 8);
    memcpy(&fpu->last_dp, fx + 16, 8);
    memcpy(&fpu->mxcsr, fx + 24, 4);
    for (int i = 0; i < 8; i++) {
        memcpy(fpu->fpr[i], fx + 32 + i * 16, 16);
    }
    memcpy(fpu->xmm, fx + 160, 256);
}

static bool kvm_get_fpu(CPUState *cpu, Error **errp)
{
    X86CPUState *env = &cpu->env;

    if (kvm_state.xsave) {
        struct kvm_xsave *xs = g_malloc0(sizeof(*xs));
        bool ok = VCPU_IOCTL(cpu, KVM_GET_XSAVE, xs, errp);
        if (ok) {
            memcpy(env->xsave, xs->region, X86_XSAVE_AREA_SIZE);
        }
        g_free(xs);
        if (!ok) {
            return false;
        }
    } else {
        struct kvm_fpu fpu;
        if (!VCPU_IOCTL(cpu, KVM_GET_FPU, &fpu, errp)) {
            return false;
        }
        fxsave_from_kvm_fpu(env->xsave, &fpu);
    }
    if (kvm_state.xcrs) {
        struct kvm_xcrs xcrs;
        if (!VCPU_IOCTL(cpu, KVM_GET_XCRS, &xcrs, errp)) {
            return false;
        }
        for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++) {
            if (xcrs.xcrs[i].xcr == 0) {
                env->xcr0 = xcrs.xcrs[i].value;
            }
        }
    }
    return true;
}

static bool kvm_put_fpu(CPUState *cpu, Error **errp)
{
    X86CPUState *env = &cpu->env;

    if (kvm_state.xsave) {
        struct kvm_xsave *xs = g_malloc0(sizeof(*xs));
        bool ok;
        memcpy(xs->region, env->xsave, X86_XSAVE_AREA_SIZE);
        ok = VCPU_IOCTL(cpu, KVM_SET_XSAVE, xs, errp);
        g_free(xs);
        if (!ok) {
            return false;
        }
    } else {
        struct kvm_fpu fpu;
        fxsave_to_kvm_fpu(&fpu, env->fxsave);
        if (!VCPU_IOCTL(cpu, KVM_SET_FPU, &fpu, errp)) {
            return false;
        }
    }
    if (kvm_state.xcrs) {
        struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs[0] = { .xcr = 0, .value = env->xcr0 } };
        if (!VCPU_IOCTL(cpu, KVM_SET_XCRS, &xcrs, errp)) {
            return false;
        }
    }
    return true;
}

/* ---- registers, events, debug registers ---- */

static bool kvm_get_regs(CPUState *cpu, Error **errp)
{
    X86CPUState *env = &cpu->env;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    uint64_t *r = env->regs;

    if (!VCPU_IOCTL(cpu, KVM_GET_REGS, &regs, errp) ||
        !VCPU_IOCTL(cpu, KVM_GET_SREGS, &sregs, errp)) {
        return false;
    }
    r[R_EAX] = regs.rax; r[R_EBX] = regs.rbx; r[R_ECX] = regs.rcx; r[R_EDX] = regs.rdx;
    r[R_ESI] = regs.rsi; r[R_EDI] = regs.rdi; r[R_ESP] = regs.rsp; r[R_EBP] = regs.rbp;
    r[R_R8] = regs.r8; r[R_R9] = regs.r9; r[R_R10] = regs.r10; r[R_R11] = regs.r11;
    r[R_R12] = regs.r12; r[R_R13] = regs.r13; r[R_R14] = regs.r14; r[R_R15] = regs.r15;
    env->rip = regs.rip;
    env->rflags = regs.rflags;
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
    return true;
}

static bool kvm_put_regs(CPUState *cpu, Error **errp)
{
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
    return VCPU_IOCTL(cpu, KVM_SET_SREGS, &sregs, errp) &&
           VCPU_IOCTL(cpu, KVM_SET_REGS, &regs, errp);
}

static bool kvm_get_events(CPUState *cpu, Error **errp)
{
    X86CPUEvents *e = &cpu->env.events;
    struct kvm_vcpu_events ev;

    if (!VCPU_IOCTL(cpu, KVM_GET_VCPU_EVENTS, &ev, errp)) {
        return false;
    }
    /* Without KVM_CAP_EXCEPTION_PAYLOAD (never enabled here) a pending
     * exception is reported as injected. */
    e->exception_injected = ev.exception.injected;
    e->exception_nr = ev.exception.nr;
    e->exception_has_error_code = ev.exception.has_error_code;
    e->exception_error_code = ev.exception.error_code;
    e->interrupt_injected = ev.interrupt.injected;
    e->interrupt_nr = ev.interrupt.nr;
    e->interrupt_soft = ev.interrupt.soft;
    e->interrupt_shadow = ev.interrupt.shadow;
    e->nmi_injected = ev.nmi.injected;
    e->nmi_pending = ev.nmi.pending;
    e->nmi_masked = ev.nmi.masked;
    e->sipi_vector = ev.sipi_vector;
    return true;
}

static bool kvm_put_events(CPUState *cpu, bool full, Error **errp)
{
    const X86CPUEvents *e = &cpu->env.events;
    struct kvm_vcpu_events ev;

    memset(&ev, 0, sizeof(ev));
    ev.exception.injected = e->exception_injected;
    ev.exception.nr = e->exception_nr;
    ev.exception.has_error_code = e->exception_has_error_code;
    ev.exception.error_code = e->exception_error_code;
    ev.interrupt.injected = e->interrupt_injected;
    ev.interrupt.nr = e->interrupt_nr;
    ev.interrupt.soft = e->interrupt_soft;
    ev.interrupt.shadow = e->interrupt_shadow;
    ev.nmi.injected = e->nmi_injected;
    ev.nmi.pending = e->nmi_pending;
    ev.nmi.masked = e->nmi_masked;
    ev.sipi_vector = e->sipi_vector;
    ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
               (full ? KVM_VCPUEVENT_VALID_SIPI_VECTOR : 0);
    return VCPU_IOCTL(cpu, KVM_SET_VCPU_EVENTS, &ev, errp);
}

static bool kvm_get_debugregs(CPUState *cpu, Error **errp)
{
    X86CPUState *env = &cpu->env;
    struct kvm_debugregs dbg;

    if (!VCPU_IOCTL(cpu, KVM_GET_DEBUGREGS, &dbg, errp)) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        env->dr[i] = dbg.db[i];
    }
    env->dr[6] = dbg.dr6;
    env->dr[7] = dbg.dr7;
    return true;
}

static bool kvm_put_debugregs(CPUState *cpu, Error **errp)
{
    X86CPUState *env = &cpu->env;
    struct kvm_debugregs dbg;

    memset(&dbg, 0, sizeof(dbg));
    for (int i = 0; i < 4; i++) {
        dbg.db[i] = env->dr[i];
    }
    dbg.dr6 = env->dr[6];
    dbg.dr7 = env->dr[7];
    return VCPU_IOCTL(cpu, KVM_SET_DEBUGREGS, &dbg, errp);
}

static bool kvm_get_lapic(CPUState *cpu, Error **errp)
{
    struct kvm_lapic_state lapic;

    G_STATIC_ASSERT(sizeof(lapic.regs) == X86_LAPIC_PAGE_SIZE);
    if (!VCPU_IOCTL(cpu, KVM_GET_LAPIC, &lapic, errp)) {
        return false;
    }
    memcpy(cpu->env.lapic, lapic.regs, X86_LAPIC_PAGE_SIZE);
    return true;
}

static bool kvm_put_lapic(CPUState *cpu, Error **errp)
{
    struct kvm_lapic_state lapic;

    memcpy(lapic.regs, cpu->env.lapic, X86_LAPIC_PAGE_SIZE);
    return VCPU_IOCTL(cpu, KVM_SET_LAPIC, &lapic, errp);
}

static bool kvm_get_state(CPUState *cpu, Error **errp)
{
    X86CPUState *env = &cpu->env;
    struct kvm_mp_state mp;

    if (!kvm_get_regs(cpu, errp) || !kvm_get_fpu(cpu, errp) ||
        !kvm_msrs_io(cpu, false, 0, 0, errp) || !kvm_get_events(cpu, errp) ||
        !kvm_get_debugregs(cpu, errp) ||
        (kvm_lapic_in_kernel() && !kvm_get_lapic(cpu, errp)) ||
        !VCPU_IOCTL(cpu, KVM_GET_MP_STATE, &mp, errp)) {
        return false;
    }
    if (!kvm_lapic_in_kernel()) {
        /* kernel-irqchip=off: userspace keeps HLT and wait-for-SIPI. */
        KVMVcpu *v = cpu->accel;
        env->mp_state = v->wait_sipi ? CPU_MP_INIT_RECEIVED
                        : v->halted ? CPU_MP_HALTED : CPU_MP_RUNNABLE;
    } else if (!mp_state_from_kvm(mp.mp_state, &env->mp_state)) {
        error_setg(errp, "KVM: CPU %d is in MP state %u, which kvmpc does not model",
                   cpu->index, mp.mp_state);
        return false;
    }
    cpu->env_valid = true;
    /* From now on env is the reference: whatever reads (or edits) it, the
     * vCPU gets it back before it runs again. */
    cpu->env_dirty = true;
    return true;
}

/*
 * Order matters: special registers (with APIC_BASE, which leaves x2APIC
 * mode) before the LAPIC, or KVM would store our xAPIC-format ID in the
 * x2APIC format; the LAPIC before the TSC deadline, which KVM ignores
 * unless the LVT timer is in TSC-deadline mode; events after the
 * registers they belong to.
 */
static bool kvm_put(CPUState *cpu, bool full, Error **errp)
{
    X86CPUState *env = &cpu->env;

    if (!kvm_put_fpu(cpu, errp) || !kvm_put_regs(cpu, errp) ||
        !kvm_msrs_io(cpu, true, full ? 0 : MSR_RUNTIME, MSR_AFTER_LAPIC, errp) ||
        !kvm_put_events(cpu, full, errp)) {
        return false;
    }
    if (full && kvm_lapic_in_kernel()) {
        struct kvm_mp_state mp = { .mp_state = mp_state_to_kvm(env->mp_state) };
        if (!VCPU_IOCTL(cpu, KVM_SET_MP_STATE, &mp, errp) || !kvm_put_lapic(cpu, errp) ||
            !kvm_msrs_io(cpu, true, MSR_AFTER_LAPIC, 0, errp)) {
            return false;
        }
    } else if (full) {
        /* Without an in-kernel LAPIC KVM only takes RUNNABLE: the halted
         * and wait-for-SIPI states stay here (KVMVcpu), and the LAPIC page
         * is the userspace LAPIC's. */
        KVMVcpu *v = cpu->accel;
        struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
        if (!VCPU_IOCTL(cpu, KVM_SET_MP_STATE, &mp, errp)) {
            return false;
        }
        v->wait_sipi = env->mp_state == CPU_MP_UNINITIALIZED ||
                       env->mp_state == CPU_MP_INIT_RECEIVED;
        v->halted = env->mp_state == CPU_MP_HALTED;
    }
    if (!kvm_put_debugregs(cpu, errp)) {
        return false;
    }
    cpu->env_valid = true;
    cpu->env_dirty = false;
    return true;
}

static bool kvm_put_state(CPUState *cpu, Error **errp)
{
    return kvm_put(cpu, true, errp);
}

/*
 * A vCPU that took a SHUTDOWN exit (triple fault) gets its MMU context
 * reset before the reset state goes in.  KVM on AMD answers the SHUTDOWN
 * intercept by clearing and re-initialising the vCPU's VMCB; with only
 * the reset state written after that, the vCPU never executed another
 * instruction: an AP that had triple-faulted sat at its SIPI vector's
 * first byte forever, RUNNABLE, inside KVM_RUN, and did not start after
 * the machine's reset (tests/guest/apreset.c; Linux 6.1's kvm-amd in the
 * KVM lab; QEMU's reset did not hit it).  A reset of KVM's MMU context
 * cures it (our reading: the re-initialised VMCB lacks the nested page
 * table root, which KVM loads again only then).  KVM_SET_SREGS resets the
 * context when CR0, CR4 or EFER change, and the reset state has the very
 * values KVM's own INIT left, so: the current special registers go back
 * with CR0.NE flipped first (valid in any mode), then kvm_put() writes
 * the real ones.  Harmless where there is nothing to cure (Intel).
 */
static bool kvm_reset_mmu(CPUState *cpu, Error **errp)
{
    struct kvm_sregs sregs;

    if (!VCPU_IOCTL(cpu, KVM_GET_SREGS, &sregs, errp)) {
        return false;
    }
    sregs.cr0 ^= CR0_NE;
    return VCPU_IOCTL(cpu, KVM_SET_SREGS, &sregs, errp);
}

static bool kvm_vcpu_reset(CPUState *cpu, Error **errp)
{
    KVMVcpu *v = cpu->accel;

    /* An NMI asked for before the reset belongs to the old guest, and so
     * does whatever the userspace interrupt controllers had pending. */
    v->nmi_pending = false;
    cpu_reset_interrupt(cpu, ~0u);
    if (v->shut_down && !kvm_reset_mmu(cpu, errp)) {
        return false;
    }
    v->shut_down = false;
    return kvm_put(cpu, true, errp);
}

/* ---- userspace interrupt controllers (kernel-irqchip=off and split) ---- */

/*
 * With kernel-irqchip=off KVM runs the CPU only: the PIC, IOAPIC, LAPICs and
 * PIT are the machine's userspace devices, and this file does what the
 * in-kernel LAPIC would: it injects the vector cpu_get_interrupt() yields
 * with KVM_INTERRUPT when the vCPU can take it (else it asks KVM for an
 * interrupt window exit), keeps HLT and wait-for-SIPI in userspace, handles
 * INIT and SIPI, injects NMIs with KVM_NMI, and keeps the LAPIC's TPR and
 * IA32_APIC_BASE in step with CR8 and the MSR (kvm_run.cr8, .apic_base).
 * With kernel-irqchip=split the LAPICs are KVM's; only the PIC's ExtINT
 * needs injecting (KVM_INTERRUPT again), and the IOAPIC's messages go in as
 * MSIs (kvm_split_backend).
 */

static void kvm_fatal(CPUState *cpu, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* INIT: the vCPU resets, keeping IA32_APIC_BASE; an AP then waits for a
 * SIPI, the BSP starts at the reset vector. */
static void kvm_user_init(CPUState *cpu)
{
    g_autoptr(GError) err = NULL;
    uint64_t apic_base;
    bool bsp;

    if (!kvm_get_state(cpu, &err)) {
        kvm_fatal(cpu, "INIT: %s", err->message);
        return;
    }
    apic_base = cpu->env.apic_base;
    bsp = apic_base & MSR_IA32_APICBASE_BSP;
    x86_cpu_reset_state(&cpu->env, cpu->apic_id, bsp);
    cpu->env.apic_base = apic_base;
    cpu->env.mp_state = bsp ? CPU_MP_RUNNABLE : CPU_MP_INIT_RECEIVED;
    apic_init_reset(cpu->apic);
    if (!kvm_put_state(cpu, &err)) {
        kvm_fatal(cpu, "INIT: %s", err->message);
    }
}

/* SIPI: real mode at vector:0000. */
static void kvm_user_sipi(CPUState *cpu)
{
    g_autoptr(GError) err = NULL;
    SegmentCache *cs = &cpu->env.segs[R_CS];

    if (!kvm_get_state(cpu, &err)) {
        kvm_fatal(cpu, "SIPI: %s", err->message);
        return;
    }
    cs->selector = cpu->sipi_vector << 8;
    cs->base = (uint64_t)cpu->sipi_vector << 12;
    cpu->env.rip = 0;
    cpu->env.mp_state = CPU_MP_RUNNABLE;
    if (!kvm_put_state(cpu, &err)) {
        kvm_fatal(cpu, "SIPI: %s", err->message);
    }
}

/* PIC or LAPIC interrupt: inject it when the vCPU can take one now, else
 * ask KVM to exit as soon as it can (KVM_EXIT_IRQ_WINDOW_OPEN). */
static void kvm_inject_pending(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;
    struct kvm_run *run = v->run;

    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_HARD) && run->ready_for_interrupt_injection &&
        run->if_flag) {
        int vector = cpu_get_interrupt(cpu);
        if (vector >= 0) {
            struct kvm_interrupt irq = { .irq = vector };
            if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0) {
                error_report("KVM_INTERRUPT(%d) failed on CPU %d: %s", vector, cpu->index,
                             strerror(errno));
            }
        }
    }
    run->request_interrupt_window = cpu_interrupt_pending(cpu, CPU_INTERRUPT_HARD);
}

/* Before KVM_RUN (BQL held).  False: the vCPU is halted or waits for a
 * SIPI and must sleep until an interrupt arrives. */
static bool kvm_user_irqchip_pre_run(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;

    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_INIT)) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_INIT);
        kvm_user_init(cpu);
    }
    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_SIPI)) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_SIPI);
        if (v->wait_sipi) {
            kvm_user_sipi(cpu);
        }
    }
    if (v->wait_sipi) {
        return false;
    }
    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_NMI)) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_NMI);
        if (ioctl(v->fd, KVM_NMI) < 0) {
            error_report("KVM_NMI failed on CPU %d: %s", cpu->index, strerror(errno));
        }
        v->halted = false;
    }
    if (v->halted) {
        /* HLT ends with an interrupt the CPU takes (IF=1) or an NMI. */
        if (!cpu_interrupt_pending(cpu, CPU_INTERRUPT_HARD) || !v->run->if_flag) {
            return false;
        }
        v->halted = false;
    }
    kvm_inject_pending(cpu);
    v->run->cr8 = apic_get_tpr(cpu->apic);
    return true;
}

/* After KVM_RUN (BQL held): CR8 and IA32_APIC_BASE as the guest left them. */
static void kvm_user_irqchip_post_run(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;

    apic_set_tpr(cpu->apic, v->run->cr8);
    if (v->run->apic_base != v->apic_base) {
        v->apic_base = v->run->apic_base;
        apic_set_base(cpu->apic, v->apic_base);
    }
}

/* kernel-irqchip=split: an APIC bus message (from the userspace IOAPIC)
 * enters KVM's LAPICs as the MSI that says the same (SDM 11.11). */
static void kvm_split_deliver(const APICMessage *m)
{
    uint64_t addr;
    uint32_t data;

    apic_message_to_msi(m, &addr, &data);
    kvm_send_msi(addr, data);
}

static const APICBusBackend kvm_split_backend = {
    .deliver = kvm_split_deliver,
    /* no get_interrupt: the CPU side's INTA reads the PIC (ExtINT) */
    .route_update = kvm_split_route_update,
};

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
    cpus_broadcast();       /* a vCPU halted in userspace (kernel-irqchip=off) */
}

static void kvm_inject_nmi(CPUState *cpu)
{
    KVMVcpu *v = cpu->accel;

    if (!kvm_lapic_in_kernel()) {
        apic_external_nmi(cpu);         /* as QEMU's userspace APIC */
        return;
    }
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
    g_autoptr(GError) err = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_report("%s (CPU %d)", msg, cpu->index);
    if (kvm_get_state(cpu, &err)) {
        x86_cpu_dump_state(&cpu->env, dump);
        fputs(dump->str, stderr);
    } else {
        error_report("no register dump: %s", err->message);
    }
    cpu_park_until_reset(cpu);
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

    /* The zones belong to the VM, the ring to the first vCPU's run area:
     * a window the machine declares before any vCPU exists (the chipset's
     * CONFIG_ADDRESS, the IDE taskfile) is registered now all the same;
     * only guest code writes into it, and the ring is there by then.
     * (Waiting for the ring left exactly those windows out, for good.) */
    if (kvm_state.coalesced_page <= 0 || (pio && !kvm_state.coalesced_pio) || size > UINT32_MAX) {
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
    qemu_log_mask(LOG_TRACE, "kvm: coalesced %s 0x%" PRIx64 "+0x%" PRIx64 " %s\n", pio ? "I/O" : "MMIO",
                  addr, size, add ? "registered" : "unregistered");
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
        g_autoptr(GError) err = NULL;
        if (kvm_get_state(cpu, &err)) {
            x86_cpu_dump_state(&cpu->env, dump);
            /* KVM on AMD answers the SHUTDOWN intercept with an INIT of
             * the vCPU before it returns to us: say so, or the dump reads
             * like a fault at the reset vector.  The registers of the
             * fault are in the host kernel's kvm:kvm_exit tracepoint
             * (tests/functional/lab_shutdowns.py). */
            if (cpu->env.segs[R_CS].selector == 0xf000 && cpu->env.rip == 0xfff0) {
                g_string_append(dump, "(this is the INIT state KVM put the vCPU in at the "
                                      "shutdown, not the state of the fault: see the host's "
                                      "kvm:kvm_exit trace event for the faulting RIP)\n");
            }
        } else {
            g_string_append_printf(dump, "(no register dump: %s)\n", err->message);
        }
        qemu_log("triple fault on CPU %d:\n%s", cpu->index, dump->str);
    }
    /* After a shutdown exit the vCPU must not run until it is reset (KVM on
     * AMD has already put it at the reset vector): only the reset frees it. */
    v->shut_down = true;
    cpu_park_until_reset(cpu);
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
    case KVM_EXIT_HLT:
        v->halted = !kvm_lapic_in_kernel();
        break;
    case KVM_EXIT_IOAPIC_EOI:
        apic_bus_eoi_broadcast(run->eoi.vector);
        break;
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        break;
    case KVM_EXIT_SHUTDOWN:
        kvm_handle_shutdown(cpu);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            cpu_park_until_reset(cpu);
            qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
            break;
        case KVM_SYSTEM_EVENT_RESET:
            qemu_log_mask(CPU_LOG_RESET, "KVM: reset system event on CPU %d\n", cpu->index);
            cpu_park_until_reset(cpu);
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
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
    current_cpu = cpu;

    bql_lock();
    while (!cpu->exit_thread) {
        CPULoopStep step = cpu_loop_begin(cpu);
        if (step == CPU_LOOP_EXIT) {
            break;
        } else if (step == CPU_LOOP_AGAIN) {
            continue;
        }
        if (cpu->env_dirty) {
            /* Someone read the registers while we were parked: they go
             * back (edited or not) before the guest runs on. */
            g_autoptr(GError) err = NULL;
            if (!kvm_put(cpu, false, &err)) {
                kvm_fatal(cpu, "cannot write back the registers: %s", err->message);
                continue;
            }
        }
        if (kvm_state.irqchip == ACCEL_IRQCHIP_NONE && !kvm_user_irqchip_pre_run(cpu)) {
            cpus_wait();        /* halted: cpu_interrupt() wakes us */
            continue;
        }
        if (kvm_state.irqchip == ACCEL_IRQCHIP_SPLIT && cpu->index == 0) {
            kvm_inject_pending(cpu);        /* the userspace PIC's ExtINT */
        }
        if (v->nmi_pending) {
            v->nmi_pending = false;
            if (ioctl(v->fd, KVM_NMI) < 0) {
                error_report("KVM: KVM_NMI failed on CPU %d: %s", cpu->index, strerror(errno));
            }
        }
        cpu->env_valid = false;
        bql_unlock();
        int r = ioctl(v->fd, KVM_RUN, 0);
        int err = errno;
        bql_lock();
        v->run->immediate_exit = 0;
        if (kvm_state.irqchip == ACCEL_IRQCHIP_NONE) {
            kvm_user_irqchip_post_run(cpu);
        }
        vcpu_io_begin();
        kvm_flush_coalesced();
        vcpu_io_end();
        if (r < 0) {
            if (err == EINTR || err == EAGAIN) {
                continue;
            }
            kvm_fatal(cpu, "KVM_RUN failed: %s", strerror(err));
            continue;
        }
        vcpu_io_begin();
        kvm_handle_exit(cpu);
        vcpu_io_end();
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
    if (!kvm_msrs_probed) {
        kvm_probe_msrs(v->fd);
    }
    return v;
}

static bool kvm_vcpu_create(CPUState *cpu, Error **errp)
{
    KVMVcpu *v = kvm_vcpu_open(cpu, errp);

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
    s->xsave = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
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
    s->ncpus = ms->smp.cpus;
    if (!kvm_cpuid_init(ms, errp)) {
        return false;
    }
    /* The TSS and identity map live in the reserved area below 4 GiB. */
    if (ioctl(s->vmfd, KVM_SET_TSS_ADDR, 0xfeffd000UL) < 0) {
        error_setg_errno(errp, errno, "KVM: KVM_SET_TSS_ADDR failed");
        return false;
    }
    if (ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        uint64_t addr = 0xfeffc000;
        ioctl(s->vmfd, KVM_SET_IDENTITY_MAP_ADDR, &addr);
    }
    if (s->irqchip == ACCEL_IRQCHIP_FULL) {
        if (ioctl(s->vmfd, KVM_CREATE_IRQCHIP, 0) < 0) {
            error_setg_errno(errp, errno, "KVM: KVM_CREATE_IRQCHIP failed");
            return false;
        }
        /* GSI routing: the irqchip routes, and MSI routes later (kvm-msi.c). */
        if (!kvm_irq_routing_init(errp)) {
            return false;
        }
        if (!kvm_irqchip_state_create(errp)) {
            return false;
        }
    } else if (s->irqchip == ACCEL_IRQCHIP_SPLIT) {
        /* LAPICs in the kernel, IOAPIC routes (for its EOI exits) reserved. */
        struct kvm_enable_cap cap = {
            .cap = KVM_CAP_SPLIT_IRQCHIP, .args[0] = IOAPIC_NUM_PINS,
        };
        if (ioctl(s->vmfd, KVM_ENABLE_CAP, &cap) < 0) {
            error_setg_errno(errp, errno, "KVM: kernel-irqchip=split: KVM_CAP_SPLIT_IRQCHIP "
                             "failed");
            return false;
        }
        if (!kvm_irq_routing_init_split(errp)) {
            return false;
        }
        apic_bus_set_backend(&kvm_split_backend);
    }
    if (s->xsave) {
        /* The XSAVE area KVM hands out for this process (KVM_CAP_XSAVE2:
         * larger only with AMX, which needs a permission we never ask). */
        int size = ioctl(s->vmfd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
        if (size > X86_XSAVE_AREA_SIZE) {
            error_setg(errp, "KVM: the XSAVE area is %d bytes, kvmpc keeps %d", size,
                       X86_XSAVE_AREA_SIZE);
            return false;
        }
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
    .irqchip = kvm_irqchip,
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
    .create_pit = kvm_pit_create,
    .send_msi = kvm_send_msi,
    .msi_route_add = kvm_msi_route_add,
    .msi_route_update = kvm_msi_route_update,
    .msi_route_release = kvm_msi_route_release,
    .irqfd_add = kvm_irqfd_add,
    .irqfd_remove = kvm_irqfd_remove,
};

ACCEL_REGISTER(kvm_accel_ops)
