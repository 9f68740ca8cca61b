#!/usr/bin/env bash
# Makes a base image with the .NET and ASP.NET Core runtimes from this machine's .NET install, for engines that cannot
# pull mcr.microsoft.com/dotnet/aspnet:10.0 (no registry on the internet, as in CI). The image holds the runtimes, the
# dotnet host and the native libraries they load (glibc, libstdc++, OpenSSL for the daemon's cryptography, NSS for
# name lookups), nothing else: no shell, no package manager.
#
#   make-base.sh TAG [docker options...]     e.g. make-base.sh vc/dotnet-aspnet:10.0 -H unix:///run/engine.sock
set -euo pipefail
tag=${1:?usage: make-base.sh TAG [docker options...]}
shift
dotnet=$(readlink -f "$(command -v dotnet)")
root=$(dirname "$dotnet")
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/usr/share/dotnet/shared" "$rootfs/usr/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/var/lib/vchost"
chmod 1777 "$rootfs/tmp"
cp -a "$dotnet" "$root/host" "$rootfs/usr/share/dotnet/"
for fw in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
  version=$(ls "$root/shared/$fw" | grep '^10\.' | sort -V | tail -n 1)
  [ -n "$version" ] || { echo "no .NET 10 $fw runtime under $root/shared" >&2; exit 1; }
  mkdir -p "$rootfs/usr/share/dotnet/shared/$fw"
  cp -a "$root/shared/$fw/$version" "$rootfs/usr/share/dotnet/shared/$fw/"
done
ln -s /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"

# Native libraries: what the host and the runtime's own libraries link to, and what they open later by name.
libdir=$(dirname "$(ldd "$dotnet" | grep -o '/[^ ]*/libc\.so\.6')")
linked=$({ ldd "$dotnet"; find "$rootfs/usr/share/dotnet" -name '*.so' -exec ldd {} \;; } 2>/dev/null | grep -o '/[^ ]*\.so[.0-9]*' | sort -u)
for lib in $linked "$libdir"/libssl.so.3 "$libdir"/libcrypto.so.3 "$libdir"/libnss_files.so.2 "$libdir"/libnss_dns.so.2 "$libdir"/libresolv.so.2; do
  case "$lib" in "$rootfs"*) continue ;; esac
  [ -e "$lib" ] && cp -L --parents "$lib" "$rootfs"
done
echo 'root:x:0:0:root:/root:/usr/sbin/nologin' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"

tar -C "$rootfs" -c . | docker "$@" import \
  -c 'ENV PATH=/usr/bin:/bin DOTNET_ROOT=/usr/share/dotnet DOTNET_RUNNING_IN_CONTAINER=true ASPNETCORE_HTTP_PORTS=' \
  -c 'WORKDIR /' - "$tag" >/dev/null
echo "$tag: .NET $(ls "$rootfs/usr/share/dotnet/shared/Microsoft.NETCore.App"), ASP.NET Core $(ls "$rootfs/usr/share/dotnet/shared/Microsoft.AspNetCore.App"), $(du -sh "$rootfs" | cut -f1)"
