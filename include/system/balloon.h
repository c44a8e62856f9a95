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
#include <json-glib/json-glib.h>
#include "qemu/error.h"

typedef struct Monitor Monitor;
typedef struct DeviceState DeviceState;

typedef struct BalloonOps {
    /* The guest should keep target bytes of RAM (already clamped to RAM). */
    void (*set_target)(void *opaque, uint64_t target);
    /* RAM the guest has now: ram_size minus what the balloon holds. */
    uint64_t (*get_actual)(void *opaque);
    /* qom-get guest-stats: {"stats": {...}, "last-update": N}, or NULL
     * with errp set. */
    JsonNode *(*get_stats)(void *opaque, Error **errp);
} BalloonOps;

/* Fails with "Only one balloon device is supported" if one is there.
 * dev: the device (qom-get of its guest-stats comes here). */
bool qemu_add_balloon_handler(const BalloonOps *ops, void *opaque, DeviceState *dev,
                              Error **errp);
void qemu_remove_balloon_handler(void *opaque);
/* BALLOON_CHANGE {"actual": bytes}: the device calls it when actual moves. */
void qemu_balloon_changed(uint64_t actual);

/* qom-get's hook for the balloon's guest-stats: true if (dev, property)
 * is that; *ret is then the value (NULL with errp set on error). */
bool balloon_qom_get(DeviceState *dev, const char *property, JsonNode **ret, Error **errp);

/* HMP: "balloon N" (MiB), "info balloon". */
void hmp_balloon(Monitor *mon, int argc, char **argv);
void hmp_info_balloon(Monitor *mon, int argc, char **argv);

#endif
