/*
 * The PVH fast path for a bzImage (hw/i386/bzimage-pvh.c): a crafted
 * bzImage whose payload is a compressed tiny PVH ELF boots through
 * pvh_load; a corrupted payload, a payload without a PVH note and a
 * decompression bomb fall back to linux_load, and the bomb never costs
 * more host memory than the bound.
 */
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "config-host.h"
#include "hw/memory.h"
#include "hw/i386/boot.h"
#ifdef CONFIG_LZMA
#include <lzma.h>
#endif
#ifdef CONFIG_ZLIB
#include <zlib.h>
#endif

#define MiB (1024 * 1024ULL)
#define ELF_SIZE 0x3000
#define PVH_ENTRY 0x200010

#include "boot-test-util.h"

/* These tests boot with the fast path on and an RSDP to pass through. */
static BootParams make_fast_bp(uint64_t ram_size, const char *cmdline, const char *initrd)
{
    BootParams bp = make_bp(ram_size, cmdline, initrd);

    bp.pvh_fast_path = true;
    bp.rsdp_addr = 0xe0000;
    return bp;
}

/* ELF64 with one PT_LOAD (0x1000 bytes at 2 MiB, memsz 0x3000) and a
 * PT_NOTE; with_note = false gives a Xen note of another type. */
static uint8_t *make_pvh_elf(bool with_note)
{
    uint8_t *img = g_malloc0(ELF_SIZE);
    uint8_t *ph, *note = img + 0x800;

    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 2;
    img[5] = 1;
    img[6] = 1;
    put16(img + 16, 2);
    put16(img + 18, 62);
    put32(img + 20, 1);
    put64(img + 24, 0xffffffff81000000ULL);
    put64(img + 32, 64);
    put16(img + 52, 64);
    put16(img + 54, 56);
    put16(img + 56, 2);
    ph = img + 64;
    put32(ph, 1);
    put64(ph + 8, 0x1000);
    put64(ph + 16, 0x200000);
    put64(ph + 24, 0x200000);
    put64(ph + 32, 0x1000);
    put64(ph + 40, 0x3000);
    ph += 56;
    put32(ph, 4);
    put64(ph + 8, 0x800);
    put64(ph + 32, 24);
    put32(note, 4);
    put32(note + 4, 8);
    put32(note + 8, with_note ? 18 : 17);
    memcpy(note + 12, "Xen", 4);
    put64(note + 16, PVH_ENTRY);
    for (int i = 0; i < 0x1000; i++) {
        img[0x1000 + i] = (uint8_t)(i ^ 0x5a);
    }
    return img;
}

/* bzImage (protocol 2.15) whose protected-mode part is 0x200 bytes of
 * stub then the payload (+ the 4-byte size the kernel build appends). */
static uint8_t *make_bzimage(const uint8_t *payload, size_t plen, uint32_t size_hint,
                             size_t *size)
{
    size_t setup = 28 * 512, stub = 0x200;
    uint8_t *img = g_malloc0(setup + stub + plen + 4);

    img[0x1f1] = 27;
    img[0x1fe] = 0x55;
    img[0x1ff] = 0xaa;
    img[0x200] = 0xeb;
    img[0x201] = 0x6a;                  /* header ends at 0x26c */
    memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, 0x020f);
    img[0x211] = 0x01;                  /* LOADED_HIGH */
    put32(img + 0x214, 0x100000);
    put32(img + 0x22c, 0x7fffffff);
    put32(img + 0x230, 0x200000);
    img[0x234] = 1;
    put16(img + 0x236, 0x7f);
    put32(img + 0x238, 2047);
    put32(img + 0x248, stub);           /* payload_offset */
    put32(img + 0x24c, plen + 4);       /* payload_length */
    put64(img + 0x258, 0x1000000);
    put32(img + 0x260, 0x100000);
    memset(img + setup, 0x90, stub);
    memcpy(img + setup + stub, payload, plen);
    put32(img + setup + stub + plen, size_hint);
    *size = setup + stub + plen + 4;
    return img;
}

