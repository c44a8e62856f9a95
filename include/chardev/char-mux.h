/*
 * "mon:" multiplexed chardevs (-serial mon:stdio): one backend shared by
 * several frontends (the serial port and an HMP monitor); Ctrl-A c moves
 * input between them, Ctrl-A x quits, Ctrl-A h lists the keys, as QEMU.
 */
#ifndef KVMPC_CHARDEV_CHAR_MUX_H
#define KVMPC_CHARDEV_CHAR_MUX_H

#include "chardev/char.h"

#define MUX_MAX 4

/* Creates mux chardev label over a new backend from spec ("stdio"),
 * flagged so that monitor_init_all() puts an HMP monitor on it. */
Chardev *qemu_chr_new_mux_mon(const char *label, const char *spec, Error **errp);
bool qemu_chr_mux_wants_monitor(Chardev *chr);
/* Whether be receives input now (always true off a mux). */
bool qemu_chr_fe_is_focused(CharBackend *be);

#endif
