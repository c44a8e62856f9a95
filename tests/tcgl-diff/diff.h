/*
 * The differential oracle for tcg-lite: the host CPU runs an instruction
 * sequence natively in this process, a candidate (tcg-lite) runs the same
 * sequence from the same state, and the two results are compared
 * (docs/tcg-lite.md, "differential oracle").
 *
 * The guest's view, identical for the host and the candidate:
 *
 *   DIFF_CODE_ADDR   one page, read + execute: the sequence at offset 0,
 *                    then the return stub (diff_code_page() builds it);
 *                    the sequence ends when rip reaches DIFF_CODE_ADDR + len
 *   DIFF_DATA_ADDR   one page, read + write: DiffState.data
 *   DIFF_STACK_ADDR  one page, read + write: DiffState.stack; rsp points
 *                    into it (the harness's own stack is not reachable)
 *
 * Nothing else is mapped below 4 GiB there: any other access faults (#PF,
 * or #GP for a non-canonical address).  Mode 64: 64-bit code, flat.  Mode
 * 32: 32-bit compatibility-mode code (CS.D=1, flat 4 GiB segments), where
 * the BCD instructions exist; only the low 32 bits of the eight legacy
 * registers and XMM0-7 are compared there.
 */
#ifndef TCGL_DIFF_H
#define TCGL_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DIFF_CODE_ADDR   0x10000000ULL
#define DIFF_DATA_ADDR   0x20000000ULL
#define DIFF_STACK_ADDR  0x30000000ULL
#define DIFF_PAGE        4096
#define DIFF_MAX_CODE    256         /* bytes of one sequence */
#define DIFF_STUB_OFF    0xf00       /* the 64-bit exit stub's offset in the code page */

/* GPR numbers (the x86 encoding). */
enum { D_RAX, D_RCX, D_RDX, D_RBX, D_RSP, D_RBP, D_RSI, D_RDI,
       D_R8, D_R9, D_R10, D_R11, D_R12, D_R13, D_R14, D_R15 };

/* RFLAGS bits */
#define DF_CF 0x0001u
#define DF_PF 0x0004u
#define DF_AF 0x0010u
#define DF_ZF 0x0040u
#define DF_SF 0x0080u
#define DF_DF 0x0400u
#define DF_OF 0x0800u
#define DF_AC 0x40000u            /* alignment check (with CR0.AM at CPL 3: #AC) */
#define DIFF_FLAGS_ARITH 0x08d5u            /* CF PF AF ZF SF OF */
#define DIFF_FLAGS_IN    (DIFF_FLAGS_ARITH | DF_DF | DF_AC)   /* what an input may set */

/* DiffState.vector besides 0-31 */
#define DIFF_VEC_NONE    (-1)
#define DIFF_VEC_TIMEOUT (-2)   /* the sequence ran for more than a second */
#define DIFF_VEC_ESCAPE  (-3)   /* single step: the instruction did not end at the
                                 * sequence's end (rip says where it did) */

typedef struct DiffState {
    uint64_t gpr[16];
    uint64_t rflags;            /* in: DIFF_FLAGS_IN bits (bit 1 implied) */
    uint64_t rip;               /* out: DIFF_CODE_ADDR + len, or the faulting instruction */
    uint8_t xmm[16][16];
    uint32_t mxcsr;
    uint16_t fcw;               /* x87 control word */
    uint16_t fsw;               /* x87 status word (TOP in bits 11-13) */
    uint8_t ftw;                /* x87 tags, abridged as FXSAVE stores them: bit n set =
                                 * physical register n not empty */
    uint8_t st[8][10];          /* ST(0)..ST(7) (relative to TOP, as FXSAVE stores them):
                                 * 64-bit significand, then sign + 15-bit exponent */
    int vector;                 /* out: DIFF_VEC_NONE or the exception vector */
    uint64_t fault_addr;        /* out: the linear address of a #PF (CR2) */
    int mode;                   /* 64 or 32 */
    uint8_t data[DIFF_PAGE];
    uint8_t stack[DIFF_PAGE];
} DiffState;

/*
 * A candidate runs `code` (len bytes, placed at DIFF_CODE_ADDR) from `in`
 * and fills `out` completely (all fields: the state at the end, or at the
 * faulting instruction with vector set).  Returns false when it cannot
 * run the case at all (the case is counted as skipped).
 */
typedef bool (*DiffCandidate)(const uint8_t *code, size_t len, const DiffState *in,
                              DiffState *out);

/* What a case leaves undefined (not compared). */
#define DIFF_U_XMM     0x01     /* XMM results */
#define DIFF_U_MXCSR   0x02     /* MXCSR status flags */
#define DIFF_U_FAULT   0x04     /* which of two memory operands faults first (the
                                 * vector, #PF's CR2) */
/* Implementation-specific behaviour: either of two outcomes is right. */
#define DIFF_U_A32CNT0 0x08     /* REP string, 32-bit address size: with a count of 0
                                 * RCX/RSI/RDI keep their upper halves or lose them */
#define DIFF_U_MMXFAULT 0x10    /* an MMX instruction that faults: the switch to MMX
                                 * mode (TOP 0, every tag valid) made before the fault
                                 * or not; the registers themselves must agree */
#define DIFF_U_FPSTFAULT 0x20   /* an x87 store with an unmasked invalid operation to a
                                 * faulting address: the fault, or the exception pending
                                 * (FSW.ES) with nothing stored */

