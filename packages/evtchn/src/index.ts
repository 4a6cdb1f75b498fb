export { ChannelEnd, createChannelPair, type ChannelEndStats, type EvtchnMode, type NotifyResult } from './channel-end.js';
export { EvtchnError, type EvtchnErrorCode } from './evtchn-error.js';
export { DEFAULT_MAX_PORTS, EventChannels, HostEvtchnBroker, MAX_DOMID } from './host-broker.js';
export type { EvtchnPorts } from './ports.js';
export {
  XEN_EVTCHN_DEVICE,
  XenEventChannels,
  checkXenEvtchnDevice,
  openXenEventChannels,
  type XenEventChannelsOptions,
} from './xen-ports.js';
