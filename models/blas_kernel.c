#include "models/blas_kernel.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);

#define DETECTED_ENV "AVMASK_BLAS_DETECTED"

const char *blas_kernel_current(void) { return openblas_get_corename(); }

const char *cpu_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "AVX-512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "AVX2";
    if (__builtin_cpu_supports("avx")) return "AVX";
    return "SSE";
}

const char *blas_kernel_for_cpu(void) {
    const char *isa = cpu_isa();
    if (!strcmp(isa, "AVX-512")) return "SkylakeX";
    if (!strcmp(isa, "AVX2")) return "Haswell";
    if (!strcmp(isa, "AVX")) return "Sandybridge";
    return NULL;
}

int blas_kernel_rank(const char *name) {
    static const struct { const char *name; int rank; } k[] = {
        {"SkylakeX", 4}, {"Cooperlake", 4}, {"SapphireRapids", 4},
        {"Haswell", 3}, {"Zen", 3}, {"Excavator", 3},
        {"Sandybridge", 2}, {"Bulldozer", 2}, {"Piledriver", 2}, {"Steamroller", 2},
        {"Prescott", 1}, {"Core2", 1}, {"Penryn", 1}, {"Dunnington", 1}, {"Nehalem", 1}, {"Atom", 1},
        {"Opteron", 1}, {"Barcelona", 1}, {"Nano", 1}, {"Katmai", 1}, {"Coppermine", 1}, {"Northwood", 1},
        {"Banias", 1}};
    if (!name) return 0;
    for (size_t i = 0; i < sizeof k / sizeof *k; i++)
        if (!strcasecmp(name, k[i].name)) return k[i].rank;
    return 0;
}

int blas_kernel_select(void) {
    if (getenv("OPENBLAS_CORETYPE")) return 0;      /* the user's choice, or ours after the re-exec */
    const char *now = blas_kernel_current(), *best = blas_kernel_for_cpu();
    int r = blas_kernel_rank(now);
    if (!best || !r || r >= blas_kernel_rank(best)) return 0;   /* unknown names: leave them */
    if (setenv(DETECTED_ENV, now, 1) || setenv("OPENBLAS_CORETYPE", best, 1)) return 0;
    return 1;
}

static void cpu_model(char *buf, size_t n) {
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !c) continue;
        c += 1 + strspn(c + 1, " \t");
        c[strcspn(c, "\n")] = 0;
        snprintf(buf, n, "%s", c);
        break;
    }
    fclose(f);
}

void blas_kernel_describe(char *buf, size_t n, int threads) {
    char cpu[256], why[160] = "";
    cpu_model(cpu, sizeof cpu);
    const char *now = blas_kernel_current(), *best = blas_kernel_for_cpu(), *det = getenv(DETECTED_ENV);
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (det && user) snprintf(why, sizeof why, " (chosen by avmask; OpenBLAS picked %s)", det);
    else if (user) snprintf(why, sizeof why, " (OPENBLAS_CORETYPE=%s)", user);
    const char *config = openblas_get_config();
    char lib[64];
    snprintf(lib, sizeof lib, "%.*s", (int)strcspn(config, " "), config);
    int len = snprintf(buf, n, "CPU %s, %s, BLAS %s %.*s kernel %s%s, %d thread(s)", cpu, cpu_isa(), lib,
                       (int)strcspn(config + strlen(lib) + 1, " "), config + strlen(lib) + 1, now, why, threads);
    if (len < 0 || (size_t)len >= n) return;
    if (best && blas_kernel_rank(now) && blas_kernel_rank(now) < blas_kernel_rank(best))
        snprintf(buf + len, n - len, "; warning: kernel %s is below this CPU's %s (set OPENBLAS_CORETYPE=%s "
                 "or unset it)", now, cpu_isa(), best);
}
