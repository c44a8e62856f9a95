/* AP bring-up: INIT-SIPI-SIPI through the local APIC. */
#include "lib.h"

extern char ap_tramp_start[], ap_tramp_end[];
extern char ap_tr_entry[], ap_tr_stack[], ap_tr_idx[], ap_tr_cr3[];

#define AP_STACK_SIZE 8192
#define MAX_AP_STACKS 16
static uint8_t ap_stacks[MAX_AP_STACKS][AP_STACK_SIZE] __attribute__((aligned(16)));
static void (*ap_user_entry)(uint32_t idx);
static volatile uint32_t ap_alive;

#define SLOT(sym) ((void *)(uintptr_t)(AP_TRAMPOLINE_ADDR + ((sym) - ap_tramp_start)))

void ap_c_entry(uint32_t idx);
void ap_c_entry(uint32_t idx)
{
    idt_load();
    __atomic_store_n(&ap_alive, idx, __ATOMIC_SEQ_CST);
    ap_user_entry(idx);
    for (;;) { cli(); hlt(); }
}

void ap_trampoline_install(void (*entry)(uint32_t idx))
{
    ap_user_entry = entry;
    memcpy((void *)(uintptr_t)AP_TRAMPOLINE_ADDR, ap_tramp_start, ap_tramp_end - ap_tramp_start);
    *(uint64_t *)SLOT(ap_tr_entry) = (uintptr_t)ap_c_entry;
#ifdef __x86_64__
    ureg cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    *(uint32_t *)SLOT(ap_tr_cr3) = (uint32_t)cr3;
#endif
}

bool ap_start(uint32_t apic_id, uint32_t idx)
{
    if (idx == 0 || idx >= MAX_AP_STACKS)
        fail("ap_start: bad AP index %u", idx);
    *(uint64_t *)SLOT(ap_tr_stack) = (uintptr_t)&ap_stacks[idx][AP_STACK_SIZE];
    *(uint32_t *)SLOT(ap_tr_idx) = idx;
    __atomic_store_n(&ap_alive, 0, __ATOMIC_SEQ_CST);
    lapic_write(LAPIC_ESR, 0);
    if (!lapic_send_ipi(apic_id, 0x00004500))          /* INIT, level assert */
        return false;
    mdelay(10);
    uint32_t sipi = 0x00004600 | (AP_TRAMPOLINE_ADDR >> 12);
    for (int i = 0; i < 2; i++) {
        if (!lapic_send_ipi(apic_id, sipi))
            return false;
        if (wait_flag(&ap_alive, idx, i == 0 ? 1 : 1000))
            return true;
    }
    return false;
}
