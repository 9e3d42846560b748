#!/bin/sh
# Runs one fuzz target for SECONDS on the stable toolchain (no sanitizer: the code has no
# `unsafe`), from the committed corpus plus, when present, the shared conformance data as
# read-only seeds (new inputs go to fuzz/corpus/TARGET only; the shared files are not copied).
# Usage: fuzz/run.sh TARGET SECONDS   (from the repository root; needs `cargo install cargo-fuzz`)
set -eu
target=$1
seconds=$2
cd "$(dirname "$0")/.."
shared=../shared/conformance
seeds=""
case $target in
packet_parse | respond)
    for d in "$shared/malformed-packets/bind9-dns_message_parse" "$shared/malformed-packets/pdns-raw-dns-packets"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done ;;
master_file)
    [ -d "$shared/knot-tests-extra" ] && seeds="$shared/knot-tests-extra" ;;
esac
mkdir -p "fuzz/corpus/$target"
# shellcheck disable=SC2086
exec cargo fuzz run --sanitizer none "$target" "fuzz/corpus/$target" $seeds -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
