# mbedTLS 3.6 LTS: library/*.c compiled against our trimmed configuration
# (vendor/hf_mbedtls_config.h), so code for unused features compiles to nothing.
MBEDTLS_SRC   := $(VSRC)/mbedtls
MBEDTLS_CSRCS  = $(wildcard $(MBEDTLS_SRC)/library/*.c)
MBEDTLS_OPTS  := -I$(MBEDTLS_SRC)/include -Ivendor \
	-DMBEDTLS_CONFIG_FILE='"hf_mbedtls_config.h"'
MBEDTLS_OBJS   = $(patsubst $(MBEDTLS_SRC)/library/%.c,$(B)/vendor/mbedtls/%.o,$(MBEDTLS_CSRCS))

$(B)/vendor/mbedtls/%.o: $(MBEDTLS_SRC)/library/%.c vendor/hf_mbedtls_config.h $(MUSL_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      mbedtls/$*.c"
	@$(CC) $(CPU_FLAGS) $(OPT) $(BASE_CFLAGS) $(MBEDTLS_OPTS) -I$(MBEDTLS_SRC)/library -w -c $< -o $@

$(B)/vendor/libmbedtls.a: $(MBEDTLS_OBJS)
	@rm -f $@ && $(AR) rcs $@ $^

VENDOR_LIBS += $(B)/vendor/libmbedtls.a
