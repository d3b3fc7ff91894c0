/* media_dump: decodes one file with media_decode and writes what came out, for the
 * parity test against the ffmpeg CLI.
 *   media_dump FILE PREFIX [--start=S] [--end=E] [--crop=x,y,w,h] [--size=W] [--video=0]
 * writes PREFIX.pcm (f32le mono), PREFIX.gray (raw uint8 frames) and prints one line:
 *   samples N rate R frames F width W height H audio_start A video_start V has_video X
 * On failure prints the reason and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include "common/opts.h"
#include "common/util.h"
#include "data/media.h"

typedef struct { double start, end; int video, size; const char *crop; } dump_opts;

#define F(f) OPT_FIELD(dump_opts, f)
static const avm_optdef table[] = {
    {OPT_NUM, "start", F(start), .def = "0", .help = "seconds"},
    {OPT_NUM, "end", F(end), .def = "0", .help = "seconds (0: the end)"},
    {OPT_INT, "size", F(size), .def = "32", .lo = 1, .hi = 4096, .help = "frame width and height"},
    {OPT_STR, "crop", F(crop), .meta = "x,y,w,h", .help = "crop box before scaling (default: none)"},
    {OPT_FLAG, "video", F(video), .def = "1", .help = "decode the video too"},
    {.type = OPT_END},
};
static const avm_optspec spec = {"media_dump", "usage: media_dump FILE PREFIX [options]\n", table, "FILE PREFIX", NULL};

static void write_raw(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) avm_die("%s: cannot write", path);
}

int main(int argc, char **argv) {
    avm_opts op;
    dump_opts a;
    opts_parse(&op, &spec, &a, argc, argv);
    if (op.npos != 2) avm_die("media_dump: need FILE and PREFIX (see --help)");
    avm_media_opts o;
    media_default_opts(&o);
    o.start = a.start;
    o.end = a.end;
    o.want_video = a.video;
    o.width = o.height = a.size;
    const char *crop = a.crop;
    if (crop && sscanf(crop, "%d,%d,%d,%d", &o.crop[0], &o.crop[1], &o.crop[2], &o.crop[3]) != 4)
        avm_die("media_dump: --crop wants x,y,w,h");
    avm_media m;
    if (media_decode(op.pos[0], &o, &m) < 0) {
        fprintf(stderr, "%s\n", avm_error());
        opts_free(&op);
        return 1;
    }
    char *p = xasprintf("%s.pcm", op.pos[1]);
    write_raw(p, m.pcm, (size_t)m.n_samples * sizeof(float));
    free(p);
    p = xasprintf("%s.gray", op.pos[1]);
    write_raw(p, m.frames, (size_t)m.n_frames * m.width * m.height);
    free(p);
    printf("samples %lld rate %d frames %d width %d height %d audio_start %.6f video_start %.6f "
           "has_video %d src_rate %d src_channels %d\n", (long long)m.n_samples, m.sample_rate,
           m.n_frames, m.width, m.height, m.audio_start, m.video_start, m.has_video,
           m.src_sample_rate, m.src_channels);
    media_free(&m);
    opts_free(&op);
    return 0;
}
