#!/usr/bin/env bash
# Sets popgate up on a Debian mail server and starts it. Run as root from a clone:
#
#   ./contrib/install.sh                 install or update (idempotent: run it again after a pull)
#   ./contrib/install.sh --uninstall     remove popgate's references from main.cf, stop and remove
#                                        the service and program; keeps the database and config
#   ./contrib/install.sh --uninstall --purge   ... and the database, map, config, log and user
#
# What it does: builds popgate and installs a copy in /usr/local/lib/popgate (/usr/local/bin/popgate
# points there), man pages and bash completion; creates the system user `popgate` (groups adm and
# postfix); writes /etc/popgate/popgate.cf if absent; wires Postfix's main.cf for the mode the
# config names (map, policy, socketmap; a stale popgate reference is replaced, main.cf backed up
# first); runs the daemon as `popgate` under systemd, or else under contrib/popgate-supervise;
# checks the result with `popgate doctor`.
#
# Environment (for tests and unusual layouts):
#   POSTFIX_CONFIG_DIR  Postfix configuration directory (postconf -c), default Postfix's own
#   POPGATE_ROOT        install the program, config, unit and run files below this directory
#   POPGATE_BUILT       an already built output directory (holding src/ and parsers/): skip npm
#   POPGATE_INIT        systemd | supervise (default: systemd when it runs, else supervise)
set -euo pipefail
umask 022
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${POPGATE_ROOT:-}
PFDIR=${POSTFIX_CONFIG_DIR:-}
BUILT=${POPGATE_BUILT:-}
ACCOUNT=popgate
CONF=$ROOT/etc/popgate/popgate.cf
LIB=$ROOT/usr/local/lib/popgate
BIN=$ROOT/usr/local/bin/popgate
SUPERVISE=$LIB/popgate-supervise
MANDIR=$ROOT/usr/local/share/man
DOCDIR=$ROOT/usr/local/share/doc/popgate
COMPLETION=$ROOT/usr/share/bash-completion/completions/popgate
LOGROTATE=$ROOT/etc/logrotate.d/popgate
UNIT=$ROOT/etc/systemd/system/popgate.service
DROPIN=$UNIT.d/paths.conf
RUNDIR=$ROOT/run/popgate
SUP_PID=$RUNDIR/supervise.pid
LEGACY_PID=$ROOT/run/popgate.pid
LOGFILE=$ROOT/var/log/popgate.log
STATE=$ROOT/var/lib/popgate
STAMP=$(date +%Y%m%d%H%M%S)

say() { printf 'install: %s\n' "$*"; }
warn() { printf 'install: warning: %s\n' "$*" >&2; }
die() { printf 'install: error: %s\n' "$1" >&2; [ -n "${2:-}" ] && printf 'install: hint: %s\n' "$2" >&2; exit "${3:-1}"; }

pc() { postconf ${PFDIR:+-c "$PFDIR"} "$@"; }
pfx() { postfix ${PFDIR:+-c "$PFDIR"} "$@"; }
# The daemon and doctor must read the same Postfix configuration as this script.
if [ -n "$PFDIR" ]; then export MAIL_CONFIG=$PFDIR; fi

# Runs a command as the popgate account (files it creates are popgate's).
as_popgate() { setpriv --reuid="$ACCOUNT" --regid="$ACCOUNT" --init-groups --inh-caps=-all -- "$@"; }

# cmd... with a line every 15 s, for the minutes better-sqlite3 may take to compile.
with_progress() {
  local what=$1 out t=0 pid rc
  shift
  out=$(mktemp)
  "$@" >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    t=$((t + 1))
    if ((t % 15 == 0)); then say "$what: still working (${t}s)"; fi
  done
  wait "$pid" && rc=0 || rc=$?
  ((rc == 0)) || tail -n 40 "$out" >&2
  rm -f "$out"
  return "$rc"
}

