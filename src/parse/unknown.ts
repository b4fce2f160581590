// Spots lines that look like a successful login but that no parser understood — an address near
// a login word — so `popgate parse` can tell a user with an unknown format at once. A hint only:
// nothing here ever grants. Known failure lines of the servers popgate reads (not-login.ts) are
// left out with the rest of the failures.
import { canonicalIp } from '../net/ip.js';
import { notALogin } from './not-login.js';

const ADDRESS = /(?<![0-9A-Za-z.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::\d{1,3}(?:\.\d{1,3}){3})?)(?![0-9A-Za-z.:])/g;
const LOGIN_WORD = /\b(?:log(?:ged)?[ -]?(?:in|on)|login|auth\w*|user)\b/i;
/** Failures, and SMTP AUTH (not a POP/IMAP login): not worth pointing out. */
const NOT_A_LOGIN = /fail|invalid|denied|refus|reject|abort|disconnect|\bbad|error|unknown user|not found|sasl|smtp/i;

/** The address of a line that looks like an unrecognised login, or null. */
export function looksLikeLogin(text: string): string | null {
  if (text.length > 2048 || !LOGIN_WORD.test(text) || NOT_A_LOGIN.test(text)) return null;
  let found: string | null = null;
  for (const m of text.matchAll(ADDRESS)) {
    found = canonicalIp(m[0].replace(/^\[|\]$/g, ''));
    if (found) break;
  }
  return found && notALogin(text) === null ? found : null;
}
