/*
 * kvmpc guest test library - freestanding helpers for Multiboot v1 kernels.
 * Built twice: -m32 (protected mode, no paging) and -m64 (long mode,
 * identity-mapped 0..16 GiB with 2 MiB pages).  Physical == virtual.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>


typedef uintptr_t ureg;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define noreturn __attribute__((noreturn))
#define barrier() __asm__ volatile("" ::: "memory")

/* ---- test entry point and name, provided by each test ----
 * Each test file does:  TEST("serial");  void test_main(void) { ... pass(); } */
void test_main(void);
extern const char test_name[];
#define TEST(name) const char test_name[] = name
/* true in long-mode builds */
#ifdef __x86_64__
#define GUEST_BITS 64
#else
#define GUEST_BITS 32
#endif

/* ---- multiboot ---- */
#define MB_MAGIC_BOOTLOADER 0x2BADB002u
struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
} __attribute__((packed));
struct mb_mmap_entry {
    uint32_t size;          /* size of the rest, not counting this field */
    uint64_t addr;
    uint64_t len;
    uint32_t type;          /* 1 = available RAM */
} __attribute__((packed));
extern struct mb_info *mb_info;   /* NULL if the magic was wrong */
extern uint32_t mb_magic;
/* Multiboot command line (QEMU -append "..."): space-separated key=value.
 * Tests take their expectations from it, e.g. -append "mem_mb=128 cpus=4". */
const char *cmdline(void);
bool cmdline_u64(const char *key, uint64_t *val);

/* ---- port I/O ---- */
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0,%1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0,%1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline void io_delay(void) { outb(0x80, 0); }
/* CMOS/RTC register r (bit 7 of the index port keeps NMIs masked) */
static inline uint8_t cmos_read(uint8_t r) { outb(0x70, 0x80 | r); return inb(0x71); }
static inline void cmos_write(uint8_t r, uint8_t v) { outb(0x70, 0x80 | r); outb(0x71, v); }

/* ---- MMIO (volatile, exact-width accesses) ---- */
static inline uint8_t  mmio_read8(uintptr_t a)  { return *(volatile uint8_t *)a; }
static inline uint16_t mmio_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v)   { *(volatile uint8_t *)a = v; }
static inline void mmio_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
#ifdef __x86_64__
static inline uint64_t mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
#endif

