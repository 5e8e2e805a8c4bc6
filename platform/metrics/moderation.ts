import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { CircuitState } from '../moderation/circuit-breaker.ts';
import { counter, histogram, latencyBuckets } from './registry.ts';

/** How a vendor call ended: its verdict, or a failure the wrapper retries (transient) or does not. */
export type VendorCallOutcome = 'allow' | 'reject' | 'pending' | 'transient_error' | 'error';

export interface ModerationMetrics {
  vendorCall(vendor: string, outcome: VendorCallOutcome, seconds: number): void;
  /** The gate was told to come back later (503): every attempt failed, or the circuit was open. */
  unavailable(vendor: string): void;
  /** Reports the breaker's state at each scrape. */
  watchCircuit(vendor: string, state: () => CircuitState): void;
}

const circuitStates: readonly CircuitState[] = ['closed', 'half-open', 'open'];
/** The breakers each registry's gauge reads; roles sharing a process share the registry and the gauge. */
const breakersOf = new WeakMap<Registry, Map<string, () => CircuitState>>();

export function moderationMetrics(registry: Registry): ModerationMetrics {
  const calls = histogram(
    registry,
    'mediagate_moderation_call_duration_seconds',
    'Moderation vendor calls (each attempt), by vendor and outcome',
    ['vendor', 'outcome'],
    latencyBuckets,
  );
  const unavailable = counter(
    registry,
    'mediagate_moderation_unavailable_total',
    'Completions answered 503 because the moderation vendor could not judge (retries spent or circuit open)',
    ['vendor'],
  );
  let breakers = breakersOf.get(registry);
  if (!breakers) {
    const watched = new Map<string, () => CircuitState>();
    breakers = watched;
    breakersOf.set(registry, watched);
    new Gauge({
      name: 'mediagate_moderation_circuit_state',
      help: "The moderation circuit breaker's state per vendor: 1 for the current state, 0 for the others",
      labelNames: ['vendor', 'state'],
      registers: [registry],
      collect() {
        for (const [vendor, state] of watched) {
          const now = state();
          for (const s of circuitStates) this.set({ vendor, state: s }, s === now ? 1 : 0);
        }
      },
    });
  }
  return {
    vendorCall: (vendor, outcome, seconds) => calls.observe({ vendor, outcome }, seconds),
    unavailable: (vendor) => unavailable.inc({ vendor }),
    watchCircuit: (vendor, state) => {
      breakers.set(vendor, state);
    },
  };
}
