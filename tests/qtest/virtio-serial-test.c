/*
 * virtio-serial-pci through qtest and libqvirtio, the test playing both
 * the guest driver and the far end of the ports' unix socket chardevs:
 * ports announced on the control queue (PORT_ADD, CONSOLE_PORT,
 * PORT_NAME), PORT_OPEN when the socket peer connects and goes away,
 * data both ways, back-pressure (a full socket holds the guest's chains,
 * which complete once the peer reads), QMP VSERPORT_CHANGE, the emergency
 * write, hostile control messages and chains for ports that do not exist.
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include "qtest-harness.h"
#include "libqvirtio.h"

#define SLOT            5
#define MAX_PORTS       4
#define F_MULTIPORT     1
#define F_EMERG_WRITE   2

#define EV_DEVICE_READY 0
#define EV_PORT_ADD     1
#define EV_PORT_READY   3
#define EV_CONSOLE_PORT 4
#define EV_PORT_OPEN    6
#define EV_PORT_NAME    7

#define CTRL_BUF        80
#define NCTRL           12

typedef struct Ctx {
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *q[2 * MAX_PORTS + 2];
    uint16_t ctrl_head[64];         /* control rx buffers, oldest first */
    uint64_t ctrl_addr[64];
    unsigned ctrl_first, ctrl_last;
    char port_path[96], con_path[96];
} Ctx;

typedef struct Msg {
    uint32_t id;
    uint16_t event, value;
    char extra[CTRL_BUF];
    uint32_t len;
} Msg;

static QVirtQueue *rxq(Ctx *c, unsigned port)
{
    return c->q[port == 0 ? 0 : 2 * port + 2];
}

static QVirtQueue *txq(Ctx *c, unsigned port)
{
    return c->q[port == 0 ? 1 : 2 * port + 3];
}

static void ctrl_add_buffer(Ctx *c)
{
    uint64_t a = qvirtio_alloc(c->s, CTRL_BUF, 16);
    unsigned i = c->ctrl_last++ % 64;

    c->ctrl_addr[i] = a;
    c->ctrl_head[i] = qvirtqueue_add(c->q[2], a, CTRL_BUF, true, false);
    qvirtqueue_kick(c->q[2], c->ctrl_head[i]);
}

/* The next control message from the device (fails after 5 s). */
static void ctrl_recv(Ctx *c, Msg *m)
{
    unsigned i = c->ctrl_first++ % 64;
    uint8_t b[CTRL_BUF];

    memset(m, 0, sizeof(*m));
    m->len = qvirtqueue_wait_used(c->q[2], c->ctrl_head[i], 5000);
    QT_ASSERT_MSG(m->len >= 8 && m->len <= CTRL_BUF, "control message of %u bytes", m->len);
    qtest_memread(c->s, c->ctrl_addr[i], b, m->len);
    m->id = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
    m->event = b[4] | b[5] << 8;
    m->value = b[6] | b[7] << 8;
    memcpy(m->extra, b + 8, m->len - 8);
    ctrl_add_buffer(c);
}

static void ctrl_expect(Ctx *c, uint32_t id, uint16_t event, uint16_t value)
{
    Msg m;

    ctrl_recv(c, &m);
    QT_ASSERT_MSG(m.id == id && m.event == event && m.value == value,
                  "control message (%u, %u, %u), expected (%u, %u, %u)", m.id, m.event,
                  m.value, id, event, value);
}

static void ctrl_none(Ctx *c, int ms)
{
    usleep(ms * 1000);
    QT_ASSERT_MSG(!qvirtqueue_used_pending(c->q[2]), "an unexpected control message");
}

/* Send raw bytes on the control transmitq. */
static void ctrl_send_raw(Ctx *c, const uint8_t *b, uint32_t len)
{
    uint64_t a = qvirtio_alloc(c->s, len ? len : 1, 16);
    uint16_t h;

    qtest_memwrite(c->s, a, b, len);
    h = qvirtqueue_add(c->q[3], a, len, false, false);
    qvirtqueue_kick(c->q[3], h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(c->q[3], h, 5000), 0u);
}

