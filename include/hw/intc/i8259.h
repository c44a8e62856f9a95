/*
 * The PC's pair of Intel 8259A programmable interrupt controllers
 * ("isa-i8259", one device per chip): the master at 0x20/0x21 (ELCR 0x4d0)
 * takes ISA IRQs 0-7, the slave at 0xa0/0xa1 (ELCR 0x4d1) IRQs 8-15 and
 * drives the master's IR2.  Each chip has 8 GPIO inputs (IR0-7) and one
 * unnamed GPIO output (INT).
 */
#ifndef KVMPC_HW_INTC_I8259_H
#define KVMPC_HW_INTC_I8259_H

#include <glib.h>
#include "hw/qdev.h"
#include "hw/isa/isa.h"

#define I8259_TYPE          "isa-i8259"
#define I8259_NUM_IRQS      16          /* ISA IRQs served by the pair */

/*
 * Creates and realizes the master and the slave on the ISA bus, cascades
 * the slave's INT into the master's IR2 and connects the master's INT to
 * parent_irq.  pic_in[0..15] receive the 16 ISA IRQ inputs (pic_in[2] is
 * the master's IR2, which the slave drives).  The chips are placed at
 * /machine/<name>-master and /machine/<name>-slave when name is given.
 * Returns the master (the device pic_read_irq() takes), NULL on error.
 */
DeviceState *i8259_init(ISABus *bus, qemu_irq parent_irq, const char *name,
                        qemu_irq pic_in[I8259_NUM_IRQS], Error **errp);

/*
 * The INTA cycle on the master (x86-irq's PICReadIrqFn): the vector of the
 * highest-priority request, cascading to the slave for IR2; updates ISR,
 * IRR and both INT outputs.  With nothing pending: the spurious vector
 * (IRQ 7 of the master, or IRQ 15 through the slave), as the 8259A does.
 */
int pic_read_irq(void *master);

/* INT output level of one chip (1: an unmasked request beats the ISR). */
bool pic_get_output(DeviceState *pic);

/* `info pic`: one line per chip of the pair that master heads. */
void pic_print_info(DeviceState *master, GString *buf);

#endif
