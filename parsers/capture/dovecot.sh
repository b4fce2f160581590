#!/usr/bin/env bash
# Capture what Dovecot (Debian 12: 2.3.19) really logs, in the three forms a Debian admin sees:
#   (a) Dovecot's own log_path file format          ("Nov 25 16:03:47 pop3-login: Info: Login: ...")
#   (b) syslog via rsyslog, Debian 12's default file format (RFC 3339 high-precision stamps)
#   (c) syslog via rsyslog, RSYSLOG_TraditionalFileFormat  (RFC 3164 "Nov 25 16:03:47 host dovecot: ...")
# It starts a throw-away Dovecot instance (twice: once with log_path, once with syslog), drives
# real POP3 / IMAP / submission / LMTP sessions against it with a small python3 client, then stops
# everything it started and prints the captured lines. Rerunnable; run as root on Debian 12.
#
# Safe beside test/e2e/services/setup.sh: own base_dir, own ports (1111x/1114x/115xx/110xx), all on
# loopback. The one listener that is not a plain loopback socket: to produce IPv4-mapped client
# addresses (::ffff:127.0.0.x), an AF_INET6 dual-stack socket bound to ::ffff:127.0.0.1 is handed
# to Dovecot the way systemd socket activation does (LISTEN_FDS), since Dovecot itself always
# sets IPV6_V6ONLY. It still only accepts connections to 127.0.0.1.
#
# Usage: parsers/capture/dovecot.sh [OUT_DIR]     (default /tmp/popgate-capture-dovecot; lines also on stdout)
set -euo pipefail

OUT=${1:-/tmp/popgate-capture-dovecot}
RUN=/run/popgate-capture-dovecot
P_POP3=11110 P_IMAP=11143 P_POP3_MAPPED=11111 P_IMAP_MAPPED=11144
P_SUBMISSION=11587 P_LMTP=11024 P_RELAY=11025
export DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 1; }

