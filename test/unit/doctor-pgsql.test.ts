// doctor on a pgsql: table of popgate's shared grants (reader mode 2): the query on the
// database's clock, timeouts, proxymap, the file's mode, and the smtpd's ipc_timeout.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkPgsqlTables } from '../../src/doctor/pgsql-table.js';
import type { PostfixView, SmtpdService } from '../../src/doctor/postfix-view.js';
import { pgsqlMapText } from '../../src/multihost/pgsql-map.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-pgsql-doc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function view(relay: string, o: Record<string, string> = {}): PostfixView {
  const s: SmtpdService = { name: 'smtp/inet', chroot: true, overrides: new Map(Object.entries(o)) };
  const main = (n: string) => (n === 'smtpd_relay_restrictions' ? relay : n === 'ipc_timeout' ? '3600s' : '');
  return {
    configDir: null,
    version: '3.7.11',
    queueDirectory: '/var/spool/postfix',
    mapTypes: new Set(['pgsql']),
    services: [s],
    main,
    value: (sv, n) => sv.overrides.get(n) ?? main(n),
    source: (_s, n) => `main.cf: ${n}`,
  };
}

const generated = () => pgsqlMapText({ url: 'postgresql://db.example:5432/popgate', user: 'popgate_reader', password: 'secret', value: 'OK', connectTimeoutS: 2, statementTimeoutMs: 1000 });

const texts = (f: ReturnType<typeof checkPgsqlTables>) => f.map((x) => `${x.level}: ${x.what}`).join('\n');

describe('doctor: pgsql table of the shared grants', () => {
  it('the generated file through proxy:, 0640, ipc_timeout bounded: no problem', () => {
    const file = join(dir, 'good.cf');
    writeFileSync(file, generated());
    chmodSync(file, 0o640);
    const f = checkPgsqlTables(view(`permit_mynetworks check_client_access proxy:pgsql:${file} reject_unauth_destination`, { ipc_timeout: '10s' }));
    assert.deepEqual(
      f.map((x) => x.level),
      ['ok'],
      texts(f),
    );
  });

  it('an unbounded ipc_timeout, no proxy:, a world-readable file, and a query off the database clock are each said', () => {
    const file = join(dir, 'bad.cf');
    writeFileSync(
      file,
      generated()
        .replace(' AND expires_at > now()', '')
        .replace(/connect_timeout=\d+&?/g, ''),
    );
    chmodSync(file, 0o644);
    const t = texts(checkPgsqlTables(view(`check_client_access pgsql:${file} reject_unauth_destination`)));
    assert.match(t, /error: the query does not filter on expires_at > now\(\)/);
    assert.match(t, /warning: a host has no connect_timeout/);
    assert.match(t, /warning: used as pgsql: without proxy:/);
    assert.match(t, /warning: readable by every user/);
    assert.match(t, /warning: ipc_timeout is 3600s: a hung PostgreSQL holds each RCPT that long/);
  });

  it("a missing file is an error; a pgsql table that is not popgate's is left alone", () => {
    const other = join(dir, 'other.cf');
    writeFileSync(other, "hosts = db\ndbname = x\nquery = SELECT action FROM access WHERE client = '%s'\n");
    assert.deepEqual(checkPgsqlTables(view(`check_client_access proxy:pgsql:${other}`)), []);
    assert.match(texts(checkPgsqlTables(view(`check_client_access proxy:pgsql:${join(dir, 'nope.cf')}`))), /error: the pgsql table in main.cf: smtpd_relay_restrictions cannot be read/);
  });
});
