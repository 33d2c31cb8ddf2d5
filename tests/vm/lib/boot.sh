#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the VM boot, run as PID 1 inside the guest after switch_root
# into the host's userspace (read-only 9p). Prepares a usable system, runs
# one scenario script as root and leaves its output and exit status in the
# writable work share for tests/vm/run.sh on the host, then powers off.
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

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm 2>/dev/null || true
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true

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
: "${IPSECMON_VM_SCENARIO:?}" "${IPSECMON_VM_REPO:?}" "${IPSECMON_VM_GUEST_TIMEOUT:?}"
export IPSECMON_VM_REPO IPSECMON_VM_WORK=$WORK

echo "ipsecmon-vm: kernel $(uname -r), running scenario $IPSECMON_VM_SCENARIO"
cd /tmp || poweroff_now
# The scenario's output goes to a file in the work share, not through a
# pipe: a helper the scenario left running would hold a pipe open and hang
# us. The guest-side timeout is shorter than the host's hard cap so a hung
# scenario still reports its output and a proper exit status.
rc=0
timeout --kill-after=5 "$IPSECMON_VM_GUEST_TIMEOUT" \
	/bin/bash "$IPSECMON_VM_REPO/tests/vm/${IPSECMON_VM_SUITE:-scenarios}/$IPSECMON_VM_SCENARIO.sh" \
	</dev/null >"$WORK/output" 2>&1 || rc=$?
# Stop whatever the scenario left behind (daemons, sniffers) before the
# results are synced; as PID 1 this signals every other process.
kill -KILL -1 2>/dev/null
# Also on the console, so the console log shows it next to kernel messages.
cat "$WORK/output"
echo "$rc" >"$WORK/rc.tmp" && mv "$WORK/rc.tmp" "$WORK/rc"
echo "ipsecmon-vm: scenario $IPSECMON_VM_SCENARIO exited with $rc"
poweroff_now
