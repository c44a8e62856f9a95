/*
 * "edu" (1234:11e8): the educational PCI device of QEMU's docs/specs/edu.rst,
 * written anew for kvmpc.  It computes factorials on a worker thread, does
 * DMA between guest RAM and a 4 KiB buffer, and raises interrupts by INTx,
 * MSI or (a kvmpc extension, msix=on) MSI-X.
 *
 * BAR0, 1 MiB of memory space; registers 0x00-0x7f take 4-byte accesses,
 * 0x80 and up 4 or 8 bytes (others: read all ones, writes ignored):
 *   0x00 RO  identification 0x010000ed (version 1.0, "ed")
 *   0x04 RW  card liveness: reads back the inverse of what was written
 *   0x08 RW  factorial: a write starts computing n! (mod 2^32) on the
 *            worker thread (ignored while busy); reads the result
 *   0x20 RW  status: bit 0 computing (RO), bit 7 raise interrupt 0x001
 *            when the factorial is done
 *   0x24 RO  interrupt status: the OR of the values that raised interrupts
 *   0x60 WO  interrupt raise: ORs the value into the interrupt status and
 *            raises the interrupt
 *   0x64 WO  interrupt acknowledge: clears those bits; INTx drops at 0
 *   0x80 RW  DMA source address      0x88 RW  DMA destination address
 *   0x90 RW  DMA transfer count      0x98 RW  DMA command: bit 0 start
 *            (clears when done), bit 1 direction (0: RAM to the buffer, 1:
 *            buffer to RAM), bit 2 raise interrupt 0x100 when done
 * The buffer is at device address 0x40000-0x40fff.  A transfer runs 100 ms
 * (virtual clock) after it is started, as QEMU's does.  RAM addresses are
 * masked with the dma_mask property (28 bits by default, as QEMU).  kvmpc
 * refuses (logs, moves nothing, raises no interrupt, clears the start bit)
 * a transfer outside the buffer or outside guest RAM, or with bus
 * mastering off, where QEMU aborts or writes wherever the address falls.
 *
 * Interrupts: MSI-X if enabled, else MSI if enabled, else INTx (INTA#).
 * MSI capability: 64-bit, msi-vectors vectors (default 1, as QEMU),
 * per-vector masking with msi-masking=on.  With msix=on, BAR1 holds an
 * MSI-X table of msix-vectors (default 4) entries and its PBA.  With more
 * than one vector: the factorial uses vector 0, DMA vector 1, the raise
 * register vector 2 (vector 0 where that vector is not enabled).  A
 * finished factorial is signalled from the worker thread through the
 * vector's irqfd (msi_get_irqfd/msix_get_irqfd): injected by the kernel
 * under KVM, by the main loop otherwise.
 */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/vmstate.h"
#include "qemu/log.h"
#include "system/main-loop.h"

#define EDU_MMIO_SIZE           (1u << 20)
#define EDU_REG_ID              0x00
#define  EDU_ID_VALUE           0x010000edu
#define EDU_REG_LIVENESS        0x04
#define EDU_REG_FACTORIAL       0x08
#define EDU_REG_STATUS          0x20
#define  EDU_STATUS_COMPUTING   0x01
#define  EDU_STATUS_IRQFACT     0x80
#define EDU_REG_IRQ_STATUS      0x24
#define EDU_REG_IRQ_RAISE       0x60
#define EDU_REG_IRQ_ACK         0x64
#define EDU_REG_DMA_SRC         0x80
#define EDU_REG_DMA_DST         0x88
#define EDU_REG_DMA_COUNT       0x90
#define EDU_REG_DMA_CMD         0x98
#define  EDU_DMA_RUN            0x1
#define  EDU_DMA_TO_RAM         0x2
#define  EDU_DMA_IRQ            0x4
#define EDU_IRQ_FACT            0x001
#define EDU_IRQ_DMA             0x100
#define EDU_DMA_START           0x40000
#define EDU_DMA_SIZE            4096
#define EDU_DMA_DELAY_NS        (100 * 1000 * 1000)

