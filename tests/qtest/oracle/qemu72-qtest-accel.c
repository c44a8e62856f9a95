/*
 * Test-harness helper, NOT part of kvmpc.
 *
 * Debian's qemu-system-x86 7.2 package does not ship the loadable module
 * "accel-qtest-x86_64.so", so `-accel qtest` fails with "invalid accelerator
 * qtest" and the qtest clock commands (clock_step/clock_set) are refused.
 * The QEMU binary itself still contains the qtest server and exports
 * qtest_get_virtual_clock(), qtest_allowed and dummy_start_vcpu_thread(), so
 * the missing accelerator is only a tiny QOM class.  This file re-creates it
 * without QEMU headers, using the QEMU 7.2 x86_64 structure layouts (checked
 * against the Debian binary by disassembly), so the Debian QEMU can serve as
 * the oracle for tests/qtest.
 *
 * Build: see tests/qtest/Makefile (target "oracle-module"); QEMU_STAMP must be
 * the qemu_stamp_<hash> symbol of the installed QEMU build, which the Makefile
 * extracts from an installed module (accel-tcg-x86_64.so).
 * Use:   QEMU_MODULE_DIR=<dir containing accel-qtest-x86_64.so>
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef QEMU_STAMP
#error "define QEMU_STAMP (e.g. qemu_stamp_f1b4c2639e440a9f989736fb1ad6d8336564df2e)"
#endif

/* QEMU 7.2: ObjectClass is 0x60 bytes on x86_64 */
#define OBJECT_CLASS_SIZE 0x60

/* QEMU 7.2 TypeInfo */
typedef struct TypeInfo72 {
    const char *name;
    const char *parent;
    size_t instance_size;
    size_t instance_align;
    void (*instance_init)(void *obj);
    void (*instance_post_init)(void *obj);
    void (*instance_finalize)(void *obj);
    bool abstract;
    size_t class_size;
    void (*class_init)(void *klass, void *data);
    void (*class_base_init)(void *klass, void *data);
    void *class_data;
    void *interfaces;
} TypeInfo72;

/* QEMU 7.2 AccelClass (include/qemu/accel.h) */
typedef struct AccelClass72 {
    char parent_class[OBJECT_CLASS_SIZE];
    const char *name;                         /* 0x60 */
    int (*init_machine)(void *ms);            /* 0x68 */
    void (*setup_post)(void *ms, void *accel);/* 0x70 */
    bool (*has_memory)(void *ms, void *as, uint64_t start, uint64_t size);
    int (*gdbstub_supported_sstep_flags)(void);
    bool *allowed;                            /* 0x88 */
    void *compat_props;                       /* 0x90 */
} AccelClass72;

/* QEMU 7.2 AccelOpsClass (include/sysemu/accel-ops.h) */
typedef struct AccelOpsClass72 {
    char parent_class[OBJECT_CLASS_SIZE];
    void (*ops_init)(void *ops);              /* 0x60 */
    bool (*cpus_are_resettable)(void);        /* 0x68 */
    void (*create_vcpu_thread)(void *cpu);    /* 0x70 */
    void (*kick_vcpu_thread)(void *cpu);
    bool (*cpu_thread_is_idle)(void *cpu);
    void (*synchronize_post_reset)(void *cpu);
    void (*synchronize_post_init)(void *cpu);
    void (*synchronize_state)(void *cpu);
    void (*synchronize_pre_loadvm)(void *cpu);
    void (*synchronize_pre_resume)(bool step_pending);
    void (*handle_interrupt)(void *cpu, int mask); /* 0xb0 */
    int64_t (*get_virtual_clock)(void);       /* 0xb8 */
    int64_t (*get_elapsed_ticks)(void);       /* 0xc0 */
} AccelOpsClass72;

_Static_assert(offsetof(TypeInfo72, class_init) == 0x48, "TypeInfo layout");
_Static_assert(offsetof(AccelClass72, allowed) == 0x88, "AccelClass layout");
_Static_assert(offsetof(AccelOpsClass72, get_virtual_clock) == 0xb8, "AccelOpsClass layout");

/* provided by the QEMU binary */
extern bool qtest_allowed;
extern int64_t qtest_get_virtual_clock(void);
extern void dummy_start_vcpu_thread(void *cpu);
extern void *type_register_static(const TypeInfo72 *info);
extern void register_dso_module_init(void (*fn)(void), int type);

#define MODULE_INIT_QOM 3

#define GLUE_(a, b) a##b
void QEMU_STAMP(void);
void QEMU_STAMP(void) {}
void qemu_module_dummy(void);
void qemu_module_dummy(void) {}

static int qtest_init_accel(void *ms) { (void)ms; return 0; }

static void qtest_accel_class_init(void *oc, void *data)
{
    AccelClass72 *ac = oc;
    (void)data;
    ac->name = "QTest";
    ac->init_machine = qtest_init_accel;
    ac->allowed = &qtest_allowed;
}

static void qtest_accel_ops_class_init(void *oc, void *data)
{
    AccelOpsClass72 *ops = oc;
    (void)data;
    ops->create_vcpu_thread = dummy_start_vcpu_thread;
    ops->get_virtual_clock = qtest_get_virtual_clock;
}

static const TypeInfo72 qtest_accel_type = {
    .name = "qtest-accel",
    .parent = "accel",
    .class_init = qtest_accel_class_init,
};

static const TypeInfo72 qtest_accel_ops_type = {
    .name = "qtest-accel-ops",
    .parent = "accel-ops",
    .class_init = qtest_accel_ops_class_init,
    .abstract = true,
};

static void qtest_type_init(void)
{
    type_register_static(&qtest_accel_type);
    type_register_static(&qtest_accel_ops_type);
}

__attribute__((constructor)) static void do_qemu_init_qtest_type_init(void)
{
    register_dso_module_init(qtest_type_init, MODULE_INIT_QOM);
}
