// Optional DNS blocklist check before a grant: the client IP, reversed (IPv4 octets, IPv6
// nibbles), is looked up under each zone. Listed → no grant. A timeout or resolver failure
// gives "failed", which the configured mode turns into no grant (closed) or a grant (open).
// Answers are cached per IP; lookups of one IP in flight are shared; a hard timeout bounds each.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { describe } from '../core/errors.js';

export type DnsblVerdict = { kind: 'clean' } | { kind: 'listed'; zone: string; code: string } | { kind: 'failed'; zone: string; why: string };

export interface DnsblOptions {
  zones: readonly string[];
  /** Resolver addresses (`127.0.0.1`, `127.0.0.1:5353`, `[::1]:53`); empty: the system's. */
  servers: readonly string[];
  /** Hard bound for one check (all zones). */
  timeoutMs: number;
  /** What a failed lookup means: true grants anyway, false refuses. */
  failOpen: boolean;
  /** How long an answer (listed or not) is reused for the same IP. */
  cacheMs: number;
  maxCache?: number;
  now?: () => number;
}

/** The name to look up: `4.3.2.1.zone` or 32 reversed nibbles for IPv6. */
export function dnsblQueryName(ip: string, zone: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.${zone}`;
  const hex = ipaddr.IPv6.parse(ip)
    .toByteArray()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return `${[...hex].reverse().join('.')}.${zone}`;
}

/** Lists answer with 127.0.0.0/8; 127.255.255.0/24 is how Spamhaus says "query refused". */
function judgeAnswer(zone: string, addrs: string[]): DnsblVerdict {
  const codes = addrs.filter((a) => a.startsWith('127.') && !a.startsWith('127.255.255.'));
  if (codes.length) return { kind: 'listed', zone, code: codes.sort().join(',') };
  const refused = addrs.find((a) => a.startsWith('127.255.255.'));
  if (refused) return { kind: 'failed', zone, why: `the list refused the query (${refused}); hint: use your own resolver, not a public one, and check your quota` };
  return { kind: 'failed', zone, why: `answer ${addrs.join(',')} is not a blocklist code (127.0.0.0/8); hint: check the zone name` };
}

const NOT_LISTED = new Set(['ENOTFOUND', 'ENODATA']);

export class Dnsbl {
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, { until: number; verdict: DnsblVerdict }>();
  private readonly inFlight = new Map<string, Promise<DnsblVerdict>>();
  private readonly now: () => number;

  constructor(private readonly o: DnsblOptions) {
    // c-ares gives up by itself a little after the hard bound; the race below is the bound.
    this.resolver = new Resolver({ timeout: Math.max(100, o.timeoutMs), tries: 1 });
    if (o.servers.length) this.resolver.setServers([...o.servers]);
    this.now = o.now ?? Date.now;
  }

  /** Looks `ip` (canonical) up in every zone; the first listing (in config order) wins. */
  check(ip: string): Promise<DnsblVerdict> {
    const hit = this.cache.get(ip);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.verdict);
    let p = this.inFlight.get(ip);
    if (!p) {
      p = this.lookup(ip).finally(() => this.inFlight.delete(ip));
      this.inFlight.set(ip, p);
    }
    return p;
  }

  /** Why the verdict refuses a grant, or null when it allows one. */
  refusal(v: DnsblVerdict): string | null {
    if (v.kind === 'listed') return `listed in ${v.zone} (${v.code})`;
    if (v.kind === 'failed' && !this.o.failOpen) return `DNSBL ${v.zone} could not be checked (${v.why}); dnsbl_fail = closed`;
    return null;
  }

  private async lookup(ip: string): Promise<DnsblVerdict> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<DnsblVerdict[]>((resolve) => {
      timer = setTimeout(() => resolve(this.o.zones.map((zone) => ({ kind: 'failed', zone, why: `no answer within ${this.o.timeoutMs} ms` }))), this.o.timeoutMs);
    });
    const all = Promise.all(this.o.zones.map((zone) => this.one(ip, zone)));
    const verdicts = await Promise.race([all, bound]).finally(() => clearTimeout(timer));
    const v = verdicts.find((x) => x.kind === 'listed') ?? verdicts.find((x) => x.kind === 'failed') ?? { kind: 'clean' as const };
    if (v.kind !== 'failed') this.remember(ip, v);
    return v;
  }

  private async one(ip: string, zone: string): Promise<DnsblVerdict> {
    try {
      return judgeAnswer(zone, await this.resolver.resolve4(dnsblQueryName(ip, zone)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (NOT_LISTED.has(code)) return { kind: 'clean' };
      return { kind: 'failed', zone, why: describe(err) };
    }
  }

  private remember(ip: string, verdict: DnsblVerdict): void {
    this.cache.delete(ip);
    this.cache.set(ip, { until: this.now() + this.o.cacheMs, verdict });
    const max = this.o.maxCache ?? 10_000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
  }
}
