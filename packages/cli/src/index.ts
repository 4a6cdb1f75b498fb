/** @vpio/cli: the `vpio` command and the dom0 platform it runs. */
export { CliError, type CliErrorCode } from './cli-error.js';
export { ControlClient, RemoteError } from './control-client.js';
export { ControlServer, type ControlServerOptions } from './control-server.js';
export { checkMemfdSeals, doctorReport, runDoctor, type DoctorCheck, type DoctorCheckName, type DoctorReport } from './doctor.js';
export { peerCred, type PeerCred } from './peer-cred.js';
export { Platform, type PlatformLogEntry, type PlatformOptions } from './platform.js';
export * from './protocol.js';
export { platformDir, socketPath } from './paths.js';
export { PcapWriter, pcapHeader, pcapRecord, readPcap, PCAP_LINKTYPE_ETHERNET, PCAP_MAGIC_NS, type PcapFile, type PcapPacket } from './pcap.js';
export { resolveCaptureTarget, type CaptureTarget, type CaptureVif } from './capture-target.js';
export { formatFrameLine, runCaptureCommand, type CaptureCommandOptions, type CaptureSummary } from './capture-command.js';
export { VIF_KEYS, defaultMac, formatVifSpec, parseVifSpec, type VifKey, type VifSpec } from './vif-spec.js';
export { VNI_MAX, VXLAN_PORT, parseMemifAdd, parseUplinkAdd, parseVlanText, planMemif, parseVniText, parseVxlanAdd, planUplink, planVxlan, type MemifAddArgs, type PortPlan, type UplinkMode } from './uplink-spec.js';
export { uplinkChecks, readUplinkHostFacts, type UplinkDoctorCheck, type UplinkDoctorCheckName, type UplinkHostFacts } from './uplink-doctor.js';
export { uplinkBinaryPath } from './uplink-path.js';
export {
  TopologyError,
  applyTopology,
  describeTopology,
  loadTopology,
  parseTopology,
  type Topology,
  type TopologyGuest,
  type TopologyProblem,
} from './topology.js';