# ---- options -------------------------------------------------------------------------------------
mode=install
purge=
for a in "$@"; do
  case $a in
    --uninstall) mode=uninstall ;;
    --purge) purge=1 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $a" "see $0 --help" 64 ;;
  esac
done
[ -n "$purge" ] && [ "$mode" != uninstall ] && die "--purge goes with --uninstall" "$0 --uninstall --purge" 64

[ "$(id -u)" -eq 0 ] || die "must run as root" "run it as root: su -c '$0', or sudo $0 where sudo exists" 77
command -v postconf >/dev/null && command -v postmap >/dev/null || die "Postfix is not installed" "apt-get install postfix" 69
command -v setpriv >/dev/null || die "setpriv is missing" "apt-get install util-linux" 69
QUEUE=$(pc -h queue_directory)

case ${POPGATE_INIT:-auto} in
  auto) if [ -d /run/systemd/system ]; then INIT=systemd; else INIT=supervise; fi ;;
  systemd | supervise) INIT=$POPGATE_INIT ;;
  *) die "POPGATE_INIT=$POPGATE_INIT" "use systemd or supervise" 64 ;;
esac

# ---- the settings popgate itself reads -----------------------------------------------------------
# Effective value of every key: the defaults (config -d) overlaid with the file (config -c).
declare -A EFF
read_config() {
  local k v
  EFF=()
  while IFS='=' read -r k v; do EFF[$k]=$v; done < <(
    { "$BIN" config -d; "$BIN" config -c "$CONF"; } | awk '/^[a-z_]+ = / { k = $1; sub(/^[a-z_]+ = /, ""); print k "=" $0 }')
}

# Sets KEY = VALUE in popgate.cf: replaces the setting (and its continuation lines) or appends it.
set_conf() {
  local key=$1 value=$2 tmp
  tmp=$(mktemp "$CONF.XXXXXX")
  awk -v k="$key" -v v="$value" '
    skip && /^[ \t]/ { next }
    { skip = 0 }
    $0 ~ "^" k "[ \t]*=" { if (!done) print k " = " v; done = 1; skip = 1; next }
    { print }
    END { if (!done) print k " = " v }' "$CONF" >"$tmp"
  chmod --reference="$CONF" "$tmp"
  chown --reference="$CONF" "$tmp"
  mv -f "$tmp" "$CONF"
}

# "TYPE:PATH" → the file postmap builds from PATH.
built_file() {
  case ${1%%:*} in
    hash | btree) printf '%s.db' "${1#*:}" ;;
    lmdb) printf '%s.lmdb' "${1#*:}" ;;
    cdb) printf '%s.cdb' "${1#*:}" ;;
    *) printf '%s' "${1#*:}" ;;
  esac
}

# "unix:/var/spool/postfix/popgate/policy" → "unix:popgate/policy": a chrooted smtpd resolves
# unix: paths below the queue directory, as it does for private/….
endpoint() {
  case $1 in
    "unix:$QUEUE/"*) printf 'unix:%s' "${1#unix:"$QUEUE"/}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# The restrictions main.cf must hold for popgate's current config, one per line.
wanted_refs() {
  [ "${EFF[map]:-none}" != none ] && printf 'check_client_access %s\n' "${EFF[map]}"
  [ "${EFF[policy]:-none}" != none ] && printf 'check_policy_service %s\n' "$(endpoint "${EFF[policy]}")"
  [ "${EFF[socketmap]:-none}" != none ] && printf 'check_client_access socketmap:%s:%s\n' "$(endpoint "${EFF[socketmap]}")" "${EFF[socketmap_name]:-popgate}"
  return 0
}

