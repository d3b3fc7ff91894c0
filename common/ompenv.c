#include "common/ompenv.h"
#include <stdlib.h>
#include <unistd.h>

void ompenv_default_passive(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;       /* the user's choice stands */
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with libgomp's default */
}
