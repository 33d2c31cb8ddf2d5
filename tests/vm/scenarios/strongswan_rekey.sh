#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# strongSwan IKEv2 (PSK) between gw1 and gw2, one charon per namespace: the
# CHILD_SA carries traffic, then `swanctl --rekey` replaces it. After the
# rekey both gateways must hold two new ESP SAs whose SPIs share nothing with
# the old ones, the old SPIs must be gone, and traffic must flow on the new
# SAs with exact per-SA counts.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

SWAN_AF=4
# shellcheck source-path=SCRIPTDIR source=../lib/strongswan_pair.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/strongswan_pair.sh"
