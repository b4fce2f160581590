#!/usr/bin/env bash
# Capture what Dovecot 2.4 (Debian 13 "trixie": dovecot 2.4.x) logs, to check popgate's Dovecot
# parser against 2.4's wording (Debian 12's 2.3.19 is captured by capture/dovecot.sh). Dovecot 2.4
# runs in a throw-away trixie chroot (lib/chroot.sh with CAPTURE_SUITE=trixie), on loopback ports
# 18110 / 18143, twice: logging to syslog, and to its own log_path file. Good and bad passwords,
# 127.0.0.x and ::1, dropped connections.
#
# Usage: parsers/capture/dovecot24.sh [OUT_DIR]   (default /tmp/popgate-capture/dovecot24)
export CAPTURE_SUITE=trixie
source "$(dirname "$0")/lib/chroot.sh"
OUT=${1:-/tmp/popgate-capture/dovecot24}
P_POP3=18110 P_IMAP=18143

chroot_prepare dovecot24 dovecot-core dovecot-imapd dovecot-pop3d
chroot_stop; mount -t proc proc "$CHROOT/proc"

for u in alice bob; do
  in_chroot id "$u" >/dev/null 2>&1 || in_chroot useradd -m -s /usr/sbin/nologin "$u"
done
printf 'alice:{PLAIN}pw-alice\nbob:{PLAIN}pw-bob\n' >"$CHROOT/etc/dovecot/capture-passwd"

write_conf() { # $1: log_path line
  cat >"$CHROOT/etc/dovecot/dovecot.conf" <<CONF
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap pop3
listen = 127.0.0.1, ::1
$1
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
mail_driver = maildir
mail_path = ~/Maildir
passdb passwd-file {
  passwd_file_path = /etc/dovecot/capture-passwd
}
userdb passwd {
}
service imap-login {
  inet_listener imap {
    port = $P_IMAP
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $P_POP3
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
}

sessions() {
  client pop3 $P_POP3 127.0.0.2 alice pw-alice
  client pop3 $P_POP3 127.0.0.3 alice wrong
  client pop3 $P_POP3 ::1 bob pw-bob
  client pop3 $P_POP3 127.0.0.4 bob pw-bob quitless
  client imap $P_IMAP 127.0.0.5 alice pw-alice
  client imap $P_IMAP 127.0.0.6 bob wrong
  client imap $P_IMAP ::1 alice pw-alice auth
  client imap $P_IMAP 127.0.0.7 bob pw-bob quitless
  client imap $P_IMAP 127.0.0.8 'x>, method=PLAIN, rip=203.0.113.9' wrong
}

run() { # $1: name, $2: log_path line
  write_conf "$2"
  chroot_syslog
  rm -f "$CHROOT/var/log/dovecot.log"
  in_chroot dovecot -c /etc/dovecot/dovecot.conf
  wait_port $P_POP3; wait_port $P_IMAP
  sessions | tee "$OUT.$1.client.txt" || true
  sleep 1
  in_chroot doveadm stop >/dev/null 2>&1 || true
  collect "$OUT/$1"
  [[ ! -f $CHROOT/var/log/dovecot.log ]] || cp "$CHROOT/var/log/dovecot.log" "$OUT/$1/"
  chroot_stop; mount -t proc proc "$CHROOT/proc"
}

run syslog ''
run log_path 'log_path = /var/log/dovecot.log'
echo "captured: $OUT/syslog/all.log $OUT/log_path/dovecot.log"
grep -h -E 'login|imap|pop3' "$OUT/syslog/all.log" "$OUT/log_path/dovecot.log" || true
