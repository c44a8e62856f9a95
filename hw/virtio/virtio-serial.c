/*
 * virtio-serial (virtio 1.2, 5.3 "Console Device") on PCI, with its ports:
 *
 *   -device virtio-serial-pci,id=vs0[,max_ports=N][,emergency-write=on|off]
 *   -device virtserialport,bus=vs0.0,chardev=CHR[,name=NAME][,nr=N]
 *   -device virtconsole,chardev=CHR[,name=NAME][,nr=N]
 *
 * ("virtio-serial" is an alias of virtio-serial-pci, as in QEMU.)  The
 * device offers MULTIPORT (when max_ports > 1, as QEMU) and EMERG_WRITE;
 * max_ports (default 31) ports, each a pair of queues, plus the two
 * control queues:
 *
 *   queue 0, 1         port 0 receiveq (device -> driver), transmitq
 *   queue 2, 3         control receiveq (device -> driver), transmitq
 *   queue 2n+2, 2n+3   port n (n >= 1) receiveq, transmitq
 *
 * Configuration space:
 *   0x00  le16 cols        0 (no size feature, as QEMU)
 *   0x02  le16 rows        0
 *   0x04  le32 max_nr_ports
 *   0x08  le32 emerg_wr    write: the low byte goes to the first connected
 *                          virtconsole's chardev; reads 0
 *
 * Control messages are { le32 id; le16 event; le16 value; } (+ the name
 * for PORT_NAME).  The conversation, as QEMU holds it:
 *   driver DEVICE_READY 1     -> PORT_ADD (id, 1) for every port
 *   driver PORT_READY id 1    -> CONSOLE_PORT (id, 1) for a virtconsole,
 *                                PORT_NAME (id, 1) + name + NUL if named,
 *                                PORT_OPEN (id, 1) if its chardev is open
 *   driver PORT_OPEN id v     -> the guest opened / closed the port
 *                                (QMP VSERPORT_CHANGE if the port has an id)
 *   chardev opened / closed   -> PORT_OPEN (id, 1 / 0)
 *   port plugged / unplugged  -> PORT_ADD / PORT_REMOVE after DEVICE_READY
 * RESIZE is never sent (chardevs report no terminal size).  A control
 * message shorter than 8 bytes, an unknown port id, an unknown event or a
 * failure report (value 0) is logged (-d guest_errors) and ignored.  A
 * control message the device cannot deliver because the driver gave no
 * control buffer is dropped, as QEMU does.
 *
 * Data: guest tx -> the chardev with non-blocking writes.  When the
 * chardev is full, a virtserialport keeps the chain in the ring (unpopped,
 * with the offset already written) and goes on when the chardev's fd is
 * writable again (socket; other chardevs: a retry every VSER_RETRY_MS); a
 * virtconsole drops the rest of the chain instead of stalling the guest's
 * console (QEMU's choice).  While the chardev is closed, tx chains are
 * completed unwritten (QEMU discards them too).  Chardev input goes into
 * the guest's rx buffers, one buffer per read; with no buffer (or the port
 * not opened by the guest) the chardev is not read until the driver adds
 * one.  Without MULTIPORT negotiated only port 0 exists for the driver and
 * counts as open from DRIVER_OK.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-serial.h"
#include "monitor/monitor.h"
#include "qemu/log.h"

#define VSER_PORT_QUEUE_SIZE    128
#define VSER_CTRL_QUEUE_SIZE    32
#define VSER_RETRY_MS           5
#define PCI_CLASS_COMMUNICATION_OTHER 0x0780

typedef struct VirtIOSerialPCI {
    VirtIOPCIProxy proxy;
    VirtIOSerial ser;
} VirtIOSerialPCI;

static unsigned vser_bus_counter;

static VirtQueue *port_ivq(VirtIOSerial *s, uint32_t id)
{
    return &s->vdev.vq[id == 0 ? 0 : 2 * id + 2];
}

static VirtQueue *port_ovq(VirtIOSerial *s, uint32_t id)
{
    return &s->vdev.vq[id == 0 ? 1 : 2 * id + 3];
}

static bool use_multiport(VirtIOSerial *s)
{
    return virtio_vdev_has_feature(&s->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

static VirtIOSerialPort *find_port(VirtIOSerial *s, uint32_t id)
{
    return id < s->max_ports && id < VIRTIO_SERIAL_MAX_PORTS ? s->ports[id] : NULL;
}

/* ---- control queue ---------------------------------------------------------- */

