# Profile "clusters": HuBERT / AV-HuBERT cluster targets, 2 iterations, 3 training seeds per
# arm, on the full profile's corpus (40 speakers x 30 utterances, 8 held out, SNR
# clean/10/5/0), small models. Estimated 75 minutes on 2 free cores (recipes/README.md,
# "Cluster targets": per-step timings; not yet measured end to end). Sizes shrink, not rigor:
# 12 pretrainings (2 arms x 2 iterations x 3 seeds) of 300 steps instead of 2 of 1500, fine-tuning
# 600 steps instead of 2000, one probe lr.
speakers=40; utts_per_speaker=30; heldout_speakers=8; snr=clean,10,5,0
model=small
target=clusters; iterations=2; km_k="100 100"; train_seeds="1 2 3"
km_opts="--n-init=3 --iters=8"   # a layer pass is a forward over train: ~5 s each
pretrain_steps=300; batch_tokens=4000; pretrain_lr=5e-4; pretrain_warmup=30
finetune_steps=600; finetune_lr=1e-3; freeze_steps=50; labeled_utts=300
valid_every=100; finetune_valid_every=200
finetune_opts="--time-mask-prob=0.05 --time-mask-len=5 --freq-masks=2 --freq-mask-width=20"
probe_steps=300; probe_lr=2e-2   # the lr the full profile's probes chose on dev
