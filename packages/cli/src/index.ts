/** @vpio/cli: the `vpio` command and the dom0 platform it runs. */
export { CliError, type CliErrorCode } from './cli-error.js';
export { ControlClient, RemoteError } from './control-client.js';
export { ControlServer, type ControlServerOptions } from './control-server.js';
export { checkMemfdSeals, doctorReport, runDoctor, type DoctorCheck, type DoctorCheckName, type DoctorReport } from './doctor.js';
export { peerCred, type PeerCred } from './peer-cred.js';
export { Platform, type PlatformLogEntry, type PlatformOptions } from './platform.js';
export * from './protocol.js';
export { platformDir, socketPath } from './paths.js';
export { defaultMac, parseVifSpec, type VifSpec } from './vif-spec.js';