static void send_control(VirtIOSerial *s, uint32_t id, uint16_t event, uint16_t value,
                         const char *extra)
{
    uint8_t hdr[VIRTIO_CONSOLE_CTRL_SIZE];
    VirtQueueElement *elem;
    size_t n;

    if (!virtio_is_ready(&s->vdev) || !use_multiport(s)) {
        return;
    }
    elem = virtqueue_pop(s->c_ivq, sizeof(*elem));
    if (!elem) {
        s->dropped_ctrl++;
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-serial: no control buffer for event %u of "
                      "port %u: dropped\n", event, id);
        return;
    }
    hdr[0] = id;
    hdr[1] = id >> 8;
    hdr[2] = id >> 16;
    hdr[3] = id >> 24;
    hdr[4] = event;
    hdr[5] = event >> 8;
    hdr[6] = value;
    hdr[7] = value >> 8;
    n = iov_copy_from_buf(elem->in_sg, elem->in_num, 0, hdr, sizeof(hdr));
    if (extra && n == sizeof(hdr)) {
        /* The name with its NUL, truncated to the buffer as QEMU does. */
        n += iov_copy_from_buf(elem->in_sg, elem->in_num, n, extra, strlen(extra) + 1);
    }
    virtqueue_push(s->c_ivq, elem, n);
    g_free(elem);
    virtio_notify(&s->vdev, s->c_ivq);
}

static void port_rx_wakeup(VirtIOSerialPort *p)
{
    if (qemu_chr_fe_backend_connected(&p->chr)) {
        qemu_chr_fe_accept_input(&p->chr);
    }
}

/* The guest opened or closed the port (each report is an event, as QEMU). */
static void port_set_guest_connected(VirtIOSerialPort *p, bool connected)
{
    p->guest_connected = connected;
    if (p->parent.id) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "id", p->parent.id);
        json_object_set_boolean_member(o, "open", connected);
        qmp_event_emit("VSERPORT_CHANGE", o);
    }
    if (connected) {
        port_rx_wakeup(p);
    }
}

static void handle_control_message(VirtIOSerial *s, const uint8_t *msg)
{
    uint32_t id = msg[0] | msg[1] << 8 | msg[2] << 16 | (uint32_t)msg[3] << 24;
    uint16_t event = msg[4] | msg[5] << 8;
    uint16_t value = msg[6] | msg[7] << 8;
    VirtIOSerialPort *p = find_port(s, id);

    if (event == VIRTIO_CONSOLE_DEVICE_READY) {
        if (!value) {
            qemu_log_mask(LOG_GUEST_ERROR, "virtio-serial: the driver failed to initialise\n");
            return;
        }
        s->driver_ready = true;
        for (uint32_t i = 0; i < VIRTIO_SERIAL_MAX_PORTS; i++) {
            if (s->ports[i]) {
                send_control(s, i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
            }
        }
        return;
    }
    if (!p) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-serial: control event %u for port %u, "
                      "which does not exist\n", event, id);
        return;
    }
    switch (event) {
    case VIRTIO_CONSOLE_PORT_READY:
        if (!value) {
            qemu_log_mask(LOG_GUEST_ERROR, "virtio-serial: the driver failed to add port %u\n",
                          id);
            return;
        }
        if (p->is_console) {
            send_control(s, id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
        }
        if (p->name) {
            send_control(s, id, VIRTIO_CONSOLE_PORT_NAME, 1, p->name);
        }
        if (p->host_connected) {
            send_control(s, id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
        }
        break;
    case VIRTIO_CONSOLE_PORT_OPEN:
        port_set_guest_connected(p, value != 0);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-serial: unexpected control event %u for "
                      "port %u\n", event, id);
        break;
    }
}

