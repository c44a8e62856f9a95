/*
 * virtio-serial (virtio 1.2, 5.3 "Console Device"): a virtio-serial-pci
 * device owns a bus ("<id>.0") of ports; each port is a virtserialport
 * or a virtconsole on a chardev.  See hw/virtio/virtio-serial.c.
 */
#ifndef KVMPC_HW_VIRTIO_SERIAL_H
#define KVMPC_HW_VIRTIO_SERIAL_H

#include "hw/qdev.h"
#include "hw/virtio/virtio.h"
#include "chardev/char.h"
#include "system/main-loop.h"

/* Feature bits (5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE           0
#define VIRTIO_CONSOLE_F_MULTIPORT      1
#define VIRTIO_CONSOLE_F_EMERG_WRITE    2

/* Control messages (5.3.6.2): struct { le32 id; le16 event; le16 value; }. */
#define VIRTIO_CONSOLE_DEVICE_READY     0
#define VIRTIO_CONSOLE_DEVICE_ADD       1
#define VIRTIO_CONSOLE_DEVICE_REMOVE    2
#define VIRTIO_CONSOLE_PORT_READY       3
#define VIRTIO_CONSOLE_CONSOLE_PORT     4
#define VIRTIO_CONSOLE_RESIZE           5
#define VIRTIO_CONSOLE_PORT_OPEN        6
#define VIRTIO_CONSOLE_PORT_NAME        7
#define VIRTIO_CONSOLE_CTRL_SIZE        8

/* Config space: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
#define VIRTIO_CONSOLE_CFG_COLS         0
#define VIRTIO_CONSOLE_CFG_ROWS         2
#define VIRTIO_CONSOLE_CFG_MAX_NR_PORTS 4
#define VIRTIO_CONSOLE_CFG_EMERG_WR     8
#define VIRTIO_CONSOLE_CFG_SIZE         12

/* Queues: port 0 rx/tx at 0/1, control rx/tx at 2/3, port n at 2n+2/2n+3;
 * kvmpc's VIRTIO_QUEUE_MAX (64) allows 31 ports, QEMU's default. */
#define VIRTIO_SERIAL_MAX_PORTS         31
#define VIRTIO_SERIAL_BAD_ID            UINT32_MAX
#define VIRTIO_SERIAL_BUS_TYPE          "virtio-serial-bus"

typedef struct VirtIOSerial VirtIOSerial;

typedef struct VirtIOSerialPort {
    DeviceState parent;
    VirtIOSerial *vser;
    bool is_console;            /* virtconsole */
    bool guest_connected;       /* the guest opened it (PORT_OPEN 1) */
    bool host_connected;        /* the chardev is open (peer connected) */
    bool throttled;             /* the chardev was full: tx waits */
    uint32_t tx_offset;         /* bytes of the head tx chain already written */
    QEMUTimer *retry_timer;     /* retries a throttled write */
    guint write_watch;          /* or waits for the chardev to drain */
    /* properties */
    CharBackend chr;
    char *name;
    uint32_t id;                /* nr=, VIRTIO_SERIAL_BAD_ID: the first free */
} VirtIOSerialPort;

struct VirtIOSerial {
    VirtIODevice vdev;
    BusState *bus;
    VirtQueue *c_ivq, *c_ovq;
    VirtIOSerialPort *ports[VIRTIO_SERIAL_MAX_PORTS];     /* by id */
    bool driver_ready;          /* DEVICE_READY 1 seen since reset */
    uint32_t dropped_ctrl;      /* control messages without a guest buffer */
    /* properties */
    uint32_t max_ports;
    bool emergency_write;
};

#endif
