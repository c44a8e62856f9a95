/*
 * virtio-balloon-pci through qtest and libqvirtio, plus its monitor side
 * over a QMP socket: an inflated RAM page reads back as zeros (the host
 * dropped it), frames outside RAM are ignored, the target set with QMP
 * balloon appears in num_pages with a configuration interrupt, the
 * driver's actual gives BALLOON_CHANGE and query-balloon, HMP balloon and
 * info balloon, the errors without a device, stats polling on the
 * virtual clock, free page reporting.
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include "qtest-harness.h"
#include "libqvirtio.h"

#define SLOT            5
#define RAM_MB          128
#define F_STATS_VQ      1
#define F_DEFLATE_OOM   2
#define F_REPORTING     5
#define PAGE_A          0x07800000u     /* RAM, above the libqvirtio allocator */
#define PAGE_B          0x07801000u

static int qmp_fd = -1;
static int balloon_events;
static long long last_event_actual;

static char *qmp_line(void)
{
    char *l = qtest_read_line(qmp_fd, 10000);

    QT_ASSERT_MSG(l, "QMP closed");
    return l;
}

static void note_event(const char *l)
{
    const char *a = strstr(l, "\"actual\":");

    if (strstr(l, "BALLOON_CHANGE")) {
        QT_ASSERT_MSG(a, "%s", l);
        balloon_events++;
        last_event_actual = strtoll(a + 9, NULL, 10);
    }
}