static void control_out(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;
    VirtQueueElement *elem;
    bool pushed = false;

    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        uint8_t msg[VIRTIO_CONSOLE_CTRL_SIZE];
        size_t n = iov_copy_to_buf(elem->out_sg, elem->out_num, 0, msg, sizeof(msg));

        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
        if (n < sizeof(msg)) {
            qemu_log_mask(LOG_GUEST_ERROR, "virtio-serial: control message of %zu bytes "
                          "ignored\n", n);
            continue;
        }
        handle_control_message(s, msg);
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

static void control_in(VirtIODevice *vdev, VirtQueue *vq)
{
    (void)vdev;
    (void)vq;   /* buffers wait for the next event */
}

/* ---- data: guest -> chardev --------------------------------------------------- */

/* Writes what the chardev takes of elem's out buffers from p->tx_offset on.
 * Returns false when the chardev is full (tx_offset says how far it got). */
static bool port_write_elem(VirtIOSerialPort *p, VirtQueueElement *elem)
{
    size_t skip = p->tx_offset;

    for (unsigned i = 0; i < elem->out_num; i++) {
        const uint8_t *base = elem->out_sg[i].iov_base;
        size_t len = elem->out_sg[i].iov_len;

        if (skip >= len) {
            skip -= len;
            continue;
        }
        while (skip < len) {
            int want = MIN(len - skip, (size_t)INT_MAX);
            int n = qemu_chr_fe_write(&p->chr, base + skip, want);

            if (n < 0 && errno != EAGAIN) {
                n = want;       /* a broken backend: the output is lost */
            }
            if (n < 0) {
                n = 0;
            }
            skip += n;
            p->tx_offset += n;
            if (n < want) {
                return false;
            }
        }
        skip = 0;
    }
    return true;
}

static void port_flush_tx(VirtIOSerialPort *p);

static void port_stop_waiting(VirtIOSerialPort *p)
{
    if (p->write_watch) {
        g_source_remove(p->write_watch);
        p->write_watch = 0;
    }
    if (p->retry_timer) {
        timer_del(p->retry_timer);
    }
}

static gboolean port_writable(gpointer opaque)
{
    VirtIOSerialPort *p = opaque;

    p->write_watch = 0;
    p->throttled = false;
    port_flush_tx(p);
    return G_SOURCE_REMOVE;
}

static void port_wait_writable(VirtIOSerialPort *p)
{
    port_stop_waiting(p);
    p->write_watch = qemu_chr_fe_add_write_watch(&p->chr, port_writable, p);
    if (!p->write_watch) {
        timer_mod(p->retry_timer, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) +
                  VSER_RETRY_MS * 1000000LL);
    }
}

static void port_flush_tx(VirtIOSerialPort *p)
{
    VirtIOSerial *s = p->vser;
    VirtQueue *vq = port_ovq(s, p->id);
    VirtQueueElement *elem;
    bool pushed = false;

    if (!virtio_is_ready(&s->vdev) || p->throttled) {
        return;
    }
    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        if (p->host_connected && !port_write_elem(p, elem)) {
            if (!p->is_console) {
                /* Keep the chain in the ring; write the rest when the
                 * chardev can take it (or retry, if it cannot tell). */
                virtqueue_unpop(vq, elem);
                p->throttled = true;
                port_wait_writable(p);
                break;
            }
        }
        p->tx_offset = 0;
        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(&s->vdev, vq);
    }
}

static void port_retry(void *opaque)
{
    VirtIOSerialPort *p = opaque;

    p->throttled = false;
    port_flush_tx(p);
}

/* ---- data: chardev -> guest --------------------------------------------------- */

static bool port_guest_ready(VirtIOSerialPort *p)
{
    VirtIOSerial *s = p->vser;

    return s && virtio_is_ready(&s->vdev) && (p->guest_connected || !use_multiport(s)) &&
           (use_multiport(s) || p->id == 0);
}

