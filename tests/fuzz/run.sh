#!/bin/sh
# Build the ikecore fuzz targets with clang (libFuzzer + ASan + UBSan) and run
# them for $1 seconds in total (default 60; the build counts, the rest is split
# between the targets), each on a copy of its seed corpus under build/fuzz:
#   fuzz_ikev2  tests/fuzz/corpus     (seeds: gen_corpus)
#   fuzz_ikev1  tests/fuzz/corpus_v1  (seeds: gen_corpus_v1)
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
targets="fuzz_ikev2 fuzz_ikev1"
start=$(date +%s)
passed=0
failed=0

fail() { echo "fuzz: $1"; echo "fuzz: $passed passed, $((failed + 1)) failed"; exit 1; }

# The library once, instrumented for both targets, in parallel.
objs=""
rm -rf "$out/obj"
mkdir -p "$out/obj"
for f in $src; do
    o="$out/obj/$(basename "$f" .c).o"
    objs="$objs $o"
    # shellcheck disable=SC2086
    clang $flags $san -fsanitize=fuzzer-no-link -c "$f" -o "$o" &
done
wait
for o in $objs; do [ -f "$o" ] || fail "build of $o failed"; done

# build_target NAME CORPUS GENERATOR
build_target() {
    name=$1 corpus=$2 gen=$3
    # shellcheck disable=SC2086
    clang $flags $san -fsanitize=fuzzer "tests/fuzz/$name.c" $objs $libs -o "$out/$name" ||
        fail "build of $name failed"
    if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
        mkdir -p "$corpus"
        # shellcheck disable=SC2086
        clang $flags $san "tests/fuzz/$gen.c" $objs $libs -o "$out/$gen" &&
            "$out/$gen" "$corpus" || fail "seed corpus generation for $name failed"
    fi
}

# run_target NAME CORPUS
run_target() {
    name=$1 corpus=$2
    work="$out/corpus-work-$name"
    rm -rf "$work"
    cp -r "$corpus" "$work"
    log="$out/$name.log"
    "$out/$name" -max_total_time="$each" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$out/$name-" -print_final_stats=1 "$work" 2>&1 | tee "$log" |
        grep -E "^#[0-9]+.*(INITED|DONE)|ERROR|SUMMARY|stat::number_of_executed_units|Done [0-9]+ runs"
    rc=$(grep -c -E "^==[0-9]+==ERROR|^SUMMARY|deadly signal|Test unit written" "$log")
    grep -q "Done [0-9]* runs" "$log" || rc=$((rc + 1))
    if [ "$rc" -ne 0 ]; then
        echo "fuzz: $name found a problem; see $log and $out/$name-crash-* / leak-*"
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
}

build_target fuzz_ikev2 tests/fuzz/corpus gen_corpus
build_target fuzz_ikev1 tests/fuzz/corpus_v1 gen_corpus_v1
each=$(( (secs - ($(date +%s) - start)) / 2 ))
[ "$each" -ge 5 ] || each=5
run_target fuzz_ikev2 tests/fuzz/corpus
run_target fuzz_ikev1 tests/fuzz/corpus_v1
echo "fuzz: $passed passed, $failed failed ($targets, ${each}s each)"
[ "$failed" -eq 0 ]
