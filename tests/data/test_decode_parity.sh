#!/usr/bin/env bash
# timeout: 120
# media_decode vs the ffmpeg CLI on small generated clips covering containers, codecs,
# audio rates and layouts, variable frame rate, audio that starts after the video,
# segments and crop boxes. Tolerances and why: tests/ref/media_compare.py.
set -eu
ff() { ffmpeg -hide_banner -nostdin -loglevel error -y "$@"; }
enc=$(ffmpeg -hide_banner -encoders 2>/dev/null)
for e in libx264 libvpx libvpx-vp9 libopus libvorbis aac mjpeg mpeg4 pcm_s16le; do
    grep -q " $e " <<<"$enc" || { echo "ffmpeg lacks encoder $e"; exit 1; }
done
# Few encoder runs (each ffmpeg start costs ~0.3 s of CPU): one run writes several files.
V="-f lavfi -i testsrc2=s=96x96:r=30:d=2"
MONO="-f lavfi -i sine=f=440:d=2:r=44100"            # the segment tolerance assumes this
STEREO="-f lavfi -i aevalsrc=0.3*sin(440*2*PI*t)|0.2*sin(660*2*PI*t):s=48000:d=2"
ff $MONO $STEREO $V \
   -map 2:v -map 0:a -c:v libx264 -pix_fmt yuv420p -c:a aac h264_aac.mp4 \
   -map 2:v -map 1:a -c:v libvpx-vp9 -deadline realtime -c:a libopus vp9_opus.mkv \
   -map 2:v -map 0:a -c:v libvpx -deadline realtime -c:a libvorbis vp8_vorbis.webm \
   -map 2:v -map 0:a -c:v mjpeg -c:a pcm_s16le -ar 8000 mjpeg_pcm.avi \
   -map 2:v -map 1:a -c:v mpeg4 -c:a aac mpeg4_aac.mov \
   -map 0:a -c:a aac audio_only.m4a
# variable frame rate: 30 fps for 20 frames then 12 fps (4 s in all); and two of three
# frames dropped among the first 40
ff $MONO $V \
   -map 1:v -map 0:a -vf "setpts='if(lt(N\,20)\,N/30\,20/30+(N-20)/12)/TB'" -fps_mode vfr \
   -c:v mpeg4 -c:a libopus -ar 16000 vfr_setpts.mkv \
   -map 1:v -map 0:a -vf "select='not(mod(n\,3))+gt(n\,40)'" -fps_mode vfr \
   -c:v libx264 -c:a aac -ar 22050 vfr_drop.mp4
# audio starting 0.5 s after the video (stereo 44.1 kHz Vorbis, mono AAC)
ff $V -itsoffset 0.5 -f lavfi -i "aevalsrc=0.3*sin(440*2*PI*t)|0.2*sin(660*2*PI*t):s=44100:d=1.5" \
   -c:v libx264 -c:a libvorbis late_audio.mkv -c:v libx264 -c:a aac -ac 1 late_audio.mp4
# video starting 0.3 s after the audio: the first output slot is round(0.303 * 25) = 8
# (0.303: the Vorbis stream starts at -3 ms, which becomes time 0)
ff $MONO -itsoffset 0.3 -f lavfi -i testsrc2=s=96x96:r=30:d=1.5 -c:v libx264 -c:a libvorbis late_video.mkv

"$PY" "$AVMASK_ROOT/tests/ref/media_compare.py" "$AVMASK_BUILD/tools/media_dump" \
    "h264_aac.mp4 --expect-frames=50" \
    "vp9_opus.mkv --expect-frames=50" \
    "vp8_vorbis.webm --expect-frames=50" \
    "mjpeg_pcm.avi --expect-frames=50 --expect-audio_start=0" \
    "mpeg4_aac.mov --expect-frames=50" \
    "vfr_setpts.mkv --expect-frames=99" \
    "vfr_drop.mp4 --expect-frames=50" \
    "late_audio.mkv --expect-frames=50 --expect-audio_start=0.5" \
    "late_audio.mp4 --expect-frames=50 --expect-audio_start=0.5" \
    "late_video.mkv --expect-frames=37 --expect-video_start=0.32" \
    "audio_only.m4a --expect-frames=0" \
    "h264_aac.mp4 --start=0.5 --end=1.5 --expect-frames=25" \
    "mjpeg_pcm.avi --start=0.4 --end=1.2 --expect-frames=20" \
    "h264_aac.mp4 --crop=10,20,40,30 --expect-frames=50" \
    "mjpeg_pcm.avi --crop=11,21,41,31 --size=24 --expect-frames=50"
