import type { Writable } from 'node:stream';
import yargs, { type Argv } from 'yargs';
import { CursorError } from './cursor.js';
import { DEFAULT_LIMIT, runQuery } from './query.js';
import { type QueryArgs, toQueryOptions, UsageError } from './query-args.js';

/** Where the CLI writes and what it sees; the bin passes the process's own. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const EXIT_USAGE = 2;
export const EXIT_ERROR = 3;

const EXAMPLES: [string, string][] = [
  [
    '$0 --user alice --container alice-train --since "2026-01-30T02:00" --until "2026-01-30T04:00"',
    "what happened to alice's container around 3am",
  ],
  ['$0 --type gpu.reject --since today', 'who was refused a GPU today'],
  ["$0 --type 'maintenance.*_kill' --since 7d --all", 'what the idle and runtime jobs killed this week'],
  ['$0 --type gpu --detail reason=USER_AT_LIMIT --summary --since 30d', 'limit refusals by user and day'],
  ['$0 --follow --type "*.denied,gpu.reject" --json', 'stream refusals as JSON lines'],
  ['$0 --cursor-file /var/lib/ds01/report.cursor --json', 'a cron consumer: each event exactly once'],
  ["$0 log site.note message='disk swapped' slot:=3", 'log an event from a script'],
];

function queryOptions(y: Argv): Argv {
  const list = (describe: string) => ({
    type: 'string' as const,
    requiresArg: true,
    describe,
    group: 'Filters (AND; a comma list is OR):',
  });
  return y
    .option('user', list('subject user(s), e.g. alice,bob'))
    .option('type', list("event type(s), dot-aware globs: gpu, gpu.*, '*.denied', '!monitor.*'"))
    .option('container', list('container name(s) (or id prefix) in details.container'))
    .option('source', list('writing component(s), e.g. ds01-gpu'))
    .option('actor', list('who ran the writing process (user name or uid)'))
    .option('host', list('host name(s)'))
    .option('id', list('event id(s)'))
    .option('detail', {
      type: 'string',
      requiresArg: true,
      describe: 'details.KEY equals VALUE (KEY=V1,V2 for OR; repeat for AND)',
      group: 'Filters (AND; a comma list is OR):',
    })
    .option('since', {
      type: 'string',
      requiresArg: true,
      describe: 'from this time: ISO 8601, 30m, 2h, 7d, -1h, "1 hour ago", now, today, yesterday',
      group: 'Time:',
    })
    .option('until', { type: 'string', requiresArg: true, describe: 'up to this time (inclusive), same forms', group: 'Time:' })
    .option('utc', { type: 'boolean', describe: 'read zone-less times and show times in UTC (default: local zone)', group: 'Time:' })
    .option('limit', {
      type: 'string',
      requiresArg: true,
      describe: `the newest N matches, printed oldest first [default: ${DEFAULT_LIMIT}]`,
      group: 'Output:',
    })
    .option('all', { type: 'boolean', describe: 'every match (no limit)', group: 'Output:' })
    .option('reverse', { type: 'boolean', describe: 'newest first', group: 'Output:' })
    .option('json', { type: 'boolean', describe: 'JSON lines: exactly the stored records, nothing else on stdout', group: 'Output:' })
    .option('output', {
      type: 'string',
      requiresArg: true,
      describe: 'fields to show, e.g. time,type,user,details.reason',
      group: 'Output:',
    })
    .option('count', { type: 'boolean', describe: 'print only the number of matches', group: 'Output:' })
    .option('summary', { type: 'boolean', describe: 'counts by type, user, source and day (filters apply)', group: 'Output:' })
    .option('color', {
      type: 'boolean',
      describe: 'colour (default: only on a terminal without NO_COLOR); --no-color turns it off',
      group: 'Output:',
    })
    .option('fail-empty', { type: 'boolean', describe: 'exit 1 when nothing matched', group: 'Output:' })
    .option('follow', {
      type: 'boolean',
      alias: 'f',
      describe: 'keep printing new matching events (survives log rotation)',
      group: 'Live and incremental:',
    })
    .option('backlog', {
      type: 'boolean',
      describe: 'with --follow, print the last --limit matches first; --no-backlog skips them',
      group: 'Live and incremental:',
    })
    .option('cursor-file', {
      type: 'string',
      requiresArg: true,
      describe: 'start after the event id in FILE; write the last printed id back',
      group: 'Live and incremental:',
    })
    .option('file', {
      type: 'string',
      requiresArg: true,
      describe: 'log file(s) to read (with rotated and .gz siblings) [default: $DS01_EVENTS_FILE or /var/log/ds01/events.jsonl]',
      group: 'Live and incremental:',
    });
}

/** Flags that take a value; their value may start with a dash (`--since -1h`). */
const VALUE_FLAGS = new Set(
  ['user', 'type', 'container', 'source', 'actor', 'host', 'id', 'detail', 'since', 'until', 'limit', 'output', 'cursor-file', 'file'].map(
    (f) => `--${f}`,
  ),
);

