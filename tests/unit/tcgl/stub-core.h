/*
 * Stand-ins for the other tcg-lite parts (sys: memory, segments, events;
 * fp) used by the core part's unit tests: no paging, segment bases from
 * env, guest RAM in address_space_memory, events recorded for the test.
 */
#ifndef KVMPC_TCGL_STUB_CORE_H
#define KVMPC_TCGL_STUB_CORE_H

#include "tcgl.h"

#define STUB_RAM_SIZE (4u << 20)
/* tcgl_fetch_page() treats this page as code outside RAM/ROM */
#define STUB_MMIO_CODE_PAGE 0x3ff000u
/* RAM seen a second time at a high-half (kernel) address, by
 * tcgl_lin_ptr() only: the REP MOVS/STOS fast paths can be run there; an
 * element-wise access to it faults (#GP), as anything beyond RAM. */
#define STUB_HIGH_ALIAS 0xffff888000000000ULL

typedef struct StubState {
    TCGLCPU c;
    CPUState cpu;
    uint8_t *ram;               /* guest-physical 0 .. STUB_RAM_SIZE */
    /* events seen by tcgl_deliver_event / tcgl_deliver_hwint */
    unsigned nr_events;
    TCGLEvent last_event;
    unsigned nr_hwints;
    int last_hwint;
    uint64_t hwint_rip, hwint_rcx;  /* rip and rcx when it was delivered */
    uint64_t hwint_handler;     /* rip set when a hardware interrupt is delivered */
    unsigned nr_pauses;
    void (*pause_hook)(void);   /* called by each PAUSE, if set */
    unsigned nr_clts;           /* the stand-in CPL-0 instruction ran */
    unsigned nr_fetch_page;     /* block lookups that missed the links */
} StubState;

extern StubState stub;

/* Sets up memory (once) and a CPU in the mode: 16, 32 or 64 (flat segments). */
void stub_reset(int mode);
/* Copies code/data into guest memory through the memory API (marks dirty). */
void stub_write(uint64_t addr, const void *buf, size_t len);
/* Runs one instruction at env->rip with the core decoder and handler,
 * as the executor would; returns the fault vector or -1. */
int stub_step(void);
/* Runs instructions until rip == stop or n instructions; returns the first
 * fault vector or -1. */
int stub_run_until(uint64_t stop, unsigned max);

#endif
