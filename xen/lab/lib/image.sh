# shellcheck shell=bash
# Host side: builds the lab's images from installed Debian packages into
# $LAB_CACHE/images, and only when an input changed (see lab_inputs).
#
#   xen.elf       Xen, multiboot ELF (zcat of /boot/xen-4.17-amd64.gz)
#   vmlinuz       Debian's kernel, booted as the PV dom0
#   dom0.cpio     dom0 initramfs (~120 MB, Node.js included)
#   share/        mounted read-only at /lab/images in dom0 over virtio-9p, read
#                 only by `xl create` (once per boot, then cached):
#     domu/vmlinux  the domU kernel as a plain ELF (dom0's /lab/domu links here)
#     domu/initrd   the domU initramfs
#   labgnt        the grant/evtchn probe (tools/labgnt.c), in both images
#   manifest      versions and sizes, for the README and bug reports
#
# Needs lib/host.sh. Knobs (all part of the rebuild check):
#   LAB_DOM0_FILES / LAB_DOMU_FILES="src[:dst] ..."  more host files or dirs
#       for dom0 / every domU; ELF files bring their ldd dependencies
#   LAB_NODE=path|0   Node.js for dom0 (default: `command -v node`; 0: none)

LAB_IMAGES=$LAB_CACHE/images
LAB_XEN_BIN=/usr/lib/xen-$XEN_SERIES/bin

# Kernel modules each side gets (dependencies follow). dom0 loads only the
# Xen device drivers at boot; bridge and netback come with lab_bridge_up.
LAB_DOM0_MODULES="xenfs xen-privcmd xen-evtchn xen-gntdev xen-gntalloc xen-netback bridge tun
  9p 9pnet_virtio virtio_pci"
LAB_DOMU_MODULES="xenfs xen-evtchn xen-gntdev xen-gntalloc tun xen-netfront"

lab_kernel_version() { # newest Debian amd64 kernel with Xen modules
  local v
  for v in $(find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V -r); do
    [ -d "/lib/modules/$v/kernel/drivers/xen" ] && { echo "$v"; return 0; }
  done
  lab_die "no /boot/vmlinuz-*-amd64 with /lib/modules/<version>/kernel/drivers/xen (run: lab.sh deps)"
}

lab_node_path() {
  case ${LAB_NODE:-} in
    0) return 0 ;;
    '') command -v node >/dev/null || lab_die "no node in PATH (set LAB_NODE=/path/to/node, or LAB_NODE=0)"
        readlink -f "$(command -v node)" ;;
    *) [ -x "$LAB_NODE" ] || lab_die "LAB_NODE=$LAB_NODE is not executable"; readlink -f "$LAB_NODE" ;;
  esac
}

