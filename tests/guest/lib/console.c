/* COM1 polled output, printf-lite, verdict reporting and debug-exit. */
#include "lib.h"

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

static spinlock_t print_lock;

void serial_init(void)
{
    outb(COM1 + 1, 0x00);          /* IER: no interrupts */
    outb(COM1 + 3, 0x80);          /* DLAB */
    outb(COM1 + 0, 0x01);          /* 115200 */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);          /* 8N1 */
    outb(COM1 + 2, 0x07);          /* FIFO on, clear */
    outb(COM1 + 4, 0x03);          /* DTR | RTS, loopback off */
}

void serial_putc(char c)
{
    /* bounded wait for THRE; never hang on a broken UART */
    for (unsigned i = 0; i < 100000; i++)
        if (inb(COM1 + 5) & 0x20)
            break;
    outb(COM1, (uint8_t)c);
}

void puts_raw(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n') serial_putc('\r');
        serial_putc(*s);
    }
}

struct outbuf { char *buf; size_t size, pos; };

static void emit(struct outbuf *o, char c)
{
    if (o->pos + 1 < o->size) o->buf[o->pos] = c;
    o->pos++;
}

static void emit_num(struct outbuf *o, uint64_t v, unsigned base, bool neg,
                     int width, bool zero, bool left, bool upper)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do { tmp[n++] = digits[v % base]; v /= base; } while (v);
    int len = n + (neg ? 1 : 0);
    if (!left && !zero) for (; len < width; width--) emit(o, ' ');
    if (neg) emit(o, '-');
    if (!left && zero) for (; len < width; width--) emit(o, '0');
    while (n) emit(o, tmp[--n]);
    if (left) for (; len < width; width--) emit(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct outbuf o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') { emit(&o, *fmt); continue; }
        fmt++;
        bool zero = false, left = false;
        int width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '0') zero = true;
            else if (*fmt == '-') left = true;
            else break;
        }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') { lng++; fmt++; }
        if (*fmt == 'z') { lng = sizeof(size_t) == 8 ? 2 : 0; fmt++; }
        uint64_t u;
        int64_t s;
        switch (*fmt) {
        case 'd': case 'i':
            s = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
            emit_num(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, width, zero, left, false);
            break;
        case 'u': case 'x': case 'X':
            u = lng >= 2 ? va_arg(ap, unsigned long long) : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            emit_num(&o, u, *fmt == 'u' ? 10 : 16, false, width, zero, left, *fmt == 'X');
            break;
        case 'p':
            emit(&o, '0'); emit(&o, 'x');
            emit_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, sizeof(void *) * 2, true, false, false);
            break;
        case 'c':
            emit(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str) str = "(null)";
            int len = (int)strlen(str);
            if (!left) for (; len < width; width--) emit(&o, ' ');
            while (*str) emit(&o, *str++);
            if (left) for (; len < width; width--) emit(&o, ' ');
            break;
        }
        case '%': emit(&o, '%'); break;
        case 0: fmt--; break;
        default: emit(&o, '%'); emit(&o, *fmt); break;
        }
    }
    if (size) buf[o.pos < size ? o.pos : size - 1] = 0;
    return (int)o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    spin_lock(&print_lock);
    puts_raw(buf);
    spin_unlock(&print_lock);
    return n;
}

void debug_exit(uint32_t code)
{
    outl(DEBUG_EXIT_PORT, code);
}

static noreturn void halt_forever(void)
{
    for (;;) { cli(); hlt(); }
}

noreturn void pass(void)
{
    printf("PASS: %s\n", test_name);
    debug_exit(0);
    puts_raw("debug-exit device missing (need -device isa-debug-exit,iobase=0xf4,iosize=4)\n");
    halt_forever();
}

static volatile uint32_t failing;

noreturn void fail(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    cli();
    if (__atomic_exchange_n(&failing, 1, __ATOMIC_SEQ_CST)) {
        /* another CPU (or a nested fault) is already reporting */
        halt_forever();
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    print_lock.v = 0;               /* we may have faulted while holding it */
    printf("FAIL: %s: %s\n", test_name, buf);
    debug_exit(1);
    halt_forever();
}

struct mb_info *mb_info;
uint32_t mb_magic;

void lib_start(uint32_t magic, uint32_t mbi);
void lib_start(uint32_t magic, uint32_t mbi)
{
    serial_init();
    mb_magic = magic;
    mb_info = magic == MB_MAGIC_BOOTLOADER ? (struct mb_info *)(uintptr_t)mbi : NULL;
    idt_init();
    printf("kvmpc guest test '%s' (%d-bit)\n", test_name, GUEST_BITS);
    if (*cmdline()) printf("cmdline: %s\n", cmdline());
    if (!mb_info)
        printf("warning: bad multiboot magic 0x%x\n", magic);
    tsc_calibrate();
    test_main();
    fail("test_main returned without a verdict");
}

const char *cmdline(void)
{
    if (mb_info && (mb_info->flags & (1 << 2)) && mb_info->cmdline)
        return (const char *)(uintptr_t)mb_info->cmdline;
    return "";
}

bool cmdline_u64(const char *key, uint64_t *val)
{
    const char *s = cmdline();
    size_t kl = strlen(key);
    while (*s) {
        while (*s == ' ') s++;
        if (!strncmp(s, key, kl) && s[kl] == '=') {
            const char *p = s + kl + 1;
            uint64_t v = 0;
            unsigned base = 10;
            if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) { base = 16; p += 2; }
            for (;; p++) {
                unsigned d;
                if (*p >= '0' && *p <= '9') d = *p - '0';
                else if (base == 16 && *p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
                else if (base == 16 && *p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
                else break;
                v = v * base + d;
            }
            *val = v;
            return true;
        }
        while (*s && *s != ' ') s++;
    }
    return false;
}