/* Sends a command; returns the reply line (counting events before it). */
static char *qmp(const char *cmd)
{
    QT_ASSERT_EQ(write(qmp_fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    for (;;) {
        char *l = qmp_line();

        if (strstr(l, "\"return\"") || strstr(l, "\"error\"")) {
            return l;
        }
        note_event(l);
        free(l);
    }
}

static QTestState *start(const char *path, const char *devargs)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    QTestState *s = qtest_initf("-m %d -qmp unix:%s,server=on,wait=off %s", RAM_MB, path,
                                devargs);
    char *l;

    qmp_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (int t = 0; connect(qmp_fd, (struct sockaddr *)&sa, sizeof(sa)); t++) {
        QT_ASSERT_MSG(t < 1000, "no QMP socket at %s", path);
        usleep(10 * 1000);
    }
    l = qmp_line();
    QT_ASSERT(strstr(l, "QMP"));
    free(l);
    free(qmp("{\"execute\":\"qmp_capabilities\"}\n"));
    balloon_events = 0;
    return s;
}

static void stop(QTestState *s, const char *path)
{
    close(qmp_fd);
    qmp_fd = -1;
    qtest_quit(s);
    unlink(path);
}

static long long query_actual(void)
{
    char *r = qmp("{\"execute\":\"query-balloon\"}\n");
    const char *a = strstr(r, "\"actual\":");
    long long v;

    QT_ASSERT_MSG(a, "%s", r);
    v = strtoll(a + 9, NULL, 10);
    free(r);
    return v;
}

static void fill(QTestState *s, uint64_t addr, uint8_t v)
{
    uint8_t b[4096];

    memset(b, v, sizeof(b));
    qtest_memwrite(s, addr, b, sizeof(b));
}

static bool page_is(QTestState *s, uint64_t addr, uint8_t v)
{
    uint8_t b[4096];

    qtest_memread(s, addr, b, sizeof(b));
    for (unsigned i = 0; i < sizeof(b); i++) {
        if (b[i] != v) {
            return false;
        }
    }
    return true;
}

static void send_pfns(QVirtQueue *vq, const uint32_t *pfns, unsigned n)
{
    QTestState *s = vq->dev->qts;
    uint64_t a = qvirtio_alloc(s, 4 * n, 16);
    uint16_t h;

    for (unsigned i = 0; i < n; i++) {
        qtest_writel(s, a + 4 * i, pfns[i]);
    }
    h = qvirtqueue_add(vq, a, 4 * n, false, false);
    qvirtqueue_kick(vq, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(vq, h, 5000), 0u);
}

static void test_inflate(void)
{
    char path[96];
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *ivq, *dvq;
    uint8_t rom[16], rom2[16];
    uint32_t pfns[] = {
        PAGE_A >> 12,
        0xfee00,                        /* the local APIC: MMIO */
        0xfffff,                        /* the BIOS ROM at the top of 4 GiB */
        (RAM_MB << 20) >> 12,           /* the first frame past RAM */
        0xe0100,                        /* the device's own BAR */
        0xffffffffu,
    };

    qvirtio_alloc_reset();
    qt_tmpfile(path, sizeof(path), "balloon-qmp");
    s = start(path, "-device virtio-balloon-pci,id=b0,addr=5");
    qvirtio_pci_init(&d, s, SLOT, true);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x02), 0x1002);
    QT_ASSERT(qvirtio_get_features(&d) & (1ull << F_STATS_VQ));
    QT_ASSERT(!(qvirtio_get_features(&d) & (1ull << F_DEFLATE_OOM)));
    QT_ASSERT(!(qvirtio_get_features(&d) & (1ull << F_REPORTING)));
    qvirtio_start(&d, 1ull << QVIRTIO_F_VERSION_1);
    ivq = qvirtqueue_setup(&d, 0);
    dvq = qvirtqueue_setup(&d, 1);
    qvirtio_driver_ok(&d);

    fill(s, PAGE_A, 0xa5);
    fill(s, PAGE_B, 0x5a);
    qtest_memread(s, 0xfffff000, rom, sizeof(rom));
    send_pfns(ivq, pfns, sizeof(pfns) / sizeof(pfns[0]));
    QT_ASSERT_MSG(page_is(s, PAGE_A, 0), "the inflated page kept its contents");
    QT_ASSERT_MSG(page_is(s, PAGE_B, 0x5a), "a page next to it changed");
    qtest_memread(s, 0xfffff000, rom2, sizeof(rom2));
    QT_ASSERT(!memcmp(rom, rom2, sizeof(rom)));
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x02), 0x1002);      /* the BAR still decodes */
    /* deflate: the page is usable again, still zero until written */
    send_pfns(dvq, pfns, 1);
    QT_ASSERT(page_is(s, PAGE_A, 0));
    fill(s, PAGE_A, 0x11);
    QT_ASSERT(page_is(s, PAGE_A, 0x11));
    /* a PFN split over two buffers counts; a partial one at the end not */
    {
        uint32_t pfn = PAGE_B >> 12, pfn_a = PAGE_A >> 12;
        uint64_t a = qvirtio_alloc(s, 2, 16), b = qvirtio_alloc(s, 5, 16);
        uint16_t h;

        qtest_memwrite(s, a, &pfn, 2);
        qtest_memwrite(s, b, (uint8_t *)&pfn + 2, 2);
        qtest_memwrite(s, b + 2, &pfn_a, 3);
        h = qvirtqueue_add(ivq, a, 2, false, true);
        qvirtqueue_add(ivq, b, 5, false, false);
        qvirtqueue_kick(ivq, h);
        QT_ASSERT_EQ(qvirtqueue_wait_used(ivq, h, 5000), 0u);
        QT_ASSERT(page_is(s, PAGE_B, 0));
        QT_ASSERT(page_is(s, PAGE_A, 0x11));
    }
    QT_ASSERT_EQ(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, 0);
    stop(s, path);
}

