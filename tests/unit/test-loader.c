/*
 * Kernel loaders (hw/i386/{x86-boot,linux-boot,multiboot,pvh}.c) on
 * crafted images: valid ones land where expected in RAM set up with the
 * memory API; truncated, malformed and hostile ones fail with an error
 * (and never crash: a mutation loop runs thousands of variants).
 */
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "hw/memory.h"
#include "hw/i386/boot.h"

#define MiB (1024 * 1024ULL)

#include "boot-test-util.h"

static char *make_temp_file(size_t len, uint8_t seed)
{
    char *path = NULL;
    int fd = g_file_open_tmp("kvmpc-test-XXXXXX", &path, NULL);
    uint8_t *data = g_malloc(len + 1);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    for (size_t i = 0; i < len; i++) {
        data[i] = (uint8_t)(i * 13 + seed);
    }
    g_assert_true(g_file_set_contents(path, (char *)data, len, NULL));
    g_free(data);
    return path;
}

/* ---- bzImage ---- */

#define PAYLOAD_SIZE 0x3000

static uint8_t *make_bzimage(size_t *size, uint16_t proto, uint8_t setup_sects, size_t payload)
{
    size_t setup = ((setup_sects ? setup_sects : 4) + 1) * 512;
    uint8_t *img = g_malloc0(setup + payload);

    img[0x1f1] = setup_sects;
    img[0x1fe] = 0x55;
    img[0x1ff] = 0xaa;
    img[0x200] = 0xeb;
    img[0x201] = 0x6a;                  /* header ends at 0x26c */
    memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, proto);
    img[0x211] = 0x01;                  /* LOADED_HIGH */
    put32(img + 0x214, 0x100000);
    put32(img + 0x22c, 0x7fffffff);
    put32(img + 0x230, 0x200000);
    img[0x234] = 1;
    put16(img + 0x236, 0x7f);
    put32(img + 0x238, 2047);
    put64(img + 0x258, 0x1000000);
    put32(img + 0x260, 0x100000);
    for (size_t i = 0; i < payload; i++) {
        img[setup + i] = (uint8_t)(i * 7 + 3);
    }
    *size = setup + payload;
    return img;
}

static void test_linux_valid(void)
{
    size_t size;
    uint8_t *img = make_bzimage(&size, 0x020f, 27, PAYLOAD_SIZE);
    char *initrd = make_temp_file(10000, 5);
    BootParams bp = make_bp(128 * MiB, "console=ttyS0 quiet", initrd);
    BootCPUSetup cpu = { 0 };
    X86CPUState env = { 0 };
    Error *err = NULL;
    uint8_t buf[PAYLOAD_SIZE];
    char cmd[64];
    uint64_t initrd_addr;
    LinuxKernelInfo info;

    bp.rsdp_addr = 0xe0000;
    g_assert_cmpint(kernel_detect_format(img, size), ==, KERNEL_FORMAT_LINUX);
    g_assert_true(linux_parse_header(img, size, &info, &err));
    g_assert_cmpuint(info.setup_size, ==, 28 * 512);
    g_assert_cmpuint(info.payload_size, ==, PAYLOAD_SIZE);
    g_assert_cmpuint(info.protocol, ==, 0x020f);
    g_assert_true(linux_load(&bp, img, size, &cpu, &err));
    g_assert_no_error(err);

    /* Protected-mode kernel at 1 MiB. */
    guest_read(0x100000, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), img + 28 * 512, PAYLOAD_SIZE);
    /* Zero page at 0x7000. */
    guest_read(0x7202, buf, 4);
    g_assert_cmpmem(buf, 4, "HdrS", 4);
    guest_read(0x7210, buf, 2);
    g_assert_cmpuint(buf[0], ==, 0xff);
    g_assert_cmpuint(buf[1] & 0x81, ==, 0x81);
    g_assert_cmpuint(guest_ld32(0x7214), ==, 0x100000);
    g_assert_cmpuint(guest_ld32(0x7228), ==, 0x20000);
    guest_read(0x20000, cmd, sizeof("console=ttyS0 quiet"));
    g_assert_cmpstr(cmd, ==, "console=ttyS0 quiet");
    /* e820 */
    guest_read(0x71e8, buf, 1);
    g_assert_cmpuint(buf[0], ==, 3);
    g_assert_cmpuint(guest_ld64(0x72d0 + 20 * 2), ==, 0x100000);
    g_assert_cmpuint(guest_ld64(0x72d0 + 20 * 2 + 8), ==, 127 * MiB);
    g_assert_cmpuint(guest_ld32(0x72d0 + 20 * 2 + 16), ==, E820_RAM);
    /* RSDP (protocol 2.14+) */
    g_assert_cmpuint(guest_ld64(0x7070), ==, 0xe0000);
    /* initrd: page aligned, as high as possible */
    initrd_addr = guest_ld32(0x7218);
    g_assert_cmpuint(initrd_addr, ==, (128 * MiB - 10000) & ~0xfffULL);
    g_assert_cmpuint(guest_ld32(0x721c), ==, 10000);
    guest_read(initrd_addr, buf, 100);
    for (int i = 0; i < 100; i++) {
        g_assert_cmpuint(buf[i], ==, (uint8_t)(i * 13 + 5));
    }
    /* vCPU */
    g_assert_cmpint(cpu.mode, ==, BOOT_CPU_FLAT32);
    g_assert_cmpuint(cpu.rip, ==, 0x100000);
    g_assert_cmpuint(cpu.regs[R_ESI], ==, 0x7000);
    g_assert_cmpuint(cpu.regs[R_EBX] | cpu.regs[R_EBP] | cpu.regs[R_EDI], ==, 0);
    g_assert_cmpuint(guest_ld64(cpu.gdt_base + 0x10), ==, 0x00cf9b000000ffffULL);
    g_assert_cmpuint(guest_ld64(cpu.gdt_base + 0x18), ==, 0x00cf93000000ffffULL);
    boot_cpu_apply(&cpu, &env);
    g_assert_cmpuint(env.segs[R_CS].selector, ==, 0x10);
    g_assert_cmpuint(env.segs[R_DS].selector, ==, 0x18);
    g_assert_cmpuint(env.segs[R_SS].selector, ==, 0x18);
    g_assert_true(env.cr0 & CR0_PE);
    g_assert_false(env.cr0 & CR0_PG);
    g_assert_cmpuint(env.rflags & 0x200, ==, 0);
    g_assert_cmpuint(env.rip, ==, 0x100000);
    g_assert_cmpuint(env.regs[R_ESI], ==, 0x7000);

    g_unlink(initrd);
    g_free(initrd);
    g_free(img);
}