static int port_can_read(void *opaque)
{
    VirtIOSerialPort *p = opaque;
    VirtQueue *vq;
    VirtQueueElement *elem;
    bool pushed = false;
    int room = 0;

    if (!port_guest_ready(p)) {
        return 0;
    }
    vq = port_ivq(p->vser, p->id);
    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        size_t sz = virtio_iov_size(elem->in_sg, elem->in_num);

        if (sz) {
            room = MIN(sz, (size_t)INT_MAX);
            virtqueue_unpop(vq, elem);
            break;
        }
        /* A buffer with nothing to write into: give it back empty. */
        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(&p->vser->vdev, vq);
    }
    return room;
}

static void port_read(void *opaque, const uint8_t *buf, int size)
{
    VirtIOSerialPort *p = opaque;
    VirtQueue *vq;
    VirtQueueElement *elem;
    bool pushed = false;

    if (!port_guest_ready(p)) {
        return;
    }
    vq = port_ivq(p->vser, p->id);
    while (size > 0 && (elem = virtqueue_pop(vq, sizeof(*elem)))) {
        size_t n = iov_copy_from_buf(elem->in_sg, elem->in_num, 0, buf, size);

        virtqueue_push(vq, elem, n);
        g_free(elem);
        pushed = true;
        buf += n;
        size -= n;
    }
    if (size > 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-serial: port %u: %d input bytes dropped\n",
                      p->id, size);
    }
    if (pushed) {
        virtio_notify(&p->vser->vdev, vq);
    }
}

static void port_set_host_connected(VirtIOSerialPort *p, bool connected)
{
    if (p->host_connected == connected) {
        return;
    }
    p->host_connected = connected;
    if (!p->vser) {
        return;
    }
    if (p->vser->driver_ready) {
        send_control(p->vser, p->id, VIRTIO_CONSOLE_PORT_OPEN, connected, NULL);
    }
    /* Whatever waited for the chardev now goes out (or is discarded). */
    port_stop_waiting(p);
    p->throttled = false;
    port_flush_tx(p);
}

static void port_event(void *opaque, QEMUChrEvent event)
{
    VirtIOSerialPort *p = opaque;

    if (event == CHR_EVENT_OPENED) {
        port_set_host_connected(p, true);
    } else if (event == CHR_EVENT_CLOSED) {
        port_set_host_connected(p, false);
    }
}

/* ---- queues ------------------------------------------------------------------- */

static VirtIOSerialPort *port_of_queue(VirtIOSerial *s, unsigned index)
{
    uint32_t id = index < 2 ? 0 : index / 2 - 1;

    return find_port(s, id);
}

static void port_queue_out(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;
    VirtIOSerialPort *p = port_of_queue(s, vq->index);
    VirtQueueElement *elem;
    bool pushed = false;

    if (p) {
        port_flush_tx(p);
        return;
    }
    /* No port there: complete the chains unwritten. */
    while ((elem = virtqueue_pop(vq, sizeof(*elem)))) {
        virtqueue_push(vq, elem, 0);
        g_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

static void port_queue_in(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSerialPort *p = port_of_queue((VirtIOSerial *)vdev, vq->index);

    if (p) {
        port_rx_wakeup(p);
    }
}

/* ---- device ------------------------------------------------------------------- */

static void vser_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;

    memset(config, 0, VIRTIO_CONSOLE_CFG_SIZE);
    config[VIRTIO_CONSOLE_CFG_MAX_NR_PORTS] = s->max_ports;
    config[VIRTIO_CONSOLE_CFG_MAX_NR_PORTS + 1] = s->max_ports >> 8;
}

static void vser_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;
    uint8_t ch = config[VIRTIO_CONSOLE_CFG_EMERG_WR];
    bool written = false;

    for (unsigned i = 0; i < 4; i++) {
        written |= config[VIRTIO_CONSOLE_CFG_EMERG_WR + i] != 0;
    }
    if (!s->emergency_write || !written) {
        return;
    }
    /* A byte of emergency output goes to the first console port whose
     * chardev is connected (QEMU's choice), whatever the guest's state. */
    for (uint32_t i = 0; i < VIRTIO_SERIAL_MAX_PORTS; i++) {
        VirtIOSerialPort *p = s->ports[i];

        if (p && p->is_console && p->host_connected) {
            qemu_chr_fe_write_all(&p->chr, &ch, 1);
            break;
        }
    }
}

