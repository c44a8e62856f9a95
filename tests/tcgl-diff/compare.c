/*
 * Cases, the comparison of two results, mismatch reports (capstone
 * disassembly, input, both outputs) and minimal reproducers.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include "diff.h"

static const char *const gpr_name[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

#define DEFAULT_RSP   (DIFF_STACK_ADDR + 0x800)
#define DEFAULT_MXCSR 0x1f80u
#define DEFAULT_FCW   0x37fu

void diff_state_init(DiffState *s, int mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->gpr[D_RSP] = DEFAULT_RSP;
    s->rflags = 2;
    s->mxcsr = DEFAULT_MXCSR;
    s->fcw = DEFAULT_FCW;
    s->vector = DIFF_VEC_NONE;
}

void diff_case_init(DiffCase *c, const char *name, int mode)
{
    memset(c->name, 0, sizeof(c->name));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->len = 0;
    c->undef_flags = 0;
    c->undef_gpr = 0;
    c->undef_gpr_zf = 0;
    c->undef_fsw = 0;
    c->undef = 0;
    c->single = false;
    diff_state_init(&c->in, mode);
}

void diff_case_emit(DiffCase *c, const uint8_t *bytes, size_t n)
{
    if (c->len + n > DIFF_MAX_CODE) {
        fprintf(stderr, "tcgl-diff: case %s: sequence too long\n", c->name);
        abort();
    }
    memcpy(c->code + c->len, bytes, n);
    c->len += n;
}

/* ---- comparison ------------------------------------------------------------ */

static unsigned nregs(const DiffState *s)
{
    return s->mode == 32 ? 8 : 16;
}

static uint64_t reg_mask(const DiffState *s)
{
    return s->mode == 32 ? 0xffffffffULL : ~0ULL;
}

static unsigned undef_gprs(const DiffCase *c, const DiffState *a)
{
    return c->undef_gpr | ((a->rflags & DF_ZF) ? c->undef_gpr_zf : 0);
}

static bool mem_fault(int vector)
{
    return vector == 12 || vector == 13 || vector == 14;
}

/* DIFF_U_A32CNT0: the same low half, and the upper half kept or cleared */
static bool a32_either(const DiffCase *c, unsigned i, uint64_t x, uint64_t y)
{
    return (c->undef & DIFF_U_A32CNT0) && (i == D_RCX || i == D_RSI || i == D_RDI) &&
           (uint32_t)x == (uint32_t)y && (!(x >> 32) || !(y >> 32));
}

/* DIFF_U_MMXFAULT: both fault the same way and the eight physical
 * registers agree, whatever TOP and the tags say */
static bool mmx_fault_either(const DiffCase *c, const DiffState *a, const DiffState *b)
{
    unsigned ta = (a->fsw >> 11) & 7, tb = (b->fsw >> 11) & 7;

    if (!(c->undef & DIFF_U_MMXFAULT) || a->vector == DIFF_VEC_NONE || a->vector != b->vector ||
        ((a->fsw ^ b->fsw) & ~c->undef_fsw & ~0x3800u)) {
        return false;
    }
    for (unsigned p = 0; p < 8; p++) {
        if (memcmp(a->st[(p - ta) & 7], b->st[(p - tb) & 7], 10)) {
            return false;
        }
    }
    return true;
}

/* DIFF_U_FPSTFAULT: one side faults on the store, the other completes with
 * the exception pending (ES) and stores nothing */
static bool fpst_fault_either(const DiffCase *c, const DiffState *a, const DiffState *b)
{
    const DiffState *f = mem_fault(a->vector) ? a : b, *e = f == a ? b : a;

    return (c->undef & DIFF_U_FPSTFAULT) && mem_fault(f->vector) &&
           e->vector == DIFF_VEC_NONE && (e->fsw & 0x80) && !(f->fsw & 0x80) &&
           f->ftw == e->ftw && !memcmp(f->st, e->st, sizeof(f->st));
}

