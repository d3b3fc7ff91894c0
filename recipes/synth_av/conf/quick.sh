# Profile "quick": the demo. The whole recipe in a few minutes on 2 cores; a tiny corpus
# and tiny models, so the error rates are only a smoke test of the pipeline.
speakers=8; utts_per_speaker=8; heldout_speakers=2; snr=clean,5
model=tiny
pretrain_steps=150; batch_tokens=2000; pretrain_lr=1e-3; pretrain_warmup=20
finetune_steps=150; finetune_lr=1e-3; freeze_steps=0; labeled_utts=0   # 0: all of train
valid_every=50
