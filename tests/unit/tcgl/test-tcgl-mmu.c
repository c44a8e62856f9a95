/*
 * tcg-lite "mmu" part (accel/tcg-lite/mmu.c): segment checks, the TLB,
 * page walks in every paging mode, faults with their error codes and CR2,
 * MMIO/ROM/RAM paths, code-page write protection, map changes, A20.
 *
 * Guest memory is a real AddressSpace:
 *   0x00000000  16 MiB RAM
 *   0x01000000  8 KiB MMIO (counts accesses; reads return C0DE0000 | off << 4 | size)
 *   0x01010000  64 KiB ROM
 *   0x100000000 64 KiB RAM ("high", above 4 GiB)
 * The stub's tcgl_raise records the exception in cpu.event and unwinds to
 * cpu.jmp; the try_* helpers catch it.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "hw/memory.h"
#include "tcgl.h"
#include "mmu.h"

#define RAM_SIZE   (16u << 20)
#define MMIO_BASE  0x1000000ULL
#define MMIO_SIZE  0x2000
#define ROM_BASE   0x1010000ULL
#define ROM_SIZE   0x10000
#define HIGH_BASE  0x100000000ULL
#define HIGH_SIZE  0x10000

#define P   0x001ULL
#define W   0x002ULL
#define U   0x004ULL
#define A   0x020ULL
#define D   0x040ULL
#define PS  0x080ULL
#define G   0x100ULL
#define NX  (1ULL << 63)

#define CR0_AM   (1ULL << 18)
#define CR4_PSE  (1ULL << 4)
#define CR4_PGE  (1ULL << 7)
#define EFER_NXE (1ULL << 11)
#define RFL_AC   (1ULL << 18)

enum { V_SS = 12, V_GP = 13, V_PF = 14, V_AC = 17 };

static MemoryRegion root, ram_mr, mmio_mr, rom_mr, high_mr, overlay_mr;
static AddressSpace as;
static uint8_t *ram, *high;
static X86CPUState env;
static TCGLCPU cpu;

/* ---- the MMIO device ---------------------------------------------------------- */

static struct {
    unsigned reads, writes;
    uint64_t addr, val;
    unsigned size;
} io;

static uint64_t io_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    io.reads++;
    io.addr = addr;
    io.size = size;
    return (0xc0de0000ULL | addr << 4 | size) & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

static void io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque;
    io.writes++;
    io.addr = addr;
    io.val = val;
    io.size = size;
}

static const MemoryRegionOps io_ops = {
    .read = io_read,
    .write = io_write,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ---- setup ------------------------------------------------------------------------ */

static void setup(void)
{
    memory_region_init(&root, "root", UINT64_MAX);
    address_space_init(&as, &root, "tcgl-mmu-test");
    g_assert_true(memory_region_init_ram(&ram_mr, "ram", RAM_SIZE, NULL));
    memory_region_init_io(&mmio_mr, &io_ops, NULL, "mmio", MMIO_SIZE);
    g_assert_true(memory_region_init_rom(&rom_mr, "rom", ROM_SIZE, NULL));
    g_assert_true(memory_region_init_ram(&high_mr, "high", HIGH_SIZE, NULL));
    memory_region_add_subregion(&root, 0, &ram_mr);
    memory_region_add_subregion(&root, MMIO_BASE, &mmio_mr);
    memory_region_add_subregion(&root, ROM_BASE, &rom_mr);
    memory_region_add_subregion(&root, HIGH_BASE, &high_mr);
    ram = memory_region_get_ram_ptr(&ram_mr);
    high = memory_region_get_ram_ptr(&high_mr);
    memset(ram, 0, RAM_SIZE);
    for (unsigned i = 0; i < ROM_SIZE; i++) {
        rom_mr.ram[i] = (uint8_t)(0x80 + i);
    }
    for (unsigned i = 0; i < HIGH_SIZE; i++) {
        high[i] = (uint8_t)(0x40 + i);
    }
    memset(&io, 0, sizeof(io));

    tcgl_mmu_set_address_space(&as);
    tcgl_mmu_set_model(40, true);
    memset(&env, 0, sizeof(env));
    memset(&cpu, 0, sizeof(cpu));
    cpu.env = &env;
    tcgl_mmu_cpu_init(&cpu);
    env.rflags = 2;
}

static void teardown(void)
{
    tcgl_mmu_cpu_exit(&cpu);
    tcgl_mmu_set_address_space(NULL);
    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram_mr);
    memory_region_destroy(&mmio_mr);
    memory_region_destroy(&rom_mr);
    memory_region_destroy(&high_mr);
}

static void w32(uint64_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }
static void w64(uint64_t pa, uint64_t v) { memcpy(ram + pa, &v, 8); }
static uint32_t r32(uint64_t pa) { uint32_t v; memcpy(&v, ram + pa, 4); return v; }
static uint64_t r64(uint64_t pa) { uint64_t v; memcpy(&v, ram + pa, 8); return v; }

/* What seg.c's tcgl_update_hflags computes, by hand. */
static void set_segs_fast(void)
{
    for (int s = 0; s < R_NB_SEGS; s++) {
        cpu.seg_base[s] = env.segs[s].base;
        cpu.seg_rlim[s] = env.segs[s].limit;
        cpu.seg_wlim[s] = env.segs[s].limit;
    }
    cpu.seg_wlim[R_CS] = -1;
}

static void mode_real(void)
{
    env.cr0 = 0;
    env.efer = 0;
    for (int s = 0; s < R_NB_SEGS; s++) {
        env.segs[s] = (SegmentCache){ .selector = 0x100, .base = 0x1000, .limit = 0xffff,
                                      .type = s == R_CS ? 0xb : 0x3, .present = true,
                                      .dpl_s = true };
    }
    cpu.hflags = 0;
    cpu.mmu_idx = TCGL_MMU_SUPER;
    cpu.lin_mask = 0xffffffff;
    set_segs_fast();
    tcgl_tlb_flush(&cpu);
}

static void mode_flat32(unsigned cpl, bool paging)
{
    env.cr0 = CR0_PE | (paging ? CR0_PG : 0);
    env.efer = 0;
    for (int s = 0; s < R_NB_SEGS; s++) {
        env.segs[s] = (SegmentCache){ .selector = 0x10 | cpl, .base = 0, .limit = 0xffffffff,
                                      .type = s == R_CS ? 0xb : 0x3, .present = true,
                                      .dpl_s = true, .db = true, .g = true, .dpl = cpl };
    }
    cpu.hflags = TCGL_HF_PE | TCGL_HF_CS32 | TCGL_HF_SS32 | (paging ? TCGL_HF_PG : 0) | cpl;
    cpu.mmu_idx = cpl == 3 ? TCGL_MMU_USER : TCGL_MMU_SUPER;
    cpu.lin_mask = 0xffffffff;
    set_segs_fast();
    tcgl_tlb_flush(&cpu);
}

static void mode_long64(unsigned cpl)
{
    env.cr0 = CR0_PE | CR0_PG;
    env.cr4 |= CR4_PAE;
    env.efer = EFER_LME | EFER_LMA | (env.efer & EFER_NXE);
    for (int s = 0; s < R_NB_SEGS; s++) {
        env.segs[s] = (SegmentCache){ .selector = 0x10 | cpl, .type = s == R_CS ? 0xb : 0x3,
                                      .present = true, .dpl_s = true, .l = s == R_CS,
                                      .dpl = cpl };
        cpu.seg_base[s] = 0;
        cpu.seg_rlim[s] = cpu.seg_wlim[s] = INT64_MAX;
    }
    cpu.hflags = TCGL_HF_PE | TCGL_HF_PG | TCGL_HF_LMA | TCGL_HF_CS64 | cpl;
    cpu.mmu_idx = cpl == 3 ? TCGL_MMU_USER : TCGL_MMU_SUPER;
    cpu.lin_mask = ~0ULL;
    tcgl_tlb_flush(&cpu);
}

static void set_cpl(unsigned cpl)
{
    cpu.hflags = (cpu.hflags & ~TCGL_HF_CPL_MASK) | cpl;
    cpu.mmu_idx = cpl == 3 ? TCGL_MMU_USER : TCGL_MMU_SUPER;
}

/* ---- fault catchers: -1, or the vector raised (error code in cpu.event) ------ */

static int try_ld(int seg, uint64_t off, unsigned size, uint64_t *v)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    *v = tcgl_ld(&cpu, seg, off, size);
    return -1;
}

