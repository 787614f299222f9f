export {
  type ActorQuery,
  type ActorView,
  type ContainerView,
  type ControlTarget,
  type PackageProcessView,
  type PackageView,
  type SensorVersion,
  subtree,
} from "./answers.js";
export {
  CONTROL_ERRORS,
  ControlError,
  type ControlErrorCode,
  type ControlRequest,
  type ControlResponse,
  DEFAULT_CONTROL_SOCKET,
  encodeRequest,
  LineReader,
  MAX_REQUEST_BYTES,
  parseResponse,
} from "./protocol.js";
export { sensorTarget } from "./sensor-target.js";
export { ControlServer, type ControlServerOptions } from "./server.js";
