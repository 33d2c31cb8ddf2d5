#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Real-IPsec test bed: boots Debian's pinned 6.1 kernel under qemu (TCG; the
# host kernel has no ESP/AH) with the host's userspace over read-only 9p, and
# runs each scenario of tests/vm/scenarios/ as root in its own fresh VM.
#
#   tests/vm/run.sh              run every scenario
#   tests/vm/run.sh NAME...      run the named ones (file scenarios/NAME.sh)
#
# Environment:
#   IPSECMON_VM_CACHE    download/unpack/initramfs cache, outside the tree
#                        (default /var/cache/ipsecmon-vm)
#   IPSECMON_VM_TIMEOUT  hard cap in seconds per scenario VM (default 120)
#   IPSECMON_VM_KEEP=1   keep the per-run work folder (console logs, outputs)
#   IPSECMON_BIN         datapath binary the scenarios also check when it is
#                        executable (default build/ipsecmon-bpf of this
#                        checkout; a path as seen in the guest, not under /tmp;
#                        a missing path runs the kernel checks only)
#   IPSECMON_VM_KERNEL_PACKAGE / IPSECMON_VM_KERNEL_VERSION override kernel.conf
#
# The last line is always "N passed, N failed"; the exit status is non-zero
# when any scenario failed.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/../.." && pwd)
CACHE=${IPSECMON_VM_CACHE:-/var/cache/ipsecmon-vm}
TIMEOUT=${IPSECMON_VM_TIMEOUT:-120}

log() { printf 'ipsecmon-vm: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 2
}

