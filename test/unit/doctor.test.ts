// doctor's reading of restriction lists and wiring, on made-up Postfix settings: every
// misplacement the issue lists gives an error with the exact line to add; good wiring none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { SCHEMA } from '../../src/config/schema.js';
import type { Finding } from '../../src/doctor/finding.js';
import { checkGrace, checkMynetworks } from '../../src/doctor/popgate-side.js';
import type { PostfixView, SmtpdService } from '../../src/doctor/postfix-view.js';
import { restrictions, tokens } from '../../src/doctor/restrictions.js';
import { targets } from '../../src/doctor/targets.js';
import { checkWiring } from '../../src/doctor/wiring.js';

const Q = '/var/spool/postfix';

function config(over: Record<string, string> = {}): Config {
  const c: Record<string, unknown> = {};
  const raw: Record<string, string> = { map: 'none', policy: `unix:${Q}/private/popgate-policy`, ...over };
  for (const k of SCHEMA) c[k.key] = k.parse(raw[k.key] ?? k.default);
  return c as unknown as Config;
}

function postfix(main: Record<string, string>, services: { name: string; chroot?: boolean; o?: Record<string, string> }[] = [{ name: 'smtp/inet' }]): PostfixView {
  const all: SmtpdService[] = services.map((s) => ({ name: s.name, chroot: s.chroot ?? true, overrides: new Map(Object.entries(s.o ?? {})) }));
  const m = (n: string) => main[n] ?? (n === 'smtpd_relay_restrictions' ? 'permit_mynetworks permit_sasl_authenticated defer_unauth_destination' : '');
  return {
    configDir: null,
    version: '3.7.11',
    queueDirectory: Q,
    mapTypes: new Set(['hash', 'socketmap']),
    services: all,
    main: m,
    value: (s, n) => s.overrides.get(n) ?? m(n),
    source: (s, n) => (s.overrides.has(n) ? `master.cf ${s.name}: -o ${n}` : `main.cf: ${n}`),
  };
}

const wiring = (pf: PostfixView, c = config()) => checkWiring(pf, targets(c, pf.queueDirectory));
const errors = (f: Finding[]) => f.filter((x) => x.level === 'error');

describe('restriction lists', () => {
  it('splits on commas and white space, keeps { } groups, pairs rules with their table', () => {
    assert.deepEqual(tokens('permit_mynetworks,check_policy_service { unix:private/p, default_action=DUNNO }  reject'), [
      'permit_mynetworks',
      'check_policy_service',
      '{ unix:private/p, default_action=DUNNO }',
      'reject',
    ]);
    assert.deepEqual(restrictions('permit_mynetworks, check_client_access hash:/etc/postfix/popgate, reject_rbl_client zen.example, check_relay_domains'), [
      { name: 'permit_mynetworks', arg: null, options: [] },
      { name: 'check_client_access', arg: 'hash:/etc/postfix/popgate', options: [] },
      { name: 'reject_rbl_client', arg: 'zen.example', options: [] },
      { name: 'check_relay_domains', arg: null, options: [] },
    ]);
  });
});

