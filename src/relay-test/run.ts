// Runs the relay probes against one server, one SMTP session per probe (so a server's error
// limits and tarpits after failed commands never colour the next probe), and judges each reply.
import { isIP } from 'node:net';
import { OUTSIDE, probes, type Probe } from './probes.js';
import { RelayTestError, SmtpClient, type Reply, type SmtpTarget } from './smtp-client.js';

/** accepted: the server took the recipient (it would relay); the rest are refusals. */
export type Verdict = 'accepted' | 'refused' | 'deferred' | 'sender refused';

export interface ProbeResult extends Probe {
  /** The reply that decided: RCPT's, or MAIL's when the sender was refused. */
  reply: Reply;
  verdict: Verdict;
}

export interface RelayTestReport {
  server: string;
  /** The client address the server saw. */
  source: string;
  greeting: string;
  localDomain: string;
  localDomainFrom: 'option' | 'greeting' | 'ehlo';
  results: ProbeResult[];
}

export interface RelayTestOptions extends SmtpTarget {
  localDomain?: string;
}

const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

function literal(ip: string): string {
  const v = ip.replace(/^::ffff:(?=\d+\.)/, '');
  return isIP(v) === 6 ? `[IPv6:${v}]` : `[${v}]`;
}

async function hello(c: SmtpClient): Promise<Reply> {
  const name = literal(c.localAddress);
  const ehlo = await c.command(`EHLO ${name}`);
  return ehlo.code === 250 ? ehlo : c.command(`HELO ${name}`);
}

async function session(o: SmtpTarget): Promise<{ c: SmtpClient; greeting: Reply; hello: Reply }> {
  const { client, greeting } = await SmtpClient.open(o);
  const where = `${o.host}:${o.port}`;
  if (greeting.code !== 220) {
    await client.close();
    throw new RelayTestError(where, `the server refuses the session: ${greeting.text}`, 'it may block this client address; that is not a relay verdict', greeting.code < 500);
  }
  const h = await hello(client);
  if (h.code !== 250) {
    await client.close();
    throw new RelayTestError(where, `EHLO and HELO refused: ${h.text}`, 'the server does not accept this client; no relay verdict is possible', h.code < 500);
  }
  return { c: client, greeting, hello: h };
}

function judge(code: number): Verdict {
  if (code >= 200 && code < 300) return 'accepted';
  return code >= 400 && code < 500 ? 'deferred' : 'refused';
}

async function runProbe(o: SmtpTarget, probe: Probe): Promise<ProbeResult> {
  const { c } = await session(o);
  try {
    const mail = await c.command(`MAIL FROM:<${probe.sender}>`);
    if (mail.code !== 250) return { ...probe, reply: mail, verdict: 'sender refused' };
    const rcpt = await c.command(`RCPT TO:<${probe.recipient}>`);
    await c.command('RSET').catch(() => null);
    return { ...probe, reply: rcpt, verdict: judge(rcpt.code) };
  } finally {
    await c.close();
  }
}

/** The server's name from a greeting (`220 mx.example.com ESMTP`) or EHLO reply (`250-mx.example.com`). */
function nameIn(text: string): string | null {
  const w = /^\d{3}[ -](\S+)/.exec(text)?.[1];
  return w && DOMAIN.test(w) ? w.toLowerCase() : null;
}

export async function relayTest(o: RelayTestOptions): Promise<RelayTestReport> {
  const first = await session(o);
  const source = first.c.localAddress;
  const server = first.c.remoteAddress;
  await first.c.close();
  let localDomain = o.localDomain;
  let from: RelayTestReport['localDomainFrom'] = 'option';
  if (!localDomain) {
    const g = nameIn(first.greeting.text);
    const e = nameIn(first.hello.text);
    localDomain = g ?? e ?? undefined;
    from = g ? 'greeting' : 'ehlo';
  }
  if (!localDomain) {
    throw new RelayTestError(`${o.host}:${o.port}`, 'the greeting and the EHLO reply name no domain', "give the server's own domain with --local-domain", false);
  }
  if (localDomain.toLowerCase() === OUTSIDE) throw new RelayTestError('--local-domain', `${OUTSIDE} is the outside domain of the probes`, "give the server's real domain", false);
  const results: ProbeResult[] = [];
  for (const probe of probes({ local: localDomain, serverLiteral: literal(server) })) results.push(await runProbe(o, probe));
  return { server: `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`, source, greeting: first.greeting.text, localDomain, localDomainFrom: from, results };
}
