#!/usr/bin/env bash
# Capture what solid-pop3d (Debian 12: 0.15, built with logextend and "connect from") really
# logs through syslog, run from inetd as Debian runs it (here lib/inetd.py on 127.0.0.1 and ::1,
# port 16110). Good and bad passwords, unknown user, dropped connection. solid-pop3d conflicts
# with the host's Dovecot packages, so it runs in a throw-away chroot (lib/chroot.sh).
#
# Usage: parsers/capture/solid-pop3d.sh [OUT_DIR]   (default /tmp/popgate-capture/solid-pop3d)
source "$(dirname "$0")/lib/chroot.sh"
OUT=${1:-/tmp/popgate-capture/solid-pop3d}
P_POP3=16110

chroot_prepare solid-pop3d solid-pop3d
chroot_stop; mount -t proc proc "$CHROOT/proc"

chroot_mbox_users

# liblockfile needs to create alice.lock beside the mailbox (dotlockfile is not installed here)
in_chroot sh -c "chmod 1777 /var/mail; rm -f /var/mail/*.lock"
chroot_syslog
cp "$CAPTURE_LIB/inetd.py" "$CHROOT/tmp/popgate-inetd.py"
in_chroot python3 /tmp/popgate-inetd.py $P_POP3 /usr/sbin/solid-pop3d &
wait_port $P_POP3

{
  client pop3 $P_POP3 127.0.0.2 alice pw-alice
  client pop3 $P_POP3 127.0.0.3 alice wrong
  client pop3 $P_POP3 127.0.0.4 nosuchuser wrong
  client pop3 $P_POP3 ::1 bob pw-bob
  client pop3 $P_POP3 127.0.0.5 bob pw-bob quitless
  client pop3 $P_POP3 127.0.0.6 'x - 203.0.113.9' wrong
} | tee "$OUT.client.txt" || true

collect "$OUT"
echo "captured: $OUT/all.log $OUT/all-trad.log"
grep -h solid "$OUT/all.log" || true
