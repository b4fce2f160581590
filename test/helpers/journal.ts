// Real journal files for tests: entries in journald's export format are turned into a journal file
// by systemd-journal-remote (package systemd-journal-remote), which journalctl then reads with
// --file. No running journald is needed. The writer fields (`_UID`, `_EXE`, …) are the entry's
// own, as journald would have recorded them from the kernel.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const BOOT = '0123456789abcdef0123456789abcdef';

/** Why journal-file tests cannot run here, or false. */
export function journalSkip(): string | false {
  if (!existsSync(JOURNAL_REMOTE)) return `needs ${JOURNAL_REMOTE} (apt-get install systemd-journal-remote)`;
  if (spawnSync('journalctl', ['--version']).status !== 0) return 'needs journalctl';
  return false;
}

export type Entry = Record<string, string>;

let monotonic = 1000;

/** Export format: FIELD=value lines, a blank line after each entry (values without newlines). */
function exportOf(entries: readonly Entry[]): string {
  return entries
    .map((e) => {
      const fields: Entry = { __MONOTONIC_TIMESTAMP: String(monotonic++), _BOOT_ID: BOOT, _HOSTNAME: 'mx', ...e };
      for (const [k, v] of Object.entries(fields)) if (v.includes('\n')) throw new Error(`${k}: no newlines in test entries`);
      return `${Object.entries(fields)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n\n`;
    })
    .join('');
}

/** Appends entries to a journal file (created when missing). */
export function writeJournal(file: string, entries: readonly Entry[]): void {
  const r = spawnSync(JOURNAL_REMOTE, [`--output=${file}`, '-'], { input: exportOf(entries), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-journal-remote failed: ${r.stderr}`);
}

/** The file's entries as `journalctl -o json` prints them, one line each. */
export function readJournal(file: string): string[] {
  const r = spawnSync('journalctl', ['--file', file, '-o', 'json', '--no-pager'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`journalctl failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{'));
}

/** Microseconds since the epoch, as journald stores __REALTIME_TIMESTAMP. */
export function usec(ms: number): string {
  return `${Math.round(ms)}000`;
}
