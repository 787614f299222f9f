export { type CgroupContainer, containerOfCgroup, containerOfProcCgroup, type QosClass } from "./cgroup-path.js";
export { CgroupDirectory } from "./cgroups.js";
export type { KubernetesPods } from "./kubernetes.js";
export {
  followPods,
  inClusterOptions,
  type KubernetesOptions,
  type KubernetesStatistics,
  SERVICE_ACCOUNT_DIR,
} from "./kubernetes-options.js";
export { type ContainerStatusView, type PodDirectory, PodIndex, type PodView } from "./pods.js";
export {
  DEFAULT_RUNTIME_PATHS,
  type RuntimeMetadata,
  type RuntimePaths,
  type RuntimeState,
  RuntimeStateError,
  runtimePathsUnder,
  runtimeStates,
} from "./runtimes.js";
export { type Container, ContainerTable, type ContainerTableOptions, type ContainerTableStatistics } from "./table.js";
