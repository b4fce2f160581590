// The "not a login" table (parsers/not-logins.ts): every rule is proven by a samples line it
// recognises, none ever matches a line annotated with an event (a failure pattern must not hide a
// real login; session ends are not logins), and the unknown-line detector stays quiet on the benchmark log's failures.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { LogGenerator } from '../../bench/generate.js';
import { NOT_LOGINS } from '../../parsers/not-logins.js';
import { notALogin, notALoginPrefix } from '../../src/parse/not-login.js';
import { splitPrefix } from '../../src/parse/prefix.js';
import { looksLikeLogin } from '../../src/parse/unknown.js';
import { allSamplesFiles } from '../helpers/samples.js';

const files = allSamplesFiles();
const lines = files.flatMap((f) => f.samples.map((s) => ({ where: `${f.path.replace(/.*\/parsers\//, '')}:${s.lineNo}`, ...s })));

describe('not-a-login lines', () => {
  it('every rule recognises a samples line annotated none', () => {
    const hit = new Set<string>();
    for (const s of lines) {
      if (s.expect !== null || s.text.startsWith('{')) continue;
      const rule = notALoginPrefix(splitPrefix(s.text));
      if (rule) hit.add(`${rule.server}/${rule.id}`);
    }
    const missing = NOT_LOGINS.map((r) => `${r.server}/${r.id}`).filter((id) => !hit.has(id));
    assert.deepEqual(missing, [], `rules no samples line hits: ${missing.join(', ')}`);
  });

  it('no rule matches a line that completes a login', () => {
    const wrong = lines.filter((s) => s.expect?.event === 'login' && notALogin(s.text) !== null).map((s) => `${s.where}: ${notALogin(s.text)}`);
    assert.deepEqual(wrong, []);
  });

  it('gives the reason per server', () => {
    assert.match(notALogin('Nov 25 16:22:10 mx dovecot: auth: passwd-file(alice,192.0.2.14,<SReUOhxh5Y1/AAAO>): Password mismatch')!, /^Dovecot auth process .*password check/);
    assert.match(notALogin('Nov 25 16:22:10 mx pop3d-ssl: LOGIN FAILED, user=alice, ip=[::ffff:192.0.2.7], port=[49603]')!, /^Courier: /);
    assert.match(notALogin('Nov 25 16:22:10 mx cyrus/imaps[3661]: badlogin: [192.0.2.11] plaintext (bob) [SASL(-13): authentication failure]')!, /^Cyrus: failed login/);
    assert.equal(notALogin('Nov 25 16:22:10 mx dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2'), null);
    // a failure wording under a program no table reads is not vouched for
    assert.equal(notALogin('Nov 25 16:22:10 mx mypopd[1]: LOGIN FAILED, user=alice, ip=[192.0.2.7]'), null);
  });

  it('the benchmark log: failures recognised, no line reported as an unknown login', () => {
    const gen = new LogGenerator({ seed: 42, clients: 500, format: 'rfc3164' });
    const now = Date.parse('2026-11-30T01:00:00Z');
    let mismatches = 0;
    const reported: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const text = gen.line(now - 50_000 + i);
      if (/-login: Login: /.test(text) && !text.includes('submission-login')) continue; // successes: the parser's
      if (text.includes('Password mismatch')) {
        mismatches++;
        assert.ok(notALogin(text), text);
      }
      if (looksLikeLogin(text)) reported.push(text);
    }
    assert.ok(mismatches > 100, 'the generator writes failed logins');
    assert.deepEqual(reported.slice(0, 3), []);
  });

  it('is fast on long hostile bodies (no backtracking)', () => {
    for (const body of ['auth: ' + 'a('.repeat(1000), 'LOGIN FAILED, ' + ', '.repeat(1000), 'x at y (1.2.3.4): ' + ' at '.repeat(500), 'Auth: ' + 'status="'.repeat(250)]) {
      for (const tag of ['dovecot', 'pop3d', 'qpopper', 'perdition']) {
        const t0 = performance.now();
        notALogin(`Nov 25 16:22:10 mx ${tag}: ${body}`);
        assert.ok(performance.now() - t0 < 5, `${tag}: ${body.slice(0, 30)}`);
      }
    }
  });
});