static void ctrl_send(Ctx *c, uint32_t id, uint16_t event, uint16_t value)
{
    uint8_t b[8] = { id, id >> 8, id >> 16, id >> 24, event, event >> 8, value, value >> 8 };

    ctrl_send_raw(c, b, sizeof(b));
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    QT_ASSERT(fd >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (int t = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)); t++) {
        QT_ASSERT_MSG(t < 1000, "no socket at %s", path);
        usleep(10 * 1000);
    }
    return fd;
}

/* QMP, for VSERPORT_CHANGE: the next line from the monitor. */
static char *qmp_line(int fd)
{
    char *l = qtest_read_line(fd, 5000);

    QT_ASSERT_MSG(l, "no QMP line");
    return l;
}

static int qmp_open(const char *path)
{
    int fd = unix_connect(path);
    const char *caps = "{\"execute\":\"qmp_capabilities\"}\n";
    char *l = qmp_line(fd);

    QT_ASSERT(strstr(l, "QMP"));
    free(l);
    QT_ASSERT_EQ(write(fd, caps, strlen(caps)), (ssize_t)strlen(caps));
    l = qmp_line(fd);
    QT_ASSERT_MSG(strstr(l, "\"return\""), "%s", l);
    free(l);
    return fd;
}

static void expect_vserport_change(int fd, const char *id, bool open)
{
    char *l = qmp_line(fd);
    char want[96];

    snprintf(want, sizeof(want), "\"data\": {\"id\": \"%s\", \"open\": %s}", id,
             open ? "true" : "false");
    QT_ASSERT_MSG(strstr(l, "VSERPORT_CHANGE") && strstr(l, want), "%s", l);
    free(l);
}

static uint16_t guest_write(Ctx *c, unsigned port, const void *data, uint32_t len)
{
    uint64_t a = qvirtio_alloc(c->s, len, 16);
    uint16_t h;

    qtest_memwrite(c->s, a, data, len);
    h = qvirtqueue_add(txq(c, port), a, len, false, false);
    qvirtqueue_kick(txq(c, port), h);
    return h;
}

/* Starts kvmpc with a virtconsole (port 0) and a named virtserialport
 * (port 1), each on a socket server chardev; drives the device to
 * DRIVER_OK with MULTIPORT and the control rx queue filled. */
static void start(Ctx *c, const char *extra)
{
    memset(c, 0, sizeof(*c));
    qvirtio_alloc_reset();
    qt_tmpfile(c->port_path, sizeof(c->port_path), "vser-port");
    qt_tmpfile(c->con_path, sizeof(c->con_path), "vser-con");
    c->s = qtest_initf("-chardev socket,id=p1,path=%s,server=on,wait=off "
                       "-chardev socket,id=p0,path=%s,server=on,wait=off "
                       "-device virtio-serial-pci,id=vs0,max_ports=%d,addr=%x "
                       "-device virtconsole,chardev=p0,bus=vs0.0 "
                       "-device virtserialport,bus=vs0.0,chardev=p1,name=org.kvmpc.test,nr=1,"
                       "id=port1 %s",
                       c->port_path, c->con_path, MAX_PORTS, SLOT, extra);
    qvirtio_pci_init(&c->d, c->s, SLOT, true);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&c->d, 0x02), 0x1003);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&c->d, 0x0a), 0x0780);
    QT_ASSERT_EQ(qvirtio_num_queues(&c->d), 2 * MAX_PORTS + 2);
    QT_ASSERT(qvirtio_get_features(&c->d) & (1ull << F_MULTIPORT));
    QT_ASSERT(qvirtio_get_features(&c->d) & (1ull << F_EMERG_WRITE));
    qvirtio_start(&c->d, (1ull << QVIRTIO_F_VERSION_1) | (1ull << F_MULTIPORT) |
                  (1ull << F_EMERG_WRITE));
    for (unsigned i = 0; i < 8; i++) {
        c->q[i] = qvirtqueue_setup(&c->d, i);
    }
    qvirtio_driver_ok(&c->d);
    for (unsigned i = 0; i < NCTRL; i++) {
        ctrl_add_buffer(c);
    }
}

