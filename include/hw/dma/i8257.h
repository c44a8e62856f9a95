/*
 * The two Intel 8237A DMA controllers of the PC ("i8257", as QEMU calls
 * them): channels 0-3 move bytes, channels 4-7 16-bit words; channel 4
 * is the cascade of the first controller and never transfers.
 *
 * The ISA device side (QEMU's IsaDma interface, reduced): a device
 * registers a transfer handler for its channel, holds DREQ when it wants
 * data moved and releases it when done.  While DREQ is held and the
 * channel unmasked, the controller calls the handler (from a bottom half,
 * never inside the device's own call) with the bytes moved so far (pos)
 * and the bytes the channel was programmed for (len); the handler moves
 * what it can with i8257_dma_read_memory / i8257_dma_write_memory and
 * returns the new pos.  pos == len is terminal count.
 */
#ifndef KVMPC_HW_DMA_I8257_H
#define KVMPC_HW_DMA_I8257_H

#include <stdbool.h>
#include <stdint.h>

#define I8257_TYPE      "i8257"
#define ISA_DMA_CHANNELS 8

/* Mode register transfer type (bits 3:2). */
#define I8257_XFER_VERIFY       0
#define I8257_XFER_WRITE        1       /* device -> memory */
#define I8257_XFER_READ         2       /* memory -> device */

typedef int (*I8257TransferHandler)(void *opaque, int nchan, int pos, int len);

/* false if the channel does not exist (no controller, or channel 4). */
bool i8257_dma_register_channel(int nchan, I8257TransferHandler fn, void *opaque);
void i8257_dma_hold_DREQ(int nchan);
void i8257_dma_release_DREQ(int nchan);
/* Copies between buf and guest memory at the channel's address advanced by
 * pos bytes; memory outside RAM reads as zeros and is never written.
 * Returns len. */
int i8257_dma_read_memory(int nchan, void *buf, int pos, int len);
int i8257_dma_write_memory(int nchan, const void *buf, int pos, int len);
/* The channel's mode register transfer type (I8257_XFER_*). */
int i8257_dma_xfer_type(int nchan);

#endif
