/**
 * The commands the docs show, as a reader would copy them: every fenced shell block (```sh, ```bash,
 * ```console, ```shell) of README.md and docs/*.md, and the command lines of unlabelled blocks (a
 * `$ ` prompt, or a line that starts with a command such as `npm`, `curl` or `kill`), split into
 * commands (`\` continuations joined, `# comments` and a trailing `&` dropped, `a && b` as two),
 * with `KEY=…` assignments kept apart. docs-commands.test.ts runs them or finds them allowlisted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');

export type CommandKind = 'curl' | 'cli' | 'temporal' | 'other';

export interface DocCommand {
  /** Where it is written: `docs/orders.md:13`. */
  where: string;
  /** The command as one line: continuations joined, its comment and a trailing `&` dropped. */
  text: string;
  kind: CommandKind;
}

export interface DocAssignment {
  where: string;
  name: string;
  value: string;
}

const shellLanguages = new Set(['sh', 'bash', 'console', 'shell']);
/** The words an unlabelled block's line starts with when it is a command, not output or a query. */
const commandWords = /^(npm|npx|curl|docker|kill|node|tsx|git|openssl|temporal)\s/;

/** README.md and docs/*.md, repository-relative. */
export function docFiles(): string[] {
  const docs = readdirSync(path.join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The part of a line before a `#` comment that is outside quotes and starts a word. */
export function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '\\') i++;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/** `a && b` as [a, b] (outside quotes). */
function splitAnd(text: string): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '\\') i++;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '&' && text[i + 1] === '&') {
      parts.push(text.slice(start, i).trim());
      start = i + 2;
      i++;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter(Boolean);
}

/** A command's kind; an environment prefix (`INFLOW_DEV_DATA_DIR=… npm run cli -- …`) makes it `other`: run only as written in the allowlist's judgement. */
export function classify(text: string): CommandKind {
  if (/^curl\s/.test(text)) return 'curl';
  if (/^npm run cli(\s|$)/.test(text)) return 'cli';
  if (/^npm run temporal(\s|$)/.test(text)) return 'temporal';
  return 'other';
}

/** The commands and assignments of one markdown file. */
export function extractCommands(markdown: string, file: string): { commands: DocCommand[]; assignments: DocAssignment[] } {
  const commands: DocCommand[] = [];
  const assignments: DocAssignment[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const language = fence[2]!;
    const body: Array<{ line: string; number: number }> = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push({ line: lines[j]!.slice(fence[1]!.length), number: j + 1 });
    i = j;
    if (language !== '' && !shellLanguages.has(language)) continue;
    const prompted = body.some(({ line }) => line.startsWith('$ '));
    const isCommandStart = (line: string) =>
      prompted ? line.startsWith('$ ') : shellLanguages.has(language) ? line.trim() !== '' && !line.trim().startsWith('#') : commandWords.test(line);
    for (let k = 0; k < body.length; k++) {
      const { line, number } = body[k]!;
      if (!isCommandStart(line)) continue;
      let text = prompted ? line.slice(2) : line;
      // A continuation: the line ends with `\` (before any comment).
      while (/\\\s*$/.test(stripComment(text)) && k + 1 < body.length) {
        text = `${stripComment(text).replace(/\\\s*$/, '')} ${body[++k]!.line.trim()}`;
      }
      text = stripComment(text)
        .replace(/\s*&\s*$/, '')
        .replace(/\s+/g, ' ')
        .trim();
      const where = `${file}:${number}`;
      const assignment = /^([A-Z_][A-Z0-9_]*)=(\S*)$/.exec(text);
      if (assignment) {
        assignments.push({ where, name: assignment[1]!, value: assignment[2]! });
        continue;
      }
      for (const part of splitAnd(text)) commands.push({ where, text: part, kind: classify(part) });
    }
  }
  return { commands, assignments };
}

/** Every command of README.md and docs/*.md. */
export function documentedCommands(): { commands: DocCommand[]; assignments: DocAssignment[] } {
  const commands: DocCommand[] = [];
  const assignments: DocAssignment[] = [];
  for (const file of docFiles()) {
    const found = extractCommands(readFileSync(path.join(repoRoot, file), 'utf8'), file);
    commands.push(...found.commands);
    assignments.push(...found.assignments);
  }
  return { commands, assignments };
}

/**
 * A command line's words as a POSIX shell splits them, without running a shell: single quotes
 * literal, double quotes with `\"`, `\\`, `\$` and `$VAR`, `$VAR` and `\x` outside quotes. `vars`
 * gives the variables; an unknown one is an error (the docs use no others).
 */
export function shellWords(text: string, vars: Record<string, string> = {}): string[] {
  const words: string[] = [];
  let word: string | null = null;
  const variable = (i: number): [string, number] => {
    const match = /^\$(\{)?([A-Za-z_][A-Za-z0-9_]*)(\})?/.exec(text.slice(i));
    if (!match) return ['$', i];
    const name = match[2]!;
    if (!(name in vars)) throw new Error(`no value for $${name} in: ${text}`);
    return [vars[name]!, i + match[0].length - 1];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${text}`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && '"\\$`'.includes(text[i + 1] ?? '')) word += text[++i];
        else if (text[i] === '$') {
          const [value, end] = variable(i);
          word += value;
          i = end;
        } else word += text[i];
      }
      if (i >= text.length) throw new Error(`unterminated " in: ${text}`);
    } else if (c === '\\') {
      word = (word ?? '') + (text[++i] ?? '');
    } else if (c === '$') {
      const [value, end] = variable(i);
      word = (word ?? '') + value;
      i = end;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
