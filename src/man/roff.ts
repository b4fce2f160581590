// Just enough roff for popgate's man pages: text that groff prints as written, and commander's
// flag and argument syntax set in bold and italics.

/** Text for a roff line: backslashes and hyphens kept literal, no line taken for a request. */
export function text(s: string): string {
  const body = s.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(body) ? `\\&${body}` : body;
}

/** Help text as a man page sentence: a capital first letter, a full stop at the end. */
export function sentence(s: string): string {
  const t = s.trim();
  return text(t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.'));
}

/** `-p, --parser <name>` → flags bold, placeholders italic, brackets kept. */
export function flags(spec: string): string {
  return spec
    .split(/(\s+|,\s*)/)
    .map((tok) => {
      const ph = /^([<[])(.+?)([>\]])$/.exec(tok);
      if (ph) return `${ph[1] === '<' ? '' : '['}\\fI${text(ph[2]!)}\\fR${ph[1] === '<' ? '' : ']'}`;
      if (tok.startsWith('-')) return `\\fB${text(tok)}\\fR`;
      return text(tok);
    })
    .join('');
}

/** The page header; the date is left out so a build of the same source gives the same page. */
export function header(title: string, section: number, version: string, manual: string): string {
  return `.TH ${title} ${section} "" "popgate ${version}" "${manual}"\n.nh\n.ad l\n`;
}

/** A .TP entry: tag line, then the paragraph. */
export function entry(tag: string, body: string): string {
  return `.TP\n${tag}\n${body}\n`;
}
