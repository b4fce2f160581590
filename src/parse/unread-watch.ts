// Never silent: lines a followed log holds that popgate reads nothing from although it should —
// a line that looks like a successful login no parser understood (a format popgate does not know),
// or a line of a known server whose timestamp it cannot read. The daemon counts them per log and
// warns at once, then at most once per period, with the count, one example and the command that
// says why (`popgate parse --explain`). doctor uses `unreadKind` on the recent part of each log.
// A hint only: nothing here ever grants.
import type { LogLine } from '../core/types.js';
import { Throttle } from '../wire/throttle.js';
import type { Verdict } from './engine.js';
import { looksLikeLogin } from './unknown.js';

export type UnreadKind = 'login' | 'stamp';

/** Pieces of login words, one cheap scan before the real test: most lines (Postfix's) hold none. */
const HINT = /og(?:in|ged|on)|uth|ser|LOGIN|USER/;

/** What a line that completed nothing should have told popgate, or null when it is not a miss. */
export function unreadKind(text: string, v: Verdict): UnreadKind | null {
  const o = v.outcome;
  if (o.kind === 'matched') return o.why.endsWith('is not a valid date') ? 'stamp' : null;
  if (o.kind !== 'none' || o.why.startsWith('not a login') || o.why.startsWith('not written by')) return null;
  if (!HINT.test(text) || looksLikeLogin(text) === null) return null;
  return o.why === 'no timestamp' ? 'stamp' : 'login';
}

const SAYS: Record<UnreadKind, [string, string]> = {
  login: ['looks like a login that no parser read', 'look like logins that no parser read'],
  stamp: ['is a login line whose timestamp popgate cannot read', 'are login lines whose timestamp popgate cannot read'],
};

export interface WarnSink {
  warn(message: string): void;
}

export class UnreadWatch {
  private readonly throttles = new Map<string, { t: Throttle; example: string | null }>();

  constructor(
    private readonly logger: WarnSink,
    private readonly periodMs = 600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Pass as `Engine.readAll`'s `each`: looks at every line's verdict (bound, so it can be handed on). */
  readonly each = (line: LogLine, v: Verdict): void => {
    if (v.events.length) return;
    const kind = unreadKind(line.text, v);
    if (kind) this.hit(line, kind);
  };

  private hit(line: LogLine, kind: UnreadKind): void {
    const key = `${kind}\n${line.origin}`;
    let entry = this.throttles.get(key);
    if (!entry) this.throttles.set(key, (entry = { t: new Throttle(this.periodMs), example: null }));
    entry.example ??= `${line.text.slice(0, 300)}${line.text.length > 300 ? '…' : ''}`;
    const n = entry.t.hit(this.now());
    if (!n) return;
    const example = entry.example;
    entry.example = null;
    const where = line.origin === '-' ? 'standard input' : line.origin;
    const what = n === 1 ? `1 line ${SAYS[kind][0]}` : `${n} lines since the last warning ${SAYS[kind][1]}`;
    this.logger.warn(
      `${where}: ${what}, so popgate grants nothing for ${n === 1 ? 'it' : 'them'} (e.g. ${JSON.stringify(example)}); popgate parse --explain ${line.origin === '-' ? 'FILE' : line.origin} says why`,
    );
  }
}

const watches = new WeakMap<object, UnreadWatch>();

/** The daemon's one watch per logger: `engine.readAll(lines, state, now, unreadWatch(logger).each)`. */
export function unreadWatch(logger: WarnSink): UnreadWatch {
  let w = watches.get(logger);
  if (!w) watches.set(logger, (w = new UnreadWatch(logger)));
  return w;
}