static void vser_set_status(VirtIODevice *vdev, uint8_t status)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;

    if (!(status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        return;
    }
    if (s->ports[0] && !use_multiport(s)) {
        s->ports[0]->guest_connected = true;
    }
    for (uint32_t i = 0; i < VIRTIO_SERIAL_MAX_PORTS; i++) {
        if (s->ports[i]) {
            port_rx_wakeup(s->ports[i]);
        }
    }
}

static void vser_reset(VirtIODevice *vdev)
{
    VirtIOSerial *s = (VirtIOSerial *)vdev;

    s->driver_ready = false;
    for (uint32_t i = 0; i < VIRTIO_SERIAL_MAX_PORTS; i++) {
        VirtIOSerialPort *p = s->ports[i];

        if (p) {
            if (p->guest_connected) {
                port_set_guest_connected(p, false);     /* the driver is gone */
            }
            p->throttled = false;
            p->tx_offset = 0;
            port_stop_waiting(p);
        }
    }
}

static const VirtIODeviceOps vser_ops = {
    .get_config = vser_get_config,
    .set_config = vser_set_config,
    .set_status = vser_set_status,
    .reset = vser_reset,
};

static void vser_pci_realize(PCIDevice *d, Error **errp)
{
    VirtIOSerialPCI *dev = (VirtIOSerialPCI *)d;
    VirtIOSerial *s = &dev->ser;
    char *busname;

    if (!s->max_ports) {
        error_setg(errp, "Maximum number of serial ports not specified");
        return;
    }
    if (s->max_ports > VIRTIO_SERIAL_MAX_PORTS) {
        error_setg(errp, "maximum ports supported: %u", VIRTIO_SERIAL_MAX_PORTS);
        return;
    }
    if (dev->proxy.nvectors == UINT32_MAX) {
        dev->proxy.nvectors = 2;        /* QEMU's default for virtio-serial */
    }
    virtio_init(&s->vdev, "virtio-serial", VIRTIO_ID_CONSOLE, VIRTIO_CONSOLE_CFG_SIZE,
                &vser_ops);
    s->vdev.host_features = 0;
    if (s->max_ports > 1) {
        s->vdev.host_features |= 1ull << VIRTIO_CONSOLE_F_MULTIPORT;     /* as QEMU */
    }
    if (s->emergency_write) {
        s->vdev.host_features |= 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE;
    }
    for (uint32_t i = 0; i < s->max_ports; i++) {
        virtio_add_queue(&s->vdev, VSER_PORT_QUEUE_SIZE, port_queue_in);
        virtio_add_queue(&s->vdev, VSER_PORT_QUEUE_SIZE, port_queue_out);
        if (i == 0) {
            s->c_ivq = virtio_add_queue(&s->vdev, VSER_CTRL_QUEUE_SIZE, control_in);
            s->c_ovq = virtio_add_queue(&s->vdev, VSER_CTRL_QUEUE_SIZE, control_out);
        }
    }
    if (!virtio_pci_realize(&dev->proxy, &s->vdev, PCI_CLASS_COMMUNICATION_OTHER, errp)) {
        virtio_cleanup(&s->vdev);
        return;
    }
    /* QEMU's bus names: "<id>.0", or "virtio-serial-bus.N" without an id. */
    if (d->qdev.id) {
        busname = g_strdup_printf("%s.0", d->qdev.id);
    } else {
        busname = g_strdup_printf("%s.%u", VIRTIO_SERIAL_BUS_TYPE, vser_bus_counter++);
    }
    s->bus = qbus_new(VIRTIO_SERIAL_BUS_TYPE, &d->qdev, busname);
    g_free(busname);
}

