#!/bin/sh
# Build the ikecore fuzz target with clang (libFuzzer + ASan + UBSan) and run it
# for $1 seconds (default 60) on a copy of the seed corpus under build/fuzz.
# Exits non-zero on any finding (crash, leak, UB, timeout, OOM).
#   IKE_FUZZ_EXTRA_SRC: more sources to link (e.g. a crypto stub, for experiments only)
set -u
secs=${1:-60}
cd "$(dirname "$0")/../.." || exit 2
out=build/fuzz
mkdir -p "$out"
flags="-std=c11 -g -O1 -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
 -Iikecore/include $(pkg-config --cflags openssl)"
libs="$(pkg-config --libs openssl)"
src="ikecore/*.c ${IKE_FUZZ_EXTRA_SRC:-}"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

fail() { echo "fuzz: $1"; echo "fuzz: 0 passed, 1 failed"; exit 1; }

# shellcheck disable=SC2086
clang $flags $san -fsanitize=fuzzer tests/fuzz/fuzz_ikev2.c $src $libs -o "$out/fuzz_ikev2" ||
    fail "build of fuzz_ikev2 failed"
if [ -z "$(ls -A tests/fuzz/corpus 2>/dev/null)" ]; then
    mkdir -p tests/fuzz/corpus
    # shellcheck disable=SC2086
    clang $flags $san tests/fuzz/gen_corpus.c $src $libs -o "$out/gen_corpus" &&
        "$out/gen_corpus" tests/fuzz/corpus || fail "seed corpus generation failed"
fi
work="$out/corpus-work"
rm -rf "$work"
cp -r tests/fuzz/corpus "$work"
"$out/fuzz_ikev2" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/" -print_final_stats=1 "$work" 2>&1 | tee "$out/fuzz.log" |
    grep -E "^#[0-9]+.*(INITED|DONE)|ERROR|SUMMARY|stat::number_of_executed_units|Done [0-9]+ runs"
rc=$(grep -c -E "^==[0-9]+==ERROR|^SUMMARY|deadly signal|Test unit written" "$out/fuzz.log")
grep -q "Done [0-9]* runs" "$out/fuzz.log" || rc=$((rc + 1))
if [ "$rc" -ne 0 ]; then
    echo "fuzz: fuzz_ikev2 found a problem; see $out/fuzz.log and $out/crash-* / leak-*"
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi
echo "fuzz: 1 passed, 0 failed"
