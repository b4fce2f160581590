#!/usr/bin/env bash
# Capture what Courier (Debian 12: courier-pop 1.0.16 / courier-imap 5.0.13) really logs through
# syslog: pop3d, pop3d-ssl, imapd, imapd-ssl (courierlogger names), with good and bad passwords,
# from several 127.x.y.z sources and ::1, plus STARTTLS. Courier conflicts with the host's Dovecot
# packages, so it runs in a throw-away chroot (lib/chroot.sh), on loopback ports 1211x/1214x/1299x.
#
# Usage: parsers/capture/courier.sh [OUT_DIR]   (default /tmp/popgate-capture/courier)
#        CAPTURE_SUITE=trixie parsers/capture/courier.sh   (Debian 13: courier-imap 5.2)
# Output: OUT_DIR/all.log (Debian 12's rsyslog default, RFC 3339), OUT_DIR/all-trad.log (RFC 3164).
source "$(dirname "$0")/lib/chroot.sh"
NAME=courier
[[ $CAPTURE_SUITE == bookworm ]] || NAME=courier-$CAPTURE_SUITE
OUT=${1:-/tmp/popgate-capture/$NAME}
P_POP3=12110 P_POP3S=12995 P_IMAP=12143 P_IMAPS=12993

chroot_prepare $NAME courier-pop courier-imap courier-authdaemon openssl
chroot_stop; mount -t proc proc "$CHROOT/proc"

# users (PAM → shadow inside the chroot), with Maildirs
for u in alice bob; do
  in_chroot id "$u" >/dev/null 2>&1 || in_chroot useradd -m -s /usr/sbin/nologin "$u"
  echo "$u:pw-$u" | in_chroot chpasswd
  [[ -d $CHROOT/home/$u/Maildir ]] || in_chroot su -s /bin/sh "$u" -c "maildirmake /home/$u/Maildir"
done

# loopback-only listeners: couriertcpd takes ADDRESS.PORT lists (-address=0 is overridden per port)
sed -i -e "s/^PORT=.*/PORT=127.0.0.1.$P_POP3,::1.$P_POP3/" -e 's/^ADDRESS=.*/ADDRESS=127.0.0.1/' "$CHROOT/etc/courier/pop3d"
sed -i -e "s/^PORT=.*/PORT=127.0.0.1.$P_IMAP,::1.$P_IMAP/" -e 's/^ADDRESS=.*/ADDRESS=127.0.0.1/' "$CHROOT/etc/courier/imapd"
sed -i -e "s/^SSLPORT=.*/SSLPORT=127.0.0.1.$P_POP3S/" -e 's/^SSLADDRESS=.*/SSLADDRESS=127.0.0.1/' "$CHROOT/etc/courier/pop3d-ssl"
sed -i -e "s/^SSLPORT=.*/SSLPORT=127.0.0.1.$P_IMAPS/" -e 's/^SSLADDRESS=.*/SSLADDRESS=127.0.0.1/' "$CHROOT/etc/courier/imapd-ssl"
grep -q '^MAXPERIP=' "$CHROOT/etc/courier/pop3d" && sed -i 's/^MAXPERIP=.*/MAXPERIP=40/' "$CHROOT/etc/courier/pop3d"
[[ -s $CHROOT/etc/courier/pop3d.pem ]] || in_chroot mkpop3dcert >/dev/null 2>&1
[[ -s $CHROOT/etc/courier/imapd.pem ]] || in_chroot mkimapdcert >/dev/null 2>&1

chroot_syslog
mkdir -p "$CHROOT/run/courier/authdaemon"
in_chroot sh -c '/usr/sbin/authdaemond start'
in_chroot /usr/lib/courier/pop3d start
in_chroot /usr/lib/courier/pop3d-ssl start
in_chroot /usr/lib/courier/imapd start
in_chroot /usr/lib/courier/imapd-ssl start
for p in $P_POP3 $P_POP3S $P_IMAP $P_IMAPS; do wait_port "$p"; done

{
  client pop3 $P_POP3 127.0.0.2 alice pw-alice
  client pop3 $P_POP3 127.0.0.3 alice wrong
  client pop3 $P_POP3 127.0.0.4 nosuchuser whatever
  client pop3 $P_POP3 ::1 bob pw-bob
  client pop3 $P_POP3 127.0.0.5 bob pw-bob starttls
  client pop3 $P_POP3S 127.0.0.6 alice pw-alice ssl
  client pop3 $P_POP3S 127.0.0.7 alice wrong ssl
  client imap $P_IMAP 127.0.0.8 alice pw-alice
  client imap $P_IMAP 127.0.0.9 bob wrong
  client imap $P_IMAP ::1 alice pw-alice auth
  client imap $P_IMAP 127.0.0.10 bob pw-bob starttls
  client imap $P_IMAPS 127.0.0.11 bob pw-bob ssl
  client imap $P_IMAPS 127.0.0.12 alice wrong ssl
  # hostile user names: the server logs them after a failed login
  client pop3 $P_POP3 127.0.0.13 'x, ip=[203.0.113.9], port=[1]' wrong
  client imap $P_IMAP 127.0.0.14 'y ip=[::ffff:203.0.113.9]' wrong
  # a session that never says QUIT / LOGOUT: the server logs the disconnect
  client pop3 $P_POP3 127.0.0.15 alice pw-alice quitless
  client imap $P_IMAP 127.0.0.16 bob pw-bob quitless
} | tee "$OUT.client.txt" 2>/dev/null || true

collect "$OUT"
echo "captured: $OUT/all.log $OUT/all-trad.log"
grep -h -E 'pop3d|imapd|courier' "$OUT/all.log" || true
