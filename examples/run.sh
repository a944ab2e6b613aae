#!/bin/sh
# Runs one example, as the README's Maven command does, and ends with the example's own exit code:
# 0 finished, 1 the run failed (one line on standard error), 2 wrong argument (message and usage).
# Maven cannot pass a child's exit code on, so the example writes it into a file read here; when
# the build itself fails there is no such file and Maven's exit code is returned.
#
#   examples/run.sh fashion-mlp --compare --epochs 5
#   examples/run.sh --help
#
# Options are passed to Maven as one -Dexample string, split at spaces: no spaces inside an option.
root=$(cd "$(dirname "$0")/.." && pwd)
code_file="$root/examples/target/exit-code"
rm -f "$code_file"
# fashion-mlp --launcher spark: the spark profile puts Spark's jars on the class path and its JVM flags on the
# command line; every other run keeps the plain class path.
profile=
case " $* " in
    *spark*) profile=-Pspark ;;
esac
"$root/mvnw" -B -q -f "$root/pom.xml" -pl examples -am package -DskipTests $profile exec:exec \
    -Dexample="${*:---help}" -Dmpt.exitCodeFile="$code_file"
mvn_code=$?
if [ -f "$code_file" ]; then
    exit "$(cat "$code_file")"
fi
exit "$mvn_code"
