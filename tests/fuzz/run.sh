#!/usr/bin/env bash
# Fuzzes one target with AFL++ and SharpFuzz for a number of executions, then reports executions, crashes and hangs.
#
#   tests/fuzz/run.sh <target> [executions, default 1000000]
#   tests/fuzz/run.sh all [executions]          every target in turn
#
# Targets: wire (every message type of the daemon's wire, and the app specs and node reports inside them), compose
# (Compose YAML and its JSON form), experiment (vcsim experiment definitions), fta (Failure Trace Archive traces),
# kept (the desired state a daemon keeps on disk).
# Needs afl++ (Debian: apt-get install afl++) and the SharpFuzz tool from the local manifest (dotnet tool restore).
# Findings are copied to tests/fuzz/findings/<target>/; a crash becomes a regression input under
# tests/fuzz/regressions/<target>/ once fixed, and the tests (FuzzCorpusTests) replay the corpus and regressions.
# Replay inputs without AFL (an uninstrumented build):
#   dotnet run -c Release --project tests/fuzz/VolunteerCloud.Fuzz -- <target> <file or folder>
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
target=${1:?usage: run.sh <wire|compose|experiment|fta|kept|all> [executions]}
executions=${2:-1000000}
targets=(wire compose experiment fta kept)
if [ "$target" = all ]; then
  status=0
  for t in "${targets[@]}"; do ./run.sh "$t" "$executions" || status=1; done
  exit $status
fi
[[ " ${targets[*]} " == *" $target "* ]] || { echo "run.sh: no target '$target'; targets: ${targets[*]} all" >&2; exit 2; }
command -v afl-fuzz >/dev/null || { echo "run.sh: afl-fuzz not found: apt-get install afl++" >&2; exit 2; }

work=${FUZZ_WORK:-/tmp/vcfuzz}
bin="$work/bin"
if [ ! -f "$bin/.instrumented" ]; then
  rm -rf "$bin"
  dotnet tool restore >/dev/null
  dotnet publish VolunteerCloud.Fuzz -c Release -o "$bin" --nologo -v quiet
  # Our assemblies and the YAML parser beneath the Compose and experiment parsers carry AFL's coverage probes.
  for dll in VolunteerCloud.Sdk.dll VolunteerCloud.Compose.dll VolunteerCloud.Simulator.dll YamlDotNet.dll; do
    dotnet sharpfuzz "$bin/$dll" >/dev/null
  done
  touch "$bin/.instrumented"
fi

out="$work/findings-$target"
rm -rf "$out"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export DOTNET_TieredPGO=0 DOTNET_TC_QuickJitForLoops=1
afl-fuzz -i "corpus/$target" -o "$out" -t 10000 -m none -E "$executions" -- dotnet "$bin/vcfuzz.dll" "$target" > "$work/afl-$target.log" 2>&1 || {
  echo "run.sh: afl-fuzz failed; its log: $work/afl-$target.log" >&2; tail -20 "$work/afl-$target.log" >&2; exit 1; }

stats="$out/default/fuzzer_stats"
value() { sed -n "s/^$1 *: *//p" "$stats"; }
crashes=$(value saved_crashes); hangs=$(value saved_hangs)
echo "$target: $(value execs_done) executions in $(( $(value last_update) - $(value start_time) )) s ($(value execs_per_sec) /s), $(value corpus_count) inputs in the queue, edges $(value edges_found), $crashes crashes, $hangs hangs"
if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
  mkdir -p "findings/$target"
  cp "$out"/default/crashes/id* "$out"/default/hangs/id* "findings/$target/" 2>/dev/null || true
  echo "$target: findings copied to $here/findings/$target/ (reproduce: dotnet run -c Release --project tests/fuzz/VolunteerCloud.Fuzz -- $target tests/fuzz/findings/$target)" >&2
  exit 1
fi
