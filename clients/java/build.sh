#!/usr/bin/env bash
# Builds the Java client package and its example with Debian's JDK and
# grpc-java jars (/usr/share/java; no Maven repository is needed):
#   OUT/accord-client-VERSION.jar          generated code: Accord's messages
#                                          and stubs, google.rpc details
#   OUT/accord-client-example-VERSION.jar  clients/java/example, compiled
#                                          against the jar above
# Both jars name the Debian jars they need in their manifest's Class-Path,
# so `java -cp accord-client-V.jar:accord-client-example-V.jar
# org.accord.example.Example` runs with nothing else on the class path.
# VERSION is clients/VERSION. With GEN_DIR, reuses code clients/generate.sh
# wrote there.
#
# Usage: clients/java/build.sh OUT_DIR [GEN_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
version="$(cat "$root/clients/VERSION")"
gen="${2:-$out/gen}"
[ -n "${2:-}" ] || "$root/clients/generate.sh" "$gen" >/dev/null

# What the generated code and grpc-java 1.41 (grpc-netty transport) load.
runtime_jars=(protobuf grpc-api grpc-context grpc-core grpc-netty grpc-protobuf
  grpc-protobuf-lite grpc-stub guava perfmark-api netty-buffer netty-codec
  netty-codec-http netty-codec-http2 netty-codec-socks netty-common
  netty-handler netty-handler-proxy netty-resolver netty-transport)
class_path=()
for jar in "${runtime_jars[@]}"; do
  [ -f "/usr/share/java/$jar.jar" ] || {
    echo "java/build.sh: /usr/share/java/$jar.jar missing (scripts/install-deps.sh)" >&2
    exit 1
  }
  class_path+=("/usr/share/java/$jar.jar")
done
# Compile time only: grpc_java_plugin's @javax.annotation.Generated.
compile_path="$(IFS=:; echo "${class_path[*]}"):/usr/share/java/geronimo-annotation-1.3-spec.jar"

# javac takes minutes on a busy 2-core machine: the classes are kept and
# compiled again only when the generated sources changed.
find "$gen/java" -name '*.java' | sort >"$out/sources.txt"
sources_hash="$(xargs cat <"$out/sources.txt" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$out/classes.sha256" 2>/dev/null)" != "$sources_hash" ]; then
  rm -rf "$out/classes" "$out/classes.sha256"
  mkdir -p "$out/classes"
  javac -nowarn -encoding UTF-8 --release 17 -cp "$compile_path" \
    -d "$out/classes" @"$out/sources.txt" 2>&1 | grep -v '^Note: ' || true
  [ -f "$out/classes/org/accord/agreement/v1/AgreementServiceGrpc.class" ] || {
    echo "java/build.sh: javac failed" >&2
    exit 1
  }
  echo "$sources_hash" >"$out/classes.sha256"
fi
rm -rf "$out/example-classes"
mkdir -p "$out/example-classes"
# Manifest lines hold at most 72 bytes: one jar per continuation line (its
# first space is dropped, the second separates the entries).
{
  echo "Implementation-Title: accord-client"
  echo "Implementation-Version: $version"
  echo "Class-Path: "
  printf '  %s\n' "${class_path[@]}"
} >"$out/manifest.txt"
jar --create --file "$out/accord-client-$version.jar" \
  --manifest "$out/manifest.txt" -C "$out/classes" .

javac -encoding UTF-8 --release 17 \
  -cp "$out/accord-client-$version.jar:$compile_path" -d "$out/example-classes" \
  $(find "$root/clients/java/example/src" -name '*.java')
jar --create --file "$out/accord-client-example-$version.jar" \
  --main-class org.accord.example.Example -C "$out/example-classes" .
echo "built $out/accord-client-$version.jar and $out/accord-client-example-$version.jar"
