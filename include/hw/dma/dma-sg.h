/*
 * Scatter-gather DMA straight into guest RAM (docs/block.md, "Zero-copy
 * DMA").
 *
 * A device that walks a guest's descriptor list (IDE PRD table, ...)
 * adds each buffer with dma_sg_add(); the list becomes host iovecs that
 * the block layer reads into or writes from directly, without a bounce
 * buffer.  Only RAM is ever mapped: a buffer that touches MMIO, ROM or a
 * hole is refused whole (nothing of it is added), and the device then
 * takes its checked copy path, which reports the error as before.  After
 * a transfer that wrote guest memory, dma_sg_mark_dirty() tells the dirty
 * log and the software CPU's decoded-code cache, as a write through the
 * memory API would have.
 *
 * Used with the big lock held; the iovecs may be used by a worker thread
 * while the request runs (guest RAM is never freed under a request).
 */
#ifndef KVMPC_HW_DMA_SG_H
#define KVMPC_HW_DMA_SG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "hw/memory.h"

typedef struct DMASGList {
    AddressSpace *as;
    struct iovec *iov;          /* host view, one entry per RAM piece */
    uint64_t *addr;             /* guest address of each entry */
    int niov, alloc;
    uint64_t size;              /* bytes in the list */
} DMASGList;

void dma_sg_init(DMASGList *sg, AddressSpace *as);
/* Appends [addr, addr+len): false, adding nothing, unless all of it is
 * guest RAM.  Pieces that follow each other in guest and host memory
 * share an iovec. */
bool dma_sg_add(DMASGList *sg, uint64_t addr, uint64_t len);
/* Marks every page of the list dirty (after the device wrote them). */
void dma_sg_mark_dirty(DMASGList *sg);
/* Empties the list (keeps the allocation). */
void dma_sg_reset(DMASGList *sg);
void dma_sg_destroy(DMASGList *sg);

#endif