static int try_st(int seg, uint64_t off, unsigned size, uint64_t v)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    tcgl_st(&cpu, seg, off, size, v);
    return -1;
}

static int try_ld_lin(uint64_t lin, unsigned size, int acc, uint64_t *v)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    *v = tcgl_ld_lin(&cpu, lin, size, acc);
    return -1;
}

static int try_st_buf(int seg, uint64_t off, const void *buf, unsigned size)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    tcgl_st_buf(&cpu, seg, off, buf, size);
    return -1;
}

static int try_fetch(uint64_t pc, const uint8_t **p, uint64_t *phys, unsigned *avail)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    *p = tcgl_fetch_page(&cpu, pc, phys, avail);
    return -1;
}

static int try_probe_write(int seg, uint64_t off, unsigned size)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    tcgl_probe_write(&cpu, seg, off, size);
    return -1;
}

static int try_rmw(int seg, uint64_t off, unsigned size, void **p)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    *p = tcgl_rmw_ptr(&cpu, seg, off, size);
    return -1;
}

static uint64_t ld(int seg, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    int r = try_ld(seg, off, size, &v);
    if (r >= 0) {
        g_error("ld %d:%" G_GINT64_MODIFIER "x size %u faulted: vector %d error %#x", seg, off,
                size, r, cpu.event.error);
    }
    return v;
}

static void st(int seg, uint64_t off, unsigned size, uint64_t v)
{
    int r = try_st(seg, off, size, v);
    if (r >= 0) {
        g_error("st %d:%" G_GINT64_MODIFIER "x size %u faulted: vector %d error %#x", seg, off,
                size, r, cpu.event.error);
    }
}

/* The access faults with vector vec and error code err (-1: none). */
#define ASSERT_FAULT(expr, vec, err) do {                                       \
        int _r = (expr);                                                        \
        g_assert_cmpint(_r, ==, (vec));                                         \
        if ((err) >= 0) {                                                       \
            g_assert_true(cpu.event.has_error);                                 \
            g_assert_cmphex(cpu.event.error, ==, (unsigned)(err));              \
        }                                                                       \
    } while (0)

static void assert_pf(int r, uint32_t err, uint64_t cr2)
{
    g_assert_cmpint(r, ==, V_PF);
    g_assert_cmphex(cpu.event.error, ==, err);
    g_assert_cmphex(env.cr2, ==, cr2);
}

/* ---- segmentation --------------------------------------------------------------- */

static void test_seg_real(void)
{
    uint64_t v;

    setup();
    mode_real();
    st(R_DS, 0x10, 4, 0x11223344);
    g_assert_cmphex(r32(0x1010), ==, 0x11223344);       /* base 0x1000 */
    g_assert_cmphex(ld(R_ES, 0x10, 2), ==, 0x3344);
    /* writes through CS are allowed in real mode */
    st(R_CS, 0x20, 1, 0x5a);
    g_assert_cmphex(ram[0x1020], ==, 0x5a);
    /* last byte past the 64 KiB limit: #GP(0), #SS(0) for SS */
    ASSERT_FAULT(try_ld(R_DS, 0xffff, 2, &v), V_GP, 0);
    ASSERT_FAULT(try_st(R_SS, 0xfffe, 4, 0), V_SS, 0);
    g_assert_cmphex(ld(R_DS, 0xfffe, 2), ==, 0);
    /* unreal mode: a 4 GiB limit in the cache is honoured */
    env.segs[R_FS].limit = 0xffffffff;
    env.segs[R_FS].base = 0;
    set_segs_fast();
    st(R_FS, 0x200000, 4, 0xcafef00d);
    g_assert_cmphex(r32(0x200000), ==, 0xcafef00d);
    teardown();
}

static void test_seg_prot(void)
{
    uint64_t v;

    setup();
    mode_flat32(0, false);
    /* a limit: byte granular 0xfff */
    env.segs[R_ES].limit = 0xfff;
    set_segs_fast();
    g_assert_cmphex(ld(R_ES, 0xffc, 4), ==, 0);
    ASSERT_FAULT(try_ld(R_ES, 0xffd, 4, &v), V_GP, 0);

    /* expand-down data, 32-bit: valid offsets are limit+1 .. 0xffffffff */
    env.segs[R_ES].type = 0x7;      /* data, expand-down, writable */
    env.segs[R_ES].limit = 0xfff;
    cpu.seg_rlim[R_ES] = cpu.seg_wlim[R_ES] = -1;   /* as seg.c: slow path */
    w32(0x1000, 0xabcdef01);
    g_assert_cmphex(ld(R_ES, 0x1000, 4), ==, 0xabcdef01);
    ASSERT_FAULT(try_ld(R_ES, 0xfff, 1, &v), V_GP, 0);
    ASSERT_FAULT(try_ld(R_ES, 0xffe, 4, &v), V_GP, 0);
    /* 16-bit expand-down: the top is 0xffff */
    env.segs[R_ES].db = false;
    ASSERT_FAULT(try_ld(R_ES, 0xfffe, 4, &v), V_GP, 0);
    g_assert_cmphex(ld(R_ES, 0xfffc, 4), ==, 0);
    /* the stack segment expand-down faults with #SS */
    env.segs[R_SS] = env.segs[R_ES];
    cpu.seg_rlim[R_SS] = cpu.seg_wlim[R_SS] = -1;
    ASSERT_FAULT(try_st(R_SS, 0x800, 2, 0), V_SS, 0);
    st(R_SS, 0x2000, 2, 0x1234);
    g_assert_cmphex(ram[0x2000], ==, 0x34);

    /* null (unusable) segment */
    env.segs[R_GS].unusable = true;
    env.segs[R_GS].present = false;
    cpu.seg_rlim[R_GS] = cpu.seg_wlim[R_GS] = -1;
    ASSERT_FAULT(try_ld(R_GS, 0, 1, &v), V_GP, 0);
    ASSERT_FAULT(try_st(R_GS, 0, 1, 0), V_GP, 0);
    /* read-only data: reads fine, writes #GP */
    env.segs[R_FS].type = 0x1;
    cpu.seg_wlim[R_FS] = -1;
    g_assert_cmphex(ld(R_FS, 0x1000, 1), ==, 0x01);
    ASSERT_FAULT(try_st(R_FS, 0x1000, 1, 0), V_GP, 0);
    /* code: never writable; execute-only is not readable */
    ASSERT_FAULT(try_st(R_CS, 0x1000, 1, 0), V_GP, 0);
    g_assert_cmphex(ld(R_CS, 0x1000, 1), ==, 0x01);
    env.segs[R_CS].type = 0x9;
    cpu.seg_rlim[R_CS] = -1;
    ASSERT_FAULT(try_ld(R_CS, 0x1000, 1, &v), V_GP, 0);

    /* base + offset wraps at 4 GiB; an access straddling 4 GiB wraps too */
    env.segs[R_DS].base = 0x2000;
    cpu.seg_base[R_DS] = 0x2000;
    st(R_DS, 0xffffeffe, 4, 0xdeadbeef);
    g_assert_cmphex(r32(0xffe), ==, 0xdeadbeef);
    env.segs[R_DS].base = 0;
    cpu.seg_base[R_DS] = 0;
    st(R_DS, 0xfffffffe, 4, 0xaabbccdd);   /* 0xfffffffe-f: nothing there */
    g_assert_cmphex(ram[0], ==, 0xbb);
    g_assert_cmphex(ram[1], ==, 0xaa);
    g_assert_cmphex(ld(R_DS, 0xfffffffe, 4), ==, 0xaabbffff);
    teardown();
}

static void test_seg_long(void)
{
    uint64_t v;

    setup();
    /* identity map of the first 2 MiB with one 2 MiB page */
    w64(0x10000, 0x11000 | P | W | U);
    w64(0x11000, 0x12000 | P | W | U);
    w64(0x12000, 0x0 | P | W | U | PS);
    env.cr3 = 0x10000;
    mode_long64(0);
    w64(0x5008, 0x0102030405060708ULL);
    g_assert_cmphex(ld(R_DS, 0x5008, 8), ==, 0x0102030405060708ULL);
    /* FS/GS bases apply, the others are 0 even if the cache says else */
    cpu.seg_base[R_FS] = 0x5000;
    g_assert_cmphex(ld(R_FS, 0x8, 8), ==, 0x0102030405060708ULL);
    /* no limit checks in 64-bit mode */
    env.segs[R_ES].limit = 0;
    g_assert_cmphex(ld(R_ES, 0x5008, 4), ==, 0x05060708);
    /* non-canonical: #GP(0), #SS(0) through SS */
    ASSERT_FAULT(try_ld(R_DS, 0x0000800000000000ULL, 1, &v), V_GP, 0);
    ASSERT_FAULT(try_st(R_SS, 0xffff7fffffffffffULL, 8, 0), V_SS, 0);
    ASSERT_FAULT(try_ld(R_DS, 0x00007ffffffffffeULL, 4, &v), V_GP, 0);
    ASSERT_FAULT(try_ld_lin(0x1234567812345678ULL, 4, TCGL_ACC_READ, &v), V_GP, 0);
    teardown();
}

