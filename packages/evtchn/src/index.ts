export { ChannelEnd, createChannelPair, type ChannelEndStats, type NotifyResult } from './channel-end.js';
export { EvtchnError, type EvtchnErrorCode } from './evtchn-error.js';
export { DEFAULT_MAX_PORTS, EventChannels, HostEvtchnBroker, MAX_DOMID } from './host-broker.js';
