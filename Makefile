# holdfast: one non-recursive GNU Makefile for every board.
#
#   make                      host build: build/host/holdfast
#   make BOARD=<b>            a board from board/<b>/ (objects in build/<b>/)
#   make test [BOARD=<b>]     unit and CLI tests (under qemu-user for cross boards)
#   make all-boards           build every board
#   make sizes                stripped size of every board's binary (builds them)
#   make check                what CI runs: every board built and tested, plus
#                             the build and vendor checks; ends "N passed, N failed"
#   make demo                 the main job (offline, no cloud)
#   make bench-ship|bench-s3|bench-sync|bench-queue|bench-seal|bench-prune|bench-wear|bench-million|
#        bench-slow-sync      benchmarks (BENCHMARKS.md)
#   make crash-test SEEDS=N, crash-soak, net-soak, soak-history, soak-faults  longer soak modes
#   make vm-test [VM_CUTS=N] [VM_ARCH=arm64], vm-soak  power cuts of a virtual board (qemu)
#   make fetch                download and verify the pinned vendor sources
#   make install [DESTDIR=D] [PREFIX=/usr/local] [INIT=sysv|openrc|runit|s6]
#                             the binary, unit and init files, man page, example config
#   make dist [DIST_BOARDS=...]  build/dist/holdfast-VERSION-BOARD.tar.gz + SHA256SUMS
#
# Vendor sources are never committed: vendor/fetch gets them from Debian.

BOARDS  := host x86_64 rpi-aarch64 armhf riscv64
BOARD   ?= host
VERSION := 0.1.0

ifeq ($(wildcard board/$(BOARD)/board.mk),)
$(error unknown BOARD '$(BOARD)'; boards: $(BOARDS))
endif
include board/common.mk
include board/$(BOARD)/board.mk

PORT    ?= linux
B       := build/$(BOARD)$(if $(filter sim,$(PORT)),-sim)
VSRC    := vendor/src
HOSTCC  ?= gcc
AR      := $(CROSS_COMPILE)ar
STRIP   := $(CROSS_COMPILE)strip
CCACHE  := $(shell command -v ccache 2>/dev/null)
FETCH_STAMP := $(VSRC)/.fetched.mk

all: $(B)/holdfast

# ---- vendor --------------------------------------------------------------
# The stamp is an included makefile, so on a fresh clone make fetches first
# and then re-reads this file, when the vendor source lists below exist. Only
# a change of pins or of our patches (vendor/patches/PKG/: a file added,
# changed or removed) re-fetches (and so rebuilds the vendor code); `make
# fetch` re-verifies every download whenever asked.
$(FETCH_STAMP): vendor/pins $(wildcard vendor/patches/* vendor/patches/*/*.patch)
	@vendor/fetch
	@echo '# vendor/fetch verified every file of vendor/pins' >$@

ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out clean distclean check fetch print-%,$(MAKECMDGOALS)),)
SKIP_FETCH := 1
endif
endif
ifndef SKIP_FETCH
include $(FETCH_STAMP)
endif

fetch:
	@vendor/fetch

ifeq ($(LIBC),musl)
include vendor/musl.mk
# Every compile, ours and vendor's, goes through musl's specs file.
CC := $(CCACHE) $(XCC) -specs=$(MUSL_SPECS)
LIBC_VER := $(shell cat $(VSRC)/musl/VERSION 2>/dev/null)
else ifeq ($(LIBC),glibc)
# The toolchain's own C library (board/host-asan): nothing to build first.
MUSL_STAMP :=
CC := $(CCACHE) $(XCC)
LIBC_VER := $(lastword $(shell getconf GNU_LIBC_VERSION 2>/dev/null))
else
$(error unknown LIBC '$(LIBC)': musl or glibc)
endif
# Sanitizer flags go with the compiler, so every compile and link, ours and
# vendor's, gets them (empty for product boards).
CC += $(SAN_FLAGS)

