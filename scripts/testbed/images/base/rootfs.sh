#!/usr/bin/env bash
# Builds the test bed's Debian base image: a debootstrap minbase root filesystem, apt set up
# like this machine's (mirror and apt settings), imported into Docker as IMAGE.
# Usage: rootfs.sh WORKDIR IMAGE SUITE MIRROR SOURCES_LIST_FILE APT_CONF_FILE LABEL
set -euo pipefail
work=$1 image=$2 suite=$3 mirror=$4 sources=$5 aptconf=$6 label=$7
root=$work/rootfs
rm -rf "$work"
mkdir -p "$work"
debootstrap --variant=minbase "$suite" "$root" "$mirror"

cp "$sources" "$root/etc/apt/sources.list"
cp "$aptconf" "$root/etc/apt/apt.conf.d/99ferry-testbed"
# Lean images: no manuals, documentation or translations (copyright files stay).
cat > "$root/etc/dpkg/dpkg.cfg.d/ferry-testbed-excludes" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/*
find "$root/usr/share/doc" -type f ! -name copyright -delete
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
# No service starts while images are built (the host image removes this again).
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
# Each container that boots systemd gets its own machine id.
: > "$root/etc/machine-id"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/tmp/* "$root"/var/log/*.log

tar --numeric-owner -C "$root" -c . |
  docker import --change "LABEL $label" --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$image"
rm -rf "$work"
