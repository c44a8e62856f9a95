/*
 * tcgl-diff: the differential oracle's command line (docs/tcg-lite.md,
 * "differential oracle").
 *
 *   tcgl-diff [--candidate NAME] [--group G]... [--sample K]    directed cases
 *   tcgl-diff --random N [--seed S] [--time SEC] [--mode 32|64]  random cases
 *   tcgl-diff --repro 'm64 c=4801c8 rax=0x1 ...'                 one case
 *   tcgl-diff --list                                             groups, candidates
 *
 * Exit status: 0 when no case mismatched, 1 otherwise, 2 on usage errors
 * (--expect-mismatches turns 0 and 1 round, for testing the oracle).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cand-model.h"
#include "gen.h"

/* tcg-lite as a candidate: defined by the file the integration adds
 * (a 64-bit flat guest laid out as diff.h describes); absent until then. */
bool diff_candidate_tcgl(const uint8_t *code, size_t len, const DiffState *in, DiffState *out)
    __attribute__((weak));

const DiffGroup diff_groups[] = {
    { "alu", "ADD OR ADC SBB AND SUB XOR CMP TEST: sizes, edge values, memory, LOCK, immediates", gen_alu },
    { "unary", "INC DEC NOT NEG", gen_unary },
    { "cond", "SETcc CMOVcc over all 64 flag combinations, LAHF SAHF CMC STC CLC STD CLD", gen_cond },
    { "misc", "MOVZX MOVSX MOVSXD BSWAP CBW..CQO LEA XCHG XLAT", gen_misc },
    { "shift", "ROL ROR RCL RCR SHL SHR SAL SAR by 1, CL, imm8; counts 0..255", gen_shift },
    { "shiftd", "SHLD SHRD by CL and imm8", gen_shiftd },
    { "muldiv", "MUL IMUL (1-3 operands) DIV IDIV incl. #DE", gen_muldiv },
    { "bcd", "DAA DAS AAA AAS AAM AAD (32-bit compatibility mode)", gen_bcd },
    { "bitops", "BT BTS BTR BTC (register offsets into memory) BSF BSR POPCNT", gen_bitops },
    { "string", "MOVS CMPS STOS LODS SCAS, DF 0/1, REP/REPE/REPNE, 32-bit addresses", gen_string },
    { "atomic", "CMPXCHG XADD CMPXCHG8B CMPXCHG16B (LOCK, misaligned)", gen_atomic },
    { "stack", "PUSH POP (RSP-relative operands, 16-bit) ENTER (nesting 0-32) LEAVE", gen_stack },
    { "branch", "Jcc (all 16, 64 flag combinations) JMP LOOP* JRCXZ CALL inside the sequence", gen_branch },
    { "cmpjcc", "CMP/TEST (register, immediate; sizes 1-8) + each Jcc, edge values", gen_cmpjcc },
    { "faults", "#UD #PF #GP #DE: the vector and the state at the fault", gen_faults },
    { "sse-float", "SSE/SSE2/SSE3 arithmetic, compares, COMIS, horizontal ops, DPPS", gen_sse_float },
    { "sse-cvt", "conversions and ROUND* under every MXCSR mode", gen_sse_cvt },
    { "sse-int", "SSE2 integer arithmetic, compares, packs, shifts, moves", gen_sse_int },
    { "sse-shuf", "shuffles, unpacks, PINSRW/PEXTRW, SSSE3", gen_sse_shuf },
    { "sse4", "SSE4.1 and SSE4.2 (blends, PMOVSX/ZX, PTEST, PCMPxSTRx, CRC32)", gen_sse4 },
    { "x87", "x87 arithmetic, compares, loads/stores under every RC and PC, #MF", gen_x87 },
    { NULL, NULL, NULL },
};

static const struct {
    const char *name;
    DiffCandidate fn;
    const char *what;
} cands[] = {
    { "host", diff_host_run, "the host again (checks that the harness is deterministic)" },
    { "model-add", diff_cand_model_add, "a C model of ADD r32/r64 (runs only those)" },
    { "wrong-add", diff_cand_wrong_add, "the same with CF flipped (must mismatch)" },
    { "tcgl", NULL, "tcg-lite (when linked in)" },
};

static bool print_cases;

static void print_case(const DiffCase *c)
{
    char buf[512];
    diff_disasm(c->code, c->len, c->in.mode, buf, sizeof(buf));
    printf("case %s: %s\n", c->name, buf);
}

typedef struct Ctx {
    DiffRunner r;
    unsigned sample;
    unsigned long n;
} Ctx;

