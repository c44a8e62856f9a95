/*
 * EventNotifier: a Linux eventfd, the object that ioeventfds (a guest write
 * the accelerator turns into a wake-up instead of a device call) and,
 * later, irqfds are made of.  The counter accumulates: test_and_clear
 * returns how many times it was set since the last call.
 */
#ifndef KVMPC_QEMU_EVENT_NOTIFIER_H
#define KVMPC_QEMU_EVENT_NOTIFIER_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "qemu/error.h"

typedef struct EventNotifier EventNotifier;
typedef void EventNotifierHandler(EventNotifier *e);

struct EventNotifier {
    int fd;                     /* -1 when not initialized */
    guint watch;                /* main-loop watch, 0 if none */
    EventNotifierHandler *handler;
};

bool event_notifier_init(EventNotifier *e, Error **errp);
void event_notifier_cleanup(EventNotifier *e);
static inline int event_notifier_get_fd(const EventNotifier *e) { return e->fd; }
/* Add one to the counter (wakes a watcher). */
void event_notifier_set(EventNotifier *e);
/* Read and reset the counter; 0 if it was not set. */
uint64_t event_notifier_test_and_clear(EventNotifier *e);
/* Call handler in the main loop (with the big lock) whenever the counter
 * becomes non-zero; the handler should test_and_clear.  NULL removes it. */
void event_notifier_set_handler(EventNotifier *e, EventNotifierHandler *handler);

#endif