describe('doctor wiring', () => {
  it('good: the policy service in smtpd_relay_restrictions before the relay check', () => {
    const f = wiring(postfix({ smtpd_relay_restrictions: 'permit_mynetworks, permit_sasl_authenticated, check_policy_service unix:private/popgate-policy, reject_unauth_destination' }));
    assert.deepEqual(errors(f), []);
    assert.equal(f.filter((x) => x.level === 'ok').length, 1);
  });

  it('a policy timeout of more than 30 s is a warning (a hung server holds each RCPT for 2 × timeout + 1 s)', () => {
    const relay = 'permit_mynetworks, check_policy_service unix:private/popgate-policy, reject_unauth_destination';
    const w = wiring(postfix({ smtpd_relay_restrictions: relay, smtpd_policy_service_timeout: '100s' }));
    assert.ok(
      w.some((x) => x.level === 'warning' && x.where === 'main.cf: smtpd_policy_service_timeout' && /201s/.test(x.what)),
      JSON.stringify(w),
    );
    assert.ok(!wiring(postfix({ smtpd_relay_restrictions: relay, smtpd_policy_service_timeout: '5s' })).some((x) => x.level === 'warning'));
  });

  it('good: pre-2.10 style, empty relay list, the grant in the recipient list before reject_unauth_destination', () => {
    const f = wiring(postfix({ smtpd_relay_restrictions: '', smtpd_recipient_restrictions: 'permit_mynetworks, check_policy_service unix:private/popgate-policy, reject_unauth_destination' }));
    assert.deepEqual(errors(f), []);
  });

  it('only in smtpd_recipient_restrictions while the relay list holds the relay check: error and the exact line', () => {
    const f = errors(wiring(postfix({ smtpd_recipient_restrictions: 'permit_mynetworks, check_policy_service unix:private/popgate-policy, reject_unauth_destination' })));
    const e = f.find((x) => /only in smtpd_recipient_restrictions/.test(x.what));
    assert.ok(e, JSON.stringify(f));
    assert.equal(e.where, 'main.cf: smtpd_recipient_restrictions');
    assert.ok(e.lines!.includes('main.cf: smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, check_policy_service unix:private/popgate-policy, defer_unauth_destination'));
  });

  it('only in smtpd_client_restrictions: error', () => {
    const f = errors(wiring(postfix({ smtpd_client_restrictions: 'check_policy_service unix:private/popgate-policy' })));
    assert.ok(
      f.some((x) => /only in smtpd_client_restrictions/.test(x.what)),
      JSON.stringify(f),
    );
  });

  it('after reject_unauth_destination, defer_unauth_destination, reject or permit: error; after a conditional reject: warning', () => {
    for (const first of ['reject_unauth_destination', 'defer_unauth_destination', 'reject', 'permit']) {
      const f = errors(wiring(postfix({ smtpd_relay_restrictions: `permit_mynetworks ${first} check_policy_service unix:private/popgate-policy reject_unauth_destination` })));
      assert.ok(
        f.some((x) => new RegExp(`comes after ${first}`).test(x.what)),
        `${first}: ${JSON.stringify(f)}`,
      );
      assert.ok(f[0]!.lines!.some((l) => l.includes('check_policy_service unix:private/popgate-policy')));
    }
    const w = wiring(postfix({ smtpd_relay_restrictions: 'permit_mynetworks reject_unknown_client_hostname check_policy_service unix:private/popgate-policy reject_unauth_destination' }));
    assert.deepEqual(errors(w), []);
    assert.ok(w.some((x) => x.level === 'warning' && /reject_unknown_client_hostname/.test(x.what)));
  });

  it('relay list right but the recipient list also refuses relay: error with the recipient line', () => {
    const f = errors(
      wiring(
        postfix({
          smtpd_relay_restrictions: 'permit_mynetworks check_policy_service unix:private/popgate-policy reject_unauth_destination',
          smtpd_recipient_restrictions: 'permit_mynetworks reject_unauth_destination',
        }),
      ),
    );
    assert.ok(
      f.some(
        (x) =>
          /both lists must pass/.test(x.what) &&
          x.lines!.some((l) => l.includes('smtpd_recipient_restrictions = permit_mynetworks, check_policy_service unix:private/popgate-policy, reject_unauth_destination')),
      ),
      JSON.stringify(f),
    );
  });

  it('fail-open default_action, in the rule or in main.cf: error', () => {
    assert.ok(
      errors(wiring(postfix({ smtpd_relay_restrictions: 'permit_mynetworks, check_policy_service { unix:private/popgate-policy, default_action=OK }, reject_unauth_destination' }))).some((x) =>
        /relay for everybody/.test(x.what),
      ),
    );
    assert.ok(
      errors(wiring(postfix({ smtpd_relay_restrictions: 'check_policy_service unix:private/popgate-policy reject_unauth_destination', smtpd_policy_service_default_action: 'OK' }))).some((x) =>
        /relay for everybody/.test(x.what),
      ),
    );
  });

  it('chroot: an absolute socket path, or a socket outside the queue directory: error', () => {
    const abs = errors(wiring(postfix({ smtpd_relay_restrictions: `check_policy_service unix:${Q}/private/popgate-policy reject_unauth_destination` })));
    assert.ok(
      abs.some((x) => /looked up as \/var\/spool\/postfix\/var\/spool/.test(x.what)),
      JSON.stringify(abs),
    );
    const out = errors(wiring(postfix({ smtpd_relay_restrictions: 'check_policy_service unix:/run/popgate.sock reject_unauth_destination' }), config({ policy: 'unix:/run/popgate.sock' })));
    assert.ok(
      out.some((x) => /outside Postfix's chroot/.test(x.what)),
      JSON.stringify(out),
    );
    const unchrooted = errors(
      wiring(
        postfix({ smtpd_relay_restrictions: 'check_policy_service unix:/run/popgate.sock reject_unauth_destination' }, [{ name: 'smtp/inet', chroot: false }]),
        config({ policy: 'unix:/run/popgate.sock' }),
      ),
    );
    assert.deepEqual(unchrooted, []);
  });

  it('socketmap: the right table is fine, another map name is an error; master.cf overrides get -o lines', () => {
    const c = config({ policy: 'none', socketmap: `unix:${Q}/private/popgate-socketmap` });
    const good = wiring(
      postfix({}, [
        { name: '127.0.0.1:2527/inet', o: { smtpd_relay_restrictions: 'permit_mynetworks,check_client_access,socketmap:unix:private/popgate-socketmap:popgate,reject_unauth_destination' } },
      ]),
      c,
    );
    assert.deepEqual(errors(good), []);
    const bad = errors(
      wiring(
        postfix({}, [
          { name: '127.0.0.1:2527/inet', o: { smtpd_relay_restrictions: 'permit_mynetworks,reject_unauth_destination,check_client_access,socketmap:unix:private/popgate-socketmap:other' } },
        ]),
        c,
      ),
    );
    assert.ok(
      bad.some((x) => /map name is other/.test(x.what)),
      JSON.stringify(bad),
    );
    assert.ok(
      bad.some((x) =>
        x.lines?.includes(
          'master.cf 127.0.0.1:2527/inet: -o smtpd_relay_restrictions=permit_mynetworks,check_client_access,socketmap:unix:private/popgate-socketmap:popgate,reject_unauth_destination',
        ),
      ),
      JSON.stringify(bad),
    );
  });

  it('not referenced at all, or a stale popgate reference: error', () => {
    const none = errors(wiring(postfix({})));
    assert.ok(
      none.some(
        (x) =>
          /not asked by any smtpd service/.test(x.what) &&
          x.lines![0] === 'main.cf: smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, check_policy_service unix:private/popgate-policy, defer_unauth_destination',
      ),
      JSON.stringify(none),
    );
    const stale = errors(wiring(postfix({ smtpd_relay_restrictions: 'permit_mynetworks check_client_access hash:/etc/postfix/popgate reject_unauth_destination' })));
    assert.ok(stale.some((x) => /looks like popgate's/.test(x.what)));
  });
});

describe('doctor settings', () => {
  it('mynetworks: the whole Internet or a public /8 is an error; private and loopback networks are fine', () => {
    const pf = (v: string) => postfix({ mynetworks: v });
    for (const bad of ['0.0.0.0/0', '8.0.0.0/8', '[::]/0', '2001::/16']) assert.equal(errors(checkMynetworks(pf(`127.0.0.0/8 ${bad}`))).length, 1, bad);
    assert.deepEqual(checkMynetworks(pf('127.0.0.0/8 [::1]/128 10.0.0.0/8 192.168.0.0/16 172.16.0.0/12 192.0.2.0/24 [fd00::]/8')), []);
  });

  it('grace: longer than a day is an error, longer than 2 h a warning', () => {
    assert.equal(checkGrace(config({ grace: '2d' }))[0]!.level, 'error');
    assert.equal(checkGrace(config({ grace: '3h' }))[0]!.level, 'warning');
    assert.deepEqual(checkGrace(config({ grace: '30m' })), []);
  });
});
