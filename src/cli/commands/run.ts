import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { createLogger, type Logger } from "../../log.js";
import { installRoot } from "../../paths.js";
import {
  ContainerTable,
  followPods,
  inClusterOptions,
  type KubernetesPods,
  runtimePathsUnder,
  runtimeStates,
  SERVICE_ACCOUNT_DIR,
} from "../../sensor/containers/index.js";
import { ControlServer, sensorTarget } from "../../sensor/control/index.js";
import { FanotifyEnforcer } from "../../sensor/enforce/fanotify.js";
import { Enforcement, protectionInterest } from "../../sensor/enforce/index.js";
import { cgroup2MountPoint } from "../../sensor/host/index.js";
import { kernelBridge } from "../../sensor/kernel/index.js";
import { DEFAULT_INTEREST, DELIVER_ALL, type InterestSpec, readInterest } from "../../sensor/kernel/interest.js";
import { unionInterest } from "../../sensor/kernel/interest-union.js";
import { DEFAULT_PACKAGE_PREFIXES } from "../../sensor/packages/index.js";
import {
  MODES,
  type Mode,
  PolicyDirectory,
  PolicyEngine,
  type PolicySet,
  policyInterest,
} from "../../sensor/policy/index.js";
import { Sensor } from "../../sensor/sensor.js";
import {
  FACILITIES,
  type Facility,
  JsonLinesSink,
  parseHeader,
  parseSyslogTarget,
  type Sink,
  SyslogSink,
  WebhookSink,
} from "../../sensor/sinks/index.js";
import { socketPath } from "../client.js";
import { clientVersion } from "./version.js";

interface RunOptions {
  output?: string;
  record?: string;
  logLevel: string;
  interest?: string;
  deliverAll?: boolean;
  controlSocket?: string;
  policies?: string;
  mode?: Mode;
  syslog?: string | true;
  syslogFacility: Facility;
  webhook?: string;
  webhookHeader: string[];
  hostRoot: string;
  kubernetes?: boolean;
  kubernetesApi?: string;
  serviceAccount: string;
  nodeName?: string;
  packages?: boolean;
  packagesPath: string[];
  protectSelf?: boolean;
}

/**
 * This node's pods from the API server, when the sensor runs in Kubernetes (or is told to);
 * undefined, with the reason logged, when it cannot follow them: events still flow, without pods.
 */
async function kubernetesPods(opts: RunOptions, logger: Logger): Promise<KubernetesPods | undefined> {
  const wanted = opts.kubernetes ?? (Boolean(process.env.KUBERNETES_SERVICE_HOST) || opts.kubernetesApi !== undefined);
  if (!wanted) return undefined;
  const found = inClusterOptions(process.env, logger, {
    ...(opts.kubernetesApi !== undefined && { api: opts.kubernetesApi }),
    serviceAccountDir: opts.serviceAccount,
    ...(opts.nodeName !== undefined && { node: opts.nodeName }),
  });
  if ("problem" in found) {
    logger.error({ problem: found.problem }, `kubernetes: ${found.problem}: pod metadata off`);
    return undefined;
  }
  return followPods(found.options);
}

/** Where `--syslog` sends without an address: the local syslog daemon. */
const DEFAULT_SYSLOG = "unix:/dev/log";

