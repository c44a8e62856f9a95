/*
 * ACPI PM block ("acpi-pm") and reset control register ("pc-reset-control"):
 * PM1 status write-1-to-clear, enables, SCI level, PM timer rate and
 * TMR_STS on bit 23 changes, power button, S5 shutdown, 0xcf9 reset,
 * vmstate.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/acpi/pm.h"
#include "hw/acpi/pm-dev.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "isa-test-util.h"

#define PM1_STS     ACPI_PM1_EVT_BLK
#define PM1_EN      (ACPI_PM1_EVT_BLK + 2)
#define PM1_CNT     ACPI_PM1_CNT_BLK
#define PM_TMR      ACPI_PM_TMR_BLK

static int shutdowns, resets;
static ShutdownCause last_cause;

static void on_shutdown(bool guest, ShutdownCause cause)
{
    shutdowns++;
    last_cause = cause;
}

static void on_reset(bool guest, ShutdownCause cause)
{
    resets++;
    last_cause = cause;
}

static const RunstateNotifiers notifiers = {
    .on_shutdown = on_shutdown,
    .on_reset = on_reset,
};

static uint64_t in(uint16_t port, unsigned size)
{
    uint64_t v;

    address_space_ld(&address_space_io, port, &v, size);
    return v;
}

static void out(uint16_t port, uint64_t val, unsigned size)
{
    address_space_st(&address_space_io, port, val, size);
}

static void handle_requests(void)
{
    int status;

    runstate_handle_requests(&status);
}

static DeviceState *dev_new(const char *type)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new(type, &err);

    g_assert_no_error(err);
    g_assert_true(qdev_realize(dev, isa_bus_get()->bus, &err));
    g_assert_no_error(err);
    return dev;
}

static void test_registers(void)
{
    DeviceState *pm = dev_new("acpi-pm");

    g_assert_cmphex(in(PM1_STS, 2), ==, 0);
    g_assert_cmphex(in(PM1_EN, 2), ==, 0);
    g_assert_cmphex(in(PM1_CNT, 2), ==, ACPI_PM1_CNT_SCI_EN);  /* always in ACPI mode */
    out(PM1_EN, 0x0121, 2);                     /* PWRBTN | GBL | TMR */
    g_assert_cmphex(in(PM1_EN, 2), ==, 0x0121);
    out(PM1_EN + 1, 0x00, 1);                   /* byte write leaves the low byte */
    g_assert_cmphex(in(PM1_EN, 2), ==, 0x0021);
    out(PM1_EN, 0xffff, 2);                     /* reserved bits read as 0 */
    g_assert_cmphex(in(PM1_EN, 2), ==, 0x0721);
    out(PM1_EN, 0, 2);
    out(PM1_CNT, 0x0006, 2);
    g_assert_cmphex(in(PM1_CNT, 2), ==, 0x0007);
    g_assert_cmpint(irq_level[9], ==, 0);
    qdev_free(pm);
}

static void test_pm_timer(void)
{
    DeviceState *pm = dev_new("acpi-pm");
    uint32_t t0, t1, ticks;
    int64_t ns;

    t0 = in(PM_TMR, 4);
    g_assert_cmphex(t0 & 0xff000000, ==, 0);
    clock_step(NANOSECONDS_PER_SECOND);
    t1 = in(PM_TMR, 4);
    g_assert_cmpint((t1 - t0) & 0xffffff, >=, 3579544);
    g_assert_cmpint((t1 - t0) & 0xffffff, <=, 3579546);

    /* No timer while TMR_EN is clear; TMR_STS still appears when bit 23 flips. */
    out(PM1_STS, 0xffff, 2);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    ticks = in(PM_TMR, 4);
    ns = (int64_t)(0x800000 - (ticks & 0x7fffff) + 2) * NANOSECONDS_PER_SECOND / 3579545;
    clock_step(ns - 2000);
    g_assert_cmphex(in(PM1_STS, 2) & 1, ==, 0);
    clock_step(4000);
    g_assert_cmphex(in(PM1_STS, 2) & 1, ==, 1);
    out(PM1_STS, 0x0001, 2);
    g_assert_cmphex(in(PM1_STS, 2) & 1, ==, 0);

    /* With TMR_EN the overflow raises the SCI through a timer. */
    out(PM1_EN, ACPI_PM1_STS_TMR, 2);
    g_assert_cmpint(qemu_clock_virtual_deadline(), >, 0);
    g_assert_cmpint(irq_level[9], ==, 0);
    clock_step(2400 * 1000 * 1000LL);           /* > 2^23 / 3.579545 MHz */
    g_assert_cmpint(irq_level[9], ==, 1);
    out(PM1_STS, 0x0001, 2);
    g_assert_cmpint(irq_level[9], ==, 0);
    out(PM1_EN, 0, 2);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    qdev_free(pm);
}

