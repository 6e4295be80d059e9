#!/usr/bin/env bash
# Builds deploy/target/tinyedge_<version>_<arch>.deb with dpkg-deb.
#
#   deploy/package-deb.sh          Architecture: all; depends on a Java 25 runtime package
#   deploy/package-deb.sh --jlink  carries a Java 25 runtime made by jlink from $JAVA_HOME, for this
#                                  machine's architecture (for Debian 12 / Raspberry Pi OS, which have no
#                                  Java 25 package); build it on the board's architecture
#
# Contents: the launcher (/usr/bin/tinyedge -> /usr/share/tinyedge/bin/tinyedge), the runtime jars from
# deploy/target/lib (built here if missing), the native kernel libraries for linux-x86_64 and linux-aarch64
# (/usr/share/tinyedge/native, loaded from there, never unpacked), with --jlink a JDK 25 AOT cache made with
# the runtime it carries, the board profiles, the systemd unit, the default
# configuration (a conffile) and the Mosquitto examples. Not the embedded broker: boards use Mosquitto.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
die() { echo "package-deb: error: $*" >&2; exit 1; }

jlink=false
case "${1:-}" in
  "") ;;
  --jlink) jlink=true ;;
  *) die "unknown option '$1' (usage: deploy/package-deb.sh [--jlink])" ;;
esac

version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$repo/pom.xml" | head -1)
[[ -n "$version" ]] || die "no <version> in $repo/pom.xml"

lib="$here/target/lib"
native="$repo/kernels-native/target/native"
platforms=(linux-x86_64 linux-aarch64)
if ! compgen -G "$lib/edge-runtime-*.jar" >/dev/null \
    || [[ ! -f "$native/${platforms[0]}/libtinyedge-kernels.so" || ! -f "$native/${platforms[1]}/libtinyedge-kernels.so" ]]; then
  echo "package-deb: building the runtime jars and both platforms' native kernels" >&2
  (cd "$repo" && mvn -q -B -DskipTests -Dtinyedge.native.require=all package -pl deploy -am) >&2 \
    || die "maven build failed (the native kernels need gcc and gcc-aarch64-linux-gnu)"
fi
if compgen -G "$lib/hivemq-*.jar" >/dev/null; then
  die "$lib holds the embedded HiveMQ broker: the package must not carry it"
fi

stage="$here/target/deb"
rm -rf "$stage"
share="$stage/usr/share/tinyedge"
install -D -m 0755 "$repo/bin/tinyedge" "$share/bin/tinyedge"
install -d "$share/lib" "$share/profiles" "$stage/usr/bin"
install -m 0644 "$lib"/*.jar "$share/lib/"
install -m 0644 "$repo"/device-profiles/profiles/*.toml "$share/profiles/"
for platform in "${platforms[@]}"; do
  install -D -m 0644 "$native/$platform/libtinyedge-kernels.so" "$share/native/$platform/libtinyedge-kernels.so"
done
# relative, so the package also works unpacked under another root
ln -s ../share/tinyedge/bin/tinyedge "$stage/usr/bin/tinyedge"
install -D -m 0644 "$here/systemd/tinyedge.service" "$stage/usr/lib/systemd/system/tinyedge.service"
install -D -m 0640 "$here/etc/tinyedge.conf" "$stage/etc/tinyedge/tinyedge.conf"
doc="$stage/usr/share/doc/tinyedge"
install -D -m 0644 "$repo/docs/INSTALL.md" "$doc/INSTALL.md"
install -D -m 0644 "$here/mosquitto/tinyedge.conf" "$doc/examples/mosquitto/tinyedge.conf"
install -D -m 0644 "$here/mosquitto/tinyedge.acl" "$doc/examples/mosquitto/tinyedge.acl"

if $jlink; then
  [[ -x "${JAVA_HOME:-}/bin/jlink" ]] || die "--jlink needs JAVA_HOME pointing at a JDK 25"
  # what the jars use, plus the incubating Vector API (loaded by flag, invisible to jdeps) and zipfs
  # (the built-in profiles are listed from inside their jar)
  modules=$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps "$lib"/*.jar | tail -1)
  "$JAVA_HOME/bin/jlink" --add-modules "$modules,jdk.incubator.vector,jdk.zipfs" --strip-debug \
    --no-header-files --no-man-pages --output "$share/runtime"
  arch=$(dpkg --print-architecture)
  java_depends=""
  # the runtime is known: an AOT cache made with it, through the staged launcher, is valid where it installs
  TINYEDGE_HOME="$share" JAVA_HOME= "$here/aot-cache.sh" "$share/lib/tinyedge.aot" "$share/bin/tinyedge" >&2 \
    || die "could not write the AOT cache"
else
  arch=all
  java_depends="openjdk-25-jre-headless | temurin-25-jdk | temurin-25-jre, "
fi

install -d "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@JAVA_DEPENDS@/$java_depends/" \
  "$here/debian/control.in" > "$stage/DEBIAN/control"
echo /etc/tinyedge/tinyedge.conf > "$stage/DEBIAN/conffiles"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$stage/DEBIAN/"

out="$here/target/tinyedge_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >&2
echo "$out"