/* ---- 32-bit paging ---------------------------------------------------------------- */

static void map32(void)
{
    /* PD 0x10000; PT 0x11000 for 0x400000-0x7fffff */
    w32(0x10000 + 1 * 4, 0x11000 | P | W | U);
    w32(0x11000 + 0 * 4, 0x20000 | P | W | U);      /* 0x400000: user rw */
    w32(0x11000 + 1 * 4, 0x21000 | P | U);          /* 0x401000: user ro */
    w32(0x11000 + 2 * 4, 0x22000 | P | W);          /* 0x402000: supervisor rw */
    /* 0x403000: not present */
    w32(0x10000 + 2 * 4, 0xc00000 | P | W | U | PS);   /* 0x800000: 4 MiB at 0xc00000 */
    env.cr3 = 0x10000;
    env.cr4 = CR4_PSE;
}

static void test_paging32(void)
{
    uint64_t v;

    setup();
    map32();
    mode_flat32(0, true);
    w32(0x20010, 0x12345678);
    g_assert_cmphex(ld(R_DS, 0x400010, 4), ==, 0x12345678);
    /* A on PDE and PTE, no D */
    g_assert_cmphex(r32(0x10004) & (A | D), ==, A);
    g_assert_cmphex(r32(0x11000) & (A | D), ==, A);
    st(R_DS, 0x400020, 4, 0x9abcdef0);
    g_assert_cmphex(r32(0x20020), ==, 0x9abcdef0);
    g_assert_cmphex(r32(0x11000) & (A | D), ==, A | D);
    g_assert_cmphex(r32(0x10004) & D, ==, 0);      /* D only on the leaf */

    /* 4 MiB page */
    ram[0xc00123] = 0x77;
    g_assert_cmphex(ld(R_DS, 0x800123, 1), ==, 0x77);
    g_assert_cmphex(r32(0x10008) & (A | D), ==, A);
    st(R_DS, 0xbffffc, 4, 0x01020304);
    g_assert_cmphex(r32(0xfffffc), ==, 0x01020304);
    g_assert_cmphex(r32(0x10008) & (A | D), ==, A | D);

    /* supervisor write to a read-only page: allowed with WP=0 ... */
    st(R_DS, 0x401000, 1, 0xaa);
    g_assert_cmphex(ram[0x21000], ==, 0xaa);
    /* ... #PF(P|W) with WP=1 */
    env.cr0 |= CR0_WP;
    tcgl_tlb_flush(&cpu);
    assert_pf(try_st(R_DS, 0x401004, 4, 0), 0x3, 0x401004);
    g_assert_cmphex(ram[0x21004], ==, 0);
    /* not present: read P=0, write W */
    assert_pf(try_ld(R_DS, 0x403008, 4, &v), 0x0, 0x403008);
    assert_pf(try_st(R_DS, 0x403010, 2, 0), 0x2, 0x403010);
    assert_pf(try_ld(R_DS, 0x1000, 1, &v), 0x0, 0x1000);     /* PDE not present */
    /* user: supervisor page, read-only page, not present */
    set_cpl(3);
    g_assert_cmphex(ld(R_DS, 0x400010, 4), ==, 0x12345678);
    assert_pf(try_ld(R_DS, 0x402000, 4, &v), 0x5, 0x402000);
    assert_pf(try_st(R_DS, 0x401000, 1, 0), 0x7, 0x401000);
    assert_pf(try_st(R_DS, 0x403000, 1, 0), 0x6, 0x403000);
    assert_pf(try_ld(R_DS, 0x403ffc, 4, &v), 0x4, 0x403ffc);
    g_assert_cmphex(ld(R_DS, 0x401000, 1), ==, 0xaa);
    /* implicit supervisor accesses at CPL 3: checked as supervisor, U=0 */
    g_assert_cmpint(try_ld_lin(0x402000, 4, TCGL_ACC_READ | TCGL_ACC_SUPER, &v), ==, -1);
    assert_pf(try_ld_lin(0x403000, 4, TCGL_ACC_READ | TCGL_ACC_SUPER, &v), 0x0, 0x403000);
    set_cpl(0);

    /* PSE off: PS is ignored, the PDE points to a page table */
    env.cr4 = 0;
    tcgl_tlb_flush(&cpu);
    w32(0xc00000, 0x23000 | P | W);
    ram[0x23123] = 0x99;
    g_assert_cmphex(ld(R_DS, 0x800123, 1), ==, 0x99);

    /* PSE-36: PDE bits 20:13 are physical bits 39:32 */
    env.cr4 = CR4_PSE;
    w32(0x10000 + 3 * 4, (1u << 13) | P | W | PS);         /* 0xc00000 -> 0x100000000 */
    tcgl_tlb_flush(&cpu);
    g_assert_cmphex(ld(R_DS, 0xc00010, 1), ==, 0x50);
    /* PDE bit 21 is reserved for a 4 MiB page */
    w32(0x10000 + 4 * 4, (1u << 21) | P | W | PS);
    assert_pf(try_ld(R_DS, 0x1000000, 1, &v), 0x9, 0x1000000);
    set_cpl(3);
    w32(0x10000 + 4 * 4, (1u << 21) | P | W | U | PS);
    assert_pf(try_st(R_DS, 0x1000004, 1, 0), 0xf, 0x1000004);
    teardown();
}

/* ---- PAE ---------------------------------------------------------------------- */

static void mapPAE(void)
{
    w64(0x10000, 0x11000 | P);                      /* PDPT[0] */
    w64(0x11000 + 2 * 8, 0x12000 | P | W | U);      /* PD[2]: 0x400000 */
    w64(0x12000 + 0 * 8, 0x20000 | P | W | U);      /* 0x400000 */
    w64(0x12000 + 1 * 8, 0x21000 | P | W | U | NX); /* 0x401000: no execute */
    w64(0x12000 + 2 * 8, (1ULL << 45) | 0x22000 | P);  /* above phys-bits 40 */
    w64(0x11000 + 3 * 8, 0x200000 | P | W | U | PS);   /* PD[3]: 0x600000, 2 MiB */
    w64(0x10008, 0x13000 | P | W);                  /* PDPT[1]: reserved bit 1 */
    env.cr3 = 0x10000;
    env.cr4 = CR4_PAE;
}

