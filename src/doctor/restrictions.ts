// Reading Postfix restriction lists as smtpd does: names and their table or server argument,
// separated by white space or commas, `{ … }` grouping (check_policy_service { inet:…, … }).
export interface Restriction {
  name: string;
  /** The table or server for check_* and DNSBL rules; for `{ … }` the first element. */
  arg: string | null;
  /** Extra `{ … }` attributes, e.g. default_action=DUNNO. */
  options: string[];
}

const WITH_ARG = new Set([
  'reject_rbl_client',
  'reject_rhsbl_client',
  'reject_rhsbl_reverse_client',
  'reject_rhsbl_helo',
  'reject_rhsbl_sender',
  'reject_rhsbl_recipient',
  'permit_dnswl_client',
  'permit_rhswl_client',
]);
/** Postfix refuses to run without one of these in the relay or recipient restrictions. */
export const RELAY_CHECKS = new Set(['reject_unauth_destination', 'defer_unauth_destination', 'reject', 'defer', 'defer_if_permit', 'check_relay_domains']);
/** Rules that end the list for every client, whoever they are. */
const UNCONDITIONAL = new Set(['reject', 'defer', 'permit']);

export function tokens(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (/[\s,]/.test(c)) {
      i++;
    } else if (c === '{') {
      const end = value.indexOf('}', i);
      const stop = end < 0 ? value.length : end;
      out.push(value.slice(i, stop + 1));
      i = stop + 1;
    } else {
      const m = /^[^\s,{]+/.exec(value.slice(i))!;
      out.push(m[0]);
      i += m[0].length;
    }
  }
  return out;
}

function takesArg(name: string): boolean {
  return (name.startsWith('check_') && name !== 'check_relay_domains') || WITH_ARG.has(name);
}

export function restrictions(value: string): Restriction[] {
  const t = tokens(value);
  const out: Restriction[] = [];
  for (let i = 0; i < t.length; i++) {
    const name = t[i]!.toLowerCase();
    if (!takesArg(name) || i + 1 >= t.length) {
      out.push({ name, arg: null, options: [] });
      continue;
    }
    const raw = t[++i]!;
    if (raw.startsWith('{')) {
      const parts = raw
        .slice(1, -1)
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      out.push({ name, arg: parts[0] ?? null, options: parts.slice(1) });
    } else out.push({ name, arg: raw, options: [] });
  }
  return out;
}

export function render(r: Restriction): string {
  if (r.arg === null) return r.name;
  return r.options.length ? `${r.name} { ${[r.arg, ...r.options].join(', ')} }` : `${r.name} ${r.arg}`;
}

export function firstRelayCheck(list: readonly Restriction[]): number {
  return list.findIndex((r) => RELAY_CHECKS.has(r.name));
}

/** What stands before position `at`: rules that end the list for everybody, or may reject. */
export function before(list: readonly Restriction[], at: number): { final: Restriction[]; rejecting: Restriction[] } {
  const head = list.slice(0, at);
  return {
    final: head.filter((r) => UNCONDITIONAL.has(r.name) || r.name === 'reject_unauth_destination' || r.name === 'defer_unauth_destination'),
    rejecting: head.filter((r) => !UNCONDITIONAL.has(r.name) && !RELAY_CHECKS.has(r.name) && /^(reject|defer)_/.test(r.name)),
  };
}

/** The list with `ours` moved right before its first relay check (or ending it with one). */
export function withOurs(list: readonly Restriction[], ours: Restriction, isOurs: (r: Restriction) => boolean): Restriction[] {
  const rest = list.filter((r) => !isOurs(r));
  const at = rest.findIndex((r) => RELAY_CHECKS.has(r.name) || r.name === 'permit');
  if (at < 0) return [...rest, ours, { name: 'reject_unauth_destination', arg: null, options: [] }];
  return [...rest.slice(0, at), ours, ...rest.slice(at)];
}
