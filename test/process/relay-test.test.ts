// relay-test against small fake SMTP servers on loopback: target parsing, verdicts per probe,
// never DATA, the local domain from the greeting, and clear errors for refused and slow servers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { parseTarget } from '../../src/cli/relay-test.js';
import { EXIT } from '../../src/core/errors.js';
import { probes } from '../../src/relay-test/probes.js';
import { relayTest } from '../../src/relay-test/run.js';
import type { RelayTestError } from '../../src/relay-test/smtp-client.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const servers: Server[] = [];

/** The CLI as a child process, without blocking this process (the fake servers live here). */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
after(() => servers.forEach((s) => s.close()));

interface Fake {
  port: number;
  commands: string[];
}

/** A fake SMTP server: `rcpt(address)` decides the RCPT reply; `greeting` null never greets. */
async function fake(opts: { greeting?: string | null; rcpt?: (to: string) => string }): Promise<Fake> {
  const commands: string[] = [];
  const server = createServer((s: Socket) => {
    if (opts.greeting !== null) s.write(`${opts.greeting ?? '220 mx.example.com ESMTP fake'}\r\n`);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        commands.push(line);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'EHLO') s.write('250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') s.write(line.includes('<postmaster@') ? '553 5.7.1 sender refused\r\n' : '250 2.1.0 Ok\r\n');
        else if (verb === 'RCPT') s.write(`${(opts.rcpt ?? (() => '554 5.7.1 Relay access denied'))(/<(.*)>/.exec(line)![1]!)}\r\n`);
        else if (verb === 'QUIT') s.end('221 2.0.0 Bye\r\n');
        else s.write('250 2.0.0 Ok\r\n');
      }
    });
    s.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, commands };
}

describe('relay-test', () => {
  it('parses HOST[:PORT]', () => {
    assert.deepEqual(parseTarget('mx.example.com'), { host: 'mx.example.com', port: 25 });
    assert.deepEqual(parseTarget('192.0.2.1:2525'), { host: '192.0.2.1', port: 2525 });
    assert.deepEqual(parseTarget('[2001:db8::1]:587'), { host: '2001:db8::1', port: 587 });
    assert.deepEqual(parseTarget('::1'), { host: '::1', port: 25 });
    assert.throws(() => parseTarget('host:99999'), /not HOST\[:PORT\]/);
    assert.throws(() => parseTarget('a:b:c'), /not HOST\[:PORT\]/);
  });

  it("has the classic probes, each aimed at a domain that is not the server's", () => {
    const list = probes({ local: 'mx.example.com', serverLiteral: '[192.0.2.1]' });
    assert.ok(list.length >= 20, `${list.length} probes`);
    assert.equal(new Set(list.map((p) => p.name)).size, list.length);
    for (const want of [
      'relaytest%example.net@mx.example.com',
      'relaytest@example.net@mx.example.com',
      '"relaytest@example.net"@mx.example.com',
      'example.net!relaytest',
      'example.net!relaytest@mx.example.com',
      '@mx.example.com:relaytest@example.net',
      'relaytest@[203.0.113.9]',
    ]) {
      assert.ok(
        list.some((p) => p.recipient === want),
        want,
      );
    }
    assert.ok(
      list.some((p) => p.sender === ''),
      'null sender',
    );
    assert.ok(
      list.every((p) => /example\.net|203\.0\.113\.9/i.test(p.recipient)),
      'every recipient is outside',
    );
  });

  it('a refusing server: every probe refused, local domain from the greeting, never DATA', async () => {
    const f = await fake({});
    const r = await relayTest({ host: '127.0.0.1', port: f.port, timeoutMs: 2000 });
    assert.equal(r.localDomain, 'mx.example.com');
    assert.equal(r.localDomainFrom, 'greeting');
    assert.ok(r.results.every((p) => p.verdict === 'refused' || p.verdict === 'sender refused'));
    assert.equal(r.results.find((p) => p.name === 'spoofed local postmaster')!.verdict, 'sender refused');
    assert.ok(!f.commands.some((c) => /^DATA/i.test(c)), 'no DATA');
    assert.ok(f.commands.includes('RSET'));
  });

  it('a server that takes the percent hack: only that probe is reported, and the CLI exits 1', async () => {
    const f = await fake({ rcpt: (to) => (to.includes('%') ? '250 2.1.5 Ok' : to.startsWith('RELAYTEST@') ? '450 4.7.1 try later' : '554 5.7.1 no') });
    const r = await relayTest({ host: '127.0.0.1', port: f.port, timeoutMs: 2000, localDomain: 'example.com' });
    const accepted = r.results.filter((p) => p.verdict === 'accepted');
    assert.ok(accepted.length > 0 && accepted.every((p) => p.recipient.includes('%')), accepted.map((p) => p.name).join());
    assert.equal(accepted.length, r.results.filter((p) => p.recipient.includes('%')).length);
    assert.equal(r.results.find((p) => p.name === 'upper-case recipient')!.verdict, 'deferred');
    const cli = await runCli(['relay-test', `127.0.0.1:${f.port}`, '--json']);
    assert.equal(cli.status, 1, cli.stderr);
    const out = JSON.parse(cli.stdout) as { accepted: number; probes: { verdict: string }[] };
    assert.equal(out.accepted, accepted.length);
  });

  it('a refused connection is an error (69), a silent server a timeout (75), a 554 greeting no verdict', async () => {
    const closed = await fake({});
    const port = closed.port;
    await new Promise((r) => servers.pop()!.close(r));
    await assert.rejects(relayTest({ host: '127.0.0.1', port, timeoutMs: 1000 }), (e: RelayTestError) => e.exitCode === EXIT.UNAVAILABLE && /cannot connect \(ECONNREFUSED\)/.test(e.message));
    const silent = await fake({ greeting: null });
    const t0 = Date.now();
    await assert.rejects(
      relayTest({ host: '127.0.0.1', port: silent.port, timeoutMs: 300 }),
      (e: RelayTestError) => e.exitCode === EXIT.TEMPFAIL && /no reply to the greeting within 300 ms/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 2000);
    const blocked = await fake({ greeting: '554 5.7.1 go away' });
    await assert.rejects(relayTest({ host: '127.0.0.1', port: blocked.port, timeoutMs: 1000 }), /refuses the session: 554 5\.7\.1 go away/);
    const cli = await runCli(['relay-test', `127.0.0.1:${silent.port}`, '--timeout', '300ms']);
    assert.equal(cli.status, EXIT.TEMPFAIL);
    assert.match(cli.stderr, /no reply to the greeting/);
  });
});
