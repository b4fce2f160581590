// A reader's in-memory copy of the shared grants, answering Postfix at memory speed. It is kept in
// step by LISTEN/NOTIFY (a hint: lost while disconnected) and a periodic full read; each entry
// holds the time left as PostgreSQL measured it, counted down on this host's monotonic clock, so
// no wall clock is compared. Fail-closed: not confirmed in step within staleMs, or an address
// whose change is being read, answers "try again later" (Postfix 4xx), never "found".
import type { MapSink } from '../publish/map-content.js';
import type pg from 'pg';
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import { FOUND, type GrantLookup, type Lookup, NOTFOUND } from '../grants/lookup.js';
import { canonicalIp } from '../net/ip.js';
import { connectPg, DEFAULT_TIMEOUTS, drop, shown, type Timeouts } from './pg-connect.js';
import { CHANNEL, requireSchema } from './pg-schema.js';

export interface SharedViewOptions {
  url: string;
  logger: Logger;
  /** Full read of every grant (catches notifications lost in a reconnect). */
  resyncMs?: number;
  /** Round trip on the listening connection that confirms nothing was missed. */
  heartbeatMs?: number;
  /** Longest time without a confirmation before every answer is "try again later". */
  staleMs?: number;
  timeouts?: Timeouts;
}

/** Active grants with their time left, and one row with a null ip while the brake is on (one snapshot). */
const READ = `SELECT ip, floor(extract(epoch FROM max(expires_at) - now()) * 1000)::float8 AS left_ms
  FROM popgate_grants WHERE expires_at > now() AND ($1::text[] IS NULL OR ip = ANY($1)) GROUP BY ip
  UNION ALL SELECT NULL, NULL FROM popgate_brake`;

const RETRY_MS = [250, 500, 1000, 2000];
const now = () => performance.now();

export class SharedView implements GrantLookup {
  /** ip → deadline on performance.now(). */
  private entries = new Map<string, number>();
  private braked = false;
  private client: pg.Client | null = null;
  private confirmedAt = -Infinity;
  private fullAt = -Infinity;
  /** Notified addresses not read yet (→ the notification's number); '*' for everything. */
  private pending = new Map<string, number>();
  private notes = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly listeners: (() => void)[] = [];
  private expiryTimer: NodeJS.Timeout | null = null;
  private wasFresh = false;
  private readonly o: Required<Omit<SharedViewOptions, 'timeouts'>> & { timeouts: Timeouts };

  constructor(options: SharedViewOptions) {
    this.o = { resyncMs: 30_000, heartbeatMs: 1000, staleMs: 3000, timeouts: { connectMs: 2000, queryMs: 2000 }, ...options };
    if (!options.timeouts) this.o.timeouts = { ...DEFAULT_TIMEOUTS, connectMs: 2000, queryMs: 2000 };
  }

  /** Starts following the store; resolves once in step, or after `waitMs` (then it keeps trying). */
  async start(waitMs = 5000): Promise<boolean> {
    this.loop ??= this.run();
    const end = now() + waitMs;
    while (!this.fresh() && now() < end && !this.stopped) await new Promise((r) => setTimeout(r, 20));
    return this.fresh();
  }

  /** Called whenever the answers may have changed (map mode rebuilds its map). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  fresh(t = now()): boolean {
    return this.client !== null && t - this.confirmedAt <= this.o.staleMs && t - this.fullAt <= 3 * this.o.resyncMs;
  }

  lookup(key: string, _now?: number): Lookup {
    const ip = canonicalIp(key);
    if (ip === null) return NOTFOUND;
    const t = now();
    if (!this.fresh(t)) return { kind: 'tempfail', why: `shared store ${shown(this.o.url)} not confirmed in step for ${Math.round(t - this.confirmedAt)} ms` };
    if (this.pending.has('*') || this.pending.has(ip)) return { kind: 'tempfail', why: 'a change to this grant is being read' };
    if (this.braked) return NOTFOUND;
    const d = this.entries.get(ip);
    return d !== undefined && d > t ? FOUND : NOTFOUND;
  }

  /**
   * Map mode's text. A map cannot say "try again later": while the store is unreachable it keeps
   * the grants it knew, each only until its own expiry.
   */
  mapText(_now: number, value: string, out: MapSink): void {
    if (this.braked) return;
    const t = now();
    const ips = [...this.entries].filter(([, d]) => d > t).map(([ip]) => ip);
    for (const ip of ips.sort()) out.append(`${ip}\t${value}\n`);
  }

