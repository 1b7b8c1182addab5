# rpi-aarch64: Raspberry Pi 3, 4 and 5 running a 64-bit OS. Cortex-A53 is the
# oldest core of the three; code tuned for it runs on the A72 and A76 too.
CROSS_COMPILE := aarch64-linux-gnu-
MUSL_ARCH     := aarch64
CPU_FLAGS     := -mcpu=cortex-a53
RUN           := qemu-aarch64-static
QEMU_PKG      := qemu-user-static
# The Debian architecture of make deb (board/debian/).
DEB_ARCH      := arm64
