import { release } from "node:os";
import type { Sensor } from "../sensor.js";
import type { Actor } from "../state/index.js";
import type { ActorView, ContainerView, ControlTarget, PackageView } from "./answers.js";
import { subtree } from "./answers.js";
import { CONTROL_ERRORS, ControlError } from "./protocol.js";
import { UserNames } from "./users.js";

const isoOfNs = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

/** The policies in force, as `version` names them: local files until a team server sends a bundle. */
function definitions(sensor: Sensor): string {
  const p = sensor.policy?.statistics();
  if (!p) return "none";
  return `${p.policies} local ${p.policies === 1 ? "policy" : "policies"}, ${p.rules} rules, loaded ${p.loadedAt}`;
}

/** Answers control requests from a sensor's own state; `version` is the package the sensor runs. */
export function sensorTarget(
  sensor: Sensor,
  version: string,
  passwd = "/etc/passwd",
  stop: () => void = () => process.kill(process.pid, "SIGTERM"),
): ControlTarget {
  const users = new UserNames(passwd);
  const view = (a: Actor): ActorView => {
    const startTime = sensor.clock.fromBoottime(a.startBoottime);
    const user = users.get(a.uid);
    return {
      pid: a.pid,
      ppid: a.ppid,
      uid: a.uid,
      ...(user !== undefined && { user }),
      comm: a.comm,
      exe: a.exe,
      args: a.args,
      argsTruncated: a.argsTruncated,
      cgroupId: a.cgroupId,
      ...(a.container && { container: a.container.id }),
      startTime,
      startedAt: isoOfNs(startTime),
    };
  };
  return {
    stop: () => {
      // After the answer has gone out.
      setTimeout(stop, 50);
      return { stopping: true, pid: process.pid };
    },
    version: () => ({
      version,
      node: process.versions.node,
      kernel: sensor.report?.kernelRelease ?? release(),
      pid: process.pid,
      ...(sensor.startedAt > 0 && { startedAt: new Date(sensor.startedAt).toISOString() }),
      definitions: definitions(sensor),
    }),
    statistics: () => sensor.statistics(),
    enforcement: () => {
      const report = sensor.enforcement;
      if (!report)
        throw new ControlError(
          CONTROL_ERRORS.notFound,
          "the sensor runs without policies (--policies): it enforces nothing",
        );
      return report;
    },
    actors: (query) => {
      const all: ActorView[] = [];
      for (const a of sensor.state.processes.actors()) all.push(view(a));
      all.sort((x, y) => x.pid - y.pid);
      if (query.pid === undefined) return all;
      const tree = subtree(all, query.pid);
      if (tree.length === 0) throw new ControlError(CONTROL_ERRORS.notFound, `no live process with pid ${query.pid}`);
      return tree;
    },
    containers: () => {
      const byId = new Map<string, ContainerView>();
      for (const a of sensor.state.processes.actors()) {
        const c = a.container;
        if (!c) continue;
        let entry = byId.get(c.id);
        if (!entry) {
          entry = { ...c.info, labels: { ...c.info.labels }, k8s: c.k8s, cgroupIds: [...c.cgroupIds], processes: [] };
          byId.set(c.id, entry);
        }
        entry.processes.push(view(a));
      }
      const all = [...byId.values()];
      for (const c of all) c.processes.sort((x, y) => x.pid - y.pid);
      return all.sort((x, y) => (x.name ?? "\uffff").localeCompare(y.name ?? "\uffff") || x.id.localeCompare(y.id));
    },
    packages: () => {
      const inventory = sensor.packages;
      if (!inventory)
        throw new ControlError(
          CONTROL_ERRORS.notFound,
          "the sensor keeps no package inventory: start it with vigil run --packages",
        );
      const iso = (ms: number) => new Date(ms).toISOString();
      const live = (pid: number, start: bigint) => {
        const a = sensor.state.processes.get(pid);
        return a !== undefined && a.startBoottime === start && sensor.state.processes.isLive(pid);
      };
      return inventory.packages().map(
        (p): PackageView => ({
          ecosystem: p.ecosystem,
          name: p.name,
          version: p.version,
          firstSeen: iso(p.firstSeen),
          lastSeen: iso(p.lastSeen),
          locations: p.locations,
          processes: p.processes.map((x) => ({
            pid: x.pid,
            exe: x.exe,
            ...(x.container !== undefined && { container: x.container }),
            live: live(x.pid, x.startBoottime),
            firstSeen: iso(x.firstSeen),
            lastSeen: iso(x.lastSeen),
          })),
          processCount: p.processCount,
          host: p.host,
          containers: p.containers,
        }),
      );
    },
  };
}
