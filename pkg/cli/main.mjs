// The akidb command: dispatch to a command, map every failure to a clear message and an exit
// code. 0 success; 1 verify found problems; 2 could not run (bad arguments, unknown store
// scheme, missing credentials, collection not found, a store or engine error).
import { createRequire } from 'node:module';

import { CliError, helpText, parse } from './args.mjs';
import { inspect, ls } from './info.mjs';
import { compact, gc } from './maintain.mjs';
import { search } from './search.mjs';
import { copy, exportCmd, importCmd } from './transfer.mjs';
import { verify } from './verify.mjs';

const COMMANDS = [ls, inspect, verify, compact, gc, exportCmd, importCmd, copy, search];

const version = () => createRequire(import.meta.url)('../package.json').version;

function usage() {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    'usage: akidb COMMAND STORE [ARGS] [OPTIONS]',
    '',
    'STORE is a URL: file:PATH (a directory), s3://bucket/prefix?endpoint=URL&region=REGION',
    '(credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), or memory: (this',
    'process only, for trials).',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.brief}`),
    '',
    '`akidb COMMAND --help` for its options. Exit codes: 0 ok, 1 verify found problems, 2 could not run.',
    'Docs: docs/CLI.md',
  ];
  return lines.join('\n') + '\n';
}

/** Runs the command line `argv` (without node and the script); resolves the exit code. */
export async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const cmd = COMMANDS.find((c) => c.name === rest[0]);
    process.stdout.write(cmd ? helpText(cmd) : usage());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`akidb ${version()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd) {
      const near = COMMANDS.find((c) => c.name.startsWith(name) || name.startsWith(c.name));
      throw new CliError(`unknown command '${name}'${near ? `; did you mean '${near.name}'?` : ''}`, { hint: 'see: akidb --help' });
    }
    const args = parse(cmd, rest);
    if (args.help) {
      process.stdout.write(helpText(cmd));
      return 0;
    }
    const code = await cmd.run(args);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    report(e);
    return e instanceof CliError ? e.exitCode : 2;
  }
}

/** What to fix, on stderr. Engine errors keep their code; a stack only with AKIDB_DEBUG=1. */
function report(e) {
  if (e?.code === 'EPIPE') return; // the reader went away (`| head`): nothing to say
  let msg;
  if (e instanceof CliError) {
    msg = `akidb: ${e.message}`;
    if (e.hint) msg += `\n  ${e.hint}`;
  } else if (e && e.name === 'AkiDBError') {
    msg = `akidb: ${e.code}: ${e.message}${hintFor(e)}`;
  } else {
    msg = `akidb: ${e?.message ?? e}`;
  }
  process.stderr.write(msg + '\n');
  if (process.env.AKIDB_DEBUG && e?.stack) process.stderr.write(e.stack + '\n');
}

function hintFor(e) {
  if (e.code === 'AUTH') return '\n  the store rejected the credentials: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and the region)';
  if (e.code === 'OUTCOME_UNKNOWN') return `\n  it may have committed: operation ${e.operationId}`;
  if (e.code === 'STORAGE' && /fetch failed|ECONNREFUSED|ENOTFOUND|timed out|network/i.test(e.message)) {
    return '\n  the store could not be reached: check the endpoint';
  }
  return '';
}
