// A Postfix lookup table popgate builds: its type and path, and the file postmap makes of it.
import { PublishError } from '../core/errors.js';

export interface MapSpec {
  type: string;
  path: string;
}

/** Map types popgate can build with postmap and swap by rename. */
export const MAP_TYPES = ['hash', 'btree', 'lmdb', 'cdb'] as const;

/** Suffix postmap gives the built file for each type. */
export function builtSuffix(type: string): string {
  switch (type) {
    case 'hash':
    case 'btree':
      return '.db';
    case 'lmdb':
      return '.lmdb';
    case 'cdb':
      return '.cdb';
    default:
      throw new PublishError(`map type ${type}`, 'popgate cannot build this map type', `use ${MAP_TYPES.join(', ')}`);
  }
}