static void test_target(void)
{
    char path[96], *r;
    QTestState *s;
    QVirtioDev d;

    qvirtio_alloc_reset();
    qt_tmpfile(path, sizeof(path), "balloon-qmp");
    s = start(path, "-device virtio-balloon-pci,id=b0,addr=5,deflate-on-oom=on");
    qvirtio_pci_init(&d, s, SLOT, true);
    QT_ASSERT(qvirtio_get_features(&d) & (1ull << F_DEFLATE_OOM));
    qvirtio_start(&d, (1ull << QVIRTIO_F_VERSION_1) | (1ull << F_DEFLATE_OOM));
    qvirtio_driver_ok(&d);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0), 0u);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 4), 0u);
    QT_ASSERT_EQ(query_actual(), (long long)RAM_MB << 20);
    qvirtio_isr(&d);

    r = qmp("{\"execute\":\"balloon\",\"arguments\":{\"value\":67108864}}\n");
    QT_ASSERT_MSG(strstr(r, "\"return\""), "%s", r);
    free(r);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0), (uint32_t)((RAM_MB - 64) << 8));
    QT_ASSERT_MSG(qvirtio_isr(&d) & 2, "no configuration interrupt");
    QT_ASSERT_EQ(query_actual(), (long long)RAM_MB << 20);  /* nothing given yet */

    /* the driver reports what it gave: one event, query-balloon follows */
    qtest_writel(s, QVIRTIO_MODERN_BAR + d.device + 4, (RAM_MB - 64) << 8);
    QT_ASSERT_EQ(query_actual(), 64ll << 20);
    QT_ASSERT_EQ(balloon_events, 1);
    QT_ASSERT_EQ(last_event_actual, 64ll << 20);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 4), (uint32_t)((RAM_MB - 64) << 8));
    qtest_writel(s, QVIRTIO_MODERN_BAR + d.device + 4, (RAM_MB - 64) << 8);
    free(qmp("{\"execute\":\"query-status\"}\n"));
    QT_ASSERT_EQ(balloon_events, 1);                        /* no change, no event */
    /* num_pages is the device's: a driver write does not change it */
    qtest_writel(s, QVIRTIO_MODERN_BAR + d.device + 0, 5);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0), (uint32_t)((RAM_MB - 64) << 8));

    /* above RAM: clamped, nothing asked */
    free(qmp("{\"execute\":\"balloon\",\"arguments\":{\"value\":1099511627776}}\n"));
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0), 0u);
    r = qmp("{\"execute\":\"balloon\",\"arguments\":{\"value\":0}}\n");
    QT_ASSERT_MSG(strstr(r, "Parameter 'target' expects a size"), "%s", r);
    free(r);

    /* HMP */
    r = qmp("{\"execute\":\"human-monitor-command\","
            "\"arguments\":{\"command-line\":\"info balloon\"}}\n");
    QT_ASSERT_MSG(strstr(r, "balloon: actual=64"), "%s", r);
    free(r);
    free(qmp("{\"execute\":\"human-monitor-command\","
             "\"arguments\":{\"command-line\":\"balloon 100\"}}\n"));
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0), (uint32_t)((RAM_MB - 100) << 8));
    free(qmp("{\"execute\":\"human-monitor-command\","
             "\"arguments\":{\"command-line\":\"balloon 96M\"}}\n"));
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0), (uint32_t)((RAM_MB - 96) << 8));
    r = qmp("{\"execute\":\"human-monitor-command\","
            "\"arguments\":{\"command-line\":\"balloon lots\"}}\n");
    QT_ASSERT_MSG(strstr(r, "invalid size"), "%s", r);
    free(r);
    free(qmp("{\"execute\":\"human-monitor-command\","
             "\"arguments\":{\"command-line\":\"balloon 100\"}}\n"));

    /* a device reset keeps actual and the target (QEMU's behaviour) */
    qvirtio_reset(&d);
    QT_ASSERT_EQ(query_actual(), 64ll << 20);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0), (uint32_t)((RAM_MB - 100) << 8));
    /* the driver gives everything back */
    qtest_writel(s, QVIRTIO_MODERN_BAR + d.device + 4, 0);
    QT_ASSERT_EQ(query_actual(), (long long)RAM_MB << 20);
    QT_ASSERT_EQ(balloon_events, 2);
    QT_ASSERT_EQ(last_event_actual, (long long)RAM_MB << 20);
    stop(s, path);
}