static char *write_temp(const uint8_t *data, size_t len)
{
    char *path = NULL;
    int fd = g_file_open_tmp("kvmpc-test-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(g_file_set_contents(path, (const char *)data, len, NULL));
    return path;
}

/* Boots the image through x86_load_kernel (as -kernel does). */
static void load_file(BootParams *bp, const uint8_t *img, size_t size, BootCPUSetup *cpu)
{
    char *path = write_temp(img, size);
    Error *err = NULL;

    g_assert_true(x86_load_kernel(bp, path, cpu, &err));
    g_assert_no_error(err);
    g_unlink(path);
    g_free(path);
}

static void check_pvh_entry(const BootCPUSetup *cpu, const uint8_t *elf, const char *cmdline)
{
    uint8_t buf[0x1000];
    char str[64];
    uint32_t si;

    g_assert_cmpint(cpu->mode, ==, BOOT_CPU_FLAT32);
    g_assert_cmpuint(cpu->rip, ==, PVH_ENTRY);
    si = cpu->regs[R_EBX];
    g_assert_cmpuint(si, ==, 0x6000);
    g_assert_cmpuint(guest_ld32(si), ==, 0x336ec578);
    guest_read(guest_ld64(si + 24), str, strlen(cmdline) + 1);
    g_assert_cmpstr(str, ==, cmdline);
    g_assert_cmpuint(guest_ld64(si + 32), ==, 0xe0000);
    g_assert_cmpuint(guest_ld32(si + 48), ==, 3);
    guest_read(0x200000, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), elf + 0x1000, 0x1000);
}

static void check_linux_entry(const BootCPUSetup *cpu)
{
    g_assert_cmpint(cpu->mode, ==, BOOT_CPU_FLAT32);
    g_assert_cmpuint(cpu->rip, ==, 0x100000);
    g_assert_cmpuint(cpu->regs[R_ESI], ==, 0x7000);
    g_assert_cmpuint(cpu->regs[R_EBX], ==, 0);
    g_assert_cmpuint(guest_ld32(0x7000 + 0x202), ==, 0x53726448);     /* "HdrS" */
}

#ifdef CONFIG_LZMA
static uint8_t *xz_compress(const uint8_t *in, size_t len, size_t *out_len)
{
    size_t cap = lzma_stream_buffer_bound(len), pos = 0;
    uint8_t *out = g_malloc(cap);

    g_assert_cmpint(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &pos,
                                            cap), ==, LZMA_OK);
    *out_len = pos;
    return out;
}

/* xz of `zeros` zero bytes, encoded in a streaming way (small buffers). */
static uint8_t *xz_zeros(uint64_t zeros, size_t *out_len)
{
    static const uint8_t in[1 << 16];
    lzma_stream s = LZMA_STREAM_INIT;
    GByteArray *out = g_byte_array_new();
    uint8_t buf[1 << 16];
    lzma_ret r;

    g_assert_cmpint(lzma_easy_encoder(&s, 0, LZMA_CHECK_CRC32), ==, LZMA_OK);
    do {
        if (!s.avail_in && zeros) {
            s.next_in = in;
            s.avail_in = MIN(zeros, sizeof(in));
            zeros -= s.avail_in;
        }
        s.next_out = buf;
        s.avail_out = sizeof(buf);
        r = lzma_code(&s, zeros || s.avail_in ? LZMA_RUN : LZMA_FINISH);
        g_assert_true(r == LZMA_OK || r == LZMA_STREAM_END);
        g_byte_array_append(out, buf, sizeof(buf) - s.avail_out);
    } while (r != LZMA_STREAM_END);
    lzma_end(&s);
    *out_len = out->len;
    return g_byte_array_free(out, false);
}

static void test_xz_fast_path(void)
{
    char *initrd = write_temp((const uint8_t *)"initrd-data", 11);
    BootParams bp = make_fast_bp(64 * MiB, "console=ttyS0 root=/dev/vda", initrd);
    uint8_t *elf = make_pvh_elf(true), *xz, *img, *out;
    size_t xz_len, size, out_len;
    BootCPUSetup cpu;
    Error *err = NULL;

    xz = xz_compress(elf, ELF_SIZE, &xz_len);
    img = make_bzimage(xz, xz_len, ELF_SIZE, &size);
    out = linux_decompress_payload(img, size, 64 * MiB, &out_len, &err);
    g_assert_no_error(err);
    g_assert_cmpmem(out, out_len, elf, ELF_SIZE);
    g_free(out);
    /* A wrong size hint (too small, too big) changes nothing. */
    for (int i = 0; i < 2; i++) {
        uint8_t *img2;
        size_t size2;
        img2 = make_bzimage(xz, xz_len, i ? 0xffffffff : 16, &size2);
        out = linux_decompress_payload(img2, size2, 64 * MiB, &out_len, &err);
        g_assert_no_error(err);
        g_assert_cmpmem(out, out_len, elf, ELF_SIZE);
        g_free(out);
        g_free(img2);
    }

    load_file(&bp, img, size, &cpu);
    check_pvh_entry(&cpu, elf, "console=ttyS0 root=/dev/vda");
    g_assert_cmpuint(guest_ld32(0x6000 + 12), ==, 1);                /* the initrd */
    g_assert_cmpuint(guest_ld64(guest_ld64(0x6000 + 16) + 8), ==, 11);

    /* Opted out: the boot protocol. */
    bp.pvh_fast_path = false;
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);

    g_unlink(initrd);
    g_free(initrd);
    g_free(img);
    g_free(xz);
    g_free(elf);
}

