/*
 * Stand-ins for the other tcg-lite parts' functions that mmu.c calls, for
 * the "mmu" unit tests: tcgl_raise records the exception in c->event and
 * unwinds to c->jmp, as excp.c's does.
 */
#include "tcgl.h"

void tcgl_raise(TCGLCPU *c, int vector, int err)
{
    c->event.kind = TCGL_EV_FAULT;
    c->event.vector = (uint8_t)vector;
    c->event.has_error = err >= 0;
    c->event.error = err >= 0 ? (uint32_t)err : 0;
    siglongjmp(c->jmp, 1);
}
