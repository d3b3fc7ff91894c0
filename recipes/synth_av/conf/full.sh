# Profile "full": numbers meant to be read, about 75 minutes on 2 cores (estimated from its
# pretraining runs' times; 45 with the 1500 pretraining steps of the earlier sessions).
speakers=40; utts_per_speaker=30; heldout_speakers=8; snr=clean,10,5,0
model=small
# 3000 pretraining steps: at 1500 the cosine schedule ended while the video gain was still
# rising (24 %); at 3000 the AV model's masked-audio loss is 27 % below the shuffled video's,
# 17 % below audio-only's, and 0.6 % below it with the video dropped (3 seeds; docs/results.md,
# eighth session)
pretrain_steps=3000; batch_tokens=4000; pretrain_lr=5e-4; pretrain_warmup=150
finetune_steps=2000; finetune_lr=1e-3; freeze_steps=100; labeled_utts=300
valid_every=250; finetune_valid_every=500
# SpecAugment on top of the encoder's dropout: the best fine-tuning of docs/results.md
finetune_opts="--time-mask-prob=0.05 --time-mask-len=5 --freq-masks=2 --freq-mask-width=20"
# what the development run of this profile found (docs/results.md), appended to the report
report_notes=$root/docs/results.md
# frozen-encoder probes (SUPERB style: a linear head over a learned mix of all layers, each
# layer-normed), frame-level: the phone of every token (probe-frame/). The CTC probe left
# CTC's all-blank plateau or not depending on the run, which decided its PER more than the
# encoder did (37 % or 87 % for span-20 encoders of the same quality); the frame probe has
# no plateau: sd <= 1.3 points over 3 seeds for all eight encoders measured (docs/results.md,
# seventh session). Each lr trains one probe; the lowest dev frame error is decoded. 1e-2
# won on dev for every pretrained encoder, 5e-2 for the random one (2e-3 was worse for both).
probe_steps=1000; probe_lr="1e-2 5e-2"; probe_objective=frame
