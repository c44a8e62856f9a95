/* 8259A pair: remap to 0x20..0x2f. */
#include "lib.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_init(void)
{
    outb(PIC1_CMD, 0x11); io_delay();          /* ICW1: edge, cascade, ICW4 */
    outb(PIC2_CMD, 0x11); io_delay();
    outb(PIC1_DATA, PIC_VEC_BASE); io_delay(); /* ICW2 */
    outb(PIC2_DATA, PIC_VEC_BASE + 8); io_delay();
    outb(PIC1_DATA, 0x04); io_delay();         /* ICW3: slave on IRQ2 */
    outb(PIC2_DATA, 0x02); io_delay();
    outb(PIC1_DATA, 0x01); io_delay();         /* ICW4: 8086 mode */
    outb(PIC2_DATA, 0x01); io_delay();
    pic_mask_all();
}

void pic_mask_all(void)
{
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void pic_unmask(int irq)
{
    if (irq >= 8) {
        outb(PIC2_DATA, inb(PIC2_DATA) & ~(1 << (irq - 8)));
        outb(PIC1_DATA, inb(PIC1_DATA) & ~(1 << 2));   /* cascade */
    } else {
        outb(PIC1_DATA, inb(PIC1_DATA) & ~(1 << irq));
    }
}

void pic_mask(int irq)
{
    if (irq >= 8)
        outb(PIC2_DATA, inb(PIC2_DATA) | (1 << (irq - 8)));
    else
        outb(PIC1_DATA, inb(PIC1_DATA) | (1 << irq));
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

static uint16_t pic_read_ocw3(uint8_t ocw3)
{
    outb(PIC1_CMD, ocw3);
    outb(PIC2_CMD, ocw3);
    return (uint16_t)(inb(PIC2_CMD) << 8) | inb(PIC1_CMD);
}

uint16_t pic_get_irr(void) { return pic_read_ocw3(0x0a); }
uint16_t pic_get_isr(void) { return pic_read_ocw3(0x0b); }
