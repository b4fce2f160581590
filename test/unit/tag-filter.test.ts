// The tag filter may only skip lines the full path finds nothing in: checked on every line of
// every samples file, on hand-made edge cases, and on generated noise (which it skips).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PARSERS } from '../../parsers/index.js';
import { Engine } from '../../src/parse/engine.js';
import { TagFilter } from '../../src/parse/tag-filter.js';
import { LogGenerator } from '../../bench/generate.js';
import { logLine } from '../helpers/lines.js';
import { allSamplesFiles } from '../helpers/samples.js';

const filter = new TagFilter(PARSERS);

function fullPathFindsNothing(line: string, now: number): boolean {
  const engine = new Engine(PARSERS);
  return engine.read(logLine(line), engine.newSource(), now, true).outcome.kind === 'none';
}

describe('tag filter', () => {
  it('never skips a samples line the engine matches, in any samples file', () => {
    for (const file of allSamplesFiles()) {
      for (const s of file.samples) {
        if (!filter.skips(s.text)) continue;
        assert.ok(s.expect === null, `${file.path}:${s.lineNo} expects an event but is skipped`);
        assert.ok(fullPathFindsNothing(s.text, file.now), `${file.path}:${s.lineNo} is skipped but matches a rule`);
      }
    }
  });

  it('skips other programs and keeps everything it cannot be sure of', () => {
    const skip = [
      'Nov 25 16:22:05 mx1 postfix/smtpd[123]: connect from unknown[203.0.113.5]',
      'Nov 25 16:22:05.123 mx1 postfix/qmgr[9]: 4F3A21C0B2: removed',
      '2026-11-25T16:22:05.123456+00:00 mx1 CRON[77]: (root) CMD (true)',
      '2026-11-25T16:22:05+00:00 mx1 dovecotx: imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1',
      'Nov 25 16:22:05 mx1 [weird',
    ];
    for (const l of skip) {
      assert.ok(filter.skips(l), l);
      assert.ok(fullPathFindsNothing(l, Date.parse('2026-11-25T18:00:00Z')), l);
    }
    const keep = [
      'Nov 25 16:22:05 mx1 dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1',
      'Nov 25 16:22:05 mx1 cyrus/pop3[5]: login: [192.0.2.9] a plaintext User logged in',
      'Nov 25 16:22:05 imap-login: Info: Login: user=<a>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1',
      'Nov 25 16:22:05 <mail.info> mx1 dovecot: imap-login: Login: user=<a>',
      '<22>Nov 25 16:22:05 mx1 postfix/smtpd[1]: connect from x',
      '{"MESSAGE":"x"}',
      '@4000000069259c2b1c2d3e4f pop3d: x',
      'Jul 14 2004 10:41:27 Login: x',
    ];
    for (const l of keep) assert.ok(!filter.skips(l), l);
  });

  it('skips the generated Postfix noise and the Dovecot lines without a keyword, nothing else', () => {
    const gen = new LogGenerator({ seed: 3, clients: 50, format: 'rfc3164' });
    const dovecot = PARSERS.find((p) => p.name === 'dovecot')!;
    const now = Date.parse('2026-11-25T16:00:00Z');
    for (let i = 0; i < 5000; i++) {
      const l = gen.line(now + i);
      const keyword = l.includes(' dovecot: ') && dovecot.needles.some((n) => l.includes(n));
      assert.equal(filter.skips(l), !keyword, l);
      if (!keyword) assert.ok(fullPathFindsNothing(l, now + i), l);
    }
  });

  it('decides a tag once and remembers it by the whole tag: the same answer as a filter that never saw another line', () => {
    // Tags that share a start or a length, in both orders, so a verdict found for the wrong tag would show.
    const tags = [
      'imap',
      'imapx',
      'imaps',
      'pop3',
      'pop3d',
      'pop3dx',
      'dovecot',
      'dovecotx',
      'dovecot2',
      'cyrus/pop3',
      'cyrus/pop3x',
      'inst/imap',
      'inst/lmtp',
      'postfix/smtp',
      'postfix/smtpd',
      'mypopd',
      'perdition.imap4',
      'cron',
    ];
    const bodies = ['login: [192.0.2.9] alice plaintext User logged in', 'imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1', 'connect from unknown'];
    const lines: string[] = [];
    for (const order of [tags, [...tags].reverse()]) for (const t of order) for (const b of bodies) lines.push(`Nov 25 16:22:05 mx1 ${t}[42]: ${b}`);
    const shared = new TagFilter(PARSERS);
    let kept = 0;
    for (const l of lines) {
      const want = new TagFilter(PARSERS).skips(l);
      assert.equal(shared.skips(l), want, l);
      if (!want) kept++;
    }
    assert.ok(kept > 0 && kept < lines.length, 'both verdicts occur');
  });
});