static void test_paging_pae(void)
{
    uint64_t v, phys;
    const uint8_t *p;
    unsigned avail;

    setup();
    mapPAE();
    env.efer = EFER_NXE;
    mode_flat32(0, true);
    env.efer = EFER_NXE;
    tcgl_tlb_flush(&cpu);

    w32(0x20100, 0x600df00d);
    g_assert_cmphex(ld(R_DS, 0x400100, 4), ==, 0x600df00d);
    g_assert_cmphex(r64(0x11010) & (A | D), ==, A);
    g_assert_cmphex(r64(0x12000) & (A | D), ==, A);
    g_assert_cmphex(r64(0x10000), ==, 0x11000 | P);     /* PDPTEs have no A bit */
    /* fetch from an executable page */
    g_assert_cmpint(try_fetch(0x400ff0, &p, &phys, &avail), ==, -1);
    g_assert_true(p == ram + 0x20ff0);
    g_assert_cmphex(phys, ==, 0x20ff0);
    g_assert_cmpuint(avail, ==, 0x10);
    /* NX page: readable, not executable: #PF(P|I/D) */
    g_assert_cmphex(ld(R_DS, 0x401000, 4), ==, 0);
    assert_pf(try_fetch(0x401234, &p, &phys, &avail), 0x11, 0x401234);
    set_cpl(3);
    assert_pf(try_fetch(0x401000, &p, &phys, &avail), 0x15, 0x401000);
    set_cpl(0);
    /* a PTE address bit above MAXPHYADDR is reserved (for fetches too) */
    assert_pf(try_ld(R_DS, 0x402000, 1, &v), 0x9, 0x402000);
    assert_pf(try_fetch(0x402010, &p, &phys, &avail), 0x19, 0x402010);
    /* PDPTE reserved bits (2:1) */
    assert_pf(try_ld(R_DS, 0x40000000, 1, &v), 0x9, 0x40000000);
    /* 2 MiB page */
    ram[0x201234] = 0x42;
    g_assert_cmphex(ld(R_DS, 0x601234, 1), ==, 0x42);
    g_assert_cmphex(r64(0x11018) & (A | D), ==, A);
    st(R_DS, 0x7ffff0, 1, 0x43);
    g_assert_cmphex(ram[0x3ffff0], ==, 0x43);
    g_assert_cmphex(r64(0x11018) & (A | D), ==, A | D);
    /* 2 MiB PDE bits 20:13 reserved */
    w64(0x11000 + 4 * 8, 0x400000 | (1ULL << 13) | P | W | PS);
    assert_pf(try_st(R_DS, 0x800000, 1, 0), 0xb, 0x800000);

    /* NXE off: bit 63 is reserved; no I/D bit in error codes */
    env.efer = 0;
    tcgl_tlb_flush(&cpu);
    assert_pf(try_ld(R_DS, 0x401000, 1, &v), 0x9, 0x401000);
    w64(0x12000 + 5 * 8, 0x25000 | P);
    g_assert_cmpint(try_fetch(0x405000, &p, &phys, &avail), ==, -1);
    g_assert_cmpint(try_fetch(0x406000, &p, &phys, &avail), ==, V_PF);
    g_assert_cmphex(cpu.event.error, ==, 0);
    teardown();
}

/* ---- 4-level ----------------------------------------------------------------------- */

static void map64(void)
{
    /* 0xffff800000000000 (PML4[256]) -> PDPT 0x11000 -> PD 0x12000 -> PT 0x13000 */
    w64(0x10000 + 256 * 8, 0x11000 | P | W);
    w64(0x11000, 0x12000 | P | W);
    w64(0x12000, 0x13000 | P | W);
    w64(0x13000 + 5 * 8, 0x25000 | P | W);
    /* PML4[0] -> PDPT 0x14000: [0] -> PD 0x15000, [1] 1 GiB page at 0 */
    w64(0x10000, 0x14000 | P | W | U);
    w64(0x14000, 0x15000 | P | W | U);
    w64(0x14008, 0x0 | P | W | U | PS);
    w64(0x15008, 0x400000 | P | W | U | PS);        /* 0x200000: 2 MiB at 0x400000 */
    w64(0x15010, 0x16000 | P | W | U);              /* 0x400000: PT 0x16000 */
    w64(0x16000, (1ULL << 45) | 0x30000 | P | W | U);  /* reserved address bit */
    w64(0x16008, HIGH_BASE | P | W | U);            /* 0x401000 -> above 4 GiB */
    w64(0x10008, 0x17000 | P | W | PS);             /* PML4[1]: PS is reserved */
    env.cr3 = 0x10000;
}

static void test_paging_long(void)
{
    uint64_t v;
    const uint64_t k = 0xffff800000000000ULL;

    setup();
    map64();
    mode_long64(0);
    w64(0x25008, 0x1122334455667788ULL);
    g_assert_cmphex(ld(R_DS, k + 0x5008, 8), ==, 0x1122334455667788ULL);
    g_assert_cmphex(r64(0x10800) & (A | D), ==, A);
    g_assert_cmphex(r64(0x11000) & (A | D), ==, A);
    g_assert_cmphex(r64(0x12000) & (A | D), ==, A);
    g_assert_cmphex(r64(0x13028) & (A | D), ==, A);
    st(R_DS, k + 0x5ff8, 8, 42);
    g_assert_cmphex(r64(0x25ff8), ==, 42);
    g_assert_cmphex(r64(0x13028) & (A | D), ==, A | D);
    g_assert_cmphex(r64(0x12000) & D, ==, 0);
    /* user access to a supervisor mapping */
    set_cpl(3);
    assert_pf(try_ld(R_DS, k + 0x5008, 8, &v), 0x5, k + 0x5008);
    set_cpl(0);
    /* 1 GiB and 2 MiB pages */
    w32(0x30010, 0xfeedface);
    g_assert_cmphex(ld(R_DS, 0x40030010, 4), ==, 0xfeedface);
    ram[0x400010] = 0x31;
    g_assert_cmphex(ld(R_DS, 0x200010, 1), ==, 0x31);
    /* physical addresses above 4 GiB */
    g_assert_cmphex(ld(R_DS, 0x401003, 1), ==, 0x43);
    /* reserved: address bit above phys-bits, PS in a PML4E, 1 GiB pages
     * without pdpe1gb */
    assert_pf(try_ld(R_DS, 0x400000, 1, &v), 0x9, 0x400000);
    tcgl_mmu_set_model(46, true);
    tcgl_tlb_flush(&cpu);
    g_assert_cmphex(ld(R_DS, 0x400000, 1), ==, 0xff);     /* nothing at 2^45 + 0x30000 */
    tcgl_mmu_set_model(40, true);
    assert_pf(try_ld(R_DS, 0x8000000000ULL, 1, &v), 0x9, 0x8000000000ULL);
    tcgl_mmu_set_model(40, false);
    tcgl_tlb_flush(&cpu);
    assert_pf(try_ld(R_DS, 0x40030010, 1, &v), 0x9, 0x40030010);
    tcgl_mmu_set_model(40, true);
    /* a table in a hole reads as all ones: present, reserved bits set */
    w64(0x10000 + 2 * 8, 0x30000000 | P | W);
    assert_pf(try_ld(R_DS, 0x10000000000ULL, 1, &v), 0x9, 0x10000000000ULL);
    /* a table in MMIO: the device's value (C0DE0008: P clear) */
    w64(0x10000 + 3 * 8, MMIO_BASE | P | W);
    assert_pf(try_ld(R_DS, 0x18000000000ULL, 1, &v), 0x0, 0x18000000000ULL);
    g_assert_cmpuint(io.reads, ==, 1);
    g_assert_cmpuint(io.size, ==, 8);
    /* debug translation: no fault, no A bit */
    w64(0x13000 + 6 * 8, 0x26000 | P);
    g_assert_cmphex(tcgl_debug_translate(&cpu, k + 0x6123), ==, 0x26123);
    g_assert_cmphex(r64(0x13030) & A, ==, 0);
    g_assert_cmphex(tcgl_debug_translate(&cpu, k + 0x7000), ==, (uint64_t)-1);
    g_assert_cmphex(tcgl_debug_translate(&cpu, 0x0000900000000000ULL), ==, (uint64_t)-1);
    teardown();
}

/* ---- D bit, global pages, INVLPG ---------------------------------------------- */

static void test_dirty_bit(void)
{
    setup();
    map32();
    mode_flat32(0, true);
    /* a read fills the entry without a write tag (D clear) ... */
    g_assert_cmphex(ld(R_DS, 0x400000, 4), ==, 0);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x400000)->tag_write, ==, TCGL_TLB_INVALID);
    g_assert_cmphex(r32(0x11000) & D, ==, 0);
    /* ... so the write walks again and sets D before writing */
    st(R_DS, 0x400000, 4, 1);
    g_assert_cmphex(r32(0x11000) & D, ==, D);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x400000)->tag_write, ==, 0x400000);
    /* after INVLPG the next write sets D again */
    w32(0x11000, r32(0x11000) & ~D);
    tcgl_tlb_flush_page(&cpu, 0x400000);
    st(R_DS, 0x400004, 4, 2);
    g_assert_cmphex(r32(0x11000) & D, ==, D);
    teardown();
}

