/* The qtest accelerator and protocol server (QEMU's text protocol). */
#ifndef KVMPC_ACCEL_QTEST_H
#define KVMPC_ACCEL_QTEST_H

#include <stdbool.h>
#include "qemu/error.h"

/* spec: a -qtest chardev spec ("unix:PATH", "tcp:...", "stdio"...);
 * log: a file path for the protocol log, or NULL. */
bool qtest_server_init(const char *spec, const char *log, Error **errp);

#endif