static void expect_linux_error(const uint8_t *img, size_t size, BootParams *bp,
                               const char *fragment)
{
    BootCPUSetup cpu;
    Error *err = NULL;

    g_assert_false(linux_load(bp, img, size, &cpu, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, fragment)) {
        g_error("error '%s' does not mention '%s'", err->message, fragment);
    }
    g_error_free(err);
}

static void test_linux_truncated(void)
{
    size_t size;
    uint8_t *img = make_bzimage(&size, 0x020f, 4, 16);
    BootParams bp = make_bp(32 * MiB, "", NULL);

    for (size_t len = 0; len <= size; len++) {
        uint8_t *copy = g_memdup2(img, len);
        BootCPUSetup cpu;
        Error *err = NULL;
        bool ok = linux_load(&bp, copy, len, &cpu, &err);

        /* Only a file with at least one byte of payload loads. */
        g_assert_cmpint(ok, ==, len > 5 * 512);
        if (!ok) {
            g_assert_nonnull(err);
            g_error_free(err);
        }
        g_free(copy);
    }
    g_free(img);
}

static void test_linux_bad(void)
{
    size_t size;
    uint8_t *img;
    BootParams bp = make_bp(32 * MiB, "", NULL);
    char *big;

    img = make_bzimage(&size, 0x020f, 4, 64);
    memcpy(img + 0x202, "HdrX", 4);
    expect_linux_error(img, size, &bp, "HdrS");
    g_assert_cmpint(kernel_detect_format(img, size), ==, KERNEL_FORMAT_UNKNOWN);
    g_free(img);

    img = make_bzimage(&size, 0x0205, 4, 64);
    expect_linux_error(img, size, &bp, "too old");
    g_free(img);

    img = make_bzimage(&size, 0x020f, 4, 64);
    img[0x1f1] = 0xff;                  /* setup_sects beyond the file */
    expect_linux_error(img, size, &bp, "beyond the end of the file");
    img[0x1f1] = 4;
    img[0x211] = 0;                     /* zImage */
    expect_linux_error(img, size, &bp, "bzImage");
    img[0x211] = 1;
    img[0x201] = 0x10;                  /* header too short for its protocol */
    expect_linux_error(img, size, &bp, "too short");
    img[0x201] = 0x6a;
    put32(img + 0x260, 0x4000000);      /* init_size: needs 16 + 64 MiB */
    expect_linux_error(img, size, &bp, "decompress");
    g_free(img);

    /* Kernel bigger than RAM. */
    img = make_bzimage(&size, 0x020f, 4, 3 * MiB);
    put32(img + 0x260, 0);
    bp = make_bp(2 * MiB, "", NULL);
    expect_linux_error(img, size, &bp, "does not fit in RAM");
    g_free(img);

    /* initrd that does not fit between the kernel (16 + 1 MiB) and 20 MiB. */
    img = make_bzimage(&size, 0x020f, 4, 4096);
    big = make_temp_file(4 * MiB, 1);
    bp = make_bp(20 * MiB, "", big);
    expect_linux_error(img, size, &bp, "initrd");
    g_unlink(big);
    g_free(big);

    /* Missing initrd names the file. */
    bp = make_bp(32 * MiB, "", "/nonexistent/initrd.img");
    expect_linux_error(img, size, &bp, "/nonexistent/initrd.img");

    /* Command line longer than cmdline_size. */
    put32(img + 0x238, 16);
    bp = make_bp(32 * MiB, "0123456789abcdefX", NULL);
    expect_linux_error(img, size, &bp, "cmdline_size");
    {
        BootCPUSetup cpu;
        bp.cmdline = "0123456789abcdef";
        g_assert_true(linux_load(&bp, img, size, &cpu, NULL));
    }
    g_free(img);
}

