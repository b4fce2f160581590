// doctor over the recent part of each followed log (issue 12 "never silent", issue 11 item 1):
// an error for login lines no parser reads or whose stamp it cannot read, a warning for a plain
// syslog file any local user can write into, none for Dovecot's own log, the trusted rsyslog file
// or journal: (read through journalctl from a real journal file).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { SCHEMA } from '../../src/config/schema.js';
import { checkLogs } from '../../src/doctor/logs.js';
import { journalSkip, usec, writeJournal } from '../helpers/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-jdoctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(log: string): Config {
  const c: Record<string, unknown> = {};
  const raw: Record<string, string> = { map: 'none', log };
  for (const k of SCHEMA) c[k.key] = k.parse(raw[k.key] ?? k.default);
  return c as unknown as Config;
}

function file(name: string, lines: string[], mode = 0o640): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  chmodSync(p, mode);
  return p;
}

const stamp = new Date().toISOString().replace('Z', '+00:00');
const LOGIN = (ip: string) => `pop3-login: Login: user=<a>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=9, session=<bx7xiXNhIal/AAAz>`;
const levels = (fs: { level: string; what: string }[]) => fs.map((f) => `${f.level}: ${f.what.slice(0, 60)}`);

describe('doctor on followed logs', () => {
  it('errors on login lines no parser reads and on unreadable stamps', () => {
    const log = file('mail.log', [`${stamp} mx dovecot: ${LOGIN('192.0.2.5')}`, `${stamp} mx newpopd[7]: user alice logged in from 192.0.2.6`, `30/11/2026 00:32:03 ${LOGIN('192.0.2.7')}`]);
    const fs = checkLogs(config(log));
    const errors = fs.filter((f) => f.level === 'error');
    assert.equal(errors.length, 2, levels(fs).join('\n'));
    assert.match(errors[0]!.what, /^1 of its last 3 lines look like logins that no parser read: .*newpopd/);
    assert.match(errors[1]!.what, /^1 of its last 3 lines are login lines whose timestamp popgate cannot read/);
    assert.match(errors[0]!.hint ?? '', /popgate parse --explain /);
  });

  it("warns that a plain syslog file takes anyone's lines, not Dovecot's own log or the trusted file", () => {
    const syslog = file('syslog.log', [`${stamp} mx dovecot: ${LOGIN('192.0.2.5')}`]);
    assert.ok(checkLogs(config(syslog)).some((f) => f.level === 'warning' && /plain syslog file/.test(f.what)));
    const own = file('dovecot.log', [`2026-11-30 00:32:03 ${LOGIN('192.0.2.5')}`]);
    assert.deepEqual(
      checkLogs(config(own)).filter((f) => f.level !== 'ok'),
      [],
    );
    const open = file('open.log', [`2026-11-30 00:32:03 ${LOGIN('192.0.2.5')}`], 0o666);
    assert.ok(checkLogs(config(open)).some((f) => f.level === 'warning' && /writable by its group or by everyone/.test(f.what)));
    const trusted = file('mail-trusted.log', [JSON.stringify({ TIMESTAMP: stamp, SYSLOG_IDENTIFIER: 'dovecot', _PID: '870', _UID: '0', _EXE: '/usr/lib/dovecot/log', MESSAGE: LOGIN('192.0.2.5') })]);
    assert.deepEqual(
      checkLogs(config(trusted)).filter((f) => f.level !== 'ok'),
      [],
    );
  });

  it('reads journal: through journalctl', { skip: journalSkip() }, () => {
    const j = join(dir, 'mail.journal');
    writeJournal(j, [
      { __REALTIME_TIMESTAMP: usec(Date.now()), SYSLOG_IDENTIFIER: 'dovecot', _UID: '0', _EXE: '/usr/lib/dovecot/log', _SYSTEMD_UNIT: 'dovecot.service', MESSAGE: LOGIN('192.0.2.5') },
      { __REALTIME_TIMESTAMP: usec(Date.now()), SYSLOG_IDENTIFIER: 'newpopd', _UID: '0', _EXE: '/usr/sbin/newpopd', MESSAGE: 'user alice logged in from 192.0.2.6' },
    ]);
    const fs = checkLogs(config(`journal:${j}`));
    assert.deepEqual(levels(fs), ['ok: 1 of the last 2 lines recognised, 1 login/logout event(s)', 'error: 1 of its last 2 lines look like logins that no parser read: ']);
    const missing = checkLogs(config(`journal:${join(dir, 'none.journal')}`));
    assert.equal(missing[0]!.level, 'error');
  });
});