# ---- main.cf: make popgate's references exactly WANTED (one restriction per line) ----------------
# Removes every popgate reference (check_client_access/check_policy_service naming popgate) that
# is not wanted, and puts the wanted ones right before the relay check of each list that has one.
# Writes main.cf only when a list changes (with a timestamped backup), and reloads Postfix.
rewire() {
  local wanted=$1 out line changed=()
  local relay recip
  # An explicit value as written; an unset one as Postfix expands its default.
  relay=$(pc -nh smtpd_relay_restrictions)
  [ -n "$relay" ] || relay=$(pc -xh smtpd_relay_restrictions)
  recip=$(pc -nh smtpd_recipient_restrictions)
  out=$(WANTED=$wanted RELAY=$relay RECIP=$recip node --input-type=module -e '
    const RELAY_CHECKS = new Set(["reject_unauth_destination", "defer_unauth_destination", "reject", "defer", "defer_if_permit", "check_relay_domains"]);
    const ARG = /^(check_(?!relay_domains$)\w+|reject_rbl_client|reject_rhsbl_\w+|permit_dnswl_client|permit_rhswl_client)$/;
    // Restriction items: a name, and its table or server (a { … } group counts as one argument).
    function items(v) {
      const words = v.match(/\{[^}]*\}?|[^\s,{]+/g) ?? [];
      const out = [];
      for (let i = 0; i < words.length; i++) {
        const name = words[i];
        if (ARG.test(name.toLowerCase()) && i + 1 < words.length) {
          const arg = words[++i];
          const first = arg.startsWith("{") ? arg.slice(1).replace(/\}$/, "").split(",")[0].trim() : arg;
          out.push({ text: `${name} ${arg}`, key: `${name.toLowerCase()} ${first}` });
        } else out.push({ text: name, key: name.toLowerCase() });
      }
      return out;
    }
    const wanted = process.env.WANTED.split("\n").filter(Boolean);
    const isOurs = (it) => /^(check_client_access|check_policy_service) \S*popgate/i.test(it.key);
    const isWanted = (it) => wanted.some((w) => it.key === w || it.key === w.replace(" ", " proxy:"));
    function fix(name, value) {
      const before = items(value);
      const list = before.filter((it) => !isOurs(it) || isWanted(it));
      for (const it of before) if (!list.includes(it)) console.log(`say\tremoved ${it.text} from ${name}`);
      if (list.some((it) => RELAY_CHECKS.has(it.key))) {
        for (const w of wanted) {
          const at = list.findIndex((it) => RELAY_CHECKS.has(it.key));
          const have = list.findIndex((it) => isWanted(it) && (it.key === w || it.key === w.replace(" ", " proxy:")));
          if (have >= 0 && have < at) continue;
          if (have >= 0) list.splice(have, 1);
          list.splice(list.findIndex((it) => RELAY_CHECKS.has(it.key)), 0, { text: w, key: w });
          console.log(`say\t${have >= 0 ? "moved" : "added"} ${w} before ${list[list.findIndex((it) => RELAY_CHECKS.has(it.key))].text} in ${name}`);
        }
      }
      const now = list.map((it) => it.text).join(", ");
      if (before.map((it) => it.text).join(", ") !== now) console.log(`set\t${name}\t${now}`);
      return list.some((it) => RELAY_CHECKS.has(it.key));
    }
    const relayHome = fix("smtpd_relay_restrictions", process.env.RELAY);
    const recipHome = fix("smtpd_recipient_restrictions", process.env.RECIP);
    if (wanted.length && !relayHome && !recipHome) console.log("nohome");
  ') || die "could not work out the Postfix restriction lists" "check main.cf with postconf -n"
  if grep -qx nohome <<<"$out"; then
    die "neither smtpd_relay_restrictions nor smtpd_recipient_restrictions has a relay check" \
      "add this yourself: smtpd_relay_restrictions = permit_mynetworks, $(head -n1 <<<"$wanted"), reject_unauth_destination"
  fi
  while IFS=$'\t' read -r kind a b; do
    case $kind in
      say) say "main.cf: $a" ;;
      set) changed+=("$a = $b") ;;
    esac
  done <<<"$out"
  if ((${#changed[@]})); then
    local cfdir=${PFDIR:-$(pc -h config_directory)}
    cp -p "$cfdir/main.cf" "$cfdir/main.cf.popgate-$STAMP"
    pc -e "${changed[@]}"
    for c in "${changed[@]}"; do say "main.cf: $c"; done
    say "main.cf backed up as $cfdir/main.cf.popgate-$STAMP"
    if pfx status >/dev/null 2>&1; then pfx reload >/dev/null 2>&1 && say "Postfix reloaded"; fi
  else
    say "main.cf already names what popgate serves: unchanged"
  fi
  # master.cf -o overrides are the admin's: name stale ones, do not edit them.
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    grep -qiE '(check_client_access|check_policy_service)[, ][^, ]*popgate' <<<"$line" || continue
    local ok=
    while IFS= read -r w; do [ -n "$w" ] && grep -qF "${w/ /,}" <<<"$line" && ok=1; done <<<"$wanted"
    [ -n "$ok" ] || warn "master.cf overrides a restriction list with a popgate reference that popgate does not serve: $line (fix it by hand; popgate doctor shows how)"
  done < <(pc -P 2>/dev/null | grep -E '/smtpd_(relay|recipient)_restrictions=' || true)
}

# ---- the daemon ----------------------------------------------------------------------------------
supervisor_pid() {
  local p
  [ -s "$SUP_PID" ] || return 1
  p=$(cat "$SUP_PID")
  [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && grep -qa popgate-supervise "/proc/$p/cmdline" 2>/dev/null || return 1
  printf '%s' "$p"
}

wait_gone() { # pid seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

stop_daemon() {
  local p
  if [ "$INIT" = systemd ] && command -v systemctl >/dev/null && systemctl is-active --quiet popgate 2>/dev/null; then
    systemctl stop popgate && say "stopped popgate.service"
  fi
  if p=$(supervisor_pid); then
    kill -TERM "$p"
    wait_gone "$p" 30 || { warn "popgate-supervise (pid $p) did not stop in 30 s: killing it"; pkill -KILL -P "$p" || true; kill -KILL "$p" || true; }
    say "stopped popgate-supervise (pid $p)"
  fi
  # The old installer ran `popgate run` directly with this pid file.
  if [ -s "$LEGACY_PID" ] && p=$(cat "$LEGACY_PID") && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    wait_gone "$p" 30 || kill -KILL "$p" || true
    say "stopped the old background popgate (pid $p)"
    rm -f "$LEGACY_PID"
    [ -e "$CONF" ] && "$BIN" withdraw -c "$CONF" >/dev/null 2>&1 || true
  fi
  return 0
}

start_daemon() {
  if [ "$INIT" = systemd ]; then
    install -m 0644 "$REPO/contrib/popgate.service" "$UNIT"
    mkdir -p "$(dirname "$DROPIN")"
    {
      printf '# Written by contrib/install.sh from popgate.cf: the directories popgate writes.\n[Service]\n'
      printf 'ReadWritePaths=%s\n' "${RW_DIRS[@]/#/-}"
      if [ -n "$PFDIR" ]; then printf 'Environment=MAIL_CONFIG=%s\n' "$PFDIR"; fi
    } >"$DROPIN.new"
    if cmp -s "$DROPIN.new" "$DROPIN"; then rm -f "$DROPIN.new"; else mv -f "$DROPIN.new" "$DROPIN"; fi
    systemctl daemon-reload
    systemctl enable popgate >/dev/null 2>&1
    systemctl restart popgate
    say "popgate runs under systemd as $ACCOUNT: journalctl -u popgate -f"
    return
  fi
  install -d -m 0755 "$RUNDIR"
  mkdir -p "$(dirname "$LOGFILE")"
  [ -e "$LOGFILE" ] || install -m 0640 -g adm /dev/null "$LOGFILE" 2>/dev/null || install -m 0640 /dev/null "$LOGFILE"
  local from p i
  from=$(($(stat -c %s "$LOGFILE") + 1))
  setsid "$SUPERVISE" --user "$ACCOUNT" --config "$CONF" --pidfile "$SUP_PID" --bin "$BIN" >>"$LOGFILE" 2>&1 </dev/null &
  for ((i = 0; i < 200; i++)); do
    tail -c +"$from" "$LOGFILE" | grep -q 'started:' && break
    tail -c +"$from" "$LOGFILE" | grep -q 'popgate-supervise.*stopped' && break
    sleep 0.1
  done
  p=$(supervisor_pid) && tail -c +"$from" "$LOGFILE" | grep -q 'started:' ||
    { tail -c +"$from" "$LOGFILE" | tail -n 15 >&2; die "popgate did not start" "see $LOGFILE, and popgate doctor"; }
  say "popgate runs as $ACCOUNT under popgate-supervise (pid $p); log: $LOGFILE"
}

# ---- uninstall -----------------------------------------------------------------------------------
uninstall() {
  stop_daemon
  if [ "$INIT" = systemd ] && command -v systemctl >/dev/null; then
    systemctl disable popgate >/dev/null 2>&1 || true
  fi
  rm -rf "$UNIT" "$UNIT.d"
  [ "$INIT" = systemd ] && command -v systemctl >/dev/null && systemctl daemon-reload
  local map=none
  if [ -x "$BIN" ] && [ -e "$CONF" ]; then
    read_config
    map=${EFF[map]:-none}
    # As the map's owner: popgate refuses to write a map directory someone else owns.
    if getent passwd "$ACCOUNT" >/dev/null; then
      as_popgate "$BIN" withdraw -c "$CONF" || warn "popgate withdraw failed: empty the map by hand"
    else
      "$BIN" withdraw -c "$CONF" || warn "popgate withdraw failed: empty the map by hand"
    fi
  fi
  # Nothing of popgate's stays referenced, whatever mode main.cf was set up for.
  rewire ""
  if [ "$map" != none ]; then rm -f "${map#*:}" "$(built_file "$map")"; say "removed the map $map"; fi
  for k in policy socketmap; do
    case ${EFF[$k]:-none} in unix:*) rm -f "${EFF[$k]#unix:}"; rmdir "$(dirname "${EFF[$k]#unix:}")" 2>/dev/null || true ;; esac
  done
  rm -rf "$LIB" "$BIN" "$MANDIR/man8/popgate.8" "$MANDIR/man5/popgate.cf.5" "$DOCDIR" "$COMPLETION" "$LOGROTATE" "$RUNDIR"
  say "removed the program, man pages, completion and service"
  if [ -n "$purge" ]; then
    local db=${EFF[db]:-$STATE/popgate.sqlite}
    rm -f "$db" "$db-wal" "$db-shm" "$db-journal" "$db.lock"
    # The map directory of this config, and the default one a mode switch may have left.
    if [ "$map" != none ]; then rm -f "$(dirname "${map#*:}")"/popgate*; rmdir "$(dirname "${map#*:}")" 2>/dev/null || true; fi
    if [ -d "$STATE/map" ]; then rm -f "$STATE/map"/popgate*; rmdir "$STATE/map" 2>/dev/null || true; fi
    rmdir "$(dirname "$db")" 2>/dev/null || warn "$(dirname "$db") is not empty: left in place"
    rm -rf "$(dirname "$CONF")" "$LOGFILE"
    getent passwd "$ACCOUNT" >/dev/null && userdel "$ACCOUNT" && say "removed the user $ACCOUNT"
    say "purged the database, config and log"
  else
    say "kept the database ${EFF[db]:-} and $CONF (--uninstall --purge removes them)"
  fi
  say "done: Postfix no longer asks popgate"
}

if [ "$mode" = uninstall ]; then
  uninstall
  exit 0
fi

# ---- 1. build ------------------------------------------------------------------------------------
command -v node >/dev/null || die "Node.js is not installed" "install Node.js 20 or newer (Debian 13: apt-get install nodejs npm)" 69
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node.js $(node --version) is too old" "popgate needs Node.js 20 or newer" 69
command -v npm >/dev/null || die "npm is not installed" "apt-get install npm" 69
if [ -n "$BUILT" ]; then
  DIST=$(cd "$BUILT" && pwd)
  [ -f "$DIST/src/cli/main.js" ] || die "POPGATE_BUILT=$BUILT holds no src/cli/main.js" "build first: npx tsc -p . --outDir DIR"
  say "using the build in $DIST"
else
  DIST=$REPO/dist
  # npm ci only when the dependencies changed: it deletes node_modules and recompiles better-sqlite3.
  want="$(sha256sum "$REPO/package-lock.json" | cut -d' ' -f1) node $(node --version)"
  if [ "$(cat "$REPO/node_modules/.popgate-install" 2>/dev/null)" != "$want" ]; then
    say "installing dependencies in $REPO (npm ci; compiling better-sqlite3 can take minutes)"
    with_progress "npm ci" sh -c "cd '$REPO' && npm ci --no-audit --no-fund --loglevel=error" ||
      die "npm ci failed (output above)" "better-sqlite3 may need a compiler: apt-get install build-essential python3"
    printf '%s\n' "$want" >"$REPO/node_modules/.popgate-install"
  else
    say "building in $REPO (dependencies unchanged)"
    with_progress "tsc" sh -c "cd '$REPO' && npm run --silent build" || die "the TypeScript build failed (output above)" "git status: is the clone clean?"
  fi
fi

# ---- 2. a copy of the program (the clone may move or change) ------------------------------------
say "installing the program in $LIB"
stage=$LIB.new-$$
rm -rf "$stage"
mkdir -p "$stage/dist" "$stage/contrib"
cp -p "$REPO/package.json" "$REPO/package-lock.json" "$REPO/LICENSE" "$REPO/README.md" "$stage/"
cp -a "$DIST/src" "$stage/dist/src"
[ -d "$DIST/parsers" ] && cp -a "$DIST/parsers" "$stage/dist/parsers"
find "$stage/dist" -name '*.map' -delete
cp -a "$REPO/node_modules" "$stage/node_modules"
cp -p "$REPO/contrib/popgate-supervise" "$REPO/contrib/popgate.cf" "$REPO/contrib/popgate.service" "$stage/contrib/"
install -m 0755 "$REPO/contrib/popgate-supervise" "$stage/popgate-supervise"
with_progress "npm prune" sh -c "cd '$stage' && npm prune --omit=dev --no-audit --no-fund --loglevel=error" ||
  die "npm prune failed in $stage (output above)" "remove $stage and run the installer again"
chmod 0755 "$stage/dist/src/cli/main.js"
# Swapped in by rename: a running popgate keeps the files it has open.
if [ -d "$LIB" ]; then mv "$LIB" "$LIB.old-$$"; fi
mv "$stage" "$LIB"
rm -rf "$LIB.old-$$"
mkdir -p "$(dirname "$BIN")"
ln -sfn "$LIB/dist/src/cli/main.js" "$BIN"
"$BIN" --version >/dev/null || die "the installed $BIN does not run" "see the error above"
node "$LIB/dist/src/man/generate.js" "$MANDIR" >/dev/null || warn "could not write the man pages"
# The old installer linked these into the clone: replace the links, do not write through them.
rm -f "$DOCDIR/README.md" "$COMPLETION"
install -D -m 0644 "$REPO/README.md" "$DOCDIR/README.md"
install -D -m 0644 "$REPO/contrib/completion/popgate" "$COMPLETION"
say "installed $BIN -> $LIB, man pages popgate(8) popgate.cf(5), bash completion"

# ---- 3. the account the daemon runs as -----------------------------------------------------------
if ! getent passwd "$ACCOUNT" >/dev/null; then
  group_opt=(--user-group)
  getent group "$ACCOUNT" >/dev/null && group_opt=(--gid "$ACCOUNT")
  useradd --system "${group_opt[@]}" --home-dir /var/lib/popgate --no-create-home --shell /usr/sbin/nologin --comment "popgate daemon" "$ACCOUNT"
  say "created the system user $ACCOUNT"
fi
# adm reads /var/log/mail.log; postfix is the group of the live sockets smtpd connects to.
for g in adm postfix; do
  if ! getent group "$g" >/dev/null; then warn "no group $g: popgate may not read the mail log or hand its sockets to Postfix"; continue; fi
  id -nG "$ACCOUNT" | tr ' ' '\n' | grep -qx "$g" || { usermod -a -G "$g" "$ACCOUNT"; say "added $ACCOUNT to the group $g"; }
done

# ---- 4. stop what runs, before its map or sockets move --------------------------------------------
stop_daemon

# ---- 5. config: keep the admin's, move what the old root-run layout put in Postfix's places -----
mkdir -p "$(dirname "$CONF")"
if [ ! -e "$CONF" ]; then
  cp "$REPO/contrib/popgate.cf" "$CONF"
  # A source whose writer is authenticated first: in a plain syslog file any local user can
  # forge a login line (logger -t dovecot …). Dovecot's own file, then the journal, then mail.log.
  logs="" dlog=""
  command -v doveconf >/dev/null && dlog=$(doveconf -h log_path 2>/dev/null || true)
  case "$dlog" in
    /*) [ "$dlog" != /var/log/mail.log ] && logs="$dlog" ;;
  esac
  if [ -z "$logs" ] && [ -d /run/systemd/journal ] && [ -n "$dlog" ] && command -v journalctl >/dev/null; then
    logs="journal:_SYSTEMD_UNIT=dovecot.service"
  fi
  if [ -z "$logs" ] && [ -e /var/log/mail.log ]; then
    logs="/var/log/mail.log"
    warn "following /var/log/mail.log: any local user can write a forged login line there (logger -t dovecot …); prefer Dovecot's log_path, the journal, or contrib/rsyslog/popgate.conf (README: Who wrote a log line)"
  fi
  if [ -n "$logs" ]; then
    set_conf log "$logs"
  else
    warn "no Dovecot log_path, no journal and no /var/log/mail.log: set log in $CONF to where your POP/IMAP server logs"
  fi
  say "wrote $CONF (log = ${logs:-/var/log/mail.log})"
fi
# Root owns the config; popgate reads it.
chgrp "$ACCOUNT" "$CONF" && chmod g+r,o-w "$CONF"
"$BIN" config -c "$CONF" >/dev/null || die "$CONF is not valid (see above)" "fix the line named above; popgate config -d describes every setting" 78
read_config

old_map=
conf_backup() { [ -e "$CONF.popgate-$STAMP" ] || cp -p "$CONF" "$CONF.popgate-$STAMP"; }
cfdir=${PFDIR:-$(pc -h config_directory)}
# The map moves out of Postfix's config directory (the old default was /etc/postfix/popgate) to
# where only popgate writes.
mapdir_now=$(dirname "${EFF[map]#*:}")
if [ "${EFF[map]}" != none ] && { [ "$mapdir_now" = "$cfdir" ] || { [ -z "$ROOT" ] && [ "$mapdir_now" = /etc/postfix ]; }; }; then
  old_map=${EFF[map]}
  conf_backup
  set_conf map "${old_map%%:*}:$STATE/map/popgate"
  say "$CONF: map = ${old_map%%:*}:$STATE/map/popgate (was $old_map, in Postfix's own directory; backup $CONF.popgate-$STAMP)"
fi
# Sockets in private/ need root to create; popgate gets its own directory in the chroot instead.
for k in policy socketmap; do
  case ${EFF[$k]} in
    "unix:$QUEUE/private/"*)
      name=$(basename "${EFF[$k]}")
      conf_backup
      set_conf "$k" "unix:$QUEUE/popgate/${name#popgate-}"
      say "$CONF: $k = unix:$QUEUE/popgate/${name#popgate-} (was ${EFF[$k]}: private/ is Postfix's; backup $CONF.popgate-$STAMP)"
      ;;
  esac
done
"$BIN" config -c "$CONF" >/dev/null || die "$CONF is not valid after the update (see above)" "restore $CONF.popgate-$STAMP and report this"
read_config
say "popgate serves: map = ${EFF[map]}, policy = ${EFF[policy]}, socketmap = ${EFF[socketmap]}"

# ---- 6. directories: popgate's own, least privilege ----------------------------------------------
RW_DIRS=()
db=${EFF[db]}
dbdir=$(dirname "$db")
install -d -o "$ACCOUNT" -g "$ACCOUNT" -m 0750 "$dbdir"
chown "$ACCOUNT:$ACCOUNT" "$dbdir" && chmod 0750 "$dbdir"
for f in "$db" "$db-wal" "$db-shm" "$db-journal"; do if [ -e "$f" ]; then chown "$ACCOUNT:$ACCOUNT" "$f"; fi; done
RW_DIRS+=("$dbdir")
if [ "${EFF[map]}" != none ]; then
  mpath=${EFF[map]#*:}
  mdir=$(dirname "$mpath")
  # 0755: smtpd opens the map as root before it chroots; postmap -q works for everybody.
  install -d -o "$ACCOUNT" -g "$ACCOUNT" -m 0755 "$mdir"
  chown "$ACCOUNT:$ACCOUNT" "$mdir" && chmod 0755 "$mdir"
  for f in "$mpath" "$(built_file "${EFF[map]}")"; do if [ -e "$f" ]; then chown "$ACCOUNT:$ACCOUNT" "$f"; fi; done
  # smtpd dies on a missing map (and master throttles it for 60 s): an empty one until popgate runs.
  if [ ! -e "$(built_file "${EFF[map]}")" ]; then
    as_popgate sh -c 'touch "$1" && postmap "$2"' sh "$mpath" "${EFF[map]}"
    say "created the empty map ${EFF[map]}"
  fi
  [ "$mdir" = "$dbdir" ] || RW_DIRS+=("$mdir")
fi
for k in policy socketmap; do
  case ${EFF[$k]} in
    unix:*)
      sdir=$(dirname "${EFF[$k]#unix:}")
      # Group postfix may enter (smtpd connects after its chroot, as postfix); nobody else.
      install -d -o "$ACCOUNT" -g postfix -m 0750 "$sdir"
      chown "$ACCOUNT:postfix" "$sdir" && chmod 0750 "$sdir"
      [[ " ${RW_DIRS[*]} " == *" $sdir "* ]] || RW_DIRS+=("$sdir")
      ;;
  esac
done

# ---- 7. Postfix: exactly the references the config asks for --------------------------------------
rewire "$(wanted_refs)"
# The old map goes once Postfix no longer names it.
if [ -n "$old_map" ]; then
  if pc -n | grep -qF "${old_map#*:}" || pc -P 2>/dev/null | grep -qF "${old_map#*:}"; then
    warn "Postfix still names ${old_map#*:}: left in place; remove the reference, then the files"
  else
    rm -f "${old_map#*:}" "$(built_file "$old_map")"
    say "removed the old map ${old_map#*:} (Postfix no longer reads it)"
  fi
fi

# ---- 8. run it -----------------------------------------------------------------------------------
[ "$INIT" = supervise ] && install -D -m 0644 "$REPO/contrib/logrotate/popgate" "$LOGROTATE"
start_daemon

# ---- 9. check the whole wiring -------------------------------------------------------------------
say "popgate doctor:"
doctor_out=$("$BIN" doctor -c "$CONF" ${PFDIR:+--postfix-config "$PFDIR"} 2>&1) && doctor_rc=0 || doctor_rc=$?
sed 's/^/  /' <<<"$doctor_out"
((doctor_rc == 0)) || die "popgate doctor found errors (above)" "fix them and run $0 again" "$doctor_rc"
say "done: popgate list shows the grants; popgate parse /var/log/mail.log shows what it recognises"
