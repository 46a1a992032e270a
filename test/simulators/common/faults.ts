// Injected faults, matched in injection order against each vendor request. A fault with `times` is
// consumed by matching requests and disappears when used up; without `times` it stays until cleared.
import { z } from "zod";
import type { ActiveFault, Fault } from "./types.ts";

const scope = {
  method: z.string().min(1).optional(),
  pathPrefix: z.string().startsWith("/").optional(),
  userAgent: z.string().min(1).optional(),
  times: z.number().int().positive().optional(),
};

/** Validates a fault received over the control HTTP API. */
export const faultSchema: z.ZodType<Fault> = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("status"),
      status: z.number().int().min(100).max(599),
      body: z.string().optional(),
      headers: z.record(z.string(), z.string()).optional(),
      ...scope,
    })
    .strict(),
  z
    .object({
      kind: z.literal("rateLimit"),
      retryAfterSeconds: z.number().int().min(0).optional(),
      status: z.number().int().min(100).max(599).optional(),
      ...scope,
    })
    .strict(),
  z.object({ kind: z.literal("latency"), ms: z.number().int().min(0), ...scope }).strict(),
  z.object({ kind: z.literal("timeout"), ...scope }).strict(),
  z.object({ kind: z.literal("garbage"), body: z.string().optional(), ...scope }).strict(),
  z.object({ kind: z.literal("reset"), ...scope }).strict(),
  z.object({ kind: z.literal("lostAnswer"), reset: z.boolean().optional(), ...scope }).strict(),
  z.object({ kind: z.literal("authExpire"), ...scope }).strict(),
]) as z.ZodType<Fault>;

export class FaultBook {
  private entries: ActiveFault[] = [];
  private counter = 0;

  add(fault: Fault): string {
    const parsed = faultSchema.parse(fault);
    this.counter += 1;
    const id = `fault-${this.counter}`;
    this.entries.push({ id, fault: parsed, remaining: parsed.times ?? null, hits: 0 });
    return id;
  }

  /** Consumes and returns the first fault matching this request, if any. */
  take(method: string, path: string, userAgent = ""): Fault | undefined {
    const entry = this.entries.find((candidate) => matches(candidate.fault, method, path, userAgent));
    if (!entry) return undefined;
    entry.hits += 1;
    if (entry.remaining !== null) {
      entry.remaining -= 1;
      if (entry.remaining === 0) this.entries = this.entries.filter((other) => other !== entry);
    }
    return entry.fault;
  }

  list(): ActiveFault[] {
    return this.entries.map((entry) => structuredClone(entry));
  }

  remove(id: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => entry.id !== id);
    return this.entries.length < before;
  }

  clear(): void {
    this.entries = [];
  }
}

function matches(fault: Fault, method: string, path: string, userAgent: string): boolean {
  if (fault.method !== undefined && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  if (fault.pathPrefix !== undefined && !path.startsWith(fault.pathPrefix)) return false;
  if (fault.userAgent !== undefined && !userAgent.toLowerCase().includes(fault.userAgent.toLowerCase()))
    return false;
  return true;
}
