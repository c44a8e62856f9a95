/*
 * Fuzz target: random bytes executed as guest code by tcg-lite, in every
 * CPU mode (docs/tcg-lite.md, "CPU fuzzing").
 *
 * Each input is
 *   byte 0      mode (mod 9): real, virtual-8086, 16-bit protected, 32-bit
 *               flat, 32-bit with 2-level paging, PAE, 64-bit, compatibility
 *               mode with a 32-bit and with a 16-bit code segment
 *   byte 1      knobs: CPL 3, exception handlers (skip the faulting byte
 *               and IRET, or HLT), random PTE flags, TF, an external
 *               interrupt/NMI, EFER.NXE/SCE, CR0.AM+AC, random GPRs
 *   byte 2      CR4 bits: PSE, PGE, OSFXSR/OSXMMEXCPT, DE, MCE, PCE, TSD,
 *               VME/PVI (tcg-lite has no SMEP, SMAP, UMIP: MOV CR4 refuses them)
 *   byte 3      IOPL, CR0.TS/EM/MP, trap gates, random descriptors present
 *   bytes 4-7   seed of the data the harness puts around the code
 *   byte 8      entry point (mod 8): 0x30000 mostly; 3 bytes before a page
 *               boundary; 6 bytes before the end of RAM (into MMIO), of
 *               MMIO (into the hole), of ROM (the top of 4 GiB); in the
 *               16-bit modes before the end of the first MiB instead
 *   the rest    code, copied to the entry point (when it is RAM or ROM)
 *
 * The harness builds what the mode needs in guest RAM (IVT or IDT, GDT,
 * LDT, TSS, page tables; see the layout below), fills the rest with
 * pseudo-random bytes and runs tcgl_cpu_exec() under a watchdog thread:
 * after BUDGET_INSNS instructions or BUDGET_MS of host time it sets
 * exit_request.  Exceptions go through the IDT/IVT to stubs that step the
 * saved instruction pointer by one byte and IRET (or HLT); HLT, a triple
 * fault and the budget end a run.
 *
 * What is checked (any failure is an abort(), i.e. a crash for libFuzzer):
 *   - no crash (ASan/UBSan in the libFuzzer build, tests/fuzz/build-tcgl.sh);
 *   - no hang: a run that does not return HANG_MS after exit_request;
 *   - guest RAM and ROM live in one mmap with PROT_NONE guard pages on
 *     both sides: a host access past them by tcg-lite faults; the ROM's
 *     pages are read-only while guest code runs;
 *   - the MMIO and port I/O callbacks see only offsets (and sizes) inside
 *     their regions.
 *
 * Without libFuzzer the same file is a plain driver (FUZZ_TCGL_MAIN):
 *   fuzz-tcgl-exec [--seed N] [--runs N] [--mode M] [-v]   generated inputs
 *     (--insns-only: runs end by the instruction budget alone, so that a
 *     finding replays exactly)
 *   fuzz-tcgl-exec FILE|DIR...                            given inputs
 *   fuzz-tcgl-exec --selftest                             checks the harness
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "hw/memory.h"
#include "hw/i386/x86-irq.h"
#include "tcgl.h"
#include "tcgl-sys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- guest-physical layout ------------------------------------------------ */
#define RAM_SIZE        0x200000u       /* 2 MiB of RAM at 0 */
#define MMIO_BASE       0x200000u       /* then 64 KiB of MMIO, then a hole */
#define MMIO_SIZE       0x10000u
#define ROM_BASE        0xffff0000u     /* 64 KiB of ROM below 4 GiB */
#define ROM_SIZE        0x10000u
#define IO_BASE         0x80u           /* 16 ports of port I/O */
#define IO_SIZE         0x10u

#define A_GDT           0x1000u         /* 64 descriptors */
#define A_LDT           0x1800u         /* 32 descriptors */
#define A_IDT           0x2000u         /* 256 gates (8 or 16 bytes) */
#define A_STUBS         0x3000u         /* 16 bytes of handler per vector */
#define A_TSS32         0x4000u         /* + I/O bitmap up to 0x6068 */
#define A_TSS64         0x6100u
#define A_TSS16         0x6200u
#define A_SYSCALL       0x6300u         /* SYSCALL/SYSENTER targets */
#define A_TSS32B        0x6400u         /* the #DF task's TSS */
#define KSTACK_TOP      0xf000u         /* 0x7000-0xefff */
#define A_PD32          0x10000u
#define A_PT32          0x11000u
#define A_PML4          0x12000u
#define A_PDPT64        0x13000u
#define A_PDPT_PAE      0x14000u
#define A_PD64          0x15000u        /* 4 page directories: the first 4 GiB */
#define A_PT64          0x19000u        /* the first 2 MiB in 4 KiB pages */
#define IST_TOP         0x1c000u
#define USTACK_TOP      0x2f000u
#define A_CODE          0x30000u
#define CODE_MAX        0x10000u

/* GDT selectors */
enum {
    S_CODE32 = 0x08, S_DATA32 = 0x10, S_UCODE32 = 0x18, S_UDATA32 = 0x20,
    S_CODE64 = 0x28, S_UCODE64 = 0x30, S_CODE16 = 0x38, S_DATA16 = 0x40,
    S_ECODE16 = 0x48, S_UCODE16 = 0x50, S_UDATA16 = 0x58, S_TSS32 = 0x60,
    S_TSS64 = 0x68, S_TSS16 = 0x78, S_LDT = 0x80, S_CALLGATE = 0x88,
    S_TSS32B = 0x90, S_TASKGATE = 0x98, S_RANDOM = 0xa0, GDT_ENTRIES = 64,
};

enum {
    M_REAL, M_V86, M_PM16, M_PM32, M_PG32, M_PAE, M_LONG64, M_COMPAT32, M_COMPAT16,
    M_NB
};
static const char *const mode_names[M_NB] = {
    "real", "v86", "pm16", "pm32", "paging32", "pae", "long64", "compat32", "compat16",
};

/* knobs (byte 1) */
#define K_CPL3      0x01
#define K_HLT       0x02        /* exception handlers HLT instead of skipping */
#define K_PTE       0x04
#define K_TF        0x08
#define K_IRQ       0x10
#define K_EFER      0x20
#define K_AC        0x40
#define K_REGS      0x80
/* byte 3 */
#define K3_IOPL(b)  ((b) & 3)
#define K3_TS       0x04
#define K3_EM       0x08
#define K3_MP       0x10
#define K3_TRAPGATE 0x20
#define K3_RANDDESC 0x40
#define K3_NMI      0x80

#define HDR_LEN     9

/* ---- the watchdog's budget ------------------------------------------------- */
#define BUDGET_INSNS 30000u
#define BUDGET_MS    15
static int64_t budget_ms = BUDGET_MS;   /* the self-test counts instructions alone */
#define HANG_MS      10000      /* generous: CI machines are shared */

