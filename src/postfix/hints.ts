// The errors every caller of Postfix's tools gives in the same words: a missing tool, a map
// type this Postfix lacks, a failed build. One place, so doctor, the daemon and the CLI agree.
import { PublishError, UnavailableError } from '../core/errors.js';

/** postconf or postmap is not installed (or the configured command is wrong). */
export function toolMissing(command: string, setting: 'postconf_command' | 'postmap_command', cause?: unknown): UnavailableError {
  const tool = setting === 'postconf_command' ? 'postconf' : 'postmap';
  return new UnavailableError(command, `${tool} not found: is Postfix installed?`, `apt-get install postfix, or set ${setting}`, cause);
}

/** `postconf -m` does not list the map type. */
export function mapTypeHint(type: string): string {
  return type === 'lmdb' || type === 'cdb' ? `apt-get install postfix-${type}, or use hash` : 'use hash';
}

export function unsupportedMapType(where: string, type: string): UnavailableError {
  return new UnavailableError(where, `this Postfix does not support ${type} maps (postconf -m)`, mapTypeHint(type));
}

/** postmap ran and failed: the disk is the usual cause. */
export function postmapFailed(target: string, output: string, cause?: unknown): PublishError {
  const full = /No space|ENOSPC/i.test(output);
  return new PublishError(`postmap ${target}`, `failed (${output})`, full ? 'the disk is full: free space; the old map stays in use' : 'check the directory permissions and free space', cause);
}
