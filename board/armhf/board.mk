# armhf: ARMv7-A with hard float: BeagleBone Black (AM335x, Cortex-A8) and
# Raspberry Pi 2 (Cortex-A7). VFPv3-D16 is what both are guaranteed to have.
CROSS_COMPILE := arm-linux-gnueabihf-
MUSL_ARCH     := armhf
CPU_FLAGS     := -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb
RUN           := qemu-arm-static
QEMU_PKG      := qemu-user-static
# The Debian architecture of make deb (board/debian/).
DEB_ARCH      := armhf