typedef struct DiffCase {
    char name[64];
    uint8_t code[DIFF_MAX_CODE];
    size_t len;
    uint32_t undef_flags;       /* RFLAGS bits the architecture leaves undefined */
    uint16_t undef_gpr;         /* GPRs whose result is undefined (bit n: register n) */
    uint16_t undef_gpr_zf;      /* ... undefined when the host ends with ZF set (BSF/BSR
                                 * of a zero source, found by random mode) */
    uint16_t undef_fsw;         /* x87 status word bits left undefined (C0-C3 mostly) */
    uint32_t undef;             /* DIFF_U_* */
    bool single;                /* one instruction: the host runs it single-stepped */
    DiffState in;
} DiffCase;

/* ---- host runner (host.c, host-tramp.S) --------------------------------- */

/* Maps the three pages and installs the fault handlers; false (with a
 * message on stderr) if the fixed addresses are taken.  Sequences run on
 * the thread that called it (its alternate signal stack and watchdog). */
bool diff_host_init(void);
/* Runs natively (a DiffCandidate).  False only for a mode-32 case on a
 * host that cannot run 32-bit user code (see diff_host_mode32()). */
bool diff_host_run(const uint8_t *code, size_t len, const DiffState *in, DiffState *out);
/* The host runs 32-bit compatibility-mode code (probed once: kernels
 * with IA32 emulation disabled, and some hypervisors, refuse it). */
bool diff_host_mode32(void);
/* Host runs single-step (TF): exactly one instruction executes, and a
 * sequence whose first instruction does not end at its end reports
 * DIFF_VEC_ESCAPE with rip where it ended (random mode: capstone's
 * length is checked against the silicon's; nothing after it runs). */
bool diff_host_single_step(bool on);    /* returns the previous setting */
/* The FXSAVE image (x87, MXCSR, XMM) of a state, and back. */
void diff_state_to_fx(const DiffState *s, uint8_t fx[512]);
void diff_fx_to_state(const uint8_t fx[512], DiffState *s);
/* The code page as the host lays it out (the sequence, then the stub):
 * a candidate that lets the sequence read its own code page uses this. */
void diff_code_page(const uint8_t *code, size_t len, int mode, uint8_t page[DIFF_PAGE]);

/* ---- cases, comparison, reports (compare.c) ------------------------------ */

/* Default input: GPRs 0, rsp = DIFF_STACK_ADDR + 0x800, RFLAGS 0x2, MXCSR
 * 0x1f80, FCW 0x37f, XMM and pages zero. */
void diff_state_init(DiffState *s, int mode);
void diff_case_init(DiffCase *c, const char *name, int mode);
/* Appends bytes to c->code. */
void diff_case_emit(DiffCase *c, const uint8_t *bytes, size_t n);

/* Mismatch kinds (a bit mask). */
#define DIFF_M_GPR    0x01
#define DIFF_M_FLAGS  0x02
#define DIFF_M_RIP    0x04
#define DIFF_M_VECTOR 0x08
#define DIFF_M_XMM    0x10
#define DIFF_M_MXCSR  0x20
#define DIFF_M_MEM    0x40
#define DIFF_M_FAULT  0x80      /* #PF address */
#define DIFF_M_FCW    0x100
#define DIFF_M_X87    0x200     /* FSW, tags, or a non-empty ST register */

/* Compares host (a) and candidate (b) results for case c: the mask of
 * what differs in the defined parts. */
unsigned diff_compare(const DiffCase *c, const DiffState *a, const DiffState *b);

typedef struct DiffRunner {
    DiffCandidate cand;
    const char *cand_name;
    FILE *report;               /* mismatch reports (NULL: none) */
    unsigned max_reports;       /* reports printed at most (then counted only) */
    bool reduce;                /* minimise the input of a mismatch before reporting */
    int show_vector;            /* print the cases where the host raised this vector (-1: none) */
    /* counters */
    unsigned long cases, mismatches, skipped, faults;
    unsigned long skipped32;    /* ... of which mode 32 on a host without it */
    unsigned long by_vector[32];   /* host outcomes: faults by vector */
    unsigned last_mismatch;     /* DIFF_M_* of the last case */
} DiffRunner;

/* Runs one case on the host and the candidate, compares, reports.
 * Returns the mismatch mask (0: agree or skipped). */
unsigned diff_run_case(DiffRunner *r, const DiffCase *c);

/* Disassembly of a sequence (capstone), one instruction per "; ". */
void diff_disasm(const uint8_t *code, size_t len, int mode, char *buf, size_t size);
/* The reproducer string of a case ("m64 c=... rax=..."), and back. */
void diff_repro_format(const DiffCase *c, char *buf, size_t size);
bool diff_repro_parse(const char *s, DiffCase *c);

/* ---- directed generators (gen-int.c, gen-sse.c) -------------------------- */

typedef void DiffEmit(void *opaque, const DiffCase *c);
typedef struct DiffGroup {
    const char *name;
    const char *what;
    void (*gen)(DiffEmit *emit, void *opaque);
} DiffGroup;
extern const DiffGroup diff_groups[];       /* NULL name ends */

/* ---- random mode (random.c) ---------------------------------------------- */

typedef struct DiffRandom DiffRandom;
DiffRandom *diff_random_new(uint64_t seed, int mode);
/* Fills c with one random filtered instruction and a random input (the
 * host runs it once single-stepped to check its length: random cases
 * must be run with diff_host_single_step(true)). */
void diff_random_case(DiffRandom *g, DiffCase *c);
/* How many instructions capstone decoded longer than the silicon did. */
unsigned long diff_random_cut(const DiffRandom *g);
void diff_random_free(DiffRandom *g);

/* ---- a tiny deterministic PRNG (splitmix64) ------------------------------ */
static inline uint64_t diff_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
