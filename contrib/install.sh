#!/usr/bin/env bash
# Sets popgate up on a Debian mail server and starts it: builds it, installs the `popgate`
# command, writes /etc/popgate/popgate.cf (if absent), creates the empty map, adds the map to
# Postfix's smtpd_relay_restrictions (main.cf backed up first) and runs the daemon (systemd
# when present, else in the background with its log in /var/log/popgate.log).
# Idempotent: run it again after an update. Run as root from a clone of the repository.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CONF=/etc/popgate/popgate.cf
MAP=/etc/postfix/popgate
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$1" >&2; [ -n "${2:-}" ] && printf 'install: hint: %s\n' "$2" >&2; exit "${3:-1}"; }

[ "$(id -u)" -eq 0 ] || die "must run as root" "sudo $0" 77
command -v node >/dev/null || die "Node.js is not installed" "install Node.js 20 or newer (Debian 13: apt-get install nodejs npm)" 69
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node.js $(node --version) is too old" "popgate needs Node.js 20 or newer" 69
command -v postconf >/dev/null && command -v postmap >/dev/null || die "Postfix is not installed" "apt-get install postfix" 69

# 1. Build (npm ci also compiles TypeScript through the prepare script).
say "building in $REPO"
(cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
chmod 0755 "$REPO/dist/src/cli/main.js"
ln -sf "$REPO/dist/src/cli/main.js" /usr/local/bin/popgate
mkdir -p /usr/local/share/doc/popgate && ln -sf "$REPO/README.md" /usr/local/share/doc/popgate/README.md

# 2. Config: keep the admin's; otherwise start from the example and point it at the logs that exist.
mkdir -p /etc/popgate /var/lib/popgate
chmod 0750 /var/lib/popgate
if [ ! -e "$CONF" ]; then
  cp "$REPO/contrib/popgate.cf" "$CONF"
  logs=""
  [ -e /var/log/mail.log ] && logs="/var/log/mail.log"
  if command -v doveconf >/dev/null; then
    dlog=$(doveconf -h log_path 2>/dev/null || true)
    case "$dlog" in /*) [ "$dlog" != /var/log/mail.log ] && logs="$logs $dlog" ;; esac
  fi
  logs=$(echo "$logs" | xargs)
  if [ -n "$logs" ]; then
    sed -i "s|^log = .*|log = ${logs// /, }|" "$CONF"
  else
    say "warning: no /var/log/mail.log and no Dovecot log_path: install rsyslog, or set Dovecot's log_path and add it to log in $CONF"
  fi
  say "wrote $CONF (log = ${logs:-/var/log/mail.log})"
fi
popgate config -c "$CONF" >/dev/null || die "$CONF is not valid" "popgate config -d describes every setting" 78

# 3. The map must exist before smtpd looks it up.
if [ ! -e "$MAP.db" ]; then
  touch "$MAP" && postmap "hash:$MAP"
  say "created the empty map hash:$MAP"
fi

# 4. Postfix: the grant goes in smtpd_relay_restrictions, before the relay refusal.
relay=$(postconf -h smtpd_relay_restrictions)
if grep -q "hash:$MAP" <<<"$relay"; then
  say "Postfix already checks hash:$MAP"
elif grep -Eq '(reject|defer)_unauth_destination' <<<"$relay"; then
  cp -p /etc/postfix/main.cf "/etc/postfix/main.cf.popgate-$(date +%Y%m%d%H%M%S)"
  new=$(sed -E "s#(reject|defer)_unauth_destination#check_client_access hash:$MAP \1_unauth_destination#" <<<"$relay")
  postconf -e "smtpd_relay_restrictions = $new"
  say "smtpd_relay_restrictions = $new (main.cf backed up)"
  postfix status >/dev/null 2>&1 && postfix reload >/dev/null 2>&1 || true
else
  say "warning: smtpd_relay_restrictions has no reject_unauth_destination; add this yourself:"
  sed -n '/^smtpd_relay/,/unauth_destination$/p' "$REPO/contrib/postfix-main.cf"
fi

# 5. Run it.
if [ -d /run/systemd/system ]; then
  cp "$REPO/contrib/popgate.service" /etc/systemd/system/popgate.service
  systemctl daemon-reload
  systemctl enable popgate >/dev/null 2>&1
  systemctl restart popgate
  say "popgate runs under systemd: journalctl -u popgate -f"
else
  if [ -f /run/popgate.pid ] && kill -0 "$(cat /run/popgate.pid)" 2>/dev/null; then
    kill "$(cat /run/popgate.pid)" && while kill -0 "$(cat /run/popgate.pid)" 2>/dev/null; do sleep 0.1; done
  fi
  nohup popgate run >>/var/log/popgate.log 2>&1 </dev/null &
  echo $! >/run/popgate.pid
  for _ in $(seq 50); do grep -q "started:" <(tail -n 20 /var/log/popgate.log) && break; kill -0 "$(cat /run/popgate.pid)" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$(cat /run/popgate.pid)" 2>/dev/null || die "popgate did not start" "see /var/log/popgate.log" 1
  say "popgate runs (pid $(cat /run/popgate.pid)), log: /var/log/popgate.log"
fi
say "done: popgate list shows the grants; popgate parse /var/log/mail.log shows what it recognises"