/** The alert sinks the flags ask for; throws on an address or header that cannot work. */
function alertSinks(opts: RunOptions, logger: Logger): Sink[] {
  const sinks: Sink[] = [];
  if (opts.syslog !== undefined) {
    const target = parseSyslogTarget(opts.syslog === true ? DEFAULT_SYSLOG : opts.syslog);
    sinks.push(new SyslogSink({ target, facility: opts.syslogFacility, logger }));
  }
  if (opts.webhook !== undefined) {
    const headers = Object.fromEntries(opts.webhookHeader.map(parseHeader));
    sinks.push(new WebhookSink({ url: opts.webhook, headers, logger }));
  } else if (opts.webhookHeader.length > 0) {
    throw new Error("--webhook-header needs --webhook");
  }
  return sinks;
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("start the sensor: watch the host and stream events as JSON lines")
    .option("-o, --output <file>", "append events and alerts to FILE instead of stdout")
    .option(
      "--record <file>",
      "also append every event, without alerts, to FILE: a recording for `vigil policy test --events`",
    )
    .option(
      "--interest <file>",
      "what the kernel sends: a JSON interest spec (kinds, path prefixes, ignored comms/exes), or 'default'; with --policies, sent besides what the rules need",
    )
    .option("--deliver-all", "send every event the kernel can see, unfiltered (with --policies too)")
    .option("--policies <dir>", "test events against the policies in DIR; reloads on change and on SIGHUP")
    .addOption(new Option("--mode <mode>", "run every policy in this mode, whatever its own").choices(MODES))
    .option(
      "--syslog [address]",
      `send each alert to syslog as an RFC 5424 message: unix:PATH, udp://HOST:PORT or tcp://HOST:PORT (default ${DEFAULT_SYSLOG})`,
    )
    .addOption(
      new Option("--syslog-facility <facility>", "the syslog facility of alerts")
        .choices(Object.keys(FACILITIES))
        .default("authpriv"),
    )
    .option("--webhook <url>", "POST alerts as JSON, in batches, to URL")
    .option(
      "--webhook-header <header>",
      "send this 'Name: value' header with every webhook request (repeatable)",
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option(
      "--control-socket <path>",
      "serve the CLI on this Unix socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)",
    )
    .option(
      "--host-root <dir>",
      "where the host's root is (a sensor in a container mounts it, e.g. /host): container runtimes' state is read below it",
      "/",
    )
    .option("--kubernetes", "follow this node's pods (default: when KUBERNETES_SERVICE_HOST is set)")
    .option("--no-kubernetes", "do not follow pods, even in a cluster")
    .option(
      "--kubernetes-api <url>",
      "the API server (default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)",
    )
    .option("--service-account <dir>", "where the service account's token and ca.crt are", SERVICE_ACCOUNT_DIR)
    .option("--node-name <name>", "this node's name in the cluster (default: $NODE_NAME, else the host name)")
    .option("--packages", "keep an inventory of the packages processes load (`vigil packages`)")
    .option(
      "--packages-path <prefix>",
      "also follow opens below this path prefix for the inventory, e.g. an application's node_modules (repeatable)",
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option(
      "--protect-self",
      "with --policies: refuse other processes' signals, ptrace, writes to the installation and the policies, and fds of the sensor's BPF objects (BPF-LSM); without BPF-LSM, alert on them",
    )
    .option("--log-level <level>", "log level (trace, debug, info, warn, error)", "info")
    .action(async (opts: RunOptions) => {
      const logger = createLogger(opts.logLevel);
      // The kernel matches prefixes of absolute paths: a relative one would never match.
      const relative = opts.packagesPath.filter((p) => !p.startsWith("/"));
      if (relative.length > 0) {
        logger.error(`--packages-path takes absolute path prefixes; got ${relative.join(", ")}`);
        process.exitCode = 2;
        return;
      }
      let interest: InterestSpec = DEFAULT_INTEREST;
      try {
        if (opts.deliverAll) interest = DELIVER_ALL;
        else if (opts.interest === "default") interest = DEFAULT_INTEREST;
        else if (opts.interest) interest = readInterest(opts.interest);
      } catch (err) {
        logger.error({ err }, (err as Error).message);
        process.exitCode = 2;
        return;
      }
      let engine: PolicyEngine | undefined;
      let policies: PolicyDirectory | undefined;
      if (opts.policies) {
        engine = new PolicyEngine();
        policies = new PolicyDirectory(opts.policies, engine, { logger, ...(opts.mode && { mode: opts.mode }) });
        try {
          // Bad files are logged and left out; only a directory that cannot be read stops here.
          policies.load();
        } catch (err) {
          logger.error({ err }, `cannot read policies: ${(err as Error).message}`);
          process.exitCode = 2;
          return;
        }
        if (interest.ignoreComms.length + interest.ignoreExes.length > 0) {
          logger.warn("the processes --interest ignores are dropped in the kernel: no rule sees their events");
        }
      } else if (opts.mode) {
        logger.warn("--mode has no effect without --policies");
      }
      if (opts.protectSelf && !opts.policies) logger.warn("--protect-self has no effect without --policies");
      const protectRoots = opts.protectSelf
        ? [installRoot, ...(opts.policies ? [resolve(opts.policies)] : [])]
        : undefined;
      let alerts: Sink[];
      try {
        alerts = alertSinks(opts, logger);
      } catch (err) {
        logger.error({ err }, (err as Error).message);
        process.exitCode = 2;
        return;
      }
      if (alerts.length > 0 && !opts.policies)
        logger.warn("--syslog and --webhook carry alerts: without --policies there are none");
      const containers = new ContainerTable({
        cgroupRoot: cgroup2MountPoint(),
        runtimes: runtimeStates(runtimePathsUnder(opts.hostRoot)),
        logger,
      });
      const pods = await kubernetesPods(opts, logger);
      const sensor = new Sensor({
        containers,
        ...(pods && { pods }),
        bridge: kernelBridge(),
        sinks: [
          new JsonLinesSink(opts.output),
          ...(opts.record ? [new JsonLinesSink(opts.record, { alerts: false })] : []),
          ...alerts,
        ],
        logger,
        interest,
        ...((opts.packages || opts.packagesPath.length > 0) && {
          packages: {
            prefixes: [...DEFAULT_PACKAGE_PREFIXES, ...opts.packagesPath],
            ...(opts.hostRoot !== "/" && { hostRoot: opts.hostRoot }),
          },
        }),
        ...(engine && {
          policy: engine,
          enforcement: (paths) =>
            new Enforcement({
              logger,
              paths,
              ...(opts.mode && { mode: opts.mode }),
              ...(cgroup2MountPoint() && { cgroupRoot: cgroup2MountPoint() }),
              ...(protectRoots && { protectSelf: true, protectRoots }),
              openFanotify: (log) => new FanotifyEnforcer(kernelBridge(), log),
            }),
        }),
        // With policies the kernel sends what their rules can match, and what --interest asks
        // for besides; everything with --deliver-all.
        ...(engine &&
          !opts.deliverAll && {
            interestFrom: (set: PolicySet) => {
              const base = opts.interest ? interest : undefined;
              // Attempts against the sensor must reach it to be alerted where nothing refuses them.
              const own = protectRoots ? protectionInterest(protectRoots) : undefined;
              const extra = base && own ? unionInterest(base, own) : (base ?? own);
              return policyInterest(set.rules, extra);
            },
          }),
      });
      // The socket is claimed before the kernel is touched: a second sensor stops here.
      const control = new ControlServer(sensorTarget(sensor, clientVersion), {
        path: socketPath(opts.controlSocket),
        logger,
      });
      try {
        await control.listen();
      } catch (err) {
        logger.error({ err }, `sensor cannot start: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      try {
        await sensor.start();
      } catch (err) {
        logger.error({ err }, `sensor cannot start: ${(err as Error).message}`);
        process.exitCode = 1;
        await control.close();
        await sensor.stop().catch(() => undefined);
        return;
      }
      policies?.watch();
      process.on("SIGHUP", () => {
        if (policies) policies.load("SIGHUP");
        else logger.info("SIGHUP: no policy directory to reload (--policies)");
      });
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "stopping");
        policies?.close();
        try {
          await control.close();
          const { interest: _, ...stats } = await sensor.stop();
          logger.info({ ...stats, lostRecords: Number(stats.lostRecords) }, "sensor stopped");
        } catch (err) {
          logger.error({ err }, `sensor did not stop cleanly: ${(err as Error).message}`);
          process.exitCode = 1;
        }
      };
      process.once("SIGINT", () => void stop("SIGINT"));
      process.once("SIGTERM", () => void stop("SIGTERM"));
    });
}
