/*
 * 16550A UART ("isa-serial").
 *
 * Register map (NS PC16550D datasheet, table II; offsets from iobase):
 *   0  RBR  receiver buffer (read, DLAB=0)      THR  transmitter holding (write, DLAB=0)
 *   0  DLL  divisor latch LSB (DLAB=1)
 *   1  IER  interrupt enable (DLAB=0)           DLM  divisor latch MSB (DLAB=1)
 *   2  IIR  interrupt identification (read)     FCR  FIFO control (write)
 *   3  LCR  line control
 *   4  MCR  modem control
 *   5  LSR  line status
 *   6  MSR  modem status
 *   7  SCR  scratch
 *
 * Transmission is instantaneous: a byte written to THR (or the TX FIFO) is
 * handed to the chardev at once, so THRE/TEMT are set again before the
 * write returns and the THRE interrupt becomes pending.  Reception fills a
 * 16-byte RX FIFO; the character-timeout interrupt uses a virtual-clock
 * timer armed for four character times after the last byte moved.
 */
#include <string.h>
#include <stdio.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "chardev/char.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"
#include "system/main-loop.h"

#define UART_RBR        0
#define UART_THR        0
#define UART_DLL        0
#define UART_IER        1
#define UART_DLM        1
#define UART_IIR        2
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define UART_MSR        6
#define UART_SCR        7

#define UART_IER_RDI    0x01    /* received data available */
#define UART_IER_THRI   0x02    /* transmitter holding register empty */
#define UART_IER_RLSI   0x04    /* receiver line status */
#define UART_IER_MSI    0x08    /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID     0x0e
#define UART_IIR_MSI    0x00
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_CTI    0x0c    /* character timeout */
#define UART_IIR_FE     0xc0    /* FIFOs enabled */

#define UART_FCR_FE     0x01    /* FIFO enable */
#define UART_FCR_RFR    0x02    /* RCVR FIFO reset */
#define UART_FCR_XFR    0x04    /* XMIT FIFO reset */
#define UART_FCR_DMS    0x08    /* DMA mode select */
#define UART_FCR_ITL    0xc0    /* RCVR trigger level */

#define UART_LCR_WLS    0x03    /* word length select */
#define UART_LCR_STB    0x04    /* number of stop bits */
#define UART_LCR_PEN    0x08    /* parity enable */
#define UART_LCR_SBC    0x40    /* set break */
#define UART_LCR_DLAB   0x80    /* divisor latch access */

#define UART_MCR_DTR    0x01
#define UART_MCR_RTS    0x02
#define UART_MCR_OUT1   0x04
#define UART_MCR_OUT2   0x08    /* on a PC, gates the IRQ line driver */
#define UART_MCR_LOOP   0x10

#define UART_LSR_DR     0x01    /* data ready */
#define UART_LSR_OE     0x02    /* overrun error */
#define UART_LSR_PE     0x04    /* parity error */
#define UART_LSR_FE     0x08    /* framing error */
#define UART_LSR_BI     0x10    /* break interrupt */
#define UART_LSR_THRE   0x20    /* THR (or TX FIFO) empty */
#define UART_LSR_TEMT   0x40    /* transmitter empty */
#define UART_LSR_ERR    0x80    /* error in RCVR FIFO */
#define UART_LSR_INT_ANY (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS   0x01
#define UART_MSR_DDSR   0x02
#define UART_MSR_TERI   0x04    /* trailing edge of ring indicator */
#define UART_MSR_DDCD   0x08
#define UART_MSR_CTS    0x10
#define UART_MSR_DSR    0x20
#define UART_MSR_RI     0x40
#define UART_MSR_DCD    0x80
#define UART_MSR_DELTA  0x0f

/* Without a backend that reports modem lines the peer is always there. */
#define SERIAL_MSR_LINES (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

#define UART_FIFO_LENGTH 16
#define SERIAL_BAUDBASE  115200
#define SERIAL_NB_PORTS  4

static const uint16_t serial_isa_iobase[SERIAL_NB_PORTS] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const uint8_t serial_isa_irq[SERIAL_NB_PORTS] = { 4, 3, 4, 3 };
static const uint8_t serial_rx_trigger[4] = { 1, 4, 8, 14 };

typedef struct SerialFIFO {
    uint8_t data[UART_FIFO_LENGTH];
    uint8_t head;               /* index of the oldest byte */
    uint8_t num;
} SerialFIFO;

