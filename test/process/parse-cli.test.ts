// `popgate parse` end to end on a small file: the JSON contract (README, parse --json), a held Cyrus login
// reported at its own line (and a refused one not at all), --explain, and the summary's hints.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

const LOG = [
  'Nov 25 16:21:15 mx cyrus/pop3[9123]: login: [192.0.2.2] alice plaintext User logged in SESSIONID=<x>',
  'Nov 25 16:21:15 mx cyrus/pop3[9123]: USAGE alice user: 0.01 sys: 0.01',
  'Nov 25 16:21:16 mx cyrus/pop3[9124]: login: [192.0.2.3] alice plaintext User logged in SESSIONID=<y>',
  'Nov 25 16:21:16 mx cyrus/pop3[9124]: user.alice: Logins must be at least 1 minute apart',
  'Nov 25 16:21:17 mx pop3d: LOGIN, user=bob, ip=[::ffff:127.0.0.5], port=[4000]',
  'Nov 25 16:21:18 mx mypopd[1]: user carol logged in from 198.51.100.4',
  'Nov 25 16:21:19 mx postfix/smtpd[5]: connect from unknown[192.0.2.9]',
].join('\n');

function parse(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-parse-'));
  const file = join(dir, 'mail.log');
  writeFileSync(file, LOG + '\n');
  // An empty config file: defaults, no system config read.
  const cf = join(dir, 'popgate.cf');
  writeFileSync(cf, '');
  const r = spawnSync(process.execPath, [MAIN, 'parse', '--config', cf, '--db', join(dir, 'db.sqlite'), ...args, file], { encoding: 'utf8' });
  return { ...r, file };
}

describe('popgate parse', () => {
  it('--json: one object per event, the login at its own line, the refused one absent', () => {
    const r = parse('--json');
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      events.map((e) => [e.line, e.event, e.ip, e.server]),
      [
        [1, 'login', '192.0.2.2', 'cyrus'],
        [2, 'logout', '192.0.2.2', 'cyrus'],
        [5, 'login', '127.0.0.5', 'courier'],
      ],
    );
    const first = events[0]!;
    assert.deepEqual(Object.keys(first).sort(), ['event', 'file', 'ip', 'line', 'protocol', 'server', 'time', 'user']);
    assert.equal(first.file, r.file);
    assert.equal(first.protocol, 'pop3');
    assert.equal(events[2]!.grant, false, 'loopback is never granted');
    assert.equal(typeof events[2]!.why, 'string');
  });

  it('summary names the servers found and the login-looking lines nobody understood', () => {
    const r = parse();
    assert.match(r.stderr, /servers found: cyrus \(2\), courier \(1\)/);
    assert.match(r.stderr, /1 line\(s\) look like logins/);
    assert.match(r.stderr, /:6: .*user carol logged in from 198\.51\.100\.4/);
  });

  it('--explain says, per line, which rule matched or why none did', () => {
    const r = parse('--explain');
    assert.match(r.stderr, /:1: cyrus\/pop3-login: held/);
    assert.match(r.stderr, /:4: cyrus\/popminpoll: login of 192\.0\.2\.3 refused/);
    assert.match(r.stderr, /:6: no: program mypopd has no parser/);
  });
});
