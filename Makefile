# avmask — one binary (and avmask-media, which it runs for the media commands), one static
# library per build, tests beside it.
#   make            build bin/avmask and bin/avmask-media
#   make test       install missing packages, build, run every test
#   make demo       install missing packages, build, run the default recipe
#   make bench      run every benchmark in tests/bench/
#   make fuzz       build the fuzz targets with clang's libFuzzer and run each for
#                   FUZZ_SECONDS (default 60) on its corpus (tests/fuzz/README.md);
#                   FUZZ_TARGETS="json datadir" picks targets
# Options: SAN=1 (ASan+UBSan; bin/ then holds the sanitizer binaries until the next plain
#          build), BUILD=dir (object dir, default build or build-san),
#          ARCH=-march=native (set ARCH= for portable binaries), NODEPS=1 (skip apt check),
#          JOBS=N (compile jobs of test, demo and bench; default: one per core)

SAN   ?= 0
ARCH  ?= -march=native
ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT   = -O1 -g
else ifeq ($(SAN),fuzz)
# make fuzz: clang, libFuzzer's coverage, ASan + UBSan (float-cast-overflow too), no recovery
BUILD ?= build-fuzz
CC = clang
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT   = -O1 -g
OMPFLAG = -fopenmp=libgomp
else
BUILD ?= build
SANFLAGS =
OPT   = -O2 -g $(ARCH)
endif

PKGS    = libavformat libavcodec libavutil libswresample libswscale hdf5-serial ompi-c espeak-ng
BLASDIR = /usr/lib/x86_64-linux-gnu/openblas-openmp
BLASINC = /usr/include/x86_64-linux-gnu/openblas-openmp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# flite (Debian flite1-dev) has no pkg-config file: its five US English voices, their
# language and lexicon, the engine
FLITE_LIBS = -lflite_cmu_us_kal -lflite_cmu_us_kal16 -lflite_cmu_us_awb -lflite_cmu_us_rms \
             -lflite_cmu_us_slt -lflite_usenglish -lflite_cmulex -lflite

CC      ?= gcc
OMPFLAG ?= -fopenmp
CFLAGS  += -std=gnu11 -Wall -Wextra $(OMPFLAG) $(OPT) $(SANFLAGS) -I. -I$(BLASINC) $(PKG_CFLAGS) -MMD -MP
# --as-needed: a program records only the libraries it calls, so avmask (linked without the
# media commands) does not load FFmpeg's codecs or the synthesisers (avmask_media.c)
LDFLAGS += $(OMPFLAG) $(SANFLAGS) -L$(BLASDIR) -Wl,-rpath,$(BLASDIR) -Wl,--as-needed
LDLIBS  += $(PKG_LIBS) $(FLITE_LIBS) -lopenblas -lm

LIBSRC  = $(wildcard common/*.c data/*.c data/synth/*.c models/*.c cluster/*.c train/*.c eval/*.c)
LIBOBJ  = $(LIBSRC:%.c=$(BUILD)/%.o)
TESTSRC = $(wildcard tests/unit/test_*.c)
TESTBIN = $(TESTSRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLSRC = $(wildcard tests/tools/*.c tests/bench/*.c)
TOOLBIN = $(TOOLSRC:tests/%.c=$(BUILD)/%)
FUZZSRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZBIN = $(FUZZSRC:tests/%.c=$(BUILD)/%)
FUZZLIB = tests/fuzz/fuzzlib.c tests/fuzz/fuzzmodel.c
LIB     = $(BUILD)/libavmask.a
BIN     = $(BUILD)/avmask $(BUILD)/avmask-media

# test, demo and bench build with one job per core unless make was given -j itself
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
SUBJOBS  = $(if $(findstring -j,$(MAKEFLAGS))$(findstring jobserver,$(MAKEFLAGS)),,-j$(JOBS))

.PHONY: all deps test demo bench fuzz clean FORCE
all: bin/avmask bin/avmask-media

# copy + rename: a recipe still running the old binary keeps it ("Text file busy" otherwise);
# copied whenever it differs, not when older: SAN=1 and a plain build share bin/, and bin/
# must hold the build just made (a sanitizer binary left there runs 4x slower)
bin/%: $(BUILD)/% FORCE
	@mkdir -p bin && { cmp -s $< $@ || { cp $< $@.tmp && mv $@.tmp $@; }; }
FORCE:

$(BUILD)/avmask: $(BUILD)/avmask.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/avmask-media: $(BUILD)/avmask_media.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(LIBOBJ)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# AdamW: sqrtf vectorises only without errno (nothing reads errno there); no FMA
# contraction, so that every product and sum is rounded on its own as in torch's separate
# tensor ops, and the vector loop and its scalar remainder round alike
$(BUILD)/train/optim.o: CFLAGS += -fno-math-errno -ffp-contract=off

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# a fuzz target linked with the replay driver (gcc, make test) or libFuzzer (make fuzz)
ifeq ($(SAN),fuzz)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz $(LDFLAGS) -o $@ $< $(FUZZLIB) $(LIB) $(LDLIBS)
else
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(FUZZLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZLIB) $(LIB) $(LDLIBS)
endif

deps:
ifneq ($(NODEPS),1)
	@sh scripts/install_deps.sh $(DEPS_FLAGS)
endif

# the test suite also needs a one-node Slurm (scripts/install_deps.sh --test)
test: DEPS_FLAGS = --test

test: deps
	@$(MAKE) --no-print-directory $(SUBJOBS) $(BIN) $(TESTBIN) $(TOOLBIN) $(FUZZBIN)
	@BUILD=$(BUILD) SAN=$(SAN) bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory $(SUBJOBS) bin/avmask bin/avmask-media
	@bash recipes/synth_av/run.sh --profile=quick

bench: deps
	@$(MAKE) --no-print-directory $(SUBJOBS) $(BIN) $(TOOLBIN)
	@BUILD=$(BUILD) bash tests/bench/run.sh

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZSRC:tests/fuzz/fuzz_%.c=%)
fuzz:
ifneq ($(NODEPS),1)
	@sh scripts/install_deps.sh fuzz
endif
	@$(MAKE) --no-print-directory SAN=fuzz $(FUZZ_TARGETS:%=build-fuzz/fuzz/fuzz_%)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run_fuzz.sh $(FUZZ_TARGETS)

clean:
	rm -rf build build-san build-fuzz bin

-include $(LIBOBJ:.o=.d) $(BUILD)/avmask.d $(BUILD)/avmask_media.d $(FUZZBIN:=.d)
