// Reader mode 2 (check_client_access proxy:pgsql:) under a hung PostgreSQL: SIGSTOP with the
// proxymap's connection open, in the middle of an SMTP session. Postfix's pgsql client has no
// query timeout; the smtpd's ipc_timeout (the -o that popgate pgsql-map advises in master.cf)
// bounds the wait on proxymap, so the RCPT gets a 4xx within the bound, never 250.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { hungBoundS } from '../../src/multihost/pgsql-map.js';
import { cli, isAccepted, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';
import { type Cluster, pgSkip, startCluster } from './pg-helpers.js';
import { type Mta, startMta } from './pg-postfix.js';

const skip = pgSkip();
let pg: Cluster;
let mta: Mta;
/** The -o that the generated file's comments advise, used as it is. */
let advice = '';

/** An SMTP session up to MAIL FROM; `rcpt()` then sends RCPT and resolves with the reply and its time. */
async function openSession(src: string, port: number, timeoutMs: number): Promise<{ rcpt(): Promise<{ reply: string; ms: number }>; close(): void }> {
  const s = connect({ host: '127.0.0.1', port, localAddress: src });
  s.setTimeout(timeoutMs, () => s.destroy(new Error(`127.0.0.1:${port}: no reply within ${timeoutMs} ms`)));
  let buf = '';
  const replies: string[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  s.on('data', (d) => {
    buf += d.toString('latin1');
    for (let m = buf.match(/^(\d{3}) .*\r?\n/m); m; m = buf.match(/^(\d{3}) .*\r?\n/m)) {
      replies.push(m[0].trim());
      buf = buf.slice(m.index! + m[0].length);
    }
    wake?.();
  });
  s.on('error', (e) => ((failure = e), wake?.()));
  s.on('close', () => ((failure ??= new Error('connection closed')), wake?.()));
  const next = async () => {
    while (!replies.length) {
      if (failure) throw failure;
      await new Promise<void>((r) => (wake = r));
    }
    return replies.shift()!;
  };
  const say = (line: string) => (s.write(`${line}\r\n`), next());
  assert.match(await next(), /^220 /);
  assert.match(await say('EHLO probe.example'), /^250 /);
  assert.match(await say('MAIL FROM:<someone@example.org>'), /^250 /);
  return {
    rcpt: async () => {
      const t0 = performance.now();
      const reply = await say('RCPT TO:<user@example.net>');
      return { reply, ms: performance.now() - t0 };
    },
    close: () => s.destroy(),
  };
}

before(async () => {
  if (skip) return;
  pg = await startCluster();
  assert.equal(cli(['store', 'migrate', '--store', pg.url(), '--reader', 'popgate_reader', '--config', '/dev/null']).code, 0);
  const pw = join(pg.dir, 'reader-password');
  writeFileSync(pw, pg.readerPassword, { mode: 0o600 });
  const file = cli(['pgsql-map', '--store', pg.url('popgate_reader'), '--password-file', pw, '--config', '/dev/null']).stdout;
  advice = file.match(/^#\s+smtpd\s+inet\s.*?smtpd (-o ipc_timeout=\d+s)$/m)?.[1] ?? '';
  assert.ok(advice, `the generated file advises an ipc_timeout for master.cf:\n${file}`);
  mta = await startMta('pg-hung', file, { pgsql: advice });
});

suiteNeeding('reader mode 2 (proxy:pgsql:) with PostgreSQL hung mid-session', skip, () => {
  it('SIGSTOP after MAIL FROM: the RCPT gets 4xx within the advised bound, never 250; postfix reload relays again', async () => {
    const bound = hungBoundS(2) * 1000;
    const src = loopbackAddress();
    pg.sql(`INSERT INTO popgate_grants (ip, writer, expires_at, granted_at) VALUES ('${src}', 'test', now() + interval '10 minutes', now())`);
    // A first lookup leaves proxymap connected: the hang below is on an open connection.
    await waitFor('relay through proxy:pgsql:', async () => isAccepted(await smtpRcpt(src, mta.port.pgsql)), 5000, 50);
    const session = await openSession(src, mta.port.pgsql, bound + 10_000);
    pg.freeze();
    try {
      const { reply, ms } = await session.rcpt();
      session.close();
      process.stderr.write(`# PostgreSQL hung mid-session (${advice}) → ${reply.slice(0, 40)} after ${ms.toFixed(0)} ms (bound ${bound} ms)\n`);
      assert.match(reply, /^4\d\d /, 'a temporary refusal, never 250');
      assert.ok(ms <= bound + 3000, `within the bound: ${ms.toFixed(0)} ms`);
      // While it lasts: 4xx at once (the fresh proxymap skips the failed host).
      for (let i = 0; i < 3; i++) {
        const r = await smtpRcpt(src, mta.port.pgsql, 'user@example.net', '127.0.0.1', bound + 10_000);
        assert.match(r, /^4\d\d /, `still hung: ${r}`);
      }
    } finally {
      pg.thaw();
    }
    // Postfix skips the failed host for 60 s; postfix reload ends that.
    execFileSync('postfix', ['-c', join(mta.dir, 'etc'), 'reload'], { stdio: 'pipe', timeout: 20_000 });
    await waitFor('relay again after reload', async () => isAccepted(await smtpRcpt(src, mta.port.pgsql)), 10_000, 200);
  });
});