unsigned diff_compare(const DiffCase *c, const DiffState *a, const DiffState *b)
{
    unsigned m = 0, ug = undef_gprs(c, a);
    uint64_t fm = DIFF_FLAGS_IN & ~(uint64_t)c->undef_flags;
    bool fpst = fpst_fault_either(c, a, b);

    for (unsigned i = 0; i < nregs(a); i++) {
        if (!(ug & (1u << i)) && ((a->gpr[i] ^ b->gpr[i]) & reg_mask(a)) &&
            !a32_either(c, i, a->gpr[i], b->gpr[i])) {
            m |= DIFF_M_GPR;
        }
    }
    if ((a->rflags ^ b->rflags) & fm) {
        m |= DIFF_M_FLAGS;
    }
    if (((a->rip ^ b->rip) & reg_mask(a)) && !fpst) {
        m |= DIFF_M_RIP;
    }
    if ((c->undef & DIFF_U_FAULT) && mem_fault(a->vector) && mem_fault(b->vector)) {
        /* either operand's fault: #PF, #GP (non-canonical) or #SS */
    } else if (fpst) {
        /* the store's fault, or its invalid operation first */
    } else if (a->vector != b->vector) {
        m |= DIFF_M_VECTOR;
    } else if (a->vector == 14 && a->fault_addr != b->fault_addr) {
        m |= DIFF_M_FAULT;
    }
    if (!(c->undef & DIFF_U_XMM) && memcmp(a->xmm, b->xmm, 16 * nregs(a))) {
        m |= DIFF_M_XMM;
    }
    if (!(c->undef & DIFF_U_MXCSR) ? (a->mxcsr != b->mxcsr)
                                   : ((a->mxcsr ^ b->mxcsr) & ~0x3fu)) {
        m |= DIFF_M_MXCSR;
    }
    if (a->fcw != b->fcw) {
        m |= DIFF_M_FCW;
    }
    if (fpst || mmx_fault_either(c, a, b)) {
        /* compared there */
    } else if (((a->fsw ^ b->fsw) & ~c->undef_fsw) || a->ftw != b->ftw) {
        m |= DIFF_M_X87;
    } else {
        /* the registers that are not empty (ST(i) is physical (TOP + i) & 7) */
        unsigned top = (a->fsw >> 11) & 7;
        for (unsigned i = 0; i < 8; i++) {
            if ((a->ftw >> ((top + i) & 7) & 1) && memcmp(a->st[i], b->st[i], 10)) {
                m |= DIFF_M_X87;
            }
        }
    }
    if (memcmp(a->data, b->data, DIFF_PAGE) || memcmp(a->stack, b->stack, DIFF_PAGE)) {
        m |= DIFF_M_MEM;
    }
    return m;
}

/* ---- disassembly ------------------------------------------------------------ */

void diff_disasm(const uint8_t *code, size_t len, int mode, char *buf, size_t size)
{
    csh h;
    cs_insn *insn;
    size_t n, pos = 0, consumed = 0;

    buf[0] = 0;
    if (cs_open(CS_ARCH_X86, mode == 32 ? CS_MODE_32 : CS_MODE_64, &h) != CS_ERR_OK) {
        snprintf(buf, size, "(no disassembler)");
        return;
    }
    n = cs_disasm(h, code, len, DIFF_CODE_ADDR, 0, &insn);
    for (size_t i = 0; i < n && pos < size; i++) {
        pos += snprintf(buf + pos, size - pos, "%s%s %s", i ? "; " : "",
                        insn[i].mnemonic, insn[i].op_str);
        consumed += insn[i].size;
    }
    if (consumed < len && pos < size) {
        snprintf(buf + pos, size - pos, "%s(undecodable from +%zu)", n ? "; " : "", consumed);
    }
    if (n) {
        cs_free(insn, n);
    }
    cs_close(&h);
}

/* ---- reproducers --------------------------------------------------------------
 * "m64 c=4801c8 rax=0x7fffffff fl=0x1 x1=<32 hex> mxcsr=0x1f80 fcw=0x37f
 *  d100=<hex> s7f8=<hex>" -- only what differs from diff_state_init(). */

static size_t put_hex(char *buf, size_t size, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < n && pos + 3 < size; i++) {
        pos += snprintf(buf + pos, size - pos, "%02x", p[i]);
    }
    return pos;
}

