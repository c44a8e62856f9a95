/*
 * Scatter-gather lists of guest RAM for zero-copy DMA; see
 * include/hw/dma/dma-sg.h.
 */
#include <glib.h>
#include "hw/dma/dma-sg.h"

void dma_sg_init(DMASGList *sg, AddressSpace *as)
{
    *sg = (DMASGList){ .as = as };
}

static void dma_sg_push(DMASGList *sg, uint64_t addr, uint8_t *host, uint64_t len)
{
    if (sg->niov) {
        struct iovec *last = &sg->iov[sg->niov - 1];
        if (sg->addr[sg->niov - 1] + last->iov_len == addr &&
            (uint8_t *)last->iov_base + last->iov_len == host) {
            last->iov_len += len;
            return;
        }
    }
    if (sg->niov == sg->alloc) {
        sg->alloc = sg->alloc ? sg->alloc * 2 : 16;
        sg->iov = g_renew(struct iovec, sg->iov, sg->alloc);
        sg->addr = g_renew(uint64_t, sg->addr, sg->alloc);
    }
    sg->iov[sg->niov] = (struct iovec){ .iov_base = host, .iov_len = len };
    sg->addr[sg->niov] = addr;
    sg->niov++;
}

bool dma_sg_add(DMASGList *sg, uint64_t addr, uint64_t len)
{
    int old_niov = sg->niov;
    size_t old_len = old_niov ? sg->iov[old_niov - 1].iov_len : 0;
    uint64_t a = addr, left = len;

    if (len > UINT64_MAX - addr) {
        return false;                   /* wraps around the address space */
    }
    while (left) {
        MemoryTranslation t;
        uint64_t run;

        if (address_space_translate(sg->as, a, &t) != MEMORY_TRANSLATION_RAM) {
            /* Undo what this call added: the list stays as it was. */
            sg->niov = old_niov;
            if (old_niov) {
                sg->iov[old_niov - 1].iov_len = old_len;
            }
            return false;
        }
        run = MIN(left, t.start + t.size - a);
        dma_sg_push(sg, a, t.host, run);
        a += run;
        left -= run;
    }
    sg->size += len;
    return true;
}

void dma_sg_mark_dirty(DMASGList *sg)
{
    for (int i = 0; i < sg->niov; i++) {
        uint64_t a = sg->addr[i], left = sg->iov[i].iov_len;

        while (left) {
            MemoryTranslation t;
            uint64_t run;

            address_space_translate(sg->as, a, &t);
            run = MIN(left, t.start + t.size - a);
            if (!run) {
                break;                  /* a hole reaching the top */
            }
            if (t.kind == MEMORY_TRANSLATION_RAM) {
                memory_region_set_dirty(t.mr, t.offset, run);
            }
            a += run;
            left -= run;
        }
    }
}

void dma_sg_reset(DMASGList *sg)
{
    sg->niov = 0;
    sg->size = 0;
}

void dma_sg_destroy(DMASGList *sg)
{
    g_free(sg->iov);
    g_free(sg->addr);
    *sg = (DMASGList){ 0 };
}
