/* mbargs: what a multiboot kernel gets from QEMU's loader, checked the
 * way kvm-unit-tests uses it:
 *   - the command line is "<-kernel path> <-append>": argv[0] is the
 *     kernel file, argv[1] the first -append word (expected value passed
 *     as the key argv1=...: the test's -append is "VALUE argv1=VALUE");
 *   - modules (-initrd "a args,b"): count, strings ("file args"), page
 *     aligned starts, lengths and contents (tests/guest/data/);
 *   - PCI conf1 with CONFIG_ADDRESS bits 1:0 as a byte offset:
 *     outl(0x80000000 | bdf << 8 | 2, 0xcf8); inw(0xcfc) is the device ID
 *     (the host bridge's 0x1237, pci-testdev's 0x0005). */
#include "lib.h"

TEST("mbargs");

#define MAX_ARGS 16

struct mb_module { uint32_t start, end, string, reserved; };

static int split_args(char *buf, size_t size, const char *s, char **argv)
{
    int argc = 0;
    size_t n = 0;

    while (*s && argc < MAX_ARGS) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        argv[argc++] = buf + n;
        while (*s && *s != ' ' && n < size - 1)
            buf[n++] = *s++;
        buf[n++] = 0;
    }
    return argc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static void check_argv(void)
{
    static char buf[512];
    char *argv[MAX_ARGS], *want = NULL;
    int argc = split_args(buf, sizeof(buf), cmdline(), argv);

    printf("argc=%d argv[0]=%s\n", argc, argc > 0 ? argv[0] : "(none)");
    CHECK(argc >= 3, "command line '%s' has %d words, want '<kernel> VALUE argv1=VALUE'",
          cmdline(), argc);
    CHECK(ends_with(argv[0], "mbargs.elf"), "argv[0] is '%s', not the kernel file", argv[0]);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "argv1=", 6))
            want = argv[i] + 6;
    CHECK(want, "no argv1= expectation on the command line '%s'", cmdline());
    CHECK(!strcmp(argv[1], want), "argv[1] is '%s', want '%s'", argv[1], want);
}

static void check_module(const struct mb_module *m, const char *file, const char *args,
                         uint32_t len, bool (*byte_ok)(uint32_t i, uint8_t b))
{
    const char *str = (const char *)(uintptr_t)m->string;
    char want_tail[64];

    printf("module 0x%x-0x%x '%s'\n", m->start, m->end, str);
    CHECK(m->string, "module %s has no string", file);
    /* "file args": the file as given on -initrd (a path), then the args */
    snprintf(want_tail, sizeof(want_tail), "%s%s%s", file, args ? " " : "", args ? args : "");
    CHECK(ends_with(str, want_tail), "module string '%s' does not end with '%s'", str, want_tail);
    CHECK(m->start % 4096 == 0, "module %s at 0x%x is not page aligned", file, m->start);
    CHECK(m->end - m->start == len, "module %s is %u bytes, want %u", file, m->end - m->start,
          len);
    for (uint32_t i = 0; i < len; i++) {
        uint8_t b = ((volatile uint8_t *)(uintptr_t)m->start)[i];
        CHECK(byte_ok(i, b), "module %s byte %u is 0x%02x", file, i, b);
    }
}

static const char mod_a[] = "kvmpc multiboot module A\n";
static bool mod_a_ok(uint32_t i, uint8_t b) { return b == (uint8_t)mod_a[i]; }
static bool mod_b_ok(uint32_t i, uint8_t b) { return b == (uint8_t)(i * 7 + 3); }

static void check_modules(void)
{
    const struct mb_module *m;
    uint64_t want = 0;

    cmdline_u64("mods", &want);
    if (!want) {
        CHECK(!(mb_info->flags & (1 << 3)) || mb_info->mods_count == 0,
              "%u modules without -initrd", mb_info->mods_count);
        return;
    }
    CHECK(mb_info->flags & (1 << 3), "no module information (flags 0x%x)", mb_info->flags);
    CHECK(mb_info->mods_count == want, "%u modules, want %u", mb_info->mods_count,
          (unsigned)want);
    m = (const struct mb_module *)(uintptr_t)mb_info->mods_addr;
    check_module(&m[0], "/data/mod-a.txt", "first=1 second", sizeof(mod_a) - 1, mod_a_ok);
    check_module(&m[1], "/data/mod-b.bin", NULL, 5000, mod_b_ok);
    CHECK(m[1].start >= m[0].end, "modules overlap");
    CHECK(m[0].start >= (uint32_t)(uintptr_t)&mod_a, "module below the kernel");
}

static uint16_t conf1_word_at_offset2(int dev)
{
    outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | 2);
    return inw(0xcfc);
}

static void check_pci_byte_offset(void)
{
    int testdev = -1;

    CHECK(conf1_word_at_offset2(0) == 0x1237, "host bridge device ID via bits 1:0 = 2: 0x%x",
          conf1_word_at_offset2(0));
    for (int dev = 1; dev < 32; dev++) {
        outl(0xcf8, 0x80000000u | (uint32_t)dev << 11);
        if (inl(0xcfc) == 0x00051b36u)
            testdev = dev;
    }
    CHECK(testdev > 0, "no pci-testdev (1b36:0005) on bus 0");
    CHECK(conf1_word_at_offset2(testdev) == 0x0005, "pci-testdev device ID via bits 1:0 = 2: 0x%x",
          conf1_word_at_offset2(testdev));
    /* offset 3 (bits 1:0 = 1, port 0xcfe): the device ID's high byte */
    outl(0xcf8, 0x80000000u | (uint32_t)testdev << 11 | 1);
    CHECK(inb(0xcfe) == 0x00 && inb(0xcfc) == 0x1b, "byte offsets 3/1 read 0x%x/0x%x",
          inb(0xcfe), inb(0xcfc));
    printf("pci: device IDs read with CONFIG_ADDRESS bits 1:0 = 2\n");
}

void test_main(void)
{
    CHECK(mb_info, "no multiboot info");
    printf("cmdline: '%s'\n", cmdline());
    check_argv();
    check_modules();
    check_pci_byte_offset();
    pass();
}
