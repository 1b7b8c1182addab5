# host-asan: the build machine's own toolchain (clang, glibc, dynamic) with
# AddressSanitizer and UndefinedBehaviorSanitizer on everything we compile:
# our code, port/linux and the vendor code. Not a product board: a test
# build. musl's static libc cannot host the sanitizer runtimes (they need
# glibc's dynamic loader), so this board does not link musl.
#
# -fno-sanitize-recover=all makes every UBSan finding abort, so a finding
# fails the test that hit it instead of scrolling by.
# -fsanitize=fuzzer-no-link adds libFuzzer's coverage hooks (no-ops without
# libFuzzer): the fuzz targets (tools/fuzz/NAME.c, `make fuzz`) link these
# same objects, so one sanitizer build serves the tests and the fuzzers.
CROSS_COMPILE :=
LIBC          := glibc
XCC           := clang
MUSL_ARCH     :=
CPU_FLAGS     :=
SAN_FLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fsanitize=fuzzer-no-link -fno-omit-frame-pointer
OPT           := -O1 -g
RUN           :=
QEMU_PKG      :=
# Dynamic: the sanitizer runtimes are shared libraries of the toolchain.
BASE_LDFLAGS  := $(filter-out -static,$(BASE_LDFLAGS))
# Only the suites that fit in make check's budget (tests/run-board): under
# ASan the jobs suite takes about 13 minutes here and ship 5 to 8, so make
# check runs unit, cli and hostile (the hostile replica files); run the
# others by hand with
#   make BOARD=host-asan test TEST_SUITES="unit cli hostile jobs ship"
TEST_SUITES   := unit cli hostile
