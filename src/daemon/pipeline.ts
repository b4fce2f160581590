// One batch of log lines on its way to Postfix: lines → events (Engine.readAll) → DNSBL verdicts
// for its logins (when configured, before the transaction) → one transaction holding every grant
// and the source's new position (Granter.apply, Store.setPosition) → what changed, returned to the
// daemon, which tells the publishers and the expiry timer.
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import type { Found, LogLine } from '../core/types.js';
import type { Dnsbl } from '../grants/dnsbl.js';
import type { Granter, Outcome, Verdicts } from '../grants/granter.js';
import type { Position, Store } from '../grants/store.js';
import type { Engine, SourceState } from '../parse/engine.js';
import { unreadWatch, type UnreadWatch } from '../parse/unread-watch.js';
import type { DaemonStats } from '../stats/counters.js';

/** The state-table key of the correlator's pending state (see Correlator.pending). */
export const PENDING_KEY = 'pending';

export interface Changes {
  /** Addresses that became granted, and addresses that stopped being granted. */
  added: string[];
  removed: string[];
  /** Every grant may have changed (the automatic brake revoked them all). */
  all: boolean;
  /** The earliest expiry among the grants the batch touched. */
  earliest: number | null;
  /** A change came from a line read live: publish now, not after the backlog. */
  live: boolean;
}

export function noChanges(): Changes {
  return { added: [], removed: [], all: false, earliest: null, live: false };
}

export function mapMoved(c: Changes): boolean {
  return c.all || c.added.length > 0 || c.removed.length > 0;
}

export class Pipeline {
  /** Told each committed batch's outcomes (status, metrics). */
  stats: Pick<DaemonStats, 'outcome'> | null = null;

  constructor(
    private readonly store: Store,
    private readonly granter: Granter,
    public engine: Engine,
    public dnsbl: Dnsbl | null,
    private readonly logger: Logger,
  ) {
    this.unread = unreadWatch(logger);
  }

  private readonly unread: UnreadWatch;

  /** One batch of one source; `position` is stored with its grants, or not at all. */
  async handle(source: string, state: SourceState, lines: readonly LogLine[], position: Position | null): Promise<Changes> {
    // Lines that look like logins no parser read are said, rate-limited: a miss is never silent.
    const found = this.engine.readAll(lines, state, Date.now(), this.unread.each);
    return this.settle(source, found, position);
  }

  /** Held logins the clock confirmed while no line came (Cyrus popminpoll). */
  async release(): Promise<Changes> {
    const found = this.engine.release(Date.now());
    if (found.length === 0) return noChanges();
    try {
      return await this.settle(null, found, null);
    } catch (err) {
      // Not stored (the store was locked): they wait again, due at once, for the next tick.
      this.engine.correlator.holdAgain(found);
      throw err;
    }
  }

  private async settle(source: string | null, found: Found[], position: Position | null): Promise<Changes> {
    if (found.length === 0 && !position) return noChanges();
    const verdicts = this.dnsbl ? await this.lookup(this.dnsbl, found) : null;
    return this.commit(source, found, position, Date.now(), verdicts);
  }

  /** DNSBL answers for the logins that may grant, bounded by dnsbl_timeout. */
  private async lookup(dnsbl: Dnsbl, found: Found[]): Promise<Verdicts> {
    const now = Date.now();
    const ips = new Set(found.filter((f) => this.granter.wantsLookup(f, now)).map((f) => f.event.ip));
    const answers = await Promise.all(
      [...ips].map(async (ip) => {
        const v = await dnsbl.check(ip);
        const refusal = dnsbl.refusal(v);
        if (v.kind === 'failed' && !refusal) this.logger.warn(`DNSBL ${v.zone} lookup for ${ip} failed (${v.why}); granted anyway (dnsbl_fail = open)`);
        return [ip, refusal] as const;
      }),
    );
    return new Map(answers);
  }

  private commit(source: string | null, found: Found[], position: Position | null, now: number, verdicts: Verdicts | null): Changes {
    const changes = noChanges();
    const outs: Outcome[] = [];
    let storedMoves = -1;
    try {
      this.store.transaction(() => {
        this.granter.batch(() => {
          for (const f of found) {
            const out = this.granter.apply(f, now, verdicts);
            if (this.stats) outs.push(out);
            note(changes, out, now, f.line.live);
          }
        });
        if (source !== null && position) this.store.setPosition(source, position, now);
        // Logins still waiting for a line (two-line servers, held logins) go with the position.
        const pending = this.engine.correlator.pending();
        if (pending) {
          this.store.setState(PENDING_KEY, JSON.stringify(pending.state));
          storedMoves = pending.moves;
        }
      });
      if (storedMoves >= 0) this.engine.correlator.stored(storedMoves);
    } catch (err) {
      this.logger.error(`${describe(err)} (the lines are read again)`);
      throw err;
    }
    this.stats?.outcome(source, found, outs, now);
    return changes;
  }
}

function note(c: Changes, out: Outcome, now: number, live: boolean): void {
  if (!('ip' in out)) return;
  const was = out.before !== null && out.before > now;
  const is = out.after !== null && out.after > now;
  if (is && (c.earliest === null || out.after! < c.earliest)) c.earliest = out.after;
  if (was === is && !out.tripped) return;
  if (out.tripped) c.all = true;
  else if (is) c.added.push(out.ip);
  else c.removed.push(out.ip);
  c.live ||= live;
}
