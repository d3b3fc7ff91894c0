# Profile "full": numbers meant to be read, about 45 minutes on 2 cores.
speakers=40; utts_per_speaker=30; heldout_speakers=8; snr=clean,10,5,0
model=small
pretrain_steps=1500; batch_tokens=4000; pretrain_lr=5e-4; pretrain_warmup=150
finetune_steps=2000; finetune_lr=1e-3; freeze_steps=100; labeled_utts=300
valid_every=250; finetune_valid_every=500
# SpecAugment on top of the encoder's dropout: the best fine-tuning of docs/results.md
finetune_opts="--time-mask-prob=0.05 --time-mask-len=5 --freq-masks=2 --freq-mask-width=20"
# what the development run of this profile found (docs/results.md), appended to the report
report_notes=$root/docs/results.md
# frozen-encoder probes (SUPERB style: linear CTC head over a learned mix of all layers,
# each layer-normed); each lr trains one probe, the lowest dev PER is decoded and reported.
# On this corpus 2e-3 ended at 69-86 % dev PER after 1000 steps and 2e-2, the top of
# the first grid, won for every encoder, so the grid moved up (docs/results.md, 2026-11-26)
probe_steps=1000; probe_lr="5e-3 2e-2 5e-2"
