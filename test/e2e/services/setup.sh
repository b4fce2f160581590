#!/usr/bin/env bash
# Install, configure and start a real Postfix and a real Dovecot for popgate's end-to-end tests.
#
# Run as root on Debian 12 (no systemd needed). Idempotent: a second run checks the packages,
# rewrites the configuration, reloads/restarts only what changed, and leaves both running.
# Every daemon started here listens on loopback only (127.0.0.1 / ::1).
#
#   Dovecot: own instance, config $DOVECOT_CONF, POP3 $POP3_PORT and IMAP $IMAP_PORT on 127.0.0.1 and ::1,
#            users alice/wonderland and bob/builder, log in Dovecot's own format to $DOVECOT_LOG.
#   Postfix: the system instance, smtpd on loopback only:
#            127.0.0.1:2525 + [::1]:2525  map mode        check_client_access hash:$MAP
#            127.0.0.1:2526               policy mode     check_policy_service unix:private/popgate-policy
#            127.0.0.1:2527               socketmap mode  check_client_access socketmap:unix:private/popgate-socketmap:popgate
#            log in $POSTFIX_LOG (maillog_file).
# Stop both with stop.sh (configs are left in place).
set -euo pipefail

# ---- contract (tests rely on these names) -------------------------------------------------------
STATE_DIR=/var/lib/popgate-e2e
LOG_DIR=/var/log/popgate-e2e
CONF_DIR=/etc/popgate-e2e
RUN_DIR=/run/popgate-e2e

DOVECOT_CONF=$CONF_DIR/dovecot.conf
DOVECOT_PASSWD=$CONF_DIR/dovecot.passwd
DOVECOT_BASE_DIR=$RUN_DIR/dovecot
DOVECOT_LOG=$LOG_DIR/dovecot.log
MAIL_DIR=$STATE_DIR/mail
MAIL_USER=popgate-mail
POP3_PORT=10110
IMAP_PORT=10143
TEST_USERS=("alice:wonderland" "bob:builder")

POSTFIX_LOG=$LOG_DIR/postfix.log
MAP=$STATE_DIR/popgate                        # hash map (text source; .db built by postmap)
MAP_PORT=2525                                 # 127.0.0.1 and [::1]
POLICY_PORT=2526                              # 127.0.0.1
SOCKETMAP_PORT=2527                           # 127.0.0.1
POLICY_SOCKET=private/popgate-policy          # = /var/spool/postfix/private/popgate-policy
SOCKETMAP_SOCKET=private/popgate-socketmap    # = /var/spool/postfix/private/popgate-socketmap
MYHOSTNAME=popgate-test.localdomain

PACKAGES=(postfix dovecot-core dovecot-pop3d dovecot-imapd)
WAIT_SECS=${WAIT_SECS:-20}                    # bound for each "is it answering yet" loop
# -------------------------------------------------------------------------------------------------

export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022