static void test_load_kernel_file(void)
{
    size_t size;
    uint8_t *img = make_bzimage(&size, 0x0205, 4, 64);
    char *path = NULL;
    int fd = g_file_open_tmp("kvmpc-kernel-XXXXXX", &path, NULL);
    BootParams bp = make_bp(32 * MiB, "", NULL);
    BootCPUSetup cpu;
    Error *err = NULL;

    close(fd);
    g_assert_true(g_file_set_contents(path, (char *)img, size, NULL));
    g_assert_false(x86_load_kernel(&bp, path, &cpu, &err));
    g_assert_nonnull(strstr(err->message, path));
    g_assert_nonnull(strstr(err->message, "too old"));
    g_clear_error(&err);
    put16(img + 0x206, 0x020a);
    g_assert_true(g_file_set_contents(path, (char *)img, size, NULL));
    g_assert_true(x86_load_kernel(&bp, path, &cpu, &err));
    g_assert_no_error(err);
    g_assert_false(x86_load_kernel(&bp, "/nonexistent/vmlinuz", &cpu, &err));
    g_assert_nonnull(strstr(err->message, "/nonexistent/vmlinuz"));
    g_clear_error(&err);
    g_unlink(path);
    g_free(path);
    g_free(img);
}

/* ---- ELF builders ---- */

typedef struct Seg {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
} Seg;

/* ELF with the given program headers right after the ELF header; the
 * caller fills the file contents. */
static uint8_t *make_elf(bool is64, size_t size, uint64_t entry, const Seg *segs, unsigned n)
{
    uint8_t *img = g_malloc0(size);
    size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32;

    memcpy(img, "\x7f" "ELF", 4);
    img[4] = is64 ? 2 : 1;
    img[5] = 1;
    img[6] = 1;
    put16(img + 16, 2);                 /* ET_EXEC */
    put16(img + 18, is64 ? 62 : 3);
    put32(img + 20, 1);
    if (is64) {
        put64(img + 24, entry);
        put64(img + 32, eh);
        put16(img + 52, eh);
        put16(img + 54, ph);
        put16(img + 56, n);
    } else {
        put32(img + 24, entry);
        put32(img + 28, eh);
        put16(img + 40, eh);
        put16(img + 42, ph);
        put16(img + 44, n);
    }
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = img + eh + ph * i;
        if (is64) {
            put32(p, segs[i].type);
            put32(p + 4, 5);
            put64(p + 8, segs[i].offset);
            put64(p + 16, segs[i].paddr);
            put64(p + 24, segs[i].paddr);
            put64(p + 32, segs[i].filesz);
            put64(p + 40, segs[i].memsz);
        } else {
            put32(p, segs[i].type);
            put32(p + 4, segs[i].offset);
            put32(p + 8, segs[i].paddr);
            put32(p + 12, segs[i].paddr);
            put32(p + 16, segs[i].filesz);
            put32(p + 20, segs[i].memsz);
            put32(p + 24, 5);
        }
    }
    return img;
}

/* ---- multiboot ---- */

#define MB_FILE_SIZE 0x2000
#define MB_HDR_OFF   0x1000

static void mb_header(uint8_t *img, uint32_t flags)
{
    put32(img + MB_HDR_OFF, 0x1BADB002);
    put32(img + MB_HDR_OFF + 4, flags);
    put32(img + MB_HDR_OFF + 8, -(0x1BADB002 + flags));
}

static uint8_t *make_mb_elf(uint64_t paddr, uint64_t memsz)
{
    Seg seg = { 1, MB_HDR_OFF, paddr, 0x800, memsz };
    uint8_t *img = make_elf(false, MB_FILE_SIZE, paddr + 0x20, &seg, 1);

    for (size_t i = MB_HDR_OFF + 12; i < MB_HDR_OFF + 0x800; i++) {
        img[i] = (uint8_t)i;
    }
    mb_header(img, 3);
    return img;
}

static void expect_mb_error(const uint8_t *img, size_t size, BootParams *bp, const char *frag)
{
    BootCPUSetup cpu;
    Error *err = NULL;

    g_assert_false(multiboot_load(bp, img, size, &cpu, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, frag)) {
        g_error("error '%s' does not mention '%s'", err->message, frag);
    }
    g_error_free(err);
}

