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

static const char *usage =
    "usage: media_dump FILE PREFIX [--start=S] [--end=E] [--crop=x,y,w,h] [--size=W] [--video=0]\n";

static void write_raw(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) avm_die("%s: cannot write", path);
}

int main(int argc, char **argv) {
    avm_opts op;
    opts_parse(&op, "media_dump", usage, argc, argv);
    if (op.npos != 2) avm_die("media_dump: need FILE and PREFIX (see --help)");
    avm_media_opts o;
    media_default_opts(&o);
    o.start = opt_num(&op, "start", 0);
    o.end = opt_num(&op, "end", 0);
    o.want_video = opt_bool(&op, "video", 1);
    o.width = o.height = (int)opt_int_range(&op, "size", 32, 1, 4096);
    const char *crop = opt_str(&op, "crop", NULL);
    if (crop && sscanf(crop, "%d,%d,%d,%d", &o.crop[0], &o.crop[1], &o.crop[2], &o.crop[3]) != 4)
        avm_die("media_dump: --crop wants x,y,w,h");
    opts_finish(&op);
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
