// A private Postfix instance (postfix -c DIR) standing for one MTA host of a multi-host site:
// one smtpd on its own loopback port per reader mode, each with popgate's grant in
// smtpd_relay_restrictions. Settings copied from the rig (mynetworks = 127.0.0.1/32, discard).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { freePort } from './pg-helpers.js';

export type Mode = 'policy' | 'socketmap' | 'pgsql' | 'map';

export interface Mta {
  dir: string;
  /** smtpd port per mode. */
  port: Record<Mode, number>;
  /** Where popgate's live answerers listen (inet on loopback), and the map and pgsql files. */
  policy: number;
  socketmap: number;
  map: string;
  pgsqlCf: string;
}

const instances: string[] = [];
after(() => {
  for (const dir of instances) {
    spawnSync('postfix', ['-c', join(dir, 'etc'), 'stop']);
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `pgsqlCf`: the pgsql: table file, written before Postfix starts (its processes open it once).
 * `extra`: more `-o name=value` for one mode's smtpd (e.g. the pgsql one's ipc_timeout).
 */
export async function startMta(name: string, pgsqlCf = 'hosts = inet:127.0.0.1:1\ndbname = none\nquery = SELECT 1\n', extra: Partial<Record<Mode, string>> = {}): Promise<Mta> {
  const dir = mkdtempSync(`/tmp/popgate-${name}-`);
  chmodSync(dir, 0o755); // postfix's processes must reach the map and the pgsql file
  const port = { policy: await freePort(), socketmap: await freePort(), pgsql: await freePort(), map: await freePort() };
  const m: Mta = { dir, port, policy: await freePort(), socketmap: await freePort(), map: join(dir, 'map', 'popgate'), pgsqlCf: join(dir, 'etc', 'popgate-pgsql.cf') };
  const rr = (check: string) => `permit_mynetworks,${check},reject_unauth_destination`;
  const checks: Record<Mode, string> = {
    policy: `check_policy_service,inet:127.0.0.1:${m.policy}`,
    socketmap: `check_client_access,socketmap:inet:127.0.0.1:${m.socketmap}:popgate`,
    pgsql: `check_client_access,proxy:pgsql:${m.pgsqlCf}`,
    map: `check_client_access,hash:${m.map}`,
  };
  const services = (Object.keys(port) as Mode[]).map(
    (k) => `127.0.0.1:${port[k]}/inet=127.0.0.1:${port[k]} inet n - y - - smtpd -o smtpd_relay_restrictions=${rr(checks[k])}${extra[k] ? ` ${extra[k]}` : ''}`,
  );
  execFileSync(
    'bash',
    [
      '-euc',
      `
    B=$1; shift
    mkdir -p "$B/etc" "$B/data" "$B/spool" "$B/map"
    cp /etc/postfix/main.cf /etc/postfix/master.cf "$B/etc/"
    if [ -e /etc/postfix/dynamicmaps.cf ]; then cp /etc/postfix/dynamicmaps.cf "$B/etc/"; fi
    chown postfix "$B/data"
    postconf -c "$B/etc" -e "queue_directory = $B/spool" "data_directory = $B/data" \\
      "multi_instance_name = postfix-$(basename "$B")" "syslog_name = postfix-$(basename "$B")" \\
      "maillog_file = $B/postfix.log" "maillog_file_prefixes = $B" "inet_interfaces = 127.0.0.1" \\
      "inet_protocols = ipv4" "mynetworks = 127.0.0.1/32" "default_transport = discard:test" \\
      "relay_transport = discard:test" "smtpd_policy_service_timeout = 5s" "in_flow_delay = 0s"
    postconf -c "$B/etc" -M | awk '$2 == "inet" { print $1 "/" $2 }' | while read -r s; do postconf -c "$B/etc" -MX "$s"; done
    for s in "$@"; do postconf -c "$B/etc" -M "$s"; done
    # proxymap serves only tables it finds in proxy_read_maps; restrictions set with -o in master.cf are not.
    postconf -c "$B/etc" -e "proxy_read_maps = $(postconf -c "$B/etc" -h proxy_read_maps) proxy:pgsql:$B/etc/popgate-pgsql.cf"
    : >"$B/map/popgate"; postmap "hash:$B/map/popgate"; chmod 0644 "$B/map/popgate" "$B/map/popgate.db"
  `,
      'sh',
      dir,
      ...services,
    ],
    { stdio: 'pipe', timeout: 60_000 },
  );
  instances.push(dir);
  writePgsqlCf(m, pgsqlCf);
  execFileSync('postfix', ['-c', join(dir, 'etc'), 'start'], { stdio: 'pipe', timeout: 30_000 });
  for (const p of Object.values(port)) {
    await waitFor(`smtpd on ${p}`, () => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${p}`]).status === 0, 10_000, 100);
  }
  return m;
}

/** The pgsql: table file, readable by Postfix only (it holds a password). */
function writePgsqlCf(m: Mta, text: string): void {
  writeFileSync(m.pgsqlCf, text, { mode: 0o640 });
  execFileSync('chgrp', ['postfix', m.pgsqlCf]);
  chmodSync(m.pgsqlCf, 0o640);
}
