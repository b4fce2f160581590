// The recent part of a `journal:` log, for doctor: the last entries journalctl gives for its
// selection, as JSON lines (the daemon's own format for it).
import { spawnSync } from 'node:child_process';
import { journalctlArgs, parseJournalSpec } from './journal-spec.js';

export function journalTail(entry: string, count: number, journalctl = 'journalctl'): { lines: string[] } | { error: string } {
  let args: string[];
  try {
    args = journalctlArgs(parseJournalSpec(entry), null, false);
  } catch (err) {
    return { error: String(err) };
  }
  const r = spawnSync(journalctl, [`--lines=${count}`, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 30_000 });
  if (r.error) return { error: `cannot run ${journalctl} (${r.error.message})` };
  if (r.status !== 0) return { error: `${journalctl} exited with status ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''}` };
  return { lines: r.stdout.split('\n').filter((l) => l.startsWith('{')) };
}
