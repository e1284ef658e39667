import { CONTAINER_VERBS, GLOBAL_VALUE_FLAGS, GROUPS, OTHER_VERBS, type VerbSpec } from './verb-table.js';

/** One flag as written, with its value when it takes one. */
export interface ParsedOption {
  /** Normalised name: `--name` or `-u` (a bundle yields one entry per letter). */
  flag: string;
  value?: string;
  /** Index of the first argv token of this option. */
  index: number;
  /** Index after its last token. */
  end: number;
}

export interface Positional {
  value: string;
  index: number;
}

export interface ParsedCommand {
  argv: readonly string[];
  globals: ParsedOption[];
  /** Where the verb words start (argv.length when there is no verb). */
  verbIndex: number;
  /** `['container', 'run']`, `['ps']`, `[]`. */
  verbPath: string[];
  /** Index after the verb words: where injected options go. */
  afterVerb: number;
  /** The verb's spec; undefined for an unknown or missing verb. */
  spec?: VerbSpec;
  /** The verb's flags. For run/create/exec these stop at the image/container. */
  options: ParsedOption[];
  positionals: Positional[];
  /** run/create: index of the image (argv.length if none). */
  optionsEnd: number;
  /** `--help` was given to the verb. */
  help: boolean;
}

/** Reads the flags of one verb in docker's (pflag's) grammar. */
function readFlag(argv: readonly string[], i: number, valueFlags: ReadonlySet<string>, into: ParsedOption[]): number {
  const tok = argv[i]!;
  if (tok.startsWith('--')) {
    const eq = tok.indexOf('=');
    const name = eq >= 0 ? tok.slice(0, eq) : tok;
    if (eq >= 0) {
      into.push({ flag: name, value: tok.slice(eq + 1), index: i, end: i + 1 });
      return i + 1;
    }
    if (valueFlags.has(name)) {
      const value = argv[i + 1];
      into.push(value === undefined ? { flag: name, index: i, end: i + 1 } : { flag: name, value, index: i, end: i + 2 });
      return Math.min(i + 2, argv.length);
    }
    into.push({ flag: name, index: i, end: i + 1 });
    return i + 1;
  }
  // A bundle of short flags: `-it`, `-itu root`, `-uroot`, `-e=X`.
  for (let c = 1; c < tok.length; c++) {
    const name = `-${tok[c]}`;
    if (valueFlags.has(name)) {
      let rest = tok.slice(c + 1);
      if (rest.length > 0) {
        if (rest.startsWith('=')) rest = rest.slice(1);
        into.push({ flag: name, value: rest, index: i, end: i + 1 });
        return i + 1;
      }
      const value = argv[i + 1];
      into.push(value === undefined ? { flag: name, index: i, end: i + 1 } : { flag: name, value, index: i, end: i + 2 });
      return Math.min(i + 2, argv.length);
    }
    into.push({ flag: name, index: i, end: i + 1 });
  }
  return i + 1;
}

const isFlag = (tok: string) => tok.length > 1 && tok.startsWith('-');

/** Which verbs stop reading flags at their first positional (docker sets interspersed=false). */
function stopsAtFirstPositional(spec: VerbSpec): boolean {
  return spec.kind === 'create' || spec.targets === 'first';
}

function lookupVerb(argv: readonly string[], at: number): { path: string[]; spec?: VerbSpec; next: number } {
  const word = argv[at];
  if (word === undefined) return { path: [], next: at };
  const group = GROUPS[word];
  if (group) {
    // The subcommand is the next word; flags between (`docker container --help`) leave it unknown.
    const sub = argv[at + 1];
    if (sub === undefined || isFlag(sub)) return { path: [word], spec: group.otherwise, next: at + 1 };
    const spec = group.verbs[sub] ?? group.otherwise;
    return { path: [word, sub], spec, next: at + 2 };
  }
  const spec = CONTAINER_VERBS[word] ?? OTHER_VERBS[word];
  return spec ? { path: [word], spec, next: at + 1 } : { path: [word], next: at + 1 };
}

const globalValueFlags = new Set(GLOBAL_VALUE_FLAGS);

/** Parses a docker command line from the verb table. Never throws. */
export function parseArgs(argv: readonly string[]): ParsedCommand {
  const globals: ParsedOption[] = [];
  let i = 0;
  while (i < argv.length && isFlag(argv[i]!) && argv[i] !== '--') i = readFlag(argv, i, globalValueFlags, globals);
  const verbIndex = i;
  const { path, spec, next } = lookupVerb(argv, i);
  const options: ParsedOption[] = [];
  const positionals: Positional[] = [];
  let optionsEnd = argv.length;
  let help = false;
  if (spec) {
    const valueFlags = new Set(spec.valueFlags);
    const stopEarly = stopsAtFirstPositional(spec);
    let j = next;
    let endOfOptions = false;
    while (j < argv.length) {
      const tok = argv[j]!;
      if (!endOfOptions && tok === '--') {
        endOfOptions = true;
        j += 1;
        continue;
      }
      if (!endOfOptions && isFlag(tok)) {
        j = readFlag(argv, j, valueFlags, options);
        continue;
      }
      positionals.push({ value: tok, index: j });
      if (stopEarly) {
        if (optionsEnd === argv.length) optionsEnd = j;
        for (let k = j + 1; k < argv.length; k++) positionals.push({ value: argv[k]!, index: k });
        break;
      }
      j += 1;
    }
    if (!stopEarly && positionals.length > 0) optionsEnd = positionals[0]!.index;
    help = options.some((o) => o.flag === '--help');
  }
  const parsed: ParsedCommand = { argv, globals, verbIndex, verbPath: path, afterVerb: next, options, positionals, optionsEnd, help };
  if (spec) parsed.spec = spec;
  return parsed;
}

/** Values of every occurrence of the given flags (e.g. `['-l', '--label']`). */
export function optionValues(options: readonly ParsedOption[], ...flags: string[]): string[] {
  return options.filter((o) => flags.includes(o.flag) && o.value !== undefined).map((o) => o.value!);
}

export function hasOption(options: readonly ParsedOption[], ...flags: string[]): boolean {
  return options.some((o) => flags.includes(o.flag));
}

/**
 * A boolean flag's value as docker reads it: present means true, `--x=false`
 * means false.
 */
export function boolOption(options: readonly ParsedOption[], flag: string): boolean {
  let on = false;
  for (const o of options) if (o.flag === flag) on = o.value === undefined || !/^(false|0)$/i.test(o.value);
  return on;
}