static void finish(Ctx *c)
{
    QT_ASSERT_EQ(qvirtio_get_status(&c->d) & QVIRTIO_S_NEEDS_RESET, 0);
    qtest_quit(c->s);
    unlink(c->port_path);
    unlink(c->con_path);
}

/* DEVICE_READY and PORT_READY for both ports, checking the announcements. */
static void handshake(Ctx *c)
{
    Msg m;

    ctrl_send(c, 0, EV_DEVICE_READY, 1);
    ctrl_expect(c, 0, EV_PORT_ADD, 1);
    ctrl_expect(c, 1, EV_PORT_ADD, 1);
    ctrl_send(c, 0, EV_PORT_READY, 1);
    ctrl_expect(c, 0, EV_CONSOLE_PORT, 1);
    ctrl_send(c, 1, EV_PORT_READY, 1);
    ctrl_recv(c, &m);
    QT_ASSERT_EQ(m.id, 1u);
    QT_ASSERT_EQ(m.event, EV_PORT_NAME);
    QT_ASSERT_EQ(m.len, 8u + sizeof("org.kvmpc.test"));
    QT_ASSERT_MSG(!strcmp(m.extra, "org.kvmpc.test"), "name \"%s\"", m.extra);
    ctrl_none(c, 50);           /* no chardev peer yet: no PORT_OPEN */
}

static void test_announce(void)
{
    Ctx c;

    start(&c, "");
    QT_ASSERT_EQ(qvirtio_config_readl(&c.d, 4), (uint32_t)MAX_PORTS);
    QT_ASSERT_EQ(qvirtio_config_readw(&c.d, 0), 0);
    QT_ASSERT_EQ(qvirtio_config_readw(&c.d, 2), 0);
    handshake(&c);
    finish(&c);
}

