#define _GNU_SOURCE
#include "common/util.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) avm_die("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) avm_die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) avm_die("out of memory (%zu bytes)", n);
    return p;
}

void *xgrow(void *p, size_t *cap, size_t need) {
    if (need <= *cap) return p;
    *cap = need;
    return xrealloc(p, need);
}

char *xstrdup(const char *s) {
    char *d = strdup(s);
    if (!d) avm_die("out of memory");
    return d;
}

char *xasprintf(const char *fmt, ...) {
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) avm_die("out of memory");
    return s;
}

char *path_join(const char *dir, const char *rel) {
    if (rel[0] == '/' || !dir || !dir[0]) return xstrdup(rel);
    size_t n = strlen(dir);
    return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", rel);
}

int mkdir_p(const char *path) {
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) && errno != EEXIST) {
            int e = errno; free(p);
            return avm_fail("%s: cannot create directory: %s", path, strerror(e));
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, 0777) && errno != EEXIST) rc = avm_fail("%s: cannot create directory: %s", path, strerror(errno));
    else if (!dir_exists(p)) rc = avm_fail("%s: exists and is not a directory", path);
    free(p);
    return rc;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dir_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { avm_fail("%s: cannot open: %s", path, strerror(errno)); return NULL; }
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) buf = xrealloc(buf, cap *= 2);
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); avm_fail("%s: read error", path); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static int fsync_dir_of(const char *path) {
    char *p = xstrdup(path);
    int fd = open(dirname(p), O_RDONLY | O_DIRECTORY);
    free(p);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int atomic_rename(const char *tmp, const char *dst) {
    int fd = open(tmp, O_RDONLY);
    if (fd < 0) return avm_fail("%s: cannot open to sync: %s", tmp, strerror(errno));
    if (fsync(fd)) { close(fd); return avm_fail("%s: fsync failed: %s", tmp, strerror(errno)); }
    close(fd);
    if (rename(tmp, dst)) return avm_fail("%s: cannot rename to %s: %s", tmp, dst, strerror(errno));
    fsync_dir_of(dst);
    return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len) {
    char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) { free(tmp); return avm_fail("%s: cannot write: %s", path, strerror(errno)); }
    int ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    int rc = ok ? atomic_rename(tmp, path) : avm_fail("%s: write failed", path);
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int lines_open(avm_lines *r, const char *path) {
    memset(r, 0, sizeof *r);
    r->f = fopen(path, "r");
    if (!r->f) return avm_fail("%s: cannot open: %s", path, strerror(errno));
    r->path = xstrdup(path);
    return 0;
}

char *lines_next(avm_lines *r) {
    if (r->bad) return NULL;
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0) {
        if (ferror(r->f)) { r->bad = 1; avm_fail("%s: read error after line %d", r->path, r->lineno); }
        return NULL;
    }
    r->lineno++;
    if (memchr(r->line, 0, (size_t)n)) {
        r->bad = 1;
        avm_fail("%s:%d: NUL byte in the line (binary or corrupted file?)", r->path, r->lineno);
        return NULL;
    }
    while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r')) r->line[--n] = 0;
    return r->line;
}

int lines_close(avm_lines *r) {
    int bad = r->bad;
    if (r->f) fclose(r->f);
    free(r->line);
    free(r->path);
    memset(r, 0, sizeof *r);
    return bad ? -1 : 0;
}

/* Length of the UTF-8 sequence at s, or 0 if it is malformed. */
static int utf8_seq(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    int n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (!n || s[0] > 0xF4) return 0;
    unsigned cp = s[0] & (0x3F >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

int utf8_valid(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_seq(p);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

int split_ws(char *s, char **fields, int max) {
    int n = 0;
    while (*s && n < max) {
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) break;
        fields[n++] = s;
        while (*s && *s != ' ' && *s != '\t') s++;
        if (*s) *s++ = 0;
    }
    return n;
}

long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}
