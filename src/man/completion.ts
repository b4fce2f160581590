// The bash completion script, written from the program and the config schema: verbs, their flags,
// parser names after --parser, files where a file is asked for, config keys where a key is.
import type { Command, Option } from 'commander';
import { SCHEMA } from '../config/schema.js';
import { parserNames } from '../../parsers/index.js';

type Kind = 'files' | 'parsers' | 'keys' | 'levels' | 'verbs' | 'none';

const LEVELS = ['error', 'warn', 'info', 'debug'];

/** What a value placeholder (`<file>`, `<name>`) or argument name asks for. */
function kindOf(name: string, long?: string): Kind {
  if (long === '--parser' || /^parser/.test(name)) return 'parsers';
  if (/^(file|path|dir)s?$/.test(name)) return 'files';
  if (/^(key|setting)/.test(name)) return 'keys';
  if (name === 'level') return 'levels';
  if (name === 'command' || name === 'verb') return 'verbs';
  return 'none';
}

function reply(kind: Kind): string {
  switch (kind) {
    case 'files':
      return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur")';
    case 'none':
      return 'COMPREPLY=()';
    default:
      return `mapfile -t COMPREPLY < <(compgen -W "$_popgate_${kind}" -- "$cur")`;
  }
}

function optionNames(o: Option): string[] {
  return [o.short, o.long].filter((f): f is string => Boolean(f));
}

function valueKind(o: Option): Kind {
  const ph = /[<[]([^>\]]+)[>\]]/.exec(o.flags);
  return o.argChoices ? 'none' : kindOf(ph?.[1] ?? '', o.long);
}

function verbCase(c: Command): string {
  const valued = c.options.filter((o) => o.required || o.optional);
  const byKind = new Map<Kind, string[]>();
  for (const o of valued) byKind.set(valueKind(o), [...(byKind.get(valueKind(o)) ?? []), ...optionNames(o)]);
  const values = [...byKind].map(([k, names]) => `        ${names.join('|')}) ${reply(k)}; return ;;\n`).join('');
  const arg = c.registeredArguments[0];
  const flags = [...c.options.filter((o) => !o.hidden).flatMap(optionNames), '-h', '--help'].join(' ');
  return (
    `    ${c.name()})\n` +
    (values ? `      case $prev in\n${values}      esac\n` : '') +
    `      if [[ $cur == -* ]]; then mapfile -t COMPREPLY < <(compgen -W "${flags}" -- "$cur"); return; fi\n` +
    `      ${reply(arg ? kindOf(arg.name()) : 'none')}\n` +
    '      ;;\n'
  );
}

export function bashCompletion(program: Command): string {
  const verbs = program.commands.map((c) => c.name());
  const helpVerb = program.commands.some((c) => c.name() === 'help') ? '' : ' help';
  return `# bash completion for popgate(8): verbs, flags, parser names, config keys.
# Written by \`node dist/src/man/generate.js --completion\` from the program itself; do not edit,
# regenerate (test/unit/completion-script.test.ts fails when it is out of date).
# Install as /usr/share/bash-completion/completions/popgate.

_popgate_verbs="${verbs.join(' ')}${helpVerb}"
_popgate_parsers="${parserNames().join(' ')}"
_popgate_keys="${SCHEMA.map((k) => k.key).join(' ')}"
_popgate_levels="${LEVELS.join(' ')}"

_popgate() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} verb="" i
  COMPREPLY=()
  # The verb is the first word that is not a flag (popgate's own flags take no value).
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ \${COMP_WORDS[i]} == -* ]] || { verb=\${COMP_WORDS[i]}; break; }
  done
  case $verb in
    "")
      if [[ $cur == -* ]]; then mapfile -t COMPREPLY < <(compgen -W "${program.options.flatMap(optionNames).join(' ')} -h --help" -- "$cur"); return; fi
      ${reply('verbs')}
      ;;
${program.commands
  .filter((c) => c.name() !== 'help')
  .map(verbCase)
  .join('')}    help)
      ${reply('verbs')}
      ;;
  esac
}
complete -F _popgate popgate
`;
}