static void test_power_button(void)
{
    DeviceState *pm = dev_new("acpi-pm");

    acpi_pm_power_button(pm);                   /* not enabled: ignored (QEMU) */
    g_assert_cmphex(in(PM1_STS, 2), ==, 0);
    out(PM1_EN, ACPI_PM1_STS_PWRBTN, 2);
    acpi_pm_power_button(pm);
    g_assert_cmphex(in(PM1_STS, 2), ==, ACPI_PM1_STS_PWRBTN);
    g_assert_cmpint(irq_level[9], ==, 1);
    out(PM1_STS, 0x00ff, 2);                    /* other bits: no effect */
    g_assert_cmpint(irq_level[9], ==, 1);
    out(PM1_STS + 1, 0x01, 1);                  /* byte write of 1 to bit 8 */
    g_assert_cmphex(in(PM1_STS, 2), ==, 0);
    g_assert_cmpint(irq_level[9], ==, 0);
    acpi_pm_power_button(pm);
    g_assert_cmpint(irq_level[9], ==, 1);
    qdev_reset(pm);
    g_assert_cmpint(irq_level[9], ==, 0);
    g_assert_cmphex(in(PM1_EN, 2), ==, 0);
    qdev_free(pm);
}

static void test_sleep(void)
{
    DeviceState *pm = dev_new("acpi-pm");

    shutdowns = 0;
    out(PM1_CNT, (1 << 10) | ACPI_PM1_CNT_SLP_EN, 2);     /* S1-ish: unsupported */
    handle_requests();
    g_assert_cmpint(shutdowns, ==, 0);
    g_assert_cmphex(in(PM1_CNT, 2) & ACPI_PM1_CNT_SLP_EN, ==, 0);  /* write-only */
    out(PM1_CNT, (ACPI_S5_SLP_TYP << 10) | ACPI_PM1_CNT_SLP_EN, 2);
    handle_requests();
    g_assert_cmpint(shutdowns, ==, 1);
    g_assert_cmpint(last_cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    qdev_free(pm);
}

static void test_reset_control(void)
{
    DeviceState *rc = dev_new("pc-reset-control");

    resets = 0;
    g_assert_cmphex(in(ACPI_RESET_PORT, 1), ==, 0);
    out(ACPI_RESET_PORT, 0x02, 1);
    g_assert_cmphex(in(ACPI_RESET_PORT, 1), ==, 0x02);
    handle_requests();
    g_assert_cmpint(resets, ==, 0);
    out(ACPI_RESET_PORT, ACPI_RESET_VALUE, 1);
    handle_requests();
    g_assert_cmpint(resets, ==, 1);
    g_assert_cmpint(last_cause, ==, SHUTDOWN_CAUSE_GUEST_RESET);
    g_assert_cmphex(in(ACPI_RESET_PORT, 1), ==, 0);        /* reset by the reset */
    qdev_free(rc);
}

static void test_vmstate(void)
{
    DeviceState *pm = dev_new("acpi-pm");
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    out(PM1_EN, ACPI_PM1_STS_PWRBTN, 2);
    acpi_pm_power_button(pm);
    out(PM1_CNT, 0x0004, 2);
    g_assert_true(vmstate_save(pm->klass->vmsd, pm, buf, &err));
    qdev_reset(pm);
    g_assert_cmpint(irq_level[9], ==, 0);
    g_assert_true(vmstate_load(pm->klass->vmsd, pm, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpint(irq_level[9], ==, 1);
    g_assert_cmphex(in(PM1_CNT, 2), ==, 0x0005);
    g_assert_cmphex(in(PM1_STS, 2), ==, ACPI_PM1_STS_PWRBTN);
    qdev_free(pm);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    isa_test_init(NULL);
    runstate_add_notifiers(&notifiers);

    g_test_add_func("/acpi-pm/registers", test_registers);
    g_test_add_func("/acpi-pm/pm-timer", test_pm_timer);
    g_test_add_func("/acpi-pm/power-button", test_power_button);
    g_test_add_func("/acpi-pm/sleep", test_sleep);
    g_test_add_func("/acpi-pm/reset-control", test_reset_control);
    g_test_add_func("/acpi-pm/vmstate", test_vmstate);
    return g_test_run();
}
