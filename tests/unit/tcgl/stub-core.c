/*
 * Stand-ins for the tcg-lite parts "sys" and "fp" in the core part's unit
 * tests (tests/unit/tcgl/stub-core.h).
 */
#include <string.h>
#include <glib.h>
#include "hw/memory.h"
#include "stub-core.h"
#include "decode.h"
#include "mmu.h"

StubState stub;

/* Two stand-in system instructions to exercise the executor's handling of
 * TCGL_OPF_PRIV and TCGL_OPF_END: CLTS (0F 06) counts, CLI (FA) clears IF. */
static void stub_clts(TCGLCPU *c, const TCGLInsn *i)
{
    (void)c;
    (void)i;
    stub.nr_clts++;
}

static void stub_cli(TCGLCPU *c, const TCGLInsn *i)
{
    (void)i;
    c->env->rflags &= ~0x200ULL;
}

/* WBINVD (0F 09) stands in for a handler that drops all decoded code. */
static void stub_flush(TCGLCPU *c, const TCGLInsn *i)
{
    (void)c;
    (void)i;
    tcgl_blocks_flush();
}

const TCGLOpDesc tcgl_ops_sys[] = {
    { .opc = TCGL_OPC(TCGL_MAP_0F, 0x09), .reg = -1, .pfx = TCGL_MP_ANY,
      .flags = TCGL_OPF_END, .fn = stub_flush },
    { .opc = TCGL_OPC(TCGL_MAP_0F, 0x06), .reg = -1, .pfx = TCGL_MP_ANY,
      .flags = TCGL_OPF_PRIV | TCGL_OPF_END, .fn = stub_clts },
    { .opc = TCGL_OPC(TCGL_MAP_1B, 0xfa), .reg = -1, .pfx = TCGL_MP_ANY,
      .flags = TCGL_OPF_END, .fn = stub_cli },
    TCGL_OPDESC_END
};
const TCGLOpDesc tcgl_ops_fpu[] = { TCGL_OPDESC_END };
const TCGLOpDesc tcgl_ops_sse[] = { TCGL_OPDESC_END };

static MemoryRegion stub_ram_mr;
static bool stub_mem_ready;

void tcgl_update_hflags(TCGLCPU *c)
{
    X86CPUState *env = c->env;
    uint32_t hf = 0;

    if (env->efer & EFER_LMA) {
        hf |= TCGL_HF_LMA;
        if (env->segs[R_CS].l) {
            hf |= TCGL_HF_CS64;
        }
    }
    if (env->segs[R_CS].db) {
        hf |= TCGL_HF_CS32;
    }
    if (env->segs[R_SS].db) {
        hf |= TCGL_HF_SS32;
    }
    if (env->cr0 & CR0_PE) {
        hf |= TCGL_HF_PE;
    }
    /* the CPL: CS's RPL here (the tests set the selector); as seg.c,
     * mmu_idx follows it and every chain breaks */
    hf |= env->segs[R_CS].selector & 3;
    c->hflags = hf;
    c->mmu_idx = (hf & TCGL_HF_CPL_MASK) == 3 ? TCGL_MMU_USER : TCGL_MMU_SUPER;
    c->chain_break = true;
    c->lin_mask = (hf & TCGL_HF_LMA) ? ~0ULL : 0xffffffffULL;
    for (int s = 0; s < R_NB_SEGS; s++) {
        c->seg_base[s] = env->segs[s].base;
        c->seg_rlim[s] = c->seg_wlim[s] = env->segs[s].limit;
        if (hf & TCGL_HF_CS64) {
            /* no limits in 64-bit mode, as seg.c */
            c->seg_rlim[s] = c->seg_wlim[s] = INT64_MAX;
            if (s != R_FS && s != R_GS) {
                c->seg_base[s] = 0;
            }
        }
    }
}

void stub_reset(int mode)
{
    X86CPUState *env = &stub.cpu.env;

    if (!stub_mem_ready) {
        memory_init_system();
        g_assert_true(memory_region_init_ram(&stub_ram_mr, "stub-ram", STUB_RAM_SIZE, NULL));
        memory_region_add_subregion(get_system_memory(), 0, &stub_ram_mr);
        stub_mem_ready = true;
    }
    stub.ram = memory_region_get_ram_ptr(&stub_ram_mr);
    g_free(stub.c.jmp_cache);       /* the executor's, allocated on first use */
    memset(&stub.c, 0, sizeof(stub.c));
    memset(env, 0, sizeof(*env));
    stub.c.env = env;
    stub.c.cpu = &stub.cpu;
    stub.nr_events = stub.nr_hwints = stub.nr_pauses = 0;
    stub.last_hwint = -1;
    stub.hwint_handler = 0;
    env->rflags = 2;
    for (int s = 0; s < R_NB_SEGS; s++) {
        env->segs[s].limit = mode == 16 ? 0xffff : 0xffffffff;
        env->segs[s].present = true;
        env->segs[s].db = mode == 32;
    }
    if (mode == 64) {
        env->efer = EFER_LMA | EFER_LME;
        env->segs[R_CS].l = true;
        env->cr0 = CR0_PE | CR0_PG;
    } else if (mode == 32) {
        env->cr0 = CR0_PE;
    }
    tcgl_update_hflags(&stub.c);
    stub.c.a20_mask = ~0ULL;
    /* no TLB hits: every data access goes to tcgl_mmu_*_slow below */
    for (int m = 0; m < TCGL_NB_MMU; m++) {
        for (unsigned k = 0; k < TCGL_TLB_SIZE; k++) {
            stub.c.tlb[m][k].tag_read = stub.c.tlb[m][k].tag_write = TCGL_TLB_INVALID;
        }
    }
}

