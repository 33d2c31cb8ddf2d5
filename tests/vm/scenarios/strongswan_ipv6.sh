#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# strongSwan IKEv2 (PSK) over IPv6: gw1 (fd00::1) and gw2 (fd00::2), one
# charon per namespace, IKE and ESP on IPv6 only. The CHILD_SA carries ping6,
# then `swanctl --rekey` replaces it. The SA additions, deletions and rekeys
# ipsecmon counts must be exact, no packet may be a bad SPI across the
# rekey, and each SA's packets on the wire must equal the kernel's count for
# it, before and after.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

SWAN_AF=6
# shellcheck source-path=SCRIPTDIR source=../lib/strongswan_pair.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/strongswan_pair.sh"
