/* The Monitor structure, shared by the monitor sources only. */
#ifndef KVMPC_MONITOR_INTERNAL_H
#define KVMPC_MONITOR_INTERNAL_H

#include "monitor/monitor.h"
#include "monitor/json-stream.h"
#include "monitor/qmp-internal.h"
#include "accel/cpu.h"

#define HMP_HISTORY_MAX 64

struct Monitor {
    CharBackend chr;
    bool is_qmp;
    bool pretty;
    bool connected;
    GString *capture;           /* human-monitor-command: output lands here */
    int cpu_index;              /* HMP's current CPU */
    GHashTable *fds;            /* getfd: name -> fd */

    /* QMP */
    JsonStreamer js;
    bool oob_offered;
    bool negotiated;
    bool oob_enabled;

    /* HMP line editing */
    GString *line;
    size_t cursor;
    int esc_state;              /* 0 none, 1 after ESC, 2 after ESC [ */
    GString *esc_param;
    GPtrArray *history;
    int hist_pos;               /* -1: editing a new line */
    bool quitting;
    bool mux_out;               /* on a mux, another frontend has the input */
    GString *outbuf;            /* QMP: output the chardev has not taken yet */
    guint flush_timer;
    bool banner_pending;        /* opened while out of focus */
};

extern GPtrArray *monitors;

void qmp_monitor_setup(Monitor *mon);
/* QMP output: queued, written without blocking; while some is pending the
 * monitor reads no more requests (flow control, as QEMU's suspend). */
void monitor_flush(Monitor *mon);
void monitor_drop_output(Monitor *mon);
void hmp_monitor_setup(Monitor *mon);
/* Runs one HMP command line on mon (output via monitor_printf). */
void hmp_handle_command(Monitor *mon, const char *cmdline);
/* The qmp_NAME handlers for human-monitor-command etc. */
bool qmp_monitor_is_negotiated(Monitor *mon);

/* vCPU helpers shared by QMP and HMP. */
bool monitor_cpu_get_env(int cpu_index, X86CPUState **env, Error **errp);
bool monitor_translate(Monitor *mon, int cpu_index, uint64_t vaddr, uint64_t *paddr, Error **errp);
bool monitor_memory_read(bool physical, int cpu_index, uint64_t addr, void *buf, uint64_t len,
                         Error **errp);
bool monitor_save_memory(bool physical, int cpu_index, int64_t addr, int64_t size,
                         const char *filename, Error **errp);

#endif
