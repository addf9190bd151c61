#!/usr/bin/env bash
# Builds rackboot's tiny x86-64 boot image (Debian cloud kernel + busybox initramfs whose
# /init reports to BOS) reproducibly, so tests and labs can boot real nodes against the
# appliance without a distribution image. Optionally imports it into a running rackboot.
#
# Usage: images/build.sh            -> images/out/{vmlinuz,initrd.img,manifest.json,...}
# Environment (all optional):
#   OUT=DIR                 output directory (default images/out)
#   IMAGE_NAME=tiny         image name in the manifest and for the import
#   KERNEL_PACKAGE=linux-image-6.1.0-56-cloud-amd64
#                           pin the kernel package (default: what linux-image-cloud-amd64 needs)
#   SOURCE_DATE_EPOCH=N     timestamps in the archive and manifest (default 0)
#   IMAGE_PARAMS="..."      default kernel parameters of the image
#   NODE_RACKBOOT_URL=URL   rackboot_url= added to the default parameters (default: RACKBOOT_URL)
#   RACKBOOT_URL=URL        if set, import the image into that appliance afterwards
#   RACKBOOT=path           rackboot binary for the import (default target/debug/rackboot)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=$here/.cache
out=${OUT:-$here/out}
name=${IMAGE_NAME:-tiny}
export LC_ALL=C TZ=UTC

# Module order matters: insmod (busybox) does not resolve dependencies.
net_modules=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
    failover net_failover virtio_net)
# For the ACPI power button: evdev gives acpid /dev/input/event*, button the key press.
button_modules=(evdev button)

log() { printf 'build: %s\n' "$*" >&2; }
die() {
    printf 'build: error: %s\n' "$*" >&2
    exit 1
}

apt_install() {
    [ "$(id -u)" = 0 ] || die "missing packages ($*): install them (as root) and rerun"
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
        --no-install-recommends "$@" >&2
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# --- 1. tools and inputs
need=()
installed busybox-static || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v gzip >/dev/null || need+=(gzip)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
busybox=/bin/busybox
"$busybox" --list >/dev/null || die "$busybox does not run"

mkdir -p "$cache/debs"
kpkg=${KERNEL_PACKAGE:-}
if [ -z "$kpkg" ]; then
    resolve() {
        apt-cache depends linux-image-cloud-amd64 2>/dev/null |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-cloud-amd64$/ { print $2; exit }'
    }
    kpkg=$(resolve || true)
    if [ -z "$kpkg" ] && [ "$(id -u)" = 0 ]; then
        log "apt-get update (no package lists for linux-image-cloud-amd64)"
        apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || true
        kpkg=$(resolve || true)
    fi
    if [ -z "$kpkg" ]; then
        # Offline: fall back to the newest kernel already in the cache.
        cached=$(find "$cache/debs" -name 'linux-image-*-cloud-amd64_*.deb' -printf '%f\n' | sort -V | tail -n 1)
        [ -n "$cached" ] || die "cannot resolve linux-image-cloud-amd64 (no apt lists, no cache)"
        kpkg=${cached%%_*}
    fi
fi
deb=$(find "$cache/debs" -name "${kpkg}_*_amd64.deb" -printf '%p\n' | sort -V | tail -n 1)
if [ -z "$deb" ]; then
    log "downloading $kpkg"
    # Sandbox user root: the _apt user cannot write into a root-owned cache directory.
    (cd "$cache/debs" && apt-get -q -o APT::Sandbox::User=root download "$kpkg" >&2)
    deb=$(find "$cache/debs" -name "${kpkg}_*_amd64.deb" -printf '%p\n' | sort -V | tail -n 1)
    [ -n "$deb" ] || die "apt-get download $kpkg left no .deb in $cache/debs"
fi
kver_pkg=$(dpkg-deb -f "$deb" Version)
kroot=$cache/$(basename "$deb" .deb)
if [ ! -e "$kroot/.extracted" ]; then
    log "extracting $(basename "$deb")"
    rm -rf "$kroot"
    mkdir -p "$kroot"
    dpkg-deb -x "$deb" "$kroot"
    touch "$kroot/.extracted"
fi
vmlinuz=$(find "$kroot/boot" -name 'vmlinuz-*' | head -n 1)
[ -n "$vmlinuz" ] || die "no vmlinuz in $deb"
kver=${vmlinuz##*/vmlinuz-}
kconfig=$kroot/boot/config-$kver
moddir=$kroot/lib/modules/$kver

# --- 2. stage the initramfs tree
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,var/log,root,lib/modules/"$kver"}
cp "$busybox" "$root/bin/busybox"
while read -r applet; do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
done < <("$busybox" --list-full)
install -m 0755 "$here/init" "$root/init"
cp -R "$here/rootfs/." "$root/"

# Copy one module uncompressed; a module built into the kernel (=y) is skipped.
add_module() {
    local m=$1 f
    f=$(find "$moddir/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n 1)
    if [ -z "$f" ]; then
        if grep -q "/$m\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
            log "$m is built into the kernel"
            return 0
        fi
        die "module $m not found in $kpkg"
    fi
    case "$f" in
        *.ko) cp "$f" "$root/lib/modules/$kver/$m.ko" ;;
        *.ko.xz) xz -dc "$f" >"$root/lib/modules/$kver/$m.ko" ;;
        *.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$kver/$m.ko" ;;
        *.ko.gz) gzip -dc "$f" >"$root/lib/modules/$kver/$m.ko" ;;
    esac
}
for m in "${net_modules[@]}" "${button_modules[@]}"; do add_module "$m"; done
grep -q '^CONFIG_ACPI_BUTTON=[ym]' "$kconfig" || log "warning: kernel has no ACPI button driver"