static void test_global(void)
{
    setup();
    map32();
    env.cr4 |= CR4_PGE;
    w32(0x11000, 0x20000 | P | W | G);
    w32(0x11004, 0x21000 | P | W);
    ram[0x20000] = 1;
    ram[0x21000] = 2;
    ram[0x30000] = 3;
    ram[0x31000] = 4;
    ram[0x32000] = 5;
    mode_flat32(0, true);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);
    g_assert_cmpuint(ld(R_DS, 0x401000, 1), ==, 2);
    /* the entry's phys stays a plain page address (the executor compares it) */
    g_assert_cmphex(*tcgl_tlb_phys(&cpu, tcgl_tlb_entry(&cpu, 0, 0x400000)), ==, 0x20000);
    w32(0x11000, 0x30000 | P | W | G);
    w32(0x11004, 0x31000 | P | W);
    /* CR3 write: the global page survives */
    cpu.chain_break = false;
    tcgl_tlb_flush_nonglobal(&cpu);
    g_assert_true(cpu.chain_break);         /* chained blocks stop (code_epoch moved) */
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);
    g_assert_cmpuint(ld(R_DS, 0x401000, 1), ==, 4);
    /* INVLPG drops one page, global or not */
    w32(0x11004, 0x32000 | P | W);
    g_assert_cmpuint(ld(R_DS, 0x401000, 1), ==, 4);
    cpu.chain_break = false;
    tcgl_tlb_flush_page(&cpu, 0x401abc);
    g_assert_true(cpu.chain_break);
    g_assert_cmpuint(ld(R_DS, 0x401000, 1), ==, 5);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);
    tcgl_tlb_flush_page(&cpu, 0x400000);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 3);
    /* without CR4.PGE a CR3 write drops everything */
    w32(0x11000, 0x20000 | P | W | G);
    env.cr4 &= ~CR4_PGE;
    cpu.chain_break = false;
    tcgl_tlb_flush_nonglobal(&cpu);
    g_assert_true(cpu.chain_break);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);
    teardown();
}

static void test_invlpg_large(void)
{
    setup();
    mapPAE();
    mode_flat32(0, true);
    ram[0x200000] = 1;
    ram[0x201000] = 2;
    ram[0x401000] = 3;
    g_assert_cmpuint(ld(R_DS, 0x600000, 1), ==, 1);
    g_assert_cmpuint(ld(R_DS, 0x601000, 1), ==, 2);
    w64(0x11018, 0x400000 | P | W | PS);
    g_assert_cmpuint(ld(R_DS, 0x601000, 1), ==, 2);     /* cached */
    /* INVLPG anywhere in the 2 MiB page drops all its pieces */
    tcgl_tlb_flush_page(&cpu, 0x600000);
    g_assert_cmpuint(ld(R_DS, 0x601000, 1), ==, 3);
    teardown();
}

static struct {
    unsigned calls;
    MemoryRegion *mr;
    uint64_t addr, len;
} cw;

static void code_write(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr, uint64_t len)
{
    (void)n;
    cw.calls++;
    cw.mr = mr;
    cw.addr = addr;
    cw.len = len;
}

/* Pages 0x400000 and 0x500000 share TLB slot 0. */
static void test_victim(void)
{
    MemoryDirtyNotifier n = { .code_write = code_write };
    uint64_t walks;

    setup();
    map32();
    env.cr4 |= CR4_PGE;
    w32(0x10000 + 1 * 4, 0x11000 | P | W | U);      /* 0x400000-0x7fffff */
    w32(0x11000 + 0x100 * 4, 0x30000 | P | W);      /* 0x500000 -> 0x30000 */
    w32(0x11000, 0x20000 | P | W | G);              /* 0x400000 -> 0x20000, global */
    ram[0x20000] = 1;
    ram[0x30000] = 2;
    ram[0x31000] = 3;
    mode_flat32(0, true);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);
    g_assert_cmpuint(ld(R_DS, 0x500000, 1), ==, 2);
    walks = tcgl_mmu_walks;
    for (int i = 0; i < 10; i++) {
        g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);
        g_assert_cmpuint(ld(R_DS, 0x500000, 1), ==, 2);
    }
    g_assert_cmpuint(tcgl_mmu_walks, ==, walks);    /* the victims served them */
    /* INVLPG reaches a victim */
    w32(0x11000 + 0x100 * 4, 0x31000 | P | W);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);  /* 0x500000 is the victim now */
    tcgl_tlb_flush_page(&cpu, 0x500000);
    g_assert_cmpuint(ld(R_DS, 0x500000, 1), ==, 3);
    /* a CR3 write keeps a global victim, drops the others */
    w32(0x11000, 0x21000 | P | W | G);
    w32(0x11000 + 0x100 * 4, 0x30000 | P | W);
    tcgl_tlb_flush_nonglobal(&cpu);
    g_assert_cmpuint(ld(R_DS, 0x500000, 1), ==, 2);  /* walked: 0x400000 -> victim */
    walks = tcgl_mmu_walks;
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 1);  /* the old global translation */
    g_assert_cmpuint(tcgl_mmu_walks, ==, walks);
    tcgl_tlb_flush(&cpu);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 0);  /* 0x21000 */
    w32(0x11000, 0x20000 | P | W | G);
    tcgl_tlb_flush(&cpu);

    /* dirty-log notifications reach victims: a direct write entry pushed
     * out of its slot loses its direct write when the page is cleared */
    memset(&cw, 0, sizeof(cw));
    memory_dirty_notifier_register(&n);
    memory_global_dirty_log_start(DIRTY_MEMORY_CODE);
    tcgl_tlb_flush(&cpu);
    st(R_DS, 0x400000, 1, 7);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x400000)->tag_write, ==, 0x400000);
    g_assert_cmpuint(ld(R_DS, 0x500000, 1), ==, 2);  /* 0x400000 -> victim */
    memory_region_test_and_clear_dirty(&ram_mr, 0x20000, 4096, DIRTY_MEMORY_CODE);
    st(R_DS, 0x400004, 1, 8);                        /* back from the victims */
    g_assert_cmpuint(cw.calls, ==, 1);
    g_assert_cmphex(cw.addr, ==, 0x20004);
    memory_global_dirty_log_stop(DIRTY_MEMORY_CODE);
    memory_dirty_notifier_unregister(&n);
    /* a memory map change drops victims too */
    g_assert_cmpuint(ld(R_DS, 0x500000, 1), ==, 2);
    g_assert_cmpuint(ld(R_DS, 0x400000, 1), ==, 7);  /* 0x500000 -> victim */
    memory_region_init_io(&overlay_mr, &io_ops, NULL, "overlay", 0x1000);
    memory_region_add_subregion_overlap(&root, 0x30000, &overlay_mr, 1);
    g_assert_cmphex(ld(R_DS, 0x500000, 1), ==, 0x01);   /* C0DE0001 & 0xff */
    g_assert_cmpuint(io.reads, ==, 1);
    memory_region_del_subregion(&root, &overlay_mr);
    memory_region_destroy(&overlay_mr);
    teardown();
}

/* ---- page crossing, buffers, MMIO, ROM ------------------------------------------ */

static void test_cross_page(void)
{
    uint8_t buf[32], zero[32] = { 0 };

    setup();
    map32();
    env.cr0 |= CR0_WP;
    mode_flat32(0, true);
    env.cr0 |= CR0_WP;
    for (int i = 0; i < 8; i++) {
        ram[0x20ffc + i] = (uint8_t)(0x10 + i);
        ram[0x21000 + i - 4] = (uint8_t)(0x10 + i);
    }
    memcpy(ram + 0x21000, (uint8_t[]){ 0x14, 0x15, 0x16, 0x17 }, 4);
    g_assert_cmphex(ld(R_DS, 0x400ffe, 4), ==, 0x15141312);
    g_assert_cmphex(ld(R_DS, 0x400ffc, 8), ==, 0x1716151413121110ULL);
    /* second page read-only: #PF on it, CR2 = its first byte, nothing written */
    assert_pf(try_st(R_DS, 0x400ffe, 4, 0xffffffff), 0x3, 0x401000);
    g_assert_cmphex(r32(0x20ffc), ==, 0x13121110);
    /* same for a buffer */
    memset(buf, 0xee, sizeof(buf));
    assert_pf(try_st_buf(R_DS, 0x400ff0, buf, 32), 0x3, 0x401000);
    g_assert_cmpmem(ram + 0x20ff0, 12, zero, 12);
    /* buffer spanning two good pages */
    w32(0x11000 + 1 * 4, 0x21000 | P | W);
    tcgl_tlb_flush_page(&cpu, 0x401000);
    g_assert_cmpint(try_st_buf(R_DS, 0x400ff0, buf, 32), ==, -1);
    g_assert_cmphex(r32(0x20ffc), ==, 0xeeeeeeee);
    g_assert_cmphex(r32(0x2100c), ==, 0xeeeeeeee);
    memset(buf, 0, sizeof(buf));
    tcgl_ld_buf(&cpu, R_DS, 0x400ff8, buf, 16);
    g_assert_cmphex(buf[0], ==, 0xee);
    g_assert_cmphex(buf[15], ==, 0xee);
    /* a probe of a write crossing into a not-present page */
    assert_pf(try_probe_write(R_DS, 0x402ffe, 4), 0x2, 0x403000);
    teardown();
}

