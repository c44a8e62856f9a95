/*
 * Port I/O from a unit test: byte, word and dword accesses to the system
 * I/O address space, as a guest's IN/OUT would make them.  Header-only.
 */
#ifndef KVMPC_TESTS_PIO_TEST_UTIL_H
#define KVMPC_TESTS_PIO_TEST_UTIL_H

#include "hw/memory.h"

static inline uint64_t pio_in(uint16_t port, unsigned size)
{
    uint64_t v = 0;

    address_space_ld(&address_space_io, port, &v, size);
    return v;
}

static inline void pio_out(uint16_t port, uint64_t val, unsigned size)
{
    address_space_st(&address_space_io, port, val, size);
}

static inline uint8_t inb(uint16_t port) { return pio_in(port, 1); }
static inline uint16_t inw(uint16_t port) { return pio_in(port, 2); }
static inline uint32_t inl(uint16_t port) { return pio_in(port, 4); }
static inline void outb(uint16_t port, uint8_t val) { pio_out(port, val, 1); }
static inline void outw(uint16_t port, uint16_t val) { pio_out(port, val, 2); }
static inline void outl(uint16_t port, uint32_t val) { pio_out(port, val, 4); }

#endif
