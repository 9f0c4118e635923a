# GRE-over-IPsec appliance: one Makefile for the whole tree.
#
#   make              build ikecore, tunneld, tunnelctl (gcc, -Werror)
#   make CC=clang     the same with clang (objects kept apart in build/clang)
#   make asan         AddressSanitizer + UBSan build and unit tests
#   make check        install missing packages, build, run every test
#   make demo         two sites in a VM, paired by PSK, OSPF over ESP-protected GRE
#   make interop      tunneld against strongSwan and Libreswan, each case in a VM (part of check)
#   make bench        benchmarks (not tests)
#   make deps         install the Debian packages the build and tests need

CC      ?= cc
CCNAME  := $(notdir $(firstword $(CC)))
VARIANT ?=
O       := build/$(CCNAME)$(VARIANT)

PKGS    := libnl-3.0 libnl-route-3.0 libnl-xfrm-3.0 libnl-genl-3.0 openssl yaml-0.1 json-c
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter -Wvla
# No deprecated OpenSSL: EVP only.
DEFS    := -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
OPT     ?= -O2 -g
CFLAGS  += -std=c11 $(OPT) $(WARN) $(DEFS) -fno-common -Iikecore/include -Itunneld \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# tunnelctl needs json-c and libc only, even when it links the archives.
CTL_LDLIBS := $(shell pkg-config --libs json-c 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)

IKE_SRC    := $(wildcard ikecore/*.c)
TUNNELD_SRC := $(filter-out tunneld/main.c,$(wildcard tunneld/*.c))
CTL_SRC    := $(wildcard appliance/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(patsubst tests/tools/%.c,$(O)/tools/%,$(TOOL_SRC))
BENCH_SRC  := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(O)/bench/%,$(BENCH_SRC))

LIBIKE     := $(O)/libikecore.a
LIBTUNNELD := $(O)/libtunneld.a

obj = $(patsubst %.c,$(O)/%.o,$(1))

.PHONY: all deps check unit fuzz e2e interop demo bench asan clean
all: tunneld/tunneld $(if $(CTL_SRC),appliance/tunnelctl) $(UNIT_BINS) $(BENCH_BINS) $(TOOL_BINS)

deps:
	@scripts/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Made anew each time: `ar r` would keep the objects of deleted sources.
$(LIBIKE): $(call obj,$(IKE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBTUNNELD): $(call obj,$(TUNNELD_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# Binaries under bin/: build/cc/tunneld/ already holds tunneld's objects.
$(O)/bin/tunneld: $(call obj,tunneld/main.c) $(LIBTUNNELD) $(LIBIKE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The binaries also stand at the paths the docs use; they are the last build's.
tunneld/tunneld: $(O)/bin/tunneld
	cp $< $@

$(O)/bin/tunnelctl: $(call obj,$(CTL_SRC)) $(LIBTUNNELD) $(LIBIKE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(CTL_LDLIBS) -o $@

appliance/tunnelctl: $(O)/bin/tunnelctl
	cp $< $@

$(O)/tests/%: tests/unit/%.c $(LIBTUNNELD) $(LIBIKE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/unit -MMD -MP $< $(LIBTUNNELD) $(LIBIKE) \
	    $(LDLIBS) $(CHECK_LIBS) -o $@

# Test drivers for the VM tests (e.g. nlkey: the kernel layer by hand).
$(O)/tools/%: tests/tools/%.c $(LIBTUNNELD) $(LIBIKE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $< $(LIBTUNNELD) $(LIBIKE) $(LDLIBS) -o $@

$(O)/bench/%: tests/bench/%.c $(LIBIKE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $< $(LIBIKE) $(LDLIBS) -o $@

# Unit suites: every test_*.c is one Check suite. Check prints its own summary;
# the closing line counts suites.
unit: $(UNIT_BINS) tunneld/tunneld appliance/tunnelctl
	@pass=0; fail=0; \
	for t in $(UNIT_BINS); do \
	    if TEST_DATA=tests/data TUNNELD=tunneld/tunneld TUNNELCTL=appliance/tunnelctl $$t; then pass=$$((pass+1)); \
	    else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; \
	echo "unit suites: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# ASan/UBSan build of the same tree, then the unit suites under it.
asan:
	$(MAKE) VARIANT=-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit

# Split between the two targets (IKEv2, IKEv1) after their build: each gets a minute.
FUZZ_SECONDS ?= 140
fuzz:
	@if [ -x tests/fuzz/run.sh ]; then tests/fuzz/run.sh $(FUZZ_SECONDS); \
	 else echo "fuzz: no targets yet"; fi

e2e: tunneld/tunneld
	tests/e2e/run-all.sh

interop: tunneld/tunneld
	tests/interop/run.sh

# The demo touches GRE and ESP: it runs in a throw-away VM like the e2e tests.
DEMO_TIMEOUT ?= 300
demo:
	@scripts/deps.sh --check 2>/dev/null || scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@if [ -x tests/e2e/demo.sh ]; then tests/vm/vmrun --timeout $(DEMO_TIMEOUT) tests/e2e/demo.sh; \
	 else echo "demo: tunneld cannot key tunnels yet (issue 4); run 'make check' for what exists"; exit 1; fi

bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do $$b || exit 1; done

# `make check` is what CI runs and what the README promises: from a fresh
# Debian 12 machine to every test, installing what is missing first.
check:
	@scripts/deps.sh --check 2>/dev/null || scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory CC=clang all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory interop

clean:
	rm -rf build tunneld/tunneld appliance/tunnelctl

-include $(shell find build -name '*.d' 2>/dev/null)