static void vser_pci_exit(PCIDevice *d)
{
    VirtIOSerialPCI *dev = (VirtIOSerialPCI *)d;

    virtio_pci_exit(&dev->proxy);
    virtio_cleanup(&dev->ser.vdev);
}

static void vser_pci_reset(PCIDevice *d)
{
    virtio_pci_reset(&((VirtIOSerialPCI *)d)->proxy);
}

static const VMStateField vser_pci_fields[] = {
    VMSTATE_VIRTIO_PCI(proxy, VirtIOSerialPCI),
    VMSTATE_VIRTIO_DEVICE(ser.vdev, VirtIOSerialPCI),
    VMSTATE_BOOL(ser.driver_ready, VirtIOSerialPCI),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_vser_pci = {
    .name = "virtio-serial-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = vser_pci_fields,
};

static const Property vser_pci_props[] = {
    DEFINE_VIRTIO_PCI_PROPERTIES(),
    DEFINE_PROP_UINT32("max_ports", VirtIOSerialPCI, ser.max_ports, VIRTIO_SERIAL_MAX_PORTS),
    DEFINE_PROP_BOOL("emergency-write", VirtIOSerialPCI, ser.emergency_write, true),
    DEFINE_PROP_END_OF_LIST(),
};

#define VSER_PCI_CLASS(n)                                                                   \
    {                                                                                       \
        PCI_DEVICE_CLASS_INIT(n, "Virtio serial bus", VirtIOSerialPCI, vser_pci_props,     \
                              .category = DEVICE_CATEGORY_INPUT,    /* as QEMU */       \
                              .vmsd = &vmstate_vser_pci),                               \
        .vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET,                                         \
        .device_id = 0x1003,                                                                \
        .class_id = PCI_CLASS_COMMUNICATION_OTHER,                                          \
        .realize = vser_pci_realize,                                                        \
        .exit = vser_pci_exit,                                                              \
        .reset = vser_pci_reset,                                                            \
        .config_read = virtio_pci_config_read,                                              \
        .config_write = virtio_pci_config_write,                                            \
    }

static const PCIDeviceClass vser_pci_class = VSER_PCI_CLASS("virtio-serial-pci");
static const PCIDeviceClass vser_alias_class = VSER_PCI_CLASS("virtio-serial");

PCI_DEVICE_CLASS_REGISTER(vser_pci_class)
PCI_DEVICE_CLASS_REGISTER(vser_alias_class)

/* ---- ports -------------------------------------------------------------------- */

static const DeviceClass virtconsole_class;

static bool port_name_taken(const char *name)
{
    GPtrArray *all = qdev_all_devices();

    for (guint i = 0; i < all->len; i++) {
        DeviceState *d = g_ptr_array_index(all, i);

        if (d->realized && d->parent_bus && !strcmp(d->parent_bus->type, VIRTIO_SERIAL_BUS_TYPE)) {
            VirtIOSerialPort *o = (VirtIOSerialPort *)d;

            if (o->name && !strcmp(o->name, name)) {
                return true;
            }
        }
    }
    return false;
}

static void port_realize(DeviceState *dev, Error **errp)
{
    VirtIOSerialPort *p = (VirtIOSerialPort *)dev;
    VirtIOSerial *s = &((VirtIOSerialPCI *)dev->parent_bus->parent)->ser;

    p->is_console = dev->klass == &virtconsole_class;
    if (p->id == 0 && !p->is_console) {
        error_setg(errp, "Port number 0 on virtio-serial devices reserved for virtconsole "
                   "devices for backward compatibility.");
        return;
    }
    if (p->id != VIRTIO_SERIAL_BAD_ID && find_port(s, p->id)) {
        error_setg(errp, "virtio-serial-bus: A port already exists at id %u", p->id);
        return;
    }
    if (p->name && port_name_taken(p->name)) {
        error_setg(errp, "virtio-serial-bus: A port already exists by name %s", p->name);
        return;
    }
    if (p->id == VIRTIO_SERIAL_BAD_ID) {
        if (p->is_console && !s->ports[0]) {
            p->id = 0;
        } else {
            for (uint32_t i = 1; i < s->max_ports; i++) {
                if (!s->ports[i]) {
                    p->id = i;
                    break;
                }
            }
            if (p->id == VIRTIO_SERIAL_BAD_ID) {
                error_setg(errp, "virtio-serial-bus: Maximum port limit for this device "
                           "reached");
                return;
            }
        }
    }
    if (p->id >= s->max_ports) {
        error_setg(errp, "virtio-serial-bus: Out-of-range port id specified, max. allowed: %u",
                   s->max_ports - 1);
        return;
    }
    p->vser = s;
    s->ports[p->id] = p;
    p->retry_timer = timer_new_ns(QEMU_CLOCK_REALTIME, port_retry, p);
    if (qemu_chr_fe_backend_connected(&p->chr)) {
        qemu_chr_fe_set_handlers(&p->chr, port_can_read, port_read, port_event, p);
    }
    if (s->driver_ready) {
        send_control(s, p->id, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);   /* hot plug */
    }
}

static void port_unrealize(DeviceState *dev)
{
    VirtIOSerialPort *p = (VirtIOSerialPort *)dev;
    VirtIOSerial *s = p->vser;

    if (qemu_chr_fe_backend_connected(&p->chr)) {
        qemu_chr_fe_set_handlers(&p->chr, NULL, NULL, NULL, NULL);
    }
    port_stop_waiting(p);
    if (p->retry_timer) {
        timer_free(p->retry_timer);
        p->retry_timer = NULL;
    }
    if (s) {
        if (s->driver_ready) {
            send_control(s, p->id, VIRTIO_CONSOLE_DEVICE_REMOVE, 1, NULL);
        }
        s->ports[p->id] = NULL;
        p->vser = NULL;
    }
}

static int port_post_load(void *opaque, int version_id)
{
    VirtIOSerialPort *p = opaque;

    (void)version_id;
    if (p->throttled) {
        timer_mod(p->retry_timer, qemu_clock_get_ns(QEMU_CLOCK_REALTIME));
    }
    return 0;
}

static const VMStateField port_fields[] = {
    VMSTATE_UINT32(id, VirtIOSerialPort),
    VMSTATE_BOOL(guest_connected, VirtIOSerialPort),
    VMSTATE_BOOL(host_connected, VirtIOSerialPort),
    VMSTATE_BOOL(throttled, VirtIOSerialPort),
    VMSTATE_UINT32(tx_offset, VirtIOSerialPort),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_port = {
    .name = "virtio-serial-port",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = port_post_load,
    .fields = port_fields,
};

static const Property port_props[] = {
    DEFINE_PROP_CHR("chardev", VirtIOSerialPort, chr),
    DEFINE_PROP_STRING("name", VirtIOSerialPort, name),
    DEFINE_PROP_UINT32("nr", VirtIOSerialPort, id, VIRTIO_SERIAL_BAD_ID),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass virtserialport_class = {
    .name = "virtserialport",
    .desc = "virtio serial port",
    .bus_type = VIRTIO_SERIAL_BUS_TYPE,
    .category = DEVICE_CATEGORY_INPUT,
    .user_creatable = true,
    .instance_size = sizeof(VirtIOSerialPort),
    .props = port_props,
    .vmsd = &vmstate_port,
    .realize = port_realize,
    .unrealize = port_unrealize,
};

static const DeviceClass virtconsole_class = {
    .name = "virtconsole",
    .desc = "virtio console port",
    .bus_type = VIRTIO_SERIAL_BUS_TYPE,
    .category = DEVICE_CATEGORY_INPUT,
    .user_creatable = true,
    .instance_size = sizeof(VirtIOSerialPort),
    .props = port_props,
    .vmsd = &vmstate_port,
    .realize = port_realize,
    .unrealize = port_unrealize,
};

DEVICE_CLASS_REGISTER(virtserialport_class)
DEVICE_CLASS_REGISTER(virtconsole_class)