log() { printf 'setup.sh: %s\n' "$*" >&2; }
die() { printf 'setup.sh: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"
[[ -r /etc/debian_version ]] || die "this script expects Debian (12)"

# ---- 1. packages ---------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  debconf-set-selections <<EOF
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string $MYHOSTNAME
postfix postfix/destinations string localhost
EOF
  # Keep the package scripts from starting Debian's own daemons (Debian's Dovecot listens on
  # every interface). Only if the machine has no policy-rc.d of its own; removed again on exit.
  own_policy_rc=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy_rc=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q >/dev/null || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  if [[ -n $own_policy_rc ]]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi

# Debian's default Dovecot instance (/etc/dovecot, listens on *) must not run: stop it if the
# install (or anything else) started it, and keep init from starting it at boot.
if [[ -s /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  log "stopping Debian's default Dovecot instance"
  dovecot -c /etc/dovecot/dovecot.conf stop || kill "$(cat /run/dovecot/master.pid)" || true
fi
if [[ -e /etc/init.d/dovecot ]] && ls /etc/rc[2345].d/S*dovecot >/dev/null 2>&1; then
  update-rc.d dovecot disable >/dev/null 2>&1 || true
fi
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
fi

# ---- 2. directories, mail user, maildirs ---------------------------------------------------------
install -d -m 0755 "$STATE_DIR" "$LOG_DIR" "$CONF_DIR" "$RUN_DIR"
if ! getent passwd "$MAIL_USER" >/dev/null; then
  useradd --system --user-group --home-dir "$MAIL_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "popgate e2e mail" "$MAIL_USER"
fi
MAIL_UID=$(id -u "$MAIL_USER")
install -d -m 0750 -o "$MAIL_USER" -g "$MAIL_USER" "$MAIL_DIR"
for u in "${TEST_USERS[@]}"; do
  name=${u%%:*}
  for d in "$MAIL_DIR/$name" "$MAIL_DIR/$name/Maildir" "$MAIL_DIR/$name/Maildir/"{cur,new,tmp}; do
    install -d -m 0700 -o "$MAIL_USER" -g "$MAIL_USER" "$d"
  done
done
for f in "$DOVECOT_LOG" "$POSTFIX_LOG"; do
  [[ -e $f ]] || install -m 0644 /dev/null "$f"
done

# Write $1 from stdin only if the content differs; return 0 if it changed.
write_if_changed() {
  local dest=$1 mode=$2 tmp
  tmp=$(mktemp "$dest.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [[ -e $dest ]] && cmp -s "$tmp" "$dest"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$dest"
  return 0
}

# ---- 3. Dovecot (own instance) ------------------------------------------------------------------
dovecot_changed=
{
  for u in "${TEST_USERS[@]}"; do printf '%s:{PLAIN}%s::::::\n' "${u%%:*}" "${u#*:}"; done
} | write_if_changed "$DOVECOT_PASSWD" 0640 && dovecot_changed=1
chgrp dovecot "$DOVECOT_PASSWD"

write_if_changed "$DOVECOT_CONF" 0644 <<EOF && dovecot_changed=1 || true
# popgate e2e Dovecot instance: generated by test/e2e/services/setup.sh, do not edit.
# Standalone (Debian's /etc/dovecot is not read). Start: dovecot -c $DOVECOT_CONF
instance_name = popgate-e2e
base_dir = $DOVECOT_BASE_DIR
protocols = pop3 imap
listen = 127.0.0.1, ::1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Failed logins answer at once (default 2 s), so negative tests stay fast.
auth_failure_delay = 0
log_path = $DOVECOT_LOG
info_log_path = $DOVECOT_LOG
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $MAIL_UID
last_valid_uid = $MAIL_UID
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $DOVECOT_PASSWD
}
userdb {
  driver = static
  args = uid=$MAIL_USER gid=$MAIL_USER home=$MAIL_DIR/%n
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
# No auth penalty: without the anvil-auth-penalty socket the auth process disables it. Otherwise
# every failed login makes the next attempts from that IP (even correct ones) wait 2..15 s.
# A failed login still answers after up to 0.5 s (Dovecot flushes failures every 500 ms).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF

dovecot_pid() {
  local f=$DOVECOT_BASE_DIR/master.pid pid
  [[ -s $f ]] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

doveconf -c "$DOVECOT_CONF" -n >/dev/null || die "Dovecot rejects $DOVECOT_CONF (see above)"
if pid=$(dovecot_pid); then
  if [[ -n $dovecot_changed ]]; then
    log "Dovecot config changed: restarting the e2e instance (pid $pid)"
    dovecot -c "$DOVECOT_CONF" stop || true
    for ((i = 0; i < WAIT_SECS * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "Dovecot (pid $pid) did not stop"
    rm -f "$DOVECOT_BASE_DIR/anvil-auth-penalty"
    dovecot -c "$DOVECOT_CONF" || die "Dovecot failed to start; see $DOVECOT_LOG"
  fi
else
  install -d -m 0755 "$DOVECOT_BASE_DIR"
  rm -f "$DOVECOT_BASE_DIR/anvil-auth-penalty"   # stale socket of an older config
  log "starting Dovecot (-c $DOVECOT_CONF)"
  dovecot -c "$DOVECOT_CONF" || die "Dovecot failed to start; see $DOVECOT_LOG"
fi

# ---- 4. Postfix (system instance) ---------------------------------------------------------------
[[ -e /etc/postfix/main.cf ]] || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
# Only edit main.cf / master.cf when a value differs: every Postfix command waits ~2 s after
# main.cf was modified (it waits for a freshly written file to settle), which would slow re-runs.
MAIN_CF=(
  'inet_interfaces = loopback-only'
  'inet_protocols = all'
  'mynetworks = 127.0.0.1/32'
  'mydestination = localhost'
  "myhostname = $MYHOSTNAME"
  'default_transport = discard:test'
  'relay_transport = discard:test'
  'in_flow_delay = 0s'
  "maillog_file = $POSTFIX_LOG"
  'maillog_file_prefixes = /var, /dev/stdout'
  'smtpd_policy_service_timeout = 5s'
  'smtpd_authorized_xclient_hosts = 127.0.0.1'
)
map_rr="permit_mynetworks,check_client_access,hash:$MAP,reject_unauth_destination"
policy_rr="permit_mynetworks,check_policy_service,unix:$POLICY_SOCKET,reject_unauth_destination"
sockmap_rr="permit_mynetworks,check_client_access,socketmap:unix:$SOCKETMAP_SOCKET:popgate,reject_unauth_destination"
MASTER_CF=(
  "127.0.0.1:$MAP_PORT inet n - y - - smtpd -o smtpd_relay_restrictions=$map_rr"
  "[::1]:$MAP_PORT inet n - y - - smtpd -o smtpd_relay_restrictions=$map_rr"
  "127.0.0.1:$POLICY_PORT inet n - y - - smtpd -o smtpd_relay_restrictions=$policy_rr"
  "127.0.0.1:$SOCKETMAP_PORT inet n - y - - smtpd -o smtpd_relay_restrictions=$sockmap_rr"
)
# ---- relay-test rig: a DELIBERATELY OPEN listener ------------------------------------
# 127.0.0.1:2528 relays for every loopback client: mynetworks = 127.0.0.0/8 on this listener only,
# the classic misconfiguration `popgate relay-test` must catch (test/e2e/relay-test.test.ts).
# Loopback only; the discard transport above means nothing it accepts is ever delivered.
# reject_unauth_destination stays in the list: smtpd refuses to start without one.
OPEN_RELAY_PORT=2528
MASTER_CF+=("127.0.0.1:$OPEN_RELAY_PORT inet n - y - - smtpd -o mynetworks=127.0.0.0/8 -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination")
# ---- end of the relay-test rig -----------------------------------------------------------------
postfix_changed=
edits=()
for kv in "${MAIN_CF[@]}"; do
  [[ $(postconf -nh "${kv%% = *}" 2>/dev/null) == "${kv#* = }" ]] || edits+=("$kv")
done
if ((${#edits[@]})); then postconf -e "${edits[@]}"; postfix_changed=1; fi
# No port-25 listener.
if postconf -M | grep -q '^smtp[[:space:]]\+inet[[:space:]]'; then postconf -MX smtp/inet; postfix_changed=1; fi
master_now=$(postconf -M)
for line in "${MASTER_CF[@]}"; do
  read -r -a f <<<"$line"
  if ! grep -qxF -- "$(tr -s ' ' <<<"$line")" <<<"$(tr -s ' ' <<<"$master_now")"; then
    postconf -M "${f[0]}/${f[1]}=$line"
    postfix_changed=1
  fi
done

# The grant map must exist before smtpd starts, or smtpd dies and master throttles it for 60 s.
[[ -e $MAP ]] || install -m 0644 /dev/null "$MAP"
if [[ ! -e $MAP.db || $MAP -nt $MAP.db ]]; then postmap "hash:$MAP"; fi
chmod 0644 "$MAP" "$MAP.db"

/usr/lib/postfix/configure-instance.sh - >/dev/null 2>&1 \
  || /usr/lib/postfix/configure-instance.sh >/dev/null || die "configure-instance.sh failed"
postfix check || die "postfix check failed"
if postfix status >/dev/null 2>&1; then
  if [[ -n $postfix_changed ]]; then log "Postfix config changed: reloading"; postfix reload 2>/dev/null; fi
else
  log "starting Postfix"
  postfix start 2>/dev/null || die "postfix start failed; see $POSTFIX_LOG"
fi

# ---- 5. wait until everything answers ----------------------------------------------------------
# wait_banner HOST PORT EXPECTED_PREFIX QUIT_COMMAND: bounded wait for a greeting; prints it.
wait_banner() {
  local host=$1 port=$2 want=$3 quit=$4 line deadline=$((SECONDS + WAIT_SECS))
  while ((SECONDS < deadline)); do
    if exec 3<>"/dev/tcp/$host/$port" 2>/dev/null; then
      line=
      IFS= read -r -t 3 line <&3 || true
      printf '%s\r\n' "$quit" >&3 2>/dev/null || true
      exec 3<&- 3>&-
      if [[ $line == "$want"* ]]; then printf '%s' "${line%$'\r'}"; return 0; fi
    fi
    sleep 0.2
  done
  return 1
}

declare -A banner
check() { # label host port prefix quit
  local b
  b=$(wait_banner "$2" "$3" "$4" "$5") || return 1
  banner[$1]=$b
}

failed=()
check "dovecot pop3 127.0.0.1:$POP3_PORT" 127.0.0.1 "$POP3_PORT" '+OK' 'QUIT' || failed+=("Dovecot POP3 127.0.0.1:$POP3_PORT")
check "dovecot pop3 [::1]:$POP3_PORT" ::1 "$POP3_PORT" '+OK' 'QUIT' || failed+=("Dovecot POP3 [::1]:$POP3_PORT")
check "dovecot imap 127.0.0.1:$IMAP_PORT" 127.0.0.1 "$IMAP_PORT" '* OK' 'a LOGOUT' || failed+=("Dovecot IMAP 127.0.0.1:$IMAP_PORT")
check "dovecot imap [::1]:$IMAP_PORT" ::1 "$IMAP_PORT" '* OK' 'a LOGOUT' || failed+=("Dovecot IMAP [::1]:$IMAP_PORT")

if ! check "postfix map 127.0.0.1:$MAP_PORT" 127.0.0.1 "$MAP_PORT" '220 ' 'QUIT'; then
  # A throttled smtpd (e.g. it died on a missing map earlier) survives "postfix reload": restart.
  log "no SMTP banner on 127.0.0.1:$MAP_PORT: restarting Postfix once"
  postfix stop 2>/dev/null || true
  for ((i = 0; i < WAIT_SECS * 10; i++)); do postfix status >/dev/null 2>&1 || break; sleep 0.1; done
  postfix start 2>/dev/null || true
  check "postfix map 127.0.0.1:$MAP_PORT" 127.0.0.1 "$MAP_PORT" '220 ' 'QUIT' || failed+=("Postfix 127.0.0.1:$MAP_PORT")
fi
check "postfix map [::1]:$MAP_PORT" ::1 "$MAP_PORT" '220 ' 'QUIT' || failed+=("Postfix [::1]:$MAP_PORT")
check "postfix policy 127.0.0.1:$POLICY_PORT" 127.0.0.1 "$POLICY_PORT" '220 ' 'QUIT' || failed+=("Postfix 127.0.0.1:$POLICY_PORT")
check "postfix socketmap 127.0.0.1:$SOCKETMAP_PORT" 127.0.0.1 "$SOCKETMAP_PORT" '220 ' 'QUIT' || failed+=("Postfix 127.0.0.1:$SOCKETMAP_PORT")

if ((${#failed[@]})); then
  for f in "${failed[@]}"; do printf 'setup.sh: ERROR: not answering: %s\n' "$f" >&2; done
  printf -- '--- last lines of %s ---\n' "$DOVECOT_LOG" >&2; tail -n 15 "$DOVECOT_LOG" >&2 || true
  printf -- '--- last lines of %s ---\n' "$POSTFIX_LOG" >&2; tail -n 15 "$POSTFIX_LOG" >&2 || true
  exit 1
fi

# ---- 6. summary --------------------------------------------------------------------------------
cat <<EOF
popgate e2e services are up.
  state   $STATE_DIR   logs $LOG_DIR   configs $CONF_DIR
  Dovecot $(dovecot --version | cut -d' ' -f1), pid $(dovecot_pid), config $DOVECOT_CONF
          log (Dovecot format)  $DOVECOT_LOG
          POP3  127.0.0.1:$POP3_PORT [::1]:$POP3_PORT   IMAP  127.0.0.1:$IMAP_PORT [::1]:$IMAP_PORT   (ssl = no, plaintext auth)
          users $(printf '%s ' "${TEST_USERS[@]}")(passwd-file $DOVECOT_PASSWD, maildirs in $MAIL_DIR, owner $MAIL_USER)
  Postfix $(postconf -h mail_version), system instance (/etc/postfix), log $POSTFIX_LOG
          127.0.0.1:$MAP_PORT [::1]:$MAP_PORT  map mode        check_client_access hash:$MAP
          127.0.0.1:$POLICY_PORT              policy mode     check_policy_service unix:$POLICY_SOCKET (/var/spool/postfix/$POLICY_SOCKET)
          127.0.0.1:$SOCKETMAP_PORT              socketmap mode  check_client_access socketmap:unix:$SOCKETMAP_SOCKET:popgate (/var/spool/postfix/$SOCKETMAP_SOCKET)
          mynetworks $(postconf -h mynetworks), relay denied = 554 5.7.1 (reject_unauth_destination)
EOF
for k in "${!banner[@]}"; do printf '  banner  %-36s %s\n' "$k" "${banner[$k]}"; done | sort
