#!/usr/bin/env bash
# Capture what popa3d (Debian 12: popa3d 1.0.3, standalone as Debian runs it) really logs through
# syslog: "Session from …" and "Authentication passed|failed for …" from the same child pid,
# facility daemon (not mail). Standalone popa3d binds 0.0.0.0:110 and cannot be told otherwise,
# so it runs in a throw-away chroot (lib/chroot.sh) inside a network namespace of its own that has
# only a loopback interface: nothing outside the namespace sees it.
#
# Usage: parsers/capture/popa3d.sh [OUT_DIR]   (default /tmp/popgate-capture/popa3d)
source "$(dirname "$0")/lib/chroot.sh"
OUT=${1:-/tmp/popgate-capture/popa3d}

chroot_prepare popa3d popa3d
chroot_stop; mount -t proc proc "$CHROOT/proc"
chroot_netns

chroot_mbox_users
printf 'From x@example.org Wed Nov 25 00:00:00 2026\nSubject: hi\n\nhello\n\n' >>"$CHROOT/var/mail/alice"

chroot_syslog
in_chroot popa3d -D
wait_port 110

{
  client pop3 110 127.0.0.2 alice pw-alice
  client pop3 110 127.0.0.3 alice wrong
  client pop3 110 127.0.0.4 nosuchuser wrong
  client pop3 110 127.0.0.5 bob pw-bob
  client pop3 110 127.0.0.6 bob pw-bob quitless
  client pop3 110 ::1 alice pw-alice
  client pop3 110 127.0.0.7 'x from 203.0.113.9' wrong
} | tee "$OUT.client.txt" || true

collect "$OUT"
echo "captured: $OUT/all.log $OUT/all-trad.log"
grep -h popa3d "$OUT/all.log" || true
