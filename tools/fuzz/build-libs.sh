# tools/fuzz/build-libs.sh: zstd (instrumented) and mbedTLS (our configuration)
# built with host clang into build/fuzz/, for the fuzz targets that decode
# segments. Run from the top of the tree; objects already built are kept.
set -e
cd "$(dirname "$0")/../.."
mkdir -p build/fuzz/zstd build/fuzz/mbedtls
for f in vendor/src/libzstd/lib/common/*.c vendor/src/libzstd/lib/compress/*.c vendor/src/libzstd/lib/decompress/*.c; do
  o=build/fuzz/zstd/$(basename $f .c).o
  [ -f $o ] || clang -g -O1 -fsanitize=address,undefined -DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0 -DZSTD_TRACE=0 -DXXH_NAMESPACE=ZSTD_ -w -c $f -o $o
done
ar rcs build/fuzz/libzstd.a build/fuzz/zstd/*.o
for f in vendor/src/mbedtls/library/*.c; do
  o=build/fuzz/mbedtls/$(basename $f .c).o
  [ -f $o ] || clang -g -O1 -Ivendor/src/mbedtls/include -Ivendor -Ivendor/src/mbedtls/library "-DMBEDTLS_CONFIG_FILE=\"hf_mbedtls_config.h\"" -w -c $f -o $o
done
ar rcs build/fuzz/libmbedcrypto.a build/fuzz/mbedtls/*.o
echo LIBS-DONE
