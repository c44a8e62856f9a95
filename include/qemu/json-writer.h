#ifndef QEMU_JSON_WRITER_H
#define QEMU_JSON_WRITER_H

#include <stdbool.h>
#include <glib.h>
#include <json-glib/json-glib.h>

/* node as QEMU writes JSON (util/json-writer.c), appended to out. */
void json_write_qemu(GString *out, JsonNode *node, bool pretty);
char *json_to_string_qemu(JsonNode *node, bool pretty);

#endif