static void test_xz_fallback(void)
{
    BootParams bp = make_fast_bp(64 * MiB, "quiet", NULL);
    uint8_t *elf = make_pvh_elf(true), *xz, *img;
    size_t xz_len, size;
    BootCPUSetup cpu;
    Error *err = NULL;

    xz = xz_compress(elf, ELF_SIZE, &xz_len);

    /* Corrupted payload (bad data in the middle: the CRC or the decoder fails). */
    img = make_bzimage(xz, xz_len, ELF_SIZE, &size);
    for (size_t i = xz_len / 2; i < xz_len / 2 + 8; i++) {
        img[size - 4 - xz_len + i] ^= 0xa5;
    }
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "xz"));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);

    /* Truncated stream. */
    img = make_bzimage(xz, xz_len / 2, ELF_SIZE, &size);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);

    /* Unknown compression. */
    img = make_bzimage((const uint8_t *)"\x02\x21\x4c\x18garbage-lz4", 15, 100, &size);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_assert_nonnull(strstr(err->message, "not xz or gzip"));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);

    /* Payload fields pointing outside the image; protocol too old for them. */
    img = make_bzimage(xz, xz_len, ELF_SIZE, &size);
    put32(img + 0x24c, 0x7fffffff);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    put32(img + 0x24c, xz_len + 4);
    put16(img + 0x206, 0x0207);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_assert_nonnull(strstr(err->message, "2.08"));
    g_clear_error(&err);
    g_free(img);
    g_free(xz);

    /* A valid ELF without the PVH note. */
    g_free(elf);
    elf = make_pvh_elf(false);
    xz = xz_compress(elf, ELF_SIZE, &xz_len);
    img = make_bzimage(xz, xz_len, ELF_SIZE, &size);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_assert_nonnull(strstr(err->message, "PVH"));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);
    g_free(xz);

    /* Not an ELF at all. */
    xz = xz_compress((const uint8_t *)"just some bytes, not an ELF file", 32, &xz_len);
    img = make_bzimage(xz, xz_len, 32, &size);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);
    g_free(xz);

    /* An ELF whose segment pvh_load refuses (below 1 MiB). */
    g_free(elf);
    elf = make_pvh_elf(true);
    put64(elf + 64 + 16, 0x80000);
    put64(elf + 64 + 24, 0x80000);
    xz = xz_compress(elf, ELF_SIZE, &xz_len);
    img = make_bzimage(xz, xz_len, ELF_SIZE, &size);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);
    g_free(xz);
    g_free(elf);
}

static void test_xz_bomb(void)
{
    /* 1 GiB of zeros, ~150 KiB compressed; the guest has 32 MiB. */
    BootParams bp = make_fast_bp(32 * MiB, "", NULL);
    uint8_t *xz, *img;
    size_t xz_len, size, out_len;
    BootCPUSetup cpu;
    Error *err = NULL;

    xz = xz_zeros(1ULL << 30, &xz_len);
    g_assert_cmpuint(xz_len, <, 1 * MiB);
    /* Whatever the size hint says, the output stops at the bound. */
    img = make_bzimage(xz, xz_len, 0x40000000, &size);
    g_assert_null(linux_decompress_payload(img, size, 32 * MiB, &out_len, &err));
    g_assert_nonnull(strstr(err->message, "exceeds 33554432 bytes"));
    g_clear_error(&err);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_assert_nonnull(strstr(err->message, "exceeds"));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);
    img = make_bzimage(xz, xz_len, 24 * MiB, &size);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_assert_nonnull(strstr(err->message, "exceeds"));
    g_clear_error(&err);
    g_free(img);
    g_free(xz);
}
#endif