typedef struct SerialState {
    DeviceState parent;

    /* properties */
    uint32_t index;
    uint32_t iobase;
    uint32_t irq_num;
    CharBackend chr;

    MemoryRegion io;
    qemu_irq irq;
    QEMUTimer *fifo_timeout_timer;

    /* registers */
    uint16_t divider;
    uint8_t rbr;                /* non-FIFO mode receive buffer */
    uint8_t thr;
    uint8_t tsr;
    uint8_t ier;
    uint8_t iir;                /* bits 7:6 FIFO state, 3:0 current interrupt */
    uint8_t fcr;
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr;
    uint8_t msr;
    uint8_t scr;
    bool thr_ipending;          /* THRE interrupt armed (cleared by IIR read/THR write) */
    bool timeout_ipending;      /* character timeout interrupt pending */
    bool irq_level;
    SerialFIFO recv_fifo;
    SerialFIFO xmit_fifo;
    int64_t char_transmit_time; /* ns per character frame */
} SerialState;

static void serial_update_irq(SerialState *s);

/* FIFO helpers. */

static void fifo_reset(SerialFIFO *f)
{
    f->head = 0;
    f->num = 0;
}

static bool fifo_push(SerialFIFO *f, uint8_t val)
{
    if (f->num >= UART_FIFO_LENGTH) {
        return false;
    }
    f->data[(f->head + f->num) % UART_FIFO_LENGTH] = val;
    f->num++;
    return true;
}

static uint8_t fifo_pop(SerialFIFO *f)
{
    uint8_t val;

    if (f->num == 0) {
        return 0;
    }
    val = f->data[f->head];
    f->head = (f->head + 1) % UART_FIFO_LENGTH;
    f->num--;
    return val;
}

static void serial_accept_input(SerialState *s)
{
    if (qemu_chr_fe_backend_connected(&s->chr)) {
        qemu_chr_fe_accept_input(&s->chr);
    }
}

static bool serial_fifo_enabled(SerialState *s)
{
    return s->fcr & UART_FCR_FE;
}

/* Frame timing: start bit + 5..8 data bits + parity + 1, 1.5 or 2 stop bits. */
static void serial_update_parameters(SerialState *s)
{
    int data_bits = (s->lcr & UART_LCR_WLS) + 5;
    int frame_half_bits = 2 * (1 + data_bits + !!(s->lcr & UART_LCR_PEN));
    int64_t bit_ns;

    if (s->lcr & UART_LCR_STB) {
        frame_half_bits += data_bits == 5 ? 3 : 4;
    } else {
        frame_half_bits += 2;
    }
    /* A zero divisor stops the baud generator; time as the slowest rate. */
    bit_ns = NANOSECONDS_PER_SECOND * (int64_t)(s->divider ? s->divider : 0x10000)
             / SERIAL_BAUDBASE;
    s->char_transmit_time = bit_ns * frame_half_bits / 2;
}

static void serial_arm_char_timeout(SerialState *s)
{
    timer_mod(s->fifo_timeout_timer,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + s->char_transmit_time * 4);
}

static void serial_fifo_timeout(void *opaque)
{
    SerialState *s = opaque;

    if (serial_fifo_enabled(s) && s->recv_fifo.num) {
        s->timeout_ipending = true;
        serial_update_irq(s);
    }
}

/*
 * Interrupt priority (datasheet table IV): receiver line status, then
 * received data available / character timeout, then THRE, then modem status.
 */
static uint8_t serial_pending_iir(SerialState *s)
{
    if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_INT_ANY)) {
        return UART_IIR_RLSI;
    }
    if ((s->ier & UART_IER_RDI) && s->timeout_ipending) {
        return UART_IIR_CTI;
    }
    if ((s->ier & UART_IER_RDI) && (s->lsr & UART_LSR_DR) &&
        (!serial_fifo_enabled(s) ||
         s->recv_fifo.num >= serial_rx_trigger[s->fcr >> 6])) {
        return UART_IIR_RDI;
    }
    if ((s->ier & UART_IER_THRI) && s->thr_ipending) {
        return UART_IIR_THRI;
    }
    if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTA)) {
        return UART_IIR_MSI;
    }
    return UART_IIR_NO_INT;
}