static void test_multiboot_elf(void)
{
    uint8_t *img = make_mb_elf(0x100000, 0x4000);
    char *m1 = make_temp_file(5000, 1), *m2 = make_temp_file(100, 2);
    char *mods = g_strdup_printf("%s,%s arg1 arg2", m1, m2);
    BootParams bp = make_bp(128 * MiB, "mem_mb=128", mods);
    BootCPUSetup cpu;
    Error *err = NULL;
    uint8_t buf[0x800], junk[0x100];
    uint32_t mbi, flags, mmap, mods_addr, m1_start, m2_start, cmd, name;
    char str[256];

    bp.kernel_filename = "dir/kernel.elf";
    /* bss must be zeroed even when RAM is dirty */
    memset(junk, 0xcc, sizeof(junk));
    address_space_write(&address_space_memory, 0x100000 + 0x900, junk, sizeof(junk));

    g_assert_cmpint(kernel_detect_format(img, MB_FILE_SIZE), ==, KERNEL_FORMAT_MULTIBOOT);
    g_assert_true(multiboot_load(&bp, img, MB_FILE_SIZE, &cpu, &err));
    g_assert_no_error(err);
    guest_read(0x100000, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), img + MB_HDR_OFF, 0x800);
    guest_read(0x100900, buf, 0x100);
    for (int i = 0; i < 0x100; i++) {
        g_assert_cmpuint(buf[i], ==, 0);
    }
    g_assert_cmpuint(cpu.regs[R_EAX], ==, 0x2BADB002);
    g_assert_cmpuint(cpu.rip, ==, 0x100020);
    /* QEMU's places: the mbi at 0x9500, the memory map at 0x9000 */
    mbi = cpu.regs[R_EBX];
    g_assert_cmpuint(mbi, ==, 0x9500);
    flags = guest_ld32(mbi);
    g_assert_cmpuint(flags & 0x24d, ==, 0x24d);     /* mem, cmdline, mods, mmap, name */
    g_assert_cmpuint(guest_ld32(mbi + 4), ==, 639);
    g_assert_cmpuint(guest_ld32(mbi + 8), ==, 127 * 1024);
    /* "<kernel file> <append>", as QEMU: argv[0] is the kernel */
    cmd = guest_ld32(mbi + 16);
    g_assert_cmpuint(cmd, >=, 0x104000);            /* after the kernel */
    guest_read(cmd, str, sizeof("dir/kernel.elf mem_mb=128"));
    g_assert_cmpstr(str, ==, "dir/kernel.elf mem_mb=128");
    name = guest_ld32(mbi + 64);
    g_assert_cmpuint(name, >=, 0x104000);
    guest_read(name, str, 6);
    g_assert_cmpstr(str, ==, "kvmpc");
    /* mmap mirrors e820 */
    g_assert_cmpuint(guest_ld32(mbi + 44), ==, 3 * 24);
    mmap = guest_ld32(mbi + 48);
    g_assert_cmpuint(mmap, ==, 0x9000);
    g_assert_cmpuint(guest_ld32(mmap), ==, 20);
    g_assert_cmpuint(guest_ld64(mmap + 4), ==, 0);
    g_assert_cmpuint(guest_ld64(mmap + 12), ==, 0x9fc00);
    g_assert_cmpuint(guest_ld32(mmap + 20), ==, 1);
    g_assert_cmpuint(guest_ld64(mmap + 48 + 4), ==, 0x100000);
    /* modules: page aligned after the boot data block (itself page
     * aligned after the kernel); strings are the whole items */
    g_assert_cmpuint(guest_ld32(mbi + 20), ==, 2);
    mods_addr = guest_ld32(mbi + 24);
    g_assert_cmpuint(mods_addr, ==, 0x104000);
    m1_start = guest_ld32(mods_addr);
    m2_start = guest_ld32(mods_addr + 16);
    g_assert_cmpuint(m1_start, ==, 0x105000);
    g_assert_cmpuint(guest_ld32(mods_addr + 4), ==, m1_start + 5000);
    g_assert_cmpuint(m2_start, ==, 0x107000);
    g_assert_cmpuint(guest_ld32(mods_addr + 20), ==, m2_start + 100);
    guest_read(guest_ld32(mods_addr + 8), str, strlen(m1) + 1);
    g_assert_cmpstr(str, ==, m1);
    guest_read(guest_ld32(mods_addr + 24), str, strlen(m2) + 11);
    g_assert_true(g_str_has_suffix(str, " arg1 arg2"));
    g_assert_true(g_str_has_prefix(str, m2));
    guest_read(m2_start, buf, 100);
    for (int i = 0; i < 100; i++) {
        g_assert_cmpuint(buf[i], ==, (uint8_t)(i * 13 + 2));
    }

    /* An empty -append leaves QEMU's trailing space. */
    bp.cmdline = "";
    bp.initrd_filenames = NULL;
    g_assert_true(multiboot_load(&bp, img, MB_FILE_SIZE, &cpu, &err));
    guest_read(guest_ld32(0x9500 + 16), str, sizeof("dir/kernel.elf "));
    g_assert_cmpstr(str, ==, "dir/kernel.elf ");
    g_assert_cmpuint(guest_ld32(0x9500) & 0x8, ==, 0);     /* no modules */

    /* A missing module names its file. */
    bp.initrd_filenames = "/nonexistent/module";
    expect_mb_error(img, MB_FILE_SIZE, &bp, "/nonexistent/module");

    g_unlink(m1);
    g_unlink(m2);
    g_free(m1);
    g_free(m2);
    g_free(mods);
    g_free(img);
}