# kernel.conf is data, not code: read the two keys without sourcing it so
# that values from the environment win and nothing else in it can run.
conf_get() {
	local key=$1 line
	while IFS= read -r line; do
		[[ $line == "$key="* ]] && printf '%s\n' "${line#*=}" && return 0
	done <"$VM_DIR/kernel.conf"
	die "$key missing from $VM_DIR/kernel.conf"
}
KPKG=${IPSECMON_VM_KERNEL_PACKAGE:-$(conf_get IPSECMON_VM_KERNEL_PACKAGE)}
KVERSION=${IPSECMON_VM_KERNEL_VERSION:-$(conf_get IPSECMON_VM_KERNEL_VERSION)}
KREL=${KPKG#linux-image-} # uname -r of that kernel, e.g. 6.1.0-50-amd64

# The modules the initramfs must load before it can mount the host root.
BOOT_MODULES=(virtio_pci 9pnet_virtio 9p)

need_tools() {
	local t missing=()
	for t in qemu-system-x86_64 apt-get dpkg depmod modprobe busybox cpio \
		timeout sha256sum mktemp; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	((${#missing[@]} == 0)) ||
		die "missing tools: ${missing[*]} (install the packages in tests/vm/packages.txt)"
	[[ $(id -u) == 0 ]] || die "must run as root (namespaces and XFRM in the guest, 9p export of /)"
}

# Fetch the kernel package into the cache and unpack it there: the host's
# /boot and /lib are never touched. Done once per version; later runs reuse it.
prepare_kernel() {
	KROOT=$CACHE/kernel/${KPKG}_$KVERSION
	[[ -e $KROOT/.complete ]] && return 0
	local deb=$CACHE/debs/${KPKG}_${KVERSION}_amd64.deb
	if [[ ! -s $deb ]]; then
		log "downloading $KPKG=$KVERSION from the apt repository"
		mkdir -p "$CACHE/debs"
		local dl
		dl=$(mktemp -d "$CACHE/debs/.dl.XXXXXX")
		# Let apt's unprivileged download user write there (no sandbox warning).
		chmod 0755 "$dl"
		chown _apt "$dl" 2>/dev/null || true
		# apt-get download writes into the current folder; warnings about
		# the unsandboxed (_apt) download are expected when run as root.
		(cd "$dl" && apt-get download -q "$KPKG=$KVERSION" 2>&1) >&2 ||
			die "apt-get download $KPKG=$KVERSION failed (run apt-get update? or bump tests/vm/kernel.conf)"
		mv "$dl"/*.deb "$deb"
		rmdir "$dl"
	fi
	log "unpacking $KPKG=$KVERSION into $KROOT"
	local tmp
	tmp=$(mktemp -d "$CACHE/kernel/.unpack.XXXXXX")
	dpkg -x "$deb" "$tmp"
	[[ -f $tmp/boot/vmlinuz-$KREL && -d $tmp/lib/modules/$KREL ]] ||
		die "$deb does not contain vmlinuz-$KREL and lib/modules/$KREL"
	depmod -b "$tmp" "$KREL"
	touch "$tmp/.complete"
	rm -rf "$KROOT"
	mv "$tmp" "$KROOT"
}

# Build the busybox initramfs. Its name carries a hash of everything that
# goes into it (busybox binary, stage-1 script, kernel, module list), so a
# change to any of them builds a new one and an unchanged setup reuses it.
prepare_initramfs() {
	local bb mods=() line m key
	bb=$(command -v busybox)
	# modprobe --show-depends lists insmod lines in load order and marks
	# built-ins; keep each module once, in the order first seen.
	declare -A seen=()
	while read -r line; do
		[[ $line == insmod\ * ]] || continue
		m=${line#insmod }
		m=${m%% *}
		[[ -n ${seen[$m]:-} ]] && continue
		seen[$m]=1
		mods+=("$m")
	done < <(modprobe -d "$KROOT" -S "$KREL" --show-depends -a "${BOOT_MODULES[@]}")
	((${#mods[@]} > 0)) || die "no boot modules resolved in $KROOT"
	# Contents only, not paths: another checkout path must hit the same entry.
	key=$({
		cat "$bb" "$VM_DIR/lib/initramfs-init" "${mods[@]}"
		printf '%s\n' "$KPKG $KVERSION" "${mods[@]##*/}"
	} | sha256sum | cut -c1-16)
	INITRD=$CACHE/initramfs/$KREL-$key.cpio
	[[ -s $INITRD ]] && return 0

	log "building initramfs $INITRD"
	mkdir -p "$CACHE/initramfs"
	local tree
	tree=$(mktemp -d)
	mkdir -p "$tree/bin" "$tree/modules"
	cp "$bb" "$tree/bin/busybox"
	local applet
	for applet in sh mount umount insmod mkdir sleep switch_root; do
		ln -s busybox "$tree/bin/$applet"
	done
	install -m 0755 "$VM_DIR/lib/initramfs-init" "$tree/init"
	for m in "${mods[@]}"; do
		cp "$m" "$tree/modules/"
		basename "$m" >>"$tree/modules/order"
	done
	# Uncompressed newc cpio: the kernel reads it directly and it is small.
	(cd "$tree" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	rm -rf "$tree"
}

# qemu's -virtfs option list uses commas as separators; a literal comma in a
# path is written as two commas.
qemu_path() { printf '%s' "${1//,/,,}"; }

# run_scenario NAME: boot one VM for one scenario; returns its status.
run_scenario() {
	local name=$1 dir start end rc
	dir=$RUNDIR/$name
	mkdir -p "$dir/share"
	{
		printf 'IPSECMON_VM_SCENARIO=%q\n' "$name"
		# The checkout is the guest's /run/vm/repo share (lib/initramfs-init).
		printf 'IPSECMON_VM_REPO=%q\n' /run/vm/repo
		printf 'IPSECMON_VM_GUEST_TIMEOUT=%q\n' "$((TIMEOUT - 20 > 10 ? TIMEOUT - 20 : 10))"
		# Where the scenarios look for the datapath binary (default
		# $REPO/build/ipsecmon-bpf; a path that does not exist skips those checks).
		if [[ -n ${IPSECMON_BIN:-} ]]; then printf 'export IPSECMON_BIN=%q\n' "$IPSECMON_BIN"; fi
	} >"$dir/share/job.env"

	start=$(date +%s.%N)
	rc=0
	# TCG: nested KVM does not boot on these machines. No NIC: all traffic
	# stays between namespaces inside the guest. -no-reboot turns a guest
	# panic into a qemu exit instead of a reboot loop; timeout is the hard cap.
	timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
		-nographic -no-reboot -nic none \
		-kernel "$KROOT/boot/vmlinuz-$KREL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" \
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$(qemu_path "$dir/share"),mount_tag=work,security_model=none" \
		-virtfs "local,path=$(qemu_path "$KROOT"),mount_tag=modules,security_model=none,readonly=on" \
		-virtfs "local,path=$(qemu_path "$REPO"),mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
		</dev/null >"$dir/console.log" 2>&1 || rc=$?
	end=$(date +%s.%N)
	ELAPSED=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')

	if ((rc == 124 || rc == 137)); then
		log "$name: VM hit the ${TIMEOUT}s hard cap"
		return 1
	fi
	if [[ ! -f $dir/share/rc ]]; then
		log "$name: the guest did not report a result (qemu status $rc)"
		return 1
	fi
	return "$(<"$dir/share/rc")"
}

main() {
	local names=() n
	if (($# == 0)); then
		for n in "$VM_DIR"/scenarios/*.sh; do
			n=${n##*/}
			names+=("${n%.sh}")
		done
	else
		for n in "$@"; do
			n=${n%.sh}
			n=${n##*/}
			[[ -f $VM_DIR/scenarios/$n.sh ]] || die "unknown scenario '$n' (see $VM_DIR/scenarios/)"
			names+=("$n")
		done
	fi

	need_tools
	mkdir -p "$CACHE/kernel"
	# Serialise cache preparation between concurrent runs on one machine.
	exec 9>"$CACHE/.lock"
	flock 9
	prepare_kernel
	prepare_initramfs
	flock -u 9
	log "kernel $KPKG=$KVERSION ($KREL), cache $CACHE"

	RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/ipsecmon-vm.XXXXXX")
	if [[ ${IPSECMON_VM_KEEP:-0} == 1 ]]; then
		log "keeping work folder $RUNDIR"
	else
		trap 'rm -rf "$RUNDIR"' EXIT
	fi

	local passed=0 failed=0 failed_names=() total_start=$SECONDS
	for n in "${names[@]}"; do
		printf '=== %s\n' "$n"
		ELAPSED='?'
		if run_scenario "$n"; then
			[[ -f $RUNDIR/$n/share/output ]] && sed 's/^/    /' "$RUNDIR/$n/share/output"
			printf 'PASS %s (%s s)\n' "$n" "$ELAPSED"
			passed=$((passed + 1))
		else
			if [[ -f $RUNDIR/$n/share/output ]]; then
				sed 's/^/    /' "$RUNDIR/$n/share/output"
			fi
			printf -- '--- guest console log of %s:\n' "$n"
			sed 's/^/  | /' "$RUNDIR/$n/console.log"
			printf 'FAIL %s (%s s)\n' "$n" "$ELAPSED"
			failed=$((failed + 1))
			failed_names+=("$n")
		fi
	done
	printf 'kernel %s=%s, %d s in total\n' "$KPKG" "$KVERSION" "$((SECONDS - total_start))"
	((failed == 0)) || printf 'failed: %s\n' "${failed_names[*]}"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	((failed == 0))
}

main "$@"
