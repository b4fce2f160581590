#!/usr/bin/env bash
# Capture what GNU Mailutils (Debian 12: mailutils 3.15) pop3d and imap4d really log through
# syslog, in daemon mode, twice: with the default logging, and with `logging { session-id yes; }`.
# Good and bad passwords from 127.0.0.x and ::1, STLS / STARTTLS, dropped connections.
# Mailutils conflicts with the host's Dovecot packages (pop3-server / imap-server), so it runs in a
# throw-away chroot (lib/chroot.sh), on loopback ports 1411x / 1414x.
#
# Usage: parsers/capture/mailutils.sh [OUT_DIR]   (default /tmp/popgate-capture/mailutils)
#        CAPTURE_SUITE=trixie parsers/capture/mailutils.sh   (Debian 13: mailutils 3.19)
source "$(dirname "$0")/lib/chroot.sh"
NAME=mailutils
[[ $CAPTURE_SUITE == bookworm ]] || NAME=mailutils-$CAPTURE_SUITE
OUT=${1:-/tmp/popgate-capture/$NAME}
P_POP3=14110 P_IMAP=14143

chroot_prepare $NAME mailutils-pop3d mailutils-imap4d openssl
chroot_stop; mount -t proc proc "$CHROOT/proc"

chroot_mbox_users
in_chroot sh -c '[ -s /etc/mu-capture.pem ] || openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
  -subj /CN=capture.localdomain -keyout /etc/mu-capture.key -out /etc/mu-capture.pem 2>/dev/null; chmod 600 /etc/mu-capture.key'

write_conf() { # $1: extra logging statements, $2: extra top-level statements
  cat >"$CHROOT/etc/mailutils.conf" <<CONF
logging { $1 };
$2
tls { ssl-certificate-file /etc/mu-capture.pem; ssl-key-file /etc/mu-capture.key; };
tls-file-checks { key-file none; cert-file none; ca-file none; };
program pop3d {
  tls-mode ondemand;
  server 127.0.0.1:$P_POP3 { };
  server "[::1]:$P_POP3" { };
};
program imap4d {
  tls-mode ondemand;
  server 127.0.0.1:$P_IMAP { };
  server "[::1]:$P_IMAP" { };
};
CONF
}

sessions() {
  client pop3 $P_POP3 127.0.0.2 alice pw-alice
  client pop3 $P_POP3 127.0.0.3 alice wrong
  client pop3 $P_POP3 ::1 bob pw-bob
  client pop3 $P_POP3 127.0.0.4 bob pw-bob starttls
  client pop3 $P_POP3 127.0.0.5 alice pw-alice quitless
  client imap $P_IMAP 127.0.0.6 alice pw-alice
  client imap $P_IMAP 127.0.0.7 bob wrong
  client imap $P_IMAP ::1 bob pw-bob
  client imap $P_IMAP 127.0.0.8 alice pw-alice starttls
  client imap $P_IMAP 127.0.0.9 bob pw-bob quitless
  client pop3 $P_POP3 127.0.0.10 'x from 203.0.113.9' wrong
}

run() { # $1: name, $2: logging statements, $3: top-level statements
  write_conf "$2" "${3:-}"
  chroot_syslog
  in_chroot pop3d --daemon
  in_chroot imap4d --daemon
  wait_port $P_POP3; wait_port $P_IMAP
  sessions | tee "$OUT.$1.client.txt" || true
  sleep 1
  collect "$OUT/$1"
  chroot_stop; mount -t proc proc "$CHROOT/proc"
}

run default ''
run session-id 'session-id yes;'
# connection logging: the only way Mailutils names the client's address
run acl-log 'session-id yes;' 'acl { log any; };'
run acl-log-nosid '' 'acl { log any; };'
echo "captured: $OUT/{default,session-id,acl-log,acl-log-nosid}/all.log (and all-trad.log beside them)"
grep -h -E 'pop3d|imap4d' "$OUT"/acl-log/all.log || true
