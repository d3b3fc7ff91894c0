/* Steps shared by the masked-prediction model (avmodel.c) and the audio branch
 * (avmodel_audio.c). Not part of the public API. */
#ifndef AVMASK_AVMODEL_INTERNAL_H
#define AVMASK_AVMODEL_INTERNAL_H
#include "models/avmodel.h"

void avmodel_reserve(avm_model *m, int B, int T);
void avmodel_stream_forward(avm_model *m, avm_stream *s, const float *input, const int *len,
                            const uint8_t *mask, int B, int T, float p, float attn_p, avm_rng *rng);
void avmodel_stream_backward(avm_model *m, avm_stream *s, const float *input, float *dX, int B, int T,
                             float p, float attn_p, const float *const *dhidden);
void avmodel_fusion_forward(avm_model *m, int B, int Tf, float p, float attn_p, avm_rng *rng);
void avmodel_fusion_backward(avm_model *m, float *dZ, int B, int Tf, float p, float attn_p,
                             const float *const *dhidden);
void avmodel_fuse_tokens(avm_model *m, const uint8_t *drop_a, const uint8_t *drop_v, int video, int B, int T);
/* The projection of avmodel_fuse_tokens on given rows: a (and v, NULL: zeros) [B*T, d] ->
 * y [B*T, d]; cat [B*T, 2d] is scratch (S = 2). */
void avmodel_fuse_rows(const avm_model *m, const float *a, const float *v, const uint8_t *drop_a,
                       const uint8_t *drop_v, int B, int T, float *cat, float *y);
void avmodel_unfuse_tokens(avm_model *m, const float *dZ, const uint8_t *drop_a, const uint8_t *drop_v,
                           int B, int T, float *dcat, float *dA, float *dV);
void avmodel_clusters_register(avm_model *m);
void avmodel_clusters_free(avm_model *m);
int  avmodel_clusters_forward(avm_model *m, const avm_batch *bt, int Tf, avm_loss *loss);
void avmodel_clusters_backward(avm_model *m, float weight, float *dZ);
int  avmodel_check_shape(const avm_model *m, const int *len, int B, int T);
void avmodel_infer_free(avm_model *m);
void avmodel_add_rows(float *g, const float *dh, const uint8_t *pad, int n, int d);
#endif
