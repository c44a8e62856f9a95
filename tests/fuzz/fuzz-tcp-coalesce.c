/*
 * Fuzz target for the receive coalescer (net/tcp-coalesce.c): a sequence
 * of frames from the backend (a socket peer is another machine: any
 * bytes) goes through the same take/hold/hand-over steps virtio-net runs
 * (hw/virtio/virtio-net.c, virtio_net_lro_take), with a shadow copy of
 * what was held.  What must hold for any input: no crash or sanitizer
 * report, the held frame never over TCP_COALESCE_MAX, and every frame
 * handed over is the first segment's headers (but the IPv4 total length
 * and header checksum, which must then be right, and PSH) followed by
 * exactly the payloads taken, in order, with a GSO size that is the
 * first payload; a segment is only taken if it is the same flow (MACs,
 * addresses, ports, ack) and the next in sequence.
 *
 * Input: frames, each a big-endian u16 length and that many bytes (a
 * short last one is cut).
 *
 * Built as a libFuzzer target by tests/fuzz/build-tcp-coalesce.sh; with
 * -DFUZZ_TCP_COALESCE_MAIN it is a plain driver for the unit suite:
 *   fuzz-tcp-coalesce [--seed N] [--runs N]     generated inputs, and
 *       every fourth time a clean run that must merge as far as the
 *       rules allow (check_clean_run)
 *   fuzz-tcp-coalesce FILE...                   given inputs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/tcp-coalesce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t held_buf[TCP_COALESCE_MAX];
static uint8_t shadow_hdr[TCP_COALESCE_HDRS];
static uint8_t shadow_pay[TCP_COALESCE_MAX];
static size_t shadow_len;
static uint8_t shadow_psh;
static unsigned long handed;    /* frames handed over (the driver's oracle counts them) */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz-tcp-coalesce: %s\n", what);
    abort();
}

