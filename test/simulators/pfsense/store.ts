// pfSense's configuration as the simulator keeps it: the candidate (config.xml, what the API reads and
// writes), the running copy (what pf enforces, replaced on apply) and the dirty subsystems.
//
// Lost writes (pfrest/pfSense-pkg-RESTAPI #238, "Parallel firewall rule creations succeed in API but
// missing in pfSense"): every API request works on its own copy of the configuration, taken when it starts,
// and writes that whole copy back when it ends. The simulator reproduces this deterministically: a write
// snapshots the candidate, validates and mutates its snapshot, waits `writeLatencyMs` (the time a real
// write_config takes), then replaces the candidate with its snapshot. A write whose window overlaps
// another's therefore overwrites it: the earlier one was acknowledged to its client and is gone. With one
// write at a time (the engine's per-device concurrency of 1) nothing is lost.
import type { PfRecord } from "./fields.ts";
import type { ConfigSection, Subsystem } from "./models.ts";

export interface PfConfig {
  filter: PfRecord[];
  nat: PfRecord[];
  outbound: PfRecord[];
  onetoone: PfRecord[];
  aliases: PfRecord[];
  outboundMode: string;
}

export function emptyConfig(): PfConfig {
  return { filter: [], nat: [], outbound: [], onetoone: [], aliases: [], outboundMode: "automatic" };
}

export interface WriteResult<T> {
  value: T;
  /** Other writes this one overwrote. */
  overwrote: number;
}

export class PfStore {
  candidate: PfConfig;
  running: PfConfig;
  readonly dirty = new Set<Subsystem>();
  private generation = 0;
  /** Generations whose commit a later, older-based commit overwrote. */
  private readonly lost = new Set<number>();
  private lastTracker = 0;
  private readonly initial: () => PfConfig;
  private readonly writeLatencyMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(initial: () => PfConfig, writeLatencyMs: number, sleep: (ms: number) => Promise<void>) {
    this.initial = initial;
    this.candidate = initial();
    this.running = structuredClone(this.candidate);
    this.writeLatencyMs = writeLatencyMs;
    this.sleep = sleep;
  }

  reset(): void {
    this.candidate = this.initial();
    this.running = structuredClone(this.candidate);
    this.dirty.clear();
    this.lost.clear();
    this.generation += 1;
  }

  /** Runs `mutate` on a snapshot and commits the whole snapshot later (see the file comment). */
  async write<T>(subsystems: readonly Subsystem[], mutate: (config: PfConfig) => T): Promise<WriteResult<T>> {
    const snapshot = structuredClone(this.candidate);
    const base = this.generation;
    const value = mutate(snapshot);
    if (this.writeLatencyMs > 0) await this.sleep(this.writeLatencyMs);
    // Every commit made since our snapshot is overwritten now; count each lost commit once.
    let overwrote = 0;
    for (let generation = base + 1; generation <= this.generation; generation += 1) {
      if (!this.lost.has(generation)) {
        this.lost.add(generation);
        overwrote += 1;
      }
    }
    this.candidate = snapshot;
    this.generation += 1;
    for (const subsystem of subsystems) this.dirty.add(subsystem);
    return { value, overwrote };
  }

  /** A change made outside the API (control API): immediate, optionally applied. */
  writeDirect<T>(subsystem: Subsystem, mutate: (config: PfConfig) => T, apply: boolean): T {
    const value = mutate(this.candidate);
    this.generation += 1;
    if (apply) this.applyNow();
    else this.dirty.add(subsystem);
    return value;
  }

  applyNow(): void {
    this.running = structuredClone(this.candidate);
    this.dirty.clear();
  }

  /** A unique, increasing tracker: Unix seconds, bumped when two rules are created in the same second
   * (the package once handed out duplicates, pfrest PR #77). */
  nextTracker(nowMs: number): number {
    this.lastTracker = Math.max(Math.floor(nowMs / 1000), this.lastTracker + 1);
    return this.lastTracker;
  }

  section(config: PfConfig, section: ConfigSection): PfRecord[] {
    return config[section];
  }
}
