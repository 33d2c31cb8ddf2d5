#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Real-IPsec test bed: boots each Debian kernel pinned in kernel.conf under
# qemu (TCG; the host kernel has no ESP/AH) with the host's userspace over
# read-only 9p, and runs the scenarios of tests/vm/scenarios/ as root on
# every kernel: several one after the other in one VM (each from a clean
# slate: lib/boot.sh), a scenario that wants systemd as PID 1 in its own.
#
#   tests/vm/run.sh              every scenario on every kernel
#   tests/vm/run.sh NAME...      the named ones (file scenarios/NAME.sh)
#
# Environment:
#   IPSECMON_VM_KERNEL   run only the kernel(s) whose package version starts
#                        with this (e.g. 6.12), or whose package name it is
#   IPSECMON_VM_KERNELS  "PACKAGE=VERSION ..." instead of kernel.conf's list
#   IPSECMON_VM_CACHE    download/unpack/initramfs cache, outside the tree
#                        (default /var/cache/ipsecmon-vm)
#   IPSECMON_VM_TIMEOUT  hard cap in seconds per scenario (default 480)
#   IPSECMON_VM_BATCH    scenarios per VM boot (default 8; 1: a VM each)
#   IPSECMON_VM_SUITE    the folder of tests/vm the scenarios come from
#                        (default scenarios; bench for make bench-scale)
#   IPSECMON_VM_MEM      guest memory in MiB (default 1024)
#   IPSECMON_BENCH_*, IPSECMON_SCALE_*  passed on to the guest (sizes, e.g.
#                        IPSECMON_BENCH_SIZES="1000 10000")
#   IPSECMON_VM_KEEP=1   keep the per-run work folder (console logs, outputs)
#   IPSECMON_BIN         datapath binary the scenarios also check when it is
#                        executable (default build/ipsecmon-bpf of this
#                        checkout; a path as seen in the guest, not under /tmp;
#                        a missing path runs the kernel checks only)
#
# One PASS/FAIL line per scenario and kernel, a table of them, and last
# "N passed, N failed" over the assertions of all runs (a run that ended
# without reporting counts as one failure); the exit status is non-zero
# when any run failed.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/../.." && pwd)
CACHE=${IPSECMON_VM_CACHE:-/var/cache/ipsecmon-vm}
TIMEOUT=${IPSECMON_VM_TIMEOUT:-480}
SUITE=${IPSECMON_VM_SUITE:-scenarios}
[[ $SUITE =~ ^[a-z]+$ && -d $VM_DIR/$SUITE ]] || {
	printf 'ipsecmon-vm: error: no suite %s in %s\n' "$SUITE" "$VM_DIR" >&2
	exit 2
}
MEM=${IPSECMON_VM_MEM:-1024}

log() { printf 'ipsecmon-vm: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 2
}

# kernel.conf is data, not code: read the key without sourcing it so that
# the environment wins and nothing else in it can run.
conf_get() {
	local key=$1 line
	while IFS= read -r line; do
		[[ $line == "$key="* ]] && printf '%s\n' "${line#*=}" && return 0
	done <"$VM_DIR/kernel.conf"
	die "$key missing from $VM_DIR/kernel.conf"
}

# The kernel being prepared or booted: package, version, and what comes out
# of the unpacked package (uname -r, tree, initramfs).
KPKG="" KVERSION="" KREL="" KROOT="" INITRD=""

# The modules the initramfs must load before it can mount the host root.
BOOT_MODULES=(virtio_pci 9pnet_virtio 9p)