/* ---- CPU ---- */
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline uint64_t rdmsr(uint32_t m) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m)); return ((uint64_t)hi << 32) | lo; }
static inline void wrmsr(uint32_t m, uint64_t v) { __asm__ volatile("wrmsr" :: "c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline ureg read_flags(void) { ureg f; __asm__ volatile("pushf; pop %0" : "=r"(f)); return f; }

/* ---- atomics / spinlock ---- */
typedef struct { volatile uint32_t v; } spinlock_t;
static inline void spin_lock(spinlock_t *l)
{
    while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
            pause();
}
static inline void spin_unlock(spinlock_t *l) { __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE); }
static inline uint32_t atomic_inc(volatile uint32_t *p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }
static inline uint32_t atomic_read(volatile uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/* ---- string ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* ---- console (COM1, polled) & reporting ---- */
void serial_init(void);
void serial_putc(char c);
void puts_raw(const char *s);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug_exit(uint32_t code);
noreturn void pass(void);
noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CHECK(cond, fmt, ...) - fail the test with a reason unless cond holds */
#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

/* ---- time (TSC calibrated against PIT channel 2) ---- */
extern uint64_t tsc_khz;
void tsc_calibrate(void);          /* called by the startup code */
uint64_t tsc_deadline_ms(uint64_t ms);
static inline bool tsc_expired(uint64_t deadline) { return rdtsc() >= deadline; }
void udelay(uint64_t us);
void mdelay(uint64_t ms);
/* wait up to ms for *p to become nonzero / reach val; return true if it did */
bool wait_flag(volatile uint32_t *p, uint32_t val, uint64_t ms);
#define PIT_HZ 1193182u
/* PIT channel 2 one-shot (mode 0) gated by port 0x61; poll OUT2 */
void pit2_start_oneshot(uint16_t count);
bool pit2_out(void);
/* wait ms using chained PIT channel 2 one-shots (TSC-independent);
 * false if OUT2 never rises (bounded by the TSC) */
bool pit2_wait_ms(unsigned ms);
/* The longest time the vCPU stood still (consecutive TSC reads in udelay,
 * mdelay and pit2_wait_ms that far apart) since stall_reset(): a window
 * that lost interrupts while the host did not run the vCPU for tens of
 * milliseconds says nothing about the emulator, and is measured again. */
void stall_reset(void);
uint64_t stall_max_ms(void);
#define STALL_MS 40

/* ---- interrupts ---- */
struct irq_frame {
#ifdef __x86_64__
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t ip, cs, flags, sp, ss;
#else
    uint32_t edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t ip, cs, flags;
#endif
};
typedef void (*irq_handler_t)(struct irq_frame *f);
void idt_init(void);               /* called by the startup code */
void idt_load(void);               /* load the shared IDT on this CPU (APs) */
void irq_set_handler(int vector, irq_handler_t h);

/* ---- 8259 PIC ---- */
#define PIC_VEC_BASE 0x20
void pic_init(void);               /* remap to 0x20/0x28, all masked */
void pic_mask_all(void);
void pic_unmask(int irq);
void pic_mask(int irq);
void pic_eoi(int irq);
uint16_t pic_get_isr(void);
uint16_t pic_get_irr(void);

/* ---- LAPIC (xAPIC MMIO) ---- */
#define LAPIC_DEFAULT_BASE 0xfee00000u
#define LAPIC_ID     0x020
#define LAPIC_VER    0x030
#define LAPIC_TPR    0x080
#define LAPIC_EOI    0x0b0
#define LAPIC_SVR    0x0f0
#define LAPIC_ESR    0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERR   0x370
extern uintptr_t lapic_base;
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
void lapic_enable(void);           /* xAPIC mode, SVR enable, spurious vector 0xff */
uint32_t lapic_id(void);
void lapic_eoi(void);
bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo); /* waits for delivery (bounded) */

/* more xAPIC registers (offsets into the MMIO page; x2APIC MSR = 0x800 + off/16) */
#define LAPIC_LDR       0x0d0
#define LAPIC_DFR       0x0e0
#define LAPIC_ISR0      0x100      /* 8 x 32 bits, 0x10 apart */
#define LAPIC_TMR0      0x180
#define LAPIC_IRR0      0x200
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0
#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_NMI         (4u << 8)
#define ICR_LOGICAL     (1u << 11)
#define ICR_BUSY        (1u << 12)
#define ICR_ASSERT      (1u << 14)
#define ICR_LEVEL       (1u << 15)
#define ICR_SELF        (1u << 18)
#define ICR_ALL_INCL    (2u << 18)
#define ICR_ALL_EXCL    (3u << 18)
#define MSR_IA32_APIC_BASE    0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
/* bit 'vec' of a 256-bit LAPIC vector register (ISR0/TMR0/IRR0) */
bool lapic_vec_bit(uint32_t reg0, int vec);
/* write ICR (shorthand/dest in icr_lo, no destination field) and wait for
 * the delivery status to clear; false on timeout */
bool lapic_send_ipi_shorthand(uint32_t icr_lo);
/* CPUID.01H:ECX bit n */
bool cpuid1_ecx(int bit);
/* x2APIC (MSR interface): reg is the xAPIC MMIO offset */
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))
#define X2APIC_SELF_IPI 0x83f
bool x2apic_enable(void);          /* EN|EXTD in IA32_APIC_BASE; false if not advertised */
uint64_t x2apic_read(uint32_t reg);
void x2apic_write(uint32_t reg, uint64_t v);

/* ---- MSR accesses that may #GP: false (and no side effect) if they fault ---- */
bool rdmsr_safe(uint32_t msr, uint64_t *val);
bool wrmsr_safe(uint32_t msr, uint64_t val);

/* ---- pc-testdev (-device pc-testdev): ISA IRQ line n level, n < 16 ---- */
static inline void testdev_set_irq(int n, int level) { outb((uint16_t)(0x2000 + n), level ? 1 : 0); }

