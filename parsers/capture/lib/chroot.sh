# Shared by parsers/capture/*.sh (sourced, not run): a throw-away Debian 12 chroot per server, so
# servers that conflict with the host's Dovecot (pop3-server / imap-server) can be installed and
# run without touching the host's packages or services. Everything listens on loopback only.
#
#   chroot_prepare NAME PKG...   debootstrap /var/tmp/popgate-capture/NAME (once), install PKG...
#   chroot_syslog                start rsyslogd inside it: every facility to /var/log/all.log in
#                                Debian 12's default format (RFC 3339), and to all-trad.log in
#                                RSYSLOG_TraditionalFileFormat (RFC 3164), and each line's
#                                facility.severity to facility.log
#   chroot_netns                 from now on run everything in a network namespace of its own that
#                                has only a loopback interface (for servers that bind 0.0.0.0:110)
#   in_chroot CMD...             run CMD inside it
#   chroot_stop                  end the processes started inside it (by pid) and unmount /proc
# Needs root, debootstrap, and Debian's mirror through apt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CAPTURE_BASE=${CAPTURE_BASE:-/var/tmp/popgate-capture}
CAPTURE_MIRROR=${CAPTURE_MIRROR:-http://deb.debian.org/debian}
# Debian release of the chroot; bookworm (12) unless a script needs another (dovecot24.sh: trixie).
CAPTURE_SUITE=${CAPTURE_SUITE:-bookworm}
CAPTURE_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[[ $(id -u) -eq 0 ]] || { echo "capture: run as root" >&2; exit 1; }

chroot_prepare() {
  CHROOT=$CAPTURE_BASE/$1
  shift
  if [[ ! -x $CHROOT/usr/bin/apt-get ]]; then
    command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
    local base=$CAPTURE_BASE/base
    [[ $CAPTURE_SUITE == bookworm ]] || base=$CAPTURE_BASE/base-$CAPTURE_SUITE
    mkdir -p "$CAPTURE_BASE"
    if [[ ! -x $base/usr/bin/apt-get ]]; then
      debootstrap --variant=minbase --include=rsyslog,python3,procps,openssl,ca-certificates \
        "$CAPTURE_SUITE" "$base" "$CAPTURE_MIRROR" >"$CAPTURE_BASE/debootstrap.log" 2>&1 ||
        { echo "capture: debootstrap failed, see $CAPTURE_BASE/debootstrap.log" >&2; exit 1; }
      # package scripts must not start daemons: this script starts them itself
      printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
      chmod 755 "$base/usr/sbin/policy-rc.d"
    fi
    cp -a "$base" "$CHROOT"
  fi
  mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"
  local need=() p
  for p in "$@"; do
    chroot "$CHROOT" dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || need+=("$p")
  done
  if ((${#need[@]})); then
    chroot "$CHROOT" apt-get update -q >/dev/null
    chroot "$CHROOT" apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  fi
  trap chroot_stop EXIT
}

NETNS=
in_chroot() {
  if [[ -n $NETNS ]]; then ip netns exec "$NETNS" chroot "$CHROOT" "$@"; else chroot "$CHROOT" "$@"; fi
}

# Users alice and bob (password pw-USER) with an mbox spool: the mbox servers' test accounts.
chroot_mbox_users() {
  local u
  for u in alice bob; do
    in_chroot id "$u" >/dev/null 2>&1 || in_chroot useradd -m -s /usr/sbin/nologin "$u"
    echo "$u:pw-$u" | in_chroot chpasswd
    in_chroot sh -c "touch /var/mail/$u; chown $u:mail /var/mail/$u; chmod 660 /var/mail/$u"
  done
}

chroot_netns() {
  NETNS=popgate-capture-$(basename "$CHROOT")
  ip netns del "$NETNS" 2>/dev/null || true
  ip netns add "$NETNS"
  ip netns exec "$NETNS" ip link set lo up
}

# Pids of processes whose root directory is this chroot.
chroot_pids() {
  local d root
  for d in /proc/[0-9]*; do
    root=$(readlink "$d/root" 2>/dev/null) || continue
    [[ $root == "$CHROOT" ]] && echo "${d#/proc/}"
  done
  return 0
}

chroot_syslog() {
  mkdir -p "$CHROOT/etc/rsyslog.d" "$CHROOT/var/spool/rsyslog"
  cat >"$CHROOT/etc/rsyslog.conf" <<'CONF'
module(load="imuxsock")
$WorkDirectory /var/spool/rsyslog
*.* /var/log/all.log
*.* /var/log/all-trad.log;RSYSLOG_TraditionalFileFormat
template(name="facility" type="string" string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\n")
*.* /var/log/facility.log;facility
CONF
  rm -f "$CHROOT"/var/log/all*.log "$CHROOT"/var/log/facility.log "$CHROOT/run/rsyslogd.pid"
  in_chroot rsyslogd
  local i
  for i in $(seq 50); do [[ -S $CHROOT/dev/log ]] && return 0; sleep 0.1; done
  echo "capture: rsyslogd did not create /dev/log" >&2
  exit 1
}

chroot_stop() {
  local pids i
  pids=$(chroot_pids)
  [[ -z $pids ]] || kill $pids 2>/dev/null || true
  for i in $(seq 30); do pids=$(chroot_pids); [[ -z $pids ]] && break; sleep 0.1; done
  [[ -z $pids ]] || kill -9 $pids 2>/dev/null || true
  mountpoint -q "$CHROOT/proc" && umount "$CHROOT/proc" || true
  [[ -z $NETNS ]] || ip netns del "$NETNS" 2>/dev/null || true
}

# Runs the shared client (lib/client.py) inside the chroot: client PROTO PORT SRC USER PASS [OPTS]
client() {
  cp "$CAPTURE_LIB/client.py" "$CHROOT/tmp/popgate-client.py"
  in_chroot python3 /tmp/popgate-client.py "$@" || true
}

# Waits until something listens on 127.0.0.1:PORT.
wait_port() {
  local i
  local ns=()
  [[ -z $NETNS ]] || ns=(ip netns exec "$NETNS")
  for i in $(seq 100); do
    "${ns[@]}" python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "capture: nothing listens on port $1" >&2
  return 1
}

# Lets syslog write, then copies the captured logs to OUT.
collect() {
  sleep 1
  mkdir -p "$1"
  cp "$CHROOT"/var/log/all.log "$CHROOT"/var/log/all-trad.log "$CHROOT"/var/log/facility.log "$1/"
}
