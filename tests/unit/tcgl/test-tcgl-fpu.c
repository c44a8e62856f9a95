/*
 * tcg-lite part "fp": x87 handlers.
 */
#include <glib.h>
#include "stub-fp.h"

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    return g_test_run();
}
