// The files behind a published map: a temporary text created exclusively (never through a link
// someone left at its name), postmap's leftovers cleaned up after a failure, the directory's
// ownership checked, and a pre-built empty map kept in reserve: when a build fails (a full disk)
// while the live map holds addresses that must go, renaming the reserve in needs no free space.
import { closeSync, constants, lstatSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../core/errors.js';

/** Refuses a map directory others may write to: they could swap files under popgate's names. */
export function checkMapDir(path: string): void {
  const dir = dirname(path);
  let st;
  try {
    st = statSync(dir);
  } catch {
    return; // a missing directory fails the first write, with its own message
  }
  const me = process.getuid?.() ?? st.uid;
  if (st.mode & 0o022 && !(st.mode & 0o1000)) {
    throw new ConfigError(
      dir,
      `the map's directory is writable by its group or by anyone (mode ${(st.mode & 0o7777).toString(8)})`,
      `chmod go-w ${dir}; whoever can write there can replace the map Postfix trusts`,
    );
  }
  if (st.uid !== me && st.uid !== 0) {
    throw new ConfigError(
      dir,
      `the map's directory belongs to uid ${st.uid}, and popgate runs as uid ${me}: that user could swap the files popgate writes there`,
      `run popgate as the directory's owner (the installer's popgate user: runuser -u popgate -- popgate …)`,
    );
  }
}

/** Writes `bytes` to a new file at `path`: an existing file or link there is removed first, and O_EXCL refuses one that reappears. */
export async function writeNew(path: string, bytes: Buffer): Promise<void> {
  await rm(path, { force: true });
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
  } finally {
    closeSync(fd);
  }
}

/** Removes a failed build's files: the text, the built file, and Berkeley DB's `__db.NAME…` temporaries. */
export async function cleanUp(tmp: string, suffix: string): Promise<void> {
  await rm(tmp, { force: true }).catch(() => {});
  await rm(tmp + suffix, { force: true }).catch(() => {});
  const dir = dirname(tmp);
  const leftover = `__db.${basename(tmp)}`;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(leftover)) await rm(join(dir, n), { force: true }).catch(() => {});
}

/** Whether the built file exists (not following a link). */
export function exists(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** Puts the reserve empty map in place of the live one; false when there is no reserve. */
export async function swapInReserve(reserve: string, live: string): Promise<boolean> {
  if (!exists(reserve)) return false;
  await rename(reserve, live);
  return true;
}

/** Addresses in `before` (a map text) that are not in `after`: what must leave the live map. */
export function removedFrom(before: string, after: string): number {
  if (before === '') return 0;
  const keep = new Set(after.split('\n').map((l) => l.split('\t')[0]));
  let n = 0;
  for (const line of before.split('\n')) if (line && !keep.has(line.split('\t')[0])) n++;
  return n;
}
