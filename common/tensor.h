/* A named float32 tensor: the unit that parameter files (data/params_h5.h) store, and the
 * form in which a model's parameter views (models/params.h, params_tensors) are handed to
 * them, so that data/ needs no model type and models/ no file code. */
#ifndef AVMASK_TENSOR_H
#define AVMASK_TENSOR_H
#include <stddef.h>

#define AVM_TENSOR_MAX_DIMS 4

typedef struct {
    const char *name;                  /* PyTorch-style, e.g. "audio_encoder.layers.0.norm1.weight" */
    int ndim;
    int shape[AVM_TENSOR_MAX_DIMS];
    size_t numel;                      /* product of the shape */
    float *data;                       /* numel floats, not owned */
} avm_tensor;
#endif