static void on_case(void *opaque, const DiffCase *c)
{
    Ctx *x = opaque;
    if (x->sample > 1 && x->n++ % x->sample) {
        return;
    }
    if (print_cases) {
        print_case(c);
    }
    diff_run_case(&x->r, c);
}

/* The silicon that is the oracle: where vendors differ in a defined
 * result, a mismatch must be read with it in mind. */
static void host_cpu(char *buf, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];

    snprintf(buf, size, "unknown");
    while (f && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(buf, size, "%s", strchr(line, ':') + 2);
            buf[strcspn(buf, "\n")] = 0;
            break;
        }
    }
    if (f) {
        fclose(f);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: tcgl-diff [--candidate NAME|auto] [--group G]... [--sample K]\n"
               "       tcgl-diff --random N [--seed S] [--time SECONDS] [--mode 32|64|both]\n"
               "       tcgl-diff --repro STRING\n"
               "       tcgl-diff --list\n"
               "options: --max-report N (default 10), --no-reduce, --quiet,\n"
               "         --show-vector V (list the cases where the host raised vector V),\n"
               "         --print-cases (list every case run),\n"
               "         --expect-mismatches (exit 0 only if a case mismatched)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "candidate", required_argument, NULL, 'c' }, { "group", required_argument, NULL, 'g' },
        { "sample", required_argument, NULL, 'k' },    { "random", required_argument, NULL, 'r' },
        { "seed", required_argument, NULL, 's' },      { "time", required_argument, NULL, 't' },
        { "mode", required_argument, NULL, 'm' },      { "repro", required_argument, NULL, 'p' },
        { "list", no_argument, NULL, 'l' },            { "max-report", required_argument, NULL, 'n' },
        { "no-reduce", no_argument, NULL, 'R' },       { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },            { "show-vector", required_argument, NULL, 'v' },
        { "print-cases", no_argument, NULL, 'P' },     { "expect-mismatches", no_argument, NULL, 'E' },            { NULL, 0, NULL, 0 },
    };
    const char *groups[64], *cand = "auto", *repro = NULL, *mode = "64";
    unsigned ngroups = 0;
    long random_n = -1;
    uint64_t seed = 1;
    double seconds = 0;
    bool quiet = false, expect_mismatches = false;
    Ctx x;
    int o;

    memset(&x, 0, sizeof(x));
    x.r.max_reports = 10;
    x.r.reduce = true;
    x.r.show_vector = -100;
    x.r.report = stdout;
    x.sample = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': cand = optarg; break;
        case 'g':
            if (ngroups < 64) {
                groups[ngroups++] = optarg;
            }
            break;
        case 'k': x.sample = strtoul(optarg, NULL, 0); break;
        case 'r': random_n = strtol(optarg, NULL, 0); break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 't': seconds = strtod(optarg, NULL); break;
        case 'm': mode = optarg; break;
        case 'p': repro = optarg; break;
        case 'n': x.r.max_reports = strtoul(optarg, NULL, 0); break;
        case 'R': x.r.reduce = false; break;
        case 'q': quiet = true; break;
        case 'v': x.r.show_vector = atoi(optarg); break;
        case 'P': print_cases = true; break;
        case 'E': expect_mismatches = true; break;
        case 'l':
            for (int i = 0; diff_groups[i].name; i++) {
                printf("group %-10s %s\n", diff_groups[i].name, diff_groups[i].what);
            }
            for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
                printf("candidate %-10s %s%s\n", cands[i].name, cands[i].what,
                       !strcmp(cands[i].name, "tcgl") && !diff_candidate_tcgl ? " [not linked]" : "");
            }
            return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!strcmp(cand, "auto")) {
        cand = diff_candidate_tcgl ? "tcgl" : "host";
    }
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
        if (!strcmp(cand, cands[i].name)) {
            x.r.cand = !strcmp(cand, "tcgl") ? diff_candidate_tcgl : cands[i].fn;
            x.r.cand_name = cands[i].name;
        }
    }
    if (!x.r.cand) {
        fprintf(stderr, "tcgl-diff: no candidate '%s' (--list shows them)\n", cand);
        return 2;
    }
    if (!diff_host_init()) {
        return 2;
    }

    time_t t0 = time(NULL);
    if (repro) {
        static DiffCase c;
        if (!diff_repro_parse(repro, &c)) {
            fprintf(stderr, "tcgl-diff: cannot parse the reproducer\n");
            return 2;
        }
        x.r.max_reports = 1;
        x.r.reduce = false;
        diff_run_case(&x.r, &c);
        if (x.r.skipped) {
            printf("skipped: %s\n", x.r.skipped32 ? "the host cannot run mode 32"
                   : "the candidate cannot run it, or the silicon's instruction is not as long as the code");
        } else if (!x.r.mismatches) {
            char buf[256];
            diff_disasm(c.code, c.len, c.in.mode, buf, sizeof(buf));
            printf("agree: %s\n", buf);
        }
    } else if (random_n >= 0) {
        static DiffCase c;
        int modes[2], nm = 0;
#if defined(__SANITIZE_ADDRESS__)
        /* Random operands include addresses meant to fault (0x7fffffff...);
         * AddressSanitizer's shadow memory maps some of them in this
         * process, so the silicon completes what tcg-lite faults on. */
        printf("SKIP: random cases need a process without AddressSanitizer's shadow mappings\n");
        return 77;
#endif
        if (!strcmp(mode, "64") || !strcmp(mode, "both")) {
            modes[nm++] = 64;
        }
        if (!strcmp(mode, "32") || !strcmp(mode, "both")) {
            modes[nm++] = 32;
        }
        if (!nm) {
            usage(stderr);
            return 2;
        }
        if (modes[nm - 1] == 32 && !diff_host_mode32()) {
            printf("tcgl-diff: this host cannot run 32-bit user code: mode 32 skipped\n");
            if (--nm == 0) {
                return 0;
            }
        }
        DiffRandom *g[2];
        for (int i = 0; i < nm; i++) {
            g[i] = diff_random_new(seed + i, modes[i]);
        }
        for (long i = 0; random_n == 0 || i < random_n; i++) {
            diff_random_case(g[i % nm], &c);
            if (print_cases) {
                print_case(&c);
            }
            diff_run_case(&x.r, &c);
            if (seconds > 0 && (i & 1023) == 0 && difftime(time(NULL), t0) >= seconds) {
                break;
            }
            if (random_n == 0 && seconds <= 0 && i >= 1000000) {
                break;
            }
        }
        for (int i = 0; i < nm; i++) {
            if (diff_random_cut(g[i]) && !quiet) {
                printf("tcgl-diff: mode %d: %lu instructions were shorter on the silicon than "
                       "capstone said (run at the silicon's length)\n", modes[i],
                       diff_random_cut(g[i]));
            }
            diff_random_free(g[i]);
        }
    } else {
        for (int i = 0; diff_groups[i].name; i++) {
            bool want = ngroups == 0;
            for (unsigned k = 0; k < ngroups; k++) {
                want |= !strcmp(groups[k], diff_groups[i].name);
            }
            if (!want) {
                continue;
            }
            unsigned long before = x.r.cases, mm = x.r.mismatches, sk = x.r.skipped, bv[32];
            memcpy(bv, x.r.by_vector, sizeof(bv));
            diff_groups[i].gen(on_case, &x);
            if (!quiet) {
                printf("group %-10s %8lu cases %6lu mismatches %6lu skipped; host faults:",
                       diff_groups[i].name, x.r.cases - before, x.r.mismatches - mm,
                       x.r.skipped - sk);
                for (int v = 0; v < 32; v++) {
                    if (x.r.by_vector[v] != bv[v]) {
                        printf(" #%d x%lu", v, x.r.by_vector[v] - bv[v]);
                    }
                }
                printf("\n");
            }
        }
        for (unsigned k = 0; k < ngroups; k++) {
            bool found = false;
            for (int i = 0; diff_groups[i].name; i++) {
                found |= !strcmp(groups[k], diff_groups[i].name);
            }
            if (!found) {
                fprintf(stderr, "tcgl-diff: no group '%s' (--list shows them)\n", groups[k]);
                return 2;
            }
        }
    }
    if (x.r.skipped32) {
        printf("tcgl-diff: this host cannot run 32-bit user code: its mode-32 cases (BCD) "
               "were skipped\n");
    }
    if (x.r.mismatches) {
        char cpu[128];
        host_cpu(cpu, sizeof(cpu));
        printf("tcgl-diff: the oracle was %s\n", cpu);
    }
    printf("tcgl-diff: candidate %s: %lu cases (%lu faulted on the host), %lu skipped, "
           "%lu mismatches, %.0f s\n", x.r.cand_name, x.r.cases, x.r.faults, x.r.skipped,
           x.r.mismatches, difftime(time(NULL), t0));
    if (expect_mismatches) {
        /* testing the oracle with a wrong candidate: it must be caught */
        return x.r.mismatches ? 0 : 1;
    }
    return x.r.mismatches ? 1 : 0;
}
