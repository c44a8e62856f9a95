/*
 * Disk images for the storage qtests (ide-test, fdc-test): a temporary
 * file of pseudo-random bytes, and reading it back to compare with what
 * the guest side saw or wrote.
 */
#ifndef KVMPC_QTEST_IMAGES_H
#define KVMPC_QTEST_IMAGES_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "qtest-harness.h"

/* PATH (64 bytes) := mkstemp(TMPL) holding SIZE bytes of rand() seeded
 * with SEED. */
static inline void qt_make_image(char *path, const char *tmpl, size_t size, unsigned seed)
{
    uint8_t *buf = malloc(size);
    int fd;

    snprintf(path, 64, "%s", tmpl);
    fd = mkstemp(path);
    if (fd < 0) {
        QT_FAIL("mkstemp");
    }
    srand(seed);
    for (size_t i = 0; i < size; i++) {
        buf[i] = rand();
    }
    if (write(fd, buf, size) != (ssize_t)size) {
        QT_FAIL("write image");
    }
    close(fd);
    free(buf);
}

static inline void qt_file_read(const char *path, off_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    QT_ASSERT(fd >= 0);
    QT_ASSERT_EQ(pread(fd, buf, len, off), (ssize_t)len);
    close(fd);
}

#endif
