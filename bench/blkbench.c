/*
 * A guest-side disk benchmark for bench/disk_bench.py: built static, put
 * in the busybox initramfs, run by the guest's script.  One request at a
 * time (queue depth 1), O_DIRECT, timed with CLOCK_MONOTONIC in the guest:
 *
 *   blkbench DEV seqread  MIB            1 MiB reads from offset 0
 *   blkbench DEV seqwrite MIB OFFSET_MIB 1 MiB writes, then fdatasync
 *   blkbench DEV randread N  SPAN_MIB    N 4 KiB reads at pseudo-random
 *                                        4 KiB-aligned offsets in SPAN
 *   blkbench DEV randwrite N SPAN_MIB [OFFSET_MIB]
 *                                        N 4 KiB writes at the same
 *                                        offsets as randread (plus
 *                                        OFFSET), then fdatasync (timed)
 *
 * Prints "BLKBENCH <mode> <seconds> <requests>" and exits 0, or a message
 * and 1.  The offsets come from a fixed LCG, so every run and both
 * emulators read the same blocks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    perror(what);
    return 1;
}

int main(int argc, char **argv)
{
    const size_t big = 1 << 20, small = 4096;
    void *buf;
    double t0, t;
    long n, i;
    int fd;

    if (argc < 4) {
        fprintf(stderr, "usage: blkbench DEV seqread MIB | seqwrite MIB OFF_MIB | "
                "randread N SPAN_MIB | randwrite N SPAN_MIB [OFF_MIB]\n");
        return 1;
    }
    n = atol(argv[3]);
    if (posix_memalign(&buf, 4096, big)) {
        return fail("posix_memalign");
    }
    memset(buf, 0x5a, big);
    fd = open(argv[1], (strstr(argv[2], "write") ? O_WRONLY : O_RDONLY) | O_DIRECT);
    if (fd < 0) {
        return fail(argv[1]);
    }
    t0 = now();
    if (!strcmp(argv[2], "seqread")) {
        for (i = 0; i < n; i++) {
            if (pread(fd, buf, big, (off_t)i * big) != (ssize_t)big) {
                return fail("pread");
            }
        }
    } else if (!strcmp(argv[2], "seqwrite") && argc > 4) {
        off_t base = (off_t)atol(argv[4]) * big;
        for (i = 0; i < n; i++) {
            if (pwrite(fd, buf, big, base + (off_t)i * big) != (ssize_t)big) {
                return fail("pwrite");
            }
        }
        if (fdatasync(fd)) {
            return fail("fdatasync");
        }
    } else if (!strcmp(argv[2], "randread") && argc > 4) {
        uint64_t blocks = (uint64_t)atol(argv[4]) * (big / small), x = 12345;
        for (i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if (pread(fd, buf, small, (off_t)((x >> 20) % blocks) * small) != (ssize_t)small) {
                return fail("pread");
            }
        }
    } else if (!strcmp(argv[2], "randwrite") && argc > 4) {
        uint64_t blocks = (uint64_t)atol(argv[4]) * (big / small), x = 12345;
        off_t base = argc > 5 ? (off_t)atol(argv[5]) * big : 0;
        for (i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            /* a different pattern per block: no device may dedupe them */
            memcpy(buf, &x, sizeof(x));
            if (pwrite(fd, buf, small, base + (off_t)((x >> 20) % blocks) * small) !=
                (ssize_t)small) {
                return fail("pwrite");
            }
        }
        if (fdatasync(fd)) {
            return fail("fdatasync");
        }
    } else {
        fprintf(stderr, "blkbench: unknown mode %s\n", argv[2]);
        return 1;
    }
    t = now() - t0;
    printf("BLKBENCH %s %.4f %ld\n", argv[2], t, n);
    return 0;
}