  /** How long since the store last confirmed the view in step (status). */
  sinceConfirmedMs(): number {
    return now() - this.confirmedAt;
  }

  /** The store, as shown in messages. */
  get where(): string {
    return shown(this.o.url);
  }

  /** Addresses granted now (status, tests). */
  size(): number {
    const t = now();
    let n = 0;
    for (const d of this.entries.values()) if (d > t) n++;
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    drop(this.client);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let client: pg.Client | null = null;
      try {
        client = await connectPg(this.o.url, this.o.timeouts, 'reader');
        await requireSchema(client, this.o.url);
        const c = client;
        c.on('notification', (m) => this.notified(c, m.payload || '*'));
        await c.query(`LISTEN ${CHANNEL}`);
        this.pending.clear();
        this.client = c;
        await this.read(c, null);
        if (failures) this.o.logger.warn(`shared store ${shown(this.o.url)}: in step again after ${failures} failed attempt(s)`);
        failures = 0;
        this.changed();
        await this.follow(c);
      } catch (err) {
        if (this.stopped) break;
        if (failures++ % 20 === 0) this.o.logger.error(`shared store ${shown(this.o.url)}: out of step (${describe(err)}); live answers are "try again later" (4xx) until it is back`);
      } finally {
        drop(client);
        if (this.client === client) this.client = null;
      }
      this.changed();
      if (!this.stopped) await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(failures, RETRY_MS.length) - 1] ?? 250));
    }
  }

  /** Heartbeats and full reads on the listening connection until it fails. */
  private async follow(c: pg.Client): Promise<void> {
    while (!this.stopped && this.client === c) {
      await new Promise((r) => setTimeout(r, this.o.heartbeatMs));
      if (this.stopped || this.client !== c) return;
      const t = now();
      if (t - this.fullAt >= this.o.resyncMs) {
        await this.read(c, null);
        this.changed();
      } else {
        // Answered after every notification sent before it: nothing was missed up to t.
        await c.query('SELECT 1');
        this.confirmedAt = t;
      }
    }
    if (!this.stopped) throw new Error('connection dropped after a failed read');
  }

  /** Reads every grant (`ips` null) or those addresses, in one snapshot. */
  private async read(c: pg.Client, ips: string[] | null): Promise<void> {
    const t = now();
    const r = await c.query<{ ip: string | null; left_ms: number | null }>(READ, [ips]);
    const next = ips === null ? new Map<string, number>() : this.entries;
    for (const ip of ips ?? []) next.delete(ip);
    let braked = false;
    for (const row of r.rows) {
      if (row.ip === null) braked = true;
      else next.set(row.ip, t + Number(row.left_ms));
    }
    this.entries = next;
    this.braked = braked;
    if (ips === null) {
      this.fullAt = t;
      this.confirmedAt = t;
    }
    this.armExpiry();
  }

  private notified(c: pg.Client, payload: string): void {
    const n = ++this.notes;
    const ips = payload === '*' ? null : payload.split(' ').filter(Boolean);
    for (const ip of ips ?? ['*']) this.pending.set(ip, n);
    // Queued behind any query in flight on this connection, so it reads a later snapshot.
    this.read(c, ips).then(
      () => {
        for (const ip of ips ?? ['*']) if (this.pending.get(ip) === n) this.pending.delete(ip);
        this.changed();
      },
      (err) => {
        this.o.logger.error(`shared store ${shown(this.o.url)}: reading a change failed (${describe(err)}); reconnecting`);
        drop(c);
      },
    );
  }

  private changed(): void {
    const fresh = this.fresh();
    if (fresh !== this.wasFresh) this.o.logger.info(`shared store ${shown(this.o.url)}: ${fresh ? `in step, ${this.size()} address(es) granted` : 'not in step'}`);
    this.wasFresh = fresh;
    for (const fn of this.listeners) fn();
  }

  /** Map mode must drop a grant at its expiry, reachable store or not. */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const t = now();
    let next = Infinity;
    for (const d of this.entries.values()) if (d > t && d < next) next = d;
    if (next === Infinity || this.stopped) return;
    this.expiryTimer = setTimeout(
      () => {
        this.changed();
        this.armExpiry();
      },
      Math.min(2 ** 31 - 1, next - t + 1),
    );
    this.expiryTimer.unref();
  }
}
