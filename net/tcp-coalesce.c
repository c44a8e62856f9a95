/*
 * Receive coalescing of TCP segments: include/net/tcp-coalesce.h.
 */
#include <string.h>
#include "net/tcp-coalesce.h"

#define ETH_LEN         14
#define IP_LEN          20
#define TCP_F_PSH       0x08
#define TCP_F_ACK       0x10
#define TCP_FLAGS_AT    (ETH_LEN + IP_LEN + 13)

static inline uint32_t rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

bool tcp_coalesce_segment(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + ETH_LEN, *tcp = ip + IP_LEN;

    return len > TCP_COALESCE_HDRS && len <= TCP_COALESCE_MAX && f[12] == 0x08 &&
           f[13] == 0x00 && ip[0] == 0x45 && (size_t)(ip[2] << 8 | ip[3]) == len - ETH_LEN &&
           !((ip[6] << 8 | ip[7]) & 0x3fff) && ip[9] == 6 && (tcp[12] >> 4) == 5 &&
           (tcp[13] & ~TCP_F_PSH) == TCP_F_ACK;
}

bool tcp_coalesce_continues(const TcpCoalesce *t, const uint8_t *f, size_t len)
{
    const uint8_t *h = t->buf, *fip = f + ETH_LEN, *hip = h + ETH_LEN;
    size_t pay = len - TCP_COALESCE_HDRS, held = t->len - TCP_COALESCE_HDRS;

    return t->len && !memcmp(f, h, ETH_LEN) && fip[1] == hip[1] && fip[6] == hip[6] &&
           fip[8] == hip[8] &&
           !memcmp(fip + 12, hip + 12, 8) &&                           /* addresses */
           !memcmp(fip + IP_LEN, hip + IP_LEN, 4) &&                   /* ports */
           !memcmp(fip + IP_LEN + 8, hip + IP_LEN + 8, 4) &&           /* ack */
           !memcmp(fip + IP_LEN + 14, hip + IP_LEN + 14, 2) &&         /* window */
           rd32be(fip + IP_LEN + 4) == t->next_seq && held % t->mss == 0 &&
           pay <= t->mss && !(h[TCP_FLAGS_AT] & TCP_F_PSH) && t->len + pay <= TCP_COALESCE_MAX;
}

void tcp_coalesce_start(TcpCoalesce *t, const uint8_t *f, size_t len)
{
    memcpy(t->buf, f, len);
    t->len = len;
    t->segs = 1;
    t->mss = len - TCP_COALESCE_HDRS;
    t->next_seq = rd32be(f + ETH_LEN + IP_LEN + 4) + t->mss;
}

bool tcp_coalesce_append(TcpCoalesce *t, const uint8_t *f, size_t len)
{
    size_t pay = len - TCP_COALESCE_HDRS;

    memcpy(t->buf + t->len, f + TCP_COALESCE_HDRS, pay);
    t->len += pay;
    t->next_seq += pay;
    t->segs++;
    t->buf[TCP_FLAGS_AT] |= f[TCP_FLAGS_AT] & TCP_F_PSH;
    return pay < t->mss;
}

void tcp_coalesce_finish(TcpCoalesce *t, uint16_t *gso_size)
{
    uint8_t *ip = t->buf + ETH_LEN;
    size_t tot = t->len - ETH_LEN;
    uint32_t sum = 0;

    *gso_size = 0;
    if (t->segs < 2) {
        return;
    }
    ip[2] = tot >> 8;
    ip[3] = tot;
    ip[10] = ip[11] = 0;
    for (unsigned i = 0; i < IP_LEN; i += 2) {
        sum += ip[i] << 8 | ip[i + 1];
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
    ip[10] = sum >> 8;
    ip[11] = sum;
    *gso_size = t->mss;
}
