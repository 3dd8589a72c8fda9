// Command-line parsing for the akidb command: node:util parseArgs in strict mode (an unknown flag
// is an error), positional arguments counted against each command's usage line, and the help
// text every command prints for --help. Errors are UsageErrors (exit code 2).
import { parseArgs } from 'node:util';

/** A problem with how the command was invoked (or with its environment); exit code 2 unless set. */
export class CliError extends Error {
  constructor(message, { exitCode = 2, hint } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** Options every command takes. */
const COMMON = {
  help: { type: 'boolean', short: 'h', describe: 'show this help' },
};

/** Options of the commands that do long work (import, export, copy, verify). */
export const PROGRESS = {
  progress: { type: 'boolean', describe: 'show a progress bar on stderr even when stdout is not a terminal' },
  quiet: { type: 'boolean', short: 'q', describe: 'no progress bar, no summary on stderr' },
};

/** `--json`: machine-readable output on stdout. */
export const JSON_OUT = { json: { type: 'boolean', describe: 'print JSON on stdout (for scripts)' } };

/**
 * Parses `argv` (the arguments after the command name) for `spec`:
 * `{ name, usage, summary, positionals: ['STORE', 'COLLECTION?', ...], options: { flag: { type,
 * short, default, describe, value } } }`. Returns `{ values, positionals }` keyed by name, or
 * `{ help: true }`. Positionals ending in `?` are optional.
 */
export function parse(spec, argv) {
  const options = { ...COMMON, ...spec.options };
  const config = {};
  for (const [k, o] of Object.entries(options)) {
    config[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`${spec.name}: ${cleanParseError(e, options)}`, { hint: `see: akidb ${spec.name} --help` });
  }
  if (parsed.values.help) return { help: true };
  const names = spec.positionals ?? [];
  const required = names.filter((n) => !n.endsWith('?')).length;
  const given = parsed.positionals;
  if (given.length < required || given.length > names.length) {
    const want = names.length === required ? `${required}` : `${required} to ${names.length}`;
    throw new CliError(`${spec.name}: expected ${want} arguments (${names.join(' ')}), got ${given.length}`, {
      hint: `usage: akidb ${spec.usage}`,
    });
  }
  const positionals = {};
  names.forEach((n, i) => (positionals[n.replace(/\?$/, '').toLowerCase()] = given[i]));
  const values = {};
  for (const [k, o] of Object.entries(options)) {
    const v = parsed.values[k];
    values[camel(k)] = v === undefined ? o.default : v;
  }
  return { values, positionals };
}

function camel(flag) {
  return flag.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

/** parseArgs' messages, shortened to what a person needs (which flag, what it takes). */
function cleanParseError(e, options) {
  const m = /Unknown option '([^']+)'/.exec(e.message);
  if (m) {
    const flag = m[1].replace(/^-+/, '');
    const near = Object.keys(options).find((k) => close(k, flag));
    return `unknown option ${m[1]}${near ? `; did you mean --${near}?` : ''}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return e.message.replace(/\.$/, '').replace(/^Option /, 'option ');
  return e.message;
}

function close(a, b) {
  if (a === b) return false;
  if (a.startsWith(b) || b.startsWith(a)) return true;
  // One edit apart.
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i);
}

/** The help text of a command spec. */
export function helpText(spec) {
  const options = { ...spec.options, ...COMMON };
  const lines = [`usage: akidb ${spec.usage}`, '', wrap(spec.summary.trim(), 100), ''];
  if (spec.details) lines.push(spec.details.trim(), '');
  lines.push('options:');
  const rows = Object.entries(options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const def = o.default !== undefined && o.type === 'string' ? ` (default ${o.default})` : '';
    return [flag, `${o.describe ?? ''}${def}`];
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(w)}  ${d}`);
  if (spec.examples) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** `text` wrapped at `width` columns. */
function wrap(text, width) {
  const out = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) (out.push(line), (line = word));
    else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

/** A whole number flag in `min..=max`, or `undefined` when not given. */
export function wholeNumber(value, flag, min = 1, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliError(`--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A number flag in `(lo, hi]` style bounds checked by `ok`, or `undefined`. */
export function number(value, flag, ok, what) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || !ok(n)) throw new CliError(`--${flag} must be ${what}, got ${JSON.stringify(value)}`);
  return n;
}

/** A JSON flag value, parsed; `what` names it in the error. */
export function jsonValue(value, flag, what) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new CliError(`--${flag} must be ${what} as JSON: ${e.message}`);
  }
}

/** One of `choices`, or `undefined`. */
export function choice(value, flag, choices) {
  if (value === undefined) return undefined;
  if (!choices.includes(value)) throw new CliError(`--${flag} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}
