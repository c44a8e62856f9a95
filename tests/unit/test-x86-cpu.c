/* The shared vCPU state's reset values and register dump (accel/x86-cpu.c). */
#include <string.h>
#include <glib.h>
#include "accel/cpu.h"

static void test_reset_bsp_ap(void)
{
    X86CPUState *env = g_new0(X86CPUState, 1);
    uint64_t xstate_bv;

    x86_cpu_reset_state(env, 0, true);
    g_assert_cmphex(env->rip, ==, 0xfff0);
    g_assert_cmphex(env->segs[R_CS].base, ==, 0xffff0000);
    g_assert_cmphex(env->dr[6], ==, 0xffff0ff0);
    g_assert_cmphex(env->dr[7], ==, 0x400);
    g_assert_cmphex(env->xcr0, ==, XSTATE_FP);
    g_assert_cmphex(env->misc_enable, ==, 1);           /* a field, not forced on put */
    g_assert_cmphex(env->mtrr_deftype, ==, 0);
    g_assert_cmpint(env->mp_state, ==, CPU_MP_RUNNABLE);
    g_assert_cmphex(env->apic_base, ==, 0xfee00900);
    /* fxsave is the first 512 bytes of the XSAVE area. */
    g_assert_true((void *)env->fxsave == (void *)env->xsave);
    g_assert_cmphex(env->fxsave[0] | env->fxsave[1] << 8, ==, 0x37f);
    g_assert_cmphex(env->xsave[24] | env->xsave[25] << 8, ==, 0x1f80);
    memcpy(&xstate_bv, env->xsave + X86_XSAVE_HDR_OFFSET, 8);
    g_assert_cmphex(xstate_bv, ==, XSTATE_FP | XSTATE_SSE);
    /* LAPIC page: ID, DFR, SVR disabled, LVTs masked, BSP in virtual wire. */
    g_assert_cmphex(x86_lapic_reg(env, 0x20), ==, 0);
    g_assert_cmphex(x86_lapic_reg(env, 0xe0), ==, 0xffffffff);
    g_assert_cmphex(x86_lapic_reg(env, 0xf0), ==, 0xff);
    g_assert_cmphex(x86_lapic_reg(env, 0x320), ==, 0x10000);
    g_assert_cmphex(x86_lapic_reg(env, 0x350), ==, 0x700);
    g_assert_cmphex(x86_lapic_reg(env, 0x360), ==, 0x10000);
    g_assert_cmphex(x86_lapic_reg(env, 0x370), ==, 0x10000);
    g_assert_cmphex(x86_lapic_reg(env, 0x2000), ==, 0);  /* outside the page */

    x86_cpu_reset_state(env, 3, false);
    g_assert_cmpint(env->mp_state, ==, CPU_MP_UNINITIALIZED);
    g_assert_cmphex(env->apic_base, ==, 0xfee00800);
    g_assert_cmphex(x86_lapic_reg(env, 0x20), ==, 3u << 24);
    g_assert_cmphex(x86_lapic_reg(env, 0x350), ==, 0x10000);
    g_free(env);
}

static void test_mp_state_names(void)
{
    g_assert_cmpstr(x86_mp_state_name(CPU_MP_HALTED), ==, "halted");
    g_assert_cmpstr(x86_mp_state_name(CPU_MP_SIPI_RECEIVED), ==, "sipi-received");
    g_assert_cmpstr(x86_mp_state_name((X86MPState)42), ==, "?");
}

static void test_dump(void)
{
    X86CPUState *env = g_new0(X86CPUState, 1);
    g_autoptr(GString) out = g_string_new(NULL);

    x86_cpu_reset_state(env, 0, true);
    env->dr[0] = 0xdea000;
    env->dr[7] = 0xd0409;
    env->mp_state = CPU_MP_HALTED;
    memset(env->fxsave + 160, 0x11, 8);         /* XMM0 low */
    memset(env->fxsave + 168, 0x22, 8);         /* XMM0 high */
    x86_cpu_dump_state(env, out);
    g_assert_nonnull(strstr(out->str, "DR0=0000000000dea000 DR1=0000000000000000"));
    g_assert_nonnull(strstr(out->str, "DR6=00000000ffff0ff0 DR7=00000000000d0409\n"));
    g_assert_nonnull(strstr(out->str, "FCW=037f FSW=0000 FTW=00 MXCSR=00001f80\n"));
    g_assert_nonnull(strstr(out->str, "XMM00=22222222222222221111111111111111 XMM01="));
    g_assert_nonnull(strstr(out->str, "HLT=1\n"));
    g_assert_nonnull(strstr(out->str, "MP=halted\n"));
    g_free(env);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86-cpu/reset", test_reset_bsp_ap);
    g_test_add_func("/x86-cpu/mp-state-names", test_mp_state_names);
    g_test_add_func("/x86-cpu/dump", test_dump);
    return g_test_run();
}