# Everything the images are made of, one line each; its hash is the stamp.
lab_inputs() {
  local v item src
  v=$(lab_kernel_version)
  echo "kernel $v module-sigs ${LAB_MODULE_SIGS:-strip}"
  dpkg-query -W -f='${Package} ${Version}\n' "${LAB_DEBIAN_PACKAGES[@]}" 2>/dev/null
  stat -L -c '%n %s %Y' "/boot/vmlinuz-$v" "/boot/xen-$XEN_SERIES-amd64.gz"
  src=$(lab_node_path); [ -n "$src" ] && stat -L -c 'node %n %s %Y' "$src"
  (cd "$LAB_HOME" && sha256sum lib/host.sh lib/image.sh image/* tools/*.c)
  for item in ${LAB_DOM0_FILES:-} -- ${LAB_DOMU_FILES:-}; do
    src=${item%%:*}
    [ "$item" = -- ] && { echo "--"; continue; }
    [ -e "$src" ] || lab_die "not found: $src (in LAB_DOM0_FILES/LAB_DOMU_FILES)"
    echo "file $item"; find -L "$src" -type f -printf '%p %s %T@\n' | sort
  done
}

# --- rootfs helpers -------------------------------------------------------------

rootfs_skeleton() { # a merged-/usr tree like Debian 12's
  local r=$1
  rm -rf "$r"
  mkdir -p "$r"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,etc,proc,sys,dev,run,tmp,root,var/log,var/lib,lab}
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
  chmod 1777 "$r/tmp"
  cp /usr/bin/busybox "$r/usr/bin/busybox"   # busybox-static: no libraries
  # /bin/sh is dash, not busybox: Debian's busybox-static prefers its own applets
  # to PATH in its shell, so `ip` in a busybox script would never be iproute2's
  cp /usr/bin/dash "$r/usr/bin/dash"; ln -s dash "$r/usr/bin/sh"; rootfs_libs "$r" /usr/bin/dash
  echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
  echo 'root:x:0:' >"$r/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$r/etc/hosts"
  printf 'passwd: files\ngroup: files\nhosts: files\n' >"$r/etc/nsswitch.conf"
}

rootfs_finish() { # busybox applets where no real binary is, then the loader cache
  local r=$1 a
  # one process for ~400 links; it keeps files that exist (a real ip, bash, cpio)
  busybox --install -s "$r/usr/bin" 2>/dev/null
  for a in $(cd "$r/usr/sbin" && ls); do   # real sbin tools shadow nothing: drop their applet links
    [ -L "$r/usr/bin/$a" ] && [ "$(readlink "$r/usr/bin/$a")" = /usr/bin/busybox ] && rm "$r/usr/bin/$a"
  done
  ldconfig -r "$r" 2>/dev/null || true   # no cache is fine too: libraries sit at ldd's paths
}

is_elf() { # no process: the build checks every file it copies
  local m=''
  [ -f "$1" ] && IFS= read -r -n 4 -d '' m <"$1" 2>/dev/null
  [ "$m" = $'\x7fELF' ]
}

rootfs_libs() { # ldd dependencies of ELF file $2 into root $1, at the same paths
  local r=$1 f=$2 lib deps
  deps=$(ldd "$f" 2>/dev/null) || true
  case $deps in *'not found'*) lab_die "$f: $(grep 'not found' <<<"$deps" | head -n 1)" ;; esac
  # shellcheck disable=SC2013  # paths have no spaces
  for lib in $(awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }' <<<"$deps"); do
    [ -e "$r$lib" ] && continue
    mkdir -p "$r${lib%/*}"
    cp -L "$lib" "$r$lib"
  done
}

rootfs_add() { # rootfs_add ROOT SRC [DST]: a file or a dir (dereferenced), with ELF deps
  local r=$1 src=$2 dst=${3:-$2} f
  [ -e "$src" ] || lab_die "not found: $src"
  mkdir -p "$r$(dirname "$dst")"
  if [ -d "$src" ]; then
    mkdir -p "$r$dst"; cp -aL "$src/." "$r$dst/"
    while IFS= read -r -d '' f; do is_elf "$f" && rootfs_libs "$r" "$f"; done < <(find -L "$src" -type f -print0)
  else
    cp -L "$src" "$r$dst"
    if is_elf "$src"; then rootfs_libs "$r" "$src"; fi
  fi
  return 0
}

rootfs_add_list() { # rootfs_add_list ROOT "src[:dst] ..."
  local r=$1 item
  for item in $2; do
    case $item in *:*) rootfs_add "$r" "${item%%:*}" "${item#*:}" ;; *) rootfs_add "$r" "$item" ;; esac
  done
}

rootfs_modules() { # rootfs_modules ROOT KVER MODULE...: with their dependencies, then depmod
  local r=$1 v=$2 m dep; shift 2
  for m in "$@"; do
    modinfo -k "$v" -n "$m" >/dev/null 2>&1 || lab_die "kernel module $m not found for $v"
    for dep in $(modprobe -S "$v" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'); do
      [ -e "$r$dep" ] && continue
      mkdir -p "$r$(dirname "$dep")"; cp -L "$dep" "$r$dep"
      # drop the appended signature: checking it costs ~0.5 s a module under
      # TCG; the kernel then loads it with a "tainted" note (not enforced)
      [ "${LAB_MODULE_SIGS:-strip}" = keep ] || strip --strip-debug "$r$dep"
    done
  done
  cp /lib/modules/"$v"/modules.{order,builtin,builtin.modinfo} "$r/lib/modules/$v/" 2>/dev/null || true
  depmod -b "$r" "$v"
}

rootfs_xenstore_tools() { # xenstore-read etc. are links to one multi-call binary
  local r=$1 t
  rootfs_add "$r" /usr/bin/xenstore
  for t in read write ls list rm exists watch chmod; do ln -sf xenstore "$r/usr/bin/xenstore-$t"; done
}

lab_mkcpio() { (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$2"; }

# The domU kernel as a plain ELF: libxc would otherwise XZ-decompress the
# bzImage inside dom0, under TCG, on every `xl create` (~4 s).
lab_extract_vmlinux() { # bzImage out
  local off
  off=$(LC_ALL=C grep -aboF -m1 $'\xfd7zXZ' "$1" | head -1 | cut -d: -f1)
  [ -n "$off" ] || lab_die "no XZ payload in $1 (not a Debian amd64 kernel?)"
  tail -c +$((off + 1)) "$1" | xz -dc --single-stream >"$2" 2>/dev/null || true
  is_elf "$2" || lab_die "extracting the ELF kernel from $1 failed"
  strip "$2" 2>/dev/null || true
}

# --- the images ------------------------------------------------------------------

lab_build_domu() { # root kver tmpdir
  local U=$1 v=$2 T=$3
  rootfs_skeleton "$U"
  rootfs_add "$U" /usr/lib/x86_64-linux-gnu/libgcc_s.so.1   # glibc dlopen()s it (pthread_cancel); ldd can't see that
  rootfs_xenstore_tools "$U"
  rootfs_add "$U" /usr/sbin/ip       # iproute2's ip (busybox's lacks options tools expect)
  rootfs_add "$U" /usr/bin/iperf3
  rootfs_add "$U" "$T/labgnt" /usr/bin/labgnt
  # shellcheck disable=SC2086  # a word list
  rootfs_modules "$U" "$v" $LAB_DOMU_MODULES
  cp "$LAB_HOME/image/domu-init.sh" "$U/init"; chmod 755 "$U/init"
  rootfs_add_list "$U" "${LAB_DOMU_FILES:-}"
  rootfs_finish "$U"
  lab_mkcpio "$U" "$T/domu.cpio"   # uncompressed: libxc would gunzip it in dom0
}

lab_build_dom0() { # root kver tmpdir
  local D=$1 v=$2 T=$3 f node
  rootfs_skeleton "$D"
  rootfs_add "$D" /usr/bin/bash
  rootfs_add "$D" /usr/lib/x86_64-linux-gnu/libgcc_s.so.1   # as above: xl aborts without it
  rootfs_add "$D" /usr/sbin/ip
  rootfs_add "$D" /usr/sbin/bridge
  rootfs_add "$D" /usr/bin/cpio      # GNU cpio: per-run domU initramfs (lab_domu_create --file)
  rootfs_add "$D" /usr/bin/iperf3
  for f in xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper lsevtchn xenstore-control; do
    rootfs_add "$D" "$LAB_XEN_BIN/$f"
  done
  ln -s "../lib/xen-$XEN_SERIES/bin/xl" "$D/usr/sbin/xl"
  rootfs_xenstore_tools "$D"
  rootfs_add "$D" /etc/xen                     # xl.conf and the hotplug scripts (vif-bridge)
  rootfs_add "$D" /usr/lib/xen-common/bin
  rootfs_add "$D" "$T/labgnt" /usr/bin/labgnt
  node=$(lab_node_path)
  # in the initramfs, not share/: 9p reads ~10 MB/s under TCG, and Node.js
  # started 11 s from 9p against 0.7 s from here
  [ -n "$node" ] && rootfs_add "$D" "$node" /usr/bin/node
  mkdir -p "$D/var/lib/xen" "$D/var/log/xen/console" "$D/var/lock" "$D/lab/images" "$D/vpio" "$D/results"
  ln -s images/domu "$D/lab/domu"
  # shellcheck disable=SC2086  # a word list
  rootfs_modules "$D" "$v" $LAB_DOM0_MODULES
  cp "$LAB_HOME/image/dom0-init.sh" "$D/init"; chmod 755 "$D/init"
  rootfs_add_list "$D" "${LAB_DOM0_FILES:-}"
  rootfs_finish "$D"
  lab_mkcpio "$D" "$T/dom0.cpio"
}

# Builds into a fresh directory and swaps it in, so a failed build leaves the
# old images and a run never reads half-written ones.
lab_build() {
  local force=${1:-}
  lab_check_deps
  mkdir -p "$LAB_CACHE"
  exec 9>"$LAB_CACHE/build.lock"
  flock -w 600 9 || lab_die "another build holds $LAB_CACHE/build.lock"
  local inputs stamp node
  inputs=$(lab_inputs) || exit 2
  stamp=$(printf '%s\n' "$inputs" | sha256sum | cut -c1-16)
  if [ -z "$force" ] && [ -f "$LAB_IMAGES/stamp" ] && [ "$(cat "$LAB_IMAGES/stamp")" = "$stamp" ]; then
    lab_log "build: images up to date ($LAB_IMAGES, stamp $stamp)"
    flock -u 9; return 0
  fi
  local t0 v T; t0=$(date +%s.%N); v=$(lab_kernel_version)
  T=$LAB_CACHE/build.$$; rm -rf "$T"; mkdir -p "$T"
  lab_log "build: kernel $v, Xen $(dpkg-query -W -f='${Version}' "xen-hypervisor-$XEN_SERIES-amd64") into $LAB_IMAGES"
  zcat "/boot/xen-$XEN_SERIES-amd64.gz" >"$T/xen.elf"
  cp "/boot/vmlinuz-$v" "$T/vmlinuz"
  lab_extract_vmlinux "$T/vmlinuz" "$T/vmlinux"
  gcc -O2 -Wall -Wextra -Werror -o "$T/labgnt" "$LAB_HOME/tools/labgnt.c" -lxengnttab -lxenevtchn
  mkdir -p "$T/share/domu"
  lab_build_domu "$T/domu-root" "$v" "$T"
  mv "$T/vmlinux" "$T/share/domu/vmlinux"; mv "$T/domu.cpio" "$T/share/domu/initrd"
  lab_build_dom0 "$T/dom0-root" "$v" "$T"
  rm -rf "$T/domu-root" "$T/dom0-root"
  {
    echo "stamp $stamp"; echo "built $(date -u +%FT%TZ)"; echo "kernel $v"
    dpkg-query -W -f='${Package} ${Version}\n' "${LAB_DEBIAN_PACKAGES[@]}"
    node=$(lab_node_path); [ -n "$node" ] && echo "node $node $("$node" --version)"
    (cd "$T" && du -h xen.elf vmlinuz dom0.cpio labgnt share/*)
  } >"$T/manifest"
  echo "$stamp" >"$T/stamp"
  rm -rf "$LAB_IMAGES.old"; [ -d "$LAB_IMAGES" ] && mv "$LAB_IMAGES" "$LAB_IMAGES.old"
  mv "$T" "$LAB_IMAGES"; rm -rf "$LAB_IMAGES.old"
  lab_log "build: done in $(lab_since "$t0")s: dom0.cpio $(du -h "$LAB_IMAGES/dom0.cpio" | cut -f1), domU initrd $(du -h "$LAB_IMAGES/share/domu/initrd" | cut -f1), share/ $(du -sh "$LAB_IMAGES/share" | cut -f1)"
  flock -u 9
}
