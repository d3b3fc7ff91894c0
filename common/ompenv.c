#include "common/ompenv.h"
#include <stdlib.h>
#include <unistd.h>

int ompenv_set_passive(void) {
    if (getenv("OMP_WAIT_POLICY")) return 0;       /* the user's choice stands */
    return setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0;
}

void env_reexec(char **argv) { execv("/proc/self/exe", argv); }
