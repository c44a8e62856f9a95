/*
 * virtio-rng-pci through qtest and libqvirtio: buffers come back filled
 * (used length = buffer size) with bytes that are not all equal, from
 * rng-random (/dev/urandom) and rng-builtin; max-bytes/period limit what
 * one period gives and the next period (virtual clock) gives more.
 */
#include "qtest-harness.h"
#include "libqvirtio.h"

#define SLOT 5

static bool varied(const uint8_t *b, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (b[i] != b[0]) {
            return true;
        }
    }
    return false;
}

static uint32_t request(QVirtQueue *vq, uint64_t buf, uint32_t len)
{
    uint16_t h = qvirtqueue_add(vq, buf, len, true, false);

    qvirtqueue_kick(vq, h);
    return qvirtqueue_wait_used(vq, h, 5000);
}

static void check_random(const char *args, bool modern)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint8_t a[64], b[64];
    uint64_t ga, gb;

    qvirtio_alloc_reset();
    s = qtest_initf("%s", args);
    qvirtio_pci_init(&d, s, SLOT, modern);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x02), modern ? 0x1005 : 0x1005);
    qvirtio_start(&d, modern ? 1ull << QVIRTIO_F_VERSION_1 : 0);
    vq = qvirtqueue_setup(&d, 0);
    qvirtio_driver_ok(&d);
    ga = qvirtio_alloc(s, sizeof(a), 16);
    gb = qvirtio_alloc(s, sizeof(b), 16);
    QT_ASSERT_EQ(request(vq, ga, sizeof(a)), sizeof(a));
    QT_ASSERT_EQ(request(vq, gb, sizeof(b)), sizeof(b));
    qtest_memread(s, ga, a, sizeof(a));
    qtest_memread(s, gb, b, sizeof(b));
    QT_ASSERT_MSG(varied(a, sizeof(a)), "64 equal bytes");
    QT_ASSERT_MSG(memcmp(a, b, sizeof(a)), "two buffers got the same bytes");
    qtest_quit(s);
}

static void test_rng_random(void)
{
    char args[256];

    snprintf(args, sizeof(args), "-object rng-random,id=r0,filename=/dev/urandom "
             "-device virtio-rng-pci,rng=r0,addr=%x", SLOT);
    check_random(args, true);
}

static void test_rng_builtin_legacy(void)
{
    char args[256];

    snprintf(args, sizeof(args), "-object rng-builtin,id=r0 -device virtio-rng-pci,rng=r0,addr=%x",
             SLOT);
    check_random(args, false);
}

static void test_rng_default_backend(void)
{
    char args[256];

    snprintf(args, sizeof(args), "-device virtio-rng-pci,addr=%x", SLOT);
    check_random(args, true);
}

static void test_rate_limit(void)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t g;
    uint16_t h;

    qvirtio_alloc_reset();
    s = qtest_initf("-object rng-builtin,id=r0 -device virtio-rng-pci,rng=r0,addr=%x,"
                    "max-bytes=16,period=1000", SLOT);
    qvirtio_pci_init(&d, s, SLOT, true);
    qvirtio_start(&d, 1ull << QVIRTIO_F_VERSION_1);
    vq = qvirtqueue_setup(&d, 0);
    qvirtio_driver_ok(&d);
    g = qvirtio_alloc(s, 64, 16);
    /* 64 asked, 16 given this period */
    QT_ASSERT_EQ(request(vq, g, 64), 16u);
    /* the next buffer waits for the next period */
    h = qvirtqueue_add(vq, g, 64, true, false);
    qvirtqueue_kick(vq, h);
    usleep(20000);
    QT_ASSERT(!qvirtqueue_used_pending(vq));
    qtest_clock_step(s, 1000 * 1000 * 1000LL);
    QT_ASSERT_EQ(qvirtqueue_wait_used(vq, h, 5000), 16u);
    qtest_quit(s);
}

static void test_bad_backend(void)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "%s -accel qtest -display none -nodefaults "
             "-device virtio-rng-pci,rng=nosuch >/dev/null 2>&1", qtest_binary_path());
    QT_ASSERT_NE(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s -accel qtest -display none -nodefaults "
             "-object rng-random,id=r,filename=/nonexistent/rng >/dev/null 2>&1",
             qtest_binary_path());
    QT_ASSERT_NE(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s -accel qtest -display none -nodefaults "
             "-object memory-backend-ram,id=m,size=1M >/dev/null 2>&1", qtest_binary_path());
    QT_ASSERT_NE(system(cmd), 0);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("rng-random/modern", test_rng_random);
    qt_run("rng-builtin/legacy", test_rng_builtin_legacy);
    qt_run("default-backend", test_rng_default_backend);
    qt_run("rate-limit", test_rate_limit);
    qt_run("bad-backend", test_bad_backend);
    return qt_finish();
}
