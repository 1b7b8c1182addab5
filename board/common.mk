# board/common.mk: settings every board starts from; board/<name>/board.mk
# then sets its toolchain, CPU flags, musl architecture and qemu-user runner.
#
# A board.mk must set:
#   CROSS_COMPILE  prefix of Debian's cross gcc (empty for the build machine's gcc)
#   MUSL_ARCH      musl build directory name (one musl build per architecture)
#   CPU_FLAGS      -march/-mcpu/-mabi flags for the board's processor
#   RUN            command prefix that runs a board binary here (empty: natively)
#   QEMU_PKG       Debian package that provides RUN (for tools/install-deps)
# and may set OPT (default -Os: flash and RAM are scarce on these boards).
# Test boards (board/host-asan) may also set:
#   XCC          the compiler (default $(CROSS_COMPILE)gcc)
#   LIBC         musl (default: built from source, linked static) or glibc
#                (the toolchain's own, for the sanitizer runtimes)
#   SAN_FLAGS    -fsanitize=... flags given to every compile and link
#   TEST_SUITES  the suites tests/run-board runs (default: all of them)

OPT        ?= -Os
CROSS_COMPILE ?=
RUN        ?=
XCC         = $(CROSS_COMPILE)gcc
LIBC       := musl
SAN_FLAGS  :=
TEST_SUITES :=
DEFAULTS_DATA ?= /var/lib/holdfast

# Warnings that catch real bugs; -Werror in CI so a warning cannot land.
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wundef -Wvla
ifneq ($(CI),)
WARN += -Werror
endif

# Static, size-conscious, reproducible: no build paths in the binary.
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -ffunction-sections -fdata-sections \
        -fno-plt -fstack-protector-strong -ffile-prefix-map=$(CURDIR)/=
BASE_LDFLAGS := -static -Wl,--gc-sections -Wl,-z,noexecstack -Wl,-z,relro,-z,now
