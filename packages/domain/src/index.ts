export { Vpiod, DEFAULT_UID_BASE, DOM0_GRANTS_PER_DOMAIN, DOM0_PORTS_PER_DOMAIN, FDS_PER_DOMAIN_BASE, FDS_RESERVED, type ControlHandler, type ControlReply, type BeforeSpawnResult, type CreateDomainHooks, type DestroyOptions, type VpiodEvents, type VpiodLogEntry, type VpiodOptions, type VpiodRecovery } from './vpiod.js';
export { Domain, parseLaunchError, type DomainExit, type DomainInfo, type DomainState } from './domain.js';
export { DEFAULT_BROKER_LIMITS, MAX_BROKER_LIMITS, TAP_MAX_QUEUES, isUnicastMac, resolveDomainOptions, resolveTapOptions, tapLauncherArgs, isInterfaceName, isMemifSocketPath, MEMIF_PATH_MAX_BYTES, XDP_MAX_QUEUES, XDP_OBJ_PATH_MAX_BYTES, parseUdpEndpoint, resolveWireOptions, wireLauncherArgs, type CreateDomainOptions, type DomainWireOptions, type ResolvedWireOptions, type XdpAttachMode, type XdpBindMode, type XdpFrameSize, type DomainBrokerLimits, type DomainTapOptions, type ResolvedDomainOptions, type ResolvedTapOptions } from './domain-options.js';
export { DomidAllocator, DOMID_MAX, DOMID_MIN } from './domid-allocator.js';
export { checkSandbox, parseSandboxReport, skipFlagsFor, type CgroupBase, type SandboxReport, type SandboxStep } from './sandbox-check.js';
export {
  CTRL_ABI, CTRL_BROKER, CTRL_F_REPLY, DOMID_SELF, GRANT_ACCESS_RO, GRANT_ACCESS_RW, GRANT_MAP_F_WRITABLE, GRANT_MAP_MAX_REFS, readU32s, u32s, CTRL_FD, CTRL_HDR_BYTES, CTRL_MAX_FDS, CTRL_PAYLOAD_MAX, CTRL_RANGES, CTRL_TYPE,
  decodeControl, encodeControl, encodeError, encodeHello, type ControlDecodeError, type ControlMessage,
} from './control-protocol.js';
export { defaultLauncherPath } from './native.js';
export { GrantBroker, type GrantUsage } from './grant-broker.js';
export { EvtchnBroker } from './evtchn-broker.js';
export { XenDomains, parseXlList, xlConfig, type XenDomainExit, type XenDomainHooks, type XenDomainInfo, type XenDomainSpec, type XenDomainsEvents, type XenDomainsOptions, type XenDomainsXenstore, type XlRunner } from './xen-domains.js';
export {
  DOM0_KERNEL_GRANTS, GRANTS_PER_FRAME, XEN_DEFAULT_GNTTAB_FRAMES, XEN_DEVICES, XENSTORED_SOCKETS, gntallocLimit, gntallocPagesNeeded, gnttabFramesNeeded, isXenControlDomain, moduleLoaded,
  parseGnttabMaxFrames, resolvePlatformMode, xenChecks, xenstoredSocket, type PlatformMode, type PlatformModeRequest, type XenCheck,
} from './xen-host.js';
export { XenDom0, type XenDom0Options } from './xen-dom0.js';