static void test_mmio_rom(void)
{
    uint64_t v;
    uint8_t b[8];

    setup();
    mode_flat32(0, false);
    /* MMIO: exact-size accesses through the slow path */
    g_assert_cmphex(ld(R_DS, MMIO_BASE + 0x10, 4), ==, 0xc0de0104);
    g_assert_cmpuint(io.reads, ==, 1);
    g_assert_cmpuint(io.size, ==, 4);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, MMIO_BASE)->tag_read, ==, MMIO_BASE | TCGL_TLB_SLOW);
    g_assert_cmphex(ld(R_DS, MMIO_BASE + 0x18, 8), ==, 0xc0de0188);
    g_assert_cmpuint(io.reads, ==, 2);
    st(R_DS, MMIO_BASE + 0x20, 2, 0xbeef);
    g_assert_cmpuint(io.writes, ==, 1);
    g_assert_cmphex(io.addr, ==, 0x20);
    g_assert_cmphex(io.val, ==, 0xbeef);
    g_assert_cmpuint(io.size, ==, 2);
    /* RAM then MMIO in one access */
    st(R_DS, MMIO_BASE - 2, 4, 0x44332211);
    g_assert_cmphex(ram[RAM_SIZE - 2], ==, 0x11);
    g_assert_cmphex(ram[RAM_SIZE - 1], ==, 0x22);
    g_assert_cmpuint(io.writes, ==, 2);
    g_assert_cmphex(io.addr, ==, 0);
    g_assert_cmphex(io.val, ==, 0x4433);
    g_assert_cmphex(ld(R_DS, MMIO_BASE - 2, 4), ==, 0x00022211);  /* 2-byte read at 0 */
    /* ROM: reads direct, writes dropped */
    g_assert_cmphex(ld(R_DS, ROM_BASE + 4, 4), ==, 0x87868584);
    st(R_DS, ROM_BASE + 4, 4, 0);
    g_assert_cmphex(ld(R_DS, ROM_BASE + 4, 4), ==, 0x87868584);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, ROM_BASE)->tag_read, ==, ROM_BASE);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, ROM_BASE)->tag_write, ==, ROM_BASE | TCGL_TLB_SLOW);
    /* unmapped: all ones, writes dropped */
    g_assert_cmphex(ld(R_DS, 0x20000000, 4), ==, 0xffffffff);
    st(R_DS, 0x20000000, 4, 0);
    g_assert_cmphex(ld(R_DS, 0x20000000, 2), ==, 0xffff);
    /* pointers: RAM only, one page */
    void *p = NULL;
    g_assert_cmpint(try_rmw(R_DS, 0x1234, 4, &p), ==, -1);
    g_assert_true(p == ram + 0x1234);
    g_assert_cmpint(try_rmw(R_DS, MMIO_BASE, 4, &p), ==, -1);
    g_assert_null(p);
    g_assert_cmpint(try_rmw(R_DS, ROM_BASE, 4, &p), ==, -1);
    g_assert_null(p);
    g_assert_cmpint(try_rmw(R_DS, 0xffe, 4, &p), ==, -1);
    g_assert_null(p);
    g_assert_true(tcgl_lin_ptr(&cpu, 0x5000, 4096, TCGL_ACC_WRITE) == ram + 0x5000);
    g_assert_null(tcgl_lin_ptr(&cpu, 0x5001, 4096, TCGL_ACC_WRITE));
    g_assert_true(tcgl_lin_ptr(&cpu, ROM_BASE, 16, TCGL_ACC_READ) == rom_mr.ram);
    g_assert_null(tcgl_lin_ptr(&cpu, ROM_BASE, 16, TCGL_ACC_WRITE));
    g_assert_null(tcgl_lin_ptr(&cpu, MMIO_BASE, 16, TCGL_ACC_READ));
    /* code fetch: from MMIO only through fetch_bytes */
    uint64_t phys;
    unsigned avail;
    const uint8_t *code;
    g_assert_cmpint(try_fetch(MMIO_BASE + 0x100, &code, &phys, &avail), ==, -1);
    g_assert_null(code);
    g_assert_cmphex(phys, ==, MMIO_BASE + 0x100);
    ram[RAM_SIZE - 1] = 0x90;
    tcgl_fetch_bytes(&cpu, MMIO_BASE - 1, b, 5);
    g_assert_cmphex(b[0], ==, 0x90);
    v = 0;
    memcpy(&v, b + 1, 4);
    g_assert_cmphex(v, ==, 0xc0de0004);
    teardown();
}

/* ---- memory map changes, dirty tracking, A20, #AC -------------------------------- */

static void test_generation(void)
{
    setup();
    mode_flat32(0, false);
    w32(0x50010, 0x1234);
    w32(0x50200, 0x5678);
    g_assert_cmphex(ld(R_DS, 0x50010, 4), ==, 0x1234);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x50000)->tag_read, ==, 0x50000);
    /* a device window over part of the page: the page now takes the slow
     * path, both the device and the RAM beside it are right */
    memory_region_init_io(&overlay_mr, &io_ops, NULL, "overlay", 0x100);
    memory_region_add_subregion_overlap(&root, 0x50000, &overlay_mr, 1);
    g_assert_cmphex(ld(R_DS, 0x50010, 4), ==, 0xc0de0104);
    g_assert_cmpuint(io.reads, ==, 1);
    g_assert_cmphex(ld(R_DS, 0x50200, 4), ==, 0x5678);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x50000)->tag_read, ==, 0x50000 | TCGL_TLB_SLOW);
    st(R_DS, 0x50204, 4, 0xabcd);
    g_assert_cmphex(r32(0x50204), ==, 0xabcd);
    /* the generation alone (no listener commit seen) also flushes */
    memory_region_del_subregion(&root, &overlay_mr);
    g_assert_cmphex(ld(R_DS, 0x50010, 4), ==, 0x1234);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x50000)->tag_read, ==, 0x50000);
    cpu.tlb[0][0x50].tag_read = 0x50000 | TCGL_TLB_SLOW;    /* as if stale */
    cpu.tlb_generation--;
    g_assert_cmphex(ld(R_DS, 0x50010, 4), ==, 0x1234);
    g_assert_cmphex(cpu.tlb_generation, ==, address_space_generation(&as));
    memory_region_destroy(&overlay_mr);
    teardown();
}

static void test_code_protect(void)
{
    MemoryDirtyNotifier n = { .code_write = code_write };
    void *p;

    setup();
    memset(&cw, 0, sizeof(cw));
    memory_dirty_notifier_register(&n);
    memory_global_dirty_log_start(DIRTY_MEMORY_CODE);
    mode_flat32(0, false);
    /* every page starts dirty: writes are direct */
    st(R_DS, 0x7000, 4, 1);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x7000)->tag_write, ==, 0x7000);
    g_assert_cmpuint(cw.calls, ==, 0);
    /* code decoded from the page: the direct write entry goes */
    g_assert_true(memory_region_test_and_clear_dirty(&ram_mr, 0x7000, 4096, DIRTY_MEMORY_CODE));
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x7000)->tag_write, ==, 0x7000 | TCGL_TLB_SLOW);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x7000)->tag_read, ==, 0x7000);
    /* the next write tells the code tracker, lands, and makes the page
     * direct again */
    st(R_DS, 0x7010, 4, 0xc0dec0de);
    g_assert_cmpuint(cw.calls, ==, 1);
    g_assert_true(cw.mr == &ram_mr);
    g_assert_cmphex(cw.addr, ==, 0x7010);
    g_assert_cmphex(cw.len, ==, 4);
    g_assert_cmphex(r32(0x7010), ==, 0xc0dec0de);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x7000)->tag_write, ==, 0x7000);
    st(R_DS, 0x7020, 4, 0);
    g_assert_cmpuint(cw.calls, ==, 1);
    /* a read-modify-write pointer marks the page dirty first */
    memory_region_test_and_clear_dirty(&ram_mr, 0x7000, 4096, DIRTY_MEMORY_CODE);
    g_assert_cmpint(try_rmw(R_DS, 0x7040, 8, &p), ==, -1);
    g_assert_true(p == ram + 0x7040);
    g_assert_cmpuint(cw.calls, ==, 2);
    g_assert_cmphex(cw.addr, ==, 0x7040);
    /* so does a string fast-path pointer */
    memory_region_test_and_clear_dirty(&ram_mr, 0x7000, 4096, DIRTY_MEMORY_CODE);
    g_assert_true(tcgl_lin_ptr(&cpu, 0x7100, 256, TCGL_ACC_WRITE) == ram + 0x7100);
    g_assert_cmpuint(cw.calls, ==, 3);
    /* a page-crossing write into a protected page */
    memory_region_test_and_clear_dirty(&ram_mr, 0x8000, 4096, DIRTY_MEMORY_CODE);
    st(R_DS, 0x7ffe, 4, 0x11223344);
    g_assert_cmpuint(cw.calls, ==, 4);
    g_assert_cmphex(cw.addr, ==, 0x8000);
    g_assert_cmphex(r32(0x7ffe), ==, 0x11223344);
    memory_global_dirty_log_stop(DIRTY_MEMORY_CODE);
    memory_dirty_notifier_unregister(&n);
    teardown();
}