# Normalise what the archive records: owner (cpio -R), modes, timestamps.
# A fixed default (not the commit time), so the output depends on the inputs only.
sde=${SOURCE_DATE_EPOCH:-0}
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/init" "$root/bin/busybox" "$root/etc/udhcpc.script" "$root/etc/acpi/power"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
find "$root" -exec touch -h -d "@$sde" {} +

# --- 3. outputs (written to temporary names, then renamed)
mkdir -p "$out"
(cd "$root" && find . -mindepth 1 -printf '%P\n' | sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9 -n >"$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
cp "$vmlinuz" "$out/vmlinuz.tmp"
touch -d "@$sde" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"

node_url=${NODE_RACKBOOT_URL:-${RACKBOOT_URL:-}}
params=${IMAGE_PARAMS:-console=ttyS0 panic=1 no_timer_check${node_url:+ rackboot_url=$node_url}}
printf '%s' "$params" >"$out/boot_parameters"

# The IMS-style manifest rackboot's `images import` writes (src/artifacts/manifest.rs:
# serde_json pretty, keys sorted), with s3://boot-images/<name>/<kind> paths, MD5 ETags
# (what S3 gives a single-part upload) and SOURCE_DATE_EPOCH as the creation time.
md5() { md5sum "$1" | cut -d' ' -f1; }
artifact() { # kind mime file last
    printf '    {\n      "link": {\n        "etag": "%s",\n        "path": "s3://boot-images/%s/%s",\n        "type": "s3"\n      },\n      "type": "%s"\n    }%s\n' \
        "$(md5 "$3")" "$name" "$1" "$2" "$4"
}
{
    printf '{\n  "artifacts": [\n'
    artifact kernel application/vnd.cray.image.kernel "$out/vmlinuz" ,
    artifact initrd application/vnd.cray.image.initrd "$out/initrd.img" ,
    artifact boot_parameters application/vnd.cray.image.parameters.boot "$out/boot_parameters" ''
    printf '  ],\n  "created": "%s",\n  "version": "1.0"\n}' "$(date -u -d "@$sde" +%Y-%m-%dT%H:%M:%S+00:00)"
} >"$out/manifest.json"

{
    echo "image=$name"
    echo "kernel_package=$kpkg"
    echo "kernel_package_version=$kver_pkg"
    echo "kernel_release=$kver"
    echo "busybox_static=$(dpkg-query -W -f='${Version}' busybox-static)"
    echo "source_date_epoch=$sde"
    echo "modules=${net_modules[*]} ${button_modules[*]}"
} >"$out/build-info.txt"
(cd "$out" && sha256sum vmlinuz initrd.img boot_parameters manifest.json >SHA256SUMS)
log "kernel $kpkg $kver_pkg; initrd $(stat -c %s "$out/initrd.img") bytes; out: $out"
(cd "$out" && cat SHA256SUMS) >&2

# --- 4. optional import into a running appliance
if [ -n "${RACKBOOT_URL:-}" ]; then
    bin=${RACKBOOT:-$repo/target/debug/rackboot}
    [ -x "$bin" ] || die "RACKBOOT_URL is set but $bin is not there (build rackboot or set RACKBOOT=)"
    log "importing image $name into $RACKBOOT_URL"
    "$bin" images import --url "$RACKBOOT_URL" --name "$name" \
        --kernel "$out/vmlinuz" --initrd "$out/initrd.img" --params "$params"
fi