#ifdef CONFIG_ZLIB
static uint8_t *gzip_compress(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream s;
    uint8_t *out = g_malloc(len + 1024);

    memset(&s, 0, sizeof(s));
    g_assert_cmpint(deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                    ==, Z_OK);
    s.next_in = (Bytef *)in;
    s.avail_in = len;
    s.next_out = out;
    s.avail_out = len + 1024;
    g_assert_cmpint(deflate(&s, Z_FINISH), ==, Z_STREAM_END);
    *out_len = s.total_out;
    deflateEnd(&s);
    return out;
}

static void test_gzip(void)
{
    BootParams bp = make_fast_bp(64 * MiB, "console=ttyS0", NULL);
    uint8_t *elf = make_pvh_elf(true), *gz, *img, *zeros;
    size_t gz_len, size, out_len;
    BootCPUSetup cpu;
    Error *err = NULL;

    gz = gzip_compress(elf, ELF_SIZE, &gz_len);
    img = make_bzimage(gz, gz_len, ELF_SIZE, &size);
    load_file(&bp, img, size, &cpu);
    check_pvh_entry(&cpu, elf, "console=ttyS0");
    g_free(img);
    /* Truncated: fallback. */
    img = make_bzimage(gz, gz_len - 20, ELF_SIZE, &size);
    g_assert_false(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_clear_error(&err);
    load_file(&bp, img, size, &cpu);
    check_linux_entry(&cpu);
    g_free(img);
    g_free(gz);

    /* 64 MiB of zeros, bounded at 16 MiB. */
    zeros = g_malloc0(64 * MiB);
    gz = gzip_compress(zeros, 64 * MiB, &gz_len);
    g_free(zeros);
    img = make_bzimage(gz, gz_len, 0, &size);
    g_assert_null(linux_decompress_payload(img, size, 16 * MiB, &out_len, &err));
    g_assert_nonnull(strstr(err->message, "exceeds"));
    g_clear_error(&err);
    g_free(img);
    g_free(gz);
    g_free(elf);
}
#endif

/* A real kernel (Debian's vmlinuz) must take the fast path with 512 MiB
 * of RAM: KVMPC_TEST_BZIMAGE=path if set, else the kernel that
 * tests/images/debian-kernel.sh caches in the build directory (meson passes
 * its path as KVMPC_TEST_BZIMAGE_CACHED); skipped, saying why, without. */
static void test_real_kernel(void)
{
    const char *path = g_getenv("KVMPC_TEST_BZIMAGE");
    const char *cached = g_getenv("KVMPC_TEST_BZIMAGE_CACHED");
    BootParams bp;
    BootCPUSetup cpu;
    Error *err = NULL;
    uint8_t *img;
    size_t size;
    gint64 t0;

    if (!path && cached && !g_file_test(cached, G_FILE_TEST_IS_REGULAR)) {
        g_autofree char *why = g_strdup_printf("no cached kernel at %s (tests/images/"
                                               "debian-kernel.sh fetches it) and "
                                               "KVMPC_TEST_BZIMAGE not set", cached);
        g_test_skip(why);
        return;
    }
    path = path ? path : cached;
    if (!path) {
        g_test_skip("KVMPC_TEST_BZIMAGE not set and no cached kernel path given");
        return;
    }
    g_test_message("real kernel: %s", path);
    bp = make_fast_bp(512 * MiB, "console=ttyS0", NULL);
    g_assert_true(g_file_get_contents(path, (char **)&img, &size, NULL));
    t0 = g_get_monotonic_time();
    g_assert_true(linux_load_pvh(&bp, img, size, &cpu, &err));
    g_assert_no_error(err);
    g_test_message("fast path took %.3f s, entry 0x%" G_GINT64_MODIFIER "x",
                   (g_get_monotonic_time() - t0) / 1e6, cpu.rip);
    g_assert_cmpuint(cpu.regs[R_EBX], ==, 0x6000);
    g_free(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#ifdef CONFIG_LZMA
    g_test_add_func("/bzimage-fast/xz/pvh", test_xz_fast_path);
    g_test_add_func("/bzimage-fast/xz/fallback", test_xz_fallback);
    g_test_add_func("/bzimage-fast/xz/bomb", test_xz_bomb);
#endif
#ifdef CONFIG_ZLIB
    g_test_add_func("/bzimage-fast/gzip", test_gzip);
#endif
    g_test_add_func("/bzimage-fast/real-kernel", test_real_kernel);
    return g_test_run();
}
