/*
 * libFuzzer target: arbitrary bytes into a QMP monitor's stream splitter,
 * parser, request checker and dispatcher.  The first byte chooses whether
 * capabilities negotiation is already done.  Commands that touch files,
 * sockets or the process's life are disabled (QEMU's
 * qmp_disable_command), so a run has no effect outside the process.
 *
 * Built by tests/fuzz/build.sh; run briefly by tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include "monitor/qmp-internal.h"
#include "hw/memory.h"
#include "system/main-loop.h"

static Monitor *mon;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const disabled[] = {
        "memsave", "pmemsave", "chardev-add", "chardev-remove", "quit",
        "human-monitor-command", "getfd", "closefd", "stop", "cont",
        "system_reset", "system_powerdown", "inject-nmi",
    };

    main_loop_init();
    memory_init_system();
    for (size_t i = 0; i < sizeof(disabled) / sizeof(disabled[0]); i++) {
        qmp_disable_command(disabled[i]);
    }
    mon = qmp_monitor_new_detached();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    qmp_monitor_feed(mon, data + 1, size - 1, data[0] & 1);
    return 0;
}
