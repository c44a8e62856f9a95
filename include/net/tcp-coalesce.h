/*
 * Receive coalescing of TCP segments (what a NIC's LRO does): consecutive
 * IPv4 TCP segments of one flow are held as one frame and handed over as
 * one GSO frame.  Pure frame logic, no device state: virtio-net holds one
 * TcpCoalesce and decides when to hand it over (the end of a backend's
 * burst, docs/virtio.md); tests/fuzz/fuzz-tcp-coalesce.c drives it with
 * arbitrary frames.
 *
 * Only segments that merge without changing their meaning are taken:
 * Ethernet II + IPv4 without options or fragmentation + TCP without
 * options, flags ACK or ACK|PSH, some payload, the IPv4 total length equal
 * to the frame's (no padding).  The caller checks the TCP checksum first
 * (the merged frame keeps the first segment's: the GSO header says
 * DATA_VALID).
 */
#ifndef KVMPC_NET_TCP_COALESCE_H
#define KVMPC_NET_TCP_COALESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_COALESCE_HDRS       54              /* Ethernet 14 + IPv4 20 + TCP 20 */
#define TCP_COALESCE_MAX        (14 + 65535)    /* the IPv4 total length's limit */

typedef struct TcpCoalesce {
    uint8_t *buf;               /* TCP_COALESCE_MAX bytes, the caller's */
    size_t len;                 /* 0: nothing held */
    unsigned segs;
    uint32_t mss;               /* the first segment's payload */
    uint32_t next_seq;
} TcpCoalesce;

/* Whether frame f may be held at all (the shape above). */
bool tcp_coalesce_segment(const uint8_t *f, size_t len);

/* Whether f (a tcp_coalesce_segment) continues what t holds: the same
 * MAC addresses, IP addresses, ports, ack, window, TOS, TTL and DF, the
 * next sequence number, every held segment full-sized and f no bigger,
 * no PSH held yet, room left. */
bool tcp_coalesce_continues(const TcpCoalesce *t, const uint8_t *f, size_t len);

/* Holds f (a tcp_coalesce_segment) alone. */
void tcp_coalesce_start(TcpCoalesce *t, const uint8_t *f, size_t len);

/* Appends f's payload (tcp_coalesce_continues was true); true if f was
 * shorter than the first segment: nothing can follow it. */
bool tcp_coalesce_append(TcpCoalesce *t, const uint8_t *f, size_t len);

/* Makes the held frame whole for delivery: with more than one segment,
 * the IPv4 total length and header checksum; *gso_size gets the segment
 * size (0 for a single segment: not a GSO frame). */
void tcp_coalesce_finish(TcpCoalesce *t, uint16_t *gso_size);

#endif
