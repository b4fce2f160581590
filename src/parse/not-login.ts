// Says whether a log line is one of the known "not a login" lines of parsers/not-logins.ts
// (failures, other services, session ends) and why. A hint for people, never a grant: used by
// the unknown-line detector and, through the engine hook, by `parse --explain`.
import { NOT_LOGINS, type NotLoginRule } from '../../parsers/not-logins.js';
import type { Prefix } from './prefix.js';
import { splitPrefix } from './prefix.js';

/** Lines longer than this are not looked at (no server writes a failure that long). */
const MAX = 4096;

function tagMatches(rule: NotLoginRule, tag: string | null): boolean {
  if (tag === null) return rule.untagged === true;
  return rule.tags.includes(tag) || (rule.tagPrefixes ?? []).some((p) => tag.startsWith(p));
}

/** The rule a split line matches, or null. */
export function notALoginPrefix(prefix: Prefix): NotLoginRule | null {
  if (prefix.body.length > MAX) return null;
  for (const rule of NOT_LOGINS) if (tagMatches(rule, prefix.tag) && rule.pattern.test(prefix.body)) return rule;
  return null;
}

/** Why a raw log line is not a login (the rule's reason, naming the server), or null when it is none of the known ones. */
export function notALogin(text: string): string | null {
  if (text.length > MAX || text.charCodeAt(0) === 123) return null;
  const rule = notALoginPrefix(splitPrefix(text));
  return rule ? rule.reason : null;
}