/* ",," in -initrd is a comma in a module name (QEMU's option syntax). */
static void test_multiboot_module_comma(void)
{
    char *dir = g_dir_make_tmp("kvmpc-mb-XXXXXX", NULL);
    char *path = g_build_filename(dir, "a,b", NULL);
    char *esc = g_strdup_printf("%s/a,,b x=1", dir);
    uint8_t *img = make_mb_elf(0x100000, 0x1000);
    BootParams bp = make_bp(32 * MiB, "", esc);
    BootCPUSetup cpu;
    Error *err = NULL;
    char str[512], *want = g_strdup_printf("%s x=1", path);
    uint32_t list;

    g_assert_true(g_file_set_contents(path, "hello", 5, NULL));
    g_assert_true(multiboot_load(&bp, img, MB_FILE_SIZE, &cpu, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(guest_ld32(0x9500 + 20), ==, 1);
    list = guest_ld32(0x9500 + 24);
    guest_read(guest_ld32(list + 8), str, strlen(want) + 1);
    g_assert_cmpstr(str, ==, want);
    g_assert_cmpuint(guest_ld32(list + 4) - guest_ld32(list), ==, 5);
    guest_read(guest_ld32(list), str, 5);
    g_assert_cmpmem(str, 5, "hello", 5);
    g_unlink(path);
    g_rmdir(dir);
    g_free(want);
    g_free(esc);
    g_free(path);
    g_free(dir);
    g_free(img);
}

/* kvm-unit-tests' realmode.flat loads at 0x8000 (32 KiB), over QEMU's
 * mbi/mmap slot at 0x9000-0x955f: they move after the kernel. */
static void test_multiboot_low_kernel(void)
{
    uint8_t *img = make_mb_elf(0x8000, 0x3000);
    BootParams bp = make_bp(32 * MiB, "x=1", NULL);
    BootCPUSetup cpu;
    Error *err = NULL;
    uint8_t buf[0x800];
    uint32_t mbi;
    char str[64];

    bp.kernel_filename = "realmode.flat";
    g_assert_true(multiboot_load(&bp, img, MB_FILE_SIZE, &cpu, &err));
    g_assert_no_error(err);
    guest_read(0x8000, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), img + MB_HDR_OFF, 0x800);  /* not overwritten */
    mbi = cpu.regs[R_EBX];
    g_assert_cmpuint(mbi, >=, 0xb000);
    g_assert_cmpuint(mbi, <, 0x9fc00);
    guest_read(guest_ld32(mbi + 16), str, sizeof("realmode.flat x=1"));
    g_assert_cmpstr(str, ==, "realmode.flat x=1");
    g_assert_cmpuint(guest_ld32(mbi + 48), >=, 0xb000);         /* mmap too */
    g_assert_cmpuint(guest_ld32(guest_ld32(mbi + 48)), ==, 20);
    g_assert_cmpuint(cpu.rip, ==, 0x8020);
    g_free(img);

    /* Below the slot: the slot stays QEMU's, the block goes above it. */
    img = make_mb_elf(0x1000, 0x1000);
    g_assert_true(multiboot_load(&bp, img, MB_FILE_SIZE, &cpu, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(cpu.regs[R_EBX], ==, 0x9500);
    g_assert_cmpuint(guest_ld32(0x9500 + 16), ==, 0xa000);
    g_free(img);

    /* Ending just below the 640 KiB hole: the block skips to 1 MiB. */
    img = make_mb_elf(0x90000, 0xfc00);
    g_assert_true(multiboot_load(&bp, img, MB_FILE_SIZE, &cpu, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(guest_ld32(0x9500 + 16), ==, 0x100000);
    g_free(img);
}

static void test_multiboot_bad(void)
{
    BootParams bp = make_bp(16 * MiB, "", NULL);
    uint8_t *img;
    MultibootInfo info;

    /* No header. */
    img = make_mb_elf(0x100000, 0x1000);
    memset(img + MB_HDR_OFF, 0, 12);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "no multiboot header");
    g_free(img);

    /* Header after the first 8 KiB does not count. */
    img = g_malloc0(0x3000);
    put32(img + 0x2000, 0x1BADB002);
    put32(img + 0x2008, -0x1BADB002);
    g_assert_false(multiboot_parse_header(img, 0x3000, &info, NULL));
    g_free(img);

    /* Bad checksum. */
    img = make_mb_elf(0x100000, 0x1000);
    put32(img + MB_HDR_OFF + 8, 0);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "checksum");
    g_free(img);

    /* Unsupported required feature (bit 3). */
    img = make_mb_elf(0x100000, 0x1000);
    mb_header(img, 0x8);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "unsupported");
    g_free(img);

    /* Segment beyond the end of the file. */
    img = make_mb_elf(0x100000, 0x1000);
    put32(img + 52 + 16, 0x10000);      /* p_filesz */
    put32(img + 52 + 20, 0x10000);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "beyond the end of the file");
    g_free(img);

    /* Segment outside RAM. */
    img = make_mb_elf(15 * MiB, 2 * MiB);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "outside guest RAM");
    g_free(img);
    img = make_mb_elf(0xfffff000, 0x2000);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "outside guest RAM");
    g_free(img);

    /* Real overlaps: the IVT/BDA, our GDT, the 640 KiB - 1 MiB hole. */
    img = make_mb_elf(0x0, 0x1000);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "IVT");
    g_free(img);
    img = make_mb_elf(0x520, 0x1000);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "boot GDT");
    g_free(img);
    img = make_mb_elf(0x9f000, 0x1000);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "hole");
    g_free(img);
    /* Boot data that does not fit after the kernel. */
    img = make_mb_elf(16 * MiB - 0x1000, 0x1000);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "boot data");
    g_free(img);

    /* 64-bit ELF. */
    {
        Seg seg = { 1, MB_HDR_OFF, 0x100000, 0x100, 0x100 };
        img = make_elf(true, MB_FILE_SIZE, 0x100000, &seg, 1);
        mb_header(img, 3);
        expect_mb_error(img, MB_FILE_SIZE, &bp, "64-bit");
        g_free(img);
    }
}