static void test_data(void)
{
    Ctx c;
    int fd, qfd;
    uint64_t rx;
    uint16_t h;
    char buf[64], qpath[96], extra[160];

    qt_tmpfile(qpath, sizeof(qpath), "vser-qmp");
    snprintf(extra, sizeof(extra), "-qmp unix:%s,server=on,wait=off", qpath);
    start(&c, extra);
    qfd = qmp_open(qpath);
    handshake(&c);
    fd = unix_connect(c.port_path);
    ctrl_expect(&c, 1, EV_PORT_OPEN, 1);
    ctrl_send(&c, 1, EV_PORT_OPEN, 1);
    expect_vserport_change(qfd, "port1", true);

    /* host -> guest */
    rx = qvirtio_alloc(c.s, 64, 16);
    h = qvirtqueue_add(rxq(&c, 1), rx, 64, true, false);
    qvirtqueue_kick(rxq(&c, 1), h);
    QT_ASSERT_EQ(write(fd, "hello guest", 11), 11);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rxq(&c, 1), h, 5000), 11u);
    qtest_memread(c.s, rx, buf, 11);
    QT_ASSERT(!memcmp(buf, "hello guest", 11));

    /* input with no buffer waits for one */
    QT_ASSERT_EQ(write(fd, "later", 5), 5);
    usleep(100 * 1000);
    QT_ASSERT(!qvirtqueue_used_pending(rxq(&c, 1)));
    rx = qvirtio_alloc(c.s, 64, 16);
    h = qvirtqueue_add(rxq(&c, 1), rx, 64, true, false);
    qvirtqueue_kick(rxq(&c, 1), h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rxq(&c, 1), h, 5000), 5u);
    qtest_memread(c.s, rx, buf, 5);
    QT_ASSERT(!memcmp(buf, "later", 5));

    /* guest -> host, a chain of two buffers */
    {
        uint64_t a = qvirtio_alloc(c.s, 16, 16), b = qvirtio_alloc(c.s, 16, 16);

        qtest_memwrite(c.s, a, "from ", 5);
        qtest_memwrite(c.s, b, "the guest", 9);
        h = qvirtqueue_add(txq(&c, 1), a, 5, false, true);
        qvirtqueue_add(txq(&c, 1), b, 9, false, false);
        qvirtqueue_kick(txq(&c, 1), h);
        QT_ASSERT_EQ(qvirtqueue_wait_used(txq(&c, 1), h, 5000), 0u);
        QT_ASSERT(qtest_read_full(fd, buf, 14, 5000));
        QT_ASSERT(!memcmp(buf, "from the guest", 14));
    }

    /* peer gone: PORT_OPEN 0; guest output is completed and dropped */
    close(fd);
    ctrl_expect(&c, 1, EV_PORT_OPEN, 0);
    h = guest_write(&c, 1, "lost", 4);
    QT_ASSERT_EQ(qvirtqueue_wait_used(txq(&c, 1), h, 5000), 0u);

    /* a new peer: PORT_OPEN 1 again, and it gets only new output */
    fd = unix_connect(c.port_path);
    ctrl_expect(&c, 1, EV_PORT_OPEN, 1);
    h = guest_write(&c, 1, "again", 5);
    QT_ASSERT_EQ(qvirtqueue_wait_used(txq(&c, 1), h, 5000), 0u);
    QT_ASSERT(qtest_read_full(fd, buf, 5, 5000));
    QT_ASSERT(!memcmp(buf, "again", 5));

    /* the guest closes the port: input waits even with a buffer there */
    ctrl_send(&c, 1, EV_PORT_OPEN, 0);
    expect_vserport_change(qfd, "port1", false);
    rx = qvirtio_alloc(c.s, 64, 16);
    h = qvirtqueue_add(rxq(&c, 1), rx, 64, true, false);
    qvirtqueue_kick(rxq(&c, 1), h);
    QT_ASSERT_EQ(write(fd, "wait", 4), 4);
    usleep(100 * 1000);
    QT_ASSERT(!qvirtqueue_used_pending(rxq(&c, 1)));
    ctrl_send(&c, 1, EV_PORT_OPEN, 1);
    expect_vserport_change(qfd, "port1", true);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rxq(&c, 1), h, 5000), 4u);
    /* a driver reset closes it */
    qvirtio_reset(&c.d);
    expect_vserport_change(qfd, "port1", false);
    close(fd);
    close(qfd);
    unlink(qpath);
    finish(&c);
}

/* The console: PORT_OPEN when its peer connects; output; emergency write. */
static void test_console(void)
{
    Ctx c;
    int fd;
    uint16_t h;
    char buf[16];

    start(&c, "");
    handshake(&c);
    fd = unix_connect(c.con_path);
    ctrl_expect(&c, 0, EV_PORT_OPEN, 1);
    ctrl_send(&c, 0, EV_PORT_OPEN, 1);
    h = guest_write(&c, 0, "login: ", 7);
    QT_ASSERT_EQ(qvirtqueue_wait_used(txq(&c, 0), h, 5000), 0u);
    QT_ASSERT(qtest_read_full(fd, buf, 7, 5000));
    QT_ASSERT(!memcmp(buf, "login: ", 7));
    /* emergency write: one byte to port 0; the register reads back 0 */
    qtest_writel(c.s, QVIRTIO_MODERN_BAR + c.d.device + 8, '!');
    QT_ASSERT(qtest_read_full(fd, buf, 1, 5000));
    QT_ASSERT_EQ(buf[0], '!');
    QT_ASSERT_EQ(qvirtio_config_readl(&c.d, 8), 0u);
    close(fd);
    ctrl_expect(&c, 0, EV_PORT_OPEN, 0);
    finish(&c);
}

