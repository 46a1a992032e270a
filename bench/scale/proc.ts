// The operator child's own resource use, read from /proc (Linux): resident memory now and at its peak
// (VmRSS, VmHWM) and CPU seconds (user + system). Nothing here runs inside the operator.
import { readFileSync } from "node:fs";

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