# --- packages ------------------------------------------------------------------------------------
need=()
for p in dovecot-core dovecot-pop3d dovecot-imapd dovecot-lmtpd dovecot-submissiond rsyslog python3 openssl iproute2; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || need+=("$p")
done
if ((${#need[@]})); then
  # Keep package scripts from starting Debian's own daemons (if the machine has no policy-rc.d).
  own=; [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own=1; }
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null || { [[ -z $own ]] || rm -f /usr/sbin/policy-rc.d; exit 1; }
  [[ -z $own ]] || rm -f /usr/sbin/policy-rc.d
fi
PY=/usr/bin/python3

WORK=$OUT/work
rm -rf "$WORK" "$RUN"
rm -f "$OUT"/{dovecot-log_path,syslog-rfc3339,syslog-rfc3164}.log "$OUT"/{log_path,syslog}.sessions
install -d -m 0755 "$OUT" "$RUN"
install -d -m 0755 "$WORK"

# --- mail user, users, maildirs ------------------------------------------------------------------
getent passwd popgate-dcap >/dev/null ||
  useradd --system --user-group --home-dir "$WORK/mail" --no-create-home --shell /usr/sbin/nologin popgate-dcap
CUID=$(id -u popgate-dcap)
install -d -m 0755 -o popgate-dcap -g popgate-dcap "$WORK/mail"
printf 'alice:{PLAIN}wonderland::::::\nbob:{PLAIN}builder::::::\n' >"$WORK/passwd"
chgrp dovecot "$WORK/passwd"; chmod 0640 "$WORK/passwd"
# throw-away self-signed certificate, for STARTTLS sessions (Login lines then say "TLS")
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=popgate-capture.localdomain \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# --- Dovecot config: $1 = logging block ----------------------------------------------------------
write_conf() {
  cat >"$WORK/dovecot.conf" <<EOF
# instance_name stays the default "dovecot": it is the syslog ident (…" dovecot: pop3-login: …")
base_dir = $RUN/dovecot
protocols = pop3 imap lmtp submission
listen = 127.0.0.1, ::1
ssl = yes
ssl_cert = <$WORK/cert.pem
ssl_key = <$WORK/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
$1
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $CUID
last_valid_uid = $CUID
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
hostname = popgate-capture.localdomain
submission_relay_host = 127.0.0.1
submission_relay_port = $P_RELAY
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $WORK/passwd
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
  # socket-activated (see top): dual-stack ::ffff:127.0.0.1
  inet_listener pop3mapped {
    address = ::
    port = $P_POP3_MAPPED
  }
}
service imap-login {
  inet_listener imap {
    port = $P_IMAP
  }
  inet_listener imaps {
    port = 0
  }
  inet_listener imapmapped {
    address = ::
    port = $P_IMAP_MAPPED
  }
}
service submission-login {
  inet_listener submission {
    port = $P_SUBMISSION
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0600
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = $P_LMTP
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
}

# --- helper programs (python3) ------------------------------------------------------------------
# launch.py: create the dual-stack sockets, pass them as fds 3,4 (LISTEN_FDS), exec dovecot -F.
cat >"$WORK/launch.py" <<EOF
import os, socket, sys
fds = []
for port in ($P_POP3_MAPPED, $P_IMAP_MAPPED):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::ffff:127.0.0.1', port)); s.listen(100); fds.append(s)
for i, s in enumerate(fds):
    os.dup2(s.fileno(), 3 + i); os.set_inheritable(3 + i, True)
os.environ.update(LISTEN_FDS=str(len(fds)), LISTEN_PID=str(os.getpid()))
os.execv('/usr/sbin/dovecot', ['dovecot', '-F', '-c', sys.argv[1]])
EOF

# sessions.py: the client sessions, each from its own loopback source address. A minimal SMTP
# responder stands in for the submission relay.
cat >"$WORK/sessions.py" <<'EOF'
import base64, socket, ssl, sys, threading, time
P = dict(pop3=int(sys.argv[1]), imap=int(sys.argv[2]), pop3m=int(sys.argv[3]), imapm=int(sys.argv[4]),
         sub=int(sys.argv[5]), lmtp=int(sys.argv[6]), relay=int(sys.argv[7]))
b64 = lambda s: base64.b64encode(s.encode()).decode()

def relay():  # fake SMTP relay for submission
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', P['relay'])); srv.listen(5)
    def handle(c):
        f = c.makefile('rb'); c.sendall(b'220 relay ESMTP\r\n')
        for l in f:
            v = l.strip().upper()
            if v.startswith(b'EHLO'): c.sendall(b'250-relay\r\n250 8BITMIME\r\n')
            elif v == b'QUIT': c.sendall(b'221 bye\r\n'); break
            else: c.sendall(b'250 ok\r\n')
        c.close()
    while True:
        c, _ = srv.accept(); threading.Thread(target=handle, args=(c,), daemon=True).start()
threading.Thread(target=relay, daemon=True).start()

class C:
    def __init__(self, port, src, host=None):
        host = host or ('::1' if ':' in src else '127.0.0.1')
        self.s = socket.create_connection((host, port), timeout=10, source_address=(src, 0))
        self.f = self.s.makefile('rb')
    def starttls(self):
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s); self.f = self.s.makefile('rb')
    def rd(self):
        l = self.f.readline().decode(errors='replace').rstrip('\r\n'); return l
    def tx(self, t): self.s.sendall((t + '\r\n').encode())
    def close(self): self.s.close(); time.sleep(0.3)
    # POP3
    def pop(self, t, multi=False):
        self.tx(t); r = self.rd()
        if multi and r.startswith('+OK'):
            while self.rd() != '.': pass
        return r
    # IMAP: send tagged command, read up to the tagged reply
    def imap(self, t, tag='a'):
        self.tx(f'{tag} {t}')
        while True:
            l = self.rd()
            if l.startswith(tag + ' ') or l == '': return l
    # SMTP / LMTP
    def smtp(self, t=None):
        if t is not None: self.tx(t)
        while True:
            l = self.rd()
            if l[3:4] != '-': return l

def pop3(src, port=None, host=None):
    c = C(port or P['pop3'], src, host); c.rd(); return c
def imap(src, port=None, host=None):
    c = C(port or P['imap'], src, host); c.rd(); return c

def step(name, fn):
    fn(); time.sleep(0.3); print('session:', name, file=sys.stderr)

# LMTP delivery first, so POP3/IMAP have mail to RETR/DELE/SELECT.
def lmtp():
    c = C(P['lmtp'], '127.0.0.1'); c.rd(); c.smtp('LHLO capture.localdomain')
    c.smtp('MAIL FROM:<sender@example.org>'); c.smtp('RCPT TO:<alice>'); c.smtp('RCPT TO:<bob>'); c.smtp('DATA')
    c.tx('From: sender@example.org\r\nTo: alice\r\nSubject: capture\r\nMessage-ID: <capture-1@example.org>\r\n\r\nhello\r\n.')
    c.smtp(); c.smtp(); c.smtp('QUIT'); c.close()
step('lmtp delivery to alice and bob', lmtp)

# ---- POP3 ----
def f():  # USER/PASS, STAT, RETR, QUIT
    c = pop3('127.0.0.11'); c.pop('USER alice'); c.pop('PASS wonderland'); c.pop('STAT'); c.pop('RETR 1', True); c.pop('QUIT'); c.close()
step('pop3 USER/PASS ok, RETR, QUIT', f)
def f():  # AUTH PLAIN with initial response
    c = pop3('127.0.0.12'); c.pop('AUTH PLAIN ' + b64('\0bob\0builder')); c.pop('QUIT'); c.close()
step('pop3 AUTH PLAIN ok, QUIT', f)
def f():  # AUTH LOGIN, DELE, QUIT
    c = pop3('127.0.0.13'); c.pop('AUTH LOGIN'); c.pop(b64('alice')); c.pop(b64('wonderland')); c.pop('DELE 1'); c.pop('QUIT'); c.close()
step('pop3 AUTH LOGIN ok, DELE, QUIT', f)
def f():
    c = pop3('::1'); c.pop('USER alice'); c.pop('PASS wonderland'); c.pop('QUIT'); c.close()
step('pop3 from ::1 ok', f)
def f():
    c = pop3('127.0.0.17', P['pop3m']); c.pop('USER bob'); c.pop('PASS builder'); c.pop('QUIT'); c.close()
step('pop3 via dual-stack socket (mapped) ok', f)
def f():  # login then the client drops the connection
    c = pop3('127.0.0.18'); c.pop('USER bob'); c.pop('PASS builder'); c.pop('LIST', True); c.close()
step('pop3 ok then connection dropped', f)
def f():  # wrong password, then QUIT
    c = pop3('127.0.0.14'); c.pop('USER alice'); c.pop('PASS wrong'); c.pop('QUIT'); c.close()
step('pop3 wrong password, QUIT', f)
def f():  # unknown user, then drop
    c = pop3('127.0.0.15'); c.pop('USER nobody'); c.pop('PASS whatever'); c.close()
step('pop3 unknown user, dropped', f)
def f():  # wrong password then right one on the same connection
    c = pop3('127.0.0.16'); c.pop('AUTH PLAIN ' + b64('\0alice\0wrong')); c.pop('AUTH PLAIN ' + b64('\0alice\0wonderland')); c.pop('QUIT'); c.close()
step('pop3 failed then ok on one connection', f)
def f():
    c = pop3('::1'); c.pop('USER alice'); c.pop('PASS wrong'); c.close()
step('pop3 from ::1 wrong password, dropped', f)
def f():
    c = pop3('127.0.0.41'); c.pop('STLS'); c.starttls(); c.pop('USER alice'); c.pop('PASS wonderland'); c.pop('QUIT'); c.close()
step('pop3 STLS, USER/PASS ok, QUIT', f)
def f():
    c = pop3('127.0.0.19'); c.close()
step('pop3 connect and drop', f)
def f():
    c = pop3('127.0.0.19'); c.pop('QUIT'); c.close()
step('pop3 connect and QUIT', f)

# ---- IMAP ----
def f():  # LOGIN, SELECT, FETCH, LOGOUT
    c = imap('127.0.0.21'); c.imap('LOGIN alice wonderland'); c.imap('SELECT INBOX'); c.imap('FETCH 1:* (FLAGS)'); c.imap('LOGOUT'); c.close()
step('imap LOGIN ok, LOGOUT', f)
def f():  # AUTHENTICATE PLAIN with SASL-IR
    c = imap('127.0.0.22'); c.imap('AUTHENTICATE PLAIN ' + b64('\0bob\0builder')); c.imap('LIST "" "*"'); c.imap('LOGOUT'); c.close()
step('imap AUTHENTICATE PLAIN ok, LOGOUT', f)
def f():  # AUTHENTICATE LOGIN with continuations
    c = imap('127.0.0.23'); c.tx('a AUTHENTICATE LOGIN'); c.rd(); c.tx(b64('alice')); c.rd(); c.tx(b64('wonderland')); c.rd()
    c.imap('LOGOUT', 'b'); c.close()
step('imap AUTHENTICATE LOGIN ok, LOGOUT', f)
def f():
    c = imap('::1'); c.imap('LOGIN bob builder'); c.imap('LOGOUT'); c.close()
step('imap from ::1 ok', f)
def f():
    c = imap('127.0.0.27', P['imapm']); c.imap('LOGIN alice wonderland'); c.imap('LOGOUT'); c.close()
step('imap via dual-stack socket (mapped) ok', f)
def f():  # login, select, then the client drops the connection
    c = imap('127.0.0.28'); c.imap('LOGIN alice wonderland'); c.imap('SELECT INBOX'); c.close()
step('imap ok then connection dropped', f)
def f():  # login, IDLE, then drop
    c = imap('127.0.0.29'); c.imap('LOGIN bob builder'); c.imap('SELECT INBOX'); c.tx('i IDLE'); c.rd(); c.close()
step('imap ok, IDLE, dropped', f)
def f():
    c = imap('127.0.0.24'); c.imap('LOGIN alice wrong'); c.imap('LOGOUT'); c.close()
step('imap wrong password, LOGOUT', f)
def f():
    c = imap('127.0.0.25'); c.imap('LOGIN nobody whatever'); c.close()
step('imap unknown user, dropped', f)
def f():  # AUTHENTICATE cancelled by the client
    c = imap('127.0.0.26'); c.tx('a AUTHENTICATE LOGIN'); c.rd(); c.tx('*'); c.rd(); c.close()
step('imap AUTHENTICATE cancelled, dropped', f)
def f():
    c = imap('::1'); c.imap('LOGIN nobody whatever'); c.imap('LOGOUT'); c.close()
step('imap from ::1 unknown user, LOGOUT', f)
def f():
    c = imap('127.0.0.42'); c.imap('STARTTLS'); c.starttls(); c.imap('LOGIN bob builder'); c.imap('LOGOUT'); c.close()
step('imap STARTTLS, LOGIN ok, LOGOUT', f)
def f():
    c = imap('127.0.0.30'); c.close()
step('imap connect and drop', f)
def f():
    c = imap('127.0.0.30'); c.imap('LOGOUT'); c.close()
step('imap connect and LOGOUT', f)

# ---- submission (must never grant) ----
def f():
    c = C(P['sub'], '127.0.0.31'); c.smtp(); c.smtp('EHLO client.example'); c.smtp('AUTH PLAIN ' + b64('\0alice\0wonderland'))
    c.smtp('QUIT'); c.close()
step('submission AUTH PLAIN ok, QUIT', f)
def f():
    c = C(P['sub'], '127.0.0.32'); c.smtp(); c.smtp('EHLO client.example'); c.smtp('AUTH PLAIN ' + b64('\0alice\0wrong'))
    c.smtp('QUIT'); c.close()
step('submission AUTH PLAIN wrong password, QUIT', f)
time.sleep(0.5)

# Sessions still open when Dovecot stops: the shell stops the instance after "holding".
i = imap('127.0.0.43'); i.imap('LOGIN alice wonderland'); i.imap('SELECT INBOX')
p = pop3('127.0.0.44'); p.pop('USER bob'); p.pop('PASS builder')
time.sleep(0.3); print('holding', file=sys.stderr, flush=True)
# imap notices the shutdown ~10 s later ("* BYE Server shutting down."), pop3 ~30 s later.
for c in (i, p):
    c.s.settimeout(60)
    try:
        while c.rd() != '': pass
    except OSError: pass
EOF

# --- run one capture: $1 = name, $2 = logging block ----------------------------------------------
DPID=
start_dovecot() {
  write_conf "$1"
  doveconf -c "$WORK/dovecot.conf" -n >/dev/null
  rm -rf "$RUN/dovecot" "$WORK/mail"/*
  "$PY" "$WORK/launch.py" "$WORK/dovecot.conf" &
  DPID=$!
  for _ in $(seq 100); do
    ss -ltnH "sport = :$P_SUBMISSION" | grep -q . && break; sleep 0.1
  done
  # The mapped listeners must be the inherited loopback sockets, never Dovecot binding [::] itself.
  if ss -ltnH | awk '{print $4}' | grep -Eq "^(\[::\]|\*):($P_POP3_MAPPED|$P_IMAP_MAPPED)$"; then
    echo "dovecot bound [::] itself: aborting" >&2; stop_dovecot; exit 1
  fi
}
stop_dovecot() {
  [[ -n $DPID ]] || return 0
  kill "$DPID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
  wait "$DPID" 2>/dev/null || true
  DPID=
}
# Run the sessions; the last two stay logged in until Dovecot is stopped under them.
sessions() {
  "$PY" "$WORK/sessions.py" "$P_POP3" "$P_IMAP" "$P_POP3_MAPPED" "$P_IMAP_MAPPED" "$P_SUBMISSION" "$P_LMTP" "$P_RELAY" 2>"$OUT/$1.sessions" &
  local spid=$!
  for _ in $(seq 1200); do grep -q '^holding' "$OUT/$1.sessions" && break; kill -0 $spid 2>/dev/null || break; sleep 0.1; done
  stop_dovecot
  wait $spid || { echo "sessions failed:" >&2; cat "$OUT/$1.sessions" >&2; exit 1; }
}

trap 'stop_dovecot' EXIT
# (a) log_path: Dovecot's own format.
start_dovecot "log_path = $OUT/dovecot-log_path.log
info_log_path = $OUT/dovecot-log_path.log"
sessions log_path
stop_dovecot

# (b)+(c) syslog through rsyslogd run by hand (needs /dev/log: refuse if a syslog daemon owns it).
devlog_served() { "$PY" -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect("/dev/log")' 2>/dev/null; }
if devlog_served; then
  echo "/dev/log is already served by a running syslog daemon; stop it first" >&2; exit 1
fi
cat >"$WORK/rsyslog.conf" <<EOF
module(load="imuxsock")
global(workDirectory="$WORK")
# Debian 12's /etc/rsyslog.conf sets no template: omfile's default RSYSLOG_FileFormat (RFC 3339).
mail.*  action(type="omfile" file="$OUT/syslog-rfc3339.log")
mail.*  action(type="omfile" file="$OUT/syslog-rfc3164.log" template="RSYSLOG_TraditionalFileFormat")
EOF
rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslogd.pid" &
RPID=$!
trap 'kill $RPID 2>/dev/null || true; stop_dovecot' EXIT
for _ in $(seq 50); do [[ -S /dev/log ]] && break; sleep 0.1; done
start_dovecot "log_path = syslog
syslog_facility = mail"
sessions syslog
stop_dovecot
sleep 0.5
kill "$RPID"; wait "$RPID" 2>/dev/null || true
trap - EXIT
devlog_served || rm -f /dev/log   # left behind by our rsyslogd (none served it before)

# --- print --------------------------------------------------------------------------------------
echo "# $(dovecot --version) on $(. /etc/os-release; echo "$PRETTY_NAME"), captured $(date -u +%FT%TZ)"
for f in dovecot-log_path syslog-rfc3339 syslog-rfc3164; do
  echo "# --- $f ($OUT/$f.log) ---"
  cat "$OUT/$f.log"
done