static void mb_aout(uint8_t *img, uint32_t header_addr, uint32_t load, uint32_t load_end,
                    uint32_t bss_end, uint32_t entry)
{
    mb_header(img, 0x10003);
    put32(img + MB_HDR_OFF + 12, header_addr);
    put32(img + MB_HDR_OFF + 16, load);
    put32(img + MB_HDR_OFF + 20, load_end);
    put32(img + MB_HDR_OFF + 24, bss_end);
    put32(img + MB_HDR_OFF + 28, entry);
}

static void test_multiboot_aout(void)
{
    BootParams bp = make_bp(16 * MiB, "", NULL);
    uint8_t *img = g_malloc0(MB_FILE_SIZE);
    BootCPUSetup cpu;
    Error *err = NULL;
    uint8_t buf[0x1000];

    for (int i = 0; i < MB_FILE_SIZE; i++) {
        img[i] = (uint8_t)(i * 3);
    }
    /* The file is loaded from offset 0 at 0x200000; header at +0x1000. */
    mb_aout(img, 0x201000, 0x200000, 0x201800, 0x203000, 0x201020);
    g_assert_true(multiboot_load(&bp, img, MB_FILE_SIZE, &cpu, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(cpu.rip, ==, 0x201020);
    guest_read(0x200000, buf, 0x1000);
    g_assert_cmpmem(buf, 0x1000, img, 0x1000);
    guest_read(0x201800, buf, 0x1000);
    for (int i = 0; i < 0x1000; i++) {
        g_assert_cmpuint(buf[i], ==, 0);
    }

    mb_aout(img, 0x201000, 0x200000, 0x1ff000, 0, 0x201020);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "before load_addr");
    mb_aout(img, 0x201000, 0x200000, 0x210000, 0, 0x201020);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "needs");
    mb_aout(img, 0x201000, 0x100000, 0, 0, 0x201020);   /* header_addr - load_addr > offset */
    expect_mb_error(img, MB_FILE_SIZE, &bp, "do not match");
    mb_aout(img, 0x201000, 0x200000, 0x201800, 0x201000, 0x201020);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "bss_end_addr");
    mb_aout(img, 0x201000, 0x200000, 0, 0, 0x300000);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "entry_addr");
    mb_aout(img, 0xfff01000, 0xfff00000, 0, 0xffffffff, 0xfff01020);
    expect_mb_error(img, MB_FILE_SIZE, &bp, "outside guest RAM");
    /* Address fields cut off by the end of the file. */
    mb_aout(img, 0x201000, 0x200000, 0, 0, 0x201020);
    expect_mb_error(img, MB_HDR_OFF + 20, &bp, "truncated");
    g_free(img);
}

/* ---- PVH ---- */

#define PVH_FILE_SIZE 0x3000

