/* 16-bit mono PCM WAV files: exact, read by every tool (and by avmask extract through
 * wav.scp). Used by the noise/ data dir and the spoken-command corpus. */
#ifndef AVMASK_SYNTH_WAV_H
#define AVMASK_SYNTH_WAV_H

/* Writes x[n] (clipped to [-1, 1], scaled by 32767 and rounded) at `rate` Hz.
 * 0, or -1 + avm_fail naming the file. */
int synth_wav_write(const char *path, const float *x, int n, int rate);
#endif
