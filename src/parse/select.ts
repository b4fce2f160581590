// The parsers a config or a --parser flag names; an unknown name says which exist.
import { findParsers, PARSERS } from '../../parsers/index.js';
import { ConfigError, describe, UsageError } from '../core/errors.js';
import type { ParserSpec } from './spec.js';

/** `where` is `parsers` (the config: exit 78) or `--parser` (a flag: exit 64). */
export function selectParsers(names: readonly string[], where: string): ParserSpec[] {
  if (names.length === 0) return [...PARSERS];
  try {
    return findParsers(names);
  } catch (err) {
    const hint = `popgate parse --help lists the parsers`;
    if (where.startsWith('--')) throw new UsageError(where, describe(err), hint);
    throw new ConfigError(where, describe(err), hint);
  }
}