void stub_write(uint64_t addr, const void *buf, size_t len)
{
    g_assert_cmpint(address_space_write(&address_space_memory, addr, buf, len), ==, MEMTX_OK);
}

/* ---- memory ---------------------------------------------------------------- */

static uint64_t lin_of(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;
    if (lin + size > STUB_RAM_SIZE || lin + size < lin) {
        tcgl_raise(c, seg == R_SS ? 12 : 13, 0);
    }
    if ((lin & (size - 1)) && tcgl_ac_on(c)) {
        tcgl_raise(c, 17, 0);                   /* #AC(0), as mmu.c */
    }
    return lin;
}

uint64_t tcgl_ld(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, stub.ram + lin_of(c, seg, off, size), size);
    return v;
}

/* The misses of the inline paths of mmu.h. */
uint64_t tcgl_mmu_ld_slow(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    return tcgl_ld(c, seg, off, size);
}

void tcgl_mmu_st_slow(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    tcgl_st(c, seg, off, size, v);
}

void tcgl_st(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    address_space_write(&address_space_memory, lin_of(c, seg, off, size), &v, size);
}

uint8_t tcgl_ldb(TCGLCPU *c, int seg, uint64_t off) { return (uint8_t)tcgl_ld(c, seg, off, 1); }
uint16_t tcgl_ldw(TCGLCPU *c, int seg, uint64_t off) { return (uint16_t)tcgl_ld(c, seg, off, 2); }
uint32_t tcgl_ldl(TCGLCPU *c, int seg, uint64_t off) { return (uint32_t)tcgl_ld(c, seg, off, 4); }
uint64_t tcgl_ldq(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 8); }
void tcgl_stb(TCGLCPU *c, int seg, uint64_t off, uint8_t v) { tcgl_st(c, seg, off, 1, v); }
void tcgl_stw(TCGLCPU *c, int seg, uint64_t off, uint16_t v) { tcgl_st(c, seg, off, 2, v); }
void tcgl_stl(TCGLCPU *c, int seg, uint64_t off, uint32_t v) { tcgl_st(c, seg, off, 4, v); }
void tcgl_stq(TCGLCPU *c, int seg, uint64_t off, uint64_t v) { tcgl_st(c, seg, off, 8, v); }

void tcgl_ld_buf(TCGLCPU *c, int seg, uint64_t off, void *buf, unsigned size)
{
    memcpy(buf, stub.ram + lin_of(c, seg, off, size), size);
}

void tcgl_st_buf(TCGLCPU *c, int seg, uint64_t off, const void *buf, unsigned size)
{
    address_space_write(&address_space_memory, lin_of(c, seg, off, size), buf, size);
}

void *tcgl_rmw_ptr(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    uint64_t lin = lin_of(c, seg, off, size);
    if ((lin & 0xfff) + size > 0x1000) {
        return NULL;        /* crossing a page: the caller's slow path */
    }
    return address_space_get_ram_ptr(&address_space_memory, lin, size, true);
}

void tcgl_probe_write(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    lin_of(c, seg, off, size);
}

uint64_t tcgl_ld_lin(TCGLCPU *c, uint64_t lin, unsigned size, int acc)
{
    uint64_t v = 0;
    (void)acc;
    if (lin + size > STUB_RAM_SIZE) {
        tcgl_raise(c, 13, 0);
    }
    memcpy(&v, stub.ram + lin, size);
    return v;
}

void tcgl_st_lin(TCGLCPU *c, uint64_t lin, unsigned size, uint64_t v, int acc)
{
    (void)acc;
    if (lin + size > STUB_RAM_SIZE) {
        tcgl_raise(c, 13, 0);
    }
    address_space_write(&address_space_memory, lin, &v, size);
}

void *tcgl_lin_ptr(TCGLCPU *c, uint64_t lin, unsigned len, int acc)
{
    (void)c;
    if (lin - STUB_HIGH_ALIAS < STUB_RAM_SIZE) {
        lin -= STUB_HIGH_ALIAS;     /* the fast paths' view of RAM at a kernel address */
    }
    if (lin >= STUB_RAM_SIZE || (lin & 0xfff) + len > 0x1000) {
        return NULL;
    }
    return address_space_get_ram_ptr(&address_space_memory, lin, len,
                                      (acc & 0xf) == TCGL_ACC_WRITE);
}

