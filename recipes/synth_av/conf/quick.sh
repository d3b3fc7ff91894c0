# Profile "quick": the demo, a few minutes on 2 cores. A small corpus and tiny models:
# the error rates only show that every stage runs, they are not meant to be compared.
speakers=16; utts_per_speaker=12; heldout_speakers=4; snr=clean,5
model=tiny
pretrain_steps=300; batch_tokens=2000; pretrain_lr=1e-3; pretrain_warmup=30
finetune_steps=500; finetune_lr=2e-3; freeze_steps=0; labeled_utts=0   # 0: all of train
valid_every=100
probe_steps=200   # frozen-encoder probes (SUPERB style) of the three encoders
probe_lr=2e-3     # one value keeps the demo short (full.sh chooses among three on dev)
