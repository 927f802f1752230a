import type { InlineFigures } from '../../dataplane/path-metrics.js';
import { labDown, labStatus, labUp } from '../../lab/lab.js';
import { netnsUnavailable } from '../../lab/netns.js';
import { CliError } from '../errors.js';

/**
 * `svr lab up | status | down`: the example networks in Linux network namespaces, with svr
 * routers carrying the traffic of ordinary programs (docs/lab.md).
 */
export async function labUpCommand(o: {
  topology: string;
  middlebox?: boolean;
  config?: string;
  offloads: boolean;
  wait?: string;
}): Promise<string> {
  const why = netnsUnavailable();
  if (why) throw new CliError(`svr lab needs root and network namespaces: ${why}`);
  if (o.topology !== 'figure2' && o.topology !== 'chain3')
    throw new CliError(`--topology: expected figure2 or chain3, got "${o.topology}"`);
  if (o.middlebox && o.topology !== 'figure2')
    throw new CliError('--middlebox: only with --topology figure2');
  const wait = o.wait === undefined ? 30 : Number(o.wait);
  if (!Number.isFinite(wait) || wait <= 0) throw new CliError(`--wait: expected seconds, got "${o.wait}"`);
  try {
    const st = await labUp({
      topology: o.topology,
      middlebox: o.middlebox,
      config: o.config,
      offloads: o.offloads,
      waitSeconds: wait,
      log: (l) => process.stdout.write(`lab: ${l}\n`),
    });
    return (
      `lab ${st.topology} is up (${st.dir})\n` +
      `  clients:  ip netns exec ${st.clientNamespace} <program>   (client ${st.clientAddress})\n` +
      `  server:   ${st.serverUrl}  (iperf3 -s on ${st.serverAddress})\n` +
      `  routers:  ${st.routers.map((r) => `${r.name} in ${r.namespace} (pid ${r.pid}, log ${r.log})`).join(', ')}\n` +
      '  svr lab status; svr lab down\n'
    );
  } catch (e) {
    throw new CliError(`lab up failed: ${(e as Error).message}`);
  }
}

export function labStatusCommand(o: { json?: boolean }): string {
  const s = labStatus();
  if (o.json) return `${JSON.stringify(s, null, 2)}\n`;
  if (!s.topology)
    return s.namespaces.length > 0
      ? `no lab state, but namespaces remain: ${s.namespaces.join(', ')} (svr lab down)\n`
      : 'no lab is up\n';
  const lines = [
    `lab ${s.topology}: ${s.up ? 'up' : 'DEGRADED'} (${s.dir})`,
    `client namespace ${s.clientNamespace} (${s.clientAddress}); server ${s.serverUrl}`,
    `namespaces: ${s.namespaces.join(', ')}`,
  ];
  for (const r of s.routers) {
    lines.push(
      `router ${r.name} in ${r.namespace}: ${r.running ? 'running' : 'NOT RUNNING'}, pid ${r.pid}, ${r.sessions ?? '?'} sessions`,
    );
    for (const p of r.paths)
      lines.push(
        `  ${p.peer} ${p.vector.padEnd(9)} ${p.local} -> ${p.remote || '?'}  BFD ${p.bfd}${p.usable ? ' in service' : ''}${p.natDetected ? ' NAT' : ''}${p.tcpAsUdp ? ' TCP-as-UDP' : ''}${p.latencyMs !== undefined ? ` ${p.latencyMs.toFixed(1)} ms` : ''}${inlineText(p.inline)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** 7.3.7 in-line figures, when the path carried marked traffic. */
function inlineText(f: InlineFigures | undefined): string {
  if (!f) return '';
  const n = (x: number | undefined, unit: string) => (x === undefined ? '?' : `${x.toFixed(1)}${unit}`);
  return `  in-line ${n(f.latencyMs, ' ms')} jitter ${n(f.jitterMs, ' ms')} loss ${n(f.lossPercent, '%')}`;
}

export function labDownCommand(): string {
  const r = labDown();
  return r.namespaces.length === 0 && r.processes === 0
    ? 'no lab was up\n'
    : `lab down: stopped ${r.processes} processes, removed ${r.namespaces.length} namespaces\n`;
}
