import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { dirname, join, resolve } from 'node:path';
import type { RouterEvent } from '../../base/events.js';
import { formatConfigError, loadConfigFile } from '../../config/load.js';
import { loadRouterCredentials } from '../../crypto/certificates.js';
import { LinuxRouter } from '../../runtime/linux-router.js';
import { CliError } from '../errors.js';

export interface RunOptions {
  config: string;
  router: string;
  /** Directory with ca.crt, NAME.crt and NAME.key (overrides the configuration's `pki`). */
  pki?: string;
  offloads: boolean;
  statusFile?: string;
  quiet?: boolean;
  /** Write a V8 CPU profile of the router's run there on exit (chrome://inspect, speedscope). */
  cpuProfile?: string;
}

/**
 * `svr run --config FILE --router NAME`: the router on this Linux host until SIGINT or SIGTERM,
 * which remove its TUN devices, rules and routes again. Problems before the start (privilege,
 * configuration, certificates, devices) are one line on stderr and exit code 2.
 */
export function runCommand(o: RunOptions): void {
  const r = loadConfigFile(o.config);
  if (!r.ok) throw new CliError(r.errors.map(formatConfigError).join('\n'));
  const model = r.config.routers.find((x) => x.name === o.router);
  if (!model)
    throw new CliError(
      `--router: no router "${o.router}" in ${o.config}; routers: ${r.config.routers.map((x) => x.name).join(', ')}`,
    );
  let files: { ca: string; certificate: string; key: string } | undefined;
  if (o.pki) {
    const d = resolve(o.pki);
    files = {
      ca: join(d, 'ca.crt'),
      certificate: join(d, `${model.name}.crt`),
      key: join(d, `${model.name}.key`),
    };
  } else if (model.pki) {
    const base = dirname(resolve(o.config));
    files = {
      ca: resolve(base, model.pki.ca),
      certificate: resolve(base, model.pki.certificate),
      key: resolve(base, model.pki.key),
    };
  }
  if (!files)
    throw new CliError(
      `router ${model.name} has no certificates: give --pki DIR (ca.crt, ${model.name}.crt, ${model.name}.key from svr pki init-ca and svr pki issue ${model.name}/${r.config.name}) or pki: in the configuration`,
    );
  const credentials = loadRouterCredentials(files);
  if ('error' in credentials) throw new CliError(credentials.error);
  let lr: LinuxRouter;
  try {
    lr = new LinuxRouter({
      authority: r.config,
      router: model.name,
      credentials,
      offloads: o.offloads,
      statusFile: o.statusFile ? resolve(o.statusFile) : undefined,
      onEvent: o.quiet ? undefined : (e) => process.stdout.write(`${eventLine(e)}\n`),
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const profiler = o.cpuProfile ? startProfile(resolve(o.cpuProfile)) : undefined;
  const stop = (why: string) => {
    process.stdout.write(
      `svr: ${model.name} stopping (${why}); removing its TUN devices, rules and routes\n`,
    );
    lr.stop();
    if (profiler) profiler(() => process.exit(0));
    else process.exit(0);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('uncaughtException', (e) => {
    process.stderr.write(`svr: ${model.name} failed: ${e.stack ?? e.message}\n`);
    lr.stop();
    process.exit(1);
  });
  lr.start();
  const ifs = lr
    .status()
    .interfaces.map((i) => `${i.name}=${i.device} (${i.tun})`)
    .join(', ');
  process.stdout.write(
    `svr: router ${model.name} running, pid ${process.pid}: ${ifs}; SIGINT or SIGTERM stops it\n`,
  );
}

/** Profile this process with V8's sampler; the returned function writes the profile, then calls back. */
function startProfile(file: string): (done: () => void) => void {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  return (done) =>
    session.post('Profiler.stop', (err, r) => {
      if (!err) writeFileSync(file, JSON.stringify(r.profile));
      done();
    });
}

/** One event as a log line: time, kind, code, message, then the detail as key=value pairs. */
function eventLine(e: RouterEvent): string {
  const d = e.detail
    ? Object.entries(e.detail)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('')
    : '';
  return `${new Date(e.timeMs).toISOString()} ${e.kind} ${e.code}: ${e.message}${d}`;
}
