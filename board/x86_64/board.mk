# x86_64: a generic x86-64 edge box or gateway (Atom, Celeron, Ryzen Embedded).
# Baseline x86-64 so one binary runs on any of them; tested under qemu-user.
CROSS_COMPILE :=
MUSL_ARCH     := x86_64
CPU_FLAGS     := -march=x86-64 -mtune=generic
RUN           := qemu-x86_64-static
QEMU_PKG      := qemu-user-static
# The Debian architecture of make deb (board/debian/).
DEB_ARCH      := amd64
