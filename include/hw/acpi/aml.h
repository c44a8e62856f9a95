/*
 * A small AML encoder (ACPI 6.4, chapter 20) and resource-template writer
 * (6.4), enough for the DSDT fragments devices contribute about themselves.
 * Every function appends to a GByteArray; bodies are built in their own
 * array and wrapped (aml_device, aml_scope, aml_name_buffer), which writes
 * the PkgLength in front.
 *
 * Names are 4-character segments separated by dots ("RTC_", "ISA_.LNKA"),
 * optionally preceded by '\' for the root ("\_S5_").
 */
#ifndef KVMPC_HW_ACPI_AML_H
#define KVMPC_HW_ACPI_AML_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "hw/qdev.h"

void aml_byte(GByteArray *a, uint8_t v);
/* PkgLength (20.2.4) for `len` bytes that follow it. */
void aml_pkg_length(GByteArray *a, size_t len);
/* The smallest integer encoding: ZeroOp, OneOp, Byte/Word/DWord/QWord. */
void aml_integer(GByteArray *a, uint64_t v);
void aml_dword(GByteArray *a, uint32_t v);      /* always DWordConst */
void aml_string(GByteArray *a, const char *s);
void aml_namestring(GByteArray *a, const char *name);

/* Opcodes and operands for method bodies written by hand (20.2.5). */
#define AML_OP_ZERO         0x00
#define AML_OP_NULL_NAME    0x00        /* "no target" */
#define AML_OP_LOCAL0       0x60
#define AML_OP_ARG0         0x68
#define AML_OP_STORE        0x70        /* Store(TermArg, SuperName) */
#define AML_OP_AND          0x7b        /* And(a, b, Target) */
#define AML_OP_OR           0x7d        /* Or(a, b, Target) */
#define AML_OP_CREATE_DWORD_FIELD 0x8a  /* (Buffer, ByteIndex, NameString) */
#define AML_OP_LLESS        0x95
#define AML_OP_RETURN       0xa4
#define AML_REGION_PCI_CONFIG 0x02
#define AML_FIELD_BYTE_ACC  0x01        /* ByteAcc, NoLock, Preserve */

/* EisaId("PNP0B00") as the DWORD the firmware would compile it to. */
uint32_t aml_eisaid(const char *id);

/* Name(NAME, ...) */
void aml_name_integer(GByteArray *a, const char *name, uint64_t v);
void aml_name_dword(GByteArray *a, const char *name, uint32_t v);
void aml_name_string(GByteArray *a, const char *name, const char *s);
void aml_name_eisaid(GByteArray *a, const char *name, const char *id);
void aml_name_byte_package(GByteArray *a, const char *name, const uint8_t *elems, unsigned n);
void aml_name_buffer(GByteArray *a, const char *name, const GByteArray *data);

/* NameOp and the name: the caller appends the object. */
void aml_name(GByteArray *a, const char *name);
/* Buffer() { data } and Package() { n elements already encoded } as terms. */
void aml_buffer(GByteArray *a, const GByteArray *data);
void aml_package(GByteArray *a, unsigned n, const GByteArray *elems);
/* Method (NAME, nargs, Serialized|NotSerialized) { body }, If (pred) { body } */
void aml_method(GByteArray *a, const char *name, unsigned nargs, bool serialized,
                const GByteArray *body);
void aml_if(GByteArray *a, const GByteArray *predicate, const GByteArray *body);
/* OperationRegion (NAME, space, offset, len) and
 * Field (REGION, flags) { names[i], bits[i] ... } */
void aml_opregion(GByteArray *a, const char *name, uint8_t space, uint32_t offset, uint32_t len);
void aml_field(GByteArray *a, const char *region, uint8_t flags, const char *const *names,
               const uint8_t *bits, unsigned n);

/* Device (NAME) { body } and Scope (PATH) { body }. */
void aml_device(GByteArray *a, const char *name, const GByteArray *body);
void aml_scope(GByteArray *a, const char *path, const GByteArray *body);

/* Resource descriptors for a ResourceTemplate (6.4.2, 6.4.3). */
void aml_res_io(GByteArray *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_irq(GByteArray *r, unsigned irq, unsigned flags);   /* DEV_RES_IRQ_* flags */
void aml_res_mem32_fixed(GByteArray *r, uint32_t base, uint32_t len);
#define AML_RES_EXT_IRQ_EDGE        0x02
#define AML_RES_EXT_IRQ_ACTIVE_LOW  0x04
#define AML_RES_EXT_IRQ_SHARED      0x08
void aml_res_ext_irq(GByteArray *r, uint8_t flags, const uint32_t *irqs, unsigned n);
/* Word/DWord address space descriptors (bus numbers, I/O and memory
 * windows of a host bridge). */
#define AML_RES_TYPE_MEM    0
#define AML_RES_TYPE_IO     1
#define AML_RES_TYPE_BUS    2
void aml_res_word(GByteArray *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max);
void aml_res_dword_mem(GByteArray *r, uint8_t tflags, uint32_t min, uint32_t max);
/* Name(_CRS, ResourceTemplate() { r... EndTag }) */
void aml_name_crs(GByteArray *a, const GByteArray *r);
/* _CRS from what the device claims: its I/O ports, MMIO ranges, IRQs. */
void aml_name_crs_from_claims(GByteArray *a, const DeviceState *dev);

/* The usual ISA-style node: Device (NAME) { _HID EisaId(hid), _UID (when
 * uid >= 0), _CRS from the device's claims }. */
void aml_claims_device(GByteArray *scope, const char *name, const char *hid, int uid,
                       const DeviceState *dev);

#endif