enum { EDU_VEC_FACT, EDU_VEC_DMA, EDU_VEC_RAISE };

typedef struct EduState {
    PCIDevice parent;
    MemoryRegion mmio;
    /* registers; fact, status and irq_status are shared with the worker */
    uint32_t liveness;
    uint32_t fact;
    uint32_t status;
    uint32_t irq_status;
    uint64_t dma_src, dma_dst, dma_count, dma_cmd;
    uint8_t dma_buf[EDU_DMA_SIZE];
    QEMUTimer *dma_timer;
    /* the factorial worker */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool thread_started, stopping;
    EventNotifier intx_kick;        /* worker -> main loop, for INTx */
    EventNotifier *msi_fd[PCI_MSI_MAX_VECTORS];
    EventNotifier **msix_fd;
    /* properties */
    uint32_t msi_vectors;
    bool msi_masking;
    bool msix;
    uint32_t msix_vectors;
    uint64_t dma_mask;
} EduState;

/* ---- interrupts ------------------------------------------------------------ */

/* The vector for an interrupt kind, among those the guest enabled. */
static unsigned edu_vector(EduState *s, unsigned kind)
{
    PCIDevice *d = &s->parent;

    if (msix_enabled(d)) {
        return kind < s->msix_vectors ? kind : 0;
    }
    return kind < msi_nr_vectors_allocated(d) ? kind : 0;
}

/* BQL held. */
static void edu_update_irq(EduState *s, bool edge, unsigned kind)
{
    PCIDevice *d = &s->parent;
    uint32_t st;

    pthread_mutex_lock(&s->lock);
    st = s->irq_status;
    pthread_mutex_unlock(&s->lock);
    pci_set_irq(d, st != 0);         /* the core keeps INTx off under MSI */
    if (!edge) {
        return;
    }
    if (msix_enabled(d)) {
        msix_notify(d, edu_vector(s, kind));
    } else if (msi_enabled(d)) {
        msi_notify(d, edu_vector(s, kind));
    }
}

static void edu_raise(EduState *s, uint32_t val, unsigned kind)
{
    pthread_mutex_lock(&s->lock);
    s->irq_status |= val;
    pthread_mutex_unlock(&s->lock);
    edu_update_irq(s, true, kind);
}

static void edu_intx_kick(EventNotifier *e)
{
    EduState *s = (EduState *)((char *)e - offsetof(EduState, intx_kick));

    if (event_notifier_test_and_clear(e)) {
        edu_update_irq(s, false, EDU_VEC_FACT);
    }
}

/* ---- factorial worker ------------------------------------------------------ */

static uint32_t edu_factorial(uint32_t n)
{
    uint32_t r = 1;

    /* From 34! on there are 32 factors of two: 0 mod 2^32. */
    if (n >= 34) {
        return 0;
    }
    for (uint32_t i = 2; i <= n; i++) {
        r *= i;
    }
    return r;
}

static void *edu_worker(void *opaque)
{
    EduState *s = opaque;
    PCIDevice *d = &s->parent;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        bool irq;

        while (!(s->status & EDU_STATUS_COMPUTING) && !s->stopping) {
            pthread_cond_wait(&s->cond, &s->lock);
        }
        if (s->stopping) {
            break;
        }
        s->fact = edu_factorial(s->fact);
        s->status &= ~EDU_STATUS_COMPUTING;
        irq = s->status & EDU_STATUS_IRQFACT;
        if (irq) {
            s->irq_status |= EDU_IRQ_FACT;
        }
        pthread_mutex_unlock(&s->lock);
        if (irq) {
            /* Without the BQL: through the vector's irqfd, or the main loop. */
            if (msix_enabled(d)) {
                event_notifier_set(s->msix_fd[edu_vector(s, EDU_VEC_FACT)]);
            } else if (msi_enabled(d)) {
                event_notifier_set(s->msi_fd[edu_vector(s, EDU_VEC_FACT)]);
            } else {
                event_notifier_set(&s->intx_kick);
            }
        }
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- DMA ------------------------------------------------------------------ */

static bool edu_dma_refuse(EduState *s, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "edu: DMA of %" PRIu64 " bytes from 0x%" PRIx64 " to 0x%"
                  PRIx64 " refused: %s\n", s->dma_count, s->dma_src, s->dma_dst, why);
    return false;
}