/* wait up to ms for *p >= val (counters that might overshoot); true if so */
bool wait_count(volatile uint32_t *p, uint32_t val, uint64_t ms);

/* ---- IOAPIC ---- */
uint32_t ioapic_read(uintptr_t base, uint32_t reg);
void ioapic_write(uintptr_t base, uint32_t reg, uint32_t v);
int ioapic_max_redir(uintptr_t base);
void ioapic_set_redir(uintptr_t base, int pin, uint64_t entry);
uint64_t ioapic_get_redir(uintptr_t base, int pin);
void ioapic_mask_all(uintptr_t base);

/* ---- ACPI / MP tables ---- */
struct acpi_sdt_hdr {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem_id[6], oem_table_id[8];
    uint32_t oem_rev, creator_id, creator_rev;
} __attribute__((packed));
uint8_t checksum8(const void *p, size_t n);
void *acpi_find_rsdp(void);
struct acpi_sdt_hdr *acpi_find_table(const char sig[4]);
#define MAX_CPUS 64
#define MAX_ISO 16
struct platform_info {
    int source;                    /* 1 = ACPI MADT, 2 = MP table */
    uint32_t lapic_addr;
    int ncpus;
    uint8_t cpu_apic_id[MAX_CPUS];
    uint8_t cpu_acpi_id[MAX_CPUS];
    int nioapic;
    uint32_t ioapic_addr;          /* first IOAPIC */
    uint8_t ioapic_id;
    uint32_t ioapic_gsi_base;
    int niso;
    struct { uint8_t bus, irq; uint32_t gsi; uint16_t flags; } iso[MAX_ISO];
    bool pcat_compat;
};
/* Fill *pi from the MADT, falling back to the MP table; false if neither. */
bool platform_discover(struct platform_info *pi);
bool madt_parse(struct platform_info *pi);
bool mptable_parse(struct platform_info *pi);
/* GSI for an ISA IRQ, applying interrupt source overrides; *flags gets MPS INTI flags */
uint32_t isa_irq_to_gsi(const struct platform_info *pi, int irq, uint16_t *flags);

/* ---- fw_cfg (QEMU firmware config, I/O ports 0x510/0x511, DMA 0x514) ---- */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID        0x01
#define FW_CFG_RAM_SIZE  0x03
#define FW_CFG_NB_CPUS   0x05
#define FW_CFG_MAX_CPUS  0x0f
#define FW_CFG_FILE_DIR  0x19
struct fw_cfg_file {
    uint32_t size;                 /* big-endian */
    uint16_t select;               /* big-endian */
    uint16_t reserved;
    char name[56];
} __attribute__((packed));
void fw_cfg_select(uint16_t key);
void fw_cfg_read(void *buf, uint32_t len);         /* from current position */
void fw_cfg_read_item(uint16_t key, void *buf, uint32_t len);
uint32_t fw_cfg_read32(uint16_t key);              /* little-endian item */
uint64_t fw_cfg_read64(uint16_t key);
bool fw_cfg_present(void);
/* find a file by name; returns select key, size via *size; 0 if absent */
uint16_t fw_cfg_find_file(const char *name, uint32_t *size);
bool fw_cfg_dma_read(uint16_t key, void *buf, uint32_t len); /* key 0xffff = no select */

static inline uint16_t bswap16(uint16_t x) { return __builtin_bswap16(x); }
static inline uint32_t bswap32(uint32_t x) { return __builtin_bswap32(x); }
static inline uint64_t bswap64(uint64_t x) { return __builtin_bswap64(x); }

/* ---- SMP bring-up (lib/ap_boot.S + lib/smp.c) ---- */
#define AP_TRAMPOLINE_ADDR 0x8000u  /* 4 KiB page; SIPI vector 0x08 */
/* Copy the real-mode trampoline to AP_TRAMPOLINE_ADDR; APs end up in
 * ap_entry(cpu_index) on their own stack, in the same mode as the BSP
 * (32-bit protected mode, or long mode with the BSP's page tables). */
void ap_trampoline_install(void (*entry)(uint32_t idx));
/* INIT-SIPI-SIPI one AP; idx is passed to entry. false on IPI timeout. */
bool ap_start(uint32_t apic_id, uint32_t idx);

#endif
