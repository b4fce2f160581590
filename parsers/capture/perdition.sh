#!/usr/bin/env bash
# Capture what perdition (Debian 12: perdition 2.2) really logs through syslog, proxying POP3 to a
# popa3d behind it: both run in a throw-away chroot (lib/chroot.sh) inside a network namespace of
# its own with only loopback (popa3d binds 0.0.0.0:110 there). Good and bad passwords, unknown
# user, a dropped connection, from 127.0.0.x.
#
# Usage: parsers/capture/perdition.sh [OUT_DIR]   (default /tmp/popgate-capture/perdition)
source "$(dirname "$0")/lib/chroot.sh"
OUT=${1:-/tmp/popgate-capture/perdition}
P_PROXY=17110

chroot_prepare perdition perdition popa3d
chroot_stop; mount -t proc proc "$CHROOT/proc"
chroot_netns

chroot_mbox_users

chroot_syslog
in_chroot popa3d -D
wait_port 110
# no map library: every user goes to the one outgoing server
in_chroot perdition.pop3 --protocol POP3 --bind_address 127.0.0.1 --listen_port $P_PROXY \
  --outgoing_server 127.0.0.1:110 --no_lookup --ssl_mode none -M '' 2>&1 || \
  in_chroot perdition.pop3 --protocol POP3 --bind_address 127.0.0.1 --listen_port $P_PROXY \
    --outgoing_server 127.0.0.1:110 --no_lookup
wait_port $P_PROXY

{
  client pop3 $P_PROXY 127.0.0.2 alice pw-alice
  client pop3 $P_PROXY 127.0.0.3 alice wrong
  client pop3 $P_PROXY 127.0.0.4 nosuchuser wrong
  client pop3 $P_PROXY 127.0.0.5 bob pw-bob
  client pop3 $P_PROXY 127.0.0.6 bob pw-bob quitless
  client pop3 $P_PROXY 127.0.0.7 'x status="ok" 203.0.113.9' wrong
} | tee "$OUT.client.txt" || true

collect "$OUT"
echo "captured: $OUT/all.log $OUT/all-trad.log"
grep -h perdition "$OUT/all.log" || true