static void test_no_device(void)
{
    char path[96], *r;
    QTestState *s;

    qt_tmpfile(path, sizeof(path), "balloon-qmp");
    s = start(path, "");
    r = qmp("{\"execute\":\"query-balloon\"}\n");
    QT_ASSERT_MSG(strstr(r, "\"DeviceNotActive\"") &&
                  strstr(r, "No balloon device has been activated"), "%s", r);
    free(r);
    r = qmp("{\"execute\":\"balloon\",\"arguments\":{\"value\":67108864}}\n");
    QT_ASSERT_MSG(strstr(r, "\"DeviceNotActive\""), "%s", r);
    free(r);
    r = qmp("{\"execute\":\"human-monitor-command\","
            "\"arguments\":{\"command-line\":\"info balloon\"}}\n");
    QT_ASSERT_MSG(strstr(r, "No balloon device has been activated"), "%s", r);
    free(r);
    stop(s, path);
}

/* The stats buffer stays with the device until the polling interval
 * (virtual time) has passed. */
static void test_stats(void)
{
    char path[96], *r;
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *svq;
    uint8_t rec[20] = { 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0,        /* free memory 256 MiB */
                        5, 0, 0, 0, 0, 0x20, 0, 0, 0, 0 };      /* total 512 MiB */
    uint64_t a;
    uint16_t h;

    qvirtio_alloc_reset();
    qt_tmpfile(path, sizeof(path), "balloon-qmp");
    s = start(path, "-device virtio-balloon-pci,id=b0,addr=5,guest-stats-polling-interval=2");
    r = qmp("{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/b0\","
            "\"property\":\"guest-stats\"}}\n");
    QT_ASSERT_MSG(strstr(r, "guest hasn't updated any stats yet"), "%s", r);
    free(r);
    qvirtio_pci_init(&d, s, SLOT, true);
    qvirtio_start(&d, (1ull << QVIRTIO_F_VERSION_1) | (1ull << F_STATS_VQ));
    qvirtqueue_setup(&d, 0);
    qvirtqueue_setup(&d, 1);
    svq = qvirtqueue_setup(&d, 2);
    qvirtio_driver_ok(&d);
    a = qvirtio_alloc(s, sizeof(rec), 16);
    qtest_memwrite(s, a, rec, sizeof(rec));
    h = qvirtqueue_add(svq, a, sizeof(rec), false, false);
    qvirtqueue_kick(svq, h);
    r = qmp("{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/b0\","
            "\"property\":\"guest-stats\"}}\n");
    QT_ASSERT_MSG(strstr(r, "\"stat-free-memory\": 268435456") &&
                  strstr(r, "\"stat-total-memory\": 536870912") &&
                  strstr(r, "\"stat-swap-in\": -1") && strstr(r, "\"last-update\": "), "%s", r);
    QT_ASSERT_MSG(!strstr(r, "\"last-update\": 0"), "%s", r);
    free(r);
    qtest_clock_step(s, 1000000000LL);
    usleep(50 * 1000);
    QT_ASSERT_MSG(!qvirtqueue_used_pending(svq), "the stats buffer came back before 2 s");
    qtest_clock_step(s, 1500000000LL);
    QT_ASSERT_EQ(qvirtqueue_wait_used(svq, h, 5000), 0u);
    stop(s, path);
}

static void test_reporting(void)
{
    char path[96];
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *rvq;
    uint16_t h;

    qvirtio_alloc_reset();
    qt_tmpfile(path, sizeof(path), "balloon-qmp");
    s = start(path, "-device virtio-balloon-pci,addr=5,free-page-reporting=on");
    qvirtio_pci_init(&d, s, SLOT, true);
    QT_ASSERT(qvirtio_get_features(&d) & (1ull << F_REPORTING));
    QT_ASSERT_EQ(qvirtio_num_queues(&d), 4);
    qvirtio_start(&d, (1ull << QVIRTIO_F_VERSION_1) | (1ull << F_REPORTING));
    for (unsigned i = 0; i < 3; i++) {
        qvirtqueue_setup(&d, i);
    }
    rvq = qvirtqueue_setup(&d, 3);
    qvirtio_driver_ok(&d);
    fill(s, PAGE_A, 0x77);
    fill(s, PAGE_B, 0x78);
    fill(s, PAGE_B + 0x1000, 0x79);
    h = qvirtqueue_add(rvq, PAGE_A, 0x2000, true, false);   /* A and B */
    qvirtqueue_kick(rvq, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rvq, h, 5000), 0u);
    QT_ASSERT(page_is(s, PAGE_A, 0));
    QT_ASSERT(page_is(s, PAGE_B, 0));
    QT_ASSERT(page_is(s, PAGE_B + 0x1000, 0x79));
    stop(s, path);
}

