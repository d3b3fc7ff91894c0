# Profile "quick": a few minutes on 2 cores (tests/recipes/test_slu_synth.sh runs it). A small
# corpus, a tiny encoder and text encoder, fifty S2I steps per arm: the accuracies only
# show that every stage runs, they are not meant to be compared.
speakers_per_family=4; utts_per_speaker=20; train_titles=100; test_titles=100   # menus of up to 100 titles (TinyS2I) need 100
general_text=false                    # the text encoder reads the corpus' command sentences only
textlm_steps=80; textlm_batch_tokens=1024
model=tiny; pretrain_steps=80; pretrain_batch_tokens=2000; pretrain_lr=1e-3
asr_init_steps=40; asr_init_lr=2e-3; asr_init_opts=   # phone CTC before S2I: here only to show it runs
s2i_steps=50; s2i_lr=2e-3; s2i_warmup=10; s2i_batch_tokens=2000; valid_every=25
xmodal_weight=1
tinys2i_asr_init_steps=20; tinys2i_asr_init_lr=2e-3   # its tiny encoder trained with phone CTC first (0: fresh)
tinys2i_steps=60; tinys2i_lr=3e-3; tinys2i_batch_tokens=4000; tinys2i_title_weight=2
tinys2i_defer_below=dev                # the deferral threshold: chosen on dev (steps/tinys2i.sh), or a number
ctc_steps=60; ctc_lr=2e-3; ctc_warmup=10; ctc_batch_tokens=2000   # TinyS2I's CTC baseline (char units; so few steps give blanks only: the stage runs, no more)
