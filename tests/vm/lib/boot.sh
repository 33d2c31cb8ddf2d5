#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the VM boot, run as PID 1 inside the guest after switch_root
# into the host's userspace (read-only 9p). Prepares a usable system, runs
# the scenarios of the job one after the other as root, each from a clean
# slate (reset_guest), leaves each one's output, exit status and time in
# the writable work share (results/NAME/) for tests/vm/run.sh on the host,
# then powers off.
#
# No `set -e` here on purpose: PID 1 must always reach the poweroff at the
# end, otherwise the kernel panics and the host only learns of it by timeout.
set -uo pipefail

WORK=/run/vm/work
MODULES=/run/vm/modules

poweroff_now() {
	sync
	# sysrq 'o' powers off immediately; qemu then exits on its own.
	echo o >/proc/sysrq-trigger
	sleep 30
}

# Under systemd (a scenario that asked for it, see exec_systemd) this runs
# again as the scenario's service, with the system already set up.
UNDER_SYSTEMD=0
(($$ == 1)) || UNDER_SYSTEMD=1
if ((!UNDER_SYSTEMD)); then
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm 2>/dev/null || true
	mount -t tmpfs -o mode=1777 tmpfs /var/tmp
	mount -t bpf bpf /sys/fs/bpf
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	# Pseudo-terminals, for a scenario that drives watch's window in tmux.
	mkdir -p /dev/pts
	mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null || true
fi

# The kernel asks userspace to load crypto templates (authenc, gcm, ...),
# ESP/AH and xfrm_user on demand. The host has no /lib/modules for this
# kernel and must not get one, so point the kernel's modprobe and PATH at a
# wrapper that uses the unpacked kernel package shared read-only from the
# host cache.
mkdir -p /run/vm/bin
cat >/run/vm/bin/modprobe <<EOF
#!/bin/bash
exec /sbin/modprobe -d $MODULES "\$@"
EOF
chmod 0755 /run/vm/bin/modprobe
echo /run/vm/bin/modprobe >/proc/sys/kernel/modprobe

export PATH=/run/vm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 LC_ALL=C.UTF-8
hostname ipsecmon-vm
ip link set lo up

# job.env is written by run.sh with printf %q, so sourcing it is safe.
# shellcheck source=/dev/null
. "$WORK/job.env"
: "${IPSECMON_VM_SCENARIOS:?}" "${IPSECMON_VM_REPO:?}" "${IPSECMON_VM_GUEST_TIMEOUT:?}"
export IPSECMON_VM_REPO IPSECMON_VM_WORK=$WORK

# exec_systemd: make systemd PID 1 for a scenario that tests our unit. The
# root becomes an overlay (the read-only host root under a tmpfs), so that
# `make install` and systemd can write; the shares move along under /run;
# systemd starts only ipsecmon-vm.target, whose one service runs this script
# again (UNDER_SYSTEMD=1) for the scenario and the poweroff. The host's own
# units stay out: nothing else is wanted.
exec_systemd() {
	local root=/run/vm/root ov=/run/vm/overlay d
	modprobe overlay || return 1
	mkdir -p "$root" "$ov/upper" "$ov/work"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$ov/upper,workdir=$ov/work" "$root" || return 1
	mount -t tmpfs -o mode=0755 tmpfs "$root/run"
	for d in work modules repo; do
		mkdir -p "$root/run/vm/$d"
		mount --bind "/run/vm/$d" "$root/run/vm/$d"
	done
	mount --bind /dev "$root/dev"
	cat >"$root/etc/systemd/system/ipsecmon-vm.target" <<-UNIT
		[Unit]
		Description=ipsecmon-vm: one scenario under systemd
		Requires=ipsecmon-vm.service
		After=ipsecmon-vm.service
		AllowIsolate=yes
	UNIT
	cat >"$root/etc/systemd/system/ipsecmon-vm.service" <<-UNIT
		[Unit]
		Description=ipsecmon-vm scenario $IPSECMON_VM_SCENARIOS
		DefaultDependencies=no
		Wants=systemd-journald.socket dbus.socket
		After=systemd-journald.socket dbus.socket
		[Service]
		Type=oneshot
		ExecStart=/bin/bash $IPSECMON_VM_REPO/tests/vm/lib/boot.sh
		# The console, not the journal: the end of the run stops journald.
		StandardOutput=tty
		StandardError=tty
	UNIT
	# An empty machine-id: systemd makes one for this boot.
	: >"$root/etc/machine-id"
	# The host root may be a container image: systemd would then take the
	# guest for a container and skip what it does on a machine (bpffs).
	rm -f "$root/.dockerenv"
	mkdir -p "$root/oldroot"
	cd "$root" || return 1
	pivot_root . oldroot || return 1
	exec /lib/systemd/systemd --unit=ipsecmon-vm.target --show-status=no
}

if [[ ${IPSECMON_VM_INIT:-} == systemd ]] && ((!UNDER_SYSTEMD)); then
	echo "ipsecmon-vm: kernel $(uname -r), starting systemd for $IPSECMON_VM_SCENARIOS"
	exec_systemd
	echo "ipsecmon-vm: could not start systemd"
	poweroff_now
fi

# reset_guest: what one scenario may leave behind, gone before the next
# starts: its processes, namespaces, links, SAs and policies of the root
# namespace, nft rules, pins and temporary files. Scenarios make their own
# namespaces afresh anyway; this is for one that stopped half way.
reset_guest() {
	local l
	ip -all netns delete 2>/dev/null
	ip xfrm state flush 2>/dev/null
	ip xfrm policy flush 2>/dev/null
	nft flush ruleset 2>/dev/null
	for l in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		[[ $l == lo ]] || ip link del "$l" 2>/dev/null
	done
	umount -l /sys/fs/bpf 2>/dev/null
	mount -t bpf bpf /sys/fs/bpf
	rm -rf /tmp/* /tmp/.[!.]* /var/tmp/* /var/tmp/.[!.]* /dev/shm/* 2>/dev/null
}

# run_one NAME: one scenario, its results in $WORK/results/NAME.
run_one() {
	local name=$1 out=$WORK/results/$1 rc=0 start end
	mkdir -p "$out"
	echo "ipsecmon-vm: kernel $(uname -r), running scenario $name"
	cd /tmp || return 1
	start=$(date +%s.%N)
	# The output goes to a file in the work share, not through a pipe: a
	# helper the scenario left running would hold a pipe open and hang
	# us. The guest-side timeout is shorter than the host's hard cap so a
	# hung scenario still reports its output and a proper exit status.
	timeout --kill-after=5 "$IPSECMON_VM_GUEST_TIMEOUT" \
		/bin/bash "$IPSECMON_VM_REPO/tests/vm/${IPSECMON_VM_SUITE:-scenarios}/$name.sh" \
		</dev/null >"$out/output" 2>&1 || rc=$?
	end=$(date +%s.%N)
	# Stop whatever the scenario left behind (daemons, sniffers) before
	# the results are synced; as PID 1 this signals every other process.
	kill -KILL -1 2>/dev/null
	sleep 0.2
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$out/elapsed"
	# Also on the console, next to the kernel's messages.
	cat "$out/output"
	echo "$rc" >"$out/rc.tmp" && mv "$out/rc.tmp" "$out/rc"
	echo "ipsecmon-vm: scenario $name exited with $rc"
}

first=1
for name in $IPSECMON_VM_SCENARIOS; do
	((first)) || reset_guest
	first=0
	run_one "$name"
done
poweroff_now
