import { StartupError } from '../startup';

/**
 * `npm run cli listen --forward-to URL` (no `--`) hands the script `listen URL`: npm takes the
 * flags for its own configuration (`npm_config_forward_to=true`) and passes only their values on,
 * which the command would then misread. Said instead, in one line, with the command as it should
 * be typed. `command` is the words the flags belong to (`devnet send`), `example` what to show
 * when there are none.
 */
export function refuseFlagsNpmKept(
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  run: { script: string; flags: readonly string[]; command: string; example: string },
): void {
  if (env.npm_lifecycle_event !== run.script) return;
  // npm expands abbreviations of its own settings: `--to` becomes `--token-description`.
  const npmName = (flag: string) => (flag === 'to' ? 'token_description' : flag.replaceAll('-', '_'));
  const kept = run.flags.filter((flag) => env[`npm_config_${npmName(flag)}`] !== undefined && !args.includes(`--${flag}`));
  if (kept.length === 0) return;
  throw new StartupError(
    `inflow: npm kept ${kept.map((flag) => `--${flag}`).join(', ')} for itself: npm passes a script's flags on only after \`--\`. Use \`npm run ${run.script} -- ${run.command || '<command>'} …\`, e.g. \`npm run ${run.script} -- ${run.command || run.example} ${kept.map((flag) => `--${flag} …`).join(' ')}\``,
  );
}
