#!/bin/sh
# hold.sh <what>: a gate the e2e tests open and close inside a lab host (its /opt/hvlab is its own). While
# /opt/hvlab/hold-<what> exists, wait there, with /opt/hvlab/held-<what> saying that something is waiting; go on
# once the test removes the hold (or after 300 s, so a test that died never leaves a host stuck).
# Used by the lab's virsh wrapper (`virsh migrate`: hold-migrate) and by the lab package's postinst
# (hold-postinst): a test holds a group inside its drain or its upgrade, sends `hvroll pause`, then lets go.
what=$1
[ -e "/opt/hvlab/hold-$what" ] || exit 0
: >"/opt/hvlab/held-$what"
i=0
while [ -e "/opt/hvlab/hold-$what" ] && [ "$i" -lt 3000 ]; do
  sleep 0.1
  i=$((i + 1))
done
rm -f "/opt/hvlab/held-$what"
exit 0