static size_t put_page(char *buf, size_t size, char tag, const uint8_t *page)
{
    size_t pos = 0;
    for (size_t i = 0; i < DIFF_PAGE && pos < size;) {
        if (!page[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < DIFF_PAGE && (page[j] || (j + 1 < DIFF_PAGE && page[j + 1]))) {
            j++;
        }
        pos += snprintf(buf + pos, size - pos, " %c%zx=", tag, i);
        if (pos < size) {
            pos += put_hex(buf + pos, size - pos, page + i, j - i);
        }
        i = j;
    }
    return pos;
}

void diff_repro_format(const DiffCase *c, char *buf, size_t size)
{
    const DiffState *s = &c->in;
    DiffState d;
    size_t pos;

    diff_state_init(&d, s->mode);
    pos = snprintf(buf, size, "m%d c=", s->mode);
    pos += put_hex(buf + pos, size - pos, c->code, c->len);
    for (int i = 0; i < 16 && pos < size; i++) {
        if (s->gpr[i] != d.gpr[i]) {
            pos += snprintf(buf + pos, size - pos, " %s=0x%" PRIx64, gpr_name[i], s->gpr[i]);
        }
    }
    if (pos < size && s->rflags != d.rflags) {
        pos += snprintf(buf + pos, size - pos, " fl=0x%" PRIx64, s->rflags);
    }
    for (int i = 0; i < 16 && pos < size; i++) {
        static const uint8_t zero[16];
        if (memcmp(s->xmm[i], zero, 16)) {
            pos += snprintf(buf + pos, size - pos, " x%d=", i);
            pos += put_hex(buf + pos, size - pos, s->xmm[i], 16);
        }
    }
    if (pos < size && s->mxcsr != d.mxcsr) {
        pos += snprintf(buf + pos, size - pos, " mxcsr=0x%x", s->mxcsr);
    }
    if (pos < size && s->fcw != d.fcw) {
        pos += snprintf(buf + pos, size - pos, " fcw=0x%x", s->fcw);
    }
    if (pos < size && s->fsw) {
        pos += snprintf(buf + pos, size - pos, " fsw=0x%x", s->fsw);
    }
    if (pos < size && s->ftw) {
        pos += snprintf(buf + pos, size - pos, " ftw=0x%x", s->ftw);
    }
    for (int i = 0; i < 8 && pos < size; i++) {
        static const uint8_t zero[10];
        if (memcmp(s->st[i], zero, 10)) {
            pos += snprintf(buf + pos, size - pos, " st%d=", i);
            pos += put_hex(buf + pos, size - pos, s->st[i], 10);
        }
    }
    if (pos < size && c->undef_fsw) {
        pos += snprintf(buf + pos, size - pos, " ufsw=0x%x", c->undef_fsw);
    }
    if (pos < size && c->undef_flags) {
        pos += snprintf(buf + pos, size - pos, " uf=0x%x", c->undef_flags);
    }
    if (pos < size && c->undef_gpr) {
        pos += snprintf(buf + pos, size - pos, " ug=0x%x", c->undef_gpr);
    }
    if (pos < size && c->undef_gpr_zf) {
        pos += snprintf(buf + pos, size - pos, " ugz=0x%x", c->undef_gpr_zf);
    }
    if (pos < size && c->undef) {
        pos += snprintf(buf + pos, size - pos, " u=0x%x", c->undef);
    }
    if (pos < size && c->single) {
        pos += snprintf(buf + pos, size - pos, " ss=1");
    }
    if (pos < size) {
        pos += put_page(buf + pos, size - pos, 'd', s->data);
    }
    if (pos < size) {
        put_page(buf + pos, size - pos, 's', s->stack);
    }
}

static bool parse_hex(const char *s, size_t len, uint8_t *out, size_t max, size_t *n)
{
    if (len % 2 || len / 2 > max) {
        return false;
    }
    for (size_t i = 0; i < len / 2; i++) {
        char t[3] = { s[2 * i], s[2 * i + 1], 0 };
        char *end;
        out[i] = strtoul(t, &end, 16);
        if (*end) {
            return false;
        }
    }
    *n = len / 2;
    return true;
}

bool diff_repro_parse(const char *str, DiffCase *c)
{
    char *dup = strdup(str), *save = NULL, *tok;
    bool ok = true;
    size_t n;

    diff_case_init(c, "repro", strstr(str, "m32") == str ? 32 : 64);
    for (tok = strtok_r(dup, " ", &save); tok && ok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        int i;
        if (!strcmp(tok, "m32") || !strcmp(tok, "m64")) {
            continue;
        }
        if (!eq) {
            ok = false;
            break;
        }
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(tok, "c")) {
            ok = parse_hex(v, strlen(v), c->code, DIFF_MAX_CODE, &c->len);
            continue;
        }
        for (i = 0; i < 16 && strcmp(tok, gpr_name[i]); i++) {
        }
        if (i < 16) {
            c->in.gpr[i] = strtoull(v, NULL, 0);
        } else if (!strcmp(tok, "fl")) {
            c->in.rflags = strtoull(v, NULL, 0);
        } else if (!strcmp(tok, "mxcsr")) {
            c->in.mxcsr = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "fcw")) {
            c->in.fcw = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "fsw")) {
            c->in.fsw = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "ftw")) {
            c->in.ftw = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "ufsw")) {
            c->undef_fsw = strtoul(v, NULL, 0);
        } else if (tok[0] == 's' && tok[1] == 't' && tok[2] >= '0' && tok[2] <= '7' && !tok[3]) {
            ok = parse_hex(v, strlen(v), c->in.st[tok[2] - '0'], 10, &n) && n == 10;
        } else if (!strcmp(tok, "uf")) {
            c->undef_flags = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "ug")) {
            c->undef_gpr = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "ugz")) {
            c->undef_gpr_zf = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "u")) {
            c->undef = strtoul(v, NULL, 0);
        } else if (!strcmp(tok, "ss")) {
            c->single = atoi(v) != 0;
        } else if (tok[0] == 'x' && tok[1] >= '0' && tok[1] <= '9') {
            i = atoi(tok + 1);
            ok = i < 16 && parse_hex(v, strlen(v), c->in.xmm[i], 16, &n) && n == 16;
        } else if (tok[0] == 'd' || tok[0] == 's') {
            uint8_t *page = tok[0] == 'd' ? c->in.data : c->in.stack;
            unsigned long off = strtoul(tok + 1, NULL, 16);
            ok = off < DIFF_PAGE && parse_hex(v, strlen(v), page + off, DIFF_PAGE - off, &n);
        } else {
            ok = false;
        }
    }
    free(dup);
    return ok && c->len > 0;
}

