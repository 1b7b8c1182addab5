# zstd 1.5.7 (Debian's +dfsg source): lib/common, compress and decompress,
# single-threaded, no legacy formats, no assembly (portable to every board).
ZSTD_SRC   := $(VSRC)/libzstd/lib
ZSTD_DIRS  := common compress decompress
ZSTD_CSRCS = $(foreach d,$(ZSTD_DIRS),$(wildcard $(ZSTD_SRC)/$(d)/*.c))
ZSTD_OPTS  := -DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0 -DZSTD_TRACE=0 \
	-DZSTD_STRIP_ERROR_STRINGS=0 -DXXH_NAMESPACE=ZSTD_
ZSTD_OBJS   = $(patsubst $(ZSTD_SRC)/%.c,$(B)/vendor/zstd/%.o,$(ZSTD_CSRCS))

$(B)/vendor/zstd/%.o: $(ZSTD_SRC)/%.c $(MUSL_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      zstd/$*.c"
	@$(CC) $(CPU_FLAGS) $(OPT) $(BASE_CFLAGS) $(ZSTD_OPTS) -w -c $< -o $@

$(B)/vendor/libzstd.a: $(ZSTD_OBJS)
	@rm -f $@ && $(AR) rcs $@ $^

VENDOR_LIBS += $(B)/vendor/libzstd.a
