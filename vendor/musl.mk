# musl 1.2.5, built from Debian's source package with the board's cross gcc, so
# every board links fully static against the same libc. One build per
# architecture under build/musl/<arch>/, shared by boards of that architecture.
# The board compiler is then "$(XCC) -specs=<musl>/lib/musl-gcc.specs": gcc's
# own headers and libgcc, musl's headers, crt files and libc.a.

MUSL_SRC    := $(VSRC)/musl
MUSL_BUILD  := build/musl/$(MUSL_ARCH)
MUSL_PREFIX := $(CURDIR)/$(MUSL_BUILD)/root
MUSL_SPECS  := $(MUSL_PREFIX)/lib/musl-gcc.specs
MUSL_STAMP  := $(MUSL_BUILD)/.built

# The target triple only tells musl's configure which ARCH to build; the
# compiler is given explicitly.
musl_target_x86_64  := x86_64-linux-musl
musl_target_aarch64 := aarch64-linux-musl
musl_target_armhf   := arm-linux-musleabihf
musl_target_riscv64 := riscv64-linux-musl

$(MUSL_STAMP): $(FETCH_STAMP) vendor/musl.mk
	@echo "  MUSL    $(MUSL_ARCH)"
	@rm -rf $(MUSL_BUILD) && mkdir -p $(MUSL_BUILD)/obj
	@cd $(MUSL_BUILD)/obj && $(CURDIR)/$(MUSL_SRC)/configure \
		--target=$(musl_target_$(MUSL_ARCH)) --prefix=$(MUSL_PREFIX) \
		--disable-shared --enable-wrapper=gcc \
		CC="$(strip $(CCACHE) $(XCC))" AR="$(CROSS_COMPILE)ar" RANLIB="$(CROSS_COMPILE)ranlib" \
		CFLAGS="-Os $(CPU_FLAGS)" \
		>../configure.log 2>&1 || { tail -n 20 ../configure.log; exit 1; }
	@$(MAKE) -s -C $(MUSL_BUILD)/obj AR="$(CROSS_COMPILE)ar" RANLIB="$(CROSS_COMPILE)ranlib" >$(MUSL_BUILD)/build.log 2>&1 && \
		$(MAKE) -s -C $(MUSL_BUILD)/obj install >>$(MUSL_BUILD)/build.log 2>&1 || \
		{ tail -n 20 $(MUSL_BUILD)/build.log; exit 1; }
	@test -f $(MUSL_SPECS) || { echo "musl: $(MUSL_SPECS) was not installed"; exit 1; }
	@touch $@
