/*
 * The PIIX3 PCI-to-ISA bridge ("PIIX3", function 00:01.0 of machine pc):
 * the PCI interrupt router.  See hw/isa/piix3.c.
 */
#ifndef KVMPC_HW_ISA_PIIX3_H
#define KVMPC_HW_ISA_PIIX3_H

#include "hw/pci/pci.h"

#define PIIX3_TYPE              "PIIX3"
#define PIIX3_DEVFN             PCI_DEVFN(1, 0)
#define PIIX3_PIRQRC            0x60    /* PIRQRC[A-D]: 0x60-0x63 */
#define PIIX3_PIRQRC_DISABLE    0x80
#define PIIX3_NUM_PIRQS         4

/* GPIO outputs the machine connects: ISA IRQs 0-15 (the PIRQs routed to
 * the PIC) and the four PIRQ lines themselves (IOAPIC GSIs 16-19). */
#define PIIX3_ISA_IRQ_LINES     "isa-irq"
#define PIIX3_PIRQ_GSI_LINES    "pirq-gsi"

#endif
