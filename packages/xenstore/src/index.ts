export { XenstoreClient, defaultSocketPath, type WatchEvent, type XenstoreOps, type XenstoreTransactionOptions, type XenstoreWatch } from './client.js';
export { XenstoreDaemon, type XenstoreDaemonOptions } from './daemon.js';
export { XenstoreEngine, EngineConnection, defaultLogger, formatLogEntry, type EngineSink, type XenstoreEngineOptions, type XenstoreLogEntry, type XenstoreLogger, type XenstoreQuotaReport } from './engine.js';
export { XenstoreError } from './xenstore-error.js';
export { formatPerm, parsePerm, permFor, type XsAccess, type XsCaller, type XsPerm } from './permissions.js';
export { canonicalize, domainPath, isValidNodePath } from './paths.js';
export {
  cAtoi, decodeErrorPayload, decodeHeader, decodeRequest, encodeMessage, encodeString, encodeStrings, FrameDecoder, splitStrings,
  type XsHeader, type XsMessage, type XsRequest,
} from './wire.js';
export * from './protocol.js';
export {
  decodePieces, encodePieces, loadStream, replayStream, validateStream,
  type ReplayOptions, type StreamEvent, type StreamExpect, type StreamResult, type StreamStep, type XsStream,
} from './replay.js';
export {
  diffRuns, formatDifference, RECORD_FORMAT,
  type ReplyRecord, type RunRecord, type StepDifference, type StepRecord, type StreamDiff, type StreamRecord,
} from './replay-record.js';