static uint8_t *make_pvh(bool is64, uint32_t entry)
{
    Seg segs[2] = {
        { 1, 0x1000, 0x200000, 0x1000, 0x3000 },
        { 4, 0x800, 0, 20 + (is64 ? 8 : 4), 0 },
    };
    uint8_t *img = make_elf(is64, PVH_FILE_SIZE, 0xffffffff81000000ULL, segs, 2);
    uint8_t *note = img + 0x800;

    put32(note, 4);
    put32(note + 4, is64 ? 8 : 4);
    put32(note + 8, 18);
    memcpy(note + 12, "Xen", 4);
    if (is64) {
        put64(note + 16, entry);
    } else {
        put32(note + 16, entry);
    }
    for (int i = 0; i < 0x1000; i++) {
        img[0x1000 + i] = (uint8_t)(i ^ 0x5a);
    }
    return img;
}

static void expect_pvh_error(const uint8_t *img, size_t size, BootParams *bp, const char *frag)
{
    BootCPUSetup cpu;
    Error *err = NULL;

    g_assert_false(pvh_load(bp, img, size, &cpu, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, frag)) {
        g_error("error '%s' does not mention '%s'", err->message, frag);
    }
    g_error_free(err);
}

static void test_pvh_valid(void)
{
    char *initrd = make_temp_file(3000, 9);
    BootParams bp = make_bp(64 * MiB, "root=/dev/vda", initrd);
    uint8_t buf[0x1000];
    char str[32];

    bp.rsdp_addr = 0xe0000;
    for (int is64 = 0; is64 <= 1; is64++) {
        uint8_t *img = make_pvh(is64, 0x200010);
        BootCPUSetup cpu;
        Error *err = NULL;
        uint32_t si, entry;

        g_assert_cmpint(kernel_detect_format(img, PVH_FILE_SIZE), ==, KERNEL_FORMAT_PVH);
        g_assert_true(pvh_find_entry(img, PVH_FILE_SIZE, &entry, &err));
        g_assert_cmpuint(entry, ==, 0x200010);
        g_assert_true(pvh_load(&bp, img, PVH_FILE_SIZE, &cpu, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(cpu.rip, ==, 0x200010);
        si = cpu.regs[R_EBX];
        g_assert_cmpuint(guest_ld32(si), ==, 0x336ec578);
        g_assert_cmpuint(guest_ld32(si + 4), ==, 1);
        g_assert_cmpuint(guest_ld32(si + 12), ==, 1);
        guest_read(guest_ld64(si + 24), str, sizeof("root=/dev/vda"));
        g_assert_cmpstr(str, ==, "root=/dev/vda");
        g_assert_cmpuint(guest_ld64(si + 32), ==, 0xe0000);
        g_assert_cmpuint(guest_ld32(si + 48), ==, 3);
        g_assert_cmpuint(guest_ld64(guest_ld64(si + 40) + 48), ==, 0x100000);
        g_assert_cmpuint(guest_ld32(guest_ld64(si + 40) + 48 + 16), ==, E820_RAM);
        g_assert_cmpuint(guest_ld64(guest_ld64(si + 16) + 8), ==, 3000);
        g_assert_cmpuint(guest_ld64(guest_ld64(si + 16)), ==, (64 * MiB - 3000) & ~0xfffULL);
        guest_read(0x200000, buf, 0x1000);
        g_assert_cmpmem(buf, 0x1000, img + 0x1000, 0x1000);
        g_free(img);
    }
    g_unlink(initrd);
    g_free(initrd);
}

static void test_pvh_bad(void)
{
    BootParams bp = make_bp(16 * MiB, "", NULL);
    uint8_t *img;
    uint32_t entry;

    img = make_pvh(true, 0x200010);
    put16(img + 56, 0xffff);            /* phnum huge */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "program header");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put64(img + 32, 0x100000);          /* phoff beyond the file */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "beyond the end");
    put64(img + 32, 0xfffffffffffffff0ULL);
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "beyond the end");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put16(img + 54, 32);                /* wrong phentsize */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "header size");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put32(img + 0x800, 0xfffffffd);     /* namesz overflows when aligned */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "overruns");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put32(img + 0x804, 0xffffffff);     /* descsz */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "overruns");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put64(img + 64 + 56 + 8, 0xfffffffffffff000ULL);   /* note p_offset */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "beyond the end");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put32(img + 0x808, 17);             /* other note type: no entry */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "no PVH entry");
    g_assert_cmpint(kernel_detect_format(img, PVH_FILE_SIZE), ==, KERNEL_FORMAT_UNKNOWN);
    g_free(img);

    img = make_pvh(true, 0x500000);     /* entry outside the image */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "outside the loaded image");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put64(img + 64 + 32, 0x10000);      /* p_filesz beyond the file */
    put64(img + 64 + 40, 0x10000);
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "beyond the end of the file");
    g_free(img);

    img = make_pvh(true, 0x200010);
    put64(img + 64 + 24, 0xfffffffffffff000ULL);       /* paddr + memsz wraps */
    expect_pvh_error(img, PVH_FILE_SIZE, &bp, "overflows");
    g_free(img);

    img = make_pvh(false, 0x200010);
    img[18] = 62;                       /* ELF32 claiming x86-64 */
    g_assert_false(pvh_find_entry(img, PVH_FILE_SIZE, &entry, NULL));
    g_free(img);

    for (size_t len = 0; len < 0x800 + 28; len++) {     /* up to the note end */
        img = make_pvh(true, 0x200010);
        g_assert_false(pvh_find_entry(img, len, &entry, NULL));
        g_free(img);
    }
}

