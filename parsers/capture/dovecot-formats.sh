#!/usr/bin/env bash
# Capture what Dovecot (Debian 12: 2.3.19) writes to its own log_path file under the logging
# settings an admin can change: log_timestamp, login_log_format_elements, login_log_format and
# mail_log_prefix. One throw-away instance per variant (own base_dir, own loopback ports
# 121xx), each logging to OUT/NAME.log; the same short set of sessions against each: POP3 and
# IMAP logins (plain, STARTTLS, from ::1), a wrong password, an unknown user, a connection
# dropped before auth, and a user name that imitates the element list (auth_username_chars is
# emptied so Dovecot accepts it). Rerunnable; run as root on Debian 12 with dovecot-core, -pop3d
# and -imapd installed (the host's packages, not a chroot). Submission is in capture/dovecot.sh.
#
# Usage: parsers/capture/dovecot-formats.sh [OUT_DIR]   (default /tmp/popgate-capture/dovecot-formats)
set -euo pipefail
OUT=${1:-/tmp/popgate-capture/dovecot-formats}
RUN=/run/popgate-capture-dovecot-formats
P_POP3=12110 P_IMAP=12143
LIB=$(cd "$(dirname "$0")/lib" && pwd)
PY=/usr/bin/python3
[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 1; }
command -v dovecot >/dev/null || { echo "needs Debian's dovecot-core (2.3.19)" >&2; exit 1; }

# The variants: NAME|log_timestamp|login_log_format_elements|login_log_format|mail_log_prefix
# (an empty field keeps Dovecot's default).
VARIANTS=(
  'iso-t-reordered|%Y-%m-%dT%H:%M:%S|rip=%r user=<%u> method=%m lip=%l mpid=%e %c session=<%{session}>||%s(%u,%r)<%{pid}><%{session}>: '
  'ymd-minimal|%Y-%m-%d %H:%M:%S |user=<%u> rip=%r||%s(%u)<%{pid}>: '
  'dmy-user-last|%d.%m.%Y %H:%M:%S |%c session=<%{session}> mpid=%e lport=%a rport=%b lip=%l rip=%r real_rip=%{real_rip} real_rport=%{real_rport} method=%m user=<%u>||'
  'epoch-ssl|%s |user=<%u> method=%m rip=%r lip=%l mpid=%e %c %k session=<%{session}>||'
  'epoch-nospace-format|%s||%$ [%s]|%s(%u)<%{session}>: '
  'iso-zone-usecs|%Y-%m-%dT%H:%M:%S.%{usecs}%z |user=<%u> method=%m rip=%r rport=%b lip=%l lport=%a mpid=%e %c session=<%{session}>||'
  'bsd-zone|%b %d %H:%M:%S %Z |||'
  'bsd-nospace|%b %d %H:%M:%S|||'
  'ymd-nosession|%Y-%m-%d %H:%M:%S ||%$: %s|%s(%u)<%{pid}>: '
)

rm -rf "$RUN" "$OUT/work"
install -d -m 0755 "$OUT" "$OUT/work" "$RUN"
WORK=$OUT/work
getent passwd popgate-dcap >/dev/null ||
  useradd --system --user-group --home-dir "$WORK/mail" --no-create-home --shell /usr/sbin/nologin popgate-dcap
CUID=$(id -u popgate-dcap)
install -d -m 0755 -o popgate-dcap -g popgate-dcap "$WORK/mail"
# The hostile name: what a client would type to move the address (no ':' — passwd-file's separator).
EVIL='evil>, rip=203.0.113.9, lip=127.0.0.1, mpid=1, session=<x'
printf 'alice:{PLAIN}pw-alice::::::\nbob:{PLAIN}pw-bob::::::\n%s:{PLAIN}pw-evil::::::\n' "$EVIL" >"$WORK/passwd"
chgrp dovecot "$WORK/passwd"; chmod 0640 "$WORK/passwd"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=popgate-capture.localdomain \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

write_conf() { # $1 name, $2 log_timestamp, $3 elements, $4 login_log_format, $5 mail_log_prefix
  {
    echo "base_dir = $RUN/$1"
    echo "instance_name = popgate-capture-$1"
    echo "log_path = $OUT/$1.log"
    echo "info_log_path = $OUT/$1.log"
    echo "log_timestamp = \"$2\""
    [[ -z $3 ]] || echo "login_log_format_elements = \"$3\""
    [[ -z $4 ]] || echo "login_log_format = \"$4\""
    [[ -z $5 ]] || echo "mail_log_prefix = \"$5\""
    cat <<EOF
protocols = pop3 imap
listen = 127.0.0.1, ::1
ssl = yes
ssl_cert = <$WORK/cert.pem
ssl_key = <$WORK/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
auth_username_chars =
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $CUID
last_valid_uid = $CUID
mail_location = maildir:~/Maildir
hostname = popgate-capture.localdomain
passdb {
  driver = passwd-file
  args = scheme=PLAIN $WORK/passwd
}
userdb {
  driver = static
  args = uid=popgate-dcap gid=popgate-dcap home=$WORK/mail/%n allow_all_users=yes
}
service pop3-login {
  inet_listener pop3 {
    port = $P_POP3
  }
  inet_listener pop3s {
    port = 0
  }
}
service imap-login {
  inet_listener imap {
    port = $P_IMAP
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0600
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
  } >"$WORK/$1.conf"
}

DPID=
stop_dovecot() {
  [[ -n $DPID ]] || return 0
  kill "$DPID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
  wait "$DPID" 2>/dev/null || true
  DPID=
}
trap stop_dovecot EXIT

c() { "$PY" "$LIB/client.py" "$@" >>"$WORK/sessions.txt" 2>&1 || true; sleep 0.3; }

for v in "${VARIANTS[@]}"; do
  IFS='|' read -r name stamp elements format prefix <<<"$v"
  write_conf "$name" "$stamp" "$elements" "$format" "$prefix"
  doveconf -c "$WORK/$name.conf" -n >/dev/null
  rm -rf "$RUN/$name" "$WORK/mail"/* "$OUT/$name.log"
  dovecot -F -c "$WORK/$name.conf" &
  DPID=$!
  for _ in $(seq 100); do ss -ltnH "sport = :$P_IMAP" | grep -q . && break; sleep 0.1; done
  echo "== $name" >>"$WORK/sessions.txt"
  c pop3 $P_POP3 127.0.0.51 alice pw-alice
  c imap $P_IMAP 127.0.0.52 bob pw-bob
  c imap $P_IMAP 127.0.0.53 alice pw-alice starttls
  c pop3 $P_POP3 ::1 bob pw-bob
  c pop3 $P_POP3 127.0.0.54 alice wrong
  c imap $P_IMAP 127.0.0.55 nobody whatever
  c pop3 $P_POP3 127.0.0.56 "$EVIL" pw-evil
  c imap $P_IMAP 127.0.0.60 "$EVIL" pw-evil auth
  c pop3 $P_POP3 127.0.0.57 bob pw-bob quitless
  "$PY" -c "import socket; s=socket.create_connection(('127.0.0.1', $P_POP3), 5, ('127.0.0.59', 0)); s.recv(100); s.close()" || true
  sleep 0.5
  stop_dovecot
done
trap - EXIT

echo "# $(dovecot --version) on $(. /etc/os-release; echo "$PRETTY_NAME"), captured $(date -u +%FT%TZ)"
for v in "${VARIANTS[@]}"; do
  name=${v%%|*}
  echo "# --- $name: $v ---"
  cat "$OUT/$name.log"
done
