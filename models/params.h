/* All parameters of a model in one contiguous float32 buffer, with named views
 * (PyTorch-style names such as "audio_encoder.layers.0.attn.in_proj.weight"), and
 * the gradients in a second buffer of the same layout. A checkpoint, an export and an
 * MPI all-reduce are each one pass over one buffer.
 * Build in two phases: params_add() every tensor (records name, shape, offset), then
 * params_alloc() once; a view's memory is data + offset (grad + offset). */
#ifndef AVMASK_PARAMS_H
#define AVMASK_PARAMS_H
#include <stddef.h>
#include "common/tensor.h"

#define AVM_MAX_DIMS AVM_TENSOR_MAX_DIMS

typedef struct {
    char *name;
    size_t offset, numel;
    int ndim;
    int shape[AVM_MAX_DIMS];
    int decay;              /* 1: AdamW weight decay applies (matrices), 0: biases, norms, embeddings */
    long frozen;            /* the optimiser leaves the view as it is during its first `frozen`
                             * updates (0: trains from the first; LONG_MAX: never trains) */
} avm_param;

typedef struct {
    avm_param *p;
    int n, cap;
    size_t total;           /* floats in data (and in grad) */
    float *data, *grad;     /* NULL until params_alloc */
    int borrowed;           /* 1: data and grad are a slice of a joined buffer (params_join) */
} avm_params;

/* Registers a tensor; returns its offset. Dies on a duplicate name or after alloc. */
size_t params_add(avm_params *ps, const char *name, int ndim, const int *shape, int decay);
void   params_alloc(avm_params *ps);         /* zeroed data and grad, 64-byte aligned */
const avm_param *params_find(const avm_params *ps, const char *name);   /* NULL if absent */
float *params_data(const avm_params *ps, const char *name);             /* dies if absent */
void   params_zero_grad(avm_params *ps);
/* Values of the views (total adds alignment padding): the model's parameter count. */
size_t params_values(const avm_params *ps);
/* Frees names and, unless borrowed, data and grad. */
void   params_free(avm_params *ps);
/* The views of buf (this layout: data, grad or an optimizer moment) that keep accepts (keep
 * NULL: all), in view order, as named tensors for parameter files; returns their count and
 * an array in *out (names borrowed from ps; caller frees the array). */
int    params_tensors(const avm_params *ps, float *buf, int (*keep)(const char *), avm_tensor **out);
/* One buffer for parameter sets trained together (an encoder and its head): dst gets the
 * views of parts[0], parts[1], ... in that order (names must differ), each part's slice
 * starting 16-float aligned. The parts' values are copied in, then each part's data and
 * grad become its slice of dst's, so code holding a part (offsets into its data and grad)
 * runs on the one buffer that an optimiser, a checkpoint or an all-reduce passes over.
 * The parts no longer own memory: free dst after the last use of a part. */
void   params_join(avm_params *dst, avm_params *const *parts, int n);
#endif