VENDOR_OBJS :=
VENDOR_LIBS :=
include vendor/sqlite.mk
include vendor/zstd.mk
include vendor/mbedtls.mk

# ---- our code ------------------------------------------------------------
# firmware/ sees the OS only through port/port.h; the port is picked by
# directory (linux for the shipped binary), never by #ifdef. firmware/'s
# folders are its layers (README "Map of the tree"; tools/checksrc keeps
# them), and its files include each other by folder ("log/jlog.h").
# PORT=sim builds the test binary: each port/sim/X.c replaces port/linux/X.c
# (same name, same contract), in build/<board>-sim/.
FW_SRCS := $(wildcard firmware/*/*.c)
LINUX_SRCS := $(wildcard port/linux/*.c)
ifeq ($(PORT),sim)
SIM_SRCS  := $(wildcard port/sim/*.c)
PORT_SRCS := $(filter-out $(patsubst port/sim/%,port/linux/%,$(SIM_SRCS)),$(LINUX_SRCS)) $(SIM_SRCS)
else ifeq ($(PORT),linux)
PORT_SRCS := $(LINUX_SRCS)
else
$(error unknown PORT '$(PORT)': linux (what ships) or sim (tests))
endif
FW_OBJS := $(patsubst %.c,$(B)/%.o,$(FW_SRCS) $(PORT_SRCS))
LIB_OBJS := $(filter-out $(B)/firmware/app/main.o,$(FW_OBJS))
GEN     := $(B)/gen

INCLUDES := -Ifirmware -Iport -Iport/linux -I$(GEN) -Ibuild/sqlite -isystem $(MBEDTLS_SRC)/include -Ivendor \
	-I$(ZSTD_SRC)
CFLAGS_FW := $(CPU_FLAGS) $(OPT) $(BASE_CFLAGS) $(WARN) $(INCLUDES) -MMD -MP \
	-DMBEDTLS_CONFIG_FILE='"hf_mbedtls_config.h"' -DHF_BOARD='"$(BOARD)"'

# Build facts go in a generated header that is rewritten only when it changes,
# so an unchanged tree rebuilds nothing and a touched file rebuilds only itself.
GIT_REV   := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell \
	git diff --quiet HEAD 2>/dev/null || echo -dirty)
BUILD_T   := $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)
BUILD_H   := \#define HF_VERSION "$(VERSION)"\n\#define HF_GIT_REV "$(GIT_REV)"\n\#define HF_BUILD_TIME $(BUILD_T)\n\#define HF_LIBC "$(LIBC)"\n\#define HF_LIBC_VERSION "$(LIBC_VER)"\n
$(GEN)/hf_build.h: FORCE $(FETCH_STAMP)
	@mkdir -p $(@D)
	@printf '$(BUILD_H)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# hf_build.h is order-only: the -MMD dependency files make exactly the files
# that include it (version.c, clock.c) rebuild when it changes.
$(B)/%.o: %.c $(MUSL_STAMP) build/sqlite/sqlite3.h | $(GEN)/hf_build.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_FW) -c $< -o $@

$(B)/holdfast: $(FW_OBJS) $(VENDOR_OBJS) $(VENDOR_LIBS)
	@echo "  LD      $@"
	@$(CC) $(CPU_FLAGS) $(BASE_LDFLAGS) -o $@ $(FW_OBJS) $(VENDOR_OBJS) $(VENDOR_LIBS)

# ---- tests ---------------------------------------------------------------
UT_SRCS := $(wildcard tests/unit/*.c)
UT_OBJS := $(patsubst %.c,$(B)/%.o,$(UT_SRCS))

$(B)/tests/unit/%.o: CFLAGS_FW += -Itests/unit
$(B)/unit-tests: $(UT_OBJS) $(LIB_OBJS) $(VENDOR_OBJS) $(VENDOR_LIBS)
	@echo "  LD      $@"
	@$(CC) $(CPU_FLAGS) $(BASE_LDFLAGS) -o $@ $^

# Benchmark helpers (tools/bench/): not tests, never run by make check.
$(B)/bench-baseline: $(B)/tools/bench/baseline.o $(LIB_OBJS) $(VENDOR_OBJS) $(VENDOR_LIBS)
	@echo "  LD      $@"
	@$(CC) $(CPU_FLAGS) $(BASE_LDFLAGS) -o $@ $^

$(B)/bench-submit: $(B)/tools/bench/submit.o $(LIB_OBJS) $(VENDOR_OBJS) $(VENDOR_LIBS)
	@echo "  LD      $@"
	@$(CC) $(CPU_FLAGS) $(BASE_LDFLAGS) -o $@ $^

$(B)/bench-seal: $(B)/tools/bench/seal.o $(LIB_OBJS) $(VENDOR_OBJS) $(VENDOR_LIBS)
	@echo "  LD      $@"
	@$(CC) $(CPU_FLAGS) $(BASE_LDFLAGS) -o $@ $^

bench: $(B)/holdfast $(B)/bench-baseline $(B)/bench-submit
	@tools/bench/jobs $(B)

bench-ship: $(B)/holdfast
	@tools/bench/ship $(B)

bench-s3: $(B)/holdfast
	@tools/bench/s3 $(B)

bench-sync: $(B)/holdfast
	@tools/bench/sync $(B)

bench-queue: $(B)/holdfast
	@tools/bench/queue $(B)

bench-seal: $(B)/bench-seal
	@tools/bench/seal $(B)

# A replica that stalls every request: job timeouts and submits beside it,
# against no replica (issue 18, item 4).
bench-stall: $(B)/holdfast
	@tools/bench/stall $(B) $(or $(SUBMITS),100)

# submit p50/p99 while the daemon prunes PRUNE_JOBS finished jobs, against none.
PRUNE_JOBS ?= 100000
bench-prune: $(B)/holdfast
	@tools/bench/prune $(B) $(PRUNE_JOBS)

# Durable steps from a shell script: holdfast step against starting the
# binary, and their replay on the next attempt (STEPS a round).
bench-steps: $(B)/holdfast $(B)/bench-baseline
	@tools/bench/steps $(B) $(or $(STEPS),300)

# Parking: a message's way to a job that parked for it (woken, run again, its
# steps replayed) against one whose wait kept its process (STEPS recorded).
bench-park: $(B)/holdfast
	@tools/bench/park $(B) $(or $(STEPS),20)

# Flash wear: device bytes per job against a raw SQLite floor (WEAR_JOBS a case).
WEAR_JOBS ?= 600
bench-wear: $(B)/holdfast $(B)/bench-baseline
	@tools/bench/wear $(B) $(WEAR_JOBS)

# A million finished jobs against an empty log (issue 16); root for the
# cold figures (drop_caches). JOBS=N ROUNDS=N to change its size.
bench-million: $(B)/holdfast
	@tools/bench/million $(B) $(or $(JOBS),1000000) $(or $(ROUNDS),3)

# The same on an emulated SD card: the sim build adds SYNC_DELAY_US to every
# fsync, in holdfast and in the baseline alike.
SYNC_DELAY_US ?= 5000
bench-slow-sync:
	@$(MAKE) --no-print-directory -s PORT=sim build/$(BOARD)-sim/holdfast \
		build/$(BOARD)-sim/bench-baseline build/$(BOARD)-sim/bench-submit
	@HOLDFAST_SIM_SYNC_DELAY_US=$(SYNC_DELAY_US) HOLDFAST_SIM_BOOT_ID=bench \
		tools/bench/jobs build/$(BOARD)-sim

# The crash model's replayer (tests/crash/): a host tool, whatever BOARD is.
HOSTCC ?= cc
build/tools/crashsim: tests/crash/crashsim.c port/sim/crash_trace.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -O2 -Wall -Wextra $(if $(CI),-Werror) -Iport/sim -o $@ $<

# make crash-test SEEDS=N: N simulated power cuts (tests/crash/run) on the
# host's sim build; make check runs 1,000, crash-soak 100,000.
SEEDS ?= 1000
crash-test: build/tools/crashsim
	@$(MAKE) --no-print-directory -s PORT=sim BOARD=host
	@tests/crash/run build/host-sim/holdfast build/tools/crashsim $(SEEDS)

# ---- fuzzing ---------------------------------------------------------------
# Every tools/fuzz/NAME.c is a libFuzzer target (it defines
# LLVMFuzzerTestOneInput) with its seed corpus in tools/fuzz/corpus/NAME/.
# No per-target rule: each links the sanitizer board's objects (board/host-asan:
# clang, ASan+UBSan, libFuzzer's coverage hooks), all of firmware/ but
# app/main.c, port/linux and the vendor code, and the linker keeps what it needs.
#   make fuzz [FUZZ_SECONDS=300]        every target, FUZZ_SECONDS each
#   make fuzz-NAME [FUZZ_SECONDS=300]   one target (e.g. fuzz-http)
#   make fuzz-check                     the short run of make check: every
#                                       seed, then FUZZ_CHECK_SECONDS of mutation
# New inputs go to build/fuzz/corpus/NAME/, crashes to build/fuzz/artifacts/
# (tests/fuzz/run); a crash found is fixed, then its input added to the corpus.
FUZZ_NAMES := $(basename $(notdir $(wildcard tools/fuzz/*.c)))
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 5
FUZZ_BINS := $(addprefix build/host-asan/fuzz/,$(FUZZ_NAMES))

ifneq ($(filter -fsanitize=fuzzer-no-link,$(SAN_FLAGS)),)
# The entry point is libFuzzer's to declare, not a header of ours.
$(B)/tools/fuzz/%.o: CFLAGS_FW += -Wno-missing-prototypes
$(B)/fuzz/%: $(B)/tools/fuzz/%.o $(LIB_OBJS) $(VENDOR_OBJS) $(VENDOR_LIBS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) -fsanitize=fuzzer $(BASE_LDFLAGS) -o $@ $^
endif

fuzz fuzz-check:
	@$(MAKE) --no-print-directory -s -j2 BOARD=host-asan $(FUZZ_BINS)
	@tests/fuzz/run $(if $(filter fuzz-check,$@),--check $(FUZZ_CHECK_SECONDS),$(FUZZ_SECONDS)) \
		build/host-asan/fuzz $(FUZZ_NAMES)

fuzz-%:
	@$(if $(filter $*,$(FUZZ_NAMES)),,echo "no fuzz target '$*' (tools/fuzz/$*.c); targets: $(FUZZ_NAMES)"; exit 2)
	@$(MAKE) --no-print-directory -s BOARD=host-asan build/host-asan/fuzz/$*
	@tests/fuzz/run $(FUZZ_SECONDS) build/host-asan/fuzz $*

# The sync storm at soak strength: 10 minutes idle (no request may reach the
# server), 200 link flaps, 40 kills of the daemon. Root (network namespaces).
net-soak: $(B)/holdfast
	@HOLDFAST_NET_IDLE=600 HOLDFAST_NET_FLAPS=200 HOLDFAST_NET_KILLS=40 tests/net/run $(B)/holdfast

crash-soak:
	@$(MAKE) --no-print-directory crash-test SEEDS=100000

# The syscall fault loops (tests/faults/run) with every fault point of the
# shipping scenarios (seal, spool, upload, restore: each error, once and for
# good, at the 1st, 2nd, ... Nth operation), which make check only samples
# (one error and mode an operation, at its 1st and 2nd); the other
# scenarios run in full either way.
soak-faults: build/tools/crashsim
	@$(MAKE) --no-print-directory -s PORT=sim BOARD=host
	@FAULT_FULL=1 tests/faults/run build/host-sim/holdfast build/tools/crashsim

# A compressed year (tests/soak): 200,000 jobs of 10 KiB output under
# [history] max_bytes 64MiB, default wal_max and output_cap; ls and status at
# the end within 1.5x of the start. make check runs a short version (20,000
# jobs, the timings reported, not asserted).
SOAK_JOBS ?= 200000
soak-history: $(B)/holdfast
	@HOLDFAST_SOAK_TIMINGS=assert T_PREFIX="$(BOARD): soak-history: " \
		tests/soak/run $(B)/holdfast $(SOAK_JOBS) 64MiB 4MiB 1MiB

# A virtual board that loses power (tests/vm/run): Debian 12's kernel and
# busybox under qemu (TCG), its data disk behind nbdkit's cache filter, cut
# VM_CUTS times (make check: 20 on the host build; make vm-soak: 200).
# VM_ARCH=arm64: qemu-system-aarch64 with the rpi-aarch64 board's binary.
VM_CUTS ?= 20
VM_ARCH ?= amd64
VM_BOARD := $(if $(filter arm64,$(VM_ARCH)),rpi-aarch64,host)
vm-test:
	@$(MAKE) --no-print-directory -s BOARD=$(VM_BOARD)
	@T_PREFIX="$(VM_ARCH): vm: " tests/vm/run $(VM_ARCH) build/$(VM_BOARD)/holdfast $(VM_CUTS)

vm-soak:
	@$(MAKE) --no-print-directory vm-test VM_CUTS=200

# make test: this board's unit tests and CLI tests, one summary line.
test: $(B)/holdfast $(B)/unit-tests
	@HF_SUITES="$(TEST_SUITES)" tests/run-board $(BOARD) "$(RUN)"

all-boards:
	@for b in $(BOARDS); do $(MAKE) --no-print-directory BOARD=$$b || exit 1; done

# The stripped size of this board's binary (what is flashed).
size: $(B)/holdfast
	@$(STRIP) -o $(B)/holdfast.stripped $<
	@printf '%-12s %9d bytes stripped  (%s, %s)\n' $(BOARD) \
		$$(stat -c %s $(B)/holdfast.stripped) "$$(file -b $< | cut -d, -f1,2)" \
		"$$(file -b $< | grep -o 'statically linked' || echo 'NOT STATIC')"

sizes:
	@for b in $(BOARDS); do $(MAKE) -s --no-print-directory BOARD=$$b size || exit 1; done

# ---- install and release archives ---------------------------------------
# GNU conventions: PREFIX (or prefix) and the directories below it, DESTDIR
# for a staged install (Buildroot, Yocto, packages). Nothing is fetched or
# built at install time that `make` would not build: run `make` first.
# Every file under board/init/ lands in $(datarootdir)/holdfast/init/ (so a
# new one needs no edit here), with @bindir@, @HOLDFAST_DATA@, @VERSION@,
# @docdir@ and @systemdunitdir@ filled in; the systemd unit also goes where
# systemd looks, and INIT= puts one other init system's file where that init
# looks. sysconfdir is /etc whatever PREFIX is: an init script under
# /usr/local/etc would never run.
PREFIX         ?= /usr/local
prefix         ?= $(PREFIX)
exec_prefix    ?= $(prefix)
bindir         ?= $(exec_prefix)/bin
datarootdir    ?= $(prefix)/share
mandir         ?= $(datarootdir)/man
docdir         ?= $(datarootdir)/doc/holdfast
sysconfdir     ?= /etc
systemdunitdir ?= $(prefix)/lib/systemd/system
INSTALL        ?= install
INIT           ?=
INIT_FILES     := $(shell find board/init -type f 2>/dev/null | LC_ALL=C sort)
MAN_FILES      := $(wildcard board/man/*.[1-8])
SUBST := sed -e 's|@bindir@|$(bindir)|g' -e 's|@HOLDFAST_DATA@|$(DEFAULTS_DATA)|g' \
	-e 's|@VERSION@|$(VERSION)|g' -e 's|@docdir@|$(docdir)|g' \
	-e 's|@systemdunitdir@|$(systemdunitdir)|g'
# init=where: the file of board/init/ that INIT=init installs, and where.
INIT_sysv   := holdfast.sysv=$(sysconfdir)/init.d/holdfast
INIT_openrc := holdfast.openrc=$(sysconfdir)/init.d/holdfast
INIT_runit  := runit=$(sysconfdir)/sv/holdfast
INIT_s6     := s6=$(sysconfdir)/s6/holdfast
ifneq ($(INIT),)
ifeq ($(INIT_$(INIT)),)
$(error unknown INIT '$(INIT)': sysv, openrc, runit or s6)
endif
endif

# The example config: the commented default that `holdfast init` writes
# (cfg_default_text, written from the key table of firmware/fmt/cfg_keys.c,
# which needs nothing but libc), printed by that file compiled with the host's
# compiler, so that a cross build needs no emulator to make it.
$(B)/holdfast.conf.example: firmware/fmt/cfg_keys.c firmware/fmt/cfg_int.h firmware/fmt/cfg.h
	@mkdir -p $(@D)
	@printf '#include <stdio.h>\nconst char *cfg_default_text(void);\nint main(void)\n{\n\treturn fputs(cfg_default_text(), stdout) < 0;\n}\n' \
		>$(B)/conf-example.c
	@$(HOSTCC) -std=c11 -Ifirmware -o $(B)/conf-example $(B)/conf-example.c firmware/fmt/cfg_keys.c
	@$(B)/conf-example >$@.tmp && mv $@.tmp $@

# What install puts under DESTDIR (install-files), the binary unstripped.
install: $(B)/holdfast $(B)/holdfast.conf.example
	@$(MAKE) --no-print-directory -s install-files INSTALL_BIN_FLAGS=

# The same with the binary stripped (what make dist ships: what is flashed).
install-strip: $(B)/holdfast $(B)/holdfast.conf.example
	@$(MAKE) --no-print-directory -s install-files \
		INSTALL_BIN_FLAGS="-s --strip-program=$(STRIP)"

install-files:
	@echo "  INSTALL $(DESTDIR)$(prefix) ($(BOARD))"
	@$(INSTALL) -d -m 0755 $(DESTDIR)$(bindir) $(DESTDIR)$(docdir) \
		$(DESTDIR)$(systemdunitdir) $(DESTDIR)$(datarootdir)/holdfast/init
	@$(INSTALL) -m 0755 $(INSTALL_BIN_FLAGS) $(B)/holdfast $(DESTDIR)$(bindir)/holdfast
	@$(INSTALL) -m 0644 $(B)/holdfast.conf.example $(DESTDIR)$(docdir)/holdfast.conf.example
	@$(INSTALL) -m 0644 README.md $(DESTDIR)$(docdir)/README.md
	@set -e; for f in $(MAN_FILES); do \
		d=$(DESTDIR)$(mandir)/man$${f##*.}; $(INSTALL) -d -m 0755 $$d; \
		$(SUBST) $$f >$$d/$${f##*/}; chmod 0644 $$d/$${f##*/}; \
	done
	@set -e; for f in $(INIT_FILES); do \
		rel=$${f#board/init/}; d=$(DESTDIR)$(datarootdir)/holdfast/init/$$rel; \
		mode=0644; [ -x $$f ] && mode=0755; \
		$(INSTALL) -d -m 0755 $${d%/*}; $(SUBST) $$f >$$d; chmod $$mode $$d; \
	done
	@if [ -f board/init/holdfast.service ]; then \
		$(SUBST) board/init/holdfast.service >$(DESTDIR)$(systemdunitdir)/holdfast.service; \
		chmod 0644 $(DESTDIR)$(systemdunitdir)/holdfast.service; fi
ifneq ($(INIT),)
	@set -e; src=board/init/$(firstword $(subst =, ,$(INIT_$(INIT)))); \
	dst=$(DESTDIR)$(lastword $(subst =, ,$(INIT_$(INIT)))); \
	if [ ! -e $$src ]; then echo "INIT=$(INIT): $$src is not in this tree yet"; exit 1; fi; \
	$(INSTALL) -d -m 0755 $${dst%/*}; \
	if [ -d $$src ]; then \
		rm -rf $$dst; cp -R $$src $$dst; \
		for f in $$(cd $$src && find . -type f); do $(SUBST) $$src/$$f >$$dst/$$f; \
			mode=0644; [ -x $$src/$$f ] && mode=0755; chmod $$mode $$dst/$$f; done; \
	else \
		$(SUBST) $$src >$$dst; chmod 0755 $$dst; \
	fi
endif

uninstall:
	rm -f $(DESTDIR)$(bindir)/holdfast $(DESTDIR)$(systemdunitdir)/holdfast.service
	rm -f $(addprefix $(DESTDIR)$(mandir)/man,$(foreach f,$(MAN_FILES),$(subst .,,$(suffix $(f)))/$(notdir $(f))))
	rm -rf $(DESTDIR)$(docdir) $(DESTDIR)$(datarootdir)/holdfast
ifneq ($(INIT),)
	rm -rf $(DESTDIR)$(lastword $(subst =, ,$(INIT_$(INIT))))
endif

# make dist: per board, build/dist/holdfast-VERSION-BOARD.tar.gz holding a
# staged `make install-strip` (PREFIX as given, /usr/local by default), and
# one SHA256SUMS. Reproducible: the same commit gives the same bytes, in any
# directory (the binaries carry no build path: -ffile-prefix-map; their
# build time is SOURCE_DATE_EPOCH, by default the last commit's time), and
# the archive has sorted names, that time as every mtime, owner 0:0 and no
# gzip name or time. tests/dist checks it.
DIST_BOARDS ?= x86_64 rpi-aarch64 armhf riscv64
SOURCE_DATE_EPOCH ?= $(BUILD_T)
DIST_TAR := tar --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 \
	--numeric-owner --format=gnu
dist:
	@rm -rf build/dist && mkdir -p build/dist
	@set -e; for b in $(DIST_BOARDS); do \
		$(MAKE) --no-print-directory -s BOARD=$$b dist-board; done
	@cd build/dist && sha256sum holdfast-$(VERSION)-*.tar.gz >SHA256SUMS
	@echo "  DIST    build/dist: $(DIST_BOARDS)"

dist-board: $(B)/holdfast $(B)/holdfast.conf.example
	@rm -rf $(B)/stage
	@$(MAKE) --no-print-directory -s install-strip DESTDIR=$(CURDIR)/$(B)/stage
	@mkdir -p build/dist
	@cd $(B)/stage && LC_ALL=C $(DIST_TAR) -cf - $$(LC_ALL=C ls -A) | gzip -n -9 \
		>$(CURDIR)/build/dist/holdfast-$(VERSION)-$(BOARD).tar.gz.tmp
	@mv build/dist/holdfast-$(VERSION)-$(BOARD).tar.gz.tmp \
		build/dist/holdfast-$(VERSION)-$(BOARD).tar.gz

# ---- Debian packages --------------------------------------------------------
# make deb [BOARD=x86_64|rpi-aarch64|armhf|riscv64] [DEB_VERSION=V]:
# build/deb/BOARD/holdfast_V_ARCH.deb from this board's static binary, staged
# by make install-strip PREFIX=/usr, with dpkg-deb (board/debian/mkdeb: no
# source package, no debhelper). DEB_ARCH comes from board/BOARD/board.mk.
# make deb-test: tests/deb (install, upgrade, remove, purge in a throwaway root).
DEB_VERSION ?= $(VERSION)-1
DEB_OUT     ?= build/deb/$(BOARD)
deb: $(B)/holdfast $(B)/holdfast.conf.example
	@test -n "$(DEB_ARCH)" || { echo "make deb: board $(BOARD) has no Debian architecture" \
		"(DEB_ARCH in board/$(BOARD)/board.mk)"; exit 2; }
	@rm -rf $(DEB_OUT)/stage && mkdir -p $(DEB_OUT)
	@$(MAKE) --no-print-directory -s install-strip PREFIX=/usr systemdunitdir=/lib/systemd/system \
		DESTDIR=$(CURDIR)/$(DEB_OUT)/stage
	@DEB_VERSION=$(DEB_VERSION) DEB_ARCH=$(DEB_ARCH) VERSION=$(VERSION) GIT_REV=$(GIT_REV) \
		BOARD=$(BOARD) SOURCE_DATE_EPOCH=$(BUILD_T) board/debian/mkdeb $(DEB_OUT)/stage $(DEB_OUT)

deb-test:
	@if $(MAKE) --no-print-directory -s deb >/dev/null && \
	    $(MAKE) --no-print-directory -s deb DEB_VERSION=$(VERSION)-2 DEB_OUT=build/deb/$(BOARD)-v2 >/dev/null && \
	    rm -rf build/deb/$(BOARD)-noconf && cp -a build/deb/$(BOARD)-v2 build/deb/$(BOARD)-noconf && \
	    rm build/deb/$(BOARD)-noconf/root/DEBIAN/conffiles && \
	    dpkg-deb --root-owner-group -Zxz --build build/deb/$(BOARD)-noconf/root \
		build/deb/$(BOARD)-noconf/holdfast_noconf.deb >/dev/null; then \
		T_PREFIX="$(BOARD): deb: " tests/deb/run build/deb/$(BOARD)/holdfast_$(VERSION)-1_$(DEB_ARCH).deb \
			build/deb/$(BOARD)-v2/holdfast_$(VERSION)-2_$(DEB_ARCH).deb \
			build/deb/$(BOARD)-noconf/holdfast_noconf.deb; \
	else echo "FAIL - $(BOARD): deb: building the packages failed"; exit 1; fi

# make deb-lint: this board's package checked without installing it (tests/deb/lint:
# lintian, its architecture, the binary's machine): for the boards whose
# architecture this machine cannot run in a throwaway root.
deb-lint:
	@if $(MAKE) --no-print-directory -s deb >/dev/null; then \
		T_PREFIX="$(BOARD): deb: " tests/deb/lint build/deb/$(BOARD)/holdfast_$(VERSION)-1_$(DEB_ARCH).deb \
			$(DEB_ARCH); \
	else echo "FAIL - $(BOARD): deb: building the package failed"; exit 1; fi

# make print-VAR: a variable's value for this board (used by the tests).
print-%:
	@echo '$($*)'

# make check: every board, every suite; the README's and CI's test command.
check:
	@tests/run-all $(BOARDS)

demo: $(B)/holdfast
	@tools/demo $(B)/holdfast

clean:
	rm -rf build

distclean: clean
	rm -rf vendor/dl vendor/src

FORCE:
.PHONY: install install-strip install-files uninstall dist dist-board
.PHONY: deb deb-test deb-lint all fetch fuzz fuzz-check bench bench-ship bench-s3 bench-sync bench-queue bench-seal bench-prune bench-wear bench-million bench-slow-sync bench-stall bench-steps bench-park crash-test crash-soak net-soak soak-history soak-faults test vm-test vm-soak all-boards size sizes check demo clean distclean FORCE
.DELETE_ON_ERROR:

-include $(FW_OBJS:.o=.d) $(UT_OBJS:.o=.d) $(patsubst %,$(B)/tools/fuzz/%.d,$(FUZZ_NAMES))
