# tools/fuzz/flags.sh: the include paths and defines a fuzz target built
# from firmware sources needs (printed, for $(...) in a clang command line).
echo -D_GNU_SOURCE -Ifirmware -Iport -Iport/linux -Ibuild/sqlite -Ibuild/host/gen -Ivendor \
	-Ivendor/src/libzstd/lib -isystem vendor/src/mbedtls/include \
	"-DMBEDTLS_CONFIG_FILE=\"hf_mbedtls_config.h\"" -DHF_BOARD=\"fuzz\"