/* A peer that does not read: the chains stay in the ring until it does,
 * and every byte arrives once, in order. */
static void test_backpressure(void)
{
    enum { CHUNK = 64 * 1024, NCHUNK = 16 };
    Ctx c;
    int fd, sz = 4096;
    uint16_t h[NCHUNK];
    uint8_t *data = malloc(CHUNK * NCHUNK), *got = malloc(CHUNK * NCHUNK);
    unsigned done = 0;

    for (unsigned i = 0; i < CHUNK * NCHUNK; i++) {
        data[i] = (i * 7 + i / 251) & 0xff;
    }
    start(&c, "");
    handshake(&c);
    fd = unix_connect(c.port_path);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    ctrl_expect(&c, 1, EV_PORT_OPEN, 1);
    ctrl_send(&c, 1, EV_PORT_OPEN, 1);
    for (unsigned i = 0; i < NCHUNK; i++) {
        h[i] = guest_write(&c, 1, data + i * CHUNK, CHUNK);
    }
    usleep(300 * 1000);
    while (qvirtqueue_used_pending(txq(&c, 1))) {
        QT_ASSERT_EQ(qvirtqueue_wait_used(txq(&c, 1), h[done], 10), 0u);
        done++;
    }
    QT_ASSERT_MSG(done < NCHUNK, "all %d KiB went into a socket nobody reads",
                  CHUNK * NCHUNK / 1024);
    QT_ASSERT(qtest_read_full(fd, got, CHUNK * NCHUNK, 10000));
    QT_ASSERT_MSG(!memcmp(got, data, CHUNK * NCHUNK), "the bytes differ");
    while (done < NCHUNK) {
        QT_ASSERT_EQ(qvirtqueue_wait_used(txq(&c, 1), h[done], 5000), 0u);
        done++;
    }
    close(fd);
    free(data);
    free(got);
    finish(&c);
}

/* Short messages, unknown ports and events, failure reports, chains for
 * a port that does not exist: ignored; the device works on. */
static void test_hostile(void)
{
    Ctx c;
    uint8_t shortmsg[4] = { 1, 0, 0, 0 };
    uint8_t longmsg[32] = { 1, 0, 0, 0, EV_PORT_READY, 0, 1, 0 };
    uint16_t h;
    Msg m;

    start(&c, "");
    ctrl_send(&c, 0, EV_DEVICE_READY, 0);       /* "failed": nothing */
    ctrl_none(&c, 50);
    ctrl_send(&c, 0, EV_PORT_READY, 1);         /* before DEVICE_READY: port 0 exists */
    ctrl_expect(&c, 0, EV_CONSOLE_PORT, 1);
    ctrl_send_raw(&c, shortmsg, sizeof(shortmsg));
    ctrl_send(&c, 99, EV_PORT_READY, 1);
    ctrl_send(&c, 2, EV_PORT_OPEN, 1);          /* in range, no port */
    ctrl_send(&c, 0xffffffffu, EV_PORT_OPEN, 1);
    ctrl_send(&c, 1, 42, 1);                    /* unknown event */
    ctrl_send(&c, 1, EV_PORT_NAME, 1);          /* a device -> driver event */
    ctrl_send(&c, 1, EV_PORT_READY, 0);         /* "failed": nothing */
    ctrl_none(&c, 50);
    /* a control chain with only a device-writable buffer */
    {
        uint64_t a = qvirtio_alloc(c.s, 8, 16);

        h = qvirtqueue_add(c.q[3], a, 8, true, false);
        qvirtqueue_kick(c.q[3], h);
        QT_ASSERT_EQ(qvirtqueue_wait_used(c.q[3], h, 5000), 0u);
    }
    /* a longer message: its first 8 bytes count */
    ctrl_send_raw(&c, longmsg, sizeof(longmsg));
    ctrl_recv(&c, &m);
    QT_ASSERT_EQ(m.event, EV_PORT_NAME);
    /* output on port 2's queue (no port there) is completed */
    h = guest_write(&c, 2, "nobody", 6);
    QT_ASSERT_EQ(qvirtqueue_wait_used(c.q[7], h, 5000), 0u);
    /* still alive */
    handshake(&c);
    finish(&c);
}

