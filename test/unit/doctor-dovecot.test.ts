// doctor and the daemon's start read the running Dovecot's settings: where its logins go, and
// whether popgate can read them (the client address element, session ends, its own stamp).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { type DovecotSettings, judgeDovecot, readDovecot } from '../../src/doctor/dovecot.js';

const DEBIAN: DovecotSettings = {
  log_path: 'syslog',
  info_log_path: '',
  log_timestamp: '%b %d %H:%M:%S ',
  login_log_format_elements: 'user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>',
  login_log_format: '%$: %s',
  mail_log_prefix: '%s(%u)<%{pid}><%{session}>: ',
};
const levels = (d: Partial<DovecotSettings>, followed = ['/var/log/mail.log']) => judgeDovecot({ ...DEBIAN, ...d }, followed).map((f) => `${f.level}: ${f.what}`);

describe('Dovecot settings', () => {
  it("Debian's defaults with mail.log followed: all readable", () => {
    assert.deepEqual(
      levels({}).filter((l) => !l.startsWith('ok')),
      [],
    );
  });

  it('its own log file: followed or not, and a stamp popgate may not read', () => {
    assert.match(levels({ log_path: '/var/log/dovecot.log' }).join('\n'), /warning: writes its logins to \/var\/log\/dovecot\.log, which popgate does not follow/);
    assert.match(levels({ log_path: '/var/log/dovecot.log', info_log_path: '/var/log/dovecot-info.log' }, ['/var/log/dovecot.log']).join('\n'), /dovecot-info\.log, which popgate does not follow/);
    assert.deepEqual(
      levels({ log_path: '/var/log/dovecot.log', log_timestamp: '%Y-%m-%d %H:%M:%S ' }, ['/var/log/dovecot.log']).filter((l) => !l.startsWith('ok')),
      [],
    );
    assert.match(levels({ log_path: '/var/log/dovecot.log', log_timestamp: '%a %j %T ' }, ['/var/log/dovecot.log']).join('\n'), /log_timestamp "%a %j %T " uses %a %j %T, which popgate may not read/);
  });

  it('elements without the client address or the user are errors; session ends without an id a warning', () => {
    assert.match(levels({ login_log_format_elements: 'user=<%u> method=%m lip=%l session=<%{session}>' }).join('\n'), /error: login_log_format_elements has no rip=%r/);
    assert.match(levels({ login_log_format_elements: 'method=%m rip=%r lip=%l' }).join('\n'), /error: login_log_format_elements has no user=<%u>/);
    assert.match(levels({ login_log_format: '%$' }).join('\n'), /error: login_log_format has no %s/);
    assert.match(levels({ mail_log_prefix: '%s(%u): ' }).join('\n'), /warning: mail_log_prefix names neither/);
    assert.deepEqual(
      levels({ mail_log_prefix: '%s(%u)<%{pid}>: ' }).filter((l) => !l.startsWith('ok')),
      [],
      'ends tied by the mail pid (mpid=%e)',
    );
  });

  it("reads this host's Dovecot when it has one", { skip: spawnSync('doveconf', ['-h', 'log_path']).status === 0 ? false : 'no doveconf here' }, async () => {
    const d = await readDovecot();
    assert.ok(d);
    assert.match(d.login_log_format_elements, /rip=/);
    assert.equal(await readDovecot('/nonexistent/doveconf'), null);
  });
});
