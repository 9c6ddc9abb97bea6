#!/usr/bin/env bash
# Makes the Debian base images the Dockerfile builds FROM, without a container
# registry: debootstrap a minimal bookworm from the Debian archive apt uses,
# then `docker import` it twice:
#   debian:bookworm       the builder's base (apt lists and .deb cache removed,
#                         as in the registry's image)
#   debian:bookworm-slim  the runtime's base: the same tree without
#                         documentation, man pages and translations, and with
#                         dpkg told never to install them (what the
#                         registry's -slim variant does)
# Both keep the registry images' apt settings: no package cache kept after
# installs, and the bookworm, bookworm-updates and bookworm-security suites.
#
#   scripts/make-base-image.sh             # as root; skips tags that exist
#   DEBIAN_MIRROR=http://mirror.example/debian scripts/make-base-image.sh
#   MAKE_BASE_FORCE=1 scripts/make-base-image.sh   # rebuild both tags
# Needs debootstrap and a running Docker engine (DOCKER_HOST is honoured).
set -euo pipefail

RELEASE=${DEBIAN_RELEASE:-bookworm}
DOCKER=${DOCKER:-docker}
FULL=debian:$RELEASE
SLIM=debian:$RELEASE-slim

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

if [[ -z "${MAKE_BASE_FORCE:-}" ]] && have_image "$FULL" && have_image "$SLIM"; then
  echo "make-base-image: $FULL and $SLIM exist"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "make-base-image: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  echo "make-base-image: debootstrap is missing (apt-get install debootstrap)" >&2
  exit 1
}

ROOTFS=$(mktemp -d /tmp/rewardd-base.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT

echo "make-base-image: debootstrap --variant=minbase $RELEASE (a minute or two)"
# With no mirror argument debootstrap uses Debian's default mirror.
if ! debootstrap --variant=minbase "$RELEASE" "$ROOTFS" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} \
  >"$ROOTFS.log" 2>&1; then
  tail -n 20 "$ROOTFS.log" >&2
  echo "make-base-image: debootstrap failed (full log: $ROOTFS.log)" >&2
  exit 1
fi
rm -f "$ROOTFS.log"

# The archive debootstrap used, e.g. "http://<mirror>/debian".
mirror=$(awk '$1 == "deb" {print $2; exit}' "$ROOTFS/etc/apt/sources.list")
[[ -n "$mirror" ]] || { echo "make-base-image: no mirror in sources.list" >&2; exit 1; }
rm -f "$ROOTFS/etc/apt/sources.list"
cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $RELEASE $RELEASE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $mirror-security
Suites: $RELEASE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Images keep no package cache: delete downloaded .debs after every install.
cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-languages"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
  "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/apt/* "$ROOTFS"/var/log/dpkg.log \
  "$ROOTFS"/var/log/bootstrap.log "$ROOTFS"/var/log/alternatives.log
mkdir -p "$ROOTFS/var/lib/apt/lists/partial"

import() {
  local tag=$1
  tar --numeric-owner -C "$ROOTFS" -c . | "$DOCKER" import - "$tag" >/dev/null
  echo "make-base-image: $tag ($("$DOCKER" image inspect -f '{{.Size}}' "$tag") bytes)"
}
import "$FULL"

# -slim: what the registry's slim images leave out (Debian's debuerreotype
# --slimify list), removed now and excluded from later installs.
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$ROOTFS"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
import "$SLIM"