static void serial_update_irq(SerialState *s)
{
    uint8_t id = serial_pending_iir(s);
    bool level;

    s->iir = (s->iir & UART_IIR_FE) | id;
    /* The PC wires OUT2 to the enable of the IRQ line's tri-state driver. */
    level = id != UART_IIR_NO_INT && (s->mcr & UART_MCR_OUT2);
    if (level != s->irq_level) {
        s->irq_level = level;
        qemu_set_irq(s->irq, level);
    }
}

/* Receiving. */

static void serial_receive_byte(SerialState *s, uint8_t ch)
{
    if (serial_fifo_enabled(s)) {
        /* An overrun does not overwrite what the FIFO holds. */
        if (!fifo_push(&s->recv_fifo, ch)) {
            s->lsr |= UART_LSR_OE;
        }
        s->lsr |= UART_LSR_DR;
        serial_arm_char_timeout(s);
    } else {
        if (s->lsr & UART_LSR_DR) {
            s->lsr |= UART_LSR_OE;
        }
        s->rbr = ch;
        s->lsr |= UART_LSR_DR;
    }
}

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;
    unsigned trigger;

    if (s->mcr & UART_MCR_LOOP) {
        /* In loopback the receiver is disconnected from the serial input. */
        return 0;
    }
    if (serial_fifo_enabled(s)) {
        if (s->recv_fifo.num >= UART_FIFO_LENGTH) {
            return 0;
        }
        /* Fill up to the trigger level at once, then byte by byte so the
         * timeout interrupt sees the data trickle in. */
        trigger = serial_rx_trigger[s->fcr >> 6];
        return s->recv_fifo.num < trigger ? trigger - s->recv_fifo.num : 1;
    }
    return !(s->lsr & UART_LSR_DR);
}

static void serial_receive(void *opaque, const uint8_t *buf, int size)
{
    SerialState *s = opaque;
    int i;

    for (i = 0; i < size; i++) {
        serial_receive_byte(s, buf[i]);
    }
    serial_update_irq(s);
}

static void serial_receive_break(SerialState *s)
{
    /* A break is received as a NUL character with BI set. */
    serial_receive_byte(s, 0);
    s->lsr |= UART_LSR_BI;
    if (serial_fifo_enabled(s)) {
        s->lsr |= UART_LSR_ERR;
    }
    serial_update_irq(s);
}

static void serial_event(void *opaque, QEMUChrEvent event)
{
    SerialState *s = opaque;

    if (event == CHR_EVENT_BREAK) {
        serial_receive_break(s);
    }
}

/* Transmitting. */

static void serial_xmit_byte(SerialState *s, uint8_t ch)
{
    s->tsr = ch;
    if (s->mcr & UART_MCR_LOOP) {
        serial_receive_byte(s, ch);
    } else if (qemu_chr_fe_backend_connected(&s->chr)) {
        qemu_chr_fe_write_all(&s->chr, &ch, 1);
    }
}

static void serial_write_thr(SerialState *s, uint8_t val)
{
    s->thr = val;
    s->thr_ipending = false;
    s->lsr &= ~(UART_LSR_THRE | UART_LSR_TEMT);
    if (serial_fifo_enabled(s)) {
        /* A write to a full TX FIFO is lost, as on the chip. */
        fifo_push(&s->xmit_fifo, val);
        while (s->xmit_fifo.num) {
            serial_xmit_byte(s, fifo_pop(&s->xmit_fifo));
        }
    } else {
        serial_xmit_byte(s, val);
    }
    /* The shift register emptied at once: THR empty again. */
    s->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    s->thr_ipending = true;
    serial_update_irq(s);
}

static void serial_write_ier(SerialState *s, uint8_t val)
{
    uint8_t changed = (s->ier ^ val) & 0x0f;

    s->ier = val & 0x0f;
    if (changed & UART_IER_THRI) {
        /* Enabling THRI while THR is empty raises the interrupt even if it
         * had been acknowledged by an IIR read before. */
        s->thr_ipending = (s->ier & UART_IER_THRI) && (s->lsr & UART_LSR_THRE);
    }
    serial_update_irq(s);
}

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    /* Changing FIFO enable clears both FIFOs. */
    if ((val ^ s->fcr) & UART_FCR_FE) {
        val |= UART_FCR_RFR | UART_FCR_XFR;
    }
    if (!(val & UART_FCR_FE)) {
        /* With FE clear the other bits are not written (datasheet 8.5). */
        val &= UART_FCR_FE | UART_FCR_RFR | UART_FCR_XFR;
    }
    if (val & UART_FCR_RFR) {
        s->lsr &= ~(UART_LSR_DR | UART_LSR_BI | UART_LSR_ERR);
        timer_del(s->fifo_timeout_timer);
        s->timeout_ipending = false;
        fifo_reset(&s->recv_fifo);
    }
    if (val & UART_FCR_XFR) {
        s->lsr |= UART_LSR_THRE;
        s->thr_ipending = true;
        fifo_reset(&s->xmit_fifo);
    }
    s->fcr = val & (UART_FCR_FE | UART_FCR_DMS | UART_FCR_ITL);
    s->iir = (s->fcr & UART_FCR_FE) ? (s->iir | UART_IIR_FE) : (s->iir & ~UART_IIR_FE);
    serial_update_irq(s);
}