static uint8_t *host_area;      /* guard | RAM | guard | ROM | guard */
static uint8_t *ram, *rom;
static MemoryRegion ram_mr, rom_mr, mmio_mr, io_mr;
static TCGLCPU *tc;
static CPUIDTable cpuid;
static bool verbose;

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond = PTHREAD_COND_INITIALIZER;
static uint64_t wd_seq;         /* run number, odd while a run is in progress */
static int64_t wd_start_ms;
static int64_t wd_request_ms;   /* when the watchdog asked for the exit (0: not yet) */
static const uint8_t *cur_input;
static size_t cur_size;

static uint64_t mmio_accesses, irq_acks;
static uint8_t irq_vector;
static CPUState *cpu;

/* ---- a small deterministic PRNG (splitmix64) -------------------------------- */
static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dump_input(FILE *f)
{
    fprintf(f, "input (%zu bytes):", cur_size);
    for (size_t i = 0; i < cur_size && i < 256; i++) {
        fprintf(f, "%s%02x", i % 32 ? " " : "\n  ", cur_input[i]);
    }
    fprintf(f, "%s\n", cur_size > 256 ? " ..." : "");
}

static __attribute__((noreturn)) void fail(const char *what)
{
    fprintf(stderr, "fuzz-tcgl-exec: %s\n", what);
    if (tc) {
        fprintf(stderr, "  rip=0x%" PRIx64 " hflags=0x%x cr0=0x%" PRIx64 " insns=%" PRIu64 "\n",
                tc->env->rip, tc->hflags, tc->env->cr0, tc->insns);
    }
    dump_input(stderr);
#ifdef FUZZ_TCGL_MAIN
    /* the plain driver keeps the input for a replay (libFuzzer writes its own) */
    FILE *f = fopen("fuzz-tcgl-crash.bin", "wb");
    if (f && cur_input) {
        fwrite(cur_input, 1, cur_size, f);
        fprintf(stderr, "input written to fuzz-tcgl-crash.bin\n");
    }
    if (f) {
        fclose(f);
    }
#endif
    abort();
}

/* ---- MMIO and port I/O: check what tcg-lite hands to the memory API ------------ */

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t limit = (uintptr_t)opaque;
    if (addr >= limit || size == 0 || size > 8 || addr + size > limit) {
        fail("an I/O or MMIO read outside its region");
    }
    mmio_accesses++;
    return (addr * 0x0101010101010101ULL) ^ 0x5a5a5a5a5a5a5a5aULL;
}

/* A write to offset 0 of either region raises an external interrupt (the
 * vector is the value), to offset 8 an NMI: the guest asks for them when
 * it likes, and a run stays reproducible. */
static void mmio_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    uint64_t limit = (uintptr_t)opaque;
    if (addr >= limit || size == 0 || size > 8 || addr + size > limit) {
        fail("an I/O or MMIO write outside its region");
    }
    mmio_accesses++;
    if (addr == 0) {
        irq_vector = (uint8_t)data;
        __atomic_or_fetch(&cpu->interrupt_request, CPU_INTERRUPT_HARD, __ATOMIC_SEQ_CST);
    } else if (addr == 8) {
        __atomic_or_fetch(&cpu->interrupt_request, CPU_INTERRUPT_NMI, __ATOMIC_SEQ_CST);
    }
}

static const MemoryRegionOps mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};

static const MemoryRegionOps io_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
};

/* The "PIC" behind an injected external interrupt. */
static int fake_pic_read_irq(void *pic)
{
    (void)pic;
    irq_acks++;
    return irq_vector;
}

/* ---- the watchdog ---------------------------------------------------------- */

static void *watchdog_main(void *opaque)
{
    (void)opaque;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    pthread_mutex_lock(&wd_lock);
    for (;;) {
        while (!(wd_seq & 1)) {
            pthread_cond_wait(&wd_cond, &wd_lock);
        }
        uint64_t seq = wd_seq;
        pthread_mutex_unlock(&wd_lock);
        usleep(1000);
        pthread_mutex_lock(&wd_lock);
        if (wd_seq != seq) {
            continue;
        }
        int64_t t = now_ms();
        if (!wd_request_ms) {
            if (__atomic_load_n(&tc->insns, __ATOMIC_RELAXED) >= BUDGET_INSNS ||
                t - wd_start_ms >= budget_ms) {
                wd_request_ms = t;
                tc->exit_request = 1;
            }
        } else if (t - wd_request_ms >= HANG_MS) {
            fail("hang: tcgl_cpu_exec() did not return after exit_request");
        } else {
            tc->exit_request = 1;   /* again: the run may have cleared it (HLT) */
        }
    }
    return NULL;
}

/* ---- set-up, once ------------------------------------------------------------ */

static void setup(void)
{
    static bool done;
    long pg = sysconf(_SC_PAGESIZE);
    size_t len = pg + RAM_SIZE + pg + ROM_SIZE + pg;
    pthread_t wd;

    if (done) {
        return;
    }
    done = true;
    host_area = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (host_area == MAP_FAILED) {
        perror("fuzz-tcgl-exec: mmap");
        exit(1);
    }
    ram = host_area + pg;
    rom = ram + RAM_SIZE + pg;
    if (mprotect(ram, RAM_SIZE, PROT_READ | PROT_WRITE) ||
        mprotect(rom, ROM_SIZE, PROT_READ | PROT_WRITE)) {
        perror("fuzz-tcgl-exec: mprotect");
        exit(1);
    }

    memory_init_system();
    memory_region_init_ram_ptr(&ram_mr, "fuzz-ram", RAM_SIZE, ram);
    memory_region_add_subregion(get_system_memory(), 0, &ram_mr);
    memory_region_init_ram_ptr(&rom_mr, "fuzz-rom", ROM_SIZE, rom);
    memory_region_set_readonly(&rom_mr, true);
    memory_region_add_subregion(get_system_memory(), ROM_BASE, &rom_mr);
    memory_region_init_io(&mmio_mr, &mmio_ops, (void *)(uintptr_t)MMIO_SIZE, "fuzz-mmio",
                          MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), MMIO_BASE, &mmio_mr);
    memory_region_init_io(&io_mr, &io_ops, (void *)(uintptr_t)IO_SIZE, "fuzz-io", IO_SIZE);
    memory_region_add_subregion(get_system_io(), IO_BASE, &io_mr);
    x86_irq_set_pic(NULL, fake_pic_read_irq);

    /* what tcg-all.c does for a machine and a vCPU */
    cpu = g_new0(CPUState, 1);
    tc = g_new0(TCGLCPU, 1);
    tc->env = &cpu->env;
    tc->cpu = cpu;
    cpu->accel = tc;
    tcgl_decode_init();
    tcgl_exec_init();
    tcgl_mmu_set_model(40, true);
    cpuid_table_init(&cpuid);
    tcgl_supported_cpuid(&cpuid);
    tcgl_sys_set_cpuid(cpu->index, &cpuid);
    tcgl_mmu_cpu_init(tc);
    tcgl_update_hflags(tc);
    tcgl_fp_state_from_env(tc);

    if (pthread_create(&wd, NULL, watchdog_main, NULL) != 0) {
        fprintf(stderr, "fuzz-tcgl-exec: cannot start the watchdog\n");
        exit(1);
    }
    pthread_detach(wd);
}

