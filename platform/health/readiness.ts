/** One dependency's state as `/readyz` reports it. */
export interface CheckState {
  ok: boolean;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckState>;
}

/** A state something pushes as it changes (a consumer that is still joining its group, then joined). */
export interface Component {
  set(ok: boolean, detail?: string): void;
  /** From now on the state is read live on every report. */
  follow(live: () => CheckState): void;
}

/**
 * What a role needs before it should take traffic: probes run on every `/readyz` (database, storage) and
 * components that report their own state (bus consumers). A role listens before it is ready, so a load
 * balancer sees "not ready" instead of a refused connection while, say, a Kafka consumer joins its group.
 */
export interface Readiness {
  /** A probe: resolves to a problem description, or undefined when the dependency is usable. */
  addCheck(name: string, probe: () => Promise<string | undefined>): void;
  /** Starts not ready, with `detail`, until the component says otherwise. */
  component(name: string, detail: string): Component;
  report(): Promise<ReadinessReport>;
}

/** A probe that has not answered by then counts as failed: `/readyz` must answer while a dependency hangs. */
const probeTimeoutMs = 2000;

export function createReadiness(): Readiness {
  const probes = new Map<string, () => Promise<string | undefined>>();
  const pushed = new Map<string, () => CheckState>();
  return {
    addCheck(name, probe) {
      probes.set(name, probe);
    },
    component(name, detail) {
      pushed.set(name, () => ({ ok: false, detail }));
      return {
        set: (ok, detail) => pushed.set(name, () => (ok ? { ok } : { ok, detail })),
        follow: (live) => pushed.set(name, live),
      };
    },
    async report() {
      const probed = await Promise.all(
        [...probes].map(async ([name, probe]) => [name, await runProbe(probe)] as const),
      );
      const states = [...pushed].map(([name, state]) => [name, state()] as const);
      const checks = Object.fromEntries([...probed, ...states]);
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
  };
}

/** Several roles in one process (`mediagate dev`) answer one `/readyz`: ready when every role is. */
export function combineReadiness(parts: Iterable<Readiness>): Pick<Readiness, 'report'> {
  return {
    async report() {
      const reports = await Promise.all([...parts].map((p) => p.report()));
      return {
        ready: reports.every((r) => r.ready),
        checks: Object.assign({}, ...reports.map((r) => r.checks)),
      };
    },
  };
}

async function runProbe(probe: () => Promise<string | undefined>): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${probeTimeoutMs} ms`), probeTimeoutMs);
  });
  try {
    const problem = await Promise.race([probe(), timeout]);
    return problem === undefined ? { ok: true } : { ok: false, detail: problem };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** How every `/readyz` answers: 200 when ready, 503 with each check's state otherwise. */
export async function readinessResponse(
  readiness: Pick<Readiness, 'report'>,
): Promise<{ statusCode: 200 | 503; body: ReadinessReport & { status: string } }> {
  const report = await readiness.report();
  return {
    statusCode: report.ready ? 200 : 503,
    body: { status: report.ready ? 'ready' : 'not ready', ...report },
  };
}
