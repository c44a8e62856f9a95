/*
 * Random number generator backends for virtio-rng, created with
 * "-object rng-random,id=ID[,filename=/dev/urandom]" (reads a host file,
 * QEMU's default /dev/urandom) or "-object rng-builtin,id=ID" (the host's
 * getrandom()).  Only these two -object types exist in kvmpc so far.
 *
 * Reads never block: a backend hands over what it has now (0 bytes when a
 * device file has nothing to give), and the device asks again later.
 */
#ifndef KVMPC_SYSTEM_RNG_H
#define KVMPC_SYSTEM_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include "qemu/error.h"

typedef struct RngBackend RngBackend;

/* "-object TYPE,id=ID,...": true, or false with errp naming what was wrong. */
bool user_object_add(const char *spec, Error **errp);
RngBackend *rng_backend_find(const char *id);
/* An rng-builtin for devices given no rng= (as QEMU creates one). */
RngBackend *rng_backend_new_builtin(void);
const char *rng_backend_type(const RngBackend *b);
/* Up to len bytes into buf: how many were produced (0: none now). */
size_t rng_backend_read(RngBackend *b, void *buf, size_t len);

#endif
