// Deny files (exclude_files): reading, errors, reload on change (in place and by rename),
// a bad edit never opens what was denied, and `parse --json` reports denied logins.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DenyFiles, readDenyFile } from '../../src/grants/deny-files.js';
import { ConfigError } from '../../src/core/errors.js';
import { Exclusions } from '../../src/grants/exclusions.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'popgate-deny-'));
const open: DenyFiles[] = [];
after(async () => {
  for (const d of open) await d.close();
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('deny files', () => {
  it('reads one network per line with comments, and reports bad lines with file:line', () => {
    const p = file('a.deny', '# NAT gateways\n192.0.2.0/24   # office\n\n2001:db8::/32\n198.51.100.7\nnot-a-net\n10.0.0.0/33\n');
    const r = readDenyFile(p);
    assert.deepEqual(
      r.entries.map((e) => [e.net.text, e.where]),
      [
        ['192.0.2.0/24', `${p}:2`],
        ['2001:db8::/32', `${p}:4`],
        ['198.51.100.7', `${p}:5`],
      ],
    );
    assert.deepEqual(r.errors, [`${p}:6: "not-a-net" is not an address or network`, `${p}:7: "10.0.0.0/33" is not an address or network`]);
    assert.throws(
      () => new DenyFiles([p]),
      (e: ConfigError) => e instanceof ConfigError && e.message.startsWith(`${p}:6`),
    );
    assert.throws(
      () => new DenyFiles([join(dir, 'missing')]),
      (e: ConfigError) => e instanceof ConfigError && /cannot read the deny file/.test(e.message),
    );
  });

  it('the exclusions refuse with the file and line as the reason', () => {
    const d = new DenyFiles([file('b.deny', '203.0.113.0/24\n')]);
    const policy = new Exclusions([], [], d);
    assert.equal(policy.refuse('203.0.113.5'), `in excluded network 203.0.113.0/24 (${join(dir, 'b.deny')}:1)`);
    assert.equal(policy.refuse('198.51.100.1'), null);
  });

  it('is read again when the file changes in place or is replaced by rename', async () => {
    const p = file('c.deny', '203.0.113.0/24\n');
    const d = new DenyFiles([p]);
    open.push(d);
    const { logger, messages } = memoryLogger();
    let changes = 0;
    d.watch(logger, () => changes++);
    await d.ready();
    writeFileSync(p, '203.0.113.0/24\n198.51.100.0/24\n');
    await waitFor('in-place edit read', () => d.refuse('198.51.100.9') !== null, 5000);
    const tmp = join(dir, 'c.deny.tmp');
    writeFileSync(tmp, '198.51.100.0/24\n');
    renameSync(tmp, p);
    await waitFor('rename read', () => d.refuse('203.0.113.1') === null, 5000);
    assert.ok(d.refuse('198.51.100.9'));
    assert.ok(changes >= 2);
    assert.ok(messages.some((m) => m.includes('deny list reloaded')));
  });

  it('a bad line on reload is an error, and the previous networks stay in force', async () => {
    const p = file('d.deny', '203.0.113.0/24\n');
    const d = new DenyFiles([p]);
    open.push(d);
    const { logger, messages } = memoryLogger();
    d.watch(logger, () => {});
    await d.ready();
    writeFileSync(p, '198.51.100.0/24\n203.0.113.0/24x\n');
    await waitFor('bad reload reported', () => messages.some((m) => m.startsWith('error:') && m.includes(`${p}:2`)), 5000);
    assert.ok(d.refuse('198.51.100.1'), 'the good new line applies');
    assert.ok(d.refuse('203.0.113.1'), 'the old network stays until the file is fixed');
    writeFileSync(p, '198.51.100.0/24\n');
    await waitFor('fixed file read', () => d.refuse('203.0.113.1') === null, 5000);
  });

  it('parse --json marks a denied login "grant":false with the reason', () => {
    const deny = file('e.deny', '# webmail front end\n127.0.0.11\n');
    const cf = file('popgate.cf', `use_mynetworks = no\nexclude = ::1/128\nexclude_files = ${deny}\n`);
    const log = file(
      'mail.log',
      [
        '2026-11-25T16:23:00.057391+00:00 vm dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=127.0.0.11, lip=127.0.0.1, mpid=30884, session=<FHGPPRxhWYt/AAAL>',
        '2026-11-25T16:23:01.285152+00:00 vm dovecot: pop3-login: Login: user=<alice>, method=LOGIN, rip=127.0.0.13, lip=127.0.0.1, mpid=30912, session=<ei+iPRxhV61/AAAN>',
      ].join('\n') + '\n',
    );
    const r = spawnSync(process.execPath, [CLI, 'parse', '--json', '--config', cf, log], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ip: string; grant?: boolean; why?: string });
    assert.deepEqual(
      events.map((e) => [e.ip, e.grant, e.why]),
      [
        ['127.0.0.11', false, `in excluded network 127.0.0.11 (${deny}:2)`],
        ['127.0.0.13', undefined, undefined],
      ],
    );
  });
});