static void test_a20(void)
{
    setup();
    mode_real();
    env.segs[R_DS].base = 0xffff0;
    cpu.seg_base[R_DS] = 0xffff0;
    ram[0x10] = 0x11;
    ram[0x100010] = 0x22;
    g_assert_cmphex(ld(R_DS, 0x20, 1), ==, 0x22);
    cpu.a20_mask = ~(1ULL << 20);
    tcgl_tlb_flush(&cpu);
    g_assert_cmphex(ld(R_DS, 0x20, 1), ==, 0x11);
    /* also on page-table addresses and translated addresses */
    map32();
    mode_flat32(0, true);
    w32(0x11000 + 3 * 4, 0x120000 | P | W);        /* 0x403000 -> 0x120000 -> 0x20000 */
    ram[0x20000] = 0x33;
    g_assert_cmphex(ld(R_DS, 0x403000, 1), ==, 0x33);
    cpu.a20_mask = ~0ULL;
    tcgl_tlb_flush(&cpu);
    ram[0x120000] = 0x44;
    g_assert_cmphex(ld(R_DS, 0x403000, 1), ==, 0x44);
    teardown();
}

static void test_align_check(void)
{
    uint64_t v;
    void *p;

    setup();
    mode_flat32(3, false);
    env.cr0 |= CR0_AM;
    env.rflags |= RFL_AC;
    g_assert_cmphex(ld(R_DS, 0x1000, 4), ==, 0);
    ld(R_DS, 0x1001, 1);
    ASSERT_FAULT(try_ld(R_DS, 0x1001, 4, &v), V_AC, 0);
    ASSERT_FAULT(try_st(R_DS, 0x1002, 8, 0), V_AC, 0);
    ASSERT_FAULT(try_rmw(R_DS, 0x1002, 4, &p), V_AC, 0);
    /* implicit supervisor accesses are not checked */
    g_assert_cmpint(try_ld_lin(0x1001, 4, TCGL_ACC_READ | TCGL_ACC_SUPER, &v), ==, -1);
    /* CPL 0, AC clear, AM clear: no check */
    set_cpl(0);
    g_assert_cmpint(try_ld(R_DS, 0x1001, 4, &v), ==, -1);
    set_cpl(3);
    env.rflags &= ~RFL_AC;
    g_assert_cmpint(try_ld(R_DS, 0x1001, 4, &v), ==, -1);
    env.rflags |= RFL_AC;
    env.cr0 &= ~CR0_AM;
    g_assert_cmpint(try_ld(R_DS, 0x1001, 4, &v), ==, -1);
    teardown();
}

static void test_lin_ptr_probe(void)
{
    uint32_t cr2;

    setup();
    map32();
    mode_flat32(3, true);
    g_assert_true(tcgl_lin_ptr(&cpu, 0x400010, 16, TCGL_ACC_READ) == ram + 0x20010);
    /* faults give NULL, with no side effect */
    env.cr2 = cr2 = 0x1234;
    g_assert_null(tcgl_lin_ptr(&cpu, 0x403000, 16, TCGL_ACC_READ));
    g_assert_null(tcgl_lin_ptr(&cpu, 0x401000, 16, TCGL_ACC_WRITE));
    g_assert_null(tcgl_lin_ptr(&cpu, 0x402000, 16, TCGL_ACC_READ));
    g_assert_cmphex(env.cr2, ==, cr2);
    g_assert_true(tcgl_lin_ptr(&cpu, 0x402000, 16, TCGL_ACC_READ | TCGL_ACC_SUPER) ==
                  ram + 0x22000);
    teardown();
}

static void test_rom_device(void)
{
    MemoryRegion flash;

    setup();
    g_assert_true(memory_region_init_rom_device(&flash, &io_ops, NULL, "flash", 0x1000, NULL));
    memset(memory_region_get_ram_ptr(&flash), 0x5c, 0x1000);
    memory_region_add_subregion(&root, 0x1020000, &flash);
    mode_flat32(0, false);
    /* reads come from its memory, directly; writes go to the device */
    g_assert_cmphex(ld(R_DS, 0x1020010, 4), ==, 0x5c5c5c5c);
    g_assert_cmpuint(io.reads, ==, 0);
    g_assert_cmphex(tcgl_tlb_entry(&cpu, 0, 0x1020000)->tag_read, ==, 0x1020000);
    st(R_DS, 0x1020010, 2, 0x9876);
    g_assert_cmpuint(io.writes, ==, 1);
    g_assert_cmphex(io.addr, ==, 0x10);
    g_assert_cmphex(io.val, ==, 0x9876);
    g_assert_cmphex(ld(R_DS, 0x1020010, 4), ==, 0x5c5c5c5c);
    memory_region_del_subregion(&root, &flash);
    memory_region_destroy(&flash);
    teardown();
}

static int try_fetch_bytes(uint64_t pc, uint8_t *buf, unsigned len)
{
    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    tcgl_fetch_bytes(&cpu, pc, buf, len);
    return -1;
}

static void test_fetch_cross(void)
{
    uint8_t buf[8];

    setup();
    map32();
    mode_flat32(3, true);
    ram[0x20ffe] = 0x0f;
    ram[0x20fff] = 0x0b;
    ram[0x21000] = 0xcc;
    g_assert_cmpint(try_fetch_bytes(0x400ffe, buf, 3), ==, -1);
    g_assert_cmphex(buf[0], ==, 0x0f);
    g_assert_cmphex(buf[2], ==, 0xcc);
    /* into a supervisor page: #PF on the second page (no I/D without NX paging) */
    assert_pf(try_fetch_bytes(0x401ffe, buf, 4), 0x5, 0x402000);
    /* paging off: physical = linear, masked by A20 */
    mode_flat32(0, false);
    g_assert_cmphex(tcgl_debug_translate(&cpu, 0x123456), ==, 0x123456);
    teardown();
}

/* ---- random tables and accesses: never a host pointer outside guest memory --- */

static bool host_in(const void *p, unsigned len, const uint8_t *base, uint64_t size)
{
    const uint8_t *b = p;
    return b >= base && b + len <= base + size;
}

static bool host_ok(const void *p, unsigned len)
{
    return host_in(p, len, ram, RAM_SIZE) || host_in(p, len, rom_mr.ram, ROM_SIZE) ||
           host_in(p, len, high, HIGH_SIZE);
}

/* Every direct tag of the TLB points into guest memory. */
static void check_tlb(void)
{
    for (int idx = 0; idx < TCGL_NB_MMU; idx++) {
        for (unsigned i = 0; i < TCGL_TLB_SIZE; i++) {
            const TCGLTLBEntry *e = &cpu.tlb[idx][i];
            const uint64_t tags[3] = { e->tag_read, e->tag_write, e->tag_exec };
            for (int k = 0; k < 3; k++) {
                if (!(tags[k] & TCGL_TLB_FLAGS)) {
                    g_assert_true(host_ok((void *)(uintptr_t)(tags[k] + e->addend),
                                          TCGL_PAGE_SIZE));
                }
            }
        }
    }
}

