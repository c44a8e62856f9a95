/* Process-wide configuration from the command line (system/vl.c). */
#ifndef KVMPC_SYSTEM_SYSTEM_H
#define KVMPC_SYSTEM_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>
#include "chardev/char.h"

#define MAX_SERIAL_PORTS 4
/* Backends of COM1..COM4 (-serial), NULL where none. */
extern Chardev *serial_hds[MAX_SERIAL_PORTS];
extern bool display_nographic;
extern const char *qemu_name;       /* -name guest=X */
/* -rtc base=: seconds added to host UTC time for the RTC's start time. */
extern int64_t rtc_host_offset_s;       /* -name guest=X */

#endif