/* ---- mutation fuzzing ---- */

static void fuzz_one(BootParams *bp, const uint8_t *seed, size_t seed_size, GRand *r,
                     size_t hot)
{
    size_t size = seed_size;
    uint8_t *img = g_memdup2(seed, seed_size);
    int n = g_rand_int_range(r, 1, 9);
    BootCPUSetup cpu;
    uint32_t entry;
    MultibootInfo mb;
    LinuxKernelInfo li;

    for (int i = 0; i < n; i++) {
        size_t pos = g_rand_boolean(r) ? g_rand_int_range(r, 0, MIN(hot, size))
                                       : g_rand_int_range(r, 0, size);
        switch (g_rand_int_range(r, 0, 4)) {
        case 0:
            img[pos] = g_rand_int(r);
            break;
        case 1:
            img[pos] ^= 1 << g_rand_int_range(r, 0, 8);
            break;
        case 2:
            img[pos] = g_rand_boolean(r) ? 0xff : 0x00;
            break;
        default:
            if (pos + 4 <= size) {
                put32(img + pos, g_rand_boolean(r) ? 0xffffffff : g_rand_int(r));
            }
        }
    }
    if (g_rand_int_range(r, 0, 8) == 0) {
        size = g_rand_int_range(r, 0, size + 1);
    }
    kernel_detect_format(img, size);
    linux_parse_header(img, size, &li, NULL);
    multiboot_parse_header(img, size, &mb, NULL);
    pvh_find_entry(img, size, &entry, NULL);
    linux_load(bp, img, size, &cpu, NULL);
    multiboot_load(bp, img, size, &cpu, NULL);
    pvh_load(bp, img, size, &cpu, NULL);
    g_free(img);
}

static void test_fuzz(void)
{
    BootParams bp = make_bp(32 * MiB, "console=ttyS0", NULL);
    GRand *r = g_rand_new_with_seed(0x6b766d70);
    size_t bz_size;
    uint8_t *bz = make_bzimage(&bz_size, 0x020f, 4, 4096);
    uint8_t *mb = make_mb_elf(0x100000, 0x4000);
    uint8_t *pvh = make_pvh(true, 0x200010);
    uint8_t *pvh32 = make_pvh(false, 0x200010);
    uint8_t *aout = g_malloc0(MB_FILE_SIZE);
    int iters = g_test_slow() ? 200000 : 6000;

    put32(bz + 0x260, 0);
    mb_aout(aout, 0x201000, 0x200000, 0x201800, 0x203000, 0x201020);
    for (int i = 0; i < iters; i++) {
        switch (i % 5) {
        case 0:
            fuzz_one(&bp, bz, bz_size, r, 0x270);
            break;
        case 1:
            fuzz_one(&bp, mb, MB_FILE_SIZE, r, 0x60);
            break;
        case 2:
            fuzz_one(&bp, pvh, PVH_FILE_SIZE, r, 0x100);
            break;
        case 3:
            fuzz_one(&bp, pvh32, PVH_FILE_SIZE, r, 0x100);
            break;
        default:
            fuzz_one(&bp, aout, MB_FILE_SIZE, r, MB_HDR_OFF + 32);
            break;
        }
    }
    g_rand_free(r);
    g_free(bz);
    g_free(mb);
    g_free(pvh);
    g_free(pvh32);
    g_free(aout);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/loader/linux/valid", test_linux_valid);
    g_test_add_func("/loader/linux/truncated", test_linux_truncated);
    g_test_add_func("/loader/linux/bad", test_linux_bad);
    g_test_add_func("/loader/linux/file", test_load_kernel_file);
    g_test_add_func("/loader/multiboot/elf", test_multiboot_elf);
    g_test_add_func("/loader/multiboot/module-comma", test_multiboot_module_comma);
    g_test_add_func("/loader/multiboot/low-kernel", test_multiboot_low_kernel);
    g_test_add_func("/loader/multiboot/bad", test_multiboot_bad);
    g_test_add_func("/loader/multiboot/aout", test_multiboot_aout);
    g_test_add_func("/loader/pvh/valid", test_pvh_valid);
    g_test_add_func("/loader/pvh/bad", test_pvh_bad);
    g_test_add_func("/loader/fuzz", test_fuzz);
    return g_test_run();
}
