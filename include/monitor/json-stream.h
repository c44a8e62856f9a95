/*
 * Splits a byte stream into JSON messages, as QEMU's json-streamer does:
 * a message may arrive over many reads, several may come in one read,
 * whitespace between them is skipped.  Each complete message is parsed
 * with json-glib and handed to emit() as a value, or as an error (garbage,
 * bad JSON, too large, too deep) after which the stream resynchronizes.
 * A message larger than max_size is refused without being buffered.
 */
#ifndef KVMPC_MONITOR_JSON_STREAM_H
#define KVMPC_MONITOR_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <json-glib/json-glib.h>
#include "qemu/error.h"

#define JSON_STREAM_MAX_SIZE (10u << 20)
#define JSON_STREAM_MAX_NESTING 1024

/* Exactly one of value and err is set; emit owns both. */
typedef void JsonStreamEmit(void *opaque, JsonNode *value, Error *err);

typedef struct JsonStreamer {
    JsonStreamEmit *emit;
    void *opaque;
    size_t max_size;
    GString *buf;               /* the message so far */
    int braces, brackets;
    char quote;                 /* inside a string: its quote char, else 0 */
    bool escape;                /* the previous char was a backslash */
    bool skipping;              /* over the limit: drop until the message ends */
    bool scalar;                /* a top-level scalar token is being collected */
} JsonStreamer;

void json_stream_init(JsonStreamer *s, size_t max_size, JsonStreamEmit *emit, void *opaque);
void json_stream_feed(JsonStreamer *s, const char *data, size_t len);
/* Forget a partial message (a client left). */
void json_stream_reset(JsonStreamer *s);
void json_stream_destroy(JsonStreamer *s);

/* Parse one complete JSON text (QEMU's extensions: single-quoted strings;
 * integers beyond uint64 become doubles).  NULL + errp on failure. */
JsonNode *json_parse_text(const char *text, size_t len, Error **errp);

/* Integers in (INT64_MAX, UINT64_MAX] are kept by json-glib as the int64
 * with the same bits; this tells whether node was written as such. */
bool json_node_is_big_uint(JsonNode *node);
void json_node_mark_big_uint(JsonNode *node);

#endif
