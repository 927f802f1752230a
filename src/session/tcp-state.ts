import type { Timers } from '../config/model.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';

/**
 * TCP as a router tracks it (3.7.6): enough to know when a session is being set up, is
 * established, or is closing, and which timer applies. Not a TCP implementation: sequence
 * numbers are not checked. Written as a transition table so each transition can be read and
 * tested alone.
 */
export enum TcpState {
  /** Not TCP, or nothing seen yet. */
  None = 0,
  /** SYN from the initiator seen. */
  SynSent = 1,
  /** SYN/ACK from the responder seen. */
  SynReceived = 2,
  Established = 3,
  /** FIN seen from the initiator only. */
  FinForward = 4,
  /** FIN seen from the responder only. */
  FinReverse = 5,
  /** FIN seen both ways: the close guard runs (3.7.6). */
  Closed = 6,
  /** RST seen: the close guard runs. */
  Reset = 7,
}

export const TCP_STATE_NAMES: readonly string[] = [
  'none',
  'syn-sent',
  'syn-received',
  'established',
  'fin-forward',
  'fin-reverse',
  'closed',
  'reset',
];

/** Direction of a packet relative to the session: 0 from the initiator, 1 from the responder. */
export type Direction = 0 | 1;

/**
 * The state after a packet with `flags` travelling in `dir`. RST closes from any state; FIN
 * moves towards Closed; the handshake advances only on the expected side's packet.
 */
export function tcpNext(state: TcpState, dir: Direction, flags: number): TcpState {
  if (flags & TCP_RST) return TcpState.Reset;
  const syn = (flags & TCP_SYN) !== 0;
  const ack = (flags & TCP_ACK) !== 0;
  const fin = (flags & TCP_FIN) !== 0;
  switch (state) {
    case TcpState.None:
      return syn && !ack && dir === 0 ? TcpState.SynSent : state;
    case TcpState.SynSent:
      return syn && ack && dir === 1 ? TcpState.SynReceived : state;
    case TcpState.SynReceived:
      if (fin) return dir === 0 ? TcpState.FinForward : TcpState.FinReverse;
      return ack && !syn && dir === 0 ? TcpState.Established : state;
    case TcpState.Established:
      if (fin) return dir === 0 ? TcpState.FinForward : TcpState.FinReverse;
      return state;
    case TcpState.FinForward:
      return fin && dir === 1 ? TcpState.Closed : state;
    case TcpState.FinReverse:
      return fin && dir === 0 ? TcpState.Closed : state;
    case TcpState.Closed:
    case TcpState.Reset:
      return state;
  }
}

/** Seconds of silence after which a session in this state ends (D-10). */
export function tcpTimeoutSeconds(state: TcpState, t: Timers): number {
  switch (state) {
    case TcpState.Established:
    case TcpState.FinForward:
    case TcpState.FinReverse:
      return t.tcpIdleSeconds;
    case TcpState.Closed:
    case TcpState.Reset:
      return t.tcpCloseGuardSeconds;
    default:
      return t.tcpSetupSeconds;
  }
}

/** The close guard runs: the session ends when it expires, whatever else happens. */
export function tcpInGuard(state: TcpState): boolean {
  return state === TcpState.Closed || state === TcpState.Reset;
}

/**
 * 3.7.6: a new SYN (no ACK) for a session in its close guard ends the old session at once; the
 * packet then starts a new one.
 */
export function tcpNewSynEndsSession(state: TcpState, flags: number): boolean {
  return tcpInGuard(state) && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
}