/* ---- guest tables -------------------------------------------------------------- */

static void put8(uint32_t pa, uint8_t v) { ram[pa] = v; }
static void put16(uint32_t pa, uint16_t v) { memcpy(ram + pa, &v, 2); }
static void put32(uint32_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }
static void put64(uint32_t pa, uint64_t v) { memcpy(ram + pa, &v, 8); }

static void putbytes(uint32_t pa, const char *bytes, unsigned n)
{
    memcpy(ram + pa, bytes, n);
}

/* A code/data/system descriptor (limit in bytes before granularity). */
static void desc(uint32_t table, unsigned sel, uint32_t base, uint32_t limit, unsigned access,
                 unsigned flags)
{
    uint32_t lo = (base << 16) | (limit & 0xffff);
    uint32_t hi = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) |
                  ((flags & 0xf) << 20) | (base & 0xff000000);
    put32(table + (sel & ~7u), lo);
    put32(table + (sel & ~7u) + 4, hi);
}

static void seg_load(int seg, unsigned sel)
{
    uint32_t lo, hi;
    memcpy(&lo, ram + A_GDT + (sel & ~7u), 4);
    memcpy(&hi, ram + A_GDT + (sel & ~7u) + 4, 4);
    tcgl_seg_from_desc(&cpu->env.segs[seg], sel, lo, hi);
}

static void seg_null(int seg)
{
    tcgl_seg_null(&cpu->env.segs[seg], 0);
}

/* A real-mode segment (v86: DPL 3, as tcgl_seg_load_vm does). */
static void seg_real(int seg, unsigned sel, unsigned dpl)
{
    SegmentCache *s = &cpu->env.segs[seg];
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = (uint32_t)sel << 4;
    s->limit = 0xffff;
    s->type = seg == R_CS ? 0xb : 3;
    s->present = true;
    s->dpl_s = true;
    s->dpl = dpl;
}

