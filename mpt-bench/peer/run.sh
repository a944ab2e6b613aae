#!/usr/bin/env bash
# The peer benchmark: the same training steps (MLP, fashion-cnn's CNN, char-lstm's LSTM,
# char-gpt's transformer) and SGEMM n=1024 in PyTorch and in mpt, back to back on 2 threads, then
# one table of ms per step and ratios, with the CPU model and flags. Run from anywhere:
#
#   mpt-bench/peer/run.sh
#
# PyTorch is a measuring stick only: it comes from Debian's python3-torch (apt-get install
# python3-torch libopenblas0-openmp); without it the PyTorch columns read n/a and mpt's half
# runs alone. The mpt half builds mpt-bench/target/benchmarks.jar first when it is missing or
# older than a source file. A full run takes about 7 minutes on an idle 2-core machine (far
# longer on a busy one: see the warning it prints).
#
# Environment: JAVA (a JDK 25 java; default: the first JDK >= 25 found), PYTHON (default
# /usr/bin/python3, Debian's, which sees python3-torch), PEER_OUT (results and JMH logs; default
# mpt-bench/target/peer), PEER_JAVA_OPTS (extra flags for mpt's JVM: -Dmpt.backend=java to
# measure the Java kernels alone rather than the default auto, which routes BF16 products to
# oneDNN where the CPU has BF16 instructions; -Djmh.ignoreLock=true when another JMH run holds
# /tmp/jmh.lock), TORCH_ARGS (extra arguments
# for torch_steps.py, e.g. "--steps 100").
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${PEER_OUT:-mpt-bench/target/peer}
threads=2
mkdir -p "$out"

echo "== CPU"
lscpu | sed -n 's/^Model name: *\(.*\)/model name: \1/p'
echo "family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p') (AMD family 25: Zen 3/4, 26: Zen 5)"
flags=$(lscpu | sed -n 's/^Flags: *//p')
present=() absent=()
for f in avx2 fma avx512f avx512_bf16 avx512_fp16 amx_tile amx_bf16; do
    if [[ " $flags " == *" $f "* ]]; then present+=("$f"); else absent+=("$f"); fi
done
echo "flags: ${present[*]:-none}; absent: ${absent[*]:-none}"
load=$(cut -d' ' -f1 /proc/loadavg)
echo "cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    echo "WARNING: the machine is busy. PyTorch's OpenMP threads lose far more to other work than mpt's"
    echo "(each of its many parallel regions waits for a descheduled thread), so the ratios flatter mpt."
    echo "Quote only a run on an otherwise idle machine (OMP_WAIT_POLICY=PASSIVE softens the effect)."
fi

find_java() {
    local j v
    for j in "${JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*/bin/java \
             /opt/java/*/bin/java; do
        [[ -n "$j" && -x "$j" ]] || continue
        v=$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
        if [[ "${v%%.*}" =~ ^[0-9]+$ ]] && (( ${v%%.*} >= 25 )); then
            echo "$j"
            return
        fi
    done
    echo "run.sh: no JDK 25 or newer found; set JAVA=/path/to/jdk-25/bin/java" >&2
    exit 1
}
java=$(find_java)

jar=mpt-bench/target/benchmarks.jar
if [[ ! -f $jar ]] || [[ -n $(find mpt-core/src mpt-nn/src mpt-optim/src examples/src mpt-bench/src pom.xml \
        mpt-*/pom.xml examples/pom.xml -newer "$jar" -print -quit) ]]; then
    echo "== building $jar"
    ./mvnw -B -q -pl mpt-bench -am package -DskipTests
fi

echo
echo "== PyTorch"
# What measured best here (PyTorch 1.13, Debian, on the 2-core Zen 3 and Zen 5 machines):
# - Debian's OpenMP OpenBLAS first on the library path, so torch's generic libblas.so.3 is it
#   whatever the alternatives system points at, on the same OpenMP runtime as torch;
# - glibc malloc keeping freed memory (no trimming, a 256 MiB top pad, blocks up to 32 MiB from
#   the heap rather than fresh mmap pages, one arena): otherwise each step pays first-touch page
#   faults for its buffers (torch_steps.py prints them: about 2,000 per MLP fp32 step and
#   16,000 per CNN fp32 step without these settings, 0 with them; on an idle Zen 5 those steps
#   took 39 and 220 ms without, 12 and 43 ms with);
# - OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which this environment may set, unset, so OpenBLAS
#   picks its kernel for the CPU itself (torch_steps.py prints which).
# PyTorch's own kernel choice stays its default (AVX2 on Zen 5): ATEN_CPU_CAPABILITY=avx512 was
# within the run-to-run noise of every case there.
python=${PYTHON:-/usr/bin/python3}
torch_results="$out/torch.tsv"
rm -f "$torch_results"
if [[ -x $python ]]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        OMP_NUM_THREADS=$threads \
        MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=268435456 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_ARENA_MAX=1 \
        "$python" mpt-bench/peer/torch_steps.py --threads $threads --out "$torch_results" ${TORCH_ARGS:-} \
        || echo "torch_steps.py failed (exit $?); the PyTorch columns will read n/a"
else
    echo "no Python at $python: the PyTorch columns will read n/a"
fi

echo
echo "== mpt"
"$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    ${PEER_JAVA_OPTS:-} -cp "$jar" dev.mpt.bench.PeerBenchmark "$torch_results" "$out"
