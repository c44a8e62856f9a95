/*
 * QMP internals shared by the dispatcher, the generated code
 * (build/monitor/qmp-gen.[ch]) and the command handlers.
 *
 * A schema type is described by a QmpType (generated); requests are
 * checked against it generically (qmp_check_value) before a command's
 * marshal function copies the arguments into its QmpArgs_NAME struct.
 */
#ifndef KVMPC_MONITOR_QMP_INTERNAL_H
#define KVMPC_MONITOR_QMP_INTERNAL_H

#include "qemu/json-writer.h"
#include <stdbool.h>
#include <stdint.h>
#include <json-glib/json-glib.h>
#include "qemu/error.h"

typedef struct Monitor Monitor;

/* QMP error classes (QEMU's QapiErrorClass), carried as the GError code;
 * error_setg() gives code 0, GenericError. */
typedef enum QmpErrorClass {
    ERROR_CLASS_GENERIC_ERROR = 0,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
    ERROR_CLASS_KVM_MISSING_CAP,
} QmpErrorClass;
#define error_set(errp, cls, ...) g_set_error((errp), KVMPC_ERROR, (cls), __VA_ARGS__)
const char *qmp_error_class_name(const Error *err);

typedef enum QmpKind {
    QK_STR, QK_INT, QK_INT8, QK_INT16, QK_INT32, QK_INT64,
    QK_UINT8, QK_UINT16, QK_UINT32, QK_UINT64, QK_SIZE,
    QK_NUMBER, QK_BOOL, QK_ANY, QK_NULL,
    QK_ENUM, QK_OBJECT, QK_ARRAY, QK_ALTERNATE,
} QmpKind;

typedef struct QmpType QmpType;

typedef struct QmpMember {
    const char *name;           /* NULL ends a list */
    const QmpType *type;
    bool optional;
} QmpMember;

typedef struct QmpVariant {
    const char *value;          /* discriminator value; NULL ends */
    const QmpType *type;        /* its members join the base's */
} QmpVariant;

struct QmpType {
    const char *name;
    QmpKind kind;
    const char *const *values;  /* QK_ENUM, NULL-terminated */
    const QmpMember *members;   /* QK_OBJECT (base included), QK_ALTERNATE */
    const char *tag;            /* QK_OBJECT union: discriminator member */
    const QmpVariant *variants;
    const QmpType *element;     /* QK_ARRAY */
};

typedef JsonNode *QmpMarshalFn(Monitor *mon, JsonObject *args, Error **errp);

typedef struct QmpCommand {
    const char *name;
    QmpMarshalFn *fn;
    const QmpType *arg_type;
    const QmpType *ret_type;    /* NULL: returns {} */
    bool allow_oob;
} QmpCommand;

typedef struct QmpEventDesc {
    const char *name;
    const QmpType *arg_type;
} QmpEventDesc;

/* Generated. */
extern const QmpCommand qmp_commands[];
extern const QmpEventDesc qmp_events[];
extern const char qmp_schema_json[];
extern const QmpType qmp_type_q_empty;

const QmpCommand *qmp_find_command(const char *name);
/* The command then fails with "The command X has been disabled for this
 * instance" (QEMU's qmp_disable_command). */
void qmp_disable_command(const char *name);

/* A QMP monitor with no chardev (the fuzzer's): its output collects in
 * qmp_monitor_output() and is cleared by qmp_monitor_feed(). */
Monitor *qmp_monitor_new_detached(void);
void qmp_monitor_feed(Monitor *mon, const uint8_t *data, size_t len, bool negotiated);
GString *qmp_monitor_output(Monitor *mon);

/* Checks value against type; what names the value in messages
 * ("backend.data.addr").  Messages are QEMU's. */
bool qmp_check_value(JsonNode *value, const QmpType *type, const char *what, Error **errp);
/* Checks a command's arguments object. */
bool qmp_check_args(JsonObject *args, const QmpType *type, Error **errp);

/* Argument getters for generated code (values already checked). */
const char *qmp_arg_str(JsonObject *o, const char *name);
int64_t qmp_arg_int(JsonObject *o, const char *name);
uint64_t qmp_arg_uint(JsonObject *o, const char *name);
double qmp_arg_number(JsonObject *o, const char *name);
bool qmp_arg_bool(JsonObject *o, const char *name);
JsonNode *qmp_arg_node(JsonObject *o, const char *name);
int qmp_arg_enum(JsonObject *o, const char *name, const QmpType *type);
int qmp_enum_lookup(const QmpType *type, const char *value);

/* Serialization in QEMU's layout: json_write_qemu() (qemu/json-writer.h). */

/* Small builders for handlers. */
JsonNode *qmp_node_object(JsonObject *o);   /* takes o */
JsonNode *qmp_node_array(JsonArray *a);     /* takes a */
JsonNode *qmp_node_str(const char *s);
JsonNode *qmp_node_int(int64_t v);
JsonNode *qmp_node_bool(bool v);

#endif