static bool has_error_code(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* The exception handlers: skip one byte of the faulting instruction and
 * return, or HLT.  bits: 16, 32 or 64 (the handler's code segment). */
static void build_stubs(int bits, bool halt)
{
    for (int v = 0; v < 256; v++) {
        uint32_t a = A_STUBS + 16 * v;
        unsigned n = 0;
        if (halt || v == 8) {
            putbytes(a, "\xf4\xeb\xfd", 3);                     /* hlt; jmp $-1 */
            continue;
        }
        if (bits == 16) {
            if (has_error_code(v)) {
                putbytes(a, "\x83\xc4\x02", 3);                 /* add sp, 2 */
                n = 3;
            }
            /* push bp; mov bp, sp; inc word [bp+2]; pop bp; iret */
            putbytes(a + n, "\x55\x89\xe5\xff\x46\x02\x5d\xcf", 8);
        } else if (bits == 32) {
            if (has_error_code(v)) {
                putbytes(a, "\x83\xc4\x04", 3);                 /* add esp, 4 */
                n = 3;
            }
            putbytes(a + n, "\xff\x04\x24\xcf", 4);             /* inc dword [esp]; iret */
        } else {
            if (has_error_code(v)) {
                putbytes(a, "\x48\x83\xc4\x08", 4);             /* add rsp, 8 */
                n = 4;
            }
            putbytes(a + n, "\x48\xff\x04\x24\x48\xcf", 6);     /* inc qword [rsp]; iretq */
        }
    }
    putbytes(A_SYSCALL, "\x48\x0f\x07", 3);                     /* sysretq */
    putbytes(A_SYSCALL + 0x10, "\x0f\x35", 2);                  /* sysexit */
    putbytes(A_SYSCALL + 0x20, "\x0f\x07", 2);                  /* sysretl */
}

static void build_gdt(bool random_desc, uint32_t code16_base)
{
    memset(ram + A_GDT, 0, GDT_ENTRIES * 8);
    desc(A_GDT, S_CODE32, 0, 0xfffff, 0x9b, 0xc);
    desc(A_GDT, S_DATA32, 0, 0xfffff, 0x93, 0xc);
    desc(A_GDT, S_UCODE32, 0, 0xfffff, 0xfb, 0xc);
    desc(A_GDT, S_UDATA32, 0, 0xfffff, 0xf3, 0xc);
    desc(A_GDT, S_CODE64, 0, 0xfffff, 0x9b, 0xa);
    desc(A_GDT, S_UCODE64, 0, 0xfffff, 0xfb, 0xa);
    desc(A_GDT, S_CODE16, 0, 0xffff, 0x9b, 0);
    desc(A_GDT, S_DATA16, 0, 0xffff, 0x93, 0);
    desc(A_GDT, S_ECODE16, code16_base, 0xffff, 0x9b, 0);
    desc(A_GDT, S_UCODE16, code16_base, 0xffff, 0xfb, 0);
    desc(A_GDT, S_UDATA16, 0x20000, 0xffff, 0xf3, 0);
    desc(A_GDT, S_TSS32, A_TSS32, 0x68 + 0x2000, 0x8b, 0);     /* busy 32-bit TSS */
    desc(A_GDT, S_TSS64, A_TSS64, 0x67, 0x8b, 0);              /* busy 64-bit TSS */
    put64(A_GDT + S_TSS64 + 8, 0);
    desc(A_GDT, S_TSS16, A_TSS16, 0x2b, 0x83, 0);              /* busy 16-bit TSS */
    desc(A_GDT, S_LDT, A_LDT, 32 * 8 - 1, 0x82, 0);
    /* a call gate (DPL 3) to the 32-bit kernel code, at a stub */
    put32(A_GDT + S_CALLGATE, (S_CODE32 << 16) | ((A_STUBS + 16 * 3) & 0xffff));
    put32(A_GDT + S_CALLGATE + 4, ((A_STUBS + 16 * 3) & 0xffff0000) | 0xec00);
    /* a second, available 32-bit TSS (the #DF task in the 32-bit modes)
     * and a task gate to it that CPL 3 may use (JMP/CALL far) */
    desc(A_GDT, S_TSS32B, A_TSS32B, 0x67, 0x89, 0);
    put32(A_GDT + S_TASKGATE, S_TSS32B << 16);
    put32(A_GDT + S_TASKGATE + 4, 0xe500);
    for (unsigned s = S_RANDOM; s < GDT_ENTRIES * 8; s += 8) {
        uint64_t d = rng();
        if (!random_desc) {
            d &= ~(1ULL << 47);         /* not present */
        }
        put64(A_GDT + s, d);
    }
    for (unsigned s = 0; s < 32 * 8; s += 8) {
        put64(A_LDT + s, rng());
    }
}

static void build_idt(int mode, bool trap_gates)
{
    for (int v = 0; v < 256; v++) {
        uint32_t h = A_STUBS + 16 * v;
        unsigned dpl = (rng() & 7) ? 3 : 0;
        unsigned type = trap_gates && v != 8 && (rng() & 1) ? 1 : 0;
        switch (mode) {
        case M_REAL:
            put16(4 * v, (uint16_t)h);
            put16(4 * v + 2, 0);
            break;
        case M_PM16:
            put32(A_IDT + 8 * v, (S_CODE16 << 16) | (h & 0xffff));
            put32(A_IDT + 8 * v + 4, 0x8600 | type << 8 | dpl << 13);
            break;
        case M_LONG64: case M_COMPAT32: case M_COMPAT16:
            put32(A_IDT + 16 * v, (S_CODE64 << 16) | (h & 0xffff));
            put32(A_IDT + 16 * v + 4, (h & 0xffff0000) | 0x8e00 | type << 8 | dpl << 13 |
                                      (v == 8 ? 1 : 0));            /* #DF on IST1 */
            put32(A_IDT + 16 * v + 8, 0);
            put32(A_IDT + 16 * v + 12, 0);
            break;
        default:
            if (v == 8) {
                /* #DF through a task gate, as 32-bit Linux has it */
                put32(A_IDT + 8 * v, S_TSS32B << 16);
                put32(A_IDT + 8 * v + 4, 0x8500);
                break;
            }
            put32(A_IDT + 8 * v, (S_CODE32 << 16) | (h & 0xffff));
            put32(A_IDT + 8 * v + 4, (h & 0xffff0000) | 0x8e00 | type << 8 | dpl << 13);
            break;
        }
    }
}

static void build_tss(uint32_t cr3)
{
    /* the #DF task: CPL 0, flat, at the #DF stub (HLT), on the top half
     * of the kernel stack, paging as the mode has it */
    memset(ram + A_TSS32B, 0, 0x68);
    put32(A_TSS32B + 0x1c, cr3);
    put32(A_TSS32B + 0x20, A_STUBS + 16 * 8);  /* EIP */
    put32(A_TSS32B + 0x24, 2);                  /* EFLAGS */
    put32(A_TSS32B + 0x38, KSTACK_TOP - 0x800); /* ESP */
    put16(A_TSS32B + 0x48, S_DATA32);           /* ES */
    put16(A_TSS32B + 0x4c, S_CODE32);           /* CS */
    put16(A_TSS32B + 0x50, S_DATA32);           /* SS */
    put16(A_TSS32B + 0x54, S_DATA32);           /* DS */
    put16(A_TSS32B + 0x66, 0x68);

    memset(ram + A_TSS32, 0, 0x68);
    put32(A_TSS32 + 4, KSTACK_TOP);             /* ESP0 */
    put16(A_TSS32 + 8, S_DATA32);               /* SS0 */
    put32(A_TSS32 + 28, A_PD32);                /* CR3 */
    put16(A_TSS32 + 0x66, 0x68);                /* I/O map base: random bitmap follows */
    put8(A_TSS32 + 0x68 + 0x2000, 0xff);
    memset(ram + A_TSS64, 0, 0x68);
    put64(A_TSS64 + 4, KSTACK_TOP);             /* RSP0 */
    put64(A_TSS64 + 0x24, IST_TOP);             /* IST1 */
    put16(A_TSS64 + 0x66, 0x68);
    memset(ram + A_TSS16, 0, 0x2c);
    put16(A_TSS16 + 2, KSTACK_TOP);             /* SP0 */
    put16(A_TSS16 + 4, S_DATA16);               /* SS0 */
}

#define PG_P  0x001ULL
#define PG_RW 0x002ULL
#define PG_US 0x004ULL
#define PG_PS 0x080ULL
#define PG_NX (1ULL << 63)

/* Flags of a 4 KiB page: present and writable; supervisor for the system
 * area below 0x20000 (tables, handlers, kernel stack) and, at CPL 0, for
 * the code's 64 KiB, user
 * elsewhere.  With K_PTE some pages of the random area lose P/RW/US or
 * gain NX (not the tables, the stubs, the stacks or the code's first page). */
static uint64_t pte_flags(uint32_t pa, bool random, bool nx_ok, bool cpl3)
{
    uint64_t f = PG_P | PG_RW | PG_US;
    if (pa < 0x20000 || (!cpl3 && pa >= A_CODE && pa < A_CODE + CODE_MAX)) {
        f &= ~PG_US;
    }
    if (random && pa >= 0x31000 && (rng() & 3) == 0) {
        uint64_t r = rng();
        if (r & 1) {
            f &= ~PG_P;
        }
        if (r & 2) {
            f &= ~PG_RW;
        }
        if (r & 4) {
            f &= ~PG_US;
        }
        if ((r & 8) && nx_ok) {
            f |= PG_NX;
        }
    }
    return f;
}

static void build_paging(bool random_pte, bool nx_ok, bool cpl3)
{
    /* 32-bit: the first 4 MiB in 4 KiB pages, the rest as 4 MiB pages
     * (used when CR4.PSE, else they are walked as tables of random data) */
    for (uint32_t i = 0; i < 1024; i++) {
        put32(A_PT32 + 4 * i, (i << 12) | (uint32_t)pte_flags(i << 12, random_pte, false, cpl3));
        put32(A_PD32 + 4 * i, i == 0 ? (A_PT32 | 7) : ((i << 22) | 0x87));
    }
    /* PAE and long mode: the first 2 MiB in 4 KiB pages, the rest of 4 GiB
     * in 2 MiB pages */
    for (uint32_t i = 0; i < 512; i++) {
        put64(A_PT64 + 8 * i, ((uint64_t)i << 12) | pte_flags(i << 12, random_pte, nx_ok, cpl3));
    }
    for (uint32_t i = 0; i < 4 * 512; i++) {
        put64(A_PD64 + 8 * i, i == 0 ? (A_PT64 | 7) : (((uint64_t)i << 21) | 0x87));
    }
    memset(ram + A_PDPT_PAE, 0, 0x1000);
    memset(ram + A_PDPT64, 0, 0x1000);
    memset(ram + A_PML4, 0, 0x1000);
    for (uint32_t i = 0; i < 4; i++) {
        put64(A_PDPT_PAE + 8 * i, (A_PD64 + 0x1000 * i) | PG_P);
        put64(A_PDPT64 + 8 * i, (A_PD64 + 0x1000 * i) | 7);
    }
    put64(A_PML4, A_PDPT64 | 7);
}

/* Between blocks, what tcg-lite derives from env (mode flags, the segment
 * fast path, the MMU index) must agree with env: a handler that changed
 * CS, SS, CR0, EFER or RFLAGS.VM and forgot tcgl_update_hflags() leaves
 * them stale. */
static void check_derived_state(void)
{
    uint32_t hflags = tc->hflags;
    uint64_t base[R_NB_SEGS], lin_mask = tc->lin_mask;
    int64_t rlim[R_NB_SEGS], wlim[R_NB_SEGS];
    int mmu_idx = tc->mmu_idx;

    memcpy(base, tc->seg_base, sizeof(base));
    memcpy(rlim, tc->seg_rlim, sizeof(rlim));
    memcpy(wlim, tc->seg_wlim, sizeof(wlim));
    tcgl_update_hflags(tc);
    if (hflags != tc->hflags || lin_mask != tc->lin_mask || mmu_idx != tc->mmu_idx ||
        memcmp(base, tc->seg_base, sizeof(base)) || memcmp(rlim, tc->seg_rlim, sizeof(rlim)) ||
        memcmp(wlim, tc->seg_wlim, sizeof(wlim))) {
        fprintf(stderr, "hflags 0x%x, from env 0x%x\n", hflags, tc->hflags);
        for (int s = 0; s < R_NB_SEGS; s++) {
            fprintf(stderr, "  seg %d: base 0x%" PRIx64 "/0x%" PRIx64 " rlim %" PRId64 "/%" PRId64
                    " wlim %" PRId64 "/%" PRId64 "\n", s, base[s], tc->seg_base[s], rlim[s],
                    tc->seg_rlim[s], wlim[s], tc->seg_wlim[s]);
        }
        fail("the mode flags or the segment fast path disagree with env after a run");
    }
}

/* ---- one run ----------------------------------------------------------------------- */

static TCGLExit run_one(const uint8_t *data, size_t size)
{
    X86CPUState *env = &cpu->env;
    uint8_t hdr[HDR_LEN] = { 0 };
    int mode;
    bool cpl3;
    TCGLExit why;

    memcpy(hdr, data, size < HDR_LEN ? size : HDR_LEN);
    mode = hdr[0] % M_NB;
    uint8_t k = hdr[1], k2 = hdr[2], k3 = hdr[3];
    cpl3 = (k & K_CPL3) && mode != M_REAL && mode != M_V86;
    rng_state = (uint64_t)hdr[4] | (uint64_t)hdr[5] << 8 | (uint64_t)hdr[6] << 16 |
                (uint64_t)hdr[7] << 24 | (uint64_t)mode << 32;

    /* RAM: random, then the tables; ROM: random */
    for (uint32_t a = 0; a < RAM_SIZE; a += 8) {
        uint64_t r = rng();
        memcpy(ram + a, &r, 8);
    }
    for (uint32_t a = 0; a < ROM_SIZE; a += 8) {
        uint64_t r = rng();
        memcpy(rom + a, &r, 8);
    }
    /* the entry point: linear = physical (identity paging); the 16-bit
     * modes reach it as base + ip */
    bool m16 = mode == M_REAL || mode == M_V86 || mode == M_PM16 || mode == M_COMPAT16;
    uint32_t entry;
    switch (hdr[8] & 7) {
    case 4: entry = A_CODE + 0xffd; break;
    case 5: entry = m16 ? 0xffffa : RAM_SIZE - 6; break;
    case 6: entry = m16 ? A_CODE + 0xfffa : MMIO_BASE + MMIO_SIZE - 6; break;
    case 7: entry = m16 ? A_CODE : ROM_BASE + ROM_SIZE - 6; break;
    default: entry = A_CODE; break;
    }
    uint32_t base16 = entry & ~0xffffu, ip16 = entry & 0xffff;
    int bits = mode == M_REAL || mode == M_PM16 ? 16 :
               mode >= M_LONG64 ? 64 : 32;
    build_stubs(bits, k & K_HLT);
    build_gdt(k3 & K3_RANDDESC, base16);
    build_idt(mode, k3 & K3_TRAPGATE);
    build_tss(mode == M_PG32 ? A_PD32 : mode == M_PAE ? A_PDPT_PAE : 0);
    build_paging(k & K_PTE, k & K_EFER, cpl3);
    if (size > HDR_LEN) {
        size_t n = size - HDR_LEN < CODE_MAX ? size - HDR_LEN : CODE_MAX;
        if (entry < RAM_SIZE) {
            memcpy(ram + entry, data + HDR_LEN, n < RAM_SIZE - entry ? n : RAM_SIZE - entry);
        } else if (entry >= ROM_BASE) {
            uint32_t room = ROM_BASE + ROM_SIZE - entry;
            memcpy(rom + (entry - ROM_BASE), data + HDR_LEN, n < room ? n : room);
        }
    }

    /* the CPU: reset state, then the mode */
    x86_cpu_reset_state(env, 0, true);
    env->mp_state = CPU_MP_RUNNABLE;
    env->apic_base = 0;
    for (int r = 0; r < CPU_NB_REGS; r++) {
        env->regs[r] = (k & K_REGS) ? rng() : 0;
    }
    env->cr0 = CR0_ET | CR0_NE;
    if (k3 & K3_TS) {
        env->cr0 |= CR0_TS;
    }
    if (k3 & K3_EM) {
        env->cr0 |= CR0_EM;
    }
    if (k3 & K3_MP) {
        env->cr0 |= CR0_MP;
    }
    uint64_t cr4 = 0;
    static const uint32_t cr4_bits[8] = {
        CR4_PSE, CR4_PGE, CR4_OSFXSR | CR4_OSXMMEXCPT, CR4_DE, CR4_MCE, CR4_PCE, CR4_TSD,
        CR4_VME | CR4_PVI,      /* not settable by MOV CR4 here, but by a loaded state */
    };
    for (int b = 0; b < 8; b++) {
        if (k2 & (1u << b)) {
            cr4 |= cr4_bits[b];
        }
    }
    env->cr4 = cr4;
    env->rflags = 2 | (uint64_t)K3_IOPL(k3) << 12;
    if (k & K_TF) {
        env->rflags |= RFL_TF;
    }
    if (k & K_AC) {
        env->cr0 |= CR0_AM;
        env->rflags |= RFL_AC;
    }
    env->efer = 0;
    if (k & K_EFER) {
        env->efer |= EFER_NXE | EFER_SCE;
    }
    env->star = (uint64_t)S_CODE32 << 32 | (uint64_t)(S_UCODE32 | 3) << 48;
    env->lstar = A_SYSCALL;
    env->cstar = A_SYSCALL + 0x20;
    env->fmask = rng() & 0x47fd7;
    env->sysenter_cs = S_CODE32;
    env->sysenter_eip = A_SYSCALL + 0x10;
    env->sysenter_esp = KSTACK_TOP;
    memset(&env->ldt, 0, sizeof(env->ldt));
    env->ldt.unusable = true;
    env->gdt.base = A_GDT;
    env->gdt.limit = GDT_ENTRIES * 8 - 1;
    env->idt.base = A_IDT;
    env->idt.limit = mode >= M_LONG64 ? 0xfff : 0x7ff;

    switch (mode) {
    case M_REAL:
        env->cr4 &= ~(uint64_t)(CR4_VME | CR4_PVI);
        seg_real(R_CS, base16 >> 4, 0);
        seg_real(R_SS, 0, 0);
        seg_real(R_DS, 0x2000, 0);
        seg_real(R_ES, 0x2000, 0);
        seg_real(R_FS, 0x4000, 0);
        seg_real(R_GS, 0, 0);
        env->idt.base = 0;
        env->idt.limit = 0x3ff;
        env->regs[R_ESP] = KSTACK_TOP;
        env->rip = ip16;
        break;
    case M_V86:
        env->cr0 |= CR0_PE;
        env->rflags |= RFL_VM;
        seg_real(R_CS, base16 >> 4, 3);
        seg_real(R_SS, 0x2000, 3);
        for (int s = R_ES; s <= R_GS; s++) {
            if (s != R_CS && s != R_SS) {
                seg_real(s, 0x2000, 3);
            }
        }
        env->regs[R_ESP] = 0xf000;
        env->rip = ip16;
        break;
    case M_PM16:
        env->cr0 |= CR0_PE;
        seg_load(R_CS, cpl3 ? S_UCODE16 | 3 : S_ECODE16);
        seg_load(R_SS, cpl3 ? S_UDATA16 | 3 : S_DATA16);
        seg_load(R_DS, cpl3 ? S_UDATA16 | 3 : S_DATA16);
        seg_load(R_ES, cpl3 ? S_UDATA16 | 3 : S_DATA16);
        seg_null(R_FS);
        seg_null(R_GS);
        env->regs[R_ESP] = 0xf000;
        env->rip = ip16;
        break;
    default:
        env->cr0 |= CR0_PE;
        if (mode == M_PG32) {
            env->cr0 |= CR0_PG | CR0_WP;
            env->cr3 = A_PD32;
        } else if (mode == M_PAE) {
            env->cr0 |= CR0_PG | CR0_WP;
            env->cr4 |= CR4_PAE;
            env->cr3 = A_PDPT_PAE;
        } else if (mode >= M_LONG64) {
            env->cr0 |= CR0_PG | CR0_WP;
            env->cr4 |= CR4_PAE;
            env->cr3 = A_PML4;
            env->efer |= EFER_LME | EFER_LMA;
        }
        if (mode == M_LONG64) {
            seg_load(R_CS, cpl3 ? S_UCODE64 | 3 : S_CODE64);
        } else if (mode == M_COMPAT16) {
            seg_load(R_CS, cpl3 ? S_UCODE16 | 3 : S_ECODE16);
        } else {
            seg_load(R_CS, cpl3 ? S_UCODE32 | 3 : S_CODE32);
        }
        for (int s = R_ES; s <= R_GS; s++) {
            if (s != R_CS) {
                seg_load(s, cpl3 ? S_UDATA32 | 3 : S_DATA32);
            }
        }
        env->regs[R_ESP] = cpl3 ? USTACK_TOP : KSTACK_TOP;
        env->rip = mode == M_COMPAT16 ? ip16 : entry;
        break;
    }
    memset(&env->tr, 0, sizeof(env->tr));
    if (mode == M_PM16) {
        env->tr.selector = S_TSS16;
        env->tr.base = A_TSS16;
        env->tr.limit = 0x2b;
        env->tr.type = 3;
    } else if (mode >= M_LONG64) {
        env->tr.selector = S_TSS64;
        env->tr.base = A_TSS64;
        env->tr.limit = 0x67;
        env->tr.type = 0xb;
    } else {
        env->tr.selector = S_TSS32;
        env->tr.base = A_TSS32;
        env->tr.limit = 0x68 + 0x2000;
        env->tr.type = 0xb;
    }
    env->tr.present = true;
    memset(&env->events, 0, sizeof(env->events));

    /* an external interrupt or an NMI pending from the start (taken when
     * IF=1 / at once) */
    cpu->interrupt_request = 0;
    if (k & K_IRQ) {
        irq_vector = (uint8_t)rng();
        env->rflags |= RFL_IF;
        cpu->interrupt_request = (k3 & K3_NMI) ? CPU_INTERRUPT_NMI : CPU_INTERRUPT_HARD;
    }

    /* what put_state does, and the code changed behind the block cache */
    tcgl_blocks_flush();
    tcgl_set_rflags(tc, env->rflags, ~0ULL);
    tcgl_update_hflags(tc);
    tcgl_tlb_flush(tc);
    tcgl_fp_state_from_env(tc);
    tc->exit_reason = TCGL_EXIT_REQUEST;
    tc->event.kind = TCGL_EV_NONE;
    tc->insns = 0;

    pthread_mutex_lock(&wd_lock);
    tc->exit_request = 0;
    wd_start_ms = now_ms();
    wd_request_ms = 0;
    wd_seq++;
    pthread_cond_signal(&wd_cond);
    pthread_mutex_unlock(&wd_lock);

    /* the ROM's host pages are read-only while guest code runs: a write
     * that tcg-lite lets through faults in the host */
    if (mprotect(rom, ROM_SIZE, PROT_READ)) {
        perror("fuzz-tcgl-exec: mprotect");
        abort();
    }
    why = tcgl_cpu_exec(tc);
    if (mprotect(rom, ROM_SIZE, PROT_READ | PROT_WRITE)) {
        perror("fuzz-tcgl-exec: mprotect");
        abort();
    }

    pthread_mutex_lock(&wd_lock);
    wd_seq++;
    pthread_mutex_unlock(&wd_lock);

    /* (not after a shutdown, nor with an event left pending by an exit
     * request during delivery: the state is then between two halves) */
    if (why != TCGL_EXIT_SHUTDOWN && tc->event.kind == TCGL_EV_NONE) {
        check_derived_state();
    }
    cpu->env.rflags = tcgl_get_rflags(tc);
    tcgl_fp_state_to_env(tc);
    if (verbose) {
        fprintf(stderr, "  %s%s: %s after %" PRIu64 " insns at rip 0x%" PRIx64 "\n",
                mode_names[mode], cpl3 ? " cpl3" : "",
                why == TCGL_EXIT_HALT ? "hlt" : why == TCGL_EXIT_SHUTDOWN ? "shutdown" : "budget",
                tc->insns, env->rip);
    }
    return why;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    cur_input = data;
    cur_size = size;
    run_one(data, size);
    cur_input = NULL;
    cur_size = 0;
    return 0;
}

#ifdef FUZZ_TCGL_MAIN
/* ---- the plain driver ---------------------------------------------------------------- */

/* Fragments that reach the system paths quickly (mode switches, descriptor
 * loads, far transfers, task and stack switches, string ops, paging). */
#define F(s) { s, sizeof(s) - 1 }
static const struct { const char *b; size_t n; } frags[] = {
    F("\x0f\x20\xc0"), F("\x0f\x22\xc0"), F("\x0f\x20\xe0"), F("\x0f\x22\xe0"),
    F("\x0f\x22\xd8"), F("\x0f\x01\x16\x00\x10"), F("\x0f\x01\x1e\x00\x20"), F("\x0f\x00\xd8"),
    F("\x0f\x00\xd0"), F("\x8e\xd8"), F("\x8e\xd0"), F("\x8e\xe0"), F("\x8e\xe8"),
    F("\x8e\xc0"), F("\x07"), F("\x1f"), F("\x17"), F("\xea\x00\x00\x00\x00\x08\x00"),
    F("\x9a\x00\x00\x00\x00\x88\x00"), F("\xff\x28"), F("\xff\x18"), F("\xcf"), F("\x48\xcf"),
    F("\xca\x04\x00"), F("\xcb"), F("\xcd\x0d"), F("\xcd\x80"), F("\xcc"), F("\xce"),
    F("\xf3\xa4"), F("\xf3\xa5"), F("\xf3\xaa"), F("\xf3\xab"), F("\xf3\x6c"), F("\xf3\x6e"),
    F("\xf2\xae"), F("\xe4\x80"), F("\xe6\x84"), F("\xed"), F("\xef"), F("\x0f\x05"),
    F("\x0f\x07"), F("\x0f\x34"), F("\x0f\x35"), F("\x0f\x01\xf8"), F("\x0f\x32"),
    F("\x0f\x30"), F("\x0f\x01\x38"), F("\x0f\x09"), F("\x0f\xa2"), F("\x9c"), F("\x9d"),
    F("\xfa"), F("\xfb"), F("\xf4"), F("\x0f\x06"), F("\x0f\x0b"), F("\xc8\x10\x00\x03"),
    F("\xc9"), F("\x62\x00"), F("\x0f\xae\x00"), F("\x0f\xae\x08"), F("\x0f\xc7\x08"),
    F("\xd9\x30"), F("\xdd\x20"), F("\x0f\x28\x00"), F("\x66\x0f\x38\x00\xc1"),
    F("\x0f\x01\xd0"), F("\x0f\xae\x28"), F("\x0f\xb2\x00"), F("\x0f\xb4\x00"), F("\xc4\x00"),
    F("\xc5\x00"), F("\x63\xc0"), F("\x0f\x02\xc0"), F("\x0f\x03\xc0"), F("\x0f\x00\x20"),
    F("\x0f\x00\x28"), F("\xd4\x0a"), F("\xd5\x0a"), F("\x27"), F("\x37"),
    F("\xb8\x00\x00\x20\x00"), F("\xbe\xf0\xff\x1f\x00"), F("\xbf\xfc\xff\x20\x00"),
    F("\xbc\x00\x00\x00\x00"), F("\x0f\x01\x00"), F("\x0f\x01\x08"), F("\x0f\x01\xc1"),
    F("\x66"), F("\x67"), F("\xf0"), F("\x2e"), F("\x64"), F("\x48"), F("\x41"),
    F("\x0f\xc7\xf0"), F("\x0f\x31"), F("\x0f\x33"), F("\x0f\x0d\x00"),
};

static void gen_input(uint8_t *buf, size_t *len, int force_mode)
{
    size_t n = HDR_LEN + 8 + rng() % 600, o;
    for (o = 0; o < HDR_LEN; o++) {
        buf[o] = (uint8_t)rng();
    }
    if (force_mode >= 0) {
        buf[0] = (uint8_t)force_mode;
    }
    while (o < n) {
        if (rng() & 1) {
            unsigned f = rng() % (sizeof(frags) / sizeof(frags[0]));
            for (size_t i = 0; i < frags[f].n && o < n; i++) {
                buf[o++] = (uint8_t)frags[f].b[i];
            }
        } else {
            for (unsigned r = 1 + rng() % 6; r && o < n; r--) {
                buf[o++] = (uint8_t)rng();
            }
        }
    }
    *len = n;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[HDR_LEN + CODE_MAX];
    size_t n;

    if (!f) {
        perror(path);
        return 1;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (verbose) {
        fprintf(stderr, "%s:\n", path);
    }
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    int err = 0;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct dirent **ents;
        int n = scandir(path, &ents, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            if (ents[i]->d_name[0] != '.') {
                char *p = g_strdup_printf("%s/%s", path, ents[i]->d_name);
                err |= run_file(p);
                g_free(p);
            }
            free(ents[i]);
        }
        free(ents);
        return n < 0 ? 1 : err;
    }
    return run_file(path);
}

/*
 * The harness itself: in every mode the entry point runs, an exception
 * reaches its handler through the mode's IVT/IDT (with the stack switch at
 * CPL 3), the handler steps over one byte and returns, HLT ends the run.
 * Returns the number of failures.
 */
static int selftest(void)
{
    int failures = 0;

    budget_ms = 1000;
    for (int mode = 0; mode < M_NB; mode++) {
        uint64_t entry = mode == M_REAL || mode == M_V86 || mode == M_PM16 ||
                         mode == M_COMPAT16 ? 0 : A_CODE;
        for (int cpl3 = 0; cpl3 < 2; cpl3++) {
            /* CPL 0: ud2 at X, the handler resumes at X+1 ("or eax, eax"),
             * then hlt.  CPL 3 (and v86, where HLT faults): the #UD handler
             * halts, at CPL 0. */
            bool user = cpl3 || mode == M_V86;
            uint8_t in[HDR_LEN + 4] = { mode, cpl3 ? K_CPL3 | K_HLT : 0, 0, 0, 1, 2, 3, 4, 0,
                                        0x0f, 0x0b, 0xc0, 0xf4 };
            if (mode == M_V86) {
                in[1] |= K_HLT;
            }
            if (cpl3 && mode == M_REAL) {
                continue;
            }
            cur_input = in;
            cur_size = sizeof(in);
            TCGLExit why = run_one(in, sizeof(in));
            uint64_t want = user ? A_STUBS + 16 * 6 + 1 : entry + 4;
            if (why != TCGL_EXIT_HALT || tc->env->rip != want || (tc->hflags & 3) != 0 ||
                tc->insns > 10) {
                fprintf(stderr, "selftest %s%s: exit %d rip 0x%" PRIx64 " (want 0x%" PRIx64
                        ") hflags 0x%x insns %" PRIu64 "\n", mode_names[mode],
                        cpl3 ? " cpl3" : "", why, tc->env->rip, want, tc->hflags, tc->insns);
                failures++;
            }
        }
    }
    /* a write to MMIO offset 0 raises INTR 0x21: after STI it reaches the
     * (halting) handler of vector 0x21; offset 8: an NMI, vector 2 */
    for (int nmi = 0; nmi < 2; nmi++) {
        uint8_t in[] = { M_PM32, K_HLT, 0, 0, 1, 2, 3, 4, 0,
                         0xfb, 0xc6, 0x05, nmi ? 8 : 0, 0x00, 0x20, 0x00, 0x21, 0x90, 0xf4 };
        uint64_t acks = irq_acks;
        cur_input = in;
        cur_size = sizeof(in);
        TCGLExit why = run_one(in, sizeof(in));
        if (why != TCGL_EXIT_HALT || tc->env->rip != A_STUBS + 16 * (nmi ? 2 : 0x21) + 1 ||
            irq_acks - acks != (nmi ? 0 : 1)) {
            fprintf(stderr, "selftest: %s from MMIO: exit %d rip 0x%" PRIx64 "\n",
                    nmi ? "NMI" : "INTR", why, tc->env->rip);
            failures++;
        }
    }
    /* task switches: INT 8 through the IDT's task gate at CPL 0, a far
     * JMP through the GDT's task gate at CPL 3 with paging; both land on
     * the #DF task's HLT with TR = its TSS */
    for (int user = 0; user < 2; user++) {
        uint8_t in[] = { user ? M_PG32 : M_PM32, user ? K_CPL3 : 0, 0, 0, 1, 2, 3, 4, 0,
                         0xcd, 0x08, 0xf4, 0, 0, 0, 0 };
        if (user) {
            static const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, S_TASKGATE | 3, 0 };
            memcpy(in + HDR_LEN, jmp, sizeof(jmp));
        }
        cur_input = in;
        cur_size = sizeof(in);
        TCGLExit why = run_one(in, sizeof(in));
        if (why != TCGL_EXIT_HALT || tc->env->rip != A_STUBS + 16 * 8 + 1 ||
            tc->env->tr.selector != S_TSS32B || (tc->hflags & 3) != 0) {
            fprintf(stderr, "selftest: task switch %s: exit %d rip 0x%" PRIx64 " tr 0x%x\n",
                    user ? "by JMP at CPL 3" : "by INT 8", why, tc->env->rip,
                    tc->env->tr.selector);
            failures++;
        }
    }
    /* #AC whose delivery raises #AC again (the gate goes to CPL 3 code, the
     * stack is misaligned): a benign exception, delivered again forever;
     * the run must still end when asked to (it hung: corpus hang-ac-loop) */
    {
        static const uint8_t in[] = {
            M_PM32, K_CPL3 | K_AC, 0, 0, 1, 2, 3, 4, 0,
            0x66, 0xc7, 0x05, 0x8a, 0x20, 0x00, 0x00, S_UCODE32 | 3, 0x00, /* IDT[17].sel */
            0xbc, 0x01, 0xf0, 0x02, 0x00,                               /* mov esp, 0x2f001 */
            0xa1, 0x01, 0x00, 0x04, 0x00,                               /* mov eax, [0x40001] */
            0xf4 };
        cur_input = in;
        cur_size = sizeof(in);
        TCGLExit why = run_one(in, sizeof(in));
        if (why != TCGL_EXIT_REQUEST || tc->env->rip != A_CODE + 14 || tc->insns > 10) {
            fprintf(stderr, "selftest: #AC loop: exit %d rip 0x%" PRIx64 "\n", why,
                    tc->env->rip);
            failures++;
        }
    }
    /* an endless loop ends by the budget; an access to MMIO reaches the
     * callback at the right offset */
    static const uint8_t loop[] = { M_PM32, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1, 0x10, 0x00, 0x20, 0x00,
                                    0xeb, 0xf9 };
    uint64_t before = mmio_accesses;
    cur_input = loop;
    cur_size = sizeof(loop);
    if (run_one(loop, sizeof(loop)) != TCGL_EXIT_REQUEST || mmio_accesses - before < 100) {
        fprintf(stderr, "selftest: the loop did not end by the budget or missed MMIO\n");
        failures++;
    }
    printf("fuzz-tcgl-exec: selftest %s\n", failures ? "FAILED" : "ok");
    return failures;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, runs = 2000;
    int force_mode = -1, err = 0;
    bool files = false;
    unsigned counts[3] = { 0 };
    uint64_t by_mode[M_NB] = { 0 };

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            force_mode = atoi(argv[++i]) % M_NB;
        } else if (!strcmp(argv[i], "-v")) {
            verbose = true;
        } else if (!strcmp(argv[i], "--insns-only")) {
            budget_ms = 1000;       /* deterministic: the instruction budget ends runs */
        } else if (!strcmp(argv[i], "--selftest")) {
            setup();
            return selftest() ? 1 : 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--selftest] [--seed N] [--runs N] [--mode 0-%d] [--insns-only] [-v] [FILE|DIR...]\n",
                    argv[0], M_NB - 1);
            return 2;
        }
    }
    setup();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") || !strcmp(argv[i], "--runs") ||
            !strcmp(argv[i], "--mode")) {
            i++;
        } else if (argv[i][0] != '-') {
            files = true;
            err |= run_path(argv[i]);
        }
    }
    if (files) {
        printf("fuzz-tcgl-exec: inputs done\n");
        return err;
    }

    static uint8_t buf[HDR_LEN + 1024];
    for (uint64_t r = 0; r < runs; r++) {
        size_t len;
        rng_state = seed * 0x2545f4914f6cdd1dULL + r;
        gen_input(buf, &len, force_mode);
        cur_input = buf;
        cur_size = len;
        by_mode[buf[0] % M_NB]++;
        if (verbose) {
            fprintf(stderr, "run %" PRIu64 ":\n", r);
        }
        counts[run_one(buf, len)]++;
    }
    printf("fuzz-tcgl-exec: %" PRIu64 " runs (seed %" PRIu64 "): %u budget, %u hlt, %u shutdown;"
           " %" PRIu64 " MMIO/IO accesses, %" PRIu64 " interrupts acknowledged\n",
           runs, seed, counts[TCGL_EXIT_REQUEST], counts[TCGL_EXIT_HALT],
           counts[TCGL_EXIT_SHUTDOWN], mmio_accesses, irq_acks);
    for (int m = 0; m < M_NB; m++) {
        printf("  %-9s %" PRIu64 " runs\n", mode_names[m], by_mode[m]);
    }
    return 0;
}
#endif
