// The hint for lines no parser understood: an address near a login word, failures and SMTP left out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { looksLikeLogin } from '../../src/parse/unknown.js';

describe('looksLikeLogin', () => {
  const yes: [string, string][] = [
    ['Nov 25 16:21:17 vm mypopd[1]: user carol logged in from 198.51.100.4', '198.51.100.4'],
    ['Nov 25 16:21:17 vm xpop[2]: Login OK for dave [2001:db8::7]', '2001:db8::7'],
    ['Nov 25 16:21:17 vm ximap[3]: authenticated erin, client ::ffff:192.0.2.8', '192.0.2.8'],
  ];
  for (const [line, ip] of yes) it(`finds ${ip}`, () => assert.equal(looksLikeLogin(line), ip));
  const no = [
    'Nov 25 16:21:17 vm mypopd[1]: login failed for carol from 198.51.100.4',
    'Nov 25 16:21:17 vm postfix/smtpd[1]: 4Bx: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=a',
    'Nov 25 16:21:17 vm postfix/smtpd[1]: connect from unknown[192.0.2.1]',
    'Nov 25 16:21:17 vm mypopd[1]: user carol logged in, version 1.2.3.4.5',
    'Nov 25 16:21:17 vm mypopd[1]: user carol logged in at 10:11:12',
    'Nov 25 17:01:28 imap-login: Info: Login aborted: Connection closed (no auth attempts in 0 secs): user=<>, rip=127.0.0.8, lip=127.0.0.1',
  ];
  for (const line of no) it(`ignores: ${line.slice(16, 80)}`, () => assert.equal(looksLikeLogin(line), null));
});
