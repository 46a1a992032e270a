// PAN-OS commit jobs: asynchronous, one at a time. A commit requested while another runs is queued
// (status PEND, `queued` YES) and starts when the running one finishes, so commits are serialised the
// way the management plane serialises them. A job takes `durationMs`; its progress grows with time.

export interface CommitJob {
  id: number;
  user: string;
  description: string;
  status: "PEND" | "ACT" | "FIN";
  result: "PEND" | "OK" | "FAIL";
  enqueuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  details: string[];
}

export interface CommitOutcome {
  ok: boolean;
  details: string[];
}

export interface CommitJobsOptions {
  durationMs: number;
  now(): number;
  /** Called when a job starts; the returned function completes it when its time is up. */
  begin(job: CommitJob): () => CommitOutcome;
}

export class CommitJobs {
  private jobs: CommitJob[] = [];
  private nextId = 1;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly options: CommitJobsOptions;

  constructor(options: CommitJobsOptions) {
    this.options = options;
  }

  enqueue(user: string, description: string): CommitJob {
    const job: CommitJob = {
      id: this.nextId,
      user,
      description,
      status: "PEND",
      result: "PEND",
      enqueuedAt: this.options.now(),
      details: [],
    };
    this.nextId += 1;
    this.jobs.push(job);
    if (!this.jobs.some((other) => other.status === "ACT")) this.start(job);
    return job;
  }

  get(id: number): CommitJob | undefined {
    return this.jobs.find((job) => job.id === id);
  }

  all(): CommitJob[] {
    return [...this.jobs];
  }

  /** 0-100; a running job never shows 100 before it has finished. */
  progress(job: CommitJob): number {
    if (job.status === "FIN") return 100;
    if (job.status === "PEND" || job.startedAt === undefined) return 0;
    const elapsed = this.options.now() - job.startedAt;
    const share = this.options.durationMs <= 0 ? 1 : elapsed / this.options.durationMs;
    return Math.max(0, Math.min(99, Math.floor(share * 100)));
  }

  positionInQueue(job: CommitJob): number {
    return this.jobs.filter((other) => other.status === "PEND" && other.id < job.id).length;
  }

  reset(): void {
    this.dispose();
    this.jobs = [];
    this.nextId = 1;
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private start(job: CommitJob): void {
    job.status = "ACT";
    job.startedAt = this.options.now();
    const complete = this.options.begin(job);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const outcome = complete();
      job.status = "FIN";
      job.result = outcome.ok ? "OK" : "FAIL";
      job.details = outcome.details;
      job.finishedAt = this.options.now();
      const next = this.jobs.find((other) => other.status === "PEND");
      if (next) this.start(next);
    }, this.options.durationMs);
    this.timers.add(timer);
  }
}
