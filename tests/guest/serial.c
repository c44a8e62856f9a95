/* serial: 16550A UART at COM1 (0x3f8) - registers, loopback, FIFO, THRE IRQ4. */
#include "lib.h"

TEST("serial");

#define COM1 0x3f8
#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define DLL 0
#define DLM 1

static volatile uint32_t thre_irqs, other_irqs;
static volatile uint8_t last_iir;
static volatile uint16_t isr_in_handler;

static void com1_irq(struct irq_frame *f)
{
    isr_in_handler = pic_get_isr();
    uint8_t iir = inb(COM1 + IIR);      /* reading IIR clears a THRE interrupt */
    last_iir = iir;
    if ((iir & 0x0f) == 0x02)
        thre_irqs++;
    else
        other_irqs++;
    pic_eoi(4);
}

static bool wait_lsr(uint8_t bits, uint64_t ms)
{
    uint64_t d = tsc_deadline_ms(ms);
    while ((inb(COM1 + LSR) & bits) != bits)
        if (tsc_expired(d)) return false;
    return true;
}

void test_main(void)
{
    /* scratch register */
    static const uint8_t pats[] = { 0x00, 0xff, 0x55, 0xaa, 0x5a, 0x01, 0x80 };
    for (unsigned i = 0; i < sizeof(pats); i++) {
        outb(COM1 + SCR, pats[i]);
        uint8_t v = inb(COM1 + SCR);
        CHECK(v == pats[i], "scratch register: wrote 0x%02x read 0x%02x", pats[i], v);
    }
    printf("scratch register ok\n");

    /* LCR read-back and divisor latch behind DLAB */
    CHECK(wait_lsr(0x60, 500), "LSR THRE|TEMT never set while idle (LSR=0x%02x)", inb(COM1 + LSR));
    outb(COM1 + IER, 0x00);
    outb(COM1 + LCR, 0x80 | 0x1b);      /* DLAB, 8 bits, even parity */
    CHECK(inb(COM1 + LCR) == 0x9b, "LCR read-back 0x%02x != 0x9b", inb(COM1 + LCR));
    outb(COM1 + DLL, 0x0c);             /* 9600 baud */
    outb(COM1 + DLM, 0x34);
    uint8_t dll = inb(COM1 + DLL), dlm = inb(COM1 + DLM);
    outb(COM1 + LCR, 0x1b);             /* DLAB off: offsets 0/1 are RBR/IER again */
    uint8_t ier = inb(COM1 + IER);
    outb(COM1 + LCR, 0x80 | 0x03);
    outb(COM1 + DLL, 0x01);             /* back to 115200 */
    outb(COM1 + DLM, 0x00);
    outb(COM1 + LCR, 0x03);
    CHECK(dll == 0x0c && dlm == 0x34, "divisor latch read-back DLL=0x%02x DLM=0x%02x (want 0x0c 0x34)", dll, dlm);
    CHECK(ier == 0x00, "IER reads 0x%02x with DLAB=0 after divisor write (divisor leaked into IER?)", ier);
    CHECK(inb(COM1 + LCR) == 0x03, "LCR read-back 0x%02x != 0x03", inb(COM1 + LCR));
    printf("LCR/DLAB divisor latch ok\n");

    /* IER: only low 4 bits writable */
    outb(COM1 + IER, 0xff);
    ier = inb(COM1 + IER);
    outb(COM1 + IER, 0x00);
    CHECK((ier & 0x0f) == 0x0f && (ier & 0xf0) == 0, "IER wrote 0xff read 0x%02x (want 0x0f)", ier);

    /* LSR: THRE and TEMT set once idle */
    CHECK(wait_lsr(0x60, 500), "LSR THRE|TEMT not set when idle (LSR=0x%02x)", inb(COM1 + LSR));
    printf("LSR idle = 0x%02x\n", inb(COM1 + LSR));

    /* FIFO enable reflected in IIR bits 7:6 */
    outb(COM1 + FCR, 0x00);
    uint8_t iir_off = inb(COM1 + IIR);
    outb(COM1 + FCR, 0x07);
    uint8_t iir_on = inb(COM1 + IIR);
    CHECK((iir_off & 0xc0) == 0x00, "IIR=0x%02x with FIFO disabled, bits 7:6 should be 00", iir_off);
    CHECK((iir_on & 0xc0) == 0xc0, "IIR=0x%02x with FIFO enabled, bits 7:6 should be 11", iir_on);
    CHECK((iir_on & 0x01) == 0x01, "IIR=0x%02x: interrupt pending with IER=0", iir_on);
    printf("FIFO: IIR off=0x%02x on=0x%02x ok\n", iir_off, iir_on);

    /* Loopback: MCR bit 4.  No printing while loopback is on. */
    CHECK(wait_lsr(0x60, 500), "UART not idle before loopback");
    outb(COM1 + MCR, 0x10 | 0x0f);
    uint8_t mcr = inb(COM1 + MCR);
    uint8_t msr_all = inb(COM1 + MSR) & 0xf0;
    outb(COM1 + MCR, 0x10);
    uint8_t msr_none = inb(COM1 + MSR) & 0xf0;
    outb(COM1 + MCR, 0x10 | 0x01);      /* DTR -> DSR (bit 5) */
    uint8_t msr_dtr = inb(COM1 + MSR) & 0xf0;
    outb(COM1 + MCR, 0x10 | 0x02);      /* RTS -> CTS (bit 4) */
    uint8_t msr_rts = inb(COM1 + MSR) & 0xf0;
    while (inb(COM1 + LSR) & 0x01)      /* drain receiver */
        inb(COM1 + RBR);
    static const uint8_t msg[] = { 0xa5, 0x5a, 0x00, 0xff, 'k', 'v', 'm' };
    uint8_t got[sizeof(msg)];
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(msg); i++)
        outb(COM1 + THR, msg[i]);
    uint64_t d = tsc_deadline_ms(500);
    while (n < sizeof(msg) && !tsc_expired(d))
        if (inb(COM1 + LSR) & 0x01)
            got[n++] = inb(COM1 + RBR);
    uint8_t lsr_after = inb(COM1 + LSR);
    outb(COM1 + MCR, 0x03);             /* loopback off, DTR|RTS */
    CHECK(mcr == 0x1f, "MCR read-back 0x%02x != 0x1f", mcr);
    CHECK(msr_all == 0xf0, "loopback MCR=0x1f: MSR[7:4]=0x%x, want 0xf", msr_all >> 4);
    CHECK(msr_none == 0x00, "loopback MCR=0x10: MSR[7:4]=0x%x, want 0", msr_none >> 4);
    CHECK(msr_dtr == 0x20, "loopback DTR: MSR[7:4]=0x%x, want DSR only (0x2)", msr_dtr >> 4);
    CHECK(msr_rts == 0x10, "loopback RTS: MSR[7:4]=0x%x, want CTS only (0x1)", msr_rts >> 4);
    CHECK(n == sizeof(msg), "loopback: received %u of %u bytes", n, (unsigned)sizeof(msg));
    for (unsigned i = 0; i < sizeof(msg); i++)
        CHECK(got[i] == msg[i], "loopback byte %u: sent 0x%02x got 0x%02x", i, msg[i], got[i]);
    CHECK(!(lsr_after & 0x01), "LSR.DR still set after draining (LSR=0x%02x)", lsr_after);
    printf("loopback MCR/MSR + %u-byte FIFO round trip ok\n", n);

    /* THR-empty interrupt via the 8259: IER bit 1 -> IRQ4 -> vector 0x24 */
    pic_init();
    irq_set_handler(PIC_VEC_BASE + 4, com1_irq);
    CHECK(wait_lsr(0x60, 500), "UART not idle before IRQ test");
    outb(COM1 + MCR, 0x0b);             /* DTR | RTS | OUT2 (IRQ enable on PCs) */
    pic_unmask(4);
    outb(COM1 + IER, 0x02);             /* THRE interrupt; THR already empty */
    uint8_t iir_pending = inb(COM1 + IIR);
    /* reading IIR cleared the THRE condition; re-arm it by rewriting IER */
    outb(COM1 + IER, 0x00);
    outb(COM1 + IER, 0x02);
    udelay(100);
    uint16_t irr = pic_get_irr();
    sti();
    d = tsc_deadline_ms(500);
    while (thre_irqs < 1 && !tsc_expired(d)) pause();
    uint32_t first = thre_irqs;
    /* transmit one byte: when THR drains, another THRE interrupt */
    outb(COM1 + THR, '.');
    d = tsc_deadline_ms(500);
    while (thre_irqs < first + 1 && !tsc_expired(d)) pause();
    uint32_t second = thre_irqs;
    cli();
    outb(COM1 + IER, 0x00);
    pic_mask(4);
    outb(COM1 + MCR, 0x03);
    printf("\n");
    CHECK((iir_pending & 0x0f) == 0x02, "IIR=0x%02x after IER=0x02 with THR empty, want THRE pending (0x?2)", iir_pending);
    CHECK(irr & (1 << 4), "PIC IRR bit 4 not set with THRE interrupt pending (IRR=0x%04x)", irr);
    CHECK(first >= 1, "no THRE interrupt on IRQ4 within 500 ms (IIR=0x%02x)", inb(COM1 + IIR));
    CHECK(second >= first + 1, "no THRE interrupt after transmitting a byte");
    CHECK(other_irqs == 0, "%u IRQ4 interrupts with unexpected IIR (last 0x%02x)", other_irqs, last_iir);
    CHECK(isr_in_handler & (1 << 4), "PIC ISR bit 4 not set inside the IRQ4 handler (ISR=0x%04x)", isr_in_handler);
    printf("THRE interrupts: %u (IRQ4, vector 0x24), IIR in handler 0x%02x\n", second, last_iir);
    pass();
}
