# host: the build machine itself (x86_64), fully static against musl, run
# natively. The board tests and day-to-day development use.
CROSS_COMPILE :=
MUSL_ARCH     := x86_64
CPU_FLAGS     :=
OPT           := -O2 -g
RUN           :=
QEMU_PKG      :=
# The Debian architecture of make deb (board/debian/).
DEB_ARCH      := $(shell dpkg --print-architecture 2>/dev/null)
