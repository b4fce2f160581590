// winston to stderr: `level: message`. Under systemd, when stderr is the journal (JOURNAL_STREAM
// names our stderr), each line starts with its syslog priority (`<4>`), which journald takes as
// the entry's priority, so `journalctl -p warning` works; journald stamps the time itself.
import { fstatSync } from 'node:fs';
import winston from 'winston';

/** sd-daemon(3) prefixes: winston's levels as syslog priorities. */
const PRIORITY: Record<string, string> = { error: '<3>', warn: '<4>', info: '<6>', debug: '<7>' };

/**
 * True when fd 2 is the journal stream systemd set up. The variable alone is not enough: a child
 * inherits it while its stderr may go elsewhere (a pipe, a file), where `<6>` would be noise.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** One line as written: priority prefix (journal) or timestamp (elsewhere), level, component, message. */
export function formatLine(info: { level: string; message: unknown; timestamp?: unknown; component?: unknown }, journal: boolean): string {
  const where = info.component ? `${String(info.component)}: ` : '';
  const head = journal ? (PRIORITY[info.level] ?? '<6>') : `${String(info.timestamp)} `;
  return `${head}${info.level}: ${where}${String(info.message)}`;
}

export interface Problem {
  at: number;
  level: 'error' | 'warn';
  message: string;
}

/** The last errors and warnings the daemon logged, newest last (`popgate status` shows them). */
export class Problems {
  private readonly items: Problem[] = [];
  constructor(private readonly keep = 20) {}

  add(p: Problem): void {
    this.items.push(p);
    if (this.items.length > this.keep) this.items.shift();
  }

  /** The newest one whose message starts with `prefix` (a PopgateError's `where`), if any. */
  latest(prefix = ''): Problem | null {
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i]!.message.startsWith(prefix)) return this.items[i]!;
    return null;
  }
}

const problemsOf = new WeakMap<winston.Logger, Problems>();

/** What `logger` remembers of its errors and warnings (empty for a logger made elsewhere). */
export function problems(logger: winston.Logger): Problems {
  let p = problemsOf.get(logger);
  if (!p) problemsOf.set(logger, (p = new Problems()));
  return p;
}

export function createLogger(level = 'info', component?: string): winston.Logger {
  const journal = stderrIsJournal();
  const memory = new Problems();
  // Errors and warnings are few (a handful a day): remembering them costs nothing on the hot path.
  const remember = winston.format((info) => {
    if (info.level === 'error' || info.level === 'warn') memory.add({ at: Date.now(), level: info.level, message: String(info.message) });
    return info;
  });
  const logger = winston.createLogger({
    level,
    defaultMeta: component ? { component } : undefined,
    format: winston.format.combine(
      remember(),
      winston.format.timestamp(),
      winston.format.printf((info) => formatLine(info, journal)),
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
  problemsOf.set(logger, memory);
  return logger;
}
