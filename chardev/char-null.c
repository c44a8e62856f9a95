/*
 * -chardev null: output is discarded (but still logged), no input.
 */
#include "chardev/char-internal.h"

static bool null_open(Chardev *chr, QemuOpts *opts, bool *be_opened, Error **errp)
{
    *be_opened = false;     /* as QEMU: a null backend never opens */
    return true;
}

static const ChardevClass null_class = {
    .name = "null",
    .instance_size = sizeof(Chardev),
    .open = null_open,
};
CHARDEV_CLASS_REGISTER(null_class)
