// `popgate relay-test HOST[:PORT]`: the classic third-party relay probes against one SMTP server,
// a table (or JSON) of what it answered, and exit 1 when any probe was accepted.
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { duration } from '../config/schema.js';
import { UsageError } from '../core/errors.js';
import { relayTest, type RelayTestReport } from '../relay-test/run.js';
import { act } from './common.js';

/** Exit code when the server accepted a probe: it relays for this client. */
export const EXIT_OPEN = 1;

export function parseTarget(text: string): { host: string; port: number } {
  let host = text;
  let port = 25;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const named = /^([^:]+):(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (named) {
    host = named[1]!;
    port = Number(named[2]);
  }
  if (!host || (host.includes(':') && isIP(host) !== 6) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`"${text}"`, 'not HOST[:PORT]', 'write it like mx.example.com, 192.0.2.25:25 or [2001:db8::25]:587');
  }
  return { host, port };
}

function table(r: RelayTestReport): string {
  const rows = r.results.map((p) => [
    p.name,
    `<${p.sender}>`,
    `<${p.recipient}>`,
    p.reply.text.length > 60 ? p.reply.text.slice(0, 57) + '...' : p.reply.text,
    p.verdict === 'accepted' ? 'ACCEPTED' : p.verdict,
  ]);
  const head = ['PROBE', 'SENDER', 'RECIPIENT', 'REPLY', 'VERDICT'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return (
    [head, ...rows]
      .map((row) =>
        row
          .map((c, i) => c.padEnd(width[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function register(program: Command): void {
  program
    .command('relay-test')
    .description('probe an SMTP server for third-party relaying (MAIL FROM + RCPT TO only, never DATA)')
    .argument('<host[:port]>', 'the server to test (port 25 by default)')
    .option('--local-domain <domain>', "the server's own domain (default: the name in its greeting)")
    .option('--source <addr>', 'local address to connect from (an address popgate granted, or not)')
    .option('--timeout <duration>', 'longest wait for the connection and for each reply', '15s')
    .option('--json', 'print the result as JSON')
    .action((target: string, opts: { localDomain?: string; source?: string; timeout: string; json?: boolean }) =>
      act(async () => {
        const { host, port } = parseTarget(target);
        let timeoutMs: number;
        try {
          timeoutMs = duration(opts.timeout);
        } catch (why) {
          throw new UsageError('--timeout', String(why));
        }
        if (opts.source !== undefined && !isIP(opts.source)) throw new UsageError('--source', `"${opts.source}" is not an IP address`, 'give an address of this host, e.g. 192.0.2.7');
        const r = await relayTest({ host, port, timeoutMs, ...(opts.source ? { source: opts.source } : {}), ...(opts.localDomain ? { localDomain: opts.localDomain } : {}) });
        const accepted = r.results.filter((p) => p.verdict === 'accepted');
        if (opts.json) {
          process.stdout.write(
            JSON.stringify(
              {
                server: r.server,
                source: r.source,
                local_domain: r.localDomain,
                local_domain_from: r.localDomainFrom,
                accepted: accepted.length,
                probes: r.results.map((p) => ({ probe: p.name, sender: p.sender, recipient: p.recipient, code: p.reply.code, reply: p.reply.text, verdict: p.verdict })),
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          process.stdout.write(
            `relay test of ${r.server} from ${r.source}; local domain ${r.localDomain}${r.localDomainFrom === 'option' ? '' : ` (from the ${r.localDomainFrom === 'greeting' ? 'greeting' : 'EHLO reply'}; set it with --local-domain)`}\n\n`,
          );
          process.stdout.write(table(r) + '\n');
          const deferred = r.results.filter((p) => p.verdict === 'deferred').length;
          if (accepted.length) {
            process.stdout.write(`OPEN RELAY for ${r.source}: ${accepted.length} of ${r.results.length} probes accepted (${accepted.map((p) => p.name).join('; ')})\n`);
          } else {
            process.stdout.write(
              `no relay for ${r.source}: all ${r.results.length} probes refused${deferred ? ` (${deferred} only temporarily, 4xx: a retry is refused the same way unless the cause changes)` : ''}\n`,
            );
          }
        }
        return accepted.length ? EXIT_OPEN : 0;
      }),
    );
}