/* ---- reports ------------------------------------------------------------------ */

static void print_vector(FILE *f, const DiffState *s)
{
    if (s->vector == DIFF_VEC_NONE) {
        fprintf(f, "completed");
    } else if (s->vector == DIFF_VEC_TIMEOUT) {
        fprintf(f, "timeout");
    } else {
        fprintf(f, "vector %d", s->vector);
        if (s->vector == 14) {
            fprintf(f, " addr 0x%" PRIx64, s->fault_addr);
        }
    }
    fprintf(f, " at rip 0x%" PRIx64 " (+%" PRId64 ")", s->rip, (int64_t)(s->rip - DIFF_CODE_ADDR));
}

static void print_page_diff(FILE *f, const char *what, uint64_t base, const uint8_t *in,
                            const uint8_t *a, const uint8_t *b)
{
    unsigned shown = 0;
    for (unsigned i = 0; i < DIFF_PAGE && shown < 8; i++) {
        if (a[i] != b[i]) {
            fprintf(f, "    %s 0x%" PRIx64 ": in %02x host %02x candidate %02x\n", what,
                    base + i, in[i], a[i], b[i]);
            shown++;
        }
    }
}

static void report(FILE *f, const DiffCase *c, const DiffState *a, const DiffState *b,
                   unsigned m, const char *cand)
{
    char buf[8192];
    unsigned n = nregs(a);
    uint64_t fm = DIFF_FLAGS_IN & ~(uint64_t)c->undef_flags;

    diff_disasm(c->code, c->len, c->in.mode, buf, sizeof(buf));
    fprintf(f, "MISMATCH %s (mode %d): %s\n", c->name, c->in.mode, buf);
    fprintf(f, "  differs:%s%s%s%s%s%s%s%s%s%s\n", m & DIFF_M_GPR ? " gpr" : "",
            m & DIFF_M_FLAGS ? " rflags" : "", m & DIFF_M_RIP ? " rip" : "",
            m & DIFF_M_VECTOR ? " vector" : "", m & DIFF_M_FAULT ? " fault-address" : "",
            m & DIFF_M_XMM ? " xmm" : "", m & DIFF_M_MXCSR ? " mxcsr" : "",
            m & DIFF_M_MEM ? " memory" : "", m & DIFF_M_FCW ? " fcw" : "",
            m & DIFF_M_X87 ? " x87" : "");
    fprintf(f, "  host:      ");
    print_vector(f, a);
    fprintf(f, "\n  %-10s ", cand);
    print_vector(f, b);
    fprintf(f, "\n  %-5s %18s %18s %18s\n", "", "input", "host", cand);
    unsigned ug = undef_gprs(c, a);
    for (unsigned i = 0; i < n; i++) {
        bool bad = !(ug & (1u << i)) && ((a->gpr[i] ^ b->gpr[i]) & reg_mask(a));
        if (!bad && !c->in.gpr[i] && !a->gpr[i] && !b->gpr[i]) {
            continue;               /* zero throughout */
        }
        fprintf(f, "  %-5s %18" PRIx64 " %18" PRIx64 " %18" PRIx64 "%s\n", gpr_name[i],
                c->in.gpr[i], a->gpr[i], b->gpr[i],
                bad ? "  <--" : (ug & (1u << i)) ? "  (undefined)" : "");
    }
    fprintf(f, "  %-5s %18" PRIx64 " %18" PRIx64 " %18" PRIx64 "%s (compared bits 0x%" PRIx64 ")\n",
            "flags", c->in.rflags, a->rflags & DIFF_FLAGS_IN, b->rflags & DIFF_FLAGS_IN,
            ((a->rflags ^ b->rflags) & fm) ? "  <--" : "", fm);
    if ((a->rflags ^ b->rflags) & fm) {
        static const struct { uint32_t bit; const char *nm; } fn[] = {
            { DF_CF, "CF" }, { DF_PF, "PF" }, { DF_AF, "AF" }, { DF_ZF, "ZF" },
            { DF_SF, "SF" }, { DF_OF, "OF" }, { DF_DF, "DF" },
        };
        fprintf(f, "  flags that differ:");
        for (unsigned k = 0; k < sizeof(fn) / sizeof(fn[0]); k++) {
            if ((a->rflags ^ b->rflags) & fm & fn[k].bit) {
                fprintf(f, " %s (host %d)", fn[k].nm, !!(a->rflags & fn[k].bit));
            }
        }
        fprintf(f, "\n");
    }
    fprintf(f, "  %-5s %18x %18x %18x%s\n", "mxcsr", c->in.mxcsr, a->mxcsr, b->mxcsr,
            m & DIFF_M_MXCSR ? "  <--" : "");
    for (unsigned i = 0; i < n; i++) {
        static const uint8_t zero[16];
        bool bad = memcmp(a->xmm[i], b->xmm[i], 16) && !(c->undef & DIFF_U_XMM);
        if (!bad && !memcmp(c->in.xmm[i], zero, 16) && !memcmp(a->xmm[i], zero, 16)) {
            continue;
        }
        fprintf(f, "  xmm%-2u in ", i);
        for (int j = 15; j >= 0; j--) {
            fprintf(f, "%02x", c->in.xmm[i][j]);
        }
        fprintf(f, " host ");
        for (int j = 15; j >= 0; j--) {
            fprintf(f, "%02x", a->xmm[i][j]);
        }
        fprintf(f, " %s ", cand);
        for (int j = 15; j >= 0; j--) {
            fprintf(f, "%02x", b->xmm[i][j]);
        }
        fprintf(f, "%s\n", bad ? "  <--" : "");
    }
    if ((m & (DIFF_M_X87 | DIFF_M_FCW)) || c->in.ftw || a->ftw) {
        fprintf(f, "  fcw %04x/%04x/%04x fsw %04x/%04x/%04x (undefined %04x) ftw %02x/%02x/%02x\n",
                c->in.fcw, a->fcw, b->fcw, c->in.fsw, a->fsw, b->fsw, c->undef_fsw, c->in.ftw,
                a->ftw, b->ftw);
        for (unsigned i = 0; i < 8; i++) {
            static const uint8_t zero[10];
            if (!memcmp(c->in.st[i], zero, 10) && !memcmp(a->st[i], zero, 10) &&
                !memcmp(b->st[i], zero, 10)) {
                continue;
            }
            fprintf(f, "  st%u   in ", i);
            for (int j = 9; j >= 0; j--) {
                fprintf(f, "%02x", c->in.st[i][j]);
            }
            fprintf(f, " host ");
            for (int j = 9; j >= 0; j--) {
                fprintf(f, "%02x", a->st[i][j]);
            }
            fprintf(f, " %s ", cand);
            for (int j = 9; j >= 0; j--) {
                fprintf(f, "%02x", b->st[i][j]);
            }
            fprintf(f, "%s\n", memcmp(a->st[i], b->st[i], 10) ? "  <-- (if not empty)" : "");
        }
    }
    if (m & DIFF_M_MEM) {
        print_page_diff(f, "data ", DIFF_DATA_ADDR, c->in.data, a->data, b->data);
        print_page_diff(f, "stack", DIFF_STACK_ADDR, c->in.stack, a->stack, b->stack);
    }
}