static bool edu_dma_run(EduState *s)
{
    bool to_ram = s->dma_cmd & EDU_DMA_TO_RAM;
    uint64_t dev = to_ram ? s->dma_src : s->dma_dst;
    uint64_t ram = (to_ram ? s->dma_dst : s->dma_src) & s->dma_mask;
    uint64_t n = s->dma_count;

    if (!(pci_get_word(s->parent.config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return edu_dma_refuse(s, "bus mastering is off");
    }
    if (n > EDU_DMA_SIZE || dev < EDU_DMA_START || dev - EDU_DMA_START > EDU_DMA_SIZE - n) {
        return edu_dma_refuse(s, "outside the device's buffer 0x40000-0x40fff");
    }
    if (n && !address_space_get_ram_ptr(&address_space_memory, ram, n, to_ram)) {
        return edu_dma_refuse(s, "outside guest RAM");
    }
    if (to_ram) {
        address_space_write(&address_space_memory, ram, s->dma_buf + (dev - EDU_DMA_START), n);
    } else {
        address_space_read(&address_space_memory, ram, s->dma_buf + (dev - EDU_DMA_START), n);
    }
    return true;
}

static void edu_dma_timer(void *opaque)
{
    EduState *s = opaque;
    bool ok;

    if (!(s->dma_cmd & EDU_DMA_RUN)) {
        return;
    }
    ok = edu_dma_run(s);
    s->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
    if (ok && (s->dma_cmd & EDU_DMA_IRQ)) {
        edu_raise(s, EDU_IRQ_DMA, EDU_VEC_DMA);
    }
}

/* ---- registers -------------------------------------------------------------- */

static uint64_t edu_read(void *opaque, uint64_t addr, unsigned size)
{
    EduState *s = opaque;
    uint64_t val = ~0ULL;

    if ((addr < 0x80 && size != 4) || (addr >= 0x80 && size != 4 && size != 8)) {
        return val;
    }
    pthread_mutex_lock(&s->lock);
    switch (addr) {
    case EDU_REG_ID:        val = EDU_ID_VALUE; break;
    case EDU_REG_LIVENESS:  val = s->liveness; break;
    case EDU_REG_FACTORIAL: val = s->fact; break;
    case EDU_REG_STATUS:    val = s->status; break;
    case EDU_REG_IRQ_STATUS: val = s->irq_status; break;
    case EDU_REG_DMA_SRC:   val = s->dma_src; break;
    case EDU_REG_DMA_DST:   val = s->dma_dst; break;
    case EDU_REG_DMA_COUNT: val = s->dma_count; break;
    case EDU_REG_DMA_CMD:   val = s->dma_cmd; break;
    }
    pthread_mutex_unlock(&s->lock);
    return size == 4 ? (uint32_t)val : val;
}

static void edu_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    EduState *s = opaque;

    if ((addr < 0x80 && size != 4) || (addr >= 0x80 && size != 4 && size != 8)) {
        return;
    }
    switch (addr) {
    case EDU_REG_LIVENESS:
        s->liveness = ~(uint32_t)val;
        break;
    case EDU_REG_FACTORIAL:
        pthread_mutex_lock(&s->lock);
        if (!(s->status & EDU_STATUS_COMPUTING)) {
            s->fact = (uint32_t)val;
            s->status |= EDU_STATUS_COMPUTING;
            pthread_cond_signal(&s->cond);
        }
        pthread_mutex_unlock(&s->lock);
        break;
    case EDU_REG_STATUS:
        pthread_mutex_lock(&s->lock);
        s->status = (s->status & ~EDU_STATUS_IRQFACT) | ((uint32_t)val & EDU_STATUS_IRQFACT);
        pthread_mutex_unlock(&s->lock);
        break;
    case EDU_REG_IRQ_RAISE:
        edu_raise(s, (uint32_t)val, EDU_VEC_RAISE);
        break;
    case EDU_REG_IRQ_ACK:
        pthread_mutex_lock(&s->lock);
        s->irq_status &= ~(uint32_t)val;
        pthread_mutex_unlock(&s->lock);
        edu_update_irq(s, false, 0);
        break;
    case EDU_REG_DMA_SRC:
        if (!(s->dma_cmd & EDU_DMA_RUN)) {
            s->dma_src = val;
        }
        break;
    case EDU_REG_DMA_DST:
        if (!(s->dma_cmd & EDU_DMA_RUN)) {
            s->dma_dst = val;
        }
        break;
    case EDU_REG_DMA_COUNT:
        if (!(s->dma_cmd & EDU_DMA_RUN)) {
            s->dma_count = val;
        }
        break;
    case EDU_REG_DMA_CMD:
        if (!(s->dma_cmd & EDU_DMA_RUN)) {
            s->dma_cmd = val & (EDU_DMA_RUN | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
            if (s->dma_cmd & EDU_DMA_RUN) {
                timer_mod(s->dma_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + EDU_DMA_DELAY_NS);
            }
        }
        break;
    }
}

static const MemoryRegionOps edu_mmio_ops = {
    .read = edu_read,
    .write = edu_write,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ---- life cycle ----------------------------------------------------------- */

static void edu_free_irqfds(EduState *s)
{
    PCIDevice *d = &s->parent;

    for (unsigned v = 0; v < PCI_MSI_MAX_VECTORS; v++) {
        if (s->msi_fd[v]) {
            msi_put_irqfd(d, v);
            s->msi_fd[v] = NULL;
        }
    }
    for (unsigned v = 0; s->msix_fd && v < s->msix_vectors; v++) {
        if (s->msix_fd[v]) {
            msix_put_irqfd(d, v);
        }
    }
    g_free(s->msix_fd);
    s->msix_fd = NULL;
}

static void edu_exit(PCIDevice *d)
{
    EduState *s = (EduState *)d;

    if (s->thread_started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        s->thread_started = false;
    }
    edu_free_irqfds(s);
    msix_uninit(d);
    msi_uninit(d);
    if (s->dma_timer) {
        timer_free(s->dma_timer);
        s->dma_timer = NULL;
    }
    event_notifier_cleanup(&s->intx_kick);
    memory_region_destroy(&s->mmio);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

static bool edu_init_irqs(EduState *s, Error **errp)
{
    PCIDevice *d = &s->parent;

    d->config[PCI_INTERRUPT_PIN] = 1;           /* INTA# */
    if (s->msi_vectors < 1 || s->msi_vectors > 32 || (s->msi_vectors & (s->msi_vectors - 1))) {
        error_setg(errp, "edu: Property 'msi-vectors': %u is not 1, 2, 4, 8, 16 or 32",
                   s->msi_vectors);
        return false;
    }
    if (!msi_init(d, 0, s->msi_vectors, true, s->msi_masking, errp)) {
        return false;
    }
    for (unsigned v = 0; v < s->msi_vectors; v++) {
        s->msi_fd[v] = msi_get_irqfd(d, v, errp);
        if (!s->msi_fd[v]) {
            return false;
        }
    }
    if (!s->msix) {
        return true;
    }
    if (s->msix_vectors < 1 || s->msix_vectors > 256) {
        error_setg(errp, "edu: Property 'msix-vectors': %u is not 1-256", s->msix_vectors);
        return false;
    }
    if (!msix_init_exclusive_bar(d, s->msix_vectors, 1, errp)) {
        return false;
    }
    s->msix_fd = g_new0(EventNotifier *, s->msix_vectors);
    for (unsigned v = 0; v < s->msix_vectors; v++) {
        s->msix_fd[v] = msix_get_irqfd(d, v, errp);
        if (!s->msix_fd[v]) {
            return false;
        }
    }
    return true;
}

static void edu_realize(PCIDevice *d, Error **errp)
{
    EduState *s = (EduState *)d;

    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    memory_region_init_io(&s->mmio, &edu_mmio_ops, s, "edu-mmio", EDU_MMIO_SIZE);
    if (!event_notifier_init(&s->intx_kick, errp)) {
        error_prepend(errp, "edu: ");
        memory_region_destroy(&s->mmio);
        return;
    }
    event_notifier_set_handler(&s->intx_kick, edu_intx_kick);
    s->dma_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, edu_dma_timer, s);
    pci_register_bar(d, 0, 0, &s->mmio);
    if (!edu_init_irqs(s, errp)) {
        edu_exit(d);
        return;
    }
    if (pthread_create(&s->thread, NULL, edu_worker, s) != 0) {
        error_setg(errp, "edu: cannot start the factorial thread");
        edu_exit(d);
        return;
    }
    s->thread_started = true;
}

static void edu_reset(PCIDevice *d)
{
    EduState *s = (EduState *)d;

    pthread_mutex_lock(&s->lock);
    s->status &= EDU_STATUS_COMPUTING;      /* a computation in flight finishes */
    s->irq_status = 0;
    s->liveness = 0;
    pthread_mutex_unlock(&s->lock);
    s->dma_src = s->dma_dst = s->dma_count = s->dma_cmd = 0;
    timer_del(s->dma_timer);
    pci_set_irq(d, 0);
}

static const VMStateField edu_fields[] = {
    VMSTATE_UINT32(liveness, EduState),
    VMSTATE_UINT32(fact, EduState),
    VMSTATE_UINT32(status, EduState),
    VMSTATE_UINT32(irq_status, EduState),
    VMSTATE_UINT64(dma_src, EduState),
    VMSTATE_UINT64(dma_dst, EduState),
    VMSTATE_UINT64(dma_count, EduState),
    VMSTATE_UINT64(dma_cmd, EduState),
    VMSTATE_BUFFER(dma_buf, EduState),
    VMSTATE_TIMER_PTR(dma_timer, EduState),
    /* version 2: the configuration space (BARs, MSI) and the MSI-X table */
    VMSTATE_STRUCT_V(parent, EduState, vmstate_pci_device, PCIDevice, 2),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_edu = {
    .name = "edu",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = edu_fields,
};

static const Property edu_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_UINT32("msi-vectors", EduState, msi_vectors, 1),
    DEFINE_PROP_BOOL("msi-masking", EduState, msi_masking, false),
    DEFINE_PROP_BOOL("msix", EduState, msix, false),
    DEFINE_PROP_UINT32("msix-vectors", EduState, msix_vectors, 4),
    DEFINE_PROP_UINT64("dma_mask", EduState, dma_mask, (1ULL << 28) - 1),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass edu_class = {
    .parent = {
        .name = "edu", .desc = "QEMU's educational PCI device (factorial, DMA, INTx/MSI/MSI-X)",
        .bus_type = "PCI", .user_creatable = true, .category = DEVICE_CATEGORY_MISC,
        .instance_size = sizeof(EduState), .props = edu_props, .vmsd = &vmstate_edu,
        .realize = pci_qdev_realize, .unrealize = pci_qdev_unrealize, .reset = pci_qdev_reset,
    },
    .vendor_id = 0x1234,
    .device_id = 0x11e8,
    .revision = 0x10,
    .class_id = PCI_CLASS_OTHERS,
    .realize = edu_realize,
    .reset = edu_reset,
    .exit = edu_exit,
};

PCI_DEVICE_CLASS_REGISTER(edu_class)