/* Odd buffers: device-writable PFN lists, short stats records, reports
 * in driver-readable buffers, unknown tags: ignored, no NEEDS_RESET. */
static void test_hostile(void)
{
    char path[96];
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *ivq, *svq, *rvq;
    uint8_t junk[7] = { 0xff, 0xff, 1, 2, 3, 4, 5 };
    uint64_t a;
    uint16_t h;

    qvirtio_alloc_reset();
    qt_tmpfile(path, sizeof(path), "balloon-qmp");
    s = start(path, "-device virtio-balloon-pci,addr=5,free-page-reporting=on");
    qvirtio_pci_init(&d, s, SLOT, true);
    qvirtio_start(&d, (1ull << QVIRTIO_F_VERSION_1) | (1ull << F_STATS_VQ) |
                  (1ull << F_REPORTING));
    ivq = qvirtqueue_setup(&d, 0);
    qvirtqueue_setup(&d, 1);
    svq = qvirtqueue_setup(&d, 2);
    rvq = qvirtqueue_setup(&d, 3);
    qvirtio_driver_ok(&d);
    fill(s, PAGE_A, 0x33);
    /* a PFN list the device may write: not read as PFNs */
    a = qvirtio_alloc(s, 4, 16);
    qtest_writel(s, a, PAGE_A >> 12);
    h = qvirtqueue_add(ivq, a, 4, true, false);
    qvirtqueue_kick(ivq, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(ivq, h, 5000), 0u);
    QT_ASSERT(page_is(s, PAGE_A, 0x33));
    /* a report in a driver-readable buffer: nothing dropped */
    h = qvirtqueue_add(rvq, PAGE_A, 0x1000, false, false);
    qvirtqueue_kick(rvq, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rvq, h, 5000), 0u);
    QT_ASSERT(page_is(s, PAGE_A, 0x33));
    /* a stats buffer of 7 bytes (no whole record), an unknown tag */
    a = qvirtio_alloc(s, sizeof(junk), 16);
    qtest_memwrite(s, a, junk, sizeof(junk));
    h = qvirtqueue_add(svq, a, sizeof(junk), false, false);
    qvirtqueue_kick(svq, h);
    QT_ASSERT_EQ(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, 0);
    /* still serving */
    send_pfns(ivq, (uint32_t[]){ PAGE_A >> 12 }, 1);
    QT_ASSERT(page_is(s, PAGE_A, 0));
    stop(s, path);
}

/* Only one balloon: the second device fails with QEMU's message. */
static void test_two_balloons(void)
{
    char cmd[512], out[4096];
    size_t n;
    FILE *f;
    int st;

    snprintf(cmd, sizeof(cmd), "timeout 20 %s -accel qtest -display none -nodefaults "
             "-device virtio-balloon-pci -device virtio-balloon 2>&1", qtest_binary_path());
    f = popen(cmd, "r");
    QT_ASSERT(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = 0;
    st = pclose(f);
    QT_ASSERT_MSG(WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 124,
                  "two balloons accepted: %.300s", out);
    QT_ASSERT_MSG(strstr(out, "Only one balloon device is supported"), "%.300s", out);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("virtio-balloon/inflate", test_inflate);
    qt_run("virtio-balloon/target", test_target);
    qt_run("virtio-balloon/no-device", test_no_device);
    qt_run("virtio-balloon/stats", test_stats);
    qt_run("virtio-balloon/reporting", test_reporting);
    qt_run("virtio-balloon/hostile", test_hostile);
    qt_run("virtio-balloon/two-balloons", test_two_balloons);
    return qt_finish();
}
