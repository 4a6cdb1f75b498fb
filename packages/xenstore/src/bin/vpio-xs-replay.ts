#!/usr/bin/env node
/**
 * vpio-xs-replay [--socket PATH] [--skip TAG]... [--json] stream.json...
 * See src/replay-cli.ts and the package README ("Test streams").
 */
import { runReplayCli } from '../replay-cli.js';

runReplayCli(process.argv.slice(2), (s) => process.stdout.write(s)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`vpio-xs-replay: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