need_tools() {
	local t missing=()
	for t in qemu-system-x86_64 apt-get dpkg depmod modprobe busybox cpio \
		xz timeout sha256sum mktemp flock nft gcc make modinfo; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	((${#missing[@]} == 0)) ||
		die "missing tools: ${missing[*]} (install the packages in tests/vm/packages.txt)"
	[[ $(id -u) == 0 ]] || die "must run as root (namespaces and XFRM in the guest, 9p export of /)"
}

# krel_of DIR: the uname -r of an unpacked kernel package, read from its one
# lib/modules folder. Package names do not give it reliably (the 6.12
# packages are named *-unsigned, their modules folder is not).
krel_of() {
	local dirs=("$1"/lib/modules/*/) d
	((${#dirs[@]} == 1)) && [[ -d ${dirs[0]} ]] || return 1
	d=${dirs[0]%/}
	printf '%s\n' "${d##*/}"
}

# Fetch the kernel package into the cache and unpack it there: the host's
# /boot and /lib are never touched. Done once per version; later runs reuse it.
prepare_kernel() {
	KROOT=$CACHE/kernel/${KPKG}_$KVERSION
	if [[ -e $KROOT/.complete ]]; then
		KREL=$(krel_of "$KROOT") || die "$KROOT: not one lib/modules folder (delete it)"
		return 0
	fi
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
	KREL=$(krel_of "$tmp") || die "$deb does not contain exactly one lib/modules folder"
	[[ -f $tmp/boot/vmlinuz-$KREL ]] || die "$deb does not contain boot/vmlinuz-$KREL"
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
		# "plain": modules go in decompressed (an older cache kept them as-is).
		printf '%s\n' "$KPKG $KVERSION plain" "${mods[@]##*/}"
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
	# busybox's insmod wants plain ELF: 6.12's modules come as .ko.xz.
	local base
	for m in "${mods[@]}"; do
		base=${m##*/}
		case $m in
		*.ko.xz) xz -dc "$m" >"$tree/modules/${base%.xz}" ;;
		*.ko.zst) zstd -qdc "$m" >"$tree/modules/${base%.zst}" ;;
		*.ko.gz) gzip -dc "$m" >"$tree/modules/${base%.gz}" ;;
		*) cp "$m" "$tree/modules/" ;;
		esac
		printf '%s\n' "${base%.ko*}.ko" >>"$tree/modules/order"
	done
	# Uncompressed newc cpio: the kernel reads it directly and it is small.
	(cd "$tree" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	rm -rf "$tree"
}

# Libreswan for the libreswan* scenarios. Debian's libreswan conflicts with
# the strongSwan packages the other scenarios need, so it is never
# installed: it and the libraries of it that a host with tests/vm/packages.txt
# lacks are fetched with apt-get download and unpacked with dpkg -x into a
# private root in the cache, once. The guest sees the host's root, so it
# runs pluto from there (LD_LIBRARY_PATH into that root).
LSW_PKGS=(libreswan libnss3-tools libldns3 libevent-pthreads-2.1-7)
LSW_ROOT=$CACHE/libreswan-root
prepare_libreswan() {
	[[ -e $LSW_ROOT/.complete ]] && return 0
	log "downloading ${LSW_PKGS[*]} into $LSW_ROOT (private root, not installed)"
	local dl tmp deb missing
	mkdir -p "$CACHE/debs"
	dl=$(mktemp -d "$CACHE/debs/.lsw.XXXXXX")
	chmod 0755 "$dl"
	chown _apt "$dl" 2>/dev/null || true
	(cd "$dl" && apt-get download -q "${LSW_PKGS[@]}" 2>&1) >&2 ||
		die "apt-get download ${LSW_PKGS[*]} failed (run apt-get update?)"
	tmp=$(mktemp -d "$CACHE/.lsw-root.XXXXXX")
	for deb in "$dl"/*.deb; do dpkg -x "$deb" "$tmp"; done
	rm -rf "$dl"
	missing=$(LD_LIBRARY_PATH=$tmp/usr/lib/x86_64-linux-gnu ldd "$tmp/usr/libexec/ipsec/pluto" \
		"$tmp/usr/bin/certutil" | awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
	[[ -z $missing ]] || die "libreswan root: libraries not found: $missing"
	chmod 0755 "$tmp"
	touch "$tmp/.complete"
	rm -rf "$LSW_ROOT"
	mv "$tmp" "$LSW_ROOT"
}

# netdevsim for the offload scenario: Debian builds its kernels without it
# (CONFIG_NETDEVSIM is not set), so it is built here once per kernel from
# the linux-source package of the kernel's version, against its headers
# (both fetched with apt-get download and unpacked in the cache, never
# installed), and put among the unpacked kernel's modules (depmod).
nsim_dl() {
	local dl=$1
	shift
	(cd "$dl" && apt-get download -q "$@" 2>&1) >&2 ||
		die "apt-get download $* failed (run apt-get update?)"
}
prepare_netdevsim() {
	local ko=$KROOT/lib/modules/$KREL/extra/netdevsim.ko
	# Built and known to modprobe (a run killed before depmod leaves only the first).
	[[ -s $ko ]] && grep -q '^extra/netdevsim\.ko:' "$KROOT/lib/modules/$KREL/modules.dep" &&
		return 0
	local series tmp hdr deps=() src deb
	series=$(cut -d. -f1,2 <<<"$KREL")
	log "building netdevsim for $KREL from linux-source-$series=$KVERSION"
	# What a failed build left (under the cache lock: no other run builds now).
	rm -rf "$CACHE"/.nsim.*
	tmp=$(mktemp -d "$CACHE/.nsim.XXXXXX")
	chmod 0755 "$tmp"
	mkdir "$tmp/dl" "$tmp/root"
	chown _apt "$tmp/dl" 2>/dev/null || true
	nsim_dl "$tmp/dl" "linux-headers-$KREL=$KVERSION" "linux-source-$series=$KVERSION"
	# The headers' common part and kbuild: whatever the headers depend on by name.
	mapfile -t deps < <(dpkg-deb -f "$tmp/dl/linux-headers-${KREL}_"*.deb Depends | tr ',' '\n' |
		sed -n "s/^ *\(linux-headers-[^ ]*-common\|linux-kbuild-[^ ]*\)\( .*\)\{0,1\}$/\1=$KVERSION/p")
	((${#deps[@]} == 2)) || die "linux-headers-$KREL: common and kbuild not found in its Depends"
	nsim_dl "$tmp/dl" "${deps[@]}"
	for deb in "$tmp/dl"/*.deb; do dpkg -x "$deb" "$tmp/root"; done
	hdr=$tmp/root/usr/src/linux-headers-$KREL
	# Its Makefile includes the common part by absolute path: point it here.
	sed -i "s|^include /usr/src/|include $tmp/root/usr/src/|" "$hdr/Makefile"
	src=$tmp/src
	mkdir "$src"
	tar -xf "$tmp/root/usr/src/linux-source-$series.tar.xz" -C "$src" --strip-components=4 \
		--wildcards '*/drivers/net/netdevsim/*'
	# No BTF for the module: that would need pahole, and nothing reads it.
	make -s -C "$hdr" M="$src" CONFIG_NETDEVSIM=m CONFIG_DEBUG_INFO_BTF_MODULES= \
		-j"$(nproc)" modules >&2 || die "building netdevsim for $KREL failed"
	[[ $(modinfo -F vermagic "$src/netdevsim.ko") == "$KREL "* ]] ||
		die "netdevsim.ko for $KREL: wrong vermagic"
	mkdir -p "${ko%/*}"
	cp "$src/netdevsim.ko" "$ko.tmp"
	mv "$ko.tmp" "$ko"
	depmod -b "$KROOT" "$KREL"
	rm -rf "$tmp"
}

# qemu's -virtfs option list uses commas as separators; a literal comma in a
# path is written as two commas.
qemu_path() { printf '%s' "${1//,/,,}"; }

# run_batch DIR NAME...: boot one VM of the current kernel for the named
# scenarios, its console log and work share in DIR; each scenario's results
# land in DIR/share/results/NAME.
run_batch() {
	local dir=$1 rc=0 cap
	shift
	cap=$((TIMEOUT * $#))
	mkdir -p "$dir/share"
	{
		printf 'IPSECMON_VM_SCENARIOS=%q\n' "$*"
		printf 'IPSECMON_VM_SUITE=%q\n' "$SUITE"
		# A script that says "# vm-init: systemd" gets systemd as PID 1
		# (such a script is always alone in its VM).
		if grep -q '^# vm-init: systemd$' "$VM_DIR/$SUITE/$1.sh"; then
			printf 'IPSECMON_VM_INIT=systemd\n'
		fi
		# The checkout is the guest's /run/vm/repo share (lib/initramfs-init).
		printf 'IPSECMON_VM_REPO=%q\n' /run/vm/repo
		printf 'IPSECMON_VM_GUEST_TIMEOUT=%q\n' "$((TIMEOUT - 20 > 10 ? TIMEOUT - 20 : 10))"
		# Where the scenarios look for the datapath binary (default
		# $REPO/build/ipsecmon-bpf; a path that does not exist skips those checks).
		if [[ -n ${IPSECMON_BIN:-} ]]; then printf 'export IPSECMON_BIN=%q\n' "$IPSECMON_BIN"; fi
		# The guest sees the host's root, cache included (prepare_libreswan).
		printf 'export IPSECMON_LIBRESWAN_ROOT=%q\n' "$LSW_ROOT"
		# Sizes for the scale scenario and the benches.
		local v
		for v in ${!IPSECMON_BENCH_@} ${!IPSECMON_SCALE_@}; do
			printf 'export %s=%q\n' "$v" "${!v}"
		done
	} >"$dir/share/job.env"

	# TCG: nested KVM does not boot on these machines. No NIC: all traffic
	# stays between namespaces inside the guest. -no-reboot turns a guest
	# panic into a qemu exit instead of a reboot loop; timeout is the hard cap.
	timeout --kill-after=10 "$cap" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -m "$MEM" -smp 2 \
		-nographic -no-reboot -nic none \
		-kernel "$KROOT/boot/vmlinuz-$KREL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" \
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$(qemu_path "$dir/share"),mount_tag=work,security_model=none" \
		-virtfs "local,path=$(qemu_path "$KROOT"),mount_tag=modules,security_model=none,readonly=on" \
		-virtfs "local,path=$(qemu_path "$REPO"),mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
		</dev/null >"$dir/console.log" 2>&1 || rc=$?
	if ((rc == 124 || rc == 137)); then
		log "VM of $* on $KREL hit the ${cap}s hard cap"
	fi
}

# scenario_result DIR NAME: the status of one scenario of a batch (its
# ELAPSED set), 1 with a reason logged when it did not report.
scenario_result() {
	local res=$1/share/results/$2
	ELAPSED='?'
	[[ -f $res/elapsed ]] && ELAPSED=$(<"$res/elapsed")
	if [[ ! -f $res/rc ]]; then
		log "$2 on $KREL: the guest did not report a result"
		return 1
	fi
	return "$(<"$res/rc")"
}

# assertion_counts FILE: "PASSED FAILED" from the last "N passed, N failed"
# line of a scenario's output (tests/lib/assert.sh's finish), "0 0" without.
assertion_counts() {
	local p=0 f=0 line
	if [[ -f $1 ]]; then
		while IFS= read -r line; do
			[[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] &&
				p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
		done <"$1"
	fi
	echo "$p $f"
}

# select_kernels: fill K_PKG/K_VER from kernel.conf (or IPSECMON_VM_KERNELS),
# keeping those IPSECMON_VM_KERNEL selects.
select_kernels() {
	local list entry pkg ver sel=${IPSECMON_VM_KERNEL:-}
	list=${IPSECMON_VM_KERNELS:-$(conf_get IPSECMON_VM_KERNELS)}
	K_PKG=() K_VER=()
	for entry in $list; do
		pkg=${entry%%=*}
		ver=${entry#*=}
		[[ $entry == *=* && -n $pkg && -n $ver ]] ||
			die "kernel entry '$entry' is not PACKAGE=VERSION"
		if [[ -n $sel && $pkg != "$sel" && $ver != "$sel" && $ver != "$sel".* &&
			$ver != "$sel"-* ]]; then
			continue
		fi
		K_PKG+=("$pkg")
		K_VER+=("$ver")
	done
	((${#K_PKG[@]} > 0)) || die "no kernel in '$list' matches IPSECMON_VM_KERNEL=$sel"
}

main() {
	local names=() n
	if (($# == 0)); then
		for n in "$VM_DIR/$SUITE"/*.sh; do
			# A scenario that shows a defect not fixed yet runs only by name.
			grep -q '^# known-failing:' "$n" && continue
			n=${n##*/}
			names+=("${n%.sh}")
		done
	else
		for n in "$@"; do
			n=${n%.sh}
			n=${n##*/}
			[[ -f $VM_DIR/$SUITE/$n.sh ]] || die "unknown scenario '$n' (see $VM_DIR/$SUITE/)"
			names+=("$n")
		done
	fi

	need_tools
	select_kernels
	mkdir -p "$CACHE/kernel"
	# Serialise cache preparation between concurrent runs on one machine.
	# Every kernel is prepared before the first VM boots, so a download
	# failure shows at once and not after minutes of scenarios.
	local k K_REL=() K_ROOT=() K_INITRD=()
	exec 9>"$CACHE/.lock"
	flock 9
	for k in "${!K_PKG[@]}"; do
		KPKG=${K_PKG[k]} KVERSION=${K_VER[k]}
		prepare_kernel
		prepare_initramfs
		K_REL[k]=$KREL K_ROOT[k]=$KROOT K_INITRD[k]=$INITRD
		log "kernel $KPKG=$KVERSION ($KREL)"
	done
	for n in "${names[@]}"; do
		[[ $n == libreswan* ]] && prepare_libreswan && break
	done
	for n in "${names[@]}"; do
		[[ $n == offload ]] || continue
		for k in "${!K_PKG[@]}"; do
			KPKG=${K_PKG[k]} KVERSION=${K_VER[k]} KREL=${K_REL[k]} KROOT=${K_ROOT[k]}
			prepare_netdevsim
		done
		break
	done
	flock -u 9
	log "cache $CACHE"

	RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/ipsecmon-vm.XXXXXX")
	if [[ ${IPSECMON_VM_KEEP:-0} == 1 ]]; then
		log "keeping work folder $RUNDIR"
	else
		trap 'rm -rf "$RUNDIR"' EXIT
	fi

	# All scenarios on one kernel, then the next: a kernel-wide problem
	# shows as a block, and the table below puts the kernels side by side.
	# Batches of IPSECMON_VM_BATCH share a boot; a systemd one boots alone.
	local passed=0 failed=0 failed_runs=() total_start=$SECONDS dir p f ok
	local batch=${IPSECMON_VM_BATCH:-8} groups=() group=() g b_start res shown
	[[ $batch =~ ^[1-9][0-9]*$ ]] || die "IPSECMON_VM_BATCH=$batch is not a positive number"
	for n in "${names[@]}"; do
		if grep -q '^# vm-init: systemd$' "$VM_DIR/$SUITE/$n.sh"; then
			groups+=("$n")
			continue
		fi
		group+=("$n")
		if ((${#group[@]} == batch)); then
			groups+=("${group[*]}")
			group=()
		fi
	done
	((${#group[@]} == 0)) || groups+=("${group[*]}")
	declare -A cell=()
	for k in "${!K_PKG[@]}"; do
		KPKG=${K_PKG[k]} KVERSION=${K_VER[k]}
		KREL=${K_REL[k]} KROOT=${K_ROOT[k]} INITRD=${K_INITRD[k]}
		for g in "${!groups[@]}"; do
			read -ra group <<<"${groups[g]}"
			printf '=== boot %d on %s: %s\n' "$((g + 1))" "$KREL" "${group[*]}"
			dir=$RUNDIR/$KREL/boot$((g + 1))
			b_start=$SECONDS
			run_batch "$dir" "${group[@]}"
			shown=0
			for n in "${group[@]}"; do
				printf '=== %s on %s\n' "$n" "$KREL"
				res=$dir/share/results/$n
				ok=1
				scenario_result "$dir" "$n" || ok=0
				[[ -f $res/output ]] && sed 's/^/    /' "$res/output"
				read -r p f < <(assertion_counts "$res/output")
				# A run that failed without a failed assertion (hard cap,
				# panic, no report) still counts as one failure.
				((ok || f > 0)) || f=1
				passed=$((passed + p))
				failed=$((failed + f))
				if ((ok)); then
					printf 'PASS %s on %s: %d assertions (%s s)\n' "$n" "$KREL" "$p" "$ELAPSED"
					cell[$k,$n]="PASS $p/$((p + f)) ${ELAPSED}s"
				else
					if ((!shown)); then
						printf -- '--- guest console log of boot %d on %s:\n' "$((g + 1))" "$KREL"
						sed 's/^/  | /' "$dir/console.log"
						shown=1
					fi
					printf 'FAIL %s on %s: %d of %d assertions failed (%s s)\n' \
						"$n" "$KREL" "$f" "$((p + f))" "$ELAPSED"
					cell[$k,$n]="FAIL $p/$((p + f)) ${ELAPSED}s"
					failed_runs+=("$n@$KREL")
				fi
			done
			printf '=== boot %d on %s: %d s in all\n' "$((g + 1))" "$KREL" "$((SECONDS - b_start))"
		done
	done

	# The table: scenario x kernel -> result, assertions passed/run, time.
	printf '\n%-18s' scenario
	for k in "${!K_PKG[@]}"; do printf ' %-26s' "${K_REL[k]}"; done
	printf '\n'
	for n in "${names[@]}"; do
		printf '%-18s' "$n"
		for k in "${!K_PKG[@]}"; do printf ' %-26s' "${cell[$k,$n]}"; done
		printf '\n'
	done
	for k in "${!K_PKG[@]}"; do
		printf 'kernel %s=%s (%s)\n' "${K_PKG[k]}" "${K_VER[k]}" "${K_REL[k]}"
	done
	printf '%d s in total\n' "$((SECONDS - total_start))"
	((${#failed_runs[@]} == 0)) || printf 'failed: %s\n' "${failed_runs[*]}"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	((${#failed_runs[@]} == 0))
}

main "$@"
