/*
 * libFuzzer target: the fuzzer's bytes are a qcow2 image file; it is
 * opened (read-write, else read-only), read at a few places, written (data, zeroes, a discard, a flush),
 * checked, and closed.  Whatever the bytes, the driver must fail with an
 * error or succeed, never crash, assert or hang (docs/qcow2.md).
 *
 * Built with clang by tests/fuzz/build-qcow2.sh (libFuzzer + ASan).  With
 * -DFUZZ_QCOW2_MAIN it is a plain program that meson runs: it mutates a
 * valid image (byte flips and field overwrites in the metadata clusters)
 * with a fixed seed for --runs iterations, or replays the files named on
 * its command line.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "block/qcow2.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *img_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir();

    img_path = g_strdup_printf("%s/kvmpc-fuzz-qcow2-%d.img", dir, (int)getpid());
    error_progname = "fuzz-qcow2";
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BlockDriverState *bs;
    Error *err = NULL;
    uint8_t buf[8192];
    int fd;

    fd = open(img_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        abort();
    }
    close(fd);
    bs = bdrv_open_image(img_path, "qcow2", false, NULL, &err);
    if (!bs) {
        g_clear_error(&err);
        bs = bdrv_open_image(img_path, "qcow2", true, NULL, &err);
    }
    if (!bs) {
        g_clear_error(&err);
        return 0;
    }
    int64_t len = bdrv_getlength(bs);
    for (int i = 0; i < 4 && len > 0; i++) {
        uint64_t off = size > 8 ? ((uint64_t)data[i] << 16 | data[size - 1 - i] << 8) : 0;
        off = (off * 977) % (uint64_t)len;
        bdrv_sync_io(bs, BLOCK_REQ_READ, off, buf, MIN((int64_t)sizeof(buf), len - (int64_t)off),
                     0);
    }
    if (len > 0 && !bdrv_is_read_only(bs)) {
        memset(buf, 0xa5, sizeof(buf));
        bdrv_sync_io(bs, BLOCK_REQ_WRITE, len / 3, buf, MIN((int64_t)sizeof(buf), len - len / 3),
                     0);
        bdrv_sync_io(bs, BLOCK_REQ_WRITE_ZEROES, 0, NULL, MIN(len, 131072), 0);
        /* a discard over whole clusters (batched per L2 table) and a flush
         * (the deferred L2 entries of the write above written back) */
        bdrv_sync_io(bs, BLOCK_REQ_DISCARD, len / 2 & ~(int64_t)0xffff, NULL,
                     MIN(len - (len / 2 & ~(int64_t)0xffff), 1 << 20), 0);
        bdrv_sync_io(bs, BLOCK_REQ_FLUSH, 0, NULL, 0, 0);
    }
    {
        Qcow2CheckResult r = { 0 };
        qcow2_check(bs, 0, &r);
        if (r.log) {
            g_string_free(r.log, true);
        }
    }
    bdrv_unref(bs);
    return 0;
}

#ifdef FUZZ_QCOW2_MAIN
/* A small valid image to mutate: 1 MiB, 4 KiB clusters, some data. */
static GByteArray *seed_image(const char *dir, int variant)
{
    g_autofree char *p = g_build_filename(dir, "seed.qcow2", NULL);
    Qcow2CreateOptions o = { .size = 1 << 20, .cluster_size = variant & 1 ? 512 : 4096,
                             .refcount_bits = (variant & 6) == 2 ? 1 : 16,
                             .version = variant & 4 ? 2 : 3 };
    uint8_t b[4096];
    BlockDriverState *bs;
    Error *err = NULL;
    gchar *data;
    gsize len;
    GByteArray *a;

    if (!qcow2_create(p, &o, &err) || !(bs = bdrv_open_image(p, "qcow2", false, NULL, &err))) {
        fprintf(stderr, "seed: %s\n", err->message);
        exit(1);
    }
    for (int i = 0; i < 8; i++) {
        memset(b, i * 17, sizeof(b));
        bdrv_sync_io(bs, BLOCK_REQ_WRITE, i * 70000 + 123, b, sizeof(b), 0);
        qcow2_write_compressed(bs, 600 * 1024 + i * 4096 * 2, b);
    }
    bdrv_unref(bs);
    g_file_get_contents(p, &data, &len, NULL);
    a = g_byte_array_new_take((guint8 *)data, len);
    unlink(p);
    return a;
}

int main(int argc, char **argv)
{
    int runs = 2000;
    unsigned seed = 1;
    int i = 1;

    LLVMFuzzerInitialize(&argc, &argv);
    if (i < argc && strcmp(argv[i], "--runs") && strcmp(argv[i], "--seed")) {
        for (; i < argc; i++) {
            gchar *data;
            gsize len;
            if (!g_file_get_contents(argv[i], &data, &len, NULL)) {
                fprintf(stderr, "cannot read %s\n", argv[i]);
                return 1;
            }
            LLVMFuzzerTestOneInput((uint8_t *)data, len);
            g_free(data);
        }
        unlink(img_path);
        return 0;
    }
    for (; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs")) {
            runs = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--seed")) {
            seed = atoi(argv[i + 1]);
        }
    }
    {
        /* tmpfs where there is one: the seeds are written with flushes */
        g_autofree char *dir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
            ? g_mkdtemp(g_strdup("/dev/shm/kvmpc-fuzz-XXXXXX"))
            : g_dir_make_tmp("kvmpc-fuzz-XXXXXX", NULL);
        GByteArray *seeds[8];
        GRand *r = g_rand_new_with_seed(seed);

        for (int v = 0; v < 8; v++) {
            seeds[v] = seed_image(dir, v);
        }
        rmdir(dir);
        for (int n = 0; n < runs; n++) {
            GByteArray *s = seeds[n % 8];
            g_autofree uint8_t *m = g_memdup2(s->data, s->len);
            size_t len = s->len;
            int muts = g_rand_int_range(r, 1, 8);
            for (int k = 0; k < muts; k++) {
                /* mostly the header and the first metadata clusters */
                size_t limit = g_rand_boolean(r) ? MIN(len, 128) : MIN(len, 32768);
                size_t at = g_rand_int_range(r, 0, limit);
                switch (g_rand_int_range(r, 0, 4)) {
                case 0:
                    m[at] ^= 1 << g_rand_int_range(r, 0, 8);
                    break;
                case 1:
                    m[at] = g_rand_int(r);
                    break;
                case 2:
                    for (int j = 0; j < 8 && at + j < len; j++) {
                        m[at + j] = j == 7 ? g_rand_int(r) : 0xff * g_rand_boolean(r);
                    }
                    break;
                case 3:
                    len = g_rand_int_range(r, 0, len + 1);     /* truncate */
                    break;
                }
            }
            gint64 t0 = g_get_monotonic_time();
            LLVMFuzzerTestOneInput(m, len);
            if (getenv("FUZZ_QCOW2_SAVE_SLOW") && g_get_monotonic_time() - t0 > 200000) {
                /* FUZZ_QCOW2_SAVE_SLOW=DIR keeps the inputs that took > 0.2 s */
                g_autofree char *f = g_strdup_printf("%s/slow-%d", getenv("FUZZ_QCOW2_SAVE_SLOW"),
                                                     n);
                g_file_set_contents(f, (const char *)m, len, NULL);
            }
        }
        g_rand_free(r);
        for (int v = 0; v < 8; v++) {
            g_byte_array_free(seeds[v], true);
        }
    }
    unlink(img_path);
    printf("fuzz-qcow2: %d mutated images opened, read, written and checked\n", runs);
    return 0;
}
#endif
