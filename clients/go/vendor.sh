#!/usr/bin/env bash
# Installs the Go client module into a program's vendor/ folder, offline:
# unpacks github.com/accord-suite/accord-go from a module proxy folder
# (clients/go/package.sh) and links in Debian's Go libraries from
# /usr/share/gocode, then writes vendor/modules.txt to match the program's
# go.mod. Build with `go build -mod=vendor` (GOPROXY=off works).
#
# Debian ships Go libraries as source in a GOPATH tree, not as a module
# cache, and their go.mod files name modules Debian does not ship (grpc's
# names envoyproxy, cncf/udpa…), so `go mod download` or a replace
# directive cannot resolve the module graph offline; a vendor folder needs
# no graph.
#
# The program's go.mod must require exactly the modules listed in
# `explicit` below, at these versions (see clients/go/example/go.mod.in).
#
# Usage: clients/go/vendor.sh PROGRAM_DIR PROXY_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
program="$(cd "$1" && pwd)"
proxy="$(cd "$2" && pwd)"
module="$(sed -n 's/^module //p' "$root/clients/go/go.mod")"
version="v$(cat "$root/clients/VERSION")"
gocode=/usr/share/gocode/src

rm -rf "$program/vendor"
mkdir -p "$program/vendor"
unzip -q "$proxy/$module/@v/$version.zip" -d "$program/vendor.tmp"
mkdir -p "$(dirname "$program/vendor/$module")"
mv "$program/vendor.tmp/$module@$version" "$program/vendor/$module"
rm -rf "$program/vendor.tmp"

# Debian's modules, at the versions Debian 12 packages. `explicit` ones are
# required by the program's go.mod; the rest are needed by them.
explicit=(
  "google.golang.org/genproto v0.0.0-20200413115906-b5235f65be36"
  "google.golang.org/grpc v1.33.3"
  "google.golang.org/protobuf v1.28.1"
)
indirect=(
  "github.com/golang/protobuf v1.5.2"
  "golang.org/x/net v0.7.0"
  "golang.org/x/sys v0.3.0"
  "golang.org/x/text v0.7.0"
)
{
  echo "# $module $version"
  echo "## explicit"
  for entry in "${explicit[@]}" "${indirect[@]}"; do
    path="${entry%% *}"
    [ -d "$gocode/$path" ] || {
      echo "go/vendor.sh: $gocode/$path missing (scripts/install-deps.sh)" >&2
      exit 1
    }
    mkdir -p "$(dirname "$program/vendor/$path")"
    ln -s "$gocode/$path" "$program/vendor/$path"
    echo "# $entry"
    case " ${explicit[*]} " in *" $entry "*) echo "## explicit" ;; esac
  done
} >"$program/vendor/modules.txt"
echo "vendored $module $version and Debian's Go libraries into $program/vendor"
