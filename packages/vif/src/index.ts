/**
 * @vpio/vif: the vif protocol vocabulary (xenbus states, xenstore paths and
 * keys, limits; mirrored for C in include/vpio/vif_proto.h) and the pure
 * handshake decisions of both ends.
 */
export {
  VIF_KEYS, VIF_LIMITS, VIF_PATHS, XENBUS_STATES, backendDir, frontendDir, queueDir, queueKey, ringRefKey, xenbusStateName,
  type VifKeyName, type XenbusState, type XenbusStateName,
} from './protocol.js';
export {
  parseGrantRef, parseMac, parseMtu, parsePort, parseQueueCount, parseRefCount, parseSlots, parseState, parseU32, showValue, type Parsed,
} from './parse.js';
export type {
  BackendAction, Dir, ErrorAction, FrontendAction, KeyWrite, QueueGrant, QueuePorts, RingGrant, TransactionAction, WaitAction,
} from './actions.js';
export { frontendStep, queueCount, readRingGrants, type FrontendLocal, type FrontendView } from './frontend-step.js';
export { backendStep, publishTransaction, recordQueues, type BackendRecord, type BackendView } from './backend-step.js';
export { C_HEADER_PATH, cMacros, renderVifProtoHeader } from './c-header.js';
