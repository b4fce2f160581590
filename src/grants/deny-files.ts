// Deny lists kept in files (`exclude_files`): one address or CIDR network per line, `#` comments.
// Read at start (a bad file is a configuration error) and read again when a file changes
// (chokidar). A bad line on a reload is reported and the file's previous networks stay in
// force next to the new ones until it is fixed: an edit never opens what was denied.
import { readFileSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'winston';
import { ConfigError, describe } from '../core/errors.js';
import { parseNetwork, type Network } from '../net/ip.js';

export interface DenyEntry {
  net: Network;
  /** `file:line`, for the reason a login is refused. */
  where: string;
}

export interface FileResult {
  entries: DenyEntry[];
  /** `file:line: what is wrong` for each line that is not a network. */
  errors: string[];
}

/** Reads one deny file. Throws ConfigError when it cannot be read at all. */
export function readDenyFile(path: string): FileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read the deny file (${describe(err)})`, 'create it (it may be empty) or remove it from exclude_files', err);
  }
  const out: FileResult = { entries: [], errors: [] };
  text.split('\n').forEach((raw, i) => {
    const t = raw.replace(/#.*/, '').trim();
    if (!t) return;
    const net = /\s/.test(t) ? null : parseNetwork(t);
    if (net) out.entries.push({ net, where: `${path}:${i + 1}` });
    else out.errors.push(`${path}:${i + 1}: "${t.slice(0, 60)}" is not an address or network`);
  });
  return out;
}

export class DenyFiles {
  private readonly byFile = new Map<string, DenyEntry[]>();
  private watcher: FSWatcher | null = null;
  private listening: Promise<void> = Promise.resolve();

  /** Reads every file; any unreadable file or bad line is a ConfigError. */
  constructor(readonly paths: readonly string[]) {
    for (const p of paths) {
      const r = readDenyFile(p);
      if (r.errors.length) throw new ConfigError(r.errors[0]!, 'bad line in a deny file', 'write one address or CIDR network per line, e.g. 192.0.2.0/24; # starts a comment');
      this.byFile.set(p, r.entries);
    }
  }

  /** Why `ip` (canonical) is denied by a file, or null. */
  refuse(ip: string): string | null {
    for (const entries of this.byFile.values()) {
      for (const e of entries) if (e.net.contains(ip)) return `in excluded network ${e.net.text} (${e.where})`;
    }
    return null;
  }

  /** Watches the files; `changed` runs after a file was read again and its list replaced. */
  watch(logger: Logger, changed: () => void): void {
    if (this.watcher || this.paths.length === 0) return;
    const reread = (path: string) => {
      if (!this.byFile.has(path)) return;
      const old = this.byFile.get(path)!;
      let r: FileResult;
      try {
        r = readDenyFile(path);
      } catch (err) {
        logger.error(`${describe(err)}; its previous ${old.length} network(s) stay in force`);
        return;
      }
      if (r.errors.length) {
        for (const e of r.errors) logger.error(`${e}; hint: one address or CIDR network per line`);
        const kept = old.filter((o) => !r.entries.some((n) => n.net.text === o.net.text));
        this.byFile.set(path, [...r.entries, ...kept]);
        logger.error(`${path}: ${r.entries.length} network(s) read, and the previous ${kept.length} kept until the file is fixed`);
      } else {
        this.byFile.set(path, r.entries);
        logger.info(`${path}: deny list reloaded, ${r.entries.length} network(s)`);
      }
      changed();
    };
    // awaitWriteFinish: an editor or a script writing in several steps is read once, complete.
    this.watcher = watch([...this.paths], { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 } });
    const w = this.watcher;
    this.listening = new Promise<void>((resolve) => w.once('ready', () => resolve()));
    this.watcher.on('change', reread);
    this.watcher.on('add', reread);
    this.watcher.on('unlink', (path) => logger.error(`${path}: deny file removed; its ${this.byFile.get(path)?.length ?? 0} network(s) stay in force until it is back or exclude_files changes`));
    this.watcher.on('error', (err) => logger.error(`watching deny files: ${describe(err)}`));
  }

  /** Resolves once the watcher is listening (tests). */
  ready(): Promise<void> {
    return this.listening;
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
  }
}