/* ---- running a case --------------------------------------------------------- */

static unsigned run_once(DiffRunner *r, const DiffCase *c, DiffState *a, DiffState *b,
                         bool *skipped)
{
    bool was = diff_host_single_step(c->single), ran;
    ran = diff_host_run(c->code, c->len, &c->in, a);
    diff_host_single_step(was);
    if (!ran || a->vector == DIFF_VEC_ESCAPE) {
        *skipped = true;
        return 0;
    }
    /* the candidate's out starts as a copy of the input */
    *b = c->in;
    b->vector = DIFF_VEC_NONE;
    *skipped = !r->cand(c->code, c->len, &c->in, b);
    return *skipped ? 0 : diff_compare(c, a, b);
}

/* Shrinks the input of a mismatching case: each part of the state goes
 * back to its default if the mismatch stays. */
static void reduce(DiffRunner *r, DiffCase *c, DiffState *a, DiffState *b)
{
    DiffState d;
    DiffCase t;
    bool sk;

    diff_state_init(&d, c->in.mode);
#define TRY(field, dflt) do {                                             \
        t = *c;                                                           \
        if (memcmp(&t.in.field, &(dflt), sizeof(t.in.field))) {          \
            memcpy(&t.in.field, &(dflt), sizeof(t.in.field));            \
            if (run_once(r, &t, a, b, &sk)) {                             \
                *c = t;                                                   \
            }                                                             \
        }                                                                 \
    } while (0)
    for (int i = 0; i < 16; i++) {
        TRY(gpr[i], d.gpr[i]);
    }
    TRY(rflags, d.rflags);
    for (int i = 0; i < 16; i++) {
        TRY(xmm[i], d.xmm[i]);
    }
    TRY(mxcsr, d.mxcsr);
    TRY(fcw, d.fcw);
    for (int i = 0; i < 8; i++) {
        TRY(st[i], d.st[i]);
    }
    TRY(ftw, d.ftw);
    TRY(fsw, d.fsw);
    TRY(data, d.data);
    /* then the data page in 256-byte chunks */
    for (int k = 0; k < DIFF_PAGE; k += 256) {
        static const uint8_t zero[256];
        t = *c;
        if (memcmp(t.in.data + k, zero, 256)) {
            memset(t.in.data + k, 0, 256);
            if (run_once(r, &t, a, b, &sk)) {
                *c = t;
            }
        }
    }
    TRY(stack, d.stack);
