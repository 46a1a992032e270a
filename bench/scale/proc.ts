// The operator child's own resource use, read from /proc (Linux): resident memory now and at its peak
// (VmRSS, VmHWM) and CPU seconds (user + system). Nothing here runs inside the operator. Also the
// machine's: how busy all its cores were, and what the other processes of the run (API server, etcd,
// simulators) used, so that a run slower than its bound says whether the machine ran out of CPU.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export interface ProcessSample {
  rssBytes: number;
  /** The anonymous part of RSS: the process's own heap, not the mapped node binary and libraries. */
  anonRssBytes: number;
  /** The highest RSS since the process started (the kernel's high-water mark). */
  peakRssBytes: number;
  cpuSeconds: number;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every mainstream kernel. */
const CLOCK_TICKS = 100;

export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return {
      rssBytes: kib("VmRSS") * 1024,
      anonRssBytes: kib("RssAnon") * 1024,
      peakRssBytes: kib("VmHWM") * 1024,
      cpuSeconds: (utime + stime) / CLOCK_TICKS,
    };
  } catch {
    return undefined; // the process is gone
  }
}

export const mib = (bytes: number): number => bytes / 1024 / 1024;

/** CPU seconds of several processes together (gone ones count 0). */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((total, pid) => total + (sampleProcess(pid)?.cpuSeconds ?? 0), 0);
}

/** The machine's CPU time so far, all cores: busy (user, nice, system, irq, softirq, steal) and total. */
export interface MachineCpu {
  busySeconds: number;
  totalSeconds: number;
}

export function sampleMachine(): MachineCpu {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return {
    busySeconds: busy / CLOCK_TICKS,
    totalSeconds: (busy + (idle ?? 0) + (iowait ?? 0)) / CLOCK_TICKS,
  };
}

/** The share of all cores that was busy between two samples (0–1). */
export function busyShare(before: MachineCpu, after: MachineCpu): number {
  const total = after.totalSeconds - before.totalSeconds;
  return total > 0 ? (after.busySeconds - before.busySeconds) / total : Number.NaN;
}

export const cores = (): number => availableParallelism();
