#!/usr/bin/env bash
# Stop the Postfix and Dovecot started by setup.sh. Configs, maps, mail and logs stay in place;
# setup.sh starts them again.
set -euo pipefail

DOVECOT_CONF=/etc/popgate-e2e/dovecot.conf
DOVECOT_BASE_DIR=/run/popgate-e2e/dovecot
WAIT_SECS=20
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[[ $(id -u) -eq 0 ]] || { echo "stop.sh: must run as root" >&2; exit 1; }
rc=0

# Dovecot (the e2e instance only; Debian's own instance is not touched).
pidfile=$DOVECOT_BASE_DIR/master.pid
if [[ -s $pidfile ]] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
  dovecot -c "$DOVECOT_CONF" stop 2>/dev/null || kill "$pid" 2>/dev/null || true
  for ((i = 0; i < WAIT_SECS * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "stop.sh: Dovecot (pid $pid) is still running" >&2; rc=1
  else echo "stop.sh: Dovecot stopped"; fi
else
  echo "stop.sh: Dovecot (e2e instance) was not running"
fi

# Postfix (system instance).
if command -v postfix >/dev/null && postfix status >/dev/null 2>&1; then
  postfix stop 2>/dev/null || true
  for ((i = 0; i < WAIT_SECS * 10; i++)); do postfix status >/dev/null 2>&1 || break; sleep 0.1; done
  if postfix status >/dev/null 2>&1; then echo "stop.sh: Postfix is still running" >&2; rc=1
  else echo "stop.sh: Postfix stopped"; fi
else
  echo "stop.sh: Postfix was not running"
fi
exit $rc
