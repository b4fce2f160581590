// What `popgate doctor` reports: one finding per check, read like Postfix diagnostics
// ("where: what is wrong; hint: the fix"), with the exact lines to add when there are some.
export type Level = 'error' | 'warning' | 'ok';

export interface Finding {
  level: Level;
  where: string;
  what: string;
  hint?: string;
  /** Exact lines to add or commands to run, printed under the finding. */
  lines?: string[];
}

export function error(where: string, what: string, hint?: string, lines?: string[]): Finding {
  return { level: 'error', where, what, hint, lines };
}

export function warning(where: string, what: string, hint?: string, lines?: string[]): Finding {
  return { level: 'warning', where, what, hint, lines };
}

export function ok(where: string, what: string): Finding {
  return { level: 'ok', where, what };
}

export function formatFinding(f: Finding): string {
  const head = `${f.level}: ${f.where}: ${f.what}${f.hint ? `; hint: ${f.hint}` : ''}`;
  return [head, ...(f.lines ?? []).map((l) => `    ${l}`)].join('\n');
}

export function summary(findings: readonly Finding[]): { errors: number; warnings: number; text: string } {
  const errors = findings.filter((f) => f.level === 'error').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  const text = errors || warnings ? `${errors} error(s), ${warnings} warning(s)` : 'no problems found';
  return { errors, warnings, text };
}