static int try_random_op(GRand *r, uint64_t addr)
{
    uint8_t buf[64] = { 0x5a };
    const void *p;
    uint64_t phys, v;
    unsigned avail, size = 1u << g_rand_int_range(r, 0, 4);
    void *q;

    if (sigsetjmp(cpu.jmp, 0)) {
        return cpu.event.vector;
    }
    switch (g_rand_int_range(r, 0, 9)) {
    case 0: v = tcgl_ld(&cpu, R_DS, addr, size); (void)v; break;
    case 1: tcgl_st(&cpu, R_DS, addr, size, g_rand_int(r)); break;
    case 2: tcgl_st_buf(&cpu, R_SS, addr, buf, g_rand_int_range(r, 1, 64)); break;
    case 3: tcgl_ld_buf(&cpu, R_ES, addr, buf, g_rand_int_range(r, 1, 64)); break;
    case 4:
        q = tcgl_rmw_ptr(&cpu, R_DS, addr, size);
        g_assert_true(!q || host_ok(q, size));
        break;
    case 5:
        avail = g_rand_int_range(r, 1, 4097);
        q = tcgl_lin_ptr(&cpu, addr, avail, g_rand_boolean(r) ? TCGL_ACC_WRITE : TCGL_ACC_READ);
        g_assert_true(!q || host_ok(q, avail));
        break;
    case 6:
        p = tcgl_fetch_page(&cpu, addr, &phys, &avail);
        g_assert_true(!p || host_ok(p, avail));
        break;
    case 7: tcgl_fetch_bytes(&cpu, addr, buf, 15); break;
    default:
        v = tcgl_ld_lin(&cpu, addr, size, TCGL_ACC_READ | TCGL_ACC_SUPER);
        (void)v;
        break;
    }
    return -1;
}

static void test_random_safety(void)
{
    GRand *r = g_rand_new_with_seed(11);
    unsigned faults = 0, ops = 0;

    setup();
    for (int round = 0; round < 40; round++) {
        /* random page tables over the first 256 KiB, some pointing far */
        for (unsigned i = 0; i < 0x40000; i += 4) {
            uint32_t x = g_rand_int(r);
            if (i % 8 == 4 && g_rand_int_range(r, 0, 4)) {
                x &= 0x1f;      /* mostly sane high halves */
            } else if (i % 8 == 0 && g_rand_int_range(r, 0, 4)) {
                x = (x & 0x3f0fff) | P;     /* mostly present, low 4 MiB */
            }
            w32(i, x);
        }
        switch (round % 4) {
        case 0: mode_flat32(g_rand_boolean(r) ? 3 : 0, true); break;
        case 1: env.cr4 = CR4_PAE; mode_flat32(g_rand_boolean(r) ? 3 : 0, true); break;
        case 2: mode_long64(g_rand_boolean(r) ? 3 : 0); break;
        default: mode_real(); break;
        }
        env.cr3 = g_rand_int_range(r, 0, 0x40) << 12;
        env.cr4 = (round % 4 == 0 ? CR4_PSE : CR4_PAE) | (g_rand_boolean(r) ? CR4_PGE : 0);
        env.efer |= g_rand_boolean(r) ? EFER_NXE : 0;
        env.cr0 |= g_rand_boolean(r) ? CR0_WP : 0;
        cpu.a20_mask = g_rand_boolean(r) ? ~0ULL : ~(1ULL << 20);
        tcgl_tlb_flush(&cpu);
        for (int k = 0; k < 2000; k++) {
            uint64_t addr;
            switch (g_rand_int_range(r, 0, 4)) {
            case 0: addr = g_rand_int(r); break;
            case 1: addr = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r); break;
            case 2: addr = 0xffff800000000000ULL | g_rand_int(r); break;
            default: addr = g_rand_int_range(r, 0, 0x1000000) | 0xff8; break;
            }
            if (!(cpu.hflags & TCGL_HF_CS64)) {
                addr &= round % 4 == 3 ? 0xffff : 0xffffffff;
            }
            if (try_random_op(r, addr) >= 0) {
                faults++;
            }
            ops++;
            if (g_rand_int_range(r, 0, 64) == 0) {
                tcgl_tlb_flush_page(&cpu, addr);
            }
        }
        check_tlb();
    }
    g_test_message("%u random accesses, %u faults", ops, faults);
    g_assert_cmpuint(faults, >, 0);
    g_assert_cmpuint(faults, <, ops);
    g_rand_free(r);
    teardown();
}

/* ---- micro-benchmark -------------------------------------------------------------- */

static uint64_t bench_loop(bool inl, unsigned n)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < n; i++) {
        uint64_t off = 0x400000 + ((i * 64) & 0x3fff);
        sum += inl ? tcgl_ldl_inl(&cpu, R_DS, off) : tcgl_ldl(&cpu, R_DS, off);
    }
    return sum;
}

static void test_bench(void)
{
    const unsigned n = 20 * 1000 * 1000;

    setup();
    map32();
    for (unsigned i = 0; i < 4; i++) {
        w32(0x11000 + i * 4, (0x20000 + i * 0x1000) | P | W);
    }
    mode_flat32(0, true);
    for (unsigned i = 0; i < 0x4000; i += 4) {
        w32(0x20000 + i, 1);
    }
    for (int inl = 0; inl < 2; inl++) {
        bench_loop(inl, 1000);
        gint64 t0 = g_get_monotonic_time();
        uint64_t sum = bench_loop(inl, n);
        gint64 t1 = g_get_monotonic_time();
        g_assert_cmpuint(sum, ==, n);
        g_test_message("TLB-hit 32-bit load (%s): %.2f ns", inl ? "inline" : "tcgl_ldl",
                       (double)(t1 - t0) * 1000.0 / n);
    }
    /* misses: 4-level paging, 4 KiB pages, 1024 pages round robin (the
     * TLB has 256 entries per privilege) */
    env.cr4 = 0;
    w64(0x10000, 0x11000 | P | W);
    w64(0x11000, 0x12000 | P | W);
    w64(0x12000, 0x13000 | P | W);
    w64(0x12008, 0x14000 | P | W);
    for (unsigned i = 0; i < 1024; i++) {
        w64(0x13000 + i * 8, (0x100000 + i * 0x1000) | P | W | A);
    }
    mode_long64(0);
    gint64 m0 = g_get_monotonic_time();
    const unsigned nm = 1000 * 1000;
    uint64_t msum = 0;
    for (unsigned i = 0; i < nm; i++) {
        msum += tcgl_ldl(&cpu, R_DS, (uint64_t)(i & 1023) << 12);
    }
    gint64 m1 = g_get_monotonic_time();
    g_assert_cmpuint(msum, ==, 0);
    g_test_message("TLB miss (4-level walk + fill + load): %.1f ns",
                   (double)(m1 - m0) * 1000.0 / nm);
    teardown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tcgl/mmu/seg/real", test_seg_real);
    g_test_add_func("/tcgl/mmu/seg/prot", test_seg_prot);
    g_test_add_func("/tcgl/mmu/seg/long", test_seg_long);
    g_test_add_func("/tcgl/mmu/paging/32", test_paging32);
    g_test_add_func("/tcgl/mmu/paging/pae", test_paging_pae);
    g_test_add_func("/tcgl/mmu/paging/long", test_paging_long);
    g_test_add_func("/tcgl/mmu/tlb/dirty-bit", test_dirty_bit);
    g_test_add_func("/tcgl/mmu/tlb/global", test_global);
    g_test_add_func("/tcgl/mmu/tlb/invlpg-large", test_invlpg_large);
    g_test_add_func("/tcgl/mmu/tlb/victim", test_victim);
    g_test_add_func("/tcgl/mmu/access/cross-page", test_cross_page);
    g_test_add_func("/tcgl/mmu/access/mmio-rom", test_mmio_rom);
    g_test_add_func("/tcgl/mmu/access/lin-ptr", test_lin_ptr_probe);
    g_test_add_func("/tcgl/mmu/access/rom-device", test_rom_device);
    g_test_add_func("/tcgl/mmu/access/fetch-cross", test_fetch_cross);
    g_test_add_func("/tcgl/mmu/access/align-check", test_align_check);
    g_test_add_func("/tcgl/mmu/map/generation", test_generation);
    g_test_add_func("/tcgl/mmu/map/code-protect", test_code_protect);
    g_test_add_func("/tcgl/mmu/map/a20", test_a20);
    g_test_add_func("/tcgl/mmu/random-safety", test_random_safety);
    g_test_add_func("/tcgl/mmu/bench", test_bench);
    return g_test_run();
}
