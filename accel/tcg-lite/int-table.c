/*
 * tcg-lite integer instructions: the table that hands the handlers of
 * int-*.c to the decoder.
 */
#include "tcgl.h"

const TCGLOpDesc tcgl_ops_int[] = {
    TCGL_OPDESC_END
};
