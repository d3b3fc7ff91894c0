#!/usr/bin/env bash
# timeout: 120
# PyTorch parity (torch 1.13, float64 reference) of models/:
#  - single ops: linear, layer norm, GELU, attention core with padding, L1/L2 losses, the
#    layer mix of fine-tuning (softmax-weighted states, with and without their LayerNorm);
#  - one pre-LN encoder layer with padding: output, input gradient, every parameter gradient;
#  - the whole audio-visual model (dropout 0, same masks and modality-dropout decisions):
#    losses and every parameter gradient, for av+L1, av+InfoNCE, av with separate (clean)
#    targets, av with substituted video (masked video rows keep their input), audio-only+L2, and the exported audio branch (output, hidden-state gradients,
#    every parameter gradient); with per-token fusion (concat) and again with fusion=sequence;
#    and target=clusters (HuBERT's cosine cross-entropy on cluster ids, F.cosine_similarity in
#    the reference): AV with dropped streams, audio-only, AV with unmasked_weight 0.5 (loss,
#    masked accuracy, every parameter gradient); and av+L1 with every video dropped (the
#    no-video pass's batch, on which the model skips the video encoder: zero video gradients);
#  - the text ops (tests/ref/torch_text.py): token embedding with padding_idx, masked mean
#    pooling, cross-entropy with ignore_index (mean and a global denominator), the triplet
#    loss (hardest negatives of other classes, chosen independently, and given ones; raw and
#    L2-normalised), and the whole text encoder (MLM loss over every token with
#    ignore_index + a pooled term: loss, pooled embeddings, every parameter gradient);
#  - S2I's training loss (tests/ref/torch_s2i.py) on a small audio encoder with padding: masked
#    mean pooling, projection, classifier, cross-entropy over a global batch larger than the
#    slice, and each cross-modal loss (none, l2, triplet with its hardest negatives among
#    the slice's texts and a pool, InfoNCE over the pool): the loss, its parts, the chosen
#    negatives and every parameter gradient;
#  - TinyS2I's joint loss (tests/ref/torch_tinys2i.py): decision and command cross-entropies
#    on the pooled, projected embedding and the triplet of title utterances against a jointly
#    trained title encoder's pooled embeddings: the loss, its parts and every gradient of the
#    audio encoder, the head and the title encoder.
# Tolerance: relative error max|c - ref| / max(max|ref|, 1e-6) per tensor <= 1e-4.
set -euo pipefail
tools="$AVMASK_BUILD/tools"
export OMP_NUM_THREADS=1

mkdir ops
"$tools/parity_ops" write ops
"$PY" "$AVMASK_ROOT/tests/ref/torch_ops.py" ops
"$tools/parity_ops" check ops

mkdir layer
"$tools/parity_layer" write layer
"$PY" "$AVMASK_ROOT/tests/ref/torch_layer.py" layer
"$tools/parity_layer" check layer

mkdir text
"$tools/parity_text" write text
"$PY" "$AVMASK_ROOT/tests/ref/torch_text.py" text
"$tools/parity_text" check text

mkdir s2i
"$tools/parity_s2i" write s2i
"$PY" "$AVMASK_ROOT/tests/ref/torch_s2i.py" s2i
"$tools/parity_s2i" check s2i

mkdir tinys2i
"$tools/parity_tinys2i" write tinys2i
"$PY" "$AVMASK_ROOT/tests/ref/torch_tinys2i.py" tinys2i
"$tools/parity_tinys2i" check tinys2i

cases="av_l1 av_infonce av_target av_subst audio_l2 branch av_seq audio_seq branch_seq av_clusters audio_clusters av_clusters_u av_novideo"
for case in $cases; do
    mkdir "$case"
    "$tools/parity_avmodel" write "$case" "$case"
done
"$PY" "$AVMASK_ROOT/tests/ref/torch_avmodel.py" $cases
for case in $cases; do
    "$tools/parity_avmodel" check "$case" "$case"
done
