#!/usr/bin/env bash
# Capture what Cyrus IMAP (Debian 12: cyrus-imapd 3.6.1) really logs through syslog: imap, pop3,
# imaps, pop3s services (tags `cyrus/<service>[pid]`), IPv4 and ::1, good and bad passwords,
# STARTTLS, AUTHENTICATE, and the refusals Cyrus logs right after "User logged in": Debian's
# default `popminpoll: 1` (a second POP login within a minute) and a user without a mailbox.
# Cyrus conflicts with the host's Dovecot packages, so it runs in a throw-away chroot
# (lib/chroot.sh), on loopback ports 1311x/1314x/1399x.
#
# Usage: parsers/capture/cyrus.sh [OUT_DIR]   (default /tmp/popgate-capture/cyrus)
#        CAPTURE_SUITE=trixie parsers/capture/cyrus.sh   (Debian 13: cyrus-imapd 3.10)
source "$(dirname "$0")/lib/chroot.sh"
NAME=cyrus
[[ $CAPTURE_SUITE == bookworm ]] || NAME=cyrus-$CAPTURE_SUITE
OUT=${1:-/tmp/popgate-capture/$NAME}
P_POP3=13110 P_POP3S=13995 P_IMAP=13143 P_IMAPS=13993

chroot_prepare $NAME cyrus-imapd cyrus-pop3d cyrus-common sasl2-bin openssl
chroot_stop; mount -t proc proc "$CHROOT/proc"

# TLS certificate, configuration (Debian's defaults kept, popminpoll: 1 among them)
in_chroot sh -c '[ -s /etc/cyrus-capture.pem ] || openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
  -subj /CN=capture.localdomain -keyout /etc/cyrus-capture.key -out /etc/cyrus-capture.pem 2>/dev/null;
  chown cyrus /etc/cyrus-capture.key /etc/cyrus-capture.pem'
sed -i '/^# popgate-capture/,$d' "$CHROOT/etc/imapd.conf"
cat >>"$CHROOT/etc/imapd.conf" <<CONF
# popgate-capture
servername: capture.localdomain
admins: cyrus
sasl_mech_list: PLAIN LOGIN
tls_server_cert: /etc/cyrus-capture.pem
tls_server_key: /etc/cyrus-capture.key
CONF
cat >"$CHROOT/etc/cyrus.conf" <<CONF
START {
  recover cmd="/usr/sbin/cyrus ctl_cyrusdb -r"
}
SERVICES {
  imap    cmd="imapd -U 30" listen="127.0.0.1:$P_IMAP" prefork=0 maxchild=20
  imap6   cmd="imapd -U 30" listen="[::1]:$P_IMAP" prefork=0 maxchild=20
  imaps   cmd="imapd -s -U 30" listen="127.0.0.1:$P_IMAPS" prefork=0 maxchild=20
  pop3    cmd="pop3d -U 30" listen="127.0.0.1:$P_POP3" prefork=0 maxchild=20
  pop3v6  cmd="pop3d -U 30" listen="[::1]:$P_POP3" prefork=0 maxchild=20
  pop3s   cmd="pop3d -s -U 30" listen="127.0.0.1:$P_POP3S" prefork=0 maxchild=20
  lmtpunix cmd="lmtpd" listen="/run/cyrus/socket/lmtp" prefork=0 maxchild=5
}
EVENTS {
  checkpoint cmd="/usr/sbin/cyrus ctl_cyrusdb -c" period=30
}
CONF
in_chroot sh -c 'mkdir -p /run/cyrus/proc /run/cyrus/lock /run/cyrus/socket && chown -R cyrus:mail /run/cyrus'
# SASL users in /etc/sasldb2; mailboxes for all but carol (her POP login is refused after success)
for u in cyrus alice bob dave erin frank carol; do
  echo "pw-$u" | in_chroot saslpasswd2 -p -c -u capture.localdomain "$u"
done
in_chroot sh -c 'chgrp sasl /etc/sasldb2; chmod 640 /etc/sasldb2; adduser cyrus sasl >/dev/null 2>&1 || true'

chroot_syslog
in_chroot /usr/sbin/cyrmaster -d
for p in $P_POP3 $P_POP3S $P_IMAP $P_IMAPS; do wait_port "$p"; done
cat >"$CHROOT/tmp/mkboxes.py" <<PY
import imaplib
c = imaplib.IMAP4('127.0.0.1', $P_IMAP)
c.login('cyrus', 'pw-cyrus')
for u in ('alice', 'bob', 'dave', 'erin', 'frank'):
    print(u, c.create('user.' + u))
c.logout()
PY
in_chroot python3 /tmp/mkboxes.py

{
  client pop3 $P_POP3 127.0.0.2 alice pw-alice
  client pop3 $P_POP3 127.0.0.3 alice pw-alice        # popminpoll: within a minute → refused
  client pop3 $P_POP3 127.0.0.4 alice wrong
  client pop3 $P_POP3 127.0.0.5 nosuchuser wrong
  client pop3 $P_POP3 ::1 bob pw-bob
  client pop3 $P_POP3 127.0.0.6 carol pw-carol        # no mailbox → refused after "User logged in"
  client pop3 $P_POP3S 127.0.0.7 dave pw-dave ssl
  client pop3 $P_POP3 127.0.0.8 erin pw-erin starttls
  client pop3 $P_POP3 127.0.0.9 frank pw-frank quitless
  client imap $P_IMAP 127.0.0.10 alice pw-alice
  client imap $P_IMAP 127.0.0.11 bob wrong
  client imap $P_IMAP ::1 bob pw-bob auth
  client imap $P_IMAPS 127.0.0.12 dave pw-dave ssl
  client imap $P_IMAP 127.0.0.13 erin pw-erin starttls
  client imap $P_IMAP 127.0.0.14 frank pw-frank quitless
  client pop3 $P_POP3 127.0.0.15 'x 1.2.3.4 rip=203.0.113.9' wrong
} | tee "$OUT.client.txt" || true

collect "$OUT"
echo "captured: $OUT/all.log $OUT/all-trad.log"
grep -h 'cyrus/' "$OUT/all.log" || true
