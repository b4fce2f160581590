// Watches a log's directory (inotify through fs.watch): a rename, a new file or a write calls
// back at once. Null when the directory is missing; the follower's poll covers what it misses.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export function watchDirOf(path: string, changed: () => void, failed: () => void): FSWatcher | null {
  try {
    const base = basename(path);
    const w = watch(dirname(path), { persistent: false }, (_ev, file) => {
      if (!file || file === base) changed();
    });
    w.on('error', () => {
      w.close();
      failed();
    });
    return w;
  } catch {
    return null;
  }
}
