/** @vpio/netback: the backend control plane per vif. */
export type { NetbackChannels, NetbackGrants, NetbackHost, NetbackSwitch, NetbackXenstore } from './host.js';
export {
  Netback,
  type NetbackConnectOptions,
  type NetbackEvents,
  type NetbackLogEntry,
  type NetbackOptions,
  type VifInfo,
} from './netback.js';
export { NetbackError, type NetbackErrorCode } from './netback-error.js';
export { POLICY_LIMITS, type VifOptions, type VifPolicy, type VifPolicyInfo, type VifTrunk } from './options.js';
export { vifGrantBytes, type VifGeometry } from './vif-memory.js';
