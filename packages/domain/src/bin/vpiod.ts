#!/usr/bin/env node
/**
 * vpiod --dir DIR [--insecure] [--max-domains N] [--uid-base N] [--verbose]
 * The host-mode dom0 daemon: sandbox check, xenstore, domain table. Runs
 * until SIGINT/SIGTERM, then destroys its domains.
 */
import { parseArgs } from 'node:util';
import { VpioError } from '@vpio/errors';
import { Vpiod } from '../vpiod.js';

const HELP = `usage: vpiod --dir DIR [--insecure] [--max-domains N] [--uid-base N] [--verbose]

The dom0 daemon of vpio's host mode. Checks that every sandbox step works
on this machine (vpio-launch --check) and refuses to start, naming the
missing step, unless --insecure; makes itself non-dumpable, raises its fd
limit for --max-domains, and serves the xenstore on DIR/xenstored.sock
(DIR is 0700, the socket 0600).

  --dir DIR          directory for vpiod's sockets (created 0700)
  --insecure         run even when sandbox steps are missing (each is logged)
  --max-domains N    most live domains (default 64; sizes the fd limit)
  --uid-base N       tenant uid = N + domid when root (default ${0x70000})
  --verbose          log to stderr
  --help             this text
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string' },
        insecure: { type: 'boolean' },
        'max-domains': { type: 'string' },
        'uid-base': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`vpiod: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.dir) {
    process.stderr.write(`vpiod: --dir DIR is required\n${HELP}`);
    return 2;
  }
  const int = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^[0-9]+$/.test(v)) throw new VpioError('ERR_ARGUMENT', `--${flag}: expected a decimal integer, got "${v}"`);
    return Number(v);
  };
  const verbose = values.verbose || /(^|,)vpio:\*/.test(process.env.DEBUG ?? '');
  const vpiod = new Vpiod({
    dir: values.dir.startsWith('/') ? values.dir : `${process.cwd()}/${values.dir}`,
    insecure: values.insecure ?? false,
    maxDomains: int('max-domains', values['max-domains']),
    uidBase: int('uid-base', values['uid-base']),
    log: (e) => {
      if (verbose || e.level === 'warn') process.stderr.write(`vpiod ${JSON.stringify(e)}\n`);
    },
  });
  // Handlers first: a stop request that comes while starting is honoured once started.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await vpiod.start();
  process.stdout.write(`vpiod: ready, xenstore on ${vpiod.xenstorePath}${vpiod.skippedSteps.length ? ` (INSECURE: without ${vpiod.skippedSteps.join(', ')})` : ''}\n`);
  await stopped;
  await vpiod.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`vpiod: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