/**
 * Glues a dash-led value to its flag (`--since -1h` → `--since=-1h`):
 * yargs would read `-1h` as the short options -1 and -h (help). As in the
 * original tool, a value flag takes the next argument as it is.
 */
export function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (VALUE_FLAGS.has(arg) && next?.startsWith('-') && next !== '--') {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Runs ds01-events with the given arguments; resolves to the exit code.
 * Usage errors (exit 2) are reported on stderr naming the flag and value.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  const fail = (err: unknown): number => {
    if (err instanceof UsageError || (err as Error)?.name === 'LogUsageError' || err instanceof CursorError) {
      io.stderr.write(`ds01-events: ${(err as Error).message}\n`);
      if (!(err instanceof CursorError)) io.stderr.write("Run 'ds01-events --help' for usage.\n");
      return EXIT_USAGE;
    }
    const e = err as NodeJS.ErrnoException;
    const hint = e?.code === 'EACCES' ? ' (permission denied: ask an administrator, or pass --file)' : '';
    io.stderr.write(`ds01-events: ${e?.message ?? String(err)}${hint}\n`);
    return EXIT_ERROR;
  };
  const cli = yargs(joinDashValues(argv))
    .scriptName('ds01-events')
    .usage('$0 [filters] [options]\n\nQuery, follow and summarise the ds01 event log.')
    .command(
      '$0',
      'query the event log (default)',
      (y) => queryOptions(y),
      async (args) => {
        code = await runQuery(toQueryOptions(args as unknown as QueryArgs, io.env, Date.now(), Boolean(io.stdout.isTTY)), io);
      },
    )
    .command(
      'types',
      'list the event catalogue with each type’s detail fields',
      (y) => y.option('json', { type: 'boolean', describe: 'as JSON' }),
      async (args) => {
        const { catalogueInfo, catalogueLines } = await import('./list-types.js');
        const infos = catalogueInfo();
        io.stdout.write(args.json ? `${JSON.stringify(infos)}\n` : `${catalogueLines(infos).join('\n')}\n`);
      },
    )
    .command(
      'log <type> [pairs..]',
      'write one event (best-effort: exit 0 even when the log cannot be written)',
      (y) =>
        y
          .positional('type', { type: 'string', describe: 'event type, category.action' })
          .positional('pairs', { type: 'string', array: true, describe: 'details: key=value (string) or key:=json (typed)' })
          .option('user', { type: 'string', requiresArg: true, describe: 'the user the event is about' })
          .option('source', { type: 'string', requiresArg: true, describe: 'the writing component [default: ds01-events]' }),
      async (args) => {
        const { runLog } = await import('./log-command.js');
        const cmd: Parameters<typeof runLog>[0] = { type: String(args.type), pairs: (args.pairs ?? []).map(String) };
        if (typeof args.user === 'string') cmd.user = args.user;
        if (typeof args.source === 'string') cmd.source = args.source;
        runLog(cmd, io.env);
      },
    )
    .example(EXAMPLES)
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .exitProcess(false)
    .wrap(Math.min(120, (io.stdout as { columns?: number }).columns ?? 100))
    .fail((msg, err) => {
      // yargs' own complaints (YError) are usage errors; anything else came from a handler.
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(msg ?? err?.message ?? 'invalid arguments');
    });
  try {
    await cli.parseAsync();
  } catch (err) {
    return fail(err);
  }
  return code;
}
