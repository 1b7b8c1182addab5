# riscv64: RV64GC boards (StarFive VisionFive 2, Milk-V, SiFive Unmatched).
CROSS_COMPILE := riscv64-linux-gnu-
MUSL_ARCH     := riscv64
CPU_FLAGS     := -march=rv64gc -mabi=lp64d
RUN           := qemu-riscv64-static
QEMU_PKG      := qemu-user-static
# The Debian architecture of make deb (board/debian/).
DEB_ARCH      := riscv64