/* Identity paging over RAM.  Fills the execute TLB entry as the
 * real softmmu would, so block links can be checked against it. */
const uint8_t *tcgl_fetch_page(TCGLCPU *c, uint64_t pc, uint64_t *phys, unsigned *avail)
{
    uint64_t lin = pc & c->lin_mask;
    TCGLTLBEntry *e = &c->tlb[c->mmu_idx][(lin >> TCGL_PAGE_BITS) & (TCGL_TLB_SIZE - 1)];

    stub.nr_fetch_page++;
    if (lin >= STUB_RAM_SIZE) {
        tcgl_raise(c, 14, 0x10);
    }
    *phys = lin;
    if ((lin & TCGL_PAGE_MASK) == STUB_MMIO_CODE_PAGE) {
        return NULL;            /* as if the page were MMIO: byte-wise fetch */
    }
    *avail = TCGL_PAGE_SIZE - (unsigned)(lin & (TCGL_PAGE_SIZE - 1));
    e->tag_exec = lin & TCGL_PAGE_MASK;
    *tcgl_tlb_phys(c, e) = lin & TCGL_PAGE_MASK;
    return stub.ram + lin;
}

void tcgl_fetch_bytes(TCGLCPU *c, uint64_t pc, uint8_t *buf, unsigned len)
{
    if (pc + len > STUB_RAM_SIZE) {
        tcgl_raise(c, 14, 0x10);
    }
    memcpy(buf, stub.ram + pc, len);
}

void tcgl_tlb_flush(TCGLCPU *c) { (void)c; }
void tcgl_tlb_flush_page(TCGLCPU *c, uint64_t lin) { (void)c; (void)lin; }
/* mmu.c: no vCPU runs without the BQL in these tests */
void tcgl_exclusive_begin(void) { }
void tcgl_exclusive_end(void) { }
uint64_t tcgl_debug_translate(TCGLCPU *c, uint64_t lin) { (void)c; return lin; }

/* ---- events ------------------------------------------------------------------ */

void tcgl_raise(TCGLCPU *c, int vector, int err)
{
    c->event.kind = TCGL_EV_FAULT;
    c->event.vector = (uint8_t)vector;
    c->event.has_error = err >= 0;
    c->event.error = err >= 0 ? (uint32_t)err : 0;
    siglongjmp(c->jmp, 1);
}

void tcgl_raise_softint(TCGLCPU *c, int vector, uint64_t next_rip, TCGLEventKind kind)
{
    c->event.kind = kind;
    c->event.vector = (uint8_t)vector;
    c->event.has_error = false;
    c->event.next_rip = next_rip;
    siglongjmp(c->jmp, 1);
}

/* A delivered exception stops the loop at the faulting instruction so the
 * test can look at it. */
void tcgl_deliver_event(TCGLCPU *c)
{
    stub.nr_events++;
    stub.last_event = c->event;
    c->event.kind = TCGL_EV_NONE;
    c->exit_request = 1;
}

void tcgl_deliver_hwint(TCGLCPU *c, int vector, bool nmi)
{
    (void)nmi;
    stub.nr_hwints++;
    stub.last_hwint = vector;
    stub.hwint_rip = c->env->rip;
    stub.hwint_rcx = c->env->regs[R_ECX];
    if (stub.hwint_handler) {
        c->env->rip = stub.hwint_handler;
    }
}

void tcgl_pause(TCGLCPU *c)
{
    (void)c;
    stub.nr_pauses++;
    if (stub.pause_hook) {
        stub.pause_hook();
    }
}

void tcgl_fp_state_from_env(TCGLCPU *c) { (void)c; }
void tcgl_fp_state_to_env(TCGLCPU *c) { (void)c; }

/* ---- a one-instruction executor for handler tests -------------------------------- */

int stub_step(void)
{
    TCGLCPU *c = &stub.c;
    TCGLInsn insn;
    TCGLDecodeInfo info;
    uint8_t buf[16];
    uint64_t pc = (c->seg_base[R_CS] + c->env->rip) & c->lin_mask;
    int len;

    if (pc + sizeof(buf) > STUB_RAM_SIZE) {
        c->event.vector = 14;
        return 14;
    }
    memcpy(buf, stub.ram + pc, sizeof(buf));
    len = tcgl_decode_ex(buf, sizeof(buf), c->hflags, &insn, &info);
    g_assert_cmpint(len, >, 0);
    if (sigsetjmp(c->jmp, 0)) {
        return c->event.vector;
    }
    insn.fn(c, &insn);
    if (!(info.opflags & TCGL_OPF_BRANCH)) {
        c->env->rip += (uint64_t)len;
        if (!(c->hflags & TCGL_HF_CS64)) {
            c->env->rip &= (c->hflags & TCGL_HF_CS32) ? 0xffffffffULL : 0xffffULL;
        }
    }
    return -1;
}

int stub_run_until(uint64_t stop, unsigned max)
{
    for (unsigned n = 0; n < max && stub.c.env->rip != stop; n++) {
        int v = stub_step();
        if (v >= 0) {
            return v;
        }
    }
    return -1;
}