static void hand_over(TcpCoalesce *t)
{
    uint16_t gso;
    const uint8_t *ip = t->buf + 14;
    uint32_t sum = 0;

    if (!t->len) {
        return;
    }
    handed++;
    if (t->len > TCP_COALESCE_MAX || t->len != TCP_COALESCE_HDRS + shadow_len) {
        fail("held length");
    }
    tcp_coalesce_finish(t, &gso);
    if ((t->segs > 1) != (gso != 0) || (gso && gso != t->mss) || !t->mss) {
        fail("GSO size");
    }
    if (memcmp(t->buf + TCP_COALESCE_HDRS, shadow_pay, shadow_len)) {
        fail("payload");
    }
    for (unsigned i = 0; i < 20; i += 2) {
        sum += ip[i] << 8 | ip[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (gso && (sum != 0xffff || (size_t)(ip[2] << 8 | ip[3]) != t->len - 14)) {
        fail("IPv4 header");
    }
    for (unsigned i = 0; i < TCP_COALESCE_HDRS; i++) {
        uint8_t want = shadow_hdr[i];
        if (gso && (i == 16 || i == 17 || i == 24 || i == 25)) {
            continue;                           /* total length, checksum */
        }
        if (i == 47) {
            want |= shadow_psh;
        }
        if (t->buf[i] != want) {
            fail("headers");
        }
    }
    t->len = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TcpCoalesce t = { .buf = held_buf };

    while (size >= 2) {
        size_t len = (size_t)data[0] << 8 | data[1];
        const uint8_t *f = data + 2;

        size -= 2;
        len = len < size ? len : size;
        data += 2 + len;
        size -= len;
        bool seg = tcp_coalesce_segment(f, len);
        if (seg && tcp_coalesce_continues(&t, f, len)) {
            uint32_t seq = (uint32_t)f[38] << 24 | f[39] << 16 | f[40] << 8 | f[41];
            uint32_t first = (uint32_t)shadow_hdr[38] << 24 | shadow_hdr[39] << 16 |
                             shadow_hdr[40] << 8 | shadow_hdr[41];
            if (seq != first + (uint32_t)shadow_len) {
                fail("a segment out of sequence was taken");
            }
            if (memcmp(f + 26, shadow_hdr + 26, 12) || memcmp(f, shadow_hdr, 14)) {
                fail("a segment of another flow was taken");
            }
            memcpy(shadow_pay + shadow_len, f + TCP_COALESCE_HDRS, len - TCP_COALESCE_HDRS);
            shadow_len += len - TCP_COALESCE_HDRS;
            shadow_psh |= f[47] & 0x08;
            if (tcp_coalesce_append(&t, f, len)) {
                hand_over(&t);
            }
            continue;
        }
        hand_over(&t);
        if (seg) {
            tcp_coalesce_start(&t, f, len);
            memcpy(shadow_hdr, f, TCP_COALESCE_HDRS);
            shadow_len = len - TCP_COALESCE_HDRS;
            memcpy(shadow_pay, f + TCP_COALESCE_HDRS, shadow_len);
            shadow_psh = 0;
        }
    }
    hand_over(&t);
    return 0;
}

#ifdef FUZZ_TCP_COALESCE_MAIN
/* Generated inputs: runs of well-formed segments of one or two flows,
 * in order or not, with some bytes flipped, lengths changed and frames
 * cut, so every branch of the take rules is reached. */
static uint32_t rnd_state;

static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static size_t gen_segment(uint8_t *f, uint32_t seq, unsigned pay, int flow)
{
    size_t n = TCP_COALESCE_HDRS + pay;

    memset(f, 0, TCP_COALESCE_HDRS);
    f[5] = 1;
    f[11] = 2;
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = (n - 14) >> 8;
    f[17] = (n - 14) & 0xff;
    f[22] = 64;
    f[23] = 6;
    f[29] = 2;
    f[33] = 15;
    f[35] = (uint8_t)(80 + flow);
    f[38] = seq >> 24;
    f[39] = seq >> 16;
    f[40] = seq >> 8;
    f[41] = seq;
    f[46] = 0x50;
    f[47] = rnd() % 8 ? 0x10 : 0x18;
    for (unsigned i = 0; i < pay; i++) {
        f[TCP_COALESCE_HDRS + i] = (uint8_t)rnd();
    }
    return n;
}

static size_t gen_input(uint8_t *buf, size_t cap)
{
    static uint8_t f[TCP_COALESCE_MAX];
    uint32_t seq[2] = { rnd(), rnd() };
    unsigned mss = 1 + rnd() % (rnd() % 4 ? 1460 : 9000);
    size_t off = 0;

    for (unsigned k = 0, nf = 1 + rnd() % 60; k < nf; k++) {
        int flow = rnd() % 5 == 0;
        unsigned pay = rnd() % 6 ? mss : 1 + rnd() % mss;
        size_t n = gen_segment(f, seq[flow], pay, flow);

        seq[flow] += rnd() % 16 ? pay : pay / 2;
        if (rnd() % 10 == 0) {
            f[rnd() % n] ^= (uint8_t)(1 + rnd() % 255);
        }
        if (rnd() % 20 == 0) {
            n = rnd() % (n + 1);
        }
        if (off + 2 + n > cap) {
            break;
        }
        buf[off] = n >> 8;
        buf[off + 1] = n & 0xff;
        memcpy(buf + off + 2, f, n);
        off += 2 + n;
    }
    return off;
}

/* The other direction: what must be merged.  A clean run (one flow, in
 * sequence, every payload the same size, ACK with PSH now and then) goes
 * into as few frames as the rules allow, counted here without the
 * coalescer: a frame takes segments until one with PSH or until the next
 * would pass the IPv4 length limit. */
static void check_clean_run(void)
{
    static uint8_t buf[1 << 21], f[TCP_COALESCE_MAX];
    unsigned mss = 1 + rnd() % (rnd() % 4 ? 1460 : 9000);
    unsigned n = 1 + rnd() % 120;
    uint32_t seq = rnd();
    unsigned long want = 0;
    size_t off = 0, held = 0;
    bool open = false;

    for (unsigned k = 0; k < n; k++) {
        size_t len = gen_segment(f, seq, mss, 0);
        bool psh = f[47] & 0x08;

        seq += mss;
        buf[off] = len >> 8;
        buf[off + 1] = len & 0xff;
        memcpy(buf + off + 2, f, len);
        off += 2 + len;
        if (!open || TCP_COALESCE_HDRS + held + mss > TCP_COALESCE_MAX) {
            want++;
            held = 0;
        }
        held += mss;
        open = !psh;
        if (psh) {
            held = 0;
        }
    }
    handed = 0;
    LLVMFuzzerTestOneInput(buf, off);
    if (handed != want) {
        fprintf(stderr, "fuzz-tcp-coalesce: %u segments of %u bytes: %lu frames, want %lu\n",
                n, mss, handed, want);
        fail("a clean run was not merged as far as the rules allow");
    }
}

int main(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    unsigned long runs = 2000;

    rnd_state = 1;
    if (argc > 1 && strncmp(argv[1], "--", 2)) {
        for (int i = 1; i < argc; i++) {
            FILE *fp = fopen(argv[i], "rb");
            size_t n;
            if (!fp) {
                perror(argv[i]);
                return 1;
            }
            n = fread(buf, 1, sizeof(buf), fp);
            fclose(fp);
            LLVMFuzzerTestOneInput(buf, n);
        }
        printf("fuzz-tcp-coalesce: %d inputs\n", argc - 1);
        return 0;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seed")) {
            rnd_state = (uint32_t)strtoul(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--runs")) {
            runs = strtoul(argv[i + 1], NULL, 0);
        }
    }
    for (unsigned long r = 0; r < runs; r++) {
        LLVMFuzzerTestOneInput(buf, gen_input(buf, sizeof(buf)));
        if (r % 4 == 0) {
            check_clean_run();
        }
    }
    printf("fuzz-tcp-coalesce: %lu generated inputs, %lu clean runs\n", runs, (runs + 3) / 4);
    return 0;
}
#endif