/* Modem status inputs: the peer's lines, or our MCR outputs in loopback. */
static uint8_t serial_msr_inputs(SerialState *s)
{
    uint8_t in;

    if (!(s->mcr & UART_MCR_LOOP)) {
        return SERIAL_MSR_LINES;
    }
    in = 0;
    in |= (s->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0;
    in |= (s->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0;
    in |= (s->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0;
    in |= (s->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0;
    return in;
}

static void serial_update_msr(SerialState *s)
{
    uint8_t old = s->msr & 0xf0;
    uint8_t now = serial_msr_inputs(s);
    uint8_t delta = s->msr & UART_MSR_DELTA;

    delta |= ((old ^ now) & UART_MSR_CTS) ? UART_MSR_DCTS : 0;
    delta |= ((old ^ now) & UART_MSR_DSR) ? UART_MSR_DDSR : 0;
    delta |= ((old ^ now) & UART_MSR_DCD) ? UART_MSR_DDCD : 0;
    /* TERI: RI input went from active to inactive. */
    delta |= ((old & UART_MSR_RI) && !(now & UART_MSR_RI)) ? UART_MSR_TERI : 0;
    s->msr = now | delta;
}

static void serial_write_mcr(SerialState *s, uint8_t val)
{
    bool was_loop = s->mcr & UART_MCR_LOOP;

    s->mcr = val & 0x1f;
    serial_update_msr(s);
    serial_update_irq(s);
    if (was_loop && !(s->mcr & UART_MCR_LOOP)) {
        serial_accept_input(s);
    }
}

static uint8_t serial_read_rbr(SerialState *s)
{
    uint8_t ret;

    if (serial_fifo_enabled(s)) {
        ret = fifo_pop(&s->recv_fifo);
        if (s->recv_fifo.num == 0) {
            s->lsr &= ~(UART_LSR_DR | UART_LSR_BI | UART_LSR_ERR);
            timer_del(s->fifo_timeout_timer);
        } else {
            serial_arm_char_timeout(s);
        }
        s->timeout_ipending = false;
    } else {
        ret = s->rbr;
        s->lsr &= ~(UART_LSR_DR | UART_LSR_BI);
    }
    serial_update_irq(s);
    if (!(s->mcr & UART_MCR_LOOP)) {
        serial_accept_input(s);
    }
    return ret;
}

static uint8_t serial_read_iir(SerialState *s)
{
    uint8_t ret = s->iir;

    /* Reading IIR while THRE is the reported source acknowledges it. */
    if ((ret & UART_IIR_ID) == UART_IIR_THRI && !(ret & UART_IIR_NO_INT)) {
        s->thr_ipending = false;
        serial_update_irq(s);
    }
    return ret;
}

static uint8_t serial_read_lsr(SerialState *s)
{
    uint8_t ret = s->lsr;

    if (s->lsr & UART_LSR_INT_ANY) {
        s->lsr &= ~UART_LSR_INT_ANY;
        if (!(s->lsr & UART_LSR_DR)) {
            s->lsr &= ~UART_LSR_ERR;
        }
        serial_update_irq(s);
    }
    return ret;
}

static uint8_t serial_read_msr(SerialState *s)
{
    uint8_t ret = s->msr;

    if (s->msr & UART_MSR_DELTA) {
        s->msr &= ~UART_MSR_DELTA;
        serial_update_irq(s);
    }
    return ret;
}

static uint64_t serial_io_read(void *opaque, uint64_t addr, unsigned size)
{
    SerialState *s = opaque;

    switch (addr & 7) {
    case UART_RBR:
        if (s->lcr & UART_LCR_DLAB) {
            return s->divider & 0xff;
        }
        return serial_read_rbr(s);
    case UART_IER:
        if (s->lcr & UART_LCR_DLAB) {
            return s->divider >> 8;
        }
        return s->ier;
    case UART_IIR:
        return serial_read_iir(s);
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        return serial_read_lsr(s);
    case UART_MSR:
        return serial_read_msr(s);
    case UART_SCR:
    default:
        return s->scr;
    }
}

static void serial_io_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    SerialState *s = opaque;
    uint8_t val = data;

    switch (addr & 7) {
    case UART_THR:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | val;
            serial_update_parameters(s);
        } else {
            serial_write_thr(s, val);
        }
        break;
    case UART_IER:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | (val << 8);
            serial_update_parameters(s);
        } else {
            serial_write_ier(s, val);
        }
        break;
    case UART_FCR:
        serial_write_fcr(s, val);
        break;
    case UART_LCR:
        s->lcr = val;
        serial_update_parameters(s);
        break;
    case UART_MCR:
        serial_write_mcr(s, val);
        break;
    case UART_LSR:
    case UART_MSR:
        /* Factory test registers on the chip: writes have no defined effect. */
        break;
    case UART_SCR:
        s->scr = val;
        break;
    }
}

static const MemoryRegionOps serial_io_ops = {
    .read = serial_io_read,
    .write = serial_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void serial_reset(DeviceState *dev)
{
    SerialState *s = (SerialState *)dev;

    s->divider = 0x0c;          /* 9600 baud */
    s->rbr = 0;
    s->thr = 0;
    s->tsr = 0;
    s->ier = 0;
    s->iir = UART_IIR_NO_INT;
    s->fcr = 0;
    s->lcr = 0;
    s->mcr = UART_MCR_OUT2;
    s->lsr = UART_LSR_TEMT | UART_LSR_THRE;
    s->msr = SERIAL_MSR_LINES;
    s->scr = 0;
    s->thr_ipending = false;
    s->timeout_ipending = false;
    fifo_reset(&s->recv_fifo);
    fifo_reset(&s->xmit_fifo);
    if (s->fifo_timeout_timer) {
        timer_del(s->fifo_timeout_timer);
    }
    serial_update_parameters(s);
    s->irq_level = false;
    qemu_irq_lower(s->irq);
    serial_accept_input(s);
}

/* The lowest COM index no other realized isa-serial uses. */
static uint32_t serial_free_index(SerialState *self)
{
    GPtrArray *all = qdev_all_devices();      /* owned by qdev */
    bool used[SERIAL_NB_PORTS] = { false };
    uint32_t i;

    for (i = 0; i < all->len; i++) {
        DeviceState *d = g_ptr_array_index(all, i);
        SerialState *o = (SerialState *)d;

        if (d != &self->parent && d->realized && d->klass == self->parent.klass &&
            o->index < SERIAL_NB_PORTS) {
            used[o->index] = true;
        }
    }
    for (i = 0; i < SERIAL_NB_PORTS; i++) {
        if (!used[i]) {
            return i;
        }
    }
    return SERIAL_NB_PORTS;
}

static void serial_realize(DeviceState *dev, Error **errp)
{
    SerialState *s = (SerialState *)dev;

    if (s->index == UINT32_MAX) {
        s->index = serial_free_index(s);
    }
    if (s->index >= SERIAL_NB_PORTS &&
        (s->iobase == UINT32_MAX || s->irq_num == UINT32_MAX)) {
        error_setg(errp, "Max. supported number of ISA serial ports is %d", SERIAL_NB_PORTS);
        return;
    }
    if (s->iobase == UINT32_MAX) {
        s->iobase = serial_isa_iobase[s->index];
    }
    if (s->irq_num == UINT32_MAX) {
        s->irq_num = serial_isa_irq[s->index];
    }
    if (s->iobase > 0xfff8) {
        error_setg(errp, "iobase 0x%x is out of the I/O space", s->iobase);
        return;
    }
    if (s->irq_num > 15) {
        error_setg(errp, "isa irq %u invalid", s->irq_num);
        return;
    }
    s->irq = isa_claim_irq(dev, s->irq_num, 0);
    s->fifo_timeout_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, serial_fifo_timeout, s);
    memory_region_init_io(&s->io, &serial_io_ops, s, "serial", 8);
    isa_register_ioport(dev, &s->io, s->iobase);
    if (qemu_chr_fe_backend_connected(&s->chr)) {
        qemu_chr_fe_set_handlers(&s->chr, serial_can_receive, serial_receive,
                                 serial_event, s);
    }
    serial_reset(dev);
}

static void serial_unrealize(DeviceState *dev)
{
    SerialState *s = (SerialState *)dev;

    if (qemu_chr_fe_backend_connected(&s->chr)) {
        qemu_chr_fe_set_handlers(&s->chr, NULL, NULL, NULL, NULL);
    }
    memory_region_destroy(&s->io);
    timer_free(s->fifo_timeout_timer);
    s->fifo_timeout_timer = NULL;
}

static int serial_post_load(void *opaque, int version_id)
{
    SerialState *s = opaque;

    s->recv_fifo.head %= UART_FIFO_LENGTH;
    s->xmit_fifo.head %= UART_FIFO_LENGTH;
    if (s->recv_fifo.num > UART_FIFO_LENGTH) {
        s->recv_fifo.num = UART_FIFO_LENGTH;
    }
    if (s->xmit_fifo.num > UART_FIFO_LENGTH) {
        s->xmit_fifo.num = UART_FIFO_LENGTH;
    }
    serial_update_parameters(s);
    s->irq_level = !s->irq_level;   /* force the line to be driven again */
    serial_update_irq(s);
    return 0;
}

static const VMStateField serial_fifo_fields[] = {
    VMSTATE_UINT8_ARRAY(data, SerialFIFO, UART_FIFO_LENGTH),
    VMSTATE_UINT8(head, SerialFIFO),
    VMSTATE_UINT8(num, SerialFIFO),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_serial_fifo = {
    .name = "serial/fifo",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = serial_fifo_fields,
};

static const VMStateField serial_fields[] = {
    VMSTATE_UINT16(divider, SerialState),
    VMSTATE_UINT8(rbr, SerialState),
    VMSTATE_UINT8(thr, SerialState),
    VMSTATE_UINT8(tsr, SerialState),
    VMSTATE_UINT8(ier, SerialState),
    VMSTATE_UINT8(iir, SerialState),
    VMSTATE_UINT8(fcr, SerialState),
    VMSTATE_UINT8(lcr, SerialState),
    VMSTATE_UINT8(mcr, SerialState),
    VMSTATE_UINT8(lsr, SerialState),
    VMSTATE_UINT8(msr, SerialState),
    VMSTATE_UINT8(scr, SerialState),
    VMSTATE_BOOL(thr_ipending, SerialState),
    VMSTATE_BOOL(timeout_ipending, SerialState),
    VMSTATE_BOOL(irq_level, SerialState),
    VMSTATE_STRUCT(recv_fifo, SerialState, vmstate_serial_fifo, SerialFIFO),
    VMSTATE_STRUCT(xmit_fifo, SerialState, vmstate_serial_fifo, SerialFIFO),
    VMSTATE_TIMER_PTR(fifo_timeout_timer, SerialState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_serial = {
    .name = "serial",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = serial_post_load,
    .fields = serial_fields,
};

/* Device (COMn) { _HID PNP0501, _UID n, _CRS: its 8 ports and IRQ }. */
static void serial_describe(DeviceState *dev, PlatformDesc *pd)
{
    SerialState *s = (SerialState *)dev;
    char name[5];

    snprintf(name, sizeof(name), s->index < 9 ? "COM%u" : "CO%02u", s->index + 1);
    aml_claims_device(pd->aml_sb, name, "PNP0501", s->index + 1, dev);
}

static const Property serial_props[] = {
    DEFINE_PROP_UINT32("index", SerialState, index, UINT32_MAX),
    DEFINE_PROP_UINT32("iobase", SerialState, iobase, UINT32_MAX),
    DEFINE_PROP_UINT32("irq", SerialState, irq_num, UINT32_MAX),
    DEFINE_PROP_CHR("chardev", SerialState, chr),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass serial_class = {
    .name = "isa-serial",
    .desc = "16550A UART",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_INPUT,
    .user_creatable = true,
    .instance_size = sizeof(SerialState),
    .props = serial_props,
    .vmsd = &vmstate_serial,
    .realize = serial_realize,
    .unrealize = serial_unrealize,
    .reset = serial_reset,
    .describe = serial_describe,
};

DEVICE_CLASS_REGISTER(serial_class)
