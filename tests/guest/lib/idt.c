/* IDT with stubs for all vectors; unhandled exceptions/interrupts fail the test. */
#include "lib.h"

extern char isr_stubs[];            /* 256 stubs, 16 bytes apart */
static irq_handler_t handlers[256];

#ifdef __x86_64__
struct idt_entry { uint16_t off0, sel; uint8_t ist, type; uint16_t off1; uint32_t off2, rsvd; } __attribute__((packed));
#define CODE_SEL 0x18
#else
struct idt_entry { uint16_t off0, sel; uint8_t zero, type; uint16_t off1; } __attribute__((packed));
#define CODE_SEL 0x08
#endif
static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct { uint16_t limit; uintptr_t base; } __attribute__((packed)) idtr;

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "rsvd15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void idt_load(void)
{
    __asm__ volatile("lidt %0" :: "m"(idtr));
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uintptr_t a = (uintptr_t)(isr_stubs + 16 * v);
        struct idt_entry *e = &idt[v];
        memset(e, 0, sizeof(*e));
        e->off0 = a & 0xffff;
        e->off1 = (a >> 16) & 0xffff;
#ifdef __x86_64__
        e->off2 = (uint32_t)(a >> 32);
#endif
        e->sel = CODE_SEL;
        e->type = 0x8e;             /* present, DPL0, interrupt gate */
    }
    idtr.limit = sizeof(idt) - 1;
    idtr.base = (uintptr_t)idt;
    idt_load();
}

void irq_set_handler(int vector, irq_handler_t h)
{
    handlers[vector & 0xff] = h;
}

void isr_dispatch(struct irq_frame *f);
void isr_dispatch(struct irq_frame *f)
{
    irq_handler_t h = handlers[f->vector & 0xff];
    if (h) {
        h(f);
        return;
    }
    if (f->vector < 32) {
        ureg cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        const char *n = exc_names[f->vector] ? exc_names[f->vector] : "?";
        fail("EXCEPTION vector %u (%s) error=0x%lx RIP=0x%lx CS=0x%lx RFLAGS=0x%lx CR2=0x%lx",
             (unsigned)f->vector, n, (unsigned long)f->error, (unsigned long)f->ip,
             (unsigned long)f->cs, (unsigned long)f->flags, (unsigned long)cr2);
    }
    if (f->vector == 0xff)          /* LAPIC spurious: no EOI */
        return;
    if (f->vector >= 0x20 && f->vector < 0x30)
        fail("unexpected interrupt vector 0x%x (PIC IRQ%u) RIP=0x%lx", (unsigned)f->vector,
             (unsigned)f->vector - 0x20, (unsigned long)f->ip);
    fail("unexpected interrupt vector 0x%x RIP=0x%lx", (unsigned)f->vector, (unsigned long)f->ip);
}

/* #GP fixup for rdmsr_safe/wrmsr_safe: skip the 2-byte RDMSR/WRMSR that
 * faulted and note it.  Any other #GP still fails the test. */
static volatile uint32_t msr_faulted;

static void msr_gp_fixup(struct irq_frame *f)
{
    const uint8_t *ip = (const uint8_t *)(uintptr_t)f->ip;
    if (ip[0] != 0x0f || (ip[1] != 0x30 && ip[1] != 0x32))
        fail("#GP error=0x%lx RIP=0x%lx (not at an RDMSR/WRMSR)", (unsigned long)f->error,
             (unsigned long)f->ip);
    f->ip += 2;
    msr_faulted = 1;
}

bool rdmsr_safe(uint32_t msr, uint64_t *val)
{
    irq_handler_t old = handlers[13];
    uint32_t lo = 0, hi = 0;
    handlers[13] = msr_gp_fixup;
    msr_faulted = 0;
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    handlers[13] = old;
    *val = ((uint64_t)hi << 32) | lo;
    return !msr_faulted;
}

bool wrmsr_safe(uint32_t msr, uint64_t val)
{
    irq_handler_t old = handlers[13];
    handlers[13] = msr_gp_fixup;
    msr_faulted = 0;
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)) : "memory");
    handlers[13] = old;
    return !msr_faulted;
}