/* Without MULTIPORT: port 0 only, open from DRIVER_OK, no control traffic. */
static void test_no_multiport(void)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *rx, *tx;
    char path[96], buf[16];
    uint64_t a;
    uint16_t h;
    int fd;

    qvirtio_alloc_reset();
    qt_tmpfile(path, sizeof(path), "vser-legacy");
    s = qtest_initf("-chardev socket,id=c0,path=%s,server=on,wait=off "
                    "-device virtio-serial,addr=%x,max_ports=1 -device virtconsole,chardev=c0",
                    path, SLOT);
    qvirtio_pci_init(&d, s, SLOT, false);
    /* one port: no MULTIPORT offered (QEMU's rule) */
    QT_ASSERT_EQ(qvirtio_get_features(&d) & (1ull << F_MULTIPORT), 0u);
    qvirtio_start(&d, 0);
    rx = qvirtqueue_setup(&d, 0);
    tx = qvirtqueue_setup(&d, 1);
    qvirtio_driver_ok(&d);
    fd = unix_connect(path);
    a = qvirtio_alloc(s, 16, 16);
    h = qvirtqueue_add(rx, a, 16, true, false);
    qvirtqueue_kick(rx, h);
    QT_ASSERT_EQ(write(fd, "hvc", 3), 3);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), 3u);
    qtest_memread(s, a, buf, 3);
    QT_ASSERT(!memcmp(buf, "hvc", 3));
    a = qvirtio_alloc(s, 16, 16);
    qtest_memwrite(s, a, "out", 3);
    h = qvirtqueue_add(tx, a, 3, false, false);
    qvirtqueue_kick(tx, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(tx, h, 5000), 0u);
    QT_ASSERT(qtest_read_full(fd, buf, 3, 5000));
    QT_ASSERT(!memcmp(buf, "out", 3));
    close(fd);
    qtest_quit(s);
    unlink(path);
}

static void test_cmdline_errors(void)
{
    qt_expect_fail("-device virtio-serial-pci,id=vs0 -device virtserialport,nr=0",
                "Port number 0 on virtio-serial devices reserved for virtconsole devices");
    qt_expect_fail("-device virtio-serial-pci,id=vs0 -device virtserialport,nr=2 "
                "-device virtserialport,nr=2", "A port already exists at id 2");
    qt_expect_fail("-device virtio-serial-pci,id=vs0 -device virtserialport,name=a "
                "-device virtserialport,name=a", "A port already exists by name a");
    qt_expect_fail("-device virtio-serial-pci,id=vs0,max_ports=2 -device virtserialport,nr=2",
                "Out-of-range port id specified, max. allowed: 1");
    qt_expect_fail("-device virtio-serial-pci,id=vs0,max_ports=2 -device virtserialport "
                "-device virtserialport", "Maximum port limit for this device reached");
    qt_expect_fail("-device virtio-serial-pci,max_ports=32", "maximum ports supported: 31");
    qt_expect_fail("-device virtio-serial-pci,max_ports=0",
                "Maximum number of serial ports not specified");
    qt_expect_fail("-device virtserialport", "no virtio-serial-bus bus found");
    qt_expect_fail("-device virtio-serial-pci,id=vs0 -device virtconsole,bus=vs1.0",
                "no virtio-serial-bus bus found");
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("virtio-serial/announce", test_announce);
    qt_run("virtio-serial/data", test_data);
    qt_run("virtio-serial/console", test_console);
    qt_run("virtio-serial/backpressure", test_backpressure);
    qt_run("virtio-serial/hostile", test_hostile);
    qt_run("virtio-serial/no-multiport", test_no_multiport);
    qt_run("virtio-serial/cmdline-errors", test_cmdline_errors);
    return qt_finish();
}
