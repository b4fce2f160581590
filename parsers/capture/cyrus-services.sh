#!/usr/bin/env bash
# Capture what Cyrus IMAP (Debian 12: cyrus-imapd 3.6.1) logs for services the admin named in
# cyrus.conf and for instances told apart by `syslog_prefix` (the tag is `<syslog_prefix>/<service>`):
# a service run with `-C` and `syslog_prefix: cyrus/inst1` (tag `cyrus/inst1/imap`), one with
# `syslog_prefix: inst2` (tag `inst2/pop3`), services renamed `mailpop` / `imapalt`, and a Sieve
# service that must grant nothing. Same chroot as cyrus.sh, loopback ports 1321x/1324x/1329x.
#
# Usage: parsers/capture/cyrus-services.sh [OUT_DIR]   (default /tmp/popgate-capture/cyrus-services)
source "$(dirname "$0")/lib/chroot.sh"
NAME=cyrus
[[ $CAPTURE_SUITE == bookworm ]] || NAME=cyrus-$CAPTURE_SUITE
OUT=${1:-/tmp/popgate-capture/$NAME-services}
P_IMAP1=13243 P_POP2=13210 P_MAILPOP=13211 P_IMAPALT=13244 P_SIEVE=13290

chroot_prepare $NAME cyrus-imapd cyrus-pop3d cyrus-common cyrus-nntpd sasl2-bin openssl
chroot_stop; mount -t proc proc "$CHROOT/proc"

sed -i '/^# popgate-capture/,$d' "$CHROOT/etc/imapd.conf"
cat >>"$CHROOT/etc/imapd.conf" <<CONF
# popgate-capture
servername: capture.localdomain
admins: cyrus
sasl_mech_list: PLAIN LOGIN
CONF
# Two more configurations differing only in syslog_prefix (what an admin running several
# instances on one host sets so their lines can be told apart). Debian's imapd.conf already sets
# `syslog_prefix: cyrus`, and Cyrus refuses an option given twice: the line is replaced.
sed '/^syslog_prefix:/d' "$CHROOT/etc/imapd.conf" >"$CHROOT/etc/imapd-inst1.conf"
echo 'syslog_prefix: cyrus/inst1' >>"$CHROOT/etc/imapd-inst1.conf"
sed '/^syslog_prefix:/d' "$CHROOT/etc/imapd.conf" >"$CHROOT/etc/imapd-inst2.conf"
echo 'syslog_prefix: inst2' >>"$CHROOT/etc/imapd-inst2.conf"
grep -n 'syslog_prefix' "$CHROOT"/etc/imapd*.conf || true
cat >"$CHROOT/etc/cyrus.conf" <<CONF
START {
  recover cmd="/usr/sbin/cyrus ctl_cyrusdb -r"
}
SERVICES {
  imap     cmd="imapd -C /etc/imapd-inst1.conf -U 30" listen="127.0.0.1:$P_IMAP1" prefork=0 maxchild=20
  pop3     cmd="pop3d -C /etc/imapd-inst2.conf -U 30" listen="127.0.0.1:$P_POP2" prefork=0 maxchild=20
  mailpop  cmd="pop3d -U 30" listen="127.0.0.1:$P_MAILPOP" prefork=0 maxchild=20
  imapalt  cmd="imapd -U 30" listen="127.0.0.1:$P_IMAPALT" prefork=0 maxchild=20
  sieve    cmd="timsieved" listen="127.0.0.1:$P_SIEVE" prefork=0 maxchild=20
  lmtpunix cmd="lmtpd" listen="/run/cyrus/socket/lmtp" prefork=0 maxchild=5
}
EVENTS {
  checkpoint cmd="/usr/sbin/cyrus ctl_cyrusdb -c" period=30
}
CONF
in_chroot sh -c 'mkdir -p /run/cyrus/proc /run/cyrus/lock /run/cyrus/socket && chown -R cyrus:mail /run/cyrus'
for u in cyrus alice bob; do
  echo "pw-$u" | in_chroot saslpasswd2 -p -c -u capture.localdomain "$u"
done
in_chroot sh -c 'chgrp sasl /etc/sasldb2; chmod 640 /etc/sasldb2; adduser cyrus sasl >/dev/null 2>&1 || true'

chroot_syslog
in_chroot /usr/sbin/cyrmaster -d
for p in $P_IMAP1 $P_POP2 $P_MAILPOP $P_IMAPALT $P_SIEVE; do wait_port "$p"; done
cat >"$CHROOT/tmp/mkboxes.py" <<PY
import imaplib
c = imaplib.IMAP4('127.0.0.1', $P_IMAPALT)
c.login('cyrus', 'pw-cyrus')
for u in ('alice', 'bob'):
    print(u, c.create('user.' + u))
c.logout()
PY
in_chroot python3 /tmp/mkboxes.py
cat >"$CHROOT/tmp/sieve.py" <<PY
import base64, socket
s = socket.create_connection(('127.0.0.1', $P_SIEVE), 5)
f = s.makefile('rb')
def until_ok():
    while True:
        l = f.readline()
        if not l or l.startswith((b'OK', b'NO', b'BYE')): return l
until_ok()
tok = base64.b64encode(b'\0alice\0pw-alice').decode()
s.sendall(('AUTHENTICATE "PLAIN" "%s"\r\n' % tok).encode())
print('sieve', until_ok())
s.sendall(b'LOGOUT\r\n'); until_ok()
PY

{
  client imap $P_IMAP1 127.0.0.21 alice pw-alice
  client imap $P_IMAP1 127.0.0.22 bob wrong
  client pop3 $P_POP2 127.0.0.23 alice pw-alice
  client pop3 $P_POP2 127.0.0.24 alice wrong
  client pop3 $P_MAILPOP 127.0.0.25 bob pw-bob
  client imap $P_IMAPALT 127.0.0.26 bob pw-bob
  client pop3 $P_MAILPOP 127.0.0.27 'x 1.2.3.4 rip=203.0.113.9' wrong
  in_chroot python3 /tmp/sieve.py || true
} | tee "$OUT.client.txt" || true

collect "$OUT"
echo "captured: $OUT/all.log $OUT/all-trad.log"
grep -h 'cyrus\|inst2' "$OUT/all.log" || true
