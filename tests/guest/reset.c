/* reset: the three ways a PC guest resets itself, each observed by the
 * next boot.  A boot counter in CMOS (index 0x4e, unused by QEMU/SeaBIOS,
 * kept across a reset as on real hardware) picks the step:
 *   0 -> reset through the reset control register 0xcf9 (0x02, then 0x06)
 *   1 -> reset through the i8042 (command 0xfe to port 0x64)
 *   2 -> reset through port 0x92 (system control port A, bit 0 rising)
 *   3 -> all three came back: PASS.
 * kvmpc's direct boot reruns the kernel after a reset; QEMU reruns it
 * through SeaBIOS and its multiboot option ROM. */
#include "lib.h"

TEST("reset");

#define CMOS_BOOTS 0x4e

static void wait_for_reset(const char *how)
{
    printf("reset through %s did not happen\n", how);
    for (uint64_t d = tsc_deadline_ms(2000); !tsc_expired(d);)
        pause();
    fail("no reset through %s within 2 s", how);
}

void test_main(void)
{
    uint8_t boots = cmos_read(CMOS_BOOTS);

    printf("boot %u\n", boots);
    CHECK(boots <= 3, "CMOS boot counter is %u: stale from another run?", boots);
    cmos_write(CMOS_BOOTS, boots + 1);
    CHECK(cmos_read(CMOS_BOOTS) == boots + 1, "CMOS byte 0x%x does not keep a value",
          CMOS_BOOTS);
    switch (boots) {
    case 0:
        printf("resetting through 0xcf9\n");
        outb(0xcf9, 0x02);
        outb(0xcf9, 0x06);
        wait_for_reset("0xcf9");
        break;
    case 1:
        printf("resetting through the i8042\n");
        for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
            pause();
        outb(0x64, 0xfe);
        wait_for_reset("the i8042");
        break;
    case 2:
        printf("resetting through port 0x92\n");
        outb(0x92, inb(0x92) & ~1);
        outb(0x92, inb(0x92) | 1);
        wait_for_reset("port 0x92");
        break;
    default:
        printf("came back from resets through 0xcf9, the i8042 and port 0x92\n");
        cmos_write(CMOS_BOOTS, 0);
        pass();
    }
}
