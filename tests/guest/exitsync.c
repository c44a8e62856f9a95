/* exitsync: nothing runs after the isa-debug-exit write.  QEMU exits in
 * the vCPU thread that did the write; kvm-unit-tests' exit() relies on it
 * (the write is followed by __builtin_unreachable(), i.e. whatever code
 * comes next), and its runner fails a run whose emulator writes anything
 * but warnings to stderr.  Here the write is followed by a FAIL line and a
 * triple fault: neither may happen. */
#include "lib.h"

TEST("exitsync");

void test_main(void)
{
    static const struct { uint16_t limit; uint32_t base; } __attribute__((packed)) null_idt;

    printf("PASS: exitsync\n");
    debug_exit(0);
    printf("FAIL: exitsync: the guest ran on after its isa-debug-exit write\n");
    __asm__ volatile("lidt %0; int3" :: "m"(null_idt));
    for (;;)
        hlt();
}