#undef TRY
    run_once(r, c, a, b, &sk);      /* leave a and b for the reduced case */
}

unsigned diff_run_case(DiffRunner *r, const DiffCase *c)
{
    static DiffState a, b;
    static DiffCase red;
    unsigned m;
    bool sk;

    r->cases++;
    m = run_once(r, c, &a, &b, &sk);
    r->last_mismatch = m;
    if (sk) {
        r->skipped++;
        r->skipped32 += c->in.mode == 32 && !diff_host_mode32();
        return 0;
    }
    if (a.vector != DIFF_VEC_NONE) {
        r->faults++;
        if (a.vector >= 0 && a.vector < 32) {
            r->by_vector[a.vector]++;
        }
        if (a.vector == r->show_vector && r->report) {
            char buf[512];
            diff_disasm(c->code, c->len, c->in.mode, buf, sizeof(buf));
            fprintf(r->report, "host vector %d: %s: %s\n", a.vector, c->name, buf);
        }
    }
    if (!m) {
        return 0;
    }
    r->mismatches++;
    if (r->report && r->mismatches <= r->max_reports) {
        char buf[16384];
        report(r->report, c, &a, &b, m, r->cand_name);
        if (!r->reduce) {
            diff_repro_format(c, buf, sizeof(buf));
            fprintf(r->report, "  reproduce: tcgl-diff --candidate %s --repro '%s'\n", r->cand_name, buf);
        } else {
            red = *c;
            reduce(r, &red, &a, &b);
            diff_repro_format(&red, buf, sizeof(buf));
            fprintf(r->report, "  minimal:   tcgl-diff --candidate %s --repro '%s'\n", r->cand_name, buf);
        }
        fflush(r->report);
    }
    return m;
}
