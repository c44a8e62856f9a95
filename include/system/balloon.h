/*
 * The balloon as the monitor sees it (QEMU's balloon.c): one balloon
 * device at most registers itself; QMP balloon / query-balloon and HMP
 * balloon / info balloon go through it, and fail with DeviceNotActive
 * "No balloon device has been activated" while there is none.
 */
#ifndef KVMPC_SYSTEM_BALLOON_H
#define KVMPC_SYSTEM_BALLOON_H

#include <stdbool.h>
#include <stdint.h>
#include "qemu/error.h"

typedef struct Monitor Monitor;

typedef struct BalloonOps {
    /* The guest should keep target bytes of RAM (already clamped to RAM). */
    void (*set_target)(void *opaque, uint64_t target);
    /* RAM the guest has now: ram_size minus what the balloon holds. */
    uint64_t (*get_actual)(void *opaque);
} BalloonOps;

/* Fails with "Only one balloon device is supported" if one is there. */
bool qemu_add_balloon_handler(const BalloonOps *ops, void *opaque, Error **errp);
void qemu_remove_balloon_handler(void *opaque);
/* BALLOON_CHANGE {"actual": bytes}: the device calls it when actual moves. */
void qemu_balloon_changed(uint64_t actual);

/* HMP: "balloon N" (MiB), "info balloon". */
void hmp_balloon(Monitor *mon, int argc, char **argv);
void hmp_info_balloon(Monitor *mon, int argc, char **argv);

#endif
