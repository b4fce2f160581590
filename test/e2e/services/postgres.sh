#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the multi-host tests, from Debian's `postgresql` package,
# run as the postgres user on 127.0.0.1 and a spare port. Each test file starts its own (its
# fault tests stop and freeze it) and removes it after.
#
#   postgres.sh install            install postgresql and postfix-pgsql when missing (root)
#   postgres.sh start DIR PORT     initdb DIR, start it, create the roles and the database;
#                                  prints shell assignments (PGHOST, PGPORT, PGPASSFILE, …)
#   postgres.sh down DIR           stop it (fast), keep DIR (fault tests)
#   postgres.sh up DIR             start it again on its port
#   postgres.sh stop DIR           stop it, wait, remove DIR
#
# Roles: popgate_writer (owns database popgate; writers and migrations), popgate_reader (SELECT
# only, for Postfix's pgsql: tables), both with a password from DIR/pgpass; the postgres
# superuser connects over the UNIX socket in DIR only.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { printf 'postgres.sh: ERROR: %s\n' "$*" >&2; exit 1; }

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x $d/pg_ctl ]] && { printf '%s' "$d"; return 0; }; done
  return 1
}

as_pg() { runuser -u postgres -- "$@"; }

pg_up() {
  as_pg "$2/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 20 \
    -o "-p $(cat "$1/port") -c listen_addresses=127.0.0.1 -k $1 -c fsync=off" start >/dev/null \
    || die "pg_ctl start failed; see $1/server.log"
}

case ${1:-} in
install)
  [[ $(id -u) -eq 0 ]] || die "install must run as root"
  missing=()
  for p in postgresql postfix-pgsql; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  if ((${#missing[@]})); then
    # No service start from the package: the tests run their own clusters.
    own=; [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own=1; }
    apt-get update -q >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
    [[ -z $own ]] || rm -f /usr/sbin/policy-rc.d
  fi
  postconf -m | grep -qx pgsql || die "Postfix has no pgsql table type after installing postfix-pgsql"
  ;;
start)
  dir=${2:?DIR}; port=${3:?PORT}
  bin=$(bindir) || die "no PostgreSQL server binaries under /usr/lib/postgresql; run: $0 install"
  [[ ! -e $dir/data ]] || die "$dir/data exists; stop that cluster first"
  install -d -m 0700 -o postgres -g postgres "$dir" "$dir/data"
  pass_w=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  pass_r=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null \
    || die "initdb failed"
  printf '%s\n' "$port" >"$dir/port"
  pg_up "$dir" "$bin"
  as_pg "$bin/psql" -qX -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<EOF || die "creating roles failed"
CREATE ROLE popgate_writer LOGIN PASSWORD '$pass_w';
CREATE ROLE popgate_reader LOGIN PASSWORD '$pass_r';
CREATE DATABASE popgate OWNER popgate_writer;
EOF
  # Owned by root, 0600: libpq ignores a password file others can read.
  umask 077
  printf '127.0.0.1:%s:popgate:popgate_writer:%s\n127.0.0.1:%s:popgate:popgate_reader:%s\n' \
    "$port" "$pass_w" "$port" "$pass_r" >"$dir/pgpass"
  chmod 0600 "$dir/pgpass"
  printf 'PGHOST=127.0.0.1\nPGPORT=%s\nPGDATABASE=popgate\nPGPASSFILE=%s\nPG_DATA=%s\nPG_BIN=%s\nPG_READER_PASSWORD=%s\n' \
    "$port" "$dir/pgpass" "$dir/data" "$bin" "$pass_r"
  ;;
down)
  as_pg "$(bindir)/pg_ctl" -D "${2:?DIR}/data" -m fast -w -t 20 stop >/dev/null || die "pg_ctl stop failed"
  ;;
up)
  pg_up "${2:?DIR}" "$(bindir)"
  ;;
stop)
  dir=${2:?DIR}
  bin=$(bindir) || die "no PostgreSQL server binaries"
  if [[ -e $dir/data/postmaster.pid ]]; then
    # A frozen (SIGSTOP) cluster first thaws, or it never stops.
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -CONT "$pid" $(pgrep -P "$pid" || true) 2>/dev/null || true
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  fi
  rm -rf -- "$dir"
  ;;
*)
  die "usage: $0 install | start DIR PORT | down DIR | up DIR | stop DIR"
  ;;
esac
